"""Flows between domains that sit side by side: facts one domain needs from another.

The plan engine (``plans.workflow``) checks a stage's gate from plain facts and must not import
the consultation domain (DESIGN.md rule 8). This module, above both, hands it the consultation
facts:

- **who was heard**: a consultation records, on a participant's first input through a channel
  it counts for, one ``StageInput`` row on the plan's stage (see
  :func:`stcoord.consultation.service.channels_for`), so ``channels_heard`` reads the same table
  as for input recorded by hand;
- **every comment answered**: :func:`unanswered_comments` counts, per stage, the comments that
  have no official disposition yet; it is registered as the plan engine's hook by
  :func:`install`, which runs on import of this module. The web app, the CLI and the
  consultation interfaces import it, so the gate sees comments wherever plans are advanced.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from stcoord.consultation.service import unanswered_by_stage
from stcoord.plans import workflow


def unanswered_comments(session: Session, stage_ids: list[int]) -> dict[int, int]:
    """Comments without a disposition per plan stage id (stages without any are left out)."""
    return unanswered_by_stage(session, stage_ids)


def install() -> None:
    """Register the consultation facts with the plan engine (idempotent)."""
    workflow.register_unanswered_comments(unanswered_comments)


install()

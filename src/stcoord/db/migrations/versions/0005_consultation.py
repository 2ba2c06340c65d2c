"""consultations, participants, comments, statements, votes, Delphi, dispositions

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "consultation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("stage_id", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("opens_on", sa.Date(), nullable=True),
        sa.Column("closes_on", sa.Date(), nullable=True),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["draft_id"],
            ["draft.id"],
            name=op.f("fk_consultation_draft_id_draft"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plan.id"], name=op.f("fk_consultation_plan_id_plan"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["stage_id"],
            ["plan_stage.id"],
            name=op.f("fk_consultation_stage_id_plan_stage"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation")),
        sa.UniqueConstraint("key", name=op.f("uq_consultation_key")),
    )
    with op.batch_alter_table("consultation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consultation_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_consultation_stage_id"), ["stage_id"], unique=False)

    op.create_table(
        "consultation_channel_input",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("stage_input_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultation.id"],
            name=op.f("fk_consultation_channel_input_consultation_id_consultation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["stage_input_id"],
            ["stage_input.id"],
            name=op.f("fk_consultation_channel_input_stage_input_id_stage_input"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation_channel_input")),
        sa.UniqueConstraint(
            "consultation_id",
            "channel",
            name=op.f("uq_consultation_channel_input_consultation_id_channel"),
        ),
    )
    with op.batch_alter_table("consultation_channel_input", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consultation_channel_input_consultation_id"),
            ["consultation_id"],
            unique=False,
        )

    op.create_table(
        "consultation_participant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("handle", sa.String(length=120), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("sector", sa.String(length=20), nullable=False),
        sa.Column("organisation", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultation.id"],
            name=op.f("fk_consultation_participant_consultation_id_consultation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_consultation_participant_user_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation_participant")),
        sa.UniqueConstraint(
            "consultation_id",
            "handle",
            name=op.f("uq_consultation_participant_consultation_id_handle"),
        ),
    )
    with op.batch_alter_table("consultation_participant", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consultation_participant_consultation_id"),
            ["consultation_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_consultation_participant_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "delphi_round",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultation.id"],
            name=op.f("fk_delphi_round_consultation_id_consultation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delphi_round")),
        sa.UniqueConstraint(
            "consultation_id", "number", name=op.f("uq_delphi_round_consultation_id_number")
        ),
    )
    with op.batch_alter_table("delphi_round", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_delphi_round_consultation_id"), ["consultation_id"], unique=False
        )

    op.create_table(
        "consultation_comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("section_id", sa.Integer(), nullable=True),
        sa.Column("section_key", sa.String(length=80), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("hidden_reason", sa.Text(), nullable=True),
        sa.Column("hidden_by", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultation.id"],
            name=op.f("fk_consultation_comment_consultation_id_consultation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["consultation_participant.id"],
            name=op.f("fk_consultation_comment_participant_id_consultation_participant"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["section_id"],
            ["draft_section.id"],
            name=op.f("fk_consultation_comment_section_id_draft_section"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation_comment")),
    )
    with op.batch_alter_table("consultation_comment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consultation_comment_consultation_id"), ["consultation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_consultation_comment_participant_id"), ["participant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_consultation_comment_section_id"), ["section_id"], unique=False
        )

    op.create_table(
        "consultation_statement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("hidden_reason", sa.Text(), nullable=True),
        sa.Column("hidden_by", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultation.id"],
            name=op.f("fk_consultation_statement_consultation_id_consultation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["consultation_participant.id"],
            name=op.f("fk_consultation_statement_participant_id_consultation_participant"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation_statement")),
        sa.UniqueConstraint(
            "consultation_id",
            "number",
            name=op.f("uq_consultation_statement_consultation_id_number"),
        ),
    )
    with op.batch_alter_table("consultation_statement", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consultation_statement_consultation_id"),
            ["consultation_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_consultation_statement_participant_id"), ["participant_id"], unique=False
        )

    op.create_table(
        "consultation_disposition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=80), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["consultation_comment.id"],
            name=op.f("fk_consultation_disposition_comment_id_consultation_comment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation_disposition")),
        sa.UniqueConstraint("comment_id", name=op.f("uq_consultation_disposition_comment_id")),
    )
    op.create_table(
        "consultation_vote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("statement_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.SmallInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultation.id"],
            name=op.f("fk_consultation_vote_consultation_id_consultation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["consultation_participant.id"],
            name=op.f("fk_consultation_vote_participant_id_consultation_participant"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["consultation_statement.id"],
            name=op.f("fk_consultation_vote_statement_id_consultation_statement"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation_vote")),
        sa.UniqueConstraint(
            "participant_id",
            "statement_id",
            name=op.f("uq_consultation_vote_participant_id_statement_id"),
        ),
    )
    with op.batch_alter_table("consultation_vote", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consultation_vote_consultation_id"), ["consultation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_consultation_vote_statement_id"), ["statement_id"], unique=False
        )

    op.create_table(
        "delphi_rating",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("statement_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["consultation_participant.id"],
            name=op.f("fk_delphi_rating_participant_id_consultation_participant"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["delphi_round.id"],
            name=op.f("fk_delphi_rating_round_id_delphi_round"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["consultation_statement.id"],
            name=op.f("fk_delphi_rating_statement_id_consultation_statement"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delphi_rating")),
        sa.UniqueConstraint(
            "round_id",
            "statement_id",
            "participant_id",
            name=op.f("uq_delphi_rating_round_id_statement_id_participant_id"),
        ),
    )
    with op.batch_alter_table("delphi_rating", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_delphi_rating_participant_id"), ["participant_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_delphi_rating_round_id"), ["round_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("delphi_rating", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delphi_rating_round_id"))
        batch_op.drop_index(batch_op.f("ix_delphi_rating_participant_id"))

    op.drop_table("delphi_rating")
    with op.batch_alter_table("consultation_vote", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consultation_vote_statement_id"))
        batch_op.drop_index(batch_op.f("ix_consultation_vote_consultation_id"))

    op.drop_table("consultation_vote")
    op.drop_table("consultation_disposition")
    with op.batch_alter_table("consultation_statement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consultation_statement_participant_id"))
        batch_op.drop_index(batch_op.f("ix_consultation_statement_consultation_id"))

    op.drop_table("consultation_statement")
    with op.batch_alter_table("consultation_comment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consultation_comment_section_id"))
        batch_op.drop_index(batch_op.f("ix_consultation_comment_participant_id"))
        batch_op.drop_index(batch_op.f("ix_consultation_comment_consultation_id"))

    op.drop_table("consultation_comment")
    with op.batch_alter_table("delphi_round", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delphi_round_consultation_id"))

    op.drop_table("delphi_round")
    with op.batch_alter_table("consultation_participant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consultation_participant_user_id"))
        batch_op.drop_index(batch_op.f("ix_consultation_participant_consultation_id"))

    op.drop_table("consultation_participant")
    with op.batch_alter_table("consultation_channel_input", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consultation_channel_input_consultation_id"))

    op.drop_table("consultation_channel_input")
    with op.batch_alter_table("consultation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consultation_stage_id"))
        batch_op.drop_index(batch_op.f("ix_consultation_plan_id"))

    op.drop_table("consultation")

"""Shipped reference data: the US, Japan and China mechanisms, each fact with its source."""

from __future__ import annotations

from pathlib import Path

MECHANISMS_DIR = Path(__file__).parent / "mechanisms"


def mechanism_files() -> list[Path]:
    """The reference mechanism files, in a stable order."""
    return sorted(MECHANISMS_DIR.glob("*.yaml"))


PLANS_DIR = Path(__file__).parent / "plans"


def plan_files() -> list[Path]:
    """The reference plan files (demo data), in a stable order."""
    return sorted(PLANS_DIR.glob("*.yaml"))


CLASSIFICATIONS_DIR = Path(__file__).parent / "classifications"

"""Settings, read from the environment with the STCOORD_ prefix.

Built lazily by :func:`get_settings` so that importing the package never reads the environment.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    """Runtime configuration of one stcoord process."""

    model_config = SettingsConfigDict(env_prefix="STCOORD_", env_file=None)

    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'stcoord.db'}"
    secret_key: str = "dev-only-change-me"
    default_language: str = "en"
    session_https_only: bool = False
    # Keep rendered mechanism pages and API reads until the next audited change
    # (web/read_cache.py); off only to measure or debug the uncached path.
    read_cache: bool = True
    # The shared data folder that `stcoord seed --demo-data` reads the real NSF awards and Polis
    # conversation from (docs/demo-data.md); relative paths are taken from the current directory.
    data_dir: Path = Path("../shared/data")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, built on first use."""
    return Settings()

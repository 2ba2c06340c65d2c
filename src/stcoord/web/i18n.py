"""Translations for English, Simplified Chinese and Japanese, read from the shipped .po files."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
LANGUAGES = {"en": "English", "zh": "中文", "ja": "日本語"}
DEFAULT_LANGUAGE = "en"


@lru_cache(maxsize=8)
def translations(lang: str) -> NullTranslations:
    """The catalogue of ``lang``; English (the source language) needs none.

    Each domain may keep its own ``<domain>.po`` beside ``messages.po``; they are merged.
    """
    catalog = merged_catalog(lang)
    if lang == DEFAULT_LANGUAGE or catalog is None:
        return NullTranslations()
    buffer = BytesIO()
    write_mo(buffer, catalog)  # fuzzy entries are left out, as gettext does
    buffer.seek(0)
    return Translations(buffer)


def merged_catalog(lang: str) -> Catalog | None:
    """Every ``.po`` file of ``lang`` as one catalogue (None when there is none)."""
    files = sorted((LOCALE_DIR / lang / "LC_MESSAGES").glob("*.po"))
    if not files:
        return None
    merged = Catalog(locale=lang)
    for po in files:
        with po.open("rb") as handle:
            for message in read_po(handle, locale=lang):
                # A translated entry wins over an untranslated or fuzzy one from another file.
                if message.id and (message.id not in merged or not _usable(merged[message.id])):
                    merged[message.id] = message
    return merged


def _usable(message: Message) -> bool:
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return all(strings) and not message.fuzzy


def negotiate(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """Pick the language: explicit choice, then the cookie, then the browser's preference."""
    for choice in (query, cookie):
        if choice in LANGUAGES:
            return choice
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT_LANGUAGE


def local_name(obj: Any, lang: str) -> str:
    """An institution's name in ``lang`` where the data has it, else its English name."""
    names = getattr(obj, "names", None) or (obj.get("names") if isinstance(obj, dict) else {})
    name = getattr(obj, "name", None) or (obj.get("name") if isinstance(obj, dict) else "")
    return str((names or {}).get(lang) or name or "")


Vocabulary = Mapping[str, Mapping[str, str]]  # group -> stored value -> English word


def term_translator(
    lang: str,
    *vocabularies: Vocabulary,
    contexts: Mapping[tuple[str, str], str] | None = None,
    none: str | None = None,
) -> Callable[[str, str | None], str]:
    """``term(group, value)``: the word for a stored value (a status, a sector...) in ``lang``.

    The first vocabulary that knows ``group``/``value`` gives the English word; a value no
    vocabulary knows passes through untranslated. ``contexts`` gives a msgctxt for a word that
    needs another translation in that place; ``none`` is the value that stands for None (else
    None reads as "")."""
    trans = translations(lang)

    def term(group: str, value: str | None) -> str:
        if value is None:
            if none is None:
                return ""
            value = none
        word = next((v[group][value] for v in vocabularies if value in v.get(group, {})), value)
        if contexts and (group, value) in contexts:
            return str(trans.pgettext(contexts[group, value], word))
        return trans.gettext(word)

    return term

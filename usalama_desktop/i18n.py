"""Translation for every layer, with or without Qt.

Code marks user-facing text with ``_("English text")``; ``resources/i18n/sw.json`` holds the Kiswahili. Form
definitions carry both languages inline as ``Label``. A test checks every ``_()`` literal has a translation.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass

from .resources import resource_path

LANGUAGES = ("en", "sw")
_state = threading.local()
_default_language = "en"
_catalogues: dict[str, dict[str, str]] = {}


def _catalogue(lang: str) -> dict[str, str]:
    """All of ``resources/i18n/<lang>/*.json`` merged: each part of the program keeps its own file."""
    if lang not in _catalogues:
        merged: dict[str, str] = {}
        folder = resource_path("i18n", lang)
        if folder.is_dir():
            for path in sorted(folder.glob("*.json")):
                merged.update(json.loads(path.read_text(encoding="utf-8")))
        _catalogues[lang] = merged
    return _catalogues[lang]


def set_language(lang: str) -> None:
    """Set the language for the whole program (the GUI calls this once)."""
    global _default_language
    if lang not in LANGUAGES:
        raise ValueError(lang)
    _default_language = lang


def current_language() -> str:
    return getattr(_state, "lang", None) or _default_language


class language:
    """Context manager: render in ``lang`` on this thread only (a Kiswahili report while the GUI is in English)."""

    def __init__(self, lang: str | None):
        self.lang = lang

    def __enter__(self):
        self.previous = getattr(_state, "lang", None)
        if self.lang:
            if self.lang not in LANGUAGES:
                raise ValueError(self.lang)
            _state.lang = self.lang
        return self

    def __exit__(self, *exc):
        _state.lang = self.previous


def _(msgid: str) -> str:
    lang = current_language()
    if lang == "en":
        return msgid
    return _catalogue(lang).get(msgid) or msgid


@dataclass(frozen=True)
class Label:
    """Text in English and Kiswahili, declared together where it is used."""

    en: str
    sw: str = ""

    def __str__(self) -> str:
        return self.text()

    def text(self, lang: str | None = None) -> str:
        lang = lang or current_language()
        if lang == "sw" and self.sw:
            return self.sw
        return self.en


def L(en: str, sw: str = "") -> Label:
    return Label(en, sw)

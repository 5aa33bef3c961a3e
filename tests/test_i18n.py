"""Every user-facing string has Kiswahili; every form label too; placeholders survive translation."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import i18n as tool  # noqa: E402

from usalama_desktop.forms.registry import forms  # noqa: E402
from usalama_desktop.i18n import _, language  # noqa: E402


def test_every_marked_string_has_a_kiswahili_translation():
    have = tool.catalogue()
    missing = sorted(m for m in tool.msgids(tool.source_files()) if not have.get(m))
    assert missing == [], f"{len(missing)} strings without Kiswahili; run `python tools/i18n.py missing`"


def test_translations_keep_their_placeholders():
    for msgid, text in tool.catalogue().items():
        assert set(re.findall(r"\{(\w+)\}", msgid)) == set(re.findall(r"\{(\w+)\}", text)), msgid


def test_every_form_label_and_choice_has_kiswahili():
    for form in forms().values():
        assert form.title.sw, form.name
        items = [*form.fields, *[f for r in form.repeats for f in r.fields]]
        for r in form.repeats:
            assert r.label.sw, (form.name, r.name)
        for f in items:
            assert f.label.sw, (form.name, f.name)
            if f.choice_list:
                for c in f.choice_list.choices:
                    assert c.label.sw, (form.name, f.name, c.value)


def test_language_switch_is_per_thread_and_falls_back_to_english():
    with language("sw"):
        assert _("Wrong password.") != "Wrong password."
        assert _("no such message at all") == "no such message at all"
    assert _("Wrong password.") == "Wrong password."

"""Bundle profiles decide which fields travel, derived from field tiers so that forms added later are covered.

* ``observatory``: what the Crime Observatory needs. Only "public" fields, never identifying, narrative or
  ``local_only`` ones, in repeat groups too. Counsellor and AJS identifying fields therefore never leave this way.
* ``referral``: one case to another agency, every field except ``local_only`` ones, and only when the form's
  ``referral_consent_field`` is yes on the record.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from ..forms.definition import Form
from ..i18n import L, Label

OBSERVATORY, REFERRAL = "observatory", "referral"
PROFILES = (OBSERVATORY, REFERRAL)
PROFILE_LABELS: dict[str, Label] = {
    OBSERVATORY: L("Observatory (no names, no narratives)", "Uchunguzi (bila majina wala maelezo)"),
    REFERRAL: L("Referral of one case (with consent)", "Rufaa ya kesi moja (kwa idhini)"),
}


@dataclass(frozen=True)
class Carried:
    """The fields a profile carries for one form: top-level names, and per repeat group its carried sub-fields."""

    fields: frozenset[str]
    repeats: tuple[tuple[str, frozenset[str]], ...]

    @functools.cached_property
    def repeat_fields(self) -> dict[str, frozenset[str]]:
        return dict(self.repeats)

    def has(self, name: str) -> bool:
        return name in self.fields or name in self.repeat_fields


def _travels(field, profile: str) -> bool:
    if field.local_only:
        return False
    return field.tier == "public" if profile == OBSERVATORY else True


_cache: dict[tuple[int, str], tuple[Form, Carried]] = {}


def carried(form: Form, profile: str) -> Carried:
    """Cached per form object (by identity: hashing a whole form definition on every call would be slow)."""
    hit = _cache.get((id(form), profile))
    if hit is not None and hit[0] is form:
        return hit[1]
    if profile not in PROFILES:
        raise ValueError(profile)
    result = _carried(form, profile)
    _cache[(id(form), profile)] = (form, result)
    return result


def _carried(form: Form, profile: str) -> Carried:
    fields = frozenset(f.name for f in form.fields if _travels(f, profile))
    repeats = []
    for r in form.repeats:
        sub = frozenset(f.name for f in r.fields if _travels(f, profile))
        if sub:
            repeats.append((r.name, sub))
    return Carried(fields, tuple(repeats))


def everything(form: Form) -> Carried:
    """What the record's own installation holds: every field."""
    hit = _cache.get((id(form), "everything"))
    if hit is not None and hit[0] is form:
        return hit[1]
    result = _everything(form)
    _cache[(id(form), "everything")] = (form, result)
    return result


def _everything(form: Form) -> Carried:
    return Carried(frozenset(f.name for f in form.fields),
                   tuple((r.name, frozenset(f.name for f in r.fields)) for r in form.repeats))


def consent_given(form: Form, values: dict) -> bool:
    return bool(form.referral_consent_field) and values.get(form.referral_consent_field) is True

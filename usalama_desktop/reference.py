"""Reference data shipped in resources/ (from shared/reference), loaded lazily and cached."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from .i18n import L, Label
from .resources import read_csv


@dataclass(frozen=True)
class Choice:
    value: str
    label: Label
    extra: tuple[tuple[str, str], ...] = ()

    def get(self, key: str, default: str = "") -> str:
        return dict(self.extra).get(key, default)


AGENCY_TYPES: tuple[Choice, ...] = (
    Choice("police_station", L("Police station", "Kituo cha polisi")),
    Choice("ap_post", L("Administration Police post", "Kituo cha Polisi wa Utawala")),
    Choice("chief_office", L("Chief's office", "Ofisi ya chifu")),
    Choice("children_office", L("Children's office", "Ofisi ya watoto")),
    Choice("health_facility", L("Health facility", "Kituo cha afya")),
    Choice("rescue_centre", L("Rescue centre", "Kituo cha uokoaji")),
    Choice("paralegal", L("Paralegal office", "Ofisi ya wasaidizi wa kisheria")),
    Choice("school", L("School", "Shule")),
    Choice("ajs_forum", L("Elders' council / peace committee", "Baraza la wazee / kamati ya amani")),
    Choice("community_safety_forum", L("Community Safety Forum coordinator", "Mratibu wa Jukwaa la Usalama wa Jamii")),
)
AGENCY_TYPE_IDS = tuple(c.value for c in AGENCY_TYPES)
POLICE_AGENCY_TYPES = frozenset({"police_station", "ap_post"})


@functools.cache
def counties() -> tuple[Choice, ...]:
    return tuple(Choice(r["code"], L(r["name"], r["name"])) for r in read_csv("reference", "kenya_counties.csv"))


def county_name(code: str | None) -> str:
    for c in counties():
        if c.value == code:
            return c.label.en
    return code or ""


@functools.cache
def iccs_sections() -> dict[str, str]:
    return {r["code"]: r["section"] for r in read_csv("reference", "iccs_level1.csv")}


def agency_type_label(value: str) -> str:
    for c in AGENCY_TYPES:
        if c.value == value:
            return str(c.label)
    return value

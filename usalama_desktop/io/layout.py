"""The flat spreadsheet shape of a form, shared by templates, exports and imports.

A form becomes one main sheet (one column per field part: a place is four columns) and one sheet per repeat group
(victims, perpetrators, sessions...), whose first column names the record each row belongs to. Every column has a
stable key (``agency_ref``, ``place_ward``, ``victims.sex``) that our workbooks carry in a hidden second row, so a
header a clerk retyped or translated still maps.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..forms.definition import Form, Repeat
from ..forms.fields import DATE, MONTH, PLACE, PLACE_PARTS, TEXT, TIME, Field
from ..i18n import L, Label
from .tabular import all_blank

RECORD_LINK = "_record"  # first column of a repeat sheet: the record's reference, or #row on the main sheet
RECORD_ID = "_id"  # exports: the record's id, so an edited export updates the same records
SPINE_KEYS = ("_agency", "_revision", "_updated_at")  # exports only; never imported
LINK_LABEL_NO_REF = L("Record (row number on the first sheet)", "Kumbukumbu (nambari ya safu kwenye karatasi ya kwanza)")
ID_LABEL = L("Record id (leave as it is)", "Kitambulisho cha kumbukumbu (usibadilishe)")
SPINE_LABELS = {
    "_agency": L("Agency", "Taasisi"),
    "_revision": L("Revision", "Toleo"),
    "_updated_at": L("Last changed", "Ilibadilishwa mwisho"),
}
TEXT_KINDS = (TEXT, DATE, MONTH, TIME)  # typed as text in our workbooks, so Excel does not turn 2024-03 into a day


@dataclass(frozen=True)
class Column:
    key: str
    label: Label
    field: Field | None = None  # None for the link, id and spine columns
    part: str | None = None  # place part (county, subcounty, ward, village)
    group: str | None = None  # repeat group name for columns of a repeat sheet

    @property
    def is_text(self) -> bool:
        return self.field is not None and self.part != "county" and self.field.kind in (*TEXT_KINDS, PLACE)


@dataclass(frozen=True)
class SheetLayout:
    key: str  # "" for the main sheet, else the repeat group's name
    title: Label
    columns: tuple[Column, ...]
    repeat: Repeat | None = None


def field_columns(f: Field, group: str | None = None) -> list[Column]:
    prefix = f"{group}." if group else ""
    if f.kind == PLACE:
        return [Column(f"{prefix}{name}", label, f, name.rsplit("_", 1)[1], group) for name, label in f.parts()]
    return [Column(f"{prefix}{f.name}", f.label, f, None, group)]


def _wanted(f: Field, tiers: frozenset[str] | None, include_local: bool, include_derived: bool) -> bool:
    if tiers is not None and f.tier not in tiers:
        return False
    if f.local_only and not include_local:
        return False
    return include_derived or (f.derive is None and not f.read_only)


def sheet_title(label: Label, lang: str | None, taken: Iterable[str] = ()) -> str:
    """A worksheet name Excel accepts: at most 31 characters, none of []:*?/\\, unique in the workbook."""
    base = re.sub(r"[\[\]:*?/\\]", " ", label.text(lang)).strip()[:31] or "Sheet"
    name, n = base, 2
    lowered = {t.lower() for t in taken}
    while name.lower() in lowered:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    return name


def layout(form: Form, *, tiers: frozenset[str] | None = None, include_local: bool = True,
           include_derived: bool = False, export: bool = False) -> list[SheetLayout]:
    """The sheets of a template (``export=False``) or an export. ``tiers`` leaves out what a role may not see;
    ``include_local`` decides local-only fields (narratives); derived fields (ICCS) only go into exports."""
    main: list[Column] = []
    for f in form.fields:
        if _wanted(f, tiers, include_local, include_derived):
            main.extend(field_columns(f))
    if export:
        main.append(Column(RECORD_ID, ID_LABEL))
        main.extend(Column(k, SPINE_LABELS[k]) for k in SPINE_KEYS)
    sheets = [SheetLayout("", form.title, tuple(main))]
    link_label = form.field(form.reference_field).label if form.reference_field else LINK_LABEL_NO_REF
    for r in form.repeats:
        cols = [Column(RECORD_LINK, link_label, None, None, r.name)]
        for f in r.fields:
            if _wanted(f, tiers, include_local, include_derived):
                cols.extend(field_columns(f, r.name))
        sheets.append(SheetLayout(r.name, r.label, tuple(cols), r))
    return sheets


def targets(form: Form) -> dict[str, Column]:
    """Every key a column may be mapped onto when importing: field parts (no derived or read-only fields), repeat
    fields as ``group.field``, and the record id."""
    out: dict[str, Column] = {}
    for sheet in layout(form):
        for c in sheet.columns:
            if c.key != RECORD_LINK:
                out[c.key] = c
    out[RECORD_ID] = Column(RECORD_ID, ID_LABEL)
    return out


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def assemble(form: Form, flat: Mapping[str, Any], children: Mapping[str, list[Mapping[str, Any]]] | None = None
             ) -> dict[str, Any]:
    """Flat cells keyed by column key -> the nested raw values ``Form.parse`` reads. A key absent from ``flat``
    stays absent (the field's default applies); ``group.field`` keys on the main row make one repeat row."""
    raw: dict[str, Any] = {}
    places: dict[str, dict[str, Any]] = {}
    inline: dict[str, dict[str, Any]] = {}
    for key, value in flat.items():
        if key.startswith("_"):
            continue
        if "." in key:
            group, sub = key.split(".", 1)
            inline.setdefault(group, {})[sub] = value
            continue
        f = form.by_name.get(key)
        if f is not None:
            raw[key] = value
            continue
        name, _sep, part = key.rpartition("_")
        places.setdefault(name, {})[part] = value
    for name, parts in places.items():
        raw[name] = None if all_blank(parts.values()) else parts
    for r in form.repeats:
        rows = [_nest(r, row) for row in (children or {}).get(r.name, [])]
        if r.name in inline and not all_blank(inline[r.name].values()):
            rows.insert(0, _nest(r, inline[r.name]))
        if rows or r.name in inline or (children and r.name in children):
            raw[r.name] = rows
    return raw


def _nest(r: Repeat, flat: Mapping[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    places: dict[str, dict[str, Any]] = {}
    for key, value in flat.items():
        if key in r.by_name:
            row[key] = value
        else:
            name, _sep, part = key.rpartition("_")
            places.setdefault(name, {})[part] = value
    for name, parts in places.items():
        row[name] = None if all_blank(parts.values()) else parts
    return row


def place_part_names() -> tuple[str, ...]:
    return tuple(p for p, _lab in PLACE_PARTS)

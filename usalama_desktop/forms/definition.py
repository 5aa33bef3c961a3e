"""A form definition: sections of fields, repeat groups, cross-field rules and the roles the fields play.

Everything else (table, widgets, validation, Excel template, bundle schema, report dimensions) is derived from it.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import clock
from ..i18n import Label, _
from ..store.records import Change
from ..store.spine import ChildTable, TableSpec
from .conditions import Cond
from .fields import CHOICE, DATE, MONTH, MULTI, PLACE, YESNO, Field, FieldError

_CONVERTED = frozenset({PLACE, YESNO, MULTI})  # kinds whose value is not stored as it is


@dataclass(frozen=True)
class Repeat:
    """A list inside a record (victims, sessions, hearings), stored in a child table."""

    name: str
    label: Label
    fields: tuple[Field, ...]
    item_label: Label | None = None
    min_rows: int = 0
    max_rows: int = 100
    relevant: Cond | None = None
    help: Label | None = None

    @functools.cached_property
    def by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}


@dataclass(frozen=True)
class Section:
    title: Label
    items: tuple[Field | Repeat, ...]
    relevant: Cond | None = None


# --- cross-field rules ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A rule across fields. ``check`` returns a list of (field, message) for each breach."""

    fields: tuple[str, ...]
    message: Label

    def check(self, values: Mapping[str, Any], today: dt.date) -> list[tuple[str, str]]:
        raise NotImplementedError


@dataclass(frozen=True)
class NotBefore(Rule):
    """``fields[0]`` must be on or after ``fields[1]`` (dates of any precision compare on their common part)."""

    def check(self, values, today):
        if not not_before(values.get(self.fields[0]), values.get(self.fields[1])):
            return [(self.fields[0], self.message.text())]
        return []


def not_before(later: str | None, earlier: str | None) -> bool:
    """Dates of any precision compare on their common part; a missing date breaks no rule."""
    if not later or not earlier:
        return True
    n = min(len(later), len(earlier))
    return later[:n] >= earlier[:n]


@dataclass(frozen=True)
class RowRule(Rule):
    """A rule checked on each row of a repeat group: ``fields[0]`` is the group, ``ok(row, values)`` the test."""

    ok: Callable[[Mapping[str, Any], Mapping[str, Any]], bool] = field(default=None, compare=False)
    at: str = ""  # the row field the message belongs to

    def check(self, values, today):
        out = []
        for i, row in enumerate(values.get(self.fields[0]) or []):
            if not self.ok(row, values):
                out.append((f"{self.fields[0]}[{i}].{self.at}" if self.at else f"{self.fields[0]}[{i}]",
                            self.message.text()))
        return out


@dataclass(frozen=True)
class Custom(Rule):
    """Any other rule: ``ok(values)`` is True when the record is acceptable. The message goes on ``fields[0]``."""

    ok: Callable[[Mapping[str, Any]], bool] = field(default=None, compare=False)

    def check(self, values, today):
        return [] if self.ok(values) else [(self.fields[0], self.message.text())]


@dataclass
class Problems:
    errors: dict[str, list[str]] = field(default_factory=dict)
    warnings: dict[str, list[str]] = field(default_factory=dict)

    def error(self, where: str, message: str) -> None:
        self.errors.setdefault(where, []).append(message)

    def warn(self, where: str, message: str) -> None:
        self.warnings.setdefault(where, []).append(message)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class Form:
    name: str
    module: str
    title: Label
    sections: tuple[Section, ...]
    rules: tuple[Rule, ...] = ()
    list_columns: tuple[str, ...] = ()
    reference_field: str | None = None  # the agency's own number: import update key, unique per agency
    date_field: str | None = None  # the period filter and trend axis
    category_field: str | None = None
    status_field: str | None = None
    place_field: str | None = None
    title_fields: tuple[str, ...] = ()
    indexes: tuple[tuple[str, ...], ...] = ()
    description: Label | None = None
    case: Any = None  # a CaseWorkflow for longitudinal cases (forms/case.py)
    child_record: bool = False  # a form that is not listed on its own (entered inside another)
    referral_consent_field: str | None = None  # yes/no field that must be yes before a "referral" bundle carries it

    # --- the fields, flat ----------------------------------------------------------------------------------

    @functools.cached_property
    def repeats(self) -> tuple[Repeat, ...]:
        return tuple(item for s in self.sections for item in s.items if isinstance(item, Repeat))

    @functools.cached_property
    def fields(self) -> tuple[Field, ...]:
        """Top-level fields (not those inside repeat groups)."""
        return tuple(item for s in self.sections for item in s.items if isinstance(item, Field))

    @functools.cached_property
    def by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    @functools.cached_property
    def repeat_by_name(self) -> dict[str, Repeat]:
        return {r.name: r for r in self.repeats}

    def field(self, name: str) -> Field:
        if "." in name:
            group, sub = name.split(".", 1)
            return self.repeat_by_name[group].by_name[sub]
        return self.by_name[name]

    def all_field_names(self) -> set[str]:
        names = set(self.by_name)
        for r in self.repeats:
            names.add(r.name)
            names.update(f"{r.name}.{f.name}" for f in r.fields)
        return names

    def declares(self, name: str) -> bool:
        """Whether a field, column or ``group.field`` name belongs to this form."""
        if name in self.all_field_names():
            return True
        return name in self.column_names

    @functools.cached_property
    def column_names(self) -> set[str]:
        return {c.name for f in self.fields for c in f.columns()}

    @functools.cached_property
    def dimensions(self) -> tuple[Field, ...]:
        """Fields a report may group by: declared dimensions and every choice field, never identifying ones."""
        return tuple(f for f in self.fields if f.tier == "public" and (f.dimension or f.kind in (CHOICE, MULTI, PLACE,
                                                                                                    DATE, MONTH)))

    def section_of(self, name: str) -> Section | None:
        return self._sections_by_item.get(name)

    @functools.cached_property
    def _sections_by_item(self) -> dict[str, Section]:
        """Each field's or group's section, looked up once (skip logic asks for every field of every row)."""
        out: dict[str, Section] = {}
        for s in self.sections:
            for item in s.items:
                out.setdefault(item.name, s)
        return out

    # --- the table ------------------------------------------------------------------------------------------

    @functools.cached_property
    def table_spec(self) -> TableSpec:
        columns = tuple(c for f in self.fields for c in f.columns())
        children = tuple(ChildTable(r.name, tuple(c for f in r.fields for c in f.columns())) for r in self.repeats)
        idx: list[tuple[str, ...]] = []
        date_col = self.date_field
        if date_col:
            idx.append((date_col,))
        for f in (self.category_field, self.status_field):
            if f:
                idx.append((f, date_col) if date_col else (f,))
        if self.place_field:  # a ward's list, newest first, read off the index (no sort of the ward's rows)
            place = (f"{self.place_field}_county", f"{self.place_field}_ward")
            idx.append((*place, date_col) if date_col else place)
        if self.reference_field:
            idx.append(("agency_id", self.reference_field))
        if date_col:
            idx.append(("agency_id", date_col))
        idx.extend(self.indexes)
        return TableSpec(self.name, self.module, columns, children, tuple(idx), fts=True)

    # --- values ------------------------------------------------------------------------------------------------

    def empty_values(self) -> dict[str, Any]:
        values: dict[str, Any] = {f.name: f.default for f in self.fields}
        for r in self.repeats:
            values[r.name] = []
        return values

    def parse(self, raw: Mapping[str, Any], problems: Problems | None = None) -> tuple[dict[str, Any], Problems]:
        """Read typed/imported text into values; unreadable cells become errors on their field."""
        problems = problems or Problems()
        values: dict[str, Any] = {}
        for f in self.fields:
            if f.name not in raw:
                values[f.name] = f.default
                continue
            try:
                values[f.name] = f.parse(raw[f.name])
            except FieldError as exc:
                problems.error(f.name, str(exc))
                values[f.name] = None
        for r in self.repeats:
            rows = []
            for i, raw_row in enumerate(raw.get(r.name) or []):
                row = {}
                for f in r.fields:
                    try:
                        row[f.name] = f.parse(raw_row.get(f.name))
                    except FieldError as exc:
                        problems.error(f"{r.name}[{i}].{f.name}", str(exc))
                        row[f.name] = None
                rows.append(row)
            values[r.name] = rows
        return values, problems

    def derive(self, values: dict[str, Any]) -> dict[str, Any]:
        for f in self.fields:
            if f.derive is not None:
                values[f.name] = f.derive(values)
        for r in self.repeats:
            for row in values.get(r.name) or []:
                for f in r.fields:
                    if f.derive is not None:
                        row[f.name] = f.derive({**values, **row})
        return values

    def relevant(self, item: Field | Repeat, values: Mapping[str, Any]) -> bool:
        section = self.section_of(item.name)
        if section is not None and section.relevant is not None and not section.relevant(values):
            return False
        return item.relevant is None or item.relevant(values)

    @functools.cached_property
    def _conditional(self) -> tuple[tuple[Field, tuple[Cond, ...]], ...]:
        """Top-level fields that skip logic can clear, each with its section's and its own condition (``clean``
        runs for every imported row: the rest need no look)."""
        out = []
        for f in self.fields:
            section = self.section_of(f.name)
            conds = tuple(c for c in ((section.relevant if section is not None else None), f.relevant)
                          if c is not None)
            if conds:
                out.append((f, conds))
        return tuple(out)

    def clean(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Derived fields computed, and answers to questions that no longer apply cleared (skip logic)."""
        out = {f.name: values.get(f.name) for f in self.fields}
        for r in self.repeats:
            out[r.name] = [{f.name: row.get(f.name) for f in r.fields} for row in (values.get(r.name) or [])]
        self.derive(out)
        for f, conds in self._conditional:  # in form order: a cleared answer counts as blank for the fields after it
            if not all(c(out) for c in conds):
                out[f.name] = None
        for r in self.repeats:
            if not self.relevant(r, out):
                out[r.name] = []
                continue
            conditional = [f for f in r.fields if f.relevant is not None]
            if not conditional:
                continue
            for row in out[r.name]:
                ctx = {**out, **row}
                for f in conditional:
                    if not f.relevant(ctx):
                        row[f.name] = None
        return out

    def validate(self, values: Mapping[str, Any], today: dt.date | None = None) -> Problems:
        """Every rule that refuses a save, plus soft warnings. Runs the same for the GUI, Excel and bundles."""
        today = today or clock.today()
        p = Problems()
        unknown = set(values) - self._value_names
        for name in sorted(unknown):
            p.error(name, _("This form has no field called {name}.").format(name=name))
        for f in self.fields:
            v = values.get(f.name)
            if v is not None:  # a blank answers no check (only "required" below)
                for m in f.check(v, today):
                    p.error(f.name, m)
                if f.pattern:
                    for m in f.soft_check(v):
                        p.warn(f.name, m)
            if f.required and v in (None, "", [], {}) and self.relevant(f, values):
                p.error(f.name, _("{field} is required.").format(field=f.label.text()))
            if f.kind == PLACE and f.required and isinstance(v, Mapping) and not v.get("county"):
                p.error(f.name, _("Choose the county."))
        for r in self.repeats:
            rows = values.get(r.name) or []
            if not isinstance(rows, list):
                p.error(r.name, _("Expected a list."))
                continue
            if self.relevant(r, values):
                if len(rows) < r.min_rows:
                    p.error(r.name, _("Add at least {n} in {group}.").format(n=r.min_rows, group=r.label.text()))
            if len(rows) > r.max_rows:
                p.error(r.name, _("At most {n} in {group}.").format(n=r.max_rows, group=r.label.text()))
            for i, row in enumerate(rows):
                if not isinstance(row, Mapping):
                    p.error(f"{r.name}[{i}]", _("Expected a list."))
                    continue
                for name in sorted(set(row) - r.by_name.keys()):
                    p.error(f"{r.name}[{i}].{name}", _("This form has no field called {name}.").format(name=name))
                for f in r.fields:
                    v = row.get(f.name)
                    if v is not None:
                        for m in f.check(v, today):
                            p.error(f"{r.name}[{i}].{f.name}", m)
                    if f.required and v in (None, "", [], {}) and (f.relevant is None or f.relevant({**values, **row})):
                        p.error(f"{r.name}[{i}].{f.name}", _("{field} is required.").format(field=f.label.text()))
        for rule in self.rules:
            try:
                breaches = rule.check(values, today)
            except (TypeError, ValueError, KeyError, AttributeError):
                continue  # a rule over values that failed their own checks: those errors already stand
            for where, message in breaches:
                p.error(where, message)
        return p

    # --- to the store --------------------------------------------------------------------------------------------

    @functools.cached_property
    def _value_names(self) -> frozenset[str]:
        return frozenset(self.by_name) | frozenset(self.repeat_by_name)

    @functools.cached_property
    def _storing(self) -> tuple[tuple[tuple[str, Field | None], ...], tuple[tuple[str, tuple], ...]]:
        """How each value becomes columns: (name, None) where it is stored as it is, (name, field) where the field
        converts it (yes/no, several choices, place); the same for each repeat group's fields."""
        def plan(fields):
            return tuple((f.name, f if f.kind in _CONVERTED else None) for f in fields)
        return plan(self.fields), tuple((r.name, plan(r.fields)) for r in self.repeats)

    def to_change(self, values: Mapping[str, Any], search: bool = True) -> Change:
        """Values as columns and repeat rows, with the search text unless ``search`` is False (an import makes it
        only for the rows it writes)."""
        top, groups = self._storing
        cols: dict[str, Any] = {}
        for name, f in top:
            if f is None:
                cols[name] = values.get(name)
            else:
                cols.update(f.to_sql(values.get(name)))
        children = {}
        for group, fields in groups:
            rows = []
            for row in values.get(group) or []:
                out: dict[str, Any] = {}
                for name, f in fields:
                    if f is None:
                        out[name] = row.get(name)
                    else:
                        out.update(f.to_sql(row.get(name)))
                rows.append(out)
            children[group] = rows
        return Change(cols, children, self.search_text(values) if search else None)

    def from_row(self, row: Mapping[str, Any], children: Mapping[str, list] | None = None) -> dict[str, Any]:
        values = {f.name: f.from_sql(row) for f in self.fields}
        for r in self.repeats:
            values[r.name] = [{f.name: f.from_sql(c) for f in r.fields} for c in (children or {}).get(r.name, [])]
        return values

    @functools.cached_property
    def _searchable(self) -> tuple[tuple[Field, ...], tuple[tuple[str, tuple[Field, ...]], ...]]:
        return (tuple(f for f in self.fields if f.is_searchable),
                tuple((r.name, tuple(f for f in r.fields if f.is_searchable)) for r in self.repeats))

    def search_text(self, values: Mapping[str, Any]) -> dict[str, str]:
        tiers: dict[str, list[str]] = {"public": [], "identifying": [], "narrative": []}
        top, groups = self._searchable
        for f in top:
            text = f.search_text(values.get(f.name))
            if text:
                tiers[f.tier].append(text)
        for group, fields in groups:
            if not fields:
                continue
            for row in values.get(group) or []:
                for f in fields:
                    text = f.search_text(row.get(f.name))
                    if text:
                        tiers[f.tier].append(text)
        return {k: " ".join(v) for k, v in tiers.items()}

    def mask(self, values: dict[str, Any], tiers: frozenset[str], drop: bool = False) -> set[str]:
        """Blank (or drop) every value of a tier not in ``tiers``, top-level or inside a repeat group (session notes,
        party names), in place. Returns the names hidden: ``field`` or ``group.field``."""
        hidden = set()
        for f in self.fields:
            if f.tier not in tiers:
                hidden.add(f.name)
                if drop:
                    values.pop(f.name, None)
                else:
                    values[f.name] = None
        for r in self.repeats:
            names = [f.name for f in r.fields if f.tier not in tiers]
            hidden.update(f"{r.name}.{n}" for n in names)
            for row in values.get(r.name) or []:
                for n in names:
                    if drop:
                        row.pop(n, None)
                    else:
                        row[n] = None
        return hidden

    def describe(self, values: Mapping[str, Any], lang: str | None = None) -> str:
        parts = []
        for name in self.title_fields:
            f = self.by_name.get(name)
            if f is not None and values.get(name) not in (None, ""):
                parts.append(f.display(values.get(name), lang))
        return " · ".join(parts) or self.title.text(lang)

    def label_of(self, name: str) -> str:
        try:
            return self.field(name).label.text()
        except KeyError:
            r = self.repeat_by_name.get(name)
            return r.label.text() if r else name

"""Column mappings: how a foreign spreadsheet's columns (and, where needed, its values) become a form's fields.

A mapping is built once (in the import window, or by hand from docs/mappings.md), saved by name in the database
and exchanged as a small JSON file. Our own templates and exports need none: their hidden key row maps them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import clock
from ..errors import ImportRejected, UsalamaError
from ..forms.definition import Form
from ..forms.fields import CHOICE, DATE, MONTH, MULTI, PLACE, FieldError
from ..forms.registry import forms, get_form
from ..i18n import _
from ..permissions import require
from ..resources import resource_path
from ..sync.safejson import JSONRefused, loads
from .layout import RECORD_ID, targets

FORMAT_VERSION = 1
BLANK_REFERENCE = ("hash", "reject")
MONTH_DAYS = ("first", "last")
MAX_MAPPING_BYTES = 1024 * 1024


def fold(text: Any) -> str:
    """How value maps and headers compare: case, surrounding and repeated spaces ignored."""
    return re.sub(r"\s+", " ", str(text if text is not None else "").strip().lower().replace("’", "'"))


@dataclass
class ColumnRule:
    source: str  # the column's header in the foreign file
    target: str  # a key from layout.targets(): field, place part, group.field or _id
    values: dict[str, str] = field(default_factory=dict)  # source value -> our value ("" leaves it blank)
    default: str | None = None  # for source values the value map does not list (None: read them as they are)
    month_day: str | None = None  # "first" or "last": a month-only value becomes that day of the month
    first_chars: int | None = None  # keep only the first N characters (a foreign id longer than our field allows)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": self.source, "target": self.target}
        if self.values:
            out["values"] = dict(self.values)
        if self.default is not None:
            out["default"] = self.default
        if self.month_day:
            out["month_day"] = self.month_day
        if self.first_chars:
            out["first_chars"] = self.first_chars
        return out

    def folded(self) -> dict[str, str]:
        return {fold(k): v for k, v in self.values.items()}


@dataclass
class Mapping:
    form: str
    columns: list[ColumnRule] = field(default_factory=list)
    constants: dict[str, str] = field(default_factory=dict)
    name: str = ""
    description: str = ""
    blank_reference: str = "hash"  # rows whose reference is blank: keyed by their content, or rejected
    sheet: str | None = None  # workbook sheet to read (default: the first visible one)
    header_row: int = 1

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"usalama_mapping": FORMAT_VERSION, "name": self.name, "form": self.form}
        if self.description:
            out["description"] = self.description
        if self.sheet:
            out["sheet"] = self.sheet
        if self.header_row != 1:
            out["header_row"] = self.header_row
        out["blank_reference"] = self.blank_reference
        out["columns"] = [c.to_json() for c in self.columns]
        if self.constants:
            out["constants"] = dict(self.constants)
        return out

    def dumps(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False, indent=2) + "\n"

    def targets_of(self, source: str) -> list[str]:
        return [c.target for c in self.columns if c.source == source]

    def sources(self) -> list[str]:
        return list(dict.fromkeys(c.source for c in self.columns))


# --- reading and checking -------------------------------------------------------------------------------------


def _bad(reason: str) -> ImportRejected:
    return ImportRejected(_("The column mapping is not valid: {reason}").format(reason=reason))


def _text(obj: dict, key: str, default: str | None = None, required: bool = False) -> str | None:
    value = obj.get(key, default)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise _bad(_("{key} must be text.").format(key=key))
    return value


def from_json(data: bytes | str) -> Mapping:
    """Read a mapping file (strict JSON, at most 1 MB) and check it against its form."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        obj = loads(raw, MAX_MAPPING_BYTES, 8)
    except JSONRefused as exc:
        raise _bad(str(exc)) from None
    if not isinstance(obj, dict) or obj.get("usalama_mapping") != FORMAT_VERSION:
        raise _bad(_("this is not a Usalama column mapping (version {n}).").format(n=FORMAT_VERSION))
    known = {"usalama_mapping", "name", "form", "description", "sheet", "header_row", "blank_reference", "columns",
             "constants"}
    unknown = sorted(set(obj) - known)
    if unknown:
        raise _bad(_("unknown setting {key}.").format(key=unknown[0]))
    header_row = obj.get("header_row", 1)
    if not isinstance(header_row, int) or isinstance(header_row, bool) or not 1 <= header_row <= 1000:
        raise _bad(_("header_row must be a row number from 1 to 1000."))
    columns = obj.get("columns", [])
    constants = obj.get("constants", {})
    if not isinstance(columns, list) or not isinstance(constants, dict):
        raise _bad(_("columns must be a list and constants an object."))
    rules = []
    for c in columns:
        if not isinstance(c, dict) or set(c) - {"source", "target", "values", "default", "month_day", "first_chars"}:
            raise _bad(_("each column needs a source and a target, and may have values, default, month_day and "
                         "first_chars."))
        first = c.get("first_chars")
        if first is not None and (not isinstance(first, int) or isinstance(first, bool) or not 1 <= first <= 1000):
            raise _bad(_("first_chars must be a number from 1 to 1000."))
        values = c.get("values", {})
        if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
            raise _bad(_("values must map text to text."))
        rules.append(ColumnRule(_text(c, "source", required=True), _text(c, "target", required=True),
                                dict(values), _text(c, "default"), _text(c, "month_day"), first))
    if not all(isinstance(v, str | int) and not isinstance(v, bool) for v in constants.values()):
        raise _bad(_("constants must be text."))
    mapping = Mapping(form=_text(obj, "form", required=True), columns=rules,
                      constants={k: str(v) for k, v in constants.items()}, name=_text(obj, "name", "") or "",
                      description=_text(obj, "description", "") or "",
                      blank_reference=_text(obj, "blank_reference", "hash"), sheet=_text(obj, "sheet"),
                      header_row=header_row)
    check(mapping)
    return mapping


def check(mapping: Mapping) -> Form:
    """The mapping fits its form: known targets, each filled once, value maps onto real choices, month_day only on
    dates. Raises ImportRejected naming the first problem."""
    if mapping.form not in forms():
        raise _bad(_("there is no form called {name}.").format(name=mapping.form))
    form = get_form(mapping.form)
    allowed = targets(form)
    if mapping.blank_reference not in BLANK_REFERENCE:
        raise _bad(_("blank_reference must be hash or reject."))
    seen: dict[str, str] = {}
    for rule in mapping.columns:
        if rule.target not in allowed:
            raise _bad(_("the form {form} has no column {target}.").format(form=form.name, target=rule.target))
        if rule.target in seen:
            raise _bad(_("{target} is filled from two columns.").format(target=rule.target))
        seen[rule.target] = rule.source
        f = allowed[rule.target].field
        if rule.month_day is not None and (rule.month_day not in MONTH_DAYS or f is None
                                           or f.kind not in (DATE, MONTH)):
            raise _bad(_("month_day (first or last) only applies to a date column."))
        for our in [*rule.values.values(), *([rule.default] if rule.default else [])]:
            _check_value(allowed[rule.target], our, rule.target)
    for target, value in mapping.constants.items():
        if target not in allowed or target == RECORD_ID:
            raise _bad(_("the form {form} has no column {target}.").format(form=form.name, target=target))
        if target in seen:
            raise _bad(_("{target} is filled from two columns.").format(target=target))
        _check_value(allowed[target], value, target)
    return form


def _check_value(column, value: str, target: str) -> None:
    f = column.field
    if f is None or value in ("", None):
        return
    if f.kind in (CHOICE, MULTI) or (f.kind == PLACE and column.part == "county"):
        try:
            f.parse(value if f.kind != PLACE else {"county": value})
        except FieldError:
            raise _bad(_("{value} is not one of the choices for {target}.").format(value=value[:40], target=target))\
                from None


# --- where mappings live: files, the database, and the ones we ship ----------------------------------------------


def shipped() -> dict[str, Path]:
    folder = resource_path("mappings")
    return {p.stem: p for p in sorted(folder.glob("*.json"))} if folder.is_dir() else {}


def read_file(path: Path) -> Mapping:
    try:
        data = Path(path).read_bytes()
    except OSError:
        raise ImportRejected(_("The mapping file {name} cannot be read.").format(name=Path(path).name)) from None
    return from_json(data)


def write_file(mapping: Mapping, path: Path) -> None:
    from ..fsutil import atomic_write_bytes

    atomic_write_bytes(Path(path), mapping.dumps().encode("utf-8"), mode=0o644)


def _module_of(form_name: str) -> str:
    return get_form(form_name).module


def save(session, mapping: Mapping) -> None:
    """Store a mapping by name for everyone at this installation who may import into its form."""
    name = (mapping.name or "").strip()
    if not 1 <= len(name) <= 80:
        raise UsalamaError(_("Give the mapping a name of 1 to 80 characters."))
    mapping.name = name
    check(mapping)
    require(session.actor, _module_of(mapping.form), "import")
    with session.db.transaction():
        session.db.execute(
            "INSERT INTO mappings(name, form, data, updated_by, updated_at) VALUES (?,?,?,?,?) "
            "ON CONFLICT(name) DO UPDATE SET form = excluded.form, data = excluded.data, "
            "updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            (name, mapping.form, mapping.dumps(), session.username, clock.now_iso()))
        session.audit("mapping.save", _module_of(mapping.form), name, {"form": mapping.form,
                                                                      "columns": len(mapping.columns)})


def saved_names(session, form_name: str | None = None) -> list[str]:
    if form_name:
        rows = session.db.query("SELECT name FROM mappings WHERE form = ? ORDER BY name", (form_name,))
    else:
        rows = session.db.query("SELECT name FROM mappings ORDER BY name")
    return [r[0] for r in rows]


def load_saved(session, name: str) -> Mapping | None:
    data = session.db.scalar("SELECT data FROM mappings WHERE name = ?", (name,))
    return None if data is None else from_json(data)


def delete_saved(session, name: str) -> None:
    mapping = load_saved(session, name)
    if mapping is None:
        return
    require(session.actor, _module_of(mapping.form), "import")
    with session.db.transaction():
        session.db.execute("DELETE FROM mappings WHERE name = ?", (name,))
        session.audit("mapping.delete", _module_of(mapping.form), name, {"form": mapping.form})


def resolve(session, spec: str) -> Mapping:
    """A mapping named on the command line: a file, else a name saved here, else one we ship."""
    path = Path(spec).expanduser()
    if path.is_file():
        return read_file(path)
    found = load_saved(session, spec)
    if found is not None:
        return found
    ours = shipped()
    if spec in ours:
        return read_file(ours[spec])
    raise UsalamaError(_("No mapping file or saved mapping called {name}. Saved mappings: {names}.").format(
        name=spec, names=", ".join(saved_names(session)) or "-"))


# --- a first guess for a foreign file ------------------------------------------------------------------------------


def header_index(form: Form) -> dict[str, str]:
    """Folded header text -> column key: keys themselves, and English and Kiswahili labels that name one column
    only ("Sex" of victims and of suspects names none)."""
    by_label: dict[str, set[str]] = {}
    all_targets = targets(form)
    for key, column in all_targets.items():
        for text in (column.label.sw, column.label.en):
            if text:
                by_label.setdefault(fold(text), set()).add(key)
    out = {label: keys.pop() for label, keys in by_label.items() if len(keys) == 1}
    out.update({fold(key): key for key in all_targets})
    return out


def suggest(form: Form, headers: list[str]) -> Mapping:
    """Map every header that names a field (by key or label, either language); leave the rest unmapped."""
    index = header_index(form)
    rules, used = [], set()
    for header in headers:
        key = index.get(fold(header))
        if key and key not in used:
            rules.append(ColumnRule(header, key))
            used.add(key)
    return Mapping(form=form.name, columns=rules)

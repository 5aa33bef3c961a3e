"""Import a filled template or a foreign spreadsheet into any form, accounting for every row.

Each data row ends as exactly one of: imported (a new record), updated (the same record seen again: same agency
reference or record id, in the file or already stored, with different content), duplicate (the same record with the
same content, earlier in the file or already stored) or rejected (with row, column and reason; a rejected row writes
nothing). Rows are checked by the form's own rules through the record service, the same rules as the GUI.

Rows without a reference are keyed by a hash of the whole source row (when the mapping allows it), and every key is
remembered in ``import_keys``, so importing the same file again changes nothing. The whole import is one
transaction: cancel, a refusal or a crash leaves the database as it was. The row report (row, column, reason; never
a cell's value) is written beside the imported file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ..bulkwork import collection_paused
from ..errors import ImportRejected, PermissionDenied
from ..forms.definition import Form, Problems
from ..forms.fields import CHOICE, DATE, DECIMAL, INTEGER, MONTH, MULTI, PLACE, TIME, YESNO, Field, FieldError
from ..fsutil import atomic_write_bytes
from ..i18n import _
from ..services.records import Checked, RecordService
from ..store.records import Change
from ..store.spine import LIVE
from . import mapping as mappings
from .layout import RECORD_ID, RECORD_LINK, assemble, column_letter, targets
from .mapping import ColumnRule, Mapping, fold
from .tabular import Book, Sheet, all_blank, cell_text, is_blank, read_book

IMPORTED, UPDATED, DUPLICATE, REJECTED = "imported", "updated", "duplicate", "rejected"
OUTCOMES = (IMPORTED, UPDATED, DUPLICATE, REJECTED)
WRITE_BATCH = 2000
_MONTH_ONLY = re.compile(r"^\s*(?:(\d{4})-(\d{1,2})|(\d{1,2})[/.\-](\d{4}))\s*$")


def outcome_label(outcome: str) -> str:
    return {IMPORTED: _("imported"), UPDATED: _("updated"), DUPLICATE: _("duplicate"), REJECTED: _("rejected")}[outcome]


@dataclass
class RowResult:
    sheet: str
    row: int
    outcome: str
    column: str = ""
    reason: str = ""
    record_id: str = ""


@dataclass
class ImportReport:
    form: str
    source: str
    rows: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    by_category: dict[str, Counter] = field(default_factory=lambda: {o: Counter() for o in OUTCOMES})
    child_rows: dict[str, dict[str, int]] = field(default_factory=dict)
    results: list[RowResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    report_path: Path | None = None
    mapping_name: str = ""
    main_sheet: str = ""

    @property
    def imported(self) -> int:
        return self.counts[IMPORTED]

    @property
    def updated(self) -> int:
        return self.counts[UPDATED]

    @property
    def duplicates(self) -> int:
        return self.counts[DUPLICATE]

    @property
    def rejected(self) -> int:
        return self.counts[REJECTED]

    def add(self, result: RowResult, category: str | None = None, main: bool = True) -> None:
        self.results.append(result)
        if main:
            self.counts[result.outcome] += 1
            if category is not None:
                self.by_category[result.outcome][category] += 1

    def summary(self) -> str:
        return _("{rows} rows: {imported} imported, {updated} updated, {duplicates} skipped as exact duplicates, "
                 "{rejected} rejected.").format(rows=self.rows, imported=self.imported, updated=self.updated,
                                                duplicates=self.duplicates, rejected=self.rejected)

    def lines(self) -> list[str]:
        out = [self.summary()]
        for sheet, n in self.child_rows.items():
            out.append(_("Sheet {sheet}: {attached} rows read with their records, {rejected} rejected.").format(
                sheet=sheet, attached=n.get("attached", 0), rejected=n.get("rejected", 0)))
        out.extend(self.notes)
        if self.report_path:
            out.append(_("Row report: {path}").format(path=self.report_path))
        return out

    def csv_bytes(self) -> bytes:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow([_("Sheet"), _("Row"), _("Outcome"), _("Column"), _("Reason"), _("Record id")])
        for r in sorted(self.results, key=lambda r: (r.sheet != self.main_sheet, r.sheet, r.row)):
            w.writerow([r.sheet, r.row, outcome_label(r.outcome), r.column, r.reason, r.record_id])
        return buf.getvalue().encode("utf-8-sig")


def report_path_for(path: Path) -> Path:
    return Path(path).with_name(Path(path).name + ".import-report.csv")


# --- how to read the file -----------------------------------------------------------------------------------------


@dataclass
class Source:
    index: int  # column index in the sheet
    key: str  # target key
    rule: ColumnRule | None
    where: str  # "C: Crime type", for the report


@dataclass
class ChildPlan:
    sheet: Sheet
    first_data: int
    link: int  # column index of the record link
    link_where: str
    sources: list[Source]


@dataclass
class Plan:
    sheet: Sheet
    first_data: int  # 0-based index of the first data row
    sources: list[Source]
    constants: dict[str, str]
    children: dict[str, ChildPlan]
    blank_reference: str
    mapping_name: str
    notes: list[str]

    def where(self, key: str) -> str:
        found = [s.where for s in self.sources if s.key == key]
        if found:
            return ", ".join(found)
        if key in self.constants:
            return _("(fixed value in the mapping: {target})").format(target=key)
        return ""


def _where(sheet: Sheet, header_row: int, index: int) -> str:
    header = cell_text(sheet.row(header_row)[index]) if index < len(sheet.row(header_row)) else ""
    return f"{column_letter(index)}: {header}" if header else column_letter(index)


def _keys_row(sheet: Sheet, known: set[str]) -> dict[int, str] | None:
    """Our workbooks carry column keys in a hidden second row; None when this sheet has none."""
    cells = {i: cell_text(v) for i, v in enumerate(sheet.row(1)) if not is_blank(v)}
    keys = {i: k for i, k in cells.items() if k in known}
    return keys if keys and len(keys) * 2 >= len(cells) else None


def template_plan(book: Book, form: Form) -> Plan | None:
    """Our own template or export, recognised by its hidden key row (headers may have been retyped)."""
    allowed = targets(form)
    main_keys = {k for k in allowed if "." not in k}
    main = None
    children: dict[str, ChildPlan] = {}
    for sheet in book.sheets:
        keys = _keys_row(sheet, set(allowed) | {RECORD_LINK, "_agency", "_revision", "_updated_at"})
        if keys is None:
            continue
        groups = {k.split(".", 1)[0] for k in keys.values() if "." in k}
        link = [i for i, k in keys.items() if k == RECORD_LINK]
        if len(groups) == 1 and link and not (set(keys.values()) & main_keys):
            group = groups.pop()
            if group not in children:
                sources = [Source(i, k, None, _where(sheet, 0, i)) for i, k in keys.items() if k in allowed]
                children[group] = ChildPlan(sheet, 2, link[0], _where(sheet, 0, link[0]), sources)
        elif main is None and set(keys.values()) & main_keys:
            main = Plan(sheet, 2, [Source(i, k, None, _where(sheet, 0, i)) for i, k in keys.items() if k in allowed],
                        {}, children, "hash", "", [])
    return main


def mapped_plan(book: Book, form: Form, m: Mapping) -> Plan:
    """A foreign file read through a column mapping."""
    if m.form != form.name:
        raise ImportRejected(_("The mapping {name} is for the form {other}, not {form}.").format(
            name=m.name or "-", other=m.form, form=form.name))
    if m.sheet:
        sheet = book.sheet(m.sheet)
        if sheet is None:
            raise ImportRejected(_("The workbook has no sheet called {sheet}.").format(sheet=m.sheet))
    else:
        sheet = next((s for s in book.sheets if s.visible), book.sheets[0])
    header_row = m.header_row - 1
    headers = [cell_text(v) for v in sheet.row(header_row)]
    exact: dict[str, int] = {}
    folded: dict[str, int] = {}
    for i, h in enumerate(headers):
        exact.setdefault(h, i)
        folded.setdefault(fold(h), i)
    sources = []
    for rule in m.columns:
        index = exact.get(rule.source, folded.get(fold(rule.source)))
        if index is None:
            raise ImportRejected(_("The file has no column called {column}, which the mapping reads. Check the "
                                   "header row, or choose another mapping.").format(column=rule.source))
        sources.append(Source(index, rule.target, rule, _where(sheet, header_row, index)))
    used = {s.index for s in sources}
    notes = []
    ignored = [h for i, h in enumerate(headers) if h and i not in used]
    if ignored:
        notes.append(_("Columns not read (the mapping does not use them): {columns}.").format(
            columns=", ".join(ignored[:20]) + (" …" if len(ignored) > 20 else "")))
    return Plan(sheet, header_row + 1, sources, dict(m.constants), {}, m.blank_reference, m.name, notes)


def plan_for(book: Book, form: Form, m: Mapping | None) -> Plan:
    if m is not None:
        return mapped_plan(book, form, m)
    plan = template_plan(book, form)
    if plan is not None:
        return plan
    sheet = next((s for s in book.sheets if s.visible), book.sheets[0])
    guess = mappings.suggest(form, [cell_text(v) for v in sheet.row(0)])
    if not guess.columns:
        raise ImportRejected(_("This file's columns do not match the {form} template. Choose or build a column "
                               "mapping for it.").format(form=form.title.text()))
    return mapped_plan(book, form, guess)


def _always_required(form: Form) -> list[Field]:
    return [f for f in form.fields if f.required and f.default is None and f.relevant is None
            and (form.section_of(f.name) is None or form.section_of(f.name).relevant is None)]


def check_coverage(form: Form, plan: Plan) -> None:
    """Refuse up front when no column or fixed value fills a field every record needs."""
    given = {s.key for s in plan.sources} | set(plan.constants)
    missing = []
    for f in _always_required(form):
        needed = f"{f.name}_county" if f.kind == PLACE else f.name
        if needed not in given:
            missing.append(f.label.text())
    if missing:
        raise ImportRejected(_("No column gives {fields}, which every record needs. Add it to the file or the "
                               "column mapping.").format(fields=", ".join(missing)))


# --- reading cells --------------------------------------------------------------------------------------------------


def _month_day(value: Any, which: str) -> Any:
    if not isinstance(value, str):
        return value
    m = _MONTH_ONLY.match(value)
    if not m:
        return value
    year, month = (int(m.group(1)), int(m.group(2))) if m.group(1) else (int(m.group(4)), int(m.group(3)))
    if not 1 <= month <= 12:
        return value
    if which == "first":
        return f"{year:04d}-{month:02d}-01"
    import calendar

    return f"{year:04d}-{month:02d}-{calendar.monthrange(year, month)[1]:02d}"


class CellReader:
    """Applies a column's value map, default and month_day; caches the folded value maps."""

    def __init__(self):
        self._maps: dict[int, dict[str, str]] = {}

    def value(self, source: Source, v: Any) -> Any:
        rule = source.rule
        if rule is None:
            return v
        if rule.values or rule.default is not None:
            table = self._maps.get(id(rule))
            if table is None:
                table = self._maps[id(rule)] = rule.folded()
            key = fold(cell_text(v))
            if key in table:
                v = table[key]
            elif rule.default is not None and not is_blank(v):
                v = rule.default
        if rule.month_day:
            v = _month_day(v, rule.month_day)
        if rule.first_chars and not is_blank(v):
            v = cell_text(v)[: rule.first_chars]
        return v


def field_message(f: Field) -> str:
    """Why a cell could not be read, without repeating the cell (reports never carry values)."""
    k = f.kind
    if k == INTEGER:
        return _("Write a whole number.")
    if k == DECIMAL:
        return _("Write a number.")
    if k == YESNO:
        return _("Answer yes or no.")
    if k == DATE:
        if f.precision == "day":
            return _("Not a date: write it as YYYY-MM-DD or dd/mm/yyyy.")
        return _("Not a date: write it as YYYY-MM-DD or dd/mm/yyyy, or the month as YYYY-MM.")
    if k == MONTH:
        return _("Not a month: write it as YYYY-MM.")
    if k == TIME:
        return _("Write the time as HH:MM, or morning, afternoon, evening, night or unknown.")
    if k in (CHOICE, MULTI):
        return _("Not one of the choices for {field}. Use the list in the template, or map this value in the column "
                 "mapping.").format(field=f.label.text())
    if k == PLACE:
        return _("Not a Kenyan county: use the county's name or its three-digit code.")
    return _("This value cannot be read.")


_HASHED = json.JSONEncoder(sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))


def content_hash(change: Change) -> str:
    """What a record holds (columns and repeat rows), as a short fingerprint. orjson writes the sorted JSON about
    three times as fast (an import hashes every row, a re-import every stored record too); a value it cannot write
    (an integer past 64 bits) takes the standard encoder, so the same content always gives the same fingerprint."""
    try:
        data = orjson.dumps([change.values, change.children], default=str, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        data = _HASHED.encode([change.values, change.children]).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def row_key(cells: list[list[Any]]) -> str:
    text = json.dumps([[cell_text(v) for v in row] for row in cells], ensure_ascii=False, separators=(",", ":"))
    return "row:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- the import -------------------------------------------------------------------------------------------------------


@dataclass
class Row:
    number: int  # as the spreadsheet shows it
    values: dict[str, Any]
    problems: Problems
    key: str | None  # ref:..., id:..., row:...
    id_key: str | None  # id:... when the row names a record id
    children: dict[str, list[int]]  # group -> sheet row numbers of its repeat rows


@dataclass
class State:
    """What the file says about one record so far (a stored one, or a new one to create)."""

    row: int  # the last row that set its content
    target: str
    record_id: str | None  # stored record, or None until a new one is written
    hash: str
    checked: Checked  # the content to write, as the record service checked it
    dirty: bool  # needs writing
    keys: set[str]
    results: list[RowResult]


class Importer:
    """One import of one file into one form, for one agency."""

    def __init__(self, session, form_name: str, agency_id: str | None = None):
        self.s = session
        self.svc = RecordService(session, form_name)
        self.form = self.svc.form
        self.agency = agency_id or session.user.agency_id
        self.cells = CellReader()

    # --- checks before anything is read ---------------------------------------------------------------------

    def _check_allowed(self) -> None:
        self.svc.require("import")
        self.svc.require("create")
        if self.agency != self.s.user.agency_id:
            if self.s.user.role not in ("admin", "coordinator"):
                raise PermissionDenied(_("Only a coordinator or administrator may enter records for another agency."))
            if not self.s.db.scalar("SELECT 1 FROM agencies WHERE id = ?", (self.agency,)):
                raise ImportRejected(_("There is no agency with the id {id} at this installation.").format(
                    id=self.agency))

    def _drop_hidden(self, plan: Plan) -> None:
        allowed = targets(self.form)
        hidden = {k for k, c in allowed.items() if c.field is not None and c.field.tier not in self.svc.tiers}
        dropped = [s.where for s in plan.sources if s.key in hidden]
        if dropped:
            plan.sources = [s for s in plan.sources if s.key not in hidden]
            plan.notes.append(_("Columns not read because your role may not see them: {columns}.").format(
                columns=", ".join(dropped)))
        for child in plan.children.values():
            child.sources = [s for s in child.sources if s.key not in hidden]
        plan.constants = {k: v for k, v in plan.constants.items() if k not in hidden}

    # --- phase 1: read every row into values (no database) ------------------------------------------------------

    def _child_rows(self, plan: Plan, report: ImportReport, main_rows: dict[int, list[Any]]
                    ) -> dict[int, dict[str, list[tuple[int, dict[str, Any], list[Any]]]]]:
        """Repeat-sheet rows grouped under the main row they name (by reference or #row); orphans rejected."""
        out: dict[int, dict[str, list]] = {}
        ref = self.form.reference_field
        by_ref: dict[str, list[int]] = {}
        if ref:
            ref_sources = [s for s in plan.sources if s.key == ref]
            if ref_sources:
                for number, cells in main_rows.items():
                    v = cells[ref_sources[0].index] if ref_sources[0].index < len(cells) else ""
                    if not is_blank(v):
                        by_ref.setdefault(self._ref_text(v), []).append(number)
        for group, child in plan.children.items():
            counts = report.child_rows.setdefault(child.sheet.name, {"attached": 0, "rejected": 0})
            for i in range(child.first_data, len(child.sheet.rows)):
                cells = child.sheet.rows[i]
                if all_blank(cells[:child.link]) and all_blank(cells[child.link + 1:]):
                    continue
                number = i + 1
                link = cells[child.link] if child.link < len(cells) else ""
                text = cell_text(link)
                owners: list[int] = []
                if text.startswith("#") and text[1:].strip().isdigit():
                    owners = [int(text[1:])] if int(text[1:]) in main_rows else []
                elif ref and text:
                    owners = by_ref.get(self._ref_text(link), [])
                elif not ref and text.isdigit():
                    owners = [int(text)] if int(text) in main_rows else []
                if not owners:
                    counts["rejected"] += 1
                    reason = (_("The record column is blank; write the record's reference or #row.") if not text else
                              _("No row on the first sheet has this reference or row number."))
                    report.add(RowResult(child.sheet.name, number, REJECTED, child.link_where, reason), main=False)
                    continue
                counts["attached"] += 1
                flat = {}
                for s in child.sources:
                    v = cells[s.index] if s.index < len(cells) else ""
                    if not is_blank(v):
                        flat[s.key.split(".", 1)[1]] = v
                kept = [v for j, v in enumerate(cells) if j != child.link]
                for owner in owners:
                    out.setdefault(owner, {}).setdefault(group, []).append((number, flat, kept))
        return out

    def _ref_text(self, v: Any) -> str:
        """A reference as the form reads it (spacing tidied), so a repeat sheet's link finds its record."""
        try:
            return str(self.form.by_name[self.form.reference_field].parse(v))
        except FieldError:
            return cell_text(v)

    def read_rows(self, plan: Plan, report: ImportReport, progress: Callable[[int, int], None]) -> list[Row]:
        sheet = plan.sheet
        main_rows = {i + 1: sheet.rows[i] for i in range(plan.first_data, len(sheet.rows))
                     if not all_blank(sheet.rows[i])}
        blank = len(sheet.rows) - plan.first_data - len(main_rows)
        if blank > 0 and main_rows and max(main_rows) > min(main_rows) + len(main_rows) - 1:
            report.notes.append(_("{n} empty rows between the data were passed over.").format(
                n=max(main_rows) - min(main_rows) + 1 - len(main_rows)))
        children = self._child_rows(plan, report, main_rows) if plan.children else {}
        ref = self.form.reference_field
        rows = []
        total = len(main_rows)
        for n, (number, cells) in enumerate(main_rows.items()):
            if n % 500 == 0:
                progress(n, total)
            flat: dict[str, Any] = {}
            for s in plan.sources:
                v = cells[s.index] if s.index < len(cells) else ""
                v = self.cells.value(s, v)
                if not is_blank(v):
                    flat[s.key] = v
            for key, value in plan.constants.items():
                flat[key] = value
            linked = children.get(number, {})
            kids = {g: [c[1] for c in linked.get(g, [])] for g in plan.children}
            raw = assemble(self.form, flat, kids if plan.children else None)
            values, problems = self.form.parse(raw)
            for where in list(problems.errors):
                problems.errors[where] = [field_message(self._field_at(where))]
            id_key = f"id:{cell_text(flat[RECORD_ID])}" if RECORD_ID in flat else None
            key = None
            if ref and values.get(ref) not in (None, ""):
                key = f"ref:{values[ref]}"
            if key is None and (not ref or plan.blank_reference == "hash"):
                key = row_key([cells, *[c[2] for g in plan.children for c in linked.get(g, [])]])
            rows.append(Row(number, values, problems, key, id_key,
                            {g: [c[0] for c in linked.get(g, [])] for g in plan.children}))
        progress(total, total)
        return rows

    def _field_at(self, where: str) -> Field:
        m = re.match(r"^(\w+)\[\d+\]\.(\w+)$", where)
        return self.form.field(f"{m.group(1)}.{m.group(2)}" if m else where)

    # --- phase 2: decide each row, then write, all in one transaction -------------------------------------------------

    def _lookup(self, rows: list[Row]) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
        """key -> stored record id (live, this agency), and import key -> (record id, content hash) last time."""
        spec, db = self.svc.spec, self.s.db
        found: dict[str, str] = {}
        ref = self.form.reference_field
        refs = sorted({r.key[4:] for r in rows if r.key and r.key.startswith("ref:")})
        ids = sorted({r.id_key[3:] for r in rows if r.id_key})
        for start in range(0, len(refs), 500):
            chunk = refs[start:start + 500]
            for value, rec in db.query(f'SELECT "{ref}", id FROM "{spec.name}" WHERE agency_id = ? AND {LIVE} '
                                       f'AND "{ref}" IN ({", ".join("?" * len(chunk))})', [self.agency, *chunk]):
                found[f"ref:{value}"] = rec
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            for (rec,) in db.query(f'SELECT id FROM "{spec.name}" WHERE +agency_id = ? AND {LIVE} '
                                   f'AND id IN ({", ".join("?" * len(chunk))})', [self.agency, *chunk]):
                found[f"id:{rec}"] = rec
        keys = sorted({k for r in rows for k in (r.key, r.id_key) if k})
        known: dict[str, tuple[str, str]] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            for key, rec, h in db.query("SELECT key, record_id, content_hash FROM import_keys WHERE form = ? AND "
                                        f"agency_id = ? AND key IN ({', '.join('?' * len(chunk))})",
                                        [self.form.name, self.agency, *chunk]):
                known[key] = (rec, h)
        live = set(found.values())
        hashed = {k: v[0] for k, v in known.items() if k.startswith("row:")}
        if hashed:
            candidates = sorted(set(hashed.values()) - live)
            for start in range(0, len(candidates), 500):
                chunk = candidates[start:start + 500]
                for (rec,) in db.query(f'SELECT id FROM "{spec.name}" WHERE +agency_id = ? AND {LIVE} '
                                       f'AND id IN ({", ".join("?" * len(chunk))})', [self.agency, *chunk]):
                    live.add(rec)
            for k, rec in hashed.items():
                if rec in live:
                    found[k] = rec
        return found, known

    def _load(self, current: dict[str, tuple[str, dict[str, Any], dict[str, Any]]], wanted) -> None:
        """Add to ``current`` record id -> (content hash, values, row) for stored records not loaded yet."""
        spec = self.svc.spec
        ids = sorted(set(wanted) - set(current))
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            rows = [dict(zip(r.keys(), tuple(r), strict=True)) for r in self.s.db.query(
                f'SELECT * FROM "{spec.name}" WHERE id IN ({", ".join("?" * len(chunk))})', chunk)]
            kids = self.s.writer.children_many(spec, [r["rid"] for r in rows])
            for r in rows:
                values = self._in_list_order(self.form.from_row(r, kids[r["rid"]]))
                current[r["id"]] = (content_hash(self.form.to_change(values, search=False)), values, r)

    def _in_list_order(self, values: dict[str, Any]) -> dict[str, Any]:
        """Several-choice answers in their list's order, as reading a cell gives them, so order alone is no change."""
        def order(f: Field, v: Any) -> Any:
            if f.kind != MULTI or not isinstance(v, list):
                return v
            rank = {c: i for i, c in enumerate(f.choice_list.values)}
            return sorted(v, key=lambda c: rank.get(c, len(rank)))

        for f in self.form.fields:
            values[f.name] = order(f, values.get(f.name))
        for r in self.form.repeats:
            for row in values.get(r.name) or []:
                for f in r.fields:
                    row[f.name] = order(f, row.get(f.name))
        return values

    def _covered(self, plan: Plan) -> set[str]:
        """Fields and repeat groups the file gives (a column or a fixed value); the rest of a stored record stays."""
        out = set(plan.children)
        for key in [*(s.key for s in plan.sources), *plan.constants]:
            if key.startswith("_"):
                continue
            if "." in key:
                out.add(key.split(".", 1)[0])
            elif key in self.form.by_name:
                out.add(key)
            else:
                out.add(key.rpartition("_")[0])
        return out

    def run(self, path: Path, m: Mapping | None = None, token=None, write_report: bool = True) -> ImportReport:
        path = Path(path)

        def progress(done: int, total: int, label: str | None = None) -> None:
            if token is not None:
                token.progress(done, total, label)

        self._check_allowed()
        progress(0, 0, _("Reading {name}…").format(name=path.name))
        book = read_book(path)
        plan = plan_for(book, self.form, m)
        self._drop_hidden(plan)
        check_coverage(self.form, plan)
        report = ImportReport(self.form.name, path.name, mapping_name=plan.mapping_name, main_sheet=plan.sheet.name)
        report.notes.extend(book.notes + plan.notes)
        rows = self.read_rows(plan, report, lambda d, t: progress(d, t, _("Checking rows…")))
        report.rows = len(rows)
        if token is not None:
            token.check()
        with self.s.db.transaction(savepoints=False):  # all or nothing: any error ends the whole import
            self._decide_and_write(rows, plan, report, progress)
            self.s.audit("records.import", self.form.module, self.form.name, {
                "form": self.form.name, "rows": report.rows, "imported": report.imported, "updated": report.updated,
                "duplicates": report.duplicates, "rejected": report.rejected, "agency_id": self.agency,
                "mapping": plan.mapping_name or ("template" if m is None else ""), "file_kind": book.kind})
        if write_report:
            target = report_path_for(path)
            try:
                atomic_write_bytes(target, report.csv_bytes())
                report.report_path = target
            except OSError:
                report.notes.append(_("The row report could not be written beside the file; the import itself "
                                      "is saved."))
        return report

    def _decide_and_write(self, rows: list[Row], plan: Plan, report: ImportReport, progress) -> None:
        form, svc = self.form, self.svc
        found, known = self._lookup(rows)
        current: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {}  # stored records, loaded when needed
        can_update = svc.can("update") and self.agency == self.s.agency.id
        hide = any(f.tier not in svc.tiers for f in form.fields) or any(
            f.tier not in svc.tiers for r in form.repeats for f in r.fields)
        covered = self._covered(plan)
        kept = [name for name in [*form.by_name, *form.repeat_by_name]
                if name not in covered and (name not in form.by_name or form.by_name[name].derive is None)]
        # The record each row would change, so the rules (uniqueness above all) see what a save would see. A stored
        # record keeps what the file does not give (an export without narratives does not erase them).
        record_of = [(found.get(r.id_key) if r.id_key else None) or (found.get(r.key) if r.key else None)
                     for r in rows]
        if kept or hide:
            self._load(current, [rec for rec in record_of if rec])
            for r, rec in zip(rows, record_of, strict=True):
                if rec is not None and r.problems.ok:
                    before = current[rec][1]
                    r.values = {**r.values, **{name: before.get(name) for name in kept}}
                    if hide:
                        r.values = svc.keep_hidden(current[rec][2], r.values)
        checkable = [i for i, r in enumerate(rows) if r.problems.ok]
        prepared = []
        for start in range(0, len(checkable), WRITE_BATCH):  # in parts, so progress moves and cancel is heard
            progress(start, len(checkable), _("Checking rows…"))
            part = checkable[start:start + WRITE_BATCH]
            prepared.extend(svc.prepare_many([rows[i].values for i in part], self.agency, [record_of[i] for i in part]))
        cleaned = dict(zip(checkable, prepared, strict=True))
        states: dict[str, State] = {}
        unique_seen: dict[tuple[str, Any], str] = {}
        unique_fields = [f for f in form.fields if f.unique]
        accepted: list[tuple[int, str, str, dict[str, Any]] | None] = []  # per row: (i, target, hash, values)
        for i, r in enumerate(rows):
            if i % 1000 == 0:
                progress(i, len(rows), _("Checking rows…"))
            rec = record_of[i]
            values, problems = cleaned.get(i, (r.values, r.problems))
            target = f"rec:{rec}" if rec else f"new:{r.key}"
            if problems.ok and r.key is None and rec is None:
                problems.error(form.reference_field, _("The reference is blank, and this mapping rejects rows "
                                                        "without one."))
            for f in unique_fields if problems.ok else ():
                v = values.get(f.name)
                if v not in (None, "") and unique_seen.get((f.name, v), target) != target:
                    problems.error(f.name, _("Another row of this file already has this {field}.").format(
                        field=f.label.text()))
            r.problems = problems
            if not problems.ok:
                accepted.append(None)
                continue
            for f in unique_fields:
                if values.get(f.name) not in (None, ""):
                    unique_seen[(f.name, values[f.name])] = target
            change = form.to_change(values, search=False)  # the search text is made in _write, for rows written
            h = content_hash(change)
            checked = svc.seal(values, problems, self.agency, rec, change)
            state = states.get(target)
            if state is None:
                state = states[target] = State(r.number, target, rec, h, checked, True, set(), [])
            state.row, state.hash, state.checked = r.number, h, checked
            state.keys.update(k for k in (r.key, r.id_key) if k)
            accepted.append((i, target, h, values))
        # A stored record is settled when the file's last word on it is what is stored (or what this file said last
        # time it was imported): then every row about it is a duplicate and nothing is written.
        for state in states.values():
            rec = state.record_id
            if rec is not None:
                state.dirty = not any(known.get(k) == (rec, state.hash) for k in state.keys)
        self._load(current, [st.record_id for st in states.values() if st.record_id and st.dirty])
        stored_hash = {rec: h for rec, (h, _v, _r) in current.items()}
        for state in states.values():
            if state.dirty and state.record_id is not None:
                state.dirty = state.hash != stored_hash[state.record_id]
        refused = {t for t, st in states.items() if st.record_id is not None and st.dirty and not can_update}
        main_name = plan.sheet.name
        previous: dict[str, tuple[int, str]] = {}  # target -> (row number, hash) of its last accepted row so far
        for r, item in zip(rows, accepted, strict=True):
            if item is not None and item[1] in refused:
                r.problems.error("", _("This row would change a record already stored, which you may not do here."))
                item = None
            if item is None:
                where, reason = self._locate(r.problems, plan, r)
                report.add(RowResult(where[0] or main_name, r.number, REJECTED, where[1], reason))
                continue
            _i, target, h, values = item
            state = states[target]
            before = previous.get(target)
            if state.record_id is not None and not state.dirty:
                outcome, reason = DUPLICATE, _("Already imported: the stored record matches this file.")
            elif before is not None:
                outcome = DUPLICATE if h == before[1] else UPDATED
                reason = (_("Same record and content as row {n}.") if outcome == DUPLICATE else
                          _("Same record as row {n}; this row's content replaces it.")).format(n=before[0])
            elif state.record_id is None:
                outcome, reason = IMPORTED, ""
            elif h == stored_hash.get(state.record_id):
                outcome, reason = DUPLICATE, _("Already stored with the same content.")
            else:
                outcome, reason = UPDATED, _("Updates the record already stored.")
            previous[target] = (r.number, h)
            result = RowResult(main_name, r.number, outcome, "", reason)
            state.results.append(result)
            report.add(result, values.get(form.category_field) if form.category_field else None)
        for target in refused:
            del states[target]
        self._write(states, known, progress)

    def _write(self, states: dict[str, State], known: dict[str, tuple[str, str]], progress) -> None:
        new = [s for s in states.values() if s.record_id is None]
        changed = [s for s in states.values() if s.record_id is not None and s.dirty]
        for s in (*new, *changed):
            s.checked.change.fts = self.form.search_text(s.checked.values)
        total, done = len(new) + len(changed), 0
        for start in range(0, len(new), WRITE_BATCH):
            batch = new[start:start + WRITE_BATCH]
            progress(done, total, _("Saving records…"))
            for s, rec in zip(batch, self.svc.create_many([s.checked for s in batch], agency_id=self.agency),
                              strict=True):
                s.record_id = rec
            done += len(batch)
        for start in range(0, len(changed), WRITE_BATCH):
            batch = changed[start:start + WRITE_BATCH]
            progress(done, total, _("Saving records…"))
            self.svc.update_many([(s.record_id, s.checked) for s in batch])
            done += len(batch)
        progress(total, total, _("Saving records…"))
        upserts = []
        for s in states.values():
            for result in s.results:
                result.record_id = s.record_id
            upserts.extend((self.form.name, self.agency, key, s.record_id, s.hash) for key in sorted(s.keys)
                           if known.get(key) != (s.record_id, s.hash))
        if upserts:
            self.s.db.executemany(
                "INSERT INTO import_keys(form, agency_id, key, record_id, content_hash) VALUES (?,?,?,?,?) "
                "ON CONFLICT(form, agency_id, key) DO UPDATE SET record_id = excluded.record_id, "
                "content_hash = excluded.content_hash", upserts)

    def _locate(self, problems: Problems, plan: Plan, r: Row) -> tuple[tuple[str, str], str]:
        """The sheet, column and reason for a rejected row (all its problems, the first one's place)."""
        items = [(where, m) for where, ms in problems.errors.items() for m in ms]
        places, reasons = [], []
        for where, message in items[:5]:
            m = re.match(r"^(\w+)\[(\d+)\](?:\.(\w+))?$", where)
            if m and m.group(1) in plan.children:
                child = plan.children[m.group(1)]
                numbers = r.children.get(m.group(1), [])
                idx = int(m.group(2))
                row_text = _("{sheet} row {row}").format(sheet=child.sheet.name, row=numbers[idx]) \
                    if idx < len(numbers) else child.sheet.name
                col = next((s.where for s in child.sources if s.key == f"{m.group(1)}.{m.group(3)}"), "") \
                    if m.group(3) else ""
                places.append(f"{row_text}, {col}" if col else row_text)
            elif m:
                places.append(plan.where(f"{m.group(1)}.{m.group(3)}") if m.group(3) else plan.where(m.group(1)))
            else:
                places.append(self._where_field(plan, where))
            reasons.append(message)
        if len(items) > 5:
            reasons.append(_("…and {n} more problems.").format(n=len(items) - 5))
        return ("", "; ".join(p for p in dict.fromkeys(places) if p)), " ".join(reasons)

    def _where_field(self, plan: Plan, name: str) -> str:
        if not name:
            return ""
        if name in plan.children:
            return plan.children[name].sheet.name
        f = self.form.by_name.get(name)
        if f is not None and f.kind == PLACE:
            found = [plan.where(key) for key, _lab in f.parts() if plan.where(key)]
            return ", ".join(found) or f.label.text()
        return plan.where(name) or (self.form.label_of(name) if name in self.form.all_field_names() else name)


def import_file(session, form_name: str, path: Path, mapping: Mapping | None = None, agency_id: str | None = None,
                token=None, write_report: bool = True) -> ImportReport:
    """Import ``path`` into ``form_name``; see the module docstring for what happens to each row."""
    with collection_paused():  # every row is held until written: see bulkwork.py
        return Importer(session, form_name, agency_id).run(Path(path), mapping, token, write_report)

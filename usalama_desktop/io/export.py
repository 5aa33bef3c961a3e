"""Export records to .xlsx or .csv with the list's filters, through the record service (role, row scope and field
tiers apply), audited with counts and filters, never values.

Narratives and other local-only fields stay out unless the user ticks "include narratives" (``include_local``): a
clerk who exports the register to work on it in Excel usually does not mean to carry survivors' accounts on a USB
stick. The choice is recorded in the audit trail as the user's consent. An .xlsx export has the same layout as the
template (so it imports back, updating the same records); a CSV export writes the main table and one file per
repeat group beside it.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsalamaError
from ..forms.choices import get as get_list
from ..forms.definition import Form
from ..forms.fields import CHOICE, MULTI, PLACE, TIME, YESNO
from ..fsutil import atomic_writer
from ..i18n import _, current_language, language
from ..services.records import Query, RecordService
from .layout import RECORD_ID, RECORD_LINK, Column, SheetLayout, column_letter, layout, sheet_title
from .tabular import guard

FORMATS = ("xlsx", "csv")


@dataclass
class ExportResult:
    paths: list[Path]
    records: int
    repeat_rows: dict[str, int] = field(default_factory=dict)


class CellRenderer:
    """Stored values -> what a person reads in a cell (labels in the export's language), cached per value."""

    def __init__(self, lang: str, agency_name: Callable[[str], str]):
        self.lang = lang
        self.agency_name = agency_name
        self._cache: dict[tuple[str, Any], Any] = {}
        with language(lang):
            self.yes, self.no = _("Yes"), _("No")

    def __call__(self, column: Column, values: dict[str, Any], spine: dict[str, Any] | None) -> Any:
        f = column.field
        if f is None:
            if column.key == RECORD_ID:
                return spine["id"] if spine else ""
            if spine is None:
                return ""
            key = column.key[1:]
            return self.agency_name(spine["agency_id"]) if key == "agency" else spine.get(key)
        name = f.name
        value = values.get(name)
        if value is None:
            return None
        if f.kind == PLACE:
            part = value.get(column.part)
            if part and column.part == "county":
                return get_list("counties").label(part, self.lang)
            return part
        if f.kind == YESNO:
            return self.yes if value else self.no
        if f.kind in (CHOICE, MULTI, TIME):
            ck = (column.key, tuple(value) if isinstance(value, list) else value)
            if ck not in self._cache:
                self._cache[ck] = f.display(value, self.lang)
            return self._cache[ck]
        return value


def _query_detail(q: Query) -> dict[str, Any]:
    """The filters of an export for the audit trail: which ones, not the searched words (they may be a name)."""
    out: dict[str, Any] = {}
    for name in ("date_from", "date_to", "county", "subcounty", "ward"):
        if getattr(q, name):
            out[name] = getattr(q, name)
    for name in ("categories", "statuses", "agency_ids"):
        if getattr(q, name):
            out[name] = list(getattr(q, name))
    if q.text:
        out["text"] = True
    if q.equals:
        out["equals"] = sorted(q.equals)
    if q.include_deleted:
        out["include_deleted"] = True
    return out


def export_format(path: Path, fmt: str | None = None) -> str:
    fmt = (fmt or Path(path).suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise UsalamaError(_("Export to a file ending in .xlsx or .csv."))
    return fmt


def sibling_csv(path: Path, group: str) -> Path:
    path = Path(path)
    return path.with_name(f"{path.stem}-{group}{path.suffix or '.csv'}")


def export_records(session, form_name: str, path: Path, query: Query | None = None, *, fmt: str | None = None,
                   include_local: bool = False, lang: str | None = None, token=None) -> ExportResult:
    """Write the records matching ``query`` to ``path``. Returns the files written and the counts."""
    svc = RecordService(session, form_name)
    svc.require("export")
    fmt = export_format(path, fmt)
    q = query or Query()
    lang = lang or current_language()
    sheets = layout(svc.form, tiers=svc.tiers, include_local=include_local, include_derived=True, export=True)
    total = svc.count(q)
    names: dict[str, str] = {}

    def agency_name(agency_id: str) -> str:
        if agency_id not in names:
            names[agency_id] = session.agency_name(agency_id)
        return names[agency_id]

    render = CellRenderer(lang, agency_name)
    records = svc.iter_records(q)
    writer = XlsxWriter if fmt == "xlsx" else CsvWriter
    result = writer(svc.form, sheets, lang).write(Path(path), records, render, total, token)
    session.audit("records.export", svc.form.module, svc.form.name, {
        "form": svc.form.name, "format": fmt, "records": result.records, "repeat_rows": result.repeat_rows,
        "filters": _query_detail(q), "include_local": bool(include_local), "language": lang})
    return result


class _Writer:
    def __init__(self, form: Form, sheets: list[SheetLayout], lang: str):
        self.form = form
        self.sheets = sheets
        self.lang = lang

    def rows(self, records, render: CellRenderer, total: int, token, first_row: int):
        """(sheet index, cells) for every record and repeat row, in order; counts on the way."""
        main, repeats = self.sheets[0], self.sheets[1:]
        ref = self.form.reference_field
        counts = {s.key: 0 for s in repeats}
        n = 0
        for n, rec in enumerate(records, start=1):
            if token is not None and n % 500 == 1:
                token.progress(n - 1, total)
            values, spine = rec["values"], rec["spine"]
            yield 0, [render(c, values, spine) for c in main.columns]
            link = values.get(ref) if ref else None
            link = link if link not in (None, "") else f"#{first_row + n - 1}"
            for i, sheet in enumerate(repeats, start=1):
                for row in values.get(sheet.key) or []:
                    counts[sheet.key] += 1
                    yield i, [link if c.key == RECORD_LINK else render(c, row, None) for c in sheet.columns]
        self.records, self.counts = n, counts


class XlsxWriter(_Writer):
    """openpyxl's write-only workbook, with its scratch files kept beside the export (never in the shared temp
    folder, where record values would otherwise pass through)."""

    def write(self, path: Path, records, render, total, token) -> ExportResult:
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font
        from openpyxl.worksheet import _writer as sheet_writer

        wb = Workbook(write_only=True)
        scratch = []
        titles: list[str] = []
        sheets = []
        try:
            def new_sheet(title: str):
                ws = wb.create_sheet(title)
                fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
                os.close(fd)
                scratch.append(name)
                sheet_writer.ALL_TEMP_FILES.append(name)
                ws._writer = sheet_writer.WorksheetWriter(ws, out=name)  # scratch beside the export, not in /tmp
                ws._writer.write_top()
                return ws

            for s in self.sheets:
                title = sheet_title(s.title, self.lang, titles)
                titles.append(title)
                ws = new_sheet(title)
                ws.row_dimensions[2].hidden = True
                for i, c in enumerate(s.columns):
                    ws.column_dimensions[column_letter(i)].width = max(12, min(36, len(c.label.text(self.lang)) + 2))
                ws.freeze_panes = "A3"
                bold = Font(bold=True)
                ws.append([_head(ws, WriteOnlyCell, bold, c.label.text(self.lang)) for c in s.columns])
                ws.append([c.key for c in s.columns])
                sheets.append(ws)
            for index, cells in self.rows(records, render, total, token, 3):
                sheets[index].append([_safe(ws_cell, sheets[index], WriteOnlyCell) for ws_cell in cells])
            meta = new_sheet("_usalama")
            for row in (("form", self.form.name), ("language", self.lang), ("kind", "export")):
                meta.append(list(row))
            meta.sheet_state = "hidden"
            with atomic_writer(path) as f:
                wb.save(f)
        except BaseException:
            for ws in wb.worksheets:  # finish the sheets' writers before their scratch files go
                if not ws.closed:
                    with contextlib.suppress(Exception):
                        ws.close()
            raise
        finally:
            for name in scratch:
                with contextlib.suppress(OSError):
                    os.unlink(name)
                with contextlib.suppress(ValueError):
                    sheet_writer.ALL_TEMP_FILES.remove(name)
        return ExportResult([path], self.records, self.counts)


def _head(ws, cell_class, font, text: str):
    cell = cell_class(ws, value=text)
    cell.font = font
    return cell


def _safe(value: Any, ws, cell_class) -> Any:
    """A text that starts with = would become a formula in openpyxl: write it as plain text."""
    if isinstance(value, str) and value.startswith("="):
        cell = cell_class(ws, value=value)
        cell.data_type = "s"
        return cell
    return value


class CsvWriter(_Writer):
    """UTF-8 with a byte-order mark (so Excel shows Kiswahili and names right), comma separated; a text that starts
    like a formula gets an apostrophe, which our import takes off again."""

    def write(self, path: Path, records, render, total, token) -> ExportResult:
        paths = [path, *[sibling_csv(path, s.key) for s in self.sheets[1:]]]
        with contextlib.ExitStack() as stack:
            writers = []
            for p, s in zip(paths, self.sheets, strict=True):
                raw = stack.enter_context(atomic_writer(p))
                text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
                stack.callback(text.detach)
                stack.callback(text.flush)
                w = csv.writer(text, lineterminator="\r\n")
                w.writerow([c.label.text(self.lang) for c in s.columns])
                writers.append(w)
            for index, cells in self.rows(records, render, total, token, 2):
                writers[index].writerow([guard(v) if isinstance(v, str) else ("" if v is None else v)
                                         for v in cells])
        return ExportResult(paths, self.records, self.counts)

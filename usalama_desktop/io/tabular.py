"""Reading a spreadsheet or CSV file into plain rows: python-calamine for workbooks (fast), the csv module for text.

CSV files come from anywhere: the delimiter is sniffed (comma, semicolon, tab or bar), a UTF-8 or UTF-16 byte-order
mark is honoured, and a file that is not UTF-8 is read as Windows-1252 (what Excel on Windows writes), which the
import report says. Nothing is written anywhere while reading.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ImportRejected
from ..i18n import _

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
TEXT_SUFFIXES = (".csv", ".txt", ".tsv", ".tab")
MAX_BYTES = 512 * 1024 * 1024
MAX_ROWS = 2_000_000
_FORMULA_GUARD = ("'=", "'+", "'-", "'@")


@dataclass
class Sheet:
    name: str
    rows: list[list[Any]]
    visible: bool = True

    def row(self, index: int) -> list[Any]:
        return self.rows[index] if 0 <= index < len(self.rows) else []


@dataclass
class Book:
    path: Path
    kind: str  # "csv" or "workbook"
    sheets: list[Sheet]
    notes: list[str] = field(default_factory=list)

    def sheet(self, name: str) -> Sheet | None:
        for s in self.sheets:
            if s.name == name:
                return s
        lowered = name.strip().lower()
        for s in self.sheets:
            if s.name.strip().lower() == lowered:
                return s
        return None


def read_book(path: Path) -> Book:
    """Every sheet of a workbook, or the one table of a CSV file. Refuses what it cannot read with a clear message."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError:
        raise ImportRejected(_("The file {name} cannot be opened. Check that it exists and is not open in another "
                               "program.").format(name=path.name)) from None
    if size > MAX_BYTES:
        raise ImportRejected(_("The file is too large to import (more than {n} MB). Split it into smaller files.")
                             .format(n=MAX_BYTES // (1024 * 1024)))
    with path.open("rb") as f:
        head = f.read(8)
    suffix = path.suffix.lower()
    if head.startswith(b"PK") or head.startswith(b"\xd0\xcf\x11\xe0") or suffix in WORKBOOK_SUFFIXES:
        return _read_workbook(path)
    return _read_csv(path)


def _read_workbook(path: Path) -> Book:
    import python_calamine

    try:
        wb = python_calamine.CalamineWorkbook.from_path(str(path))
    except python_calamine.PasswordError:
        raise ImportRejected(_("The workbook is protected by a password. Save a copy without the password and import "
                               "that.")) from None
    except Exception:  # calamine raises several error types for a damaged or foreign file
        raise ImportRejected(_("The file {name} could not be read as a spreadsheet. Save it again from Excel as "
                               ".xlsx or as CSV and try again.").format(name=path.name)) from None
    sheets = []
    try:
        for meta in wb.sheets_metadata:
            if str(meta.typ).rsplit(".", 1)[-1] != "WorkSheet":
                continue
            rows = wb.get_sheet_by_name(meta.name).to_python(skip_empty_area=False)
            if len(rows) > MAX_ROWS:
                raise ImportRejected(_("The sheet {sheet} has more than {n} rows. Split it into smaller files.")
                                     .format(sheet=meta.name, n=MAX_ROWS))
            sheets.append(Sheet(meta.name, [_trim(r) for r in rows],
                                str(meta.visible).rsplit(".", 1)[-1] == "Visible"))
    except ImportRejected:
        raise
    except Exception:
        raise ImportRejected(_("The file {name} could not be read as a spreadsheet. Save it again from Excel as "
                               ".xlsx or as CSV and try again.").format(name=path.name)) from None
    finally:
        wb.close()
    if not sheets:
        raise ImportRejected(_("The workbook has no worksheet with data."))
    return Book(path, "workbook", sheets)


def _trim(row: list[Any]) -> list[Any]:
    """Cells as the importer wants them: blank strings for empty cells, whole floats as ints, trailing blanks gone."""
    out = []
    for v in row:
        if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
            v = int(v)
        elif isinstance(v, dt.timedelta):  # a duration-formatted cell: keep it as a time of day
            minutes = int(v.total_seconds() // 60) % (24 * 60)
            v = dt.time(minutes // 60, minutes % 60)
        out.append(v)
    while out and (out[-1] is None or out[-1] == ""):
        out.pop()
    return out


def decode(data: bytes) -> tuple[str, str]:
    """Text and the encoding used: a byte-order mark wins, then UTF-8, then Windows-1252, then Latin-1."""
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(name), name
            except UnicodeDecodeError:
                raise ImportRejected(_("The file says it is Unicode text but is damaged. Save it again and retry."))\
                    from None
    for name in ("utf-8", "cp1252", "latin-1"):
        try:
            return data.decode(name), name
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


def sniff_delimiter(text: str) -> str:
    sample = text[:65536]
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        first = sample.split("\n", 1)[0]
        counts = {d: first.count(d) for d in ",;\t|"}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def _read_csv(path: Path) -> Book:
    data = path.read_bytes()
    if b"\x00" in data[:4096] and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ImportRejected(_("The file {name} is not a spreadsheet or CSV file.").format(name=path.name))
    text, encoding = decode(data)
    notes = []
    if encoding in ("cp1252", "latin-1"):
        notes.append(_("The file is not UTF-8; it was read as Windows-1252 (Western European)."))
    delimiter = sniff_delimiter(text)
    rows = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for row in reader:
            rows.append(_trim([unguard(c) for c in row]))
            if len(rows) > MAX_ROWS:
                raise ImportRejected(_("The file has more than {n} rows. Split it into smaller files.")
                                     .format(n=MAX_ROWS))
    except csv.Error:
        raise ImportRejected(_("Row {row} of the file cannot be read as CSV (a quote is not closed, or a cell is "
                               "too long). Fix it and try again.").format(row=reader.line_num)) from None
    return Book(path, "csv", [Sheet(path.stem, rows)], notes)


def unguard(text: str) -> str:
    """Undo the apostrophe our CSV exports put before a cell that starts like a formula (=, +, -, @)."""
    return text[1:] if text.startswith(_FORMULA_GUARD) else text


def guard(text: str) -> str:
    """A text cell that starts like a formula gets an apostrophe, so a spreadsheet shows it instead of running it."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def is_blank(v: Any) -> bool:
    if v is None:
        return True
    if v.__class__ is str:
        return not v or v.isspace()  # what strip() would empty, without making a new string
    return isinstance(v, str) and not v.strip()


def all_blank(cells: Iterable[Any]) -> bool:
    """``all(is_blank(v) for v in cells)``, without a call per cell: every row of an import is tested."""
    for v in cells:
        if v is None:
            continue
        if v.__class__ is str:
            if v and not v.isspace():
                return False
        elif not is_blank(v):
            return False
    return True


def cell_text(v: Any) -> str:
    """A cell as text, for headers, value maps and content keys: dates as ISO, whole numbers without .0."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ") if (v.hour, v.minute, v.second) != (0, 0, 0) else v.date().isoformat()
    if isinstance(v, dt.date | dt.time):
        return v.isoformat()
    return str(v).strip()

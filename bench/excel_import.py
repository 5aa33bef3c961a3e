"""Importing a filled 50,000-row incident workbook into a fresh installation, beside baselines from the same run:
python-calamine reading the same file, and a raw sqlite executemany of the same number of incident rows on the same
encrypted connection (no children, search text, history or audit).

Run: .venv/bin/python bench/excel_import.py [ROWS]
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import machine, table  # noqa: E402

from usalama_desktop import clock  # noqa: E402
from usalama_desktop.config import Paths  # noqa: E402
from usalama_desktop.demo_data.observatory import incident_values  # noqa: E402
from usalama_desktop.forms.registry import get_form  # noqa: E402
from usalama_desktop.io import importer  # noqa: E402
from usalama_desktop.io.export import CellRenderer  # noqa: E402
from usalama_desktop.io.layout import RECORD_LINK, layout, sheet_title  # noqa: E402
from usalama_desktop.services.installation import Installation  # noqa: E402
from usalama_desktop.store.spine import SPINE_NAMES  # noqa: E402

ROWS = 50_000


def make_workbook(path: Path, rows: int, seed: int = 7) -> list[dict]:
    """A filled template as a clerk's workbook would be: labels, dates as text, victims and suspects on their
    sheets, every row with its own OB number."""
    from openpyxl import Workbook

    form = get_form("incident")
    sheets = layout(form)
    render = CellRenderer("en", lambda a: a)
    rng = random.Random(seed)
    end = clock.today()
    wb = Workbook(write_only=True)
    out, titles = [], []
    for s in sheets:
        titles.append(sheet_title(s.title, "en", titles))
        ws = wb.create_sheet(titles[-1])
        ws.append([c.label.en for c in s.columns])
        ws.append([c.key for c in s.columns])
        out.append(ws)
    values_list = []
    for n in range(rows):
        day = end - dt.timedelta(days=n % 365)
        values = incident_values(rng, "police_station", day, n + 1)
        values["agency_ref"] = f"OB {n + 1}/{day.month:02d}/{day.year}"
        values_list.append(values)
        out[0].append([render(c, values, None) for c in sheets[0].columns])
        for i, s in enumerate(sheets[1:], start=1):
            for row in values.get(s.key) or []:
                out[i].append([values["agency_ref"] if c.key == RECORD_LINK else render(c, row, None)
                               for c in s.columns])
    wb.save(path)
    return values_list


def calamine_read(path: Path) -> int:
    import python_calamine

    wb = python_calamine.CalamineWorkbook.from_path(str(path))
    n = sum(len(wb.get_sheet_by_name(name).to_python()) for name in wb.sheet_names)
    wb.close()
    return n


def raw_executemany(session, values_list: list[dict]) -> float:
    """The same number of incident rows, spine and columns, straight into the table; rolled back afterwards."""
    form = get_form("incident")
    spec = form.table_spec
    names = [n for n in SPINE_NAMES if n != "rid"] + spec.column_names
    rows = []
    for i, values in enumerate(values_list):
        cols = form.to_change(form.clean(values)).values
        spine = (f"bench-{i}", "agency", "inst", f"{i:016d}", "{}", 1, "bench", "now", "bench", "now", 0, None, i)
        rows.append((*spine, *[cols.get(n) for n in spec.column_names]))
    sql = f'INSERT INTO "{spec.name}" ({", ".join(f"{chr(34)}{n}{chr(34)}" for n in names)}) ' \
          f'VALUES ({", ".join("?" * len(names))})'
    conn = session.db.conn
    t = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(sql, rows)
    elapsed = time.perf_counter() - t
    conn.execute("ROLLBACK")
    return elapsed


def main(rows: int = ROWS) -> str:
    phases: dict[str, float] = {}

    def timed_method(cls, name: str, label: str):
        original = getattr(cls, name)

        def wrapper(*args, **kwargs):
            t = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                phases[label] = phases.get(label, 0.0) + time.perf_counter() - t

        setattr(cls, name, wrapper)

    timed_method(importer, "read_book", "read the workbook (calamine + cells)")
    timed_method(importer.Importer, "read_rows", "read rows into values (Form.parse)")
    timed_method(importer.Importer, "_decide_and_write", "check, decide and write")
    timed_method(importer.Importer, "_write", "write (create_many, update_many, import keys)")

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = tmp / "incidents.xlsx"
        values_list = make_workbook(path, rows)
        t = time.perf_counter()
        calamine_read(path)
        calamine = time.perf_counter() - t
        session, _key = Installation(Paths(tmp / "data")).initialise("Bench Station", "police_station", "047", "admin",
                                                                     "bench-password-1")
        raw = raw_executemany(session, values_list)
        t = time.perf_counter()
        report = importer.import_file(session, "incident", path, write_report=False)
        total = time.perf_counter() - t
        assert report.imported == rows, report.summary()
        first = dict(phases)
        phases.clear()
        t = time.perf_counter()
        again = importer.import_file(session, "incident", path, write_report=False)
        second = time.perf_counter() - t
        assert again.duplicates == rows
        session.close()
    again_check = phases["check, decide and write"]
    phases = first
    write = phases["write (create_many, update_many, import keys)"]
    table_rows = [
        (f"import {rows:,} rows (total)", total, "raw executemany", raw, "< 3 s"),
        ("  " + "read the workbook (calamine + cells)", phases["read the workbook (calamine + cells)"],
         "calamine read", calamine, ""),
        ("  " + "read rows into values (Form.parse)", phases["read rows into values (Form.parse)"], None, None, ""),
        ("  check rows (clean, validate, uniqueness, content keys)",
         phases["check, decide and write"] - write, None, None, ""),
        ("  " + "write (create_many, update_many, import keys)", write, "raw executemany", raw, ""),
        (f"import the same {rows:,} rows again (all duplicates)", second, "raw executemany", raw, ""),
        ("  check rows again (the stored records compared, nothing written)", again_check, None, None, ""),
    ]
    return table(f"Excel import ({rows:,} incidents, {sum(len(v['victims']) for v in values_list):,} victims)",
                 table_rows)


if __name__ == "__main__":
    print(f"Machine: {machine()}\n")
    print(main(int(sys.argv[1]) if len(sys.argv) > 1 else ROWS))

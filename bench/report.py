"""The monthly summary PDF (and its workbook) over 1,000,000 incidents, beside plain SQL over the same month in the
same run.

Run: .venv/bin/python bench/report.py [N]   (uses the cached installation of bench/gen_incidents.py)

"Monthly PDF" is exactly what ``usalama report monthly`` does (``reports.monthly.monthly_report``): every section's
figures, suppression for the forum's version, the A4 PDF with its charts, and the audit entry. Baselines: a plain
``SELECT count(*)`` of the month's incidents, and reading the month's rows (every column of the record table) with
plain SQL, which is what a report that loaded its rows would have to do before counting anything. Times are
medians of 3 runs after one warm-up run, which is timed too ("first run").
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, table, timed  # noqa: E402
from gen_incidents import BENCH_USER, bench_info, ensure_db  # noqa: E402

from usalama_desktop.analysis.core import month_end, shift_month  # noqa: E402
from usalama_desktop.services.installation import Installation  # noqa: E402

REPEAT = 3


def main(n: int = 1_000_000) -> str:
    paths, password = ensure_db(n, log=lambda *a: print(*a, file=sys.stderr, flush=True))
    info = bench_info(paths)
    session = Installation(paths).login(BENCH_USER, password)
    try:
        with tempfile.TemporaryDirectory(prefix="usalama-bench-report-") as folder:
            return _measure(session, info, Path(folder))
    finally:
        session.close()


def _measure(session, info: dict, folder: Path) -> str:
    from usalama_desktop.reports.monthly import monthly_report

    month = shift_month(info["last_day"][:7], -1)  # the last full month of the data
    lo, hi = f"{month}-01", month_end(month)
    db = session.db
    where = "FROM incident WHERE deleted = 0 AND occurred_on >= ? AND occurred_on <= ?"
    count, in_month = timed(lambda: db.scalar(f"SELECT count(*) {where}", (lo, hi)), REPEAT)
    load_rows, _rows = timed(lambda: len(db.query(f"SELECT * {where}", (lo, hi))), REPEAT)

    def report(**kw):
        return monthly_report(session, month, out=folder / "monthly.pdf", **kw)

    first, result = timed(report)
    rows = [
        ("plain SELECT count(*) of the month", count, None, None, ""),
        ("plain SQL reading the month's rows (every column)", load_rows, "count(*)", count, ""),
        ("first monthly PDF after login (imports, cold cache)", first, "rows", load_rows, "< 3 s"),
    ]
    for name, kw in (("monthly PDF, team, all agencies", {}),
                     ("monthly PDF, forum (suppressed), all agencies", {"audience": "forum"}),
                     ("monthly PDF, Kiswahili", {"lang": "sw"}),
                     ("monthly PDF and workbook", {"xlsx": folder / "monthly.xlsx"}),
                     ("monthly PDF, the current month so far", None)):
        if kw is None:
            current = info["last_day"][:7]
            secs, _r = timed(lambda c=current: monthly_report(session, c, out=folder / "now.pdf"), REPEAT)
        else:
            secs, _r = timed(lambda kw=kw: report(**kw), REPEAT)
        rows.append((name, secs, "rows", load_rows, "< 3 s"))
    load = open("/proc/loadavg", encoding="utf-8").read().split()[0] if Path("/proc/loadavg").exists() else "?"
    title = (f"Monthly summary over {info['n']:,} incidents ({in_month:,} in {month}; {result.pages} pages; "
             f"median of {REPEAT}; load average {load} on the machine when it started)")
    return table(title, rows)


if __name__ == "__main__":
    count = int(sys.argv[1].replace(",", "").replace("_", "")) if len(sys.argv) > 1 else 1_000_000
    started = time.perf_counter()
    print(f"Machine: {machine()}\n")
    print(main(count))
    print(f"\n(took {time.perf_counter() - started:.0f} s)")

"""The observatory dashboard's figures for a year over 1,000,000 incidents, beside plain SQL over the same rows in
the same run.

Run: .venv/bin/python bench/dashboard.py [N]   (builds the cached installation first if needed; see gen_incidents)

The year is the twelve months ending on the data's last day. "All figures" is exactly what the dashboard page
computes (``analysis.observatory.dashboard``): headline, crime clock, crime chart by month and agency, crime graph
(24 months: the year and the one before), places. Times are medians of 5 runs after one warm-up run, which is
timed too ("first run": pandas imported, caches cold).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, table, timed  # noqa: E402
from gen_incidents import BENCH_USER, bench_info, ensure_db  # noqa: E402

from usalama_desktop.analysis import Filter  # noqa: E402
from usalama_desktop.analysis.core import shift_month  # noqa: E402
from usalama_desktop.services.installation import Installation  # noqa: E402

REPEAT = 5


def main(n: int = 1_000_000) -> str:
    paths, password = ensure_db(n, log=lambda *a: print(*a, file=sys.stderr, flush=True))
    info = bench_info(paths)
    started = time.perf_counter()
    session = Installation(paths).login(BENCH_USER, password)
    login = time.perf_counter() - started
    try:
        return _measure(session, info, login)
    finally:
        session.close()


def _measure(session, info: dict, login: float) -> str:
    from usalama_desktop.analysis import observatory as obs

    last = info["last_day"]
    year = Filter(f"{shift_month(last[:7], -11)}-01", last)
    month = Filter(f"{last[:7]}-01", last)
    db = session.db
    lo, hi = year.date_from[:7], f"{shift_month(last[:7], 1)}"
    plain = 'FROM incident WHERE deleted = 0 AND occurred_on >= ? AND occurred_on < ?'

    first, _result = timed(lambda: obs.dashboard(session, year))
    baseline_count, rows_in_year = timed(lambda: db.scalar(f"SELECT count(*) {plain}", (lo, hi)), REPEAT)
    baseline_group, _g = timed(lambda: db.query(f"SELECT offence_category, count(*) {plain} GROUP BY 1", (lo, hi)),
                               REPEAT)
    an = obs.incidents(session)
    agency = info["agencies"][0]
    figures = [
        ("all dashboard figures, a year", lambda: obs.dashboard(session, year), "< 500 ms"),
        ("  crime clock", lambda: obs.crime_clock(an, year), ""),
        ("  crime chart (category x month x agency)", lambda: obs.crime_chart(an, year), ""),
        ("  crime graph (24 months)", lambda: obs.crime_graph(an, year), ""),
        ("  headline (13 months)", lambda: obs.headline(an, year), ""),
        ("  places (ward, village)", lambda: obs.top_places(an, year), ""),
        ("all dashboard figures, a year, one agency",
         lambda: obs.dashboard(session, Filter(year.date_from, year.date_to, agency_ids=(agency,))), "< 500 ms"),
        ("all dashboard figures, a year, one category",
         lambda: obs.dashboard(session, Filter(year.date_from, year.date_to, categories=("stealing",))), "< 500 ms"),
        ("all dashboard figures, a year, one ward",
         lambda: obs.dashboard(session, Filter(year.date_from, year.date_to, ward="Kawangware")), "< 500 ms"),
        ("who is affected (victims, perpetrators, GBV), a month", lambda: obs.who_is_affected(an, month), ""),
        ("who is affected, a year", lambda: obs.who_is_affected(an, year), ""),
    ]
    rows = [("plain SELECT count(*) over the year", baseline_count, None, None, ""),
            ("plain GROUP BY category over the year", baseline_group, "count(*)", baseline_count, ""),
            ("first dashboard run after login (pandas import, cold cache)", first, "count(*)", baseline_count, "")]
    for name, fn, target in figures:
        secs, _r = timed(fn, REPEAT)
        rows.append((name, secs, "count(*)", baseline_count, target))
    title = (f"Observatory dashboard over {info['n']:,} incidents ({rows_in_year:,} in the year "
             f"{year.date_from} to {year.date_to}; median of {REPEAT}; login {login:.1f} s)")
    return table(title, rows)


if __name__ == "__main__":
    count = int(sys.argv[1].replace(",", "").replace("_", "")) if len(sys.argv) > 1 else 1_000_000
    print(f"Machine: {machine()}\n")
    print(main(count))

"""The observatory dashboard's figures for a year over 1,000,000 incidents, beside plain SQL over the same rows in
the same run.

Run: .venv/bin/python bench/dashboard.py [N]   (builds the cached installation first if needed; see gen_incidents)

The year is the twelve months ending on the data's last day. "All figures" is exactly what the dashboard page
computes (``analysis.observatory.dashboard``): headline, crime clock, crime chart by month and agency, crime graph
(24 months: the year and the one before), places. Times are medians of 5 runs after one warm-up run, which is
timed too ("first run": pandas imported, caches cold). Everything runs twice: with the page cache the program
opens the database with (store/db.py CACHE_KIB) and with four times that, since the figures' index slices for a
year of a million incidents (~130 MiB) do not fit the default cache and are decrypted again on every run.
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
    from usalama_desktop.store.db import CACHE_KIB

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
    rows = [("plain SELECT count(*) over the year", baseline_count, None, None, ""),
            ("plain GROUP BY category over the year", baseline_group, "count(*)", baseline_count, ""),
            ("first dashboard run after login (pandas import, cold cache)", first, "count(*)", baseline_count, "")]
    for cache_kib in (CACHE_KIB, 4 * CACHE_KIB):
        db.execute(f"PRAGMA cache_size = -{cache_kib}")
        timed(lambda: obs.dashboard(session, year))  # fill the cache at this size
        cache = f"[cache {cache_kib // 1024} MiB]"
        figures = [
            (f"{cache} all dashboard figures, a year", lambda: obs.dashboard(session, year), "< 500 ms"),
            (f"{cache}   crime clock", lambda: obs.crime_clock(an, year), ""),
            (f"{cache}   crime chart (category x month, category x agency)", lambda: obs.crime_chart(an, year), ""),
            (f"{cache}   crime graph (24 months)", lambda: obs.crime_graph(an, year), ""),
            (f"{cache}   headline (13 months)", lambda: obs.headline(an, year), ""),
            (f"{cache}   places (ward, village)", lambda: obs.top_places(an, year), ""),
            (f"{cache} all dashboard figures, a year, one agency",
             lambda: obs.dashboard(session, Filter(year.date_from, year.date_to, agency_ids=(agency,))), "< 500 ms"),
            (f"{cache} all dashboard figures, a year, one category",
             lambda: obs.dashboard(session, Filter(year.date_from, year.date_to, categories=("stealing",))),
             "< 500 ms"),
            (f"{cache} all dashboard figures, a year, one ward",
             lambda: obs.dashboard(session, Filter(year.date_from, year.date_to, ward="Kawangware")), "< 500 ms"),
            (f"{cache} who is affected (victims, perpetrators, GBV), a month",
             lambda: obs.who_is_affected(an, month), ""),
        ]
        for name, fn, target in figures:
            secs, _r = timed(fn, REPEAT)
            rows.append((name, secs, "count(*)", baseline_count, target))
    db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    load = open("/proc/loadavg", encoding="utf-8").read().split()[0] if Path("/proc/loadavg").exists() else "?"
    title = (f"Observatory dashboard over {info['n']:,} incidents ({rows_in_year:,} in the year "
             f"{year.date_from} to {year.date_to}; median of {REPEAT}; login {login:.1f} s; load average {load} "
             f"on the machine when it started)")
    return table(title, rows)


if __name__ == "__main__":
    count = int(sys.argv[1].replace(",", "").replace("_", "")) if len(sys.argv) > 1 else 1_000_000
    print(f"Machine: {machine()}\n")
    print(main(count))

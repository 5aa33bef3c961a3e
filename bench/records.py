"""Record lists, search and saving at 1,000,000 incidents, beside plain SQL measured in the same run.

Run: .venv/bin/python bench/records.py [N]   (builds the cached installation first if needed; see gen_incidents)

"First page" is what the records list asks for when it opens (RecordService.page: role scope, tombstones, keyset
order by date); "filtered" adds a category and a three-month period; "search" runs the full-text index through the
same service for a rare word (a reference number) and a common one (a ward); "save" is RecordService.create of one
incident (validation, uniqueness check, spine, revision, search index, audit, commit with synchronous=FULL).
Medians of many runs; the baselines are plain SELECTs on the same table and a bare INSERT + COMMIT.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, table, timed  # noqa: E402
from gen_incidents import BENCH_USER, bench_info, ensure_db  # noqa: E402

from usalama_desktop.services.installation import Installation  # noqa: E402
from usalama_desktop.services.records import Query, RecordService  # noqa: E402

REPEAT = 21
SAVES = 101


def _median(fn, repeat=REPEAT):
    fn()  # warm the cache once, as a clerk's second look would be
    return timed(fn, repeat)[0]


def main(n: int = 1_000_000) -> str:
    paths, password = ensure_db(n, log=lambda *a: print(*a, file=sys.stderr, flush=True))
    info = bench_info(paths)
    session = Installation(paths).login(BENCH_USER, password)
    try:
        return _measure(session, info, n)
    finally:
        session.close()


def _measure(session, info, n) -> str:
    svc = RecordService(session, "incident")
    db = session.db
    last = info["last_day"]
    first_month = f"{int(last[:4]) - 1}{last[4:7]}"
    cols = ", ".join(svc._select_columns().split(", "))
    plain_first = _median(lambda: db.query(
        f"SELECT {cols} FROM incident ORDER BY occurred_on DESC, rid DESC LIMIT 100"))
    first = _median(lambda: svc.page(Query()))
    second_key = svc.page(Query()).next_key
    second = _median(lambda: svc.page(Query(), after=second_key))
    q = Query(categories=["robbery"], date_from=f"{first_month}-01", date_to=f"{first_month}-28")
    q_month = first_month
    plain_filtered = _median(lambda: db.query(
        f"SELECT {cols} FROM incident WHERE offence_category = 'robbery' AND occurred_on >= ? AND occurred_on < ? "
        "AND deleted = 0 ORDER BY occurred_on DESC, rid DESC LIMIT 100", (q_month, f"{q_month}-29")))
    filtered = _median(lambda: svc.page(q))
    ref = db.scalar("SELECT agency_ref FROM incident WHERE rid = ?", (n // 2,))
    plain_fts = _median(lambda: db.query(
        "SELECT rowid FROM incident_search_fts WHERE incident_search_fts MATCH ? ORDER BY rowid DESC LIMIT 100",
        ('"' + ref.split()[1].split("/")[0] + '"',)))
    search_rare = _median(lambda: svc.search(ref))
    search_common = _median(lambda: svc.search("Kawangware"))
    count_all = _median(lambda: svc.count(), repeat=5)

    values = {
        "occurred_on": last, "occurred_time": "20:15", "reported_on": last,
        "place": {"county": "047", "subcounty": "Dagoretti North", "ward": "Kilimani", "village": "Yaya Centre"},
        "offence_category": "stealing", "status": "open", "victim_count": 1,
        "victims": [{"sex": "female", "age_band": "25-34"}], "narrative": "bench record",
    }
    saves = []
    for i in range(SAVES):
        v = dict(values, agency_ref=f"BENCH {i}/{time.time_ns()}")
        t = time.perf_counter()
        svc.create(v)
        saves.append(time.perf_counter() - t)
    raw = []
    db.execute("CREATE TABLE IF NOT EXISTS bench_raw(a TEXT, b TEXT, c INTEGER)")
    for i in range(SAVES):
        t = time.perf_counter()
        with db.transaction():
            db.execute("INSERT INTO bench_raw VALUES (?, ?, ?)", (f"x{i}", "y", i))
        raw.append(time.perf_counter() - t)
    db.execute("DROP TABLE bench_raw")
    rows = [
        ("list: first page (100 rows)", first, "plain SELECT … LIMIT 100", plain_first, "< 50 ms"),
        ("list: next page (keyset)", second, "plain SELECT … LIMIT 100", plain_first, ""),
        ("list: robbery in one month", filtered, "plain filtered SELECT", plain_filtered, "< 50 ms"),
        ("search: a reference number", search_rare, "plain FTS MATCH", plain_fts, "< 200 ms"),
        ("search: a ward name (common word)", search_common, "plain FTS MATCH", plain_fts, "< 200 ms"),
        ("count of all records (background)", count_all, None, None, ""),
        ("save one incident (median of 101)", statistics.median(saves), "INSERT + COMMIT",
         statistics.median(raw), "< 20 ms"),
    ]
    return table(f"Records at {n:,} incidents", rows)


if __name__ == "__main__":
    count = int(sys.argv[1].replace(",", "").replace("_", "")) if len(sys.argv) > 1 else 1_000_000
    print(f"Machine: {machine()}\n")
    print(main(count))

"""A large encrypted installation of realistic incidents for benchmarks, built once and cached under bench/out/.

    .venv/bin/python bench/gen_incidents.py [N]      # default 1,000,000; prints where it is and how long it took

Other bench scripts import it: ``paths, password = ensure_db(1_000_000)`` then
``Installation(paths).login(BENCH_USER, password)``; ``bench_info(paths)`` tells the period the data covers.

The values come from the demo generator (``incident_values``): the offence mix, times of day, places, victims and
perpetrators of Kenyan registers, spread over three years and twelve agencies, busier on weekends and in December,
with a little growth from year to year. About 2% of dates are month-only and 3% of times blank, as in real
registers. Records go in through the bulk path (``RecordWriter.create_many`` in batches, each batch one
transaction) after the form's ``clean`` and ``to_change``; per-record ``validate`` is skipped for speed (the
generator's values pass it: ``tests`` run the same generator through the validating service).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from usalama_desktop import clock  # noqa: E402
from usalama_desktop.config import Paths  # noqa: E402
from usalama_desktop.demo_data.observatory import DEMO_AGENCIES, ensure_agencies, incident_values  # noqa: E402
from usalama_desktop.forms.registry import get_form  # noqa: E402
from usalama_desktop.services.installation import Installation  # noqa: E402
from usalama_desktop.store.ids import uuid7  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
BENCH_USER = "admin"
BENCH_PASSWORD = "bench-password-1"
GENERATOR_VERSION = 1  # bump when the data's shape changes, so cached installations are rebuilt
DAYS = 3 * 365
BATCH = 2000
SEED = 2026

# Five more member agencies beside the seven of the demo forum: twelve in all.
EXTRA_AGENCIES = [
    ("Riruta Police Station (BENCH)", "police_station", 0.8),
    ("Kawangware Police Station (BENCH)", "police_station", 0.9),
    ("Kabiro AP Post (BENCH)", "ap_post", 0.3),
    ("Gatina Chief's Office (BENCH)", "chief_office", 0.25),
    ("Kileleshwa Police Station (BENCH)", "police_station", 0.6),
]


def _agencies(session) -> list[tuple[str, str, float]]:
    """(id, type, weight) for the twelve agencies, created once."""
    with session.db.transaction():
        demo = ensure_agencies(session)
        out = [(aid, kind, w) for (aid, kind), (_n, _k, w) in zip(demo, DEMO_AGENCIES, strict=True)]
        for name, kind, weight in EXTRA_AGENCIES:
            aid = uuid7()
            session.db.execute("INSERT INTO agencies(id, name, type, county, subcounty, is_local, created_at) "
                               "VALUES (?,?,?,?,?,0,?)", (aid, name, kind, "047", "Dagoretti North", clock.now_iso()))
            out.append((aid, kind, weight))
    return out


def plan(n: int, agencies: list[tuple[str, str, float]], end: dt.date, rng: random.Random) -> list[list[int]]:
    """How many incidents each agency records each day: exactly ``n`` in all (largest remainders)."""
    start = end - dt.timedelta(days=DAYS - 1)
    expected = []
    for offset in range(DAYS):
        day = start + dt.timedelta(days=offset)
        factor = (1.3 if day.weekday() >= 4 else 1.0) * (1.25 if day.month == 12 else 1.0) * (0.9 + 0.1 * offset / 365)
        expected.append([w * factor * rng.uniform(0.75, 1.25) for _aid, _kind, w in agencies])
    total = sum(map(sum, expected))
    scaled = [[e * n / total for e in row] for row in expected]
    counts = [[int(x) for x in row] for row in scaled]
    short = n - sum(map(sum, counts))
    remainders = sorted(((x - int(x), d, a) for d, row in enumerate(scaled) for a, x in enumerate(row)), reverse=True)
    for _r, d, a in remainders[:short]:
        counts[d][a] += 1
    return counts


def build(folder: Path, n: int, log=print) -> dict:
    started = time.perf_counter()
    inst = Installation(Paths(folder))
    session, _recovery = inst.initialise("Kilimani Community Safety Forum (BENCH)", "community_safety_forum", "047",
                                         BENCH_USER, BENCH_PASSWORD, subcounty="Dagoretti North", ward="Kilimani")
    try:
        rng = random.Random(SEED)
        agencies = _agencies(session)
        end = clock.today()
        counts = plan(n, agencies, end, rng)
        form = get_form("incident")
        spec = form.table_spec
        writer = session.writer
        buffers: dict[str, list] = {aid: [] for aid, _k, _w in agencies}
        serials: dict[str, int] = dict.fromkeys(buffers, 0)
        done = 0

        def flush(aid: str) -> None:
            nonlocal done
            writer.create_many(spec, buffers[aid], BENCH_USER, agency_id=aid)
            done += len(buffers[aid])
            buffers[aid] = []
            if done % 50_000 < BATCH:
                log(f"  {done:,} of {n:,} incidents ({time.perf_counter() - started:.0f} s)")

        start = end - dt.timedelta(days=DAYS - 1)
        for offset, row in enumerate(counts):
            day = start + dt.timedelta(days=offset)
            for (aid, kind, _w), k in zip(agencies, row, strict=True):
                for _ in range(k):
                    serials[aid] += 1
                    values = incident_values(rng, kind, day, serials[aid])
                    r = rng.random()
                    if r < 0.02:
                        values["occurred_on"] = values["occurred_on"][:7]  # only the month is known
                    elif r < 0.05:
                        values["occurred_time"] = None  # time left blank
                    buffers[aid].append(form.to_change(form.clean(values)))
                    if len(buffers[aid]) >= BATCH:
                        flush(aid)
        for aid in buffers:
            if buffers[aid]:
                flush(aid)
        session.db.checkpoint()
        info = {"version": GENERATOR_VERSION, "n": n, "first_day": start.isoformat(), "last_day": end.isoformat(),
                "agencies": [aid for aid, _k, _w in agencies], "seconds": round(time.perf_counter() - started, 1)}
    finally:
        session.close()
    return info


def bench_info(paths: Paths) -> dict:
    """What a cached installation holds: n, first_day, last_day, agencies, seconds it took to build."""
    return json.loads((paths.root / "bench.json").read_text(encoding="utf-8"))


def ensure_db(n: int = 1_000_000, log=print) -> tuple[Paths, str]:
    """The cached installation with ``n`` incidents (built now if missing or from an older generator)."""
    folder = OUT / f"incidents-{n}"
    marker = folder / "bench.json"
    if marker.exists():
        try:
            if json.loads(marker.read_text(encoding="utf-8")).get("version") == GENERATOR_VERSION:
                return Paths(folder), BENCH_PASSWORD
        except ValueError:
            pass
    shutil.rmtree(folder, ignore_errors=True)
    OUT.mkdir(parents=True, exist_ok=True)
    log(f"Building {n:,} incidents in {folder} (once; cached) ...")
    info = build(folder, n, log)
    marker.write_text(json.dumps(info, indent=2), encoding="utf-8")  # written last: a half-built folder has none
    log(f"Built in {info['seconds']:.0f} s.")
    return Paths(folder), BENCH_PASSWORD


if __name__ == "__main__":
    count = int(sys.argv[1].replace(",", "").replace("_", "")) if len(sys.argv) > 1 else 1_000_000
    paths, _password = ensure_db(count)
    print(json.dumps(bench_info(paths), indent=2))

"""Exchange bundles: export and import+merge of 100,000 incidents beside raw SQLCipher reads and writes of the same
rows in the same run, and the peak memory of importing a 1,000,000-record bundle.

Run: .venv/bin/python bench/bundles.py [N] [BIG]     (defaults 100,000 and 1,000,000; 0 skips either part)

* Export: ``export_bundle`` of every incident of the cached bench installation (``gen_incidents.ensure_db(N)``, a
  forum coordinator holding twelve agencies' records), written to a temporary name, renamed, read back and verified.
  Baseline: a raw ``SELECT *`` of the same rows and their repeat-group rows, through the same connection. The export
  is the median of three runs and the SELECT of six, one before and one after each export: on a shared machine the
  same SELECT took from 1.4 s to 2.3 s within minutes. (Each export's helper process reads the database with a cold
  cache of its own, as in use.)
* Import + merge: ``import_bundle`` of that bundle into a new installation (signature, hashes, decryption, every
  record validated against its form, merged, history, search index, one transaction). Baseline: raw ``executemany``
  of the same rows (record, repeat groups, search text and its full-text index) into another new installation, in
  one transaction.
* Memory: a 1,000,000-record bundle from a station (realistic incidents from the demo generator) imported in a
  child process; the figure is the child's peak resident memory (VmHWM), all of Python, SQLCipher's 64 MiB page
  cache and the libraries included. The helper process that checks a large bundle's records on the second core
  (usalama_desktop/sync/pipeline.py) has its own peak, printed beside it.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import machine, table  # noqa: E402
from gen_incidents import BENCH_PASSWORD, BENCH_USER, ensure_db  # noqa: E402

from usalama_desktop import clock  # noqa: E402
from usalama_desktop.config import Paths  # noqa: E402
from usalama_desktop.services.installation import Installation  # noqa: E402

PASSWORD = "bench-password-1"
TARGET = "<= 2x (half the raw rate or better)"
RUNS = 3  # the export and its baseline, each the median of this many runs


def _card_swap(a, b) -> None:
    from usalama_desktop.sync import keys

    ca, cb = keys.local_card(a), keys.local_card(b)
    keys.enrol(a, cb, cb["fingerprint"])
    keys.enrol(b, ca, ca["fingerprint"])


def _raw_select(db) -> tuple[float, int]:
    started = time.perf_counter()
    n = 0
    for sql in ('SELECT * FROM "incident"', 'SELECT * FROM "incident__victims"',
                'SELECT * FROM "incident__perpetrators"'):
        cur = db.execute(sql)
        while True:
            rows = cur.fetchmany(2000)
            if not rows:
                break
            n += len(rows)
    return time.perf_counter() - started, n


def _raw_insert(source_db, target_db) -> float:
    """The same rows, written raw: read outside the clock, inserted with executemany in one transaction."""
    spent = 0.0
    with target_db.transaction():
        for table_name in ("incident", "incident__victims", "incident__perpetrators", "incident_search"):
            cur = source_db.execute(f'SELECT * FROM "{table_name}"')
            cols = [d[0] for d in cur.description]
            sql = (f'INSERT INTO "{table_name}" ({", ".join(chr(34) + c + chr(34) for c in cols)}) '
                   f'VALUES ({", ".join("?" * len(cols))})')
            while True:
                rows = cur.fetchmany(2000)
                if not rows:
                    break
                batch = [tuple(r) for r in rows]
                started = time.perf_counter()
                target_db.executemany(sql, batch)
                if table_name == "incident_search":  # the full-text index, as the import writes it
                    target_db.executemany('INSERT INTO "incident_search_fts"(rowid, public, identifying, narrative) '
                                          "VALUES (?,?,?,?)", [(r[0], r[1], r[2], r[3]) for r in batch])
                spent += time.perf_counter() - started
        started = time.perf_counter()
    spent += time.perf_counter() - started  # the commit
    return spent


def _fresh(folder: Path, name: str, kind: str):
    session, _recovery = Installation(Paths(folder)).initialise(name, kind, "047", "admin", PASSWORD)
    return session


def measure_100k(n: int, work: Path) -> tuple[list, dict]:
    from usalama_desktop.sync import keys
    from usalama_desktop.sync.export import export_bundle
    from usalama_desktop.sync.importer import import_bundle

    cached, _pw = ensure_db(n, log=lambda *a: print(*a, file=sys.stderr, flush=True))
    sender_dir = work / "sender"
    shutil.copytree(cached.root, sender_dir)  # the cached installation stays as it was
    sender = Installation(Paths(sender_dir)).login(BENCH_USER, BENCH_PASSWORD)
    receiver = _fresh(work / "receiver", "Bench County Coordinator", "children_office")
    raw_target = _fresh(work / "raw", "Bench Raw Target", "children_office")
    try:
        _card_swap(sender, receiver)
        records = int(sender.db.scalar("SELECT count(*) FROM incident"))
        _raw_select(sender.db)  # warm the cache as the export will find it
        stick = work / "stick"
        stick.mkdir()
        selects, exports = [], []
        for _run in range(RUNS):  # a raw SELECT before and after each export, so a slow spell falls on both
            selects.append(_raw_select(sender.db))
            started = time.perf_counter()
            result = export_bundle(sender, stick, keys.find_peer(sender, receiver.installation_id), full=True)
            exports.append(time.perf_counter() - started)
            selects.append(_raw_select(sender.db))
        select_s, raw_rows = statistics.median(t for t, _n in selects), selects[0][1]
        export_s = statistics.median(exports)
        insert_s = _raw_insert(sender.db, raw_target.db)
        started = time.perf_counter()
        imported = import_bundle(receiver, result.path)
        import_s = time.perf_counter() - started
        assert imported.stats.new == records
        assert int(receiver.db.scalar("SELECT count(*) FROM incident_search")) == raw_target.db.scalar(
            "SELECT count(*) FROM incident_search")
        size = result.size
    finally:
        for s in (sender, receiver, raw_target):
            s.close()
    rows = [
        (f"raw SELECT of the same rows ({raw_rows:,} rows: records and repeat groups; median of {2 * RUNS})", select_s,
         None, None, ""),
        (f"export {records:,} records (bundle {size / 1e6:.1f} MB, written, read back, verified; median of {RUNS})",
         export_s,
         "raw SELECT", select_s, TARGET),
        ("raw executemany of the same rows, one transaction", insert_s, None, None, ""),
        (f"import + merge {records:,} records (checks, decrypt, validate, merge, one transaction)", import_s,
         "raw executemany", insert_s, TARGET),
    ]
    return rows, {"records": records, "export_rate": records / export_s, "import_rate": records / import_s,
                  "bundle_bytes": size}


# --- the memory run ----------------------------------------------------------------------------------------------


def _big_docs(sender, n: int, counts: dict):
    """Realistic incidents from the demo generator, as bundle lines with spines of this sender."""
    from usalama_desktop.demo_data.observatory import incident_values
    from usalama_desktop.forms.registry import get_form
    from usalama_desktop.store.ids import uuid7
    from usalama_desktop.sync import codec

    form = get_form("incident")
    rng = random.Random(2026)
    inst, agency = sender.installation_id, sender.agency.id
    start = clock.today() - dt.timedelta(days=3 * 365)
    base_ms = clock.now_ms() - 10**9
    for i in range(n):
        day = start + dt.timedelta(days=i * 3 * 365 // n)
        values = form.clean(incident_values(rng, "police_station", day, i + 1))
        values.pop("narrative", None)
        stamp = f"{base_ms + i:015d}-00000-{inst}"
        spine = {"id": uuid7(), "agency_id": agency, "installation_id": inst, "hlc": stamp,
                 "vclock": {inst: 1}, "revision": 1, "created_by": "clerk", "created_at": "2024-01-02T08:00:00.000Z",
                 "updated_by": "clerk", "updated_at": "2024-01-02T08:00:00.000Z", "deleted": False,
                 "deleted_reason": None}
        counts["incident"]["records"] += 1
        yield codec.encode(form, spine, values, "observatory")


def _peak_kib(status: str) -> int:
    try:
        for line in open(status, encoding="ascii"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:  # the process has just ended
        pass
    return 0


def _child(folder: str, bundle: str) -> None:
    from usalama_desktop.sync.importer import import_bundle

    session = Installation(Paths(folder)).login("admin", PASSWORD)
    helper_kib = [0]
    done = threading.Event()

    def watch_helper() -> None:
        # The helper's own peak (VmHWM, counted from its start), read while it runs. Not getrusage(RUSAGE_CHILDREN):
        # that counts the pages a child shares with this process between fork and exec.
        while not done.wait(0.25):
            for child in multiprocessing.active_children():
                helper_kib[0] = max(helper_kib[0], _peak_kib(f"/proc/{child.pid}/status"))

    watcher = threading.Thread(target=watch_helper, daemon=True)
    watcher.start()
    started = time.perf_counter()
    result = import_bundle(session, Path(bundle))
    seconds = time.perf_counter() - started
    done.set()
    watcher.join()
    peak_kib = _peak_kib("/proc/self/status")
    helper_kib = helper_kib[0]
    session.close()
    print(json.dumps({"records": result.stats.new, "seconds": seconds, "peak_mib": peak_kib / 1024,
                      "helper_mib": helper_kib / 1024}))


def measure_memory(big: int, work: Path) -> dict:
    from usalama_desktop.sync import keys
    from usalama_desktop.sync.export import party, write_bundle

    sender = _fresh(work / "big-sender", "Bench Big Station", "police_station")
    receiver = _fresh(work / "big-receiver", "Bench Big Coordinator", "community_safety_forum")
    try:
        _card_swap(sender, receiver)
        card = keys.local_card(receiver)
        counts = {"incident": {"records": 0, "tombstones": 0}}
        path = work / "big.usalama-bundle"
        started = time.perf_counter()
        write_bundle(path, keys.load_identity(sender.db), party(keys.local_card(sender)),
                     [(party(card), card["age_recipient"])], 1, None, [], "observatory", True,
                     _big_docs(sender, big, counts), counts, {"seq": 0, "hash": "0" * 64, "at": clock.now_iso()})
        built = time.perf_counter() - started
    finally:
        sender.close()
        receiver.close()
    out = subprocess.run([sys.executable, __file__, "--child", str(work / "big-receiver"), str(path)],
                         capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result.update(bundle_mb=path.stat().st_size / 1e6, build_seconds=built)
    return result


def main(n: int = 100_000, big: int = 1_000_000) -> str:
    work = Path(tempfile.mkdtemp(prefix="usalama-bundles-"))
    try:
        text = ""
        if n:
            rows, info = measure_100k(n, work)
            text = table(f"Exchange bundles, {info['records']:,} incidents (export {info['export_rate']:,.0f} "
                         f"records/s, import + merge {info['import_rate']:,.0f} records/s)", rows)
        if big:
            mem = measure_memory(big, work)
            text += ("\n\n" + f"### Importing a {mem['records']:,}-record bundle ({mem['bundle_mb']:.0f} MB)\n\n"
                     "| measure | value | target |\n|---|---|---|\n"
                     f"| peak resident memory of the importing process | {mem['peak_mib']:.0f} MB | < 200 MB |\n"
                     f"| peak resident memory of its record-checking helper process | {mem['helper_mib']:.0f} MB "
                     f"| |\n"
                     f"| import + merge time | {mem['seconds']:.0f} s "
                     f"({mem['records'] / mem['seconds']:,.0f} records/s) | |")
        return text
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3])
        raise SystemExit(0)
    args = [int(a.replace(",", "").replace("_", "")) for a in sys.argv[1:]]
    print(main(*args))
    print()
    print(machine())

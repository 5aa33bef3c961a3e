"""The community modules at a size a busy forum reaches in some years: scores over 100,000 feedback entries and
100,000 police ratings, survey results over 20,000 interviews, complaint ages over 5,000 complaints; and the two
imports (10,000 text messages, 5,000 KoboToolbox interviews). Baselines are plain SQL over the same rows, and plain
``executemany`` of as many rows, measured in the same run.

Run: .venv/bin/python bench/community.py [scale]   (scale 1.0 = the sizes above; 0.1 for a quick look)

The installation is built fresh in a temporary folder (records through the spine's bulk path after the form's
``clean``; the demo generators make the values). Times are medians of 3 runs; imports run once each, on new rows.
"""

from __future__ import annotations

import csv
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, table, timed  # noqa: E402

from usalama_desktop import clock  # noqa: E402
from usalama_desktop.config import Paths  # noqa: E402
from usalama_desktop.demo_data import community as demo  # noqa: E402
from usalama_desktop.forms.registry import get_form  # noqa: E402
from usalama_desktop.io.sms import phone_key  # noqa: E402
from usalama_desktop.services.installation import Installation  # noqa: E402

REPEAT = 3
PASSWORD = "bench-password-1"


def _bulk(session, form_name: str, values: list[dict], batch: int = 5000) -> None:
    form = get_form(form_name)
    for start in range(0, len(values), batch):
        changes = [form.to_change(form.clean(v)) for v in values[start:start + batch]]
        session.writer.create_many(form.table_spec, changes, session.username)


def _sms_file(path: Path, n: int, rng: random.Random) -> Path:
    header = ["Message ID", "Received", "Sender", "Keyword", "Station", "Service", "Wait (min)", "Timeliness",
              "Respect", "Fairness", "Kept informed", "Overall", "Conduct", "Bribe", "Category", "Message"]
    stations = [s[0] for s in demo.STATIONS]
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        for i in range(n):
            day = clock.today().toordinal() - rng.randrange(1, 300)
            when = f"{clock.today().fromordinal(day).isoformat()} {rng.randint(6, 22):02d}:{rng.randint(0, 59):02d}"
            sender = f"07{rng.randint(0, 99999999):08d}"
            if rng.random() < 0.8:
                w.writerow([f"BENCH-{i}", when, sender, "RATE", rng.choice(stations),
                            rng.choice(["REPORT", "OB", "P3", "BAIL", "VISIT", "CALL"]), rng.randint(1, 240),
                            *[rng.randint(1, 5) for _ in range(6)], rng.choice(["Y", "N", "N"]), "",
                            "Fictional bench message"])
            else:
                w.writerow([f"BENCH-{i}", when, sender, "COMPLAINT", rng.choice(stations), *[""] * 9,
                            rng.choice(["BRIBE", "RUDE", "REFUSED OB", "DELAY"]),
                            f"Fictional complaint; call {sender}"])
    return path


def main(scale: float = 1.0) -> str:
    folder = Path(tempfile.mkdtemp(prefix="usalama-bench-community-"))
    try:
        return _run(folder, scale)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run(folder: Path, scale: float) -> str:
    rng = random.Random(2026)
    session, _key = Installation(Paths(folder / "inst")).initialise(
        "Bench Forum", "community_safety_forum", "047", "admin", PASSWORD)
    n_feedback, n_ratings = int(100_000 * scale), int(100_000 * scale)
    n_survey, n_complaints = int(20_000 * scale), int(5_000 * scale)
    n_sms, n_kobo = int(10_000 * scale), int(5_000 * scale)
    key = phone_key(session.db)
    started = time.perf_counter()
    _bulk(session, "feedback", [demo.feedback_values(rng) for _ in range(n_feedback)])
    _bulk(session, "police_rating", [demo.rating_values(rng, key) for _ in range(n_ratings)])
    _bulk(session, "police_complaint", [demo.complaint_values(rng, i) for i in range(n_complaints)])
    from usalama_desktop.services.records import RecordService

    year_start = (clock.today().replace(day=1))
    round_id = RecordService(session, "survey_round").create({
        "round_code": "BENCH", "year": year_start.year, "area": {"county": "047"}, "status": "analysis"})
    _bulk(session, "survey_response", [demo.survey_values(rng, round_id, year_start, i) for i in range(n_survey)])
    build = time.perf_counter() - started
    try:
        return _measure(session, folder, rng, scale, build, round_id,
                        (n_feedback, n_ratings, n_survey, n_complaints, n_sms, n_kobo))
    finally:
        session.close()


def _measure(session, folder: Path, rng: random.Random, scale: float, build: float, round_id: str,
             sizes: tuple[int, ...]) -> str:
    from usalama_desktop.io.kobo import import_kobo
    from usalama_desktop.io.sms import import_sms
    from usalama_desktop.services.complaints import complaint_ages, redress_summary
    from usalama_desktop.services.scores import scores, trend
    from usalama_desktop.services.survey import ward_results

    n_feedback, n_ratings, n_survey, n_complaints, n_sms, n_kobo = sizes
    db = session.db
    plain = ("SELECT agency_type, agency_name, count(*), avg(CAST(overall AS REAL)) FROM feedback WHERE deleted = 0 "
             "GROUP BY 1, 2")
    base, _rows = timed(lambda: db.query(plain), REPEAT)
    rows = [(f"plain SQL: mean overall per agency, {n_feedback:,} feedback", base, None, None, "")]
    for name, fn, target in [
        ("scores per agency (5 ratings, money share)", lambda: scores(session, "feedback"), "< 500 ms"),
        ("scores per agency and month", lambda: scores(session, "feedback", period="month"), "< 500 ms"),
        ("trend by month, all agencies", lambda: trend(session, "feedback"), "< 500 ms"),
        (f"police scores per station and quarter ({n_ratings:,} ratings)",
         lambda: scores(session, "police_ratings", period="quarter"), "< 500 ms"),
        (f"survey results by ward with recorded incidents ({n_survey:,} interviews)",
         lambda: ward_results(session, clock.today().year), "< 500 ms"),
        (f"complaint ages ({n_complaints:,} complaints)", lambda: complaint_ages(session), "< 500 ms"),
        ("redress summary", lambda: redress_summary(session), "< 500 ms"),
    ]:
        secs, _r = timed(fn, REPEAT)
        rows.append((name, secs, "plain SQL", base, target))

    db.execute("CREATE TEMP TABLE bench_rows (a TEXT, b TEXT, c TEXT, d TEXT, e TEXT, f TEXT, g TEXT, h TEXT, "
               "i TEXT, j TEXT, k TEXT, l TEXT, m TEXT, n TEXT, o TEXT, p TEXT)")

    def executemany(n: int) -> float:
        payload = [tuple(f"value {i} {j}" for j in range(16)) for i in range(n)]

        def run():
            with db.transaction():
                db.executemany(f"INSERT INTO bench_rows VALUES ({', '.join('?' * 16)})", payload)

        return timed(run)[0]

    sms_path = _sms_file(folder / "sms.csv", n_sms, rng)
    raw = executemany(n_sms)
    rows.append((f"plain executemany of {n_sms:,} rows of 16 columns", raw, None, None, ""))
    secs, report = timed(lambda: import_sms(session, sms_path))
    rows.append((f"SMS import, {n_sms:,} messages ({report.count('imported'):,} imported)", secs, "executemany", raw,
                 "< 60 s"))

    from tests.test_kobo import SUBMISSIONS, write_export, write_xlsform

    xlsform = write_xlsform(folder / "form.xlsx")
    export = write_export(folder / "export.xlsx", [SUBMISSIONS[i % 3] for i in range(n_kobo)])
    raw = executemany(n_kobo)
    rows.append((f"plain executemany of {n_kobo:,} rows of 16 columns", raw, None, None, ""))
    secs, report = timed(lambda: import_kobo(session, export, xlsform, round_id,
                                             choice_overrides={"gender.x": "unknown"}))
    rows.append((f"KoboToolbox import, {n_kobo:,} interviews ({report.count('imported'):,} imported)", secs,
                 "executemany", raw, "< 60 s"))
    title = (f"Community modules (scale {scale:g}; built in {build:.0f} s; queries median of {REPEAT}, imports "
             "once)")
    return table(title, rows)


if __name__ == "__main__":
    result = main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
    print(result)
    print()
    print(machine())

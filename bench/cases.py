"""The case modules at a busy programme's size: one case step, the follow-ups list, the GBVIMS export and the
jurisprudence search, each beside the bare database or library work it stands on, measured in the same run.

Run: .venv/bin/python bench/cases.py [N]   (N cases per module, default 5000)
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import machine, table, timed  # noqa: E402

from usalama_desktop import clock  # noqa: E402
from usalama_desktop.config import Paths  # noqa: E402
from usalama_desktop.services.installation import Installation  # noqa: E402


def _day(n: int) -> str:
    return (clock.today() - dt.timedelta(days=n)).isoformat()


def family(i: int) -> dict:
    return {
        "case_no": f"FV/{i:05d}", "opened_on": _day(200 + i % 100), "participant_code": f"P-{i:05d}",
        "situation": ["experiencing"], "sex": "female", "age_band": "25-34", "risk_level": "medium",
        "place": {"county": "047", "subcounty": "Dagoretti North", "ward": "Kilimani"}, "caseworker_code": "CW01",
        "incidents": [{"incident_on": _day(310), "interviewed_on": _day(300), "gbv_type": "3",
                       "context": "intimate_partner", "time_of_day": "night", "location": "home",
                       "perpetrator_sex": "M", "relationship": "intimate_partner", "consent_share": True}],
        "sessions": [{"held_on": _day(150), "session_type": "individual", "next_on": _day(i % 40)},
                     {"held_on": _day(120), "session_type": "couple", "notes": "bench"}],
        "referrals": [{"referred_on": _day(140), "referred_to": "health", "result": "pending"}],
    }


def ajs(i: int) -> dict:
    return {
        "register_no": f"KEC/{i:05d}", "opened_on": _day(300), "mechanism": "elders_council", "mode": "autonomous",
        "place": {"county": "047", "ward": ["Kilimani", "Kawangware", "Gatina"][i % 3]},
        "dispute_category": ["land", "boundary", "debt_contract"][i % 3],
        "parties": [{"party_role": "claimant", "sex": "male"}, {"party_role": "respondent", "sex": "female"}],
        "hearings": [{"held_on": _day(250), "summary": "both sides heard"}], "decided_on": _day(200),
        "decision_text": ("The boundary follows the mugumo tree line. " if i % 50 == 0 else "Pay in instalments. ")
        + "Both parties agreed before the elders.", "remedies": ["reconciliation"],
    }


def main(n: int = 5000) -> str:
    from openpyxl import Workbook

    from usalama_desktop.io.gbvims_recorder import COLUMNS, export_gbvims
    from usalama_desktop.services.cases import CaseService, search_decisions

    with tempfile.TemporaryDirectory() as tmp:
        session, _key = Installation(Paths(Path(tmp) / "data")).initialise(
            "Bench Programme", "rescue_centre", "047", "admin", "bench-pass-1")
        fam = CaseService(session, "family_case")
        fam.create_many([family(i) for i in range(n)])
        CaseService(session, "ajs_case").create_many([ajs(i) for i in range(n)])
        ids = [r[0] for r in session.db.query("SELECT id FROM family_case ORDER BY rid LIMIT 60")]
        it = iter(ids)
        step, _ = timed(lambda: fam.add_session(next(it), {"session_type": "group"}), repeat=50)
        rid = ids[-1]

        def raw_update():
            with session.db.transaction():
                session.db.execute("UPDATE family_case SET risk_level = risk_level WHERE id = ?", (rid,))

        raw, _ = timed(raw_update, repeat=50)
        due, found = timed(fam.due_follow_ups, repeat=3)

        def raw_read():
            rows = session.db.query("SELECT * FROM family_case WHERE deleted = 0")
            for child in ("sessions", "referrals", "incidents", "indicators"):
                session.db.query(f'SELECT * FROM "family_case__{child}"')
            return len(rows)

        read, _ = timed(raw_read, repeat=3)
        out = Path(tmp) / "recorder.xlsx"
        export, written = timed(lambda: export_gbvims(session, out), repeat=1)

        def bare_sheet():
            wb = Workbook()
            ws = wb.active
            ws.append(list(COLUMNS))
            for _i in range(written):
                ws.append(["x"] * len(COLUMNS))
            wb.save(Path(tmp) / "bare.xlsx")

        bare, _ = timed(bare_sheet, repeat=1)
        search, hits = timed(lambda: search_decisions(session, "mugumo", categories=["land", "boundary"]), repeat=5)
        fts, _ = timed(lambda: session.db.query(
            'SELECT rowid FROM ajs_case_search_fts WHERE ajs_case_search_fts MATCH \'"mugumo"*\' LIMIT 100'), repeat=5)
        session.close()
    return table(f"Case modules, {n} cases per module ({len(found)} follow-ups due, {written} incidents, "
                 f"{len(hits)} decisions found)", [
                     ("one case step (add a session)", step, "raw UPDATE of one row", raw, "< 100 ms"),
                     ("due follow-ups, all open cases", due, "raw read of the rows and child rows", read, "< 3 s"),
                     ("GBVIMS Incident Recorder export", export, "openpyxl, same rows of constants", bare, "< 15 s"),
                     ("jurisprudence search with excerpts", search, "raw FTS match", fts, "< 300 ms"),
                 ])


if __name__ == "__main__":
    print(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000))
    print()
    print(machine())

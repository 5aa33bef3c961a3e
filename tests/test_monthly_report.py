"""The monthly summary PDF: its figures against counts made here from the records the test created, an empty
month, one agency's scope, the month in progress, the forum's suppression, Kiswahili, cancel, and the command."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, run_cli
from usalama_desktop import clock
from usalama_desktop.analysis.core import month_label, shift_month
from usalama_desktop.demo_data.observatory import incident_values
from usalama_desktop.errors import Cancelled, PermissionDenied, ValidationFailed
from usalama_desktop.forms.registry import get_form
from usalama_desktop.reports.monthly import monthly_report
from usalama_desktop.services.records import RecordService
from usalama_desktop.store.ids import uuid7

OTHER = "Kawangware Police Station (TEST)"
FORM = get_form("incident")


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def add_agency(session, name: str = OTHER) -> str:
    agency_id = uuid7()
    session.db.execute("INSERT INTO agencies(id, name, type, county, is_local, created_at) VALUES (?,?,?,?,0,?)",
                       (agency_id, name, "police_station", "047", clock.now_iso()))
    return agency_id


def report_month() -> str:
    """A finished month with room before it: two months before this one."""
    return shift_month(clock.today().isoformat()[:7], -2)


def _days(month: str, rng: random.Random, n: int) -> list[dt.date]:
    first = dt.date.fromisoformat(f"{month}-01")
    last = min(dt.date.fromisoformat(f"{shift_month(month, 1)}-01") - dt.timedelta(days=1), clock.today())
    return [first + dt.timedelta(days=rng.randrange(0, (last - first).days + 1)) for _ in range(n)]


def seed(session, other: str, months: dict[str, int], seed_no: int = 3) -> list[dict]:
    """Incidents for this agency and ``other`` in the given months; the cleaned values, tagged with the agency."""
    rng = random.Random(seed_no)
    svc = RecordService(session, "incident")
    rows: dict[str, list[dict]] = {session.agency.id: [], other: []}
    serial = 0
    for month, n in months.items():
        for day in _days(month, rng, n):
            agency = session.agency.id if rng.random() < 0.6 else other
            serial += 1
            rows[agency].append(incident_values(rng, "police_station", day, serial))
    out = []
    for agency, values in rows.items():
        if values:
            svc.create_many(values, agency_id=agency)
            out += [{**FORM.clean(v), "_agency": agency} for v in values]
    return out


def segment(text: str, title: str, end_titles: tuple[str, ...]) -> list[tuple[str, list[str]]]:
    """The rows (label, figures) of the table under ``title``, until one of ``end_titles``; page furniture and
    repeated headers are skipped."""
    start = text.index(title) + len(title)
    stop = min([i for i in (text.find(t, start) for t in end_titles) if i != -1] or [len(text)])
    out = []
    for line in text[start:stop].splitlines():
        m = re.match(r"^\s*(\S.*?)\s{2,}((?:[\d,]+|<5|x)(?:\s+(?:[\d,]+|<5|x))*)\s*$", line)
        if m and "Page" not in line:
            out.append((m.group(1).strip(), m.group(2).split()))
    return out


def as_int(cells: list[str]) -> list[int]:
    return [int(c.replace(",", "")) for c in cells]


@pytest.fixture
def seeded(env):
    admin = env.login("admin")
    other = add_agency(admin)
    month = report_month()
    values = seed(admin, other, {month: 70, shift_month(month, -1): 40, shift_month(month, -12): 25})
    return env, admin, other, month, values


def test_pdf_figures_match_counts_made_from_the_records(seeded, tmp_path):
    env, admin, other, month, values = seeded
    out = tmp_path / "team.pdf"
    result = monthly_report(admin, month, out=out)
    assert out.exists() and result.pages >= 4
    text = pdf_text(out)
    this = [v for v in values if v["occurred_on"][:7] == month]
    assert result.incidents == len(this)

    # Every page: the forum's name, the period, "Page n of N".
    pages = text.split("\f")
    for n, page in enumerate([p for p in pages if p.strip()], 1):
        assert "Kilimani Police Station" in page and month_label(month) in page
        assert f"Page {n} of {result.pages}" in page

    head = dict(segment(text, "Incidents recorded", ("Top categories",)))
    per_month = Counter(v["occurred_on"][:7] for v in values)
    assert as_int(head[f"This month ({month_label(month)})"]) == [per_month[month]]
    assert as_int(head[f"Last month ({month_label(shift_month(month, -1))})"]) == [per_month[shift_month(month, -1)]]
    assert as_int(head[f"Same month last year ({month_label(shift_month(month, -12))})"]) == [
        per_month[shift_month(month, -12)]]

    # Crime chart by agency: the other agency sorts first (Kawangware before Kilimani), then the total.
    label = FORM.by_name["offence_category"].choice_list.label
    by = Counter((v["offence_category"], v["_agency"]) for v in this)
    rows = dict(segment(text, "Incidents by category and agency", ("Crime clock",)))
    for cat in {v["offence_category"] for v in this}:
        a, b = by[(cat, other)], by[(cat, admin.agency.id)]
        assert as_int(rows[label(cat)]) == [a, b, a + b]
    assert as_int(rows["Total"])[-1] == len(this)

    # The crime clock: exact hours, and the rest apart.
    hours = Counter(int(v["occurred_time"][:2]) for v in this if v["occurred_time"] and ":" in v["occurred_time"])
    clock_rows = dict(segment(text, "Incidents by hour (exact times)", ("Incidents without an exact time",)))
    for h in range(24):
        assert as_int(clock_rows[f"{h:02d}:00-{h:02d}:59"]) == [hours[h]]
    rest = dict(segment(text, "Incidents without an exact time", ("Crime graph",)))
    assert as_int(rest["Time unknown"]) == [sum(v["occurred_time"] == "unknown" for v in this)]

    # Who is affected: victims by sex and age band, and minors.
    victims = [vic for v in this for vic in v["victims"]]
    sexes = dict(segment(text, "Victims by sex and age band", ("Victims who are minors",)))
    assert as_int(sexes["Total"])[-1] == len(victims)
    minors = dict(segment(text, "Victims who are minors", ("Perpetrators by relationship",)))
    assert as_int(minors["Minors (under 18)"]) == [sum(1 for vic in victims if vic["minor"])]

    # Places: the busiest ward.
    wards = Counter(v["place"]["ward"] for v in this)
    ward_rows = segment(text, "Wards with most incidents", ("Villages and landmarks",))
    assert as_int(ward_rows[0][1]) == [wards.most_common(1)[0][1]]
    assert {w: as_int(n)[0] for w, n in ward_rows} == {w: n for w, n in wards.items() if w in dict(ward_rows)}

    # The audit trail says a report was made, with counts only.
    row = admin.db.one("SELECT action, detail FROM audit WHERE action = 'report.monthly' ORDER BY seq DESC LIMIT 1")
    detail = json.loads(row[1])
    assert detail["audience"] == "team" and detail["month"] == month and detail["incidents"] == len(this)
    assert "Kilimani" not in row[1]


def test_a_month_without_records_says_so(seeded, tmp_path):
    _env, admin, _other, month, _values = seeded
    empty = shift_month(month, -5)
    result = monthly_report(admin, empty, out=tmp_path / "empty.pdf")
    text = pdf_text(result.path)
    assert result.incidents == 0
    assert "No incidents were recorded this month." in text
    assert "No victims were recorded this month." in text


def test_one_agency_only(seeded, tmp_path):
    env, admin, other, month, values = seeded
    mine = [v for v in values if v["occurred_on"][:7] == month and v["_agency"] == admin.agency.id]
    result = monthly_report(admin, month, out=tmp_path / "own.pdf", scope="agency")
    assert result.incidents == len(mine)
    text = pdf_text(result.path)
    assert OTHER not in text
    assert "this agency's own records only" in text
    clerk = env.login("clerk")
    with pytest.raises(PermissionDenied, match="coordinator or an administrator"):
        monthly_report(clerk, month, out=tmp_path / "all.pdf", scope="all")
    assert not (tmp_path / "all.pdf").exists()
    assert monthly_report(clerk, month, out=tmp_path / "clerk.pdf", scope="agency").incidents == len(mine)


def test_the_month_in_progress_counts_up_to_today(env, tmp_path):
    admin = env.login("admin")
    other = add_agency(admin)
    this_month = clock.today().isoformat()[:7]
    values = seed(admin, other, {this_month: 12})
    result = monthly_report(admin, this_month, out=tmp_path / "now.pdf")
    text = pdf_text(result.path)
    assert f"(up to {clock.today().isoformat()})" in text
    assert "The month is not over" in text
    assert result.incidents == len(values)


def test_bad_months_are_refused_and_leave_no_file(admin, tmp_path):
    tmp_path = tmp_path / "reports"
    tmp_path.mkdir()
    for bad in ("2026-13", "2026-1", "March", ""):
        with pytest.raises(ValidationFailed, match="YYYY-MM"):
            monthly_report(admin, bad, out=tmp_path / "bad.pdf")
    future = shift_month(clock.today().isoformat()[:7], 2)
    with pytest.raises(ValidationFailed, match="has not started"):
        monthly_report(admin, future, out=tmp_path / "bad.pdf")
    assert list(tmp_path.iterdir()) == []


class StopAfter:
    """A cancel token that stops the job at its n-th check."""

    def __init__(self, n: int):
        self.n, self.checks, self.seen = n, 0, []

    def progress(self, done, total, label):
        self.seen.append((done, total))

    def check(self):
        self.checks += 1
        if self.checks >= self.n:
            raise Cancelled("stopped")


def test_cancel_leaves_nothing_behind(seeded, tmp_path):
    _env, admin, _other, month, _values = seeded
    tmp_path = tmp_path / "reports"
    tmp_path.mkdir()
    out, book = tmp_path / "c.pdf", tmp_path / "c.xlsx"
    for n in (1, 4, 9, 10):
        with pytest.raises(Cancelled):
            monthly_report(admin, month, out=out, xlsx=book, token=StopAfter(n))
        assert list(tmp_path.iterdir()) == []
    token = StopAfter(10 ** 6)
    monthly_report(admin, month, out=out, xlsx=book, token=token)
    assert out.exists() and book.exists() and token.seen[-1] == (1, 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.pdf", "c.xlsx"]


def test_kiswahili(seeded, tmp_path):
    _env, admin, _other, month, _values = seeded
    result = monthly_report(admin, month, out=tmp_path / "sw.pdf", lang="sw")
    text = pdf_text(result.path)
    assert "Muhtasari wa mwezi" in text and "Nani anaathirika" in text
    assert f"Ukurasa 1 kati ya {result.pages}" in text
    assert "Who is affected" not in text


def test_complaints_are_left_out_at_a_police_installation(seeded, tmp_path):
    _env, admin, _other, month, _values = seeded
    text = pdf_text(monthly_report(admin, month, out=tmp_path / "p.pdf").path)
    assert "Police service delivery" in text
    assert "Complaints" not in text and "complaints" not in text.replace("No police ratings or complaints", "")


def test_the_command(seeded, tmp_path):
    env, admin, _other, month, _values = seeded
    admin.close()
    out = tmp_path / "cli.pdf"
    pw = {"USALAMA_PASSWORD": PASSWORD}
    r = run_cli("--data-dir", env.folder, "report", "monthly", "--month", month, "--out", out, "--xlsx",
                tmp_path / "cli.xlsx", "--audience", "forum", env_vars=pw)
    assert r.returncode == 0, r.stderr
    assert str(out) in r.stdout and "pages" in r.stdout
    assert out.exists() and (tmp_path / "cli.xlsx").exists()
    bad = tmp_path / "bad.pdf"
    r = run_cli("--data-dir", env.folder, "report", "monthly", "--month", "2026-13", "--out", bad, env_vars=pw)
    assert r.returncode == 1
    assert "YYYY-MM" in r.stderr and "Traceback" not in r.stderr
    assert not bad.exists() and not list(tmp_path.glob(".*tmp"))


def _peer(db, name: str, bundle_day: str | None) -> None:
    """An enrolled agency (as the exchange page records it) and, if given, the last bundle imported from it."""
    inst, agency = uuid7(), uuid7()
    db.execute("INSERT INTO sync_peers(key_id, installation_id, agency_id, agency_name, agency_type, sign_public, "
               "age_recipient, fingerprint, card, enrolled_at, enrolled_by) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
               (uuid7(), inst, agency, name, "health_facility", "pk", "age1x", "fp", "{}", clock.now_iso(), "admin"))
    if bundle_day:
        db.execute("INSERT INTO sync_incoming(bundle_id, sender, sender_agency, key_id, seq, created_at, profile, "
                   "records, applied, conflicts, imported_at, imported_by, manifest_sha256) "
                   "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                   (uuid7(), inst, agency, "k", 7, f"{bundle_day}T09:00:00Z", "standard", 10, 10, 0,
                    f"{bundle_day}T10:00:00Z", "admin", "sha"))


def test_data_sources_name_the_agencies_missing_this_month(seeded, tmp_path):
    _env, admin, _other, month, _values = seeded
    _peer(admin.db, "Riruta Health Centre (TEST)", f"{month}-20")
    _peer(admin.db, "Gatina Dispensary (TEST)", f"{shift_month(month, -1)}-28")
    _peer(admin.db, "Kabiro Clinic (TEST)", None)
    result = monthly_report(admin, month, out=tmp_path / "s.pdf")
    assert result.missing_agencies == ["Gatina Dispensary (TEST)", "Kabiro Clinic (TEST)"]
    text = pdf_text(result.path)
    assert f"{month}-20" in text and "#7" in text
    flat = " ".join(text.split())
    assert "Missing this month (no data covering" in flat and "Gatina Dispensary (TEST), Kabiro Clinic (TEST)." in flat
    own = monthly_report(admin, month, out=tmp_path / "own.pdf", scope="agency")
    assert own.missing_agencies == [] and "Riruta Health Centre" not in pdf_text(own.path)


def test_data_sources_say_how_another_agencys_records_came(seeded):
    """Records a coordinator keyed in for another agency are not "through another agency": only relayed ones are."""
    from usalama_desktop.analysis.monthly import monthly_figures

    _env, admin, other, month, _values = seeded

    def how() -> str:
        return next(s.bundle for s in monthly_figures(admin, month).sources if s.agency == "Other Agency (TEST)")

    name = admin.db.scalar("SELECT name FROM agencies WHERE id = ?", (other,))
    admin.db.execute("UPDATE agencies SET name = 'Other Agency (TEST)' WHERE id = ?", (other,))
    assert name and how() == "keyed in at this computer"
    record = admin.db.scalar("SELECT id FROM incident WHERE agency_id = ? AND occurred_on LIKE ? LIMIT 1",
                             (other, f"{month}-%"))
    with admin.db.transaction():
        admin.db.execute("INSERT INTO sync_provenance(record_id, tbl, origin_installation, origin_agency, "
                         "origin_bundle, first_via, last_via, profile) VALUES (?, 'incident', ?, ?, ?, ?, ?, "
                         "'observatory')", (record, uuid7(), other, uuid7(), uuid7(), uuid7()))
    assert how() == "through another agency"

"""The complaint register: rules, age in days, redress summary, and that police-station users never see a complaint
on any path (THREATS 43) while forum coordinators do."""

from __future__ import annotations

import datetime as dt

import pytest

from usalama_desktop import clock
from usalama_desktop.errors import PermissionDenied, ValidationFailed
from usalama_desktop.forms.registry import get_form
from usalama_desktop.services.auditing import AuditService
from usalama_desktop.services.complaints import complaint_ages, redress_summary
from usalama_desktop.services.records import Query, RecordService

from .conftest import ROLES_USERS

MARK = "ZEBRAOFFICER"


def complaint(**over):
    values = {
        "complaint_ref": "CMP 1/2024", "received_on": "2024-03-04", "channel": "in_person",
        "complaint_type": "bribery", "what_happened": f"Asked for 500 shillings by {MARK} at the desk.",
        "station": "Kilimani Police Station", "occurred_on": "2024-03-02",
        "place": {"county": "047", "ward": "Kilimani"}, "officers_known": "yes",
        "officer_details": f"Constable {MARK}, service no. 12345", "complainant_name": f"Wanjiru {MARK}",
        "status": "received",
    }
    values.update(over)
    return values


def forwarded(to="ocs", on="2024-03-05", **over):
    row = {"to": to, "forwarded_on": on}
    row.update(over)
    return row


# --- the form's rules ----------------------------------------------------------------------------------------


def test_a_complaint_moves_from_received_to_resolved_with_its_history(make_env):
    s = make_env("community_safety_forum").login("coordinator")
    svc = RecordService(s, "police_complaint")
    rid = svc.create(complaint())
    values = svc.get(rid)["values"]
    svc.update(rid, {**values, "status": "forwarded", "forwarded": [forwarded()]})
    svc.update(rid, {**svc.get(rid)["values"], "status": "resolved", "outcome": "apology",
                     "closed_on": "2024-04-01"})
    history = svc.history(rid)
    assert [h["revision"] for h in history] == [1, 2, 3]
    assert {c["field"] for c in history[1]["changes"]} == {"status", "forwarded"}
    assert {c["field"] for c in history[2]["changes"]} >= {"status", "outcome", "closed_on"}


@pytest.mark.parametrize(("change", "where"), [
    ({"status": "forwarded"}, "status"),  # forwarded to no one
    ({"status": "resolved"}, "outcome"),  # resolved without an outcome and a date
    ({"status": "resolved", "outcome": "apology", "closed_on": "2024-03-01"}, "closed_on"),  # closed before received
    ({"forwarded": [forwarded(on="2024-03-01")]}, "forwarded[0].forwarded_on"),
    ({"forwarded": [forwarded(response_on="2024-03-04")]}, "forwarded[0].response_on"),
    ({"forwarded": [forwarded(to="other")]}, "forwarded[0].to_other"),
    ({"occurred_on": "2024-03-09"}, "received_on"),
    ({"complaint_type": "not a type"}, "complaint_type"),
])
def test_bad_complaints_are_refused_with_the_field_named_and_nothing_written(make_env, change, where):
    s = make_env("community_safety_forum").login("coordinator")
    svc = RecordService(s, "police_complaint")
    with pytest.raises(ValidationFailed) as exc:
        svc.create(complaint(**change))
    assert where in exc.value.problems
    assert svc.count() == 0
    assert MARK not in str(exc.value)


def test_skip_logic_clears_officer_details_when_officers_are_not_known(make_env):
    s = make_env("community_safety_forum").login("coordinator")
    svc = RecordService(s, "police_complaint")
    rid = svc.create(complaint(officers_known="no"))
    assert svc.get(rid)["values"]["officer_details"] is None


def test_the_complaint_number_is_unique_per_agency(make_env):
    s = make_env("community_safety_forum").login("clerk")
    svc = RecordService(s, "police_complaint")
    svc.create(complaint())
    with pytest.raises(ValidationFailed) as exc:
        svc.create(complaint())
    assert "complaint_ref" in exc.value.problems


# --- age in days and slow redress ------------------------------------------------------------------------------


def test_age_in_days_is_computed_when_asked_never_stored(make_env):
    s = make_env("community_safety_forum").login("coordinator")
    svc = RecordService(s, "police_complaint")
    open_id = svc.create(complaint(complaint_ref="A", received_on="2024-01-01", occurred_on=None,
                                   status="forwarded", forwarded=[forwarded(on="2024-01-03"),
                                                                  forwarded("ipoa", "2024-02-01")]))
    closed_id = svc.create(complaint(complaint_ref="B", received_on="2024-01-10", occurred_on=None,
                                     status="resolved", outcome="disciplined", closed_on="2024-02-19"))
    svc.create(complaint(complaint_ref="C", received_on="2024-03-30", occurred_on=None))
    assert not any("days" in c.name for c in get_form("police_complaint").table_spec.columns)
    ages = {a.id: a for a in complaint_ages(s, as_of=dt.date(2024, 4, 1))}
    assert ages[open_id].age_days == 91 and ages[open_id].is_open
    assert ages[open_id].forwarded_to == ("ocs", "ipoa") and ages[open_id].last_forwarded_on == "2024-02-01"
    assert ages[closed_id].age_days == 40 and not ages[closed_id].is_open
    # A day later the open complaint is a day older; the closed one is not.
    later = {a.id: a.age_days for a in complaint_ages(s, as_of=dt.date(2024, 4, 2))}
    assert later[open_id] == 92 and later[closed_id] == 40
    assert [a.complaint_ref for a in complaint_ages(s, as_of=dt.date(2024, 4, 1), open_only=True)] == ["A", "C"]
    summary = redress_summary(s, as_of=dt.date(2024, 4, 1))
    assert summary.total == 3 and summary.open == 2 and summary.open_over == {30: 1, 90: 1}
    assert summary.median_days_to_close == 40 and summary.median_open_age == (91 + 2) / 2
    assert summary.forwarded == {"ocs": 1, "ipoa": 1}
    assert summary.oldest_open.complaint_ref == "A"
    assert redress_summary(s, Query(date_from="2024-03-01"), as_of=dt.date(2024, 4, 1)).total == 1


def test_age_uses_today_by_default(make_env):
    s = make_env("community_safety_forum").login("coordinator")
    today = clock.today()
    RecordService(s, "police_complaint").create(complaint(received_on=(today - dt.timedelta(days=12)).isoformat(),
                                                          occurred_on=None))
    assert complaint_ages(s)[0].age_days == 12


# --- never visible at a police station or post (THREATS 43) ------------------------------------------------------


def _arrived_complaint(session) -> str:
    """A complaint written straight through the spine, as if it had reached this installation some other way:
    the paths below must hide it even then."""
    form = get_form("police_complaint")
    values = form.clean(complaint(forwarded=[forwarded()], status="forwarded"))
    with session.db.transaction():
        return session.writer.create(form.table_spec, form.to_change(values), "sync")


@pytest.mark.parametrize("agency_type", ["police_station", "ap_post"])
def test_police_users_reach_no_complaint_on_any_path(make_env, agency_type):
    env = make_env(agency_type)
    admin = env.login("admin")
    record_id = _arrived_complaint(admin)
    assert admin.db.scalar("SELECT count(*) FROM police_complaint") == 1  # the data is there to be leaked
    for role, username in ROLES_USERS.items():
        s = env.login(username)
        svc = RecordService(s, "police_complaint")
        attempts = {
            "list": lambda svc=svc: svc.page(),
            "search": lambda svc=svc: svc.search(MARK),
            "count": lambda svc=svc: svc.count(),
            "count filtered": lambda svc=svc: svc.count(Query(statuses=["forwarded"])),
            "export": lambda svc=svc: list(svc.iter_records()),
            "get": lambda svc=svc: svc.get(record_id),
            "history": lambda svc=svc: svc.history(record_id),
            "create": lambda svc=svc: svc.create(complaint(complaint_ref="NEW")),
            "ages": lambda s=s: complaint_ages(s),
            "summary": lambda s=s: redress_summary(s),
        }
        for path, attempt in attempts.items():
            with pytest.raises(PermissionDenied):
                attempt()
                pytest.fail(f"{role} reached complaints by {path}")
        if role == "admin":
            entries = AuditService(s).entries(limit=10000)
            assert entries and all(e["module"] != "complaints" for e in entries)
            assert all(record_id not in e["target"] for e in entries)
            assert AuditService(s).entries(action="record.create") == []
    assert admin.db.scalar("SELECT count(*) FROM police_complaint") == 1


def test_police_users_get_no_complaint_figures_from_the_analysis(make_env):
    from usalama_desktop.analysis.core import Analysis

    env = make_env("police_station")
    _arrived_complaint(env.login("admin"))
    for username in ROLES_USERS.values():
        with pytest.raises(PermissionDenied):
            Analysis(env.login(username), "police_complaint")


def test_forum_coordinators_see_complaints_on_every_path(make_env):
    env = make_env("community_safety_forum")
    clerk = env.login("clerk")
    record_id = RecordService(clerk, "police_complaint").create(complaint())
    s = env.login("coordinator")
    svc = RecordService(s, "police_complaint")
    assert [r["id"] for r in svc.page().rows] == [record_id]
    assert [r["id"] for r in svc.search("Kilimani").rows] == [record_id]
    assert svc.count() == 1
    exported = list(svc.iter_records())
    assert exported[0]["values"]["officer_details"].startswith("Constable")
    assert svc.get(record_id)["values"]["complainant_name"] == f"Wanjiru {MARK}"
    assert [a.id for a in complaint_ages(s)] == [record_id]
    assert redress_summary(s).total == 1
    entries = AuditService(env.login("admin")).entries(action="record.create")
    assert [e["target"] for e in entries if e["module"] == "complaints"] == [record_id]


def test_forum_viewers_count_complaints_but_never_read_them(make_env):
    env = make_env("community_safety_forum")
    record_id = RecordService(env.login("coordinator"), "police_complaint").create(complaint())
    viewer = RecordService(env.login("viewer"), "police_complaint")
    assert viewer.count() == 1
    for attempt in (viewer.page, lambda: viewer.get(record_id), lambda: list(viewer.iter_records()),
                    lambda: viewer.search("Kilimani")):
        with pytest.raises(PermissionDenied):
            attempt()
    with pytest.raises(PermissionDenied):
        complaint_ages(env.login("viewer"))
    assert redress_summary(env.login("viewer")).total == 1

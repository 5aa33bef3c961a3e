"""The case workflow shared by the three case modules: open, sessions, referrals and results, close with an outcome,
reopen with a reason; every step a normal audited revision; what each role may do now; follow-ups; the command."""

from __future__ import annotations

import json
import random

import pytest

from usalama_desktop import clock
from usalama_desktop.errors import ConflictError, PermissionDenied, UsalamaError, ValidationFailed
from usalama_desktop.forms.case import CaseWorkflow
from usalama_desktop.forms.registry import forms
from usalama_desktop.services.cases import CaseService, case_form
from usalama_desktop.services.records import RecordService

from .conftest import PASSWORD, run_cli
from .test_cases_data import add_agency, counselling, days_ago, family

CASE_FORMS = sorted(name for name, form in forms().items() if form.case is not None)


@pytest.fixture
def school(make_env):
    return make_env("school")


def test_the_three_case_forms_declare_a_workflow_over_their_own_fields():
    assert CASE_FORMS == ["ajs_case", "counselling_case", "family_case"]
    for name in CASE_FORMS:
        form = forms()[name]
        flow: CaseWorkflow = form.case
        assert form.status_field == flow.status_field and form.date_field == flow.opened_field
        for attr in ("status_field", "opened_field", "closed_field", "outcome_field", "reopened_field",
                     "reopen_reason_field", *flow.close_fields):
            assert getattr(flow, attr, attr) in form.by_name or attr in flow.close_fields
        sessions, referrals = form.repeat_by_name[flow.sessions], form.repeat_by_name[flow.referrals]
        assert {flow.session_date, flow.session_next} <= set(sessions.by_name)
        assert {flow.referral_date, flow.referral_to, flow.referral_result} <= set(referrals.by_name)
        for step in flow.steps:
            assert set(step.fields) <= set(form.by_name) and set(step.required) <= set(step.fields)
        assert case_form(form.module) is form


def test_open_sessions_referral_close_reopen_each_a_revision_with_history_and_audit(school):
    s = school.login("counsellor")
    svc = CaseService(s, "counselling")
    rid = svc.open(counselling(opened_on=None))
    assert svc.get(rid)["values"]["opened_on"] == clock.today().isoformat()
    assert svc.get(rid)["values"]["status"] == "open"
    svc.add_session(rid, {"held_on": days_ago(0), "session_type": "individual", "notes": "first talk",
                          "next_on": days_ago(-7)})
    svc.add_session(rid, {"session_type": "With parent or guardian"})  # label accepted, date defaults to today
    svc.add_referral(rid, {"referred_to": "children_officer"})
    svc.record_referral_result(rid, 0, "received")
    svc.close(rid, "improved", closure_reason="concern_resolved")
    closed = svc.get(rid)["values"]
    assert closed["status"] == "closed" and closed["outcome"] == "improved"
    assert closed["closed_on"] == clock.today().isoformat() and closed["referrals"][0]["result_on"]
    svc.reopen(rid, "The bullying started again after half term.")
    reopened = svc.get(rid)["values"]
    assert reopened["status"] == "reopened" and reopened["outcome"] is None and reopened["closed_on"] is None
    assert reopened["closure_reason"] is None and reopened["reopen_reason"].startswith("The bullying")
    svc.close(rid, "stable")

    history = svc.history(rid)
    assert [h["action"] for h in history] == ["create"] + ["update"] * 7
    assert [h["revision"] for h in history] == list(range(1, 9))
    status_changes = [next(c["new"] for c in h["changes"] if c["field"] == "status")
                      for h in history if any(c["field"] == "status" for c in h["changes"])]
    assert status_changes == ["open", "closed", "reopened", "closed"]
    actions = [r[0] for r in s.db.query("SELECT action FROM audit WHERE target = ? AND action LIKE 'case.%' "
                                        "ORDER BY seq", (rid,))]
    assert actions == ["case.open", "case.add_session", "case.add_session", "case.add_referral",
                       "case.referral_result", "case.close", "case.reopen", "case.close"]
    kinds = [e["kind"] for e in svc.timeline(rid)]
    assert kinds.count("closed") == 2 and kinds.count("reopened") == 1 and kinds.count("session") == 2
    assert kinds[0] == "opened" and "referral_result" in kinds


def test_close_needs_an_outcome_and_reopen_a_reason_and_nothing_is_written_without(school):
    s = school.login("counsellor")
    svc = CaseService(s, "counselling")
    rid = svc.open(counselling())
    with pytest.raises(ValidationFailed) as exc:
        svc.close(rid, None)
    assert list(exc.value.problems) == ["outcome"]
    with pytest.raises(ValidationFailed) as exc:
        svc.close(rid, "excellent")  # not one of the outcomes
    assert "outcome" in exc.value.problems
    with pytest.raises(UsalamaError, match="already open"):
        svc.reopen(rid, "no reason needed")
    assert svc.get(rid)["spine"]["revision"] == 1
    with pytest.raises(ValidationFailed) as exc:
        svc.perform(rid, "close", outcome="improved", colour="blue")  # a misspelt field is not dropped quietly
    assert list(exc.value.problems) == ["colour"]
    svc.close(rid, "improved")
    with pytest.raises(ValidationFailed) as exc:
        svc.perform(rid, "reopen", reopen_reason="Back again after the holidays", reopend_on=days_ago(1))
    assert list(exc.value.problems) == ["reopend_on"]
    for reason in ("", "  ", "ok"):
        with pytest.raises(ValidationFailed) as exc:
            svc.reopen(rid, reason)
        assert list(exc.value.problems) == ["reopen_reason"]
    with pytest.raises(UsalamaError, match="closed"):
        svc.add_session(rid, {"session_type": "individual"})
    assert svc.get(rid)["spine"]["revision"] == 2


def test_a_closed_case_cannot_be_saved_without_its_outcome_by_any_path(school):
    """The rule lives in the form, so an import or a hand edit cannot close a case without an outcome either."""
    s = school.login("counsellor")
    records = RecordService(s, "counselling_case")
    with pytest.raises(ValidationFailed) as exc:
        records.create(counselling(status="closed", closed_on=days_ago(1)))
    assert "outcome" in exc.value.problems
    with pytest.raises(ValidationFailed) as exc:
        records.create(counselling(status="closed", outcome="improved", closed_on=days_ago(90)))
    assert "closed_on" in exc.value.problems  # closed before it was opened
    with pytest.raises(ValidationFailed) as exc:
        records.create(counselling(sessions=[{"held_on": days_ago(61), "session_type": "group"}]))
    assert "sessions[0].held_on" in exc.value.problems


def test_actions_follow_the_state_and_the_role(school):
    couns = school.login("counsellor")
    svc = CaseService(couns, "counselling")
    rid = svc.open(counselling())
    assert [k for k, _label in svc.actions(rid)] == ["add_session", "add_referral", "close"]
    svc.perform(rid, "add_referral", referred_to="health")
    assert "referral_result" in dict(svc.actions(rid))
    svc.perform(rid, "close", outcome="Improved")
    assert [k for k, _label in svc.actions(rid)] == ["reopen"]
    with pytest.raises(UsalamaError, match="closed. Reopen it first"):
        svc.perform(rid, "add_session", session_type="group")
    with pytest.raises(UsalamaError, match="no step called"):
        svc.perform(rid, "record_decision", decided_on=days_ago(1))  # an AJS step, not a counselling one
    assert CaseService(school.login("admin"), "counselling").actions(rid) == [("reopen", "Reopen the case…")]
    coord = CaseService(school.login("coordinator"), "counselling")
    assert coord.actions(rid) == []
    with pytest.raises(PermissionDenied):
        coord.perform(rid, "reopen", reopen_reason="trying anyway")
    with pytest.raises(PermissionDenied):
        CaseService(school.login("viewer"), "counselling").perform(rid, "reopen", reopen_reason="trying")


def test_a_step_on_a_stale_revision_is_refused(school):
    svc = CaseService(school.login("counsellor"), "counselling")
    rid = svc.open(counselling())
    svc.perform(rid, "add_session", session_type="individual")
    with pytest.raises(ConflictError):
        svc.perform(rid, "close", expected_revision=1, outcome="stable")
    assert svc.get(rid)["values"]["status"] == "open"


def test_due_follow_ups(school):
    admin = school.login("admin")
    svc = CaseService(school.login("counsellor"), "counselling")
    planned = svc.open(counselling(case_no="A", sessions=[{"held_on": days_ago(20), "session_type": "individual",
                                                           "next_on": days_ago(6)}]))
    svc.open(counselling(case_no="B", sessions=[{"held_on": days_ago(2), "session_type": "individual",
                                                 "next_on": days_ago(-5)}]))
    no_session = svc.open(counselling(case_no="C", opened_on=days_ago(10)))
    referred = svc.open(counselling(case_no="D", sessions=[{"held_on": days_ago(1), "session_type": "group"}]))
    svc.add_referral(referred, {"referred_to": "police", "referred_on": days_ago(25)})
    closed = svc.open(counselling(case_no="E", sessions=[{"held_on": days_ago(20), "session_type": "group",
                                                         "next_on": days_ago(6)}]))
    svc.close(closed, "improved")
    other = add_agency(admin, "Other School", "school")
    RecordService(admin, "counselling_case").create_many([counselling(case_no="F", sessions=[
        {"held_on": days_ago(20), "session_type": "individual", "next_on": days_ago(6)}])], agency_id=other)

    due = svc.due_follow_ups()
    assert [(f.record_id, f.kind) for f in due] == [(referred, "referral"), (planned, "session"),
                                                   (no_session, "session")]
    assert due[1].due == days_ago(6) and "ADM" not in due[1].title  # titles use public fields only
    assert len(svc.due_follow_ups(within_days=7)) == 4  # case B's session falls due within the week
    assert len(CaseService(admin, "counselling").due_follow_ups()) == 4  # the admin sees the other school too
    with pytest.raises(PermissionDenied):
        CaseService(school.login("viewer"), "counselling").due_follow_ups()


def test_family_case_is_driven_by_the_same_steps(school):
    svc = CaseService(school.login("clerk"), "family")
    rid = svc.open(family())
    svc.perform(rid, "add_session", session_type="couple", notes="calm")
    svc.perform(rid, "add_referral", referred_to="legal_aid")
    svc.perform(rid, "referral_result", result="declined")
    svc.perform(rid, "close", outcome="goals_met")
    svc.perform(rid, "reopen", reopen_reason="A new incident; she asked to rejoin.")
    state = svc.state(rid)
    assert state["status"] == "reopened" and state["open"] and state["sessions"] == 1
    assert [e["kind"] for e in state["timeline"]].count("reopened") == 1


def test_cases_from_the_command_line(school, tmp_path):
    env = {"USALAMA_PASSWORD": PASSWORD, "USALAMA_USER": "couns"}
    base = ("--data-dir", school.folder)
    data = tmp_path / "case.json"
    data.write_text(json.dumps(counselling(sessions=[{"held_on": days_ago(30), "session_type": "individual",
                                                      "next_on": days_ago(3)}])))
    r = run_cli(*base, "cases", "open", "--form", "counselling", "--json", data, env_vars=env)
    assert r.returncode == 0, r.stderr
    rid = r.stdout.strip()
    r = run_cli(*base, "cases", "session", rid, "--form", "counselling", "--set", "session_type=group",
                "--set", f"held_on={days_ago(0)}", env_vars=env)
    assert r.returncode == 0, r.stderr
    r = run_cli(*base, "cases", "close", rid, "--form", "counselling", env_vars=env)
    assert r.returncode == 2  # --outcome is required
    r = run_cli(*base, "cases", "close", rid, "--form", "counselling", "--outcome", "no such outcome", env_vars=env)
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "outcome" in r.stderr
    r = run_cli(*base, "cases", "close", rid, "--form", "counselling", "--outcome", "improved", env_vars=env)
    assert r.returncode == 0 and "Revision 3" in r.stdout
    r = run_cli(*base, "cases", "actions", rid, "--form", "counselling", env_vars=env)
    assert r.stdout.split("\t")[0] == "reopen"
    r = run_cli(*base, "cases", "reopen", rid, "--form", "counselling", "--reason", "back again", env_vars=env)
    assert r.returncode == 0, r.stderr
    r = run_cli(*base, "cases", "show", rid, "--form", "counselling", env_vars=env)
    assert "Reopened: back again" in r.stdout and "Closed: Improved" in r.stdout
    r = run_cli(*base, "cases", "due", "--form", "counselling", "--within", "30", env_vars=env)
    assert r.returncode == 0 and r.stdout.count("\n") == 0  # the last session planned nothing
    r = run_cli(*base, "--user", "viewer", "cases", "close", rid, "--form", "counselling", "--outcome", "stable",
                env_vars={"USALAMA_PASSWORD": PASSWORD})
    assert r.returncode == 1 and "may not" in r.stderr
    r = run_cli(*base, "cases", "open", "--form", "incident", env_vars=env)
    assert r.returncode == 1 and "not a case form" in r.stderr


def test_demo_fills_each_module_with_lived_cases(make_env):
    from usalama_desktop.demo_data.cases import fill_demo

    s = make_env("community_safety_forum").login("admin")
    summary = fill_demo(s, random.Random(5), "small")
    assert len(summary) == 4
    for name in CASE_FORMS:
        svc = CaseService(s, name)
        statuses = {r[0] for r in s.db.query(f'SELECT status FROM "{name}"')}
        assert svc.count() >= 12 and "closed" in statuses and "open" in statuses
        revisions = s.db.scalar("SELECT count(*) FROM revisions WHERE tbl = ?", (name,))
        assert revisions > svc.count()  # sessions and steps came as revisions, not one-shot records
    reopened = s.db.scalar("SELECT count(*) FROM audit WHERE action = 'case.reopen'")
    assert reopened >= 1
    assert fill_demo(s, random.Random(5), "small") == []  # a second run adds nothing

"""Team meetings: members present by agency, action points followed until done, and the open ones the monthly
report lists."""

from __future__ import annotations

import datetime as dt

import pytest

from usalama_desktop.errors import PermissionDenied, UsalamaError, ValidationFailed
from usalama_desktop.services.meetings import open_action_points
from usalama_desktop.services.records import RecordService

from .conftest import ROLES_USERS


def meeting(**over):
    values = {
        "team": "observatory", "meeting_date": "2024-03-12", "venue": "Chief's camp",
        "present": [{"agency_type": "police_station", "agency_name": "Kilimani Police Station", "number": 2},
                    {"agency_type": "health_facility", "number": 1}],
        "data_reviewed": ["observatory", "complaints"], "lessons": "Send the summary a week before.",
        "decisions": "Review open complaints every month.",
        "action_points": [
            {"action": "Share the February summary", "owner": "OCS", "due_on": "2024-03-20", "status": "open"},
            {"action": "Print forms", "owner": "Coordinator", "due_on": "2024-04-30", "status": "in_progress"},
            {"action": "Invite the chief", "owner": "Coordinator", "due_on": "2024-03-15", "status": "done",
             "done_on": "2024-03-14"},
        ],
    }
    values.update(over)
    return values


def test_members_present_are_totalled_and_the_meeting_keeps_its_history(make_env):
    s = make_env("community_safety_forum").login("coordinator")
    svc = RecordService(s, "team_meeting")
    rid = svc.create(meeting())
    values = svc.get(rid)["values"]
    assert values["members_present"] == 3 and len(values["action_points"]) == 3
    values["action_points"][0].update(status="done", done_on="2024-03-19")
    svc.update(rid, values)
    changes = svc.history(rid)[1]["changes"]
    assert [c["field"] for c in changes] == ["action_points"]


@pytest.mark.parametrize(("change", "where"), [
    ({"team": None}, "team"),
    ({"action_points": [{"action": "x", "owner": "y", "due_on": "2024-03-01", "status": "open"}]},
     "action_points[0].due_on"),
    ({"action_points": [{"action": "x", "due_on": "2024-04-01", "status": "open"}]}, "action_points[0].owner"),
    ({"action_points": [{"action": "x", "owner": "y", "due_on": "2024-04-01", "status": "done",
                         "done_on": "2024-03-01"}]}, "action_points[0].done_on"),
    ({"present": [{"agency_type": "police_station", "number": 0}]}, "present[0].number"),
])
def test_bad_meetings_are_refused_and_nothing_is_written(make_env, change, where):
    s = make_env("community_safety_forum").login("coordinator")
    svc = RecordService(s, "team_meeting")
    with pytest.raises(ValidationFailed) as exc:
        svc.create(meeting(**change))
    assert where in exc.value.problems and svc.count() == 0


def test_open_action_points_before_a_date(make_env):
    s = make_env("community_safety_forum").login("coordinator")
    svc = RecordService(s, "team_meeting")
    march = svc.create(meeting())
    svc.create(meeting(team="police_service", meeting_date="2024-04-09", action_points=[
        {"action": "Ask IPOA for a reply", "owner": "Coordinator", "due_on": "2024-05-01", "status": "open"}]))
    dropped = svc.create(meeting(team="access_to_justice", meeting_date="2024-03-20", action_points=[
        {"action": "Old idea", "owner": "Chair", "due_on": "2024-03-25", "status": "dropped"}]))
    points = open_action_points(s, dt.date(2024, 4, 1))
    assert [(p.action, p.days_overdue, p.overdue) for p in points] == [
        ("Share the February summary", 12, True), ("Print forms", 0, False)]
    assert points[0].meeting_id == march and points[0].team == "observatory" and points[0].index == 0
    assert all(p.meeting_id != dropped for p in points)
    assert len(open_action_points(s, "2024-05-01")) == 3
    assert [p.action for p in open_action_points(s, "2024-05-01", team="police_service")] == ["Ask IPOA for a reply"]
    svc.delete(march, "entered twice")
    assert [p.action for p in open_action_points(s, "2024-05-01")] == ["Ask IPOA for a reply"]
    with pytest.raises(UsalamaError):
        open_action_points(s, "April")


@pytest.mark.parametrize("role", list(ROLES_USERS))
def test_every_role_may_see_open_action_points_but_only_entry_roles_write(make_env, role):
    env = make_env("community_safety_forum")
    RecordService(env.login("admin"), "team_meeting").create(meeting())
    s = env.login(ROLES_USERS[role])
    assert len(open_action_points(s, "2024-04-01")) == 2
    svc = RecordService(s, "team_meeting")
    if role in ("counsellor", "ajs_recorder", "viewer"):
        with pytest.raises(PermissionDenied):
            svc.create(meeting())
    else:
        svc.create(meeting())

"""At-risk groups: the registry (members, leaders' contacts only with consent, rules shared with police), dated
activities, and progress over time."""

from __future__ import annotations

import pytest

from usalama_desktop.errors import PermissionDenied, UsalamaError, ValidationFailed
from usalama_desktop.services.groups import group_progress, group_rules
from usalama_desktop.services.records import Query, RecordService

from .conftest import ROLES_USERS


def group(**over):
    values = {
        "group_name": "Stage 46 Boda Boda Riders", "group_type": "boda_boda",
        "base": {"county": "047", "ward": "Kawangware", "village": "46 stage"}, "joined_on": "2023-06",
        "status": "active",
        "members": [{"sex": "male", "age_band": "18-24", "number": 14}, {"sex": "male", "age_band": "25-34",
                                                                         "number": 9},
                    {"sex": "female", "age_band": "25-34", "number": 2}],
        "rules": [{"rule": "No riding drunk", "adopted_on": "2023-07", "shared_with_police": True,
                   "shared_on": "2023-08-02"},
                  {"rule": "Helmets for passengers", "adopted_on": "2023-09-01", "shared_with_police": False}],
    }
    values.update(over)
    return values


def activity(group_id, **over):
    values = {"group_id": group_id, "activity_date": "2024-01-15", "kind": "savings", "members_saving": 20,
              "savings_total_kes": 12000, "participants_male": 18, "participants_female": 2}
    values.update(over)
    return values


def test_members_are_totalled_and_contacts_kept_only_with_consent(make_env):
    s = make_env("community_safety_forum").login("clerk")
    svc = RecordService(s, "risk_group")
    without = svc.create(group(leader_contacts="Chair Otieno 0722 000 111"))
    values = svc.get(without)["values"]
    assert values["member_total"] == 25 and values["leader_contacts"] is None
    assert s.db.scalar("SELECT count(*) FROM risk_group_search WHERE identifying LIKE '%Otieno%'") == 0
    with pytest.raises(ValidationFailed) as exc:
        svc.create(group(group_name="Car wash", contacts_consent=True, leader_contacts="Chair 0722 000 111"))
    assert "consent_date" in exc.value.problems
    with_consent = svc.create(group(group_name="Car wash", contacts_consent=True, consent_date="2023-06-01",
                                    leader_contacts="Chair Otieno 0722 000 111"))
    assert svc.get(with_consent)["values"]["leader_contacts"].startswith("Chair")


def test_leaders_contacts_are_hidden_from_viewers(make_env):
    env = make_env("community_safety_forum")
    rid = RecordService(env.login("clerk"), "risk_group").create(
        group(contacts_consent=True, consent_date="2023-06-01", leader_contacts="Chair Otieno 0722 000 111"))
    viewer = RecordService(env.login("viewer"), "risk_group")
    assert viewer.get(rid)["values"]["leader_contacts"] is None
    assert "leader_contacts" not in viewer.list_columns()
    with pytest.raises(PermissionDenied):
        list(viewer.iter_records())


@pytest.mark.parametrize(("change", "where"), [
    ({"group_type": "other"}, "type_other"),
    ({"base": None}, "base"),
    ({"members": [{"sex": "male", "age_band": "18-24", "number": 0}]}, "members[0].number"),
    ({"rules": [{"rule": "x", "adopted_on": "2023-09-01", "shared_with_police": True, "shared_on": "2023-08"}]},
     "rules[0].shared_on"),
])
def test_bad_groups_are_refused_and_nothing_is_written(make_env, change, where):
    s = make_env("community_safety_forum").login("clerk")
    svc = RecordService(s, "risk_group")
    with pytest.raises(ValidationFailed) as exc:
        svc.create(group(**change))
    assert where in exc.value.problems and svc.count() == 0


def test_an_activity_keeps_only_the_answers_for_its_kind(make_env):
    s = make_env("community_safety_forum").login("clerk")
    gid = RecordService(s, "risk_group").create(group())
    svc = RecordService(s, "group_activity")
    rid = svc.create(activity(gid, kind="training", topic="road_safety"))
    values = svc.get(rid)["values"]
    assert values["topic"] == "road_safety" and values["savings_total_kes"] is None
    with pytest.raises(ValidationFailed) as exc:
        svc.create(activity(gid, kind="incident"))
    assert "incident_type" in exc.value.problems


def test_progress_over_time_by_quarter_and_rules_shared(make_env):
    s = make_env("community_safety_forum").login("coordinator")
    gid = RecordService(s, "risk_group").create(group())
    other = RecordService(s, "risk_group").create(group(group_name="Adams Car Wash", group_type="car_wash",
                                                        rules=[]))
    RecordService(s, "group_activity").create_many([
        activity(gid, activity_date="2024-01-15", savings_total_kes=12000),
        activity(gid, activity_date="2024-02-15", savings_total_kes=15500),
        activity(gid, activity_date="2024-02-20", kind="training", topic="finance", participants_female=None),
        activity(gid, activity_date="2024-03-02", kind="incident", incident_type="clients", resolved="yes",
                 participants_male=None, participants_female=None),
        activity(gid, activity_date="2024-04-10", kind="police_meeting", station="Kawangware Police Station"),
        activity(gid, activity_date="2024-05-03", kind="incident", incident_type="police", resolved="no"),
        activity(other, activity_date="2024-02-01", savings_total_kes=800),
    ])
    rows = {(p.group_name, p.period): p for p in group_progress(s)}
    q1 = rows[("Stage 46 Boda Boda Riders", "2024-Q1")]
    assert (q1.activities, q1.savings_reports, q1.trainings, q1.incidents, q1.incidents_resolved) == (4, 2, 1, 1, 1)
    assert q1.savings_kes == 15500 and q1.participants == 20 + 20 + 18
    q2 = rows[("Stage 46 Boda Boda Riders", "2024-Q2")]
    assert (q2.police_meetings, q2.incidents, q2.incidents_resolved, q2.savings_kes) == (1, 1, 0, None)
    assert rows[("Adams Car Wash", "2024-Q1")].savings_kes == 800
    assert [p.period for p in group_progress(s, gid, "month")] == ["2024-01", "2024-02", "2024-03", "2024-04",
                                                                  "2024-05"]
    assert [p.period for p in group_progress(s, gid, "year", Query(date_to="2024-03-31"))] == ["2024"]
    with pytest.raises(UsalamaError):
        group_progress(s, period="fortnight")
    rules = {r.group_name: (r.rules, r.shared_with_police) for r in group_rules(s)}
    assert rules == {"Stage 46 Boda Boda Riders": (2, 1), "Adams Car Wash": (0, 0)}


def test_a_deleted_group_drops_out_of_progress(make_env):
    s = make_env("community_safety_forum").login("coordinator")
    gid = RecordService(s, "risk_group").create(group())
    RecordService(s, "group_activity").create(activity(gid))
    assert len(group_progress(s)) == 1
    RecordService(s, "risk_group").delete(gid, "entered twice")
    assert group_progress(s) == [] and group_rules(s) == []


@pytest.mark.parametrize("role", list(ROLES_USERS))
def test_roles_on_groups(make_env, role):
    env = make_env("community_safety_forum")
    RecordService(env.login("admin"), "risk_group").create(group())
    s = env.login(ROLES_USERS[role])
    svc = RecordService(s, "risk_group")
    if role == "counsellor" or role == "ajs_recorder":
        for attempt in (svc.page, lambda: group_progress(s), lambda: svc.create(group(group_name="B"))):
            with pytest.raises(PermissionDenied):
                attempt()
        return
    assert svc.count() == 1 and group_rules(s)[0].rules == 2
    if role == "viewer":
        with pytest.raises(PermissionDenied):
            svc.create(group(group_name="B"))
    else:
        svc.create(group(group_name="B"))

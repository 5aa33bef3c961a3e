"""Users' feedback on justice agencies and police service ratings: anonymity by default, skip logic, roles, and the
scores per agency and over time (computed in SQL, small cells hidden)."""

from __future__ import annotations

import pytest

from usalama_desktop.errors import PermissionDenied, UsalamaError, ValidationFailed
from usalama_desktop.services.records import Query, RecordService
from usalama_desktop.services.scores import AGENCY, scores, trend

from .conftest import ROLES_USERS


def feedback(**over):
    values = {"agency_type": "court", "agency_name": "Kibera Law Courts", "contact_date": "2024-03-04",
              "user_role": "complainant", "timeliness": "2", "respect": "4", "fairness": "4", "kept_informed": "1",
              "overall": "3", "asked_money": "no", "status": "new"}
    values.update(over)
    return values


def rating(**over):
    values = {"station": "Kilimani Police Station", "visit_date": "2024-03-04", "service": "p3",
              "waiting_minutes": 45, "overall": "2", "conduct": "3", "asked_bribe": "yes", "paid_bribe": "no"}
    values.update(over)
    return values


# --- the forms ---------------------------------------------------------------------------------------------------


def test_feedback_is_anonymous_unless_the_person_chooses(make_env):
    s = make_env("community_safety_forum").login("clerk")
    svc = RecordService(s, "feedback")
    anonymous = svc.create(feedback(name="Achieng Otieno", phone="0712 345 678"))
    stored = svc.get(anonymous)["values"]
    assert stored["anonymous"] is True and stored["name"] is None and stored["phone"] is None
    assert s.db.scalar("SELECT count(*) FROM feedback_search WHERE identifying LIKE '%Achieng%'") == 0
    named = svc.create(feedback(anonymous=False, name="Achieng Otieno", may_contact=True))
    assert svc.get(named)["values"]["name"] == "Achieng Otieno"
    assert svc.count(Query(text="Achieng")) == 1


def test_identifying_and_narrative_answers_are_hidden_from_viewers(make_env):
    env = make_env("community_safety_forum")
    rid = RecordService(env.login("clerk"), "feedback").create(
        feedback(anonymous=False, name="Achieng Otieno", improve="Call me back about the fees."))
    viewer = RecordService(env.login("viewer"), "feedback")
    values = viewer.get(rid)["values"]
    assert values["name"] is None and values["improve"] is None and values["overall"] == "3"
    with pytest.raises(PermissionDenied):
        viewer.count(Query(text="Achieng"))
    coordinator = RecordService(env.login("coordinator"), "feedback").get(rid)["values"]
    assert coordinator["name"] == "Achieng Otieno" and coordinator["improve"] is None  # narratives: entry roles
    assert RecordService(env.login("admin"), "feedback").get(rid)["values"]["improve"].startswith("Call me")


@pytest.mark.parametrize(("change", "where"), [
    ({"overall": None}, "overall"),
    ({"overall": "6"}, "overall"),
    ({"agency_type": "other"}, "agency_other"),
    ({"contact_date": "2999-01-01"}, "contact_date"),
])
def test_bad_feedback_is_refused_and_nothing_is_written(make_env, change, where):
    s = make_env("community_safety_forum").login("clerk")
    svc = RecordService(s, "feedback")
    with pytest.raises(ValidationFailed) as exc:
        svc.create(feedback(**change))
    assert where in exc.value.problems and svc.count() == 0


def test_ratings_read_from_labels_words_and_numbers():
    from usalama_desktop.forms.registry import get_form

    form = get_form("feedback")
    values, problems = form.parse({**feedback(), "timeliness": "Very poor", "respect": 4.0,
                                   "fairness": "5 - Nzuri sana", "overall": "mbaya"})
    assert problems.ok
    assert (values["timeliness"], values["respect"], values["fairness"], values["overall"]) == ("1", "4", "5", "2")


def test_paid_bribe_only_when_asked(make_env):
    s = make_env("police_station").login("clerk")
    svc = RecordService(s, "police_rating")
    rid = svc.create(rating(asked_bribe="no", paid_bribe="yes", service="call", got_ob_number=True))
    values = svc.get(rid)["values"]
    assert values["paid_bribe"] is None and values["got_ob_number"] is None


ROLE_ACTIONS = {
    "admin": {"create", "list", "report"}, "coordinator": {"create", "list", "report"},
    "clerk": {"create", "list", "report"}, "counsellor": set(), "ajs_recorder": {"create", "list", "report"},
    "viewer": {"list", "report"},
}


@pytest.mark.parametrize("role", list(ROLE_ACTIONS))
def test_each_role_on_feedback_and_its_scores(make_env, role):
    env = make_env("community_safety_forum")
    RecordService(env.login("admin"), "feedback").create(feedback())
    s = env.login(ROLES_USERS[role])
    svc = RecordService(s, "feedback")
    attempts = {"create": lambda: svc.create(feedback()), "list": svc.page,
                "report": lambda: scores(s, "feedback", min_n=1)}
    for action, attempt in attempts.items():
        if action in ROLE_ACTIONS[role]:
            attempt()
        else:
            with pytest.raises(PermissionDenied):
                attempt()


# --- scores ------------------------------------------------------------------------------------------------------


def _fill_feedback(s):
    rows = [
        feedback(agency_name="Kibera Law Courts", contact_date="2024-01-10", timeliness="2", overall="3",
                 asked_money="yes"),
        feedback(agency_name="Kibera Law Courts ", contact_date="2024-01-20", timeliness="4", overall="5",
                 asked_money="no"),
        feedback(agency_name="kibera law courts", contact_date="2024-02-02", timeliness=None, overall="4",
                 asked_money="unknown"),
        feedback(agency_type="chief", agency_name="Kilimani Chief", contact_date="2024-02", overall="1",
                 timeliness="1", asked_money="yes"),
    ]
    RecordService(s, "feedback").create_many(rows)


def test_scores_per_agency_and_month_are_means_of_the_answers_given(make_env):
    s = make_env("community_safety_forum").login("coordinator")
    _fill_feedback(s)
    table = scores(s, "feedback", min_n=1)
    by_agency = {row.group: row for row in table.rows}
    court = by_agency[("court", "Kibera Law Courts")]  # one agency however its name was spaced or capitalised
    assert court.n == 3 and court.means["overall"] == 4.0 and court.means["timeliness"] == 3.0
    assert court.answered["timeliness"] == 2
    assert court.flags["asked_money"] == 0.5  # "unknown" is not counted either way
    assert by_agency[("chief", "Kilimani Chief")].means["overall"] == 1.0
    monthly = trend(s, "feedback", "month", min_n=1)
    assert [(r.period, r.n, r.means["overall"]) for r in monthly.rows] == [("2024-01", 2, 4.0), ("2024-02", 2, 2.5)]
    quarterly = trend(s, "feedback", "quarter", min_n=1)
    assert [(r.period, r.n) for r in quarterly.rows] == [("2024-Q1", 4)]
    assert trend(s, "feedback", "year", Query(date_from="2024-02-01"), min_n=1).rows[0].n == 2
    cells = table.table()
    assert cells[0][:3] == ["Chief or assistant chief", "Kilimani Chief", "1"] and cells[0][-1] == "100%"
    assert len(table.header()) == len(cells[0])


def test_small_groups_show_their_count_but_no_means(make_env):
    s = make_env("community_safety_forum").login("coordinator")
    _fill_feedback(s)
    table = scores(s, "feedback")  # the default threshold is 5 answers
    assert all(row.suppressed and row.means["overall"] is None and row.flags["asked_money"] is None
               for row in table.rows)
    assert table.table()[0][3:] == ["-"] * (len(table.header()) - 3)


def test_scores_follow_the_row_scope_of_the_user(make_env):
    env = make_env("community_safety_forum")
    admin = env.login("admin")
    admin.db.execute("INSERT INTO agencies(id, name, type, is_local, created_at) VALUES ('agency-b', 'Agency B', "
                     "'paralegal', 0, '2024-01-01')")
    svc = RecordService(admin, "feedback")
    svc.create(feedback())
    svc.create_many([feedback(overall="5")], agency_id="agency-b")
    assert scores(env.login("clerk"), "feedback", by=(), min_n=1).rows[0].n == 1  # clerks: own agency only
    all_rows = scores(env.login("coordinator"), "feedback", by=(AGENCY,), min_n=1)
    assert sorted(r.n for r in all_rows.rows) == [1, 1]
    assert "Agency B" in {row[0] for row in all_rows.table({"agency-b": "Agency B"})}


def test_police_ratings_are_scored_per_station_with_the_bribe_share(make_env):
    s = make_env("police_station").login("clerk")
    RecordService(s, "police_rating").create_many([rating(), rating(overall="4", asked_bribe="no"),
                                                   rating(station="Kabiro Police Post", overall="5")])
    table = scores(s, "police_ratings", min_n=1)
    assert [(r.group, r.n, r.means["overall"], r.means["conduct"], r.flags["asked_bribe"]) for r in table.rows] == [
        (("Kabiro Police Post",), 1, 5.0, 3.0, 1.0), (("Kilimani Police Station",), 2, 3.0, 3.0, 0.5)]


def test_scores_refuse_unknown_modules_periods_and_private_groupings(make_env):
    s = make_env("community_safety_forum").login("admin")
    with pytest.raises(UsalamaError):
        scores(s, "observatory")
    with pytest.raises(UsalamaError):
        scores(s, "feedback", period="week")
    for private in ("name", "improve", "phone", "no_such_field"):
        with pytest.raises(PermissionDenied):
            scores(s, "feedback", by=(private,))

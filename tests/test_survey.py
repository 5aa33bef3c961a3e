"""The community safety audit: rounds, respondent-level entry of the standard instrument, and results by ward beside
the observatory's recorded incidents for the same ward and year."""

from __future__ import annotations

import pytest

from usalama_desktop.errors import NotFound, PermissionDenied, UsalamaError, ValidationFailed
from usalama_desktop.forms.choices import get
from usalama_desktop.forms.safety_audit import SAFETY_SCALE
from usalama_desktop.services.records import RecordService
from usalama_desktop.services.survey import rounds_of_year, ward_results

from .conftest import ROLES_USERS
from .test_kobo import make_round
from .test_store_encryption import incident


def answer(round_id, ward="Kilimani", **over):
    values = {"round_id": round_id, "interview_date": "2024-11-05", "consent": True,
              "place": {"county": "047", "ward": ward}, "hh_victim": "no", "p_victim": "no",
              "safe_after_dark": "fairly_safe"}
    values.update(over)
    return values


def test_the_safety_question_keeps_the_sdg_16_1_4_answers_in_order():
    scale = get(SAFETY_SCALE)
    assert [c.label.en for c in scale.choices] == ["Very safe", "Fairly safe", "A bit unsafe", "Very unsafe",
                                                   "I never walk alone after dark", "Don't know"]


@pytest.mark.parametrize(("change", "where"), [
    ({"consent": False}, "consent"),
    ({"place": {"county": "047"}}, "place"),
    ({"hh_victim": "yes"}, "hh_crimes"),
    ({"safe_after_dark": None}, "safe_after_dark"),
    ({"round_id": None}, "round_id"),
])
def test_bad_interviews_are_refused_and_nothing_is_written(make_env, change, where):
    s = make_env("community_safety_forum").login("clerk")
    svc = RecordService(s, "survey_response")
    with pytest.raises(ValidationFailed) as exc:
        svc.create({**answer(make_round(s)), **change})
    assert where in exc.value.problems and svc.count() == 0


def test_skip_logic_clears_follow_up_questions(make_env):
    s = make_env("community_safety_forum").login("clerk")
    svc = RecordService(s, "survey_response")
    rid = svc.create(answer(make_round(s), hh_victim="no", hh_crimes=["burglary"], hh_reported="no",
                            hh_why_not=["fear"], p_victim="yes", p_crimes=["theft"], p_reported="yes",
                            p_why_not=["fear"]))
    values = svc.get(rid)["values"]
    assert values["hh_crimes"] is None and values["hh_reported"] is None and values["hh_why_not"] is None
    assert values["p_crimes"] == ["theft"] and values["p_why_not"] is None


def _fill(s, round_id):
    svc = RecordService(s, "survey_response")
    rows = [
        # Kilimani, 6 respondents: 2 victims of 5 who answered; 3 reports of 4 known; safe 2 of 4 feelings.
        answer(round_id, hh_victim="yes", hh_crimes=["burglary"], hh_reported="yes", p_victim="yes",
               p_crimes=["theft"], p_reported="no", p_why_not=["no_use"], safe_after_dark="very_safe",
               trust_police="quite_a_lot", trust_local_justice="great_deal"),
        answer(round_id, hh_victim="yes", hh_crimes=["vehicle"], hh_reported="yes", p_victim="unknown",
               safe_after_dark="very_unsafe", trust_police="none", trust_local_justice="dont_know"),
        answer(round_id, safe_after_dark="fairly_safe", trust_police="dont_know"),
        answer(round_id, safe_after_dark="bit_unsafe", trust_police="not_much", p_victim="yes", p_crimes=["assault"],
               p_reported="unknown"),
        answer(round_id, hh_victim="unknown", p_victim="unknown", safe_after_dark="never_alone"),
        answer(round_id, ward=" kilimani ", safe_after_dark="dont_know"),
        # Gatina: 2 respondents, too few to show rates.
        answer(round_id, ward="Gatina", hh_victim="yes", hh_crimes=["livestock"], hh_reported="no"),
        answer(round_id, ward="Gatina"),
    ]
    svc.create_many(rows)


def test_results_by_ward_count_as_documented(make_env):
    s = make_env("community_safety_forum").login("coordinator")
    round_id = make_round(s)
    _fill(s, round_id)
    results = ward_results(s, 2024)
    assert results.rounds == ["CSA-2024-DAGORETTI-N"]
    wards = {w.ward: w for w in results.wards}
    assert set(wards) == {"Gatina", "Kilimani"}  # " kilimani " counted with Kilimani
    k = wards["Kilimani"]
    assert k.respondents == 6
    # Victims: rows 1, 2, 4 (yes to either); answered: those plus rows 3 and 6 (no to both); row 5 (unknown) out.
    assert (k.victims, k.victim_answered, k.victimisation_rate) == (3, 5, 0.6)
    # Reported: row 1 household yes, personal no; row 2 household yes; row 4 personal unknown (left out).
    assert (k.reported, k.report_answered, k.reporting_rate) == (2, 3, round(2 / 3, 4))
    assert (k.safe, k.unsafe, k.never_alone, k.dont_know) == (2, 2, 1, 1)
    assert k.safe_share == 0.5 and k.safe_share_all == round(2 / 6, 4)
    assert (k.trust_police, k.trust_police_answered) == (1, 3) and k.trust_police_share == round(1 / 3, 4)
    assert (k.trust_justice, k.trust_justice_answered) == (1, 1)
    g = wards["Gatina"]
    assert g.suppressed and g.respondents == 2 and g.victims == 1
    assert g.victimisation_rate is None and g.safe_share is None
    assert results.total.respondents == 8 and results.total.victims == 4 and not results.total.suppressed
    assert ward_results(s, 2024, min_n=1).wards[0].victimisation_rate == 0.5


def test_recorded_incidents_of_the_same_ward_and_year_sit_beside_the_survey(make_env):
    s = make_env("community_safety_forum").login("coordinator")
    round_id = make_round(s)
    _fill(s, round_id)
    incidents = RecordService(s, "incident")
    incidents.create_many([
        incident(agency_ref="A1", occurred_on="2024-02-01", reported_on="2024-12-01",
                 place={"county": "047", "ward": "KILIMANI"}),
        incident(agency_ref="A2", occurred_on="2024-06", reported_on="2024-12-01",
                 place={"county": "047", "ward": "Kilimani"}, offence_category="robbery"),
        incident(agency_ref="A3", occurred_on="2024-07-01", reported_on="2024-12-01",
                 place={"county": "047", "ward": "Kilimani"}),
        incident(agency_ref="A4", occurred_on="2023-12-31", reported_on="2024-01-02",
                 place={"county": "047", "ward": "Kilimani"}),  # another year
        incident(agency_ref="A5", occurred_on="2024-03-01", reported_on="2024-12-01",
                 place={"county": "001", "ward": "Kilimani"}),  # Mombasa
    ])
    results = ward_results(s, 2024)
    wards = {w.ward: w for w in results.wards}
    assert wards["Kilimani"].recorded_incidents == 3 and wards["Kilimani"].recorded_top_category == "Stealing"
    assert wards["Gatina"].recorded_incidents == 0 and wards["Gatina"].recorded_top_category is None
    assert results.observatory_visible and results.total.recorded_incidents == 3


def test_one_round_or_a_year_with_none(make_env):
    s = make_env("community_safety_forum").login("coordinator")
    first = make_round(s)
    second = make_round(s, code="CSA-2024-KAWANGWARE")
    RecordService(s, "survey_response").create_many([answer(first), answer(second), answer(second)])
    assert [code for _id, code in rounds_of_year(s, 2024)] == ["CSA-2024-DAGORETTI-N", "CSA-2024-KAWANGWARE"]
    assert ward_results(s, 2024).total.respondents == 3
    only = ward_results(s, round_id=second)
    assert only.year == 2024 and only.rounds == ["CSA-2024-KAWANGWARE"] and only.total.respondents == 2
    empty = ward_results(s, 2019)
    assert empty.wards == [] and empty.notes
    with pytest.raises(NotFound):
        ward_results(s, round_id="01900000-0000-7000-8000-000000000000")
    with pytest.raises(UsalamaError):
        ward_results(s)


def test_deleted_interviews_and_rounds_are_not_counted(make_env):
    s = make_env("community_safety_forum").login("coordinator")
    round_id = make_round(s)
    svc = RecordService(s, "survey_response")
    keep = svc.create(answer(round_id))
    gone = svc.create(answer(round_id))
    svc.delete(gone, "entered twice")
    assert ward_results(s, 2024).total.respondents == 1
    RecordService(s, "survey_round").delete(round_id, "wrong year")
    assert ward_results(s, 2024).wards == []
    assert keep


@pytest.mark.parametrize("role", list(ROLES_USERS))
def test_who_sees_results_and_recorded_incidents(make_env, role):
    env = make_env("community_safety_forum")
    admin = env.login("admin")
    round_id = make_round(admin)
    RecordService(admin, "survey_response").create_many([answer(round_id)] * 5)
    s = env.login(ROLES_USERS[role])
    if role in ("counsellor", "ajs_recorder"):
        with pytest.raises(PermissionDenied):
            ward_results(s, 2024)
        return
    results = ward_results(s, 2024)
    assert results.total.respondents == 5
    assert results.observatory_visible and results.wards[0].recorded_incidents == 0

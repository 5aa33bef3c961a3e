"""Alternative justice register: the formal-system rule for GBV and sexual offences, the Article 159(3) screening
before filing, the printed decision record (read back with pdftotext), local jurisprudence search, and roles."""

from __future__ import annotations

import subprocess

import pytest

from usalama_desktop.errors import PermissionDenied, UsalamaError, ValidationFailed
from usalama_desktop.forms.ajs import FORMAL_SYSTEM_WARNING, formal_system_warning
from usalama_desktop.i18n import language
from usalama_desktop.reports.decision_record import decision_record_pdf
from usalama_desktop.services.cases import CaseService, search_decisions
from usalama_desktop.services.records import RecordService

from .conftest import AGENCY_NAMES, PASSWORD, run_cli
from .test_cases_data import ACTIONS, add_agency, ajs, days_ago, decision, screening, try_action

EXPECTED = {
    "admin": set(ACTIONS),
    "ajs_recorder": set(ACTIONS),
    "coordinator": {"read", "list", "search", "count"},
    "viewer": {"count"},
    "clerk": set(),
    "counsellor": set(),
}


@pytest.fixture
def council(make_env):
    return make_env("ajs_forum")


@pytest.fixture
def elder(council):
    return CaseService(council.login("ajs_recorder"), "ajs")


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def decided_case(svc: CaseService, **over) -> str:
    rid = svc.open(ajs(**over))
    svc.perform(rid, "record_decision", **decision())
    return rid


@pytest.mark.parametrize("role", list(EXPECTED))
@pytest.mark.parametrize("action", ACTIONS)
def test_each_role_on_the_ajs_register(council, role, action):
    rid = RecordService(council.login("admin"), "ajs_case").create(ajs())
    try_action(RecordService(council.login(role), "ajs_case"), action, rid, ajs(register_no="NEW"),
               ajs(issues="changed"), "boundary", action in EXPECTED[role])


@pytest.mark.parametrize("over", [{"dispute_category": "gbv"}, {"dispute_category": "sexual_offence"},
                                  {"dispute_category": "marriage", "gbv_or_sexual": True}])
def test_gbv_and_sexual_offences_are_warned_and_refused_a_decision_without_a_formal_referral(elder, over):
    rid = elder.open(ajs(**over))
    state = elder.state(rid)
    assert state["warnings"] == [FORMAL_SYSTEM_WARNING.text()]
    with pytest.raises(ValidationFailed) as exc:
        elder.perform(rid, "record_decision", **decision())
    assert exc.value.problems["decided_on"] == [FORMAL_SYSTEM_WARNING.text()]
    assert elder.get(rid)["values"]["decided_on"] is None and elder.get(rid)["spine"]["revision"] == 1
    elder.perform(rid, "add_referral", referred_to="legal_aid")  # not the formal system
    with pytest.raises(ValidationFailed):
        elder.perform(rid, "record_decision", **decision())
    elder.perform(rid, "add_referral", referred_to="Police")
    elder.perform(rid, "record_decision", **decision())
    assert elder.get(rid)["values"]["decided"] is True
    with pytest.raises(ValidationFailed) as exc:  # and it is never put to a court as an AJS decision
        elder.perform(rid, "file_for_adoption", filing_court="Kibera", filed_on=days_ago(5), **screening())
    assert "filed_on" in exc.value.problems


def test_the_same_rule_holds_for_a_record_saved_in_one_go(council):
    records = RecordService(council.login("ajs_recorder"), "ajs_case")
    with pytest.raises(ValidationFailed) as exc:
        records.create(ajs(dispute_category="gbv", **decision()))
    assert "decided_on" in exc.value.problems
    records.create(ajs(dispute_category="gbv", referrals=[{"referred_on": days_ago(85), "referred_to": "court"}],
                       **decision()))
    assert formal_system_warning(ajs()) is None
    with language("sw"):
        assert "mfumo rasmi" in formal_system_warning(ajs(dispute_category="gbv"))


def test_filing_for_adoption_needs_every_screening_answer_and_all_yes(elder):
    rid = elder.open(ajs())
    assert "file_for_adoption" not in dict(elder.actions(rid))  # nothing to file before a decision
    with pytest.raises(UsalamaError, match="not available"):
        elder.perform(rid, "file_for_adoption", filing_court="Kibera", filed_on=days_ago(5), **screening())
    elder.perform(rid, "record_decision", **decision())
    assert "file_for_adoption" in dict(elder.actions(rid))
    partial = screening()
    del partial["screen_voluntary"]
    with pytest.raises(ValidationFailed) as exc:
        elder.perform(rid, "file_for_adoption", filing_court="Kibera Law Courts", filed_on=days_ago(5), **partial)
    assert "Answer every Article 159(3) screening question" in exc.value.problems["filed_on"][0]
    failing = {**screening(), "screen_bill_of_rights": "no"}
    with pytest.raises(ValidationFailed) as exc:
        elder.perform(rid, "file_for_adoption", filing_court="Kibera Law Courts", filed_on=days_ago(5), **failing)
    assert "does not pass" in exc.value.problems["filed_on"][0]
    with pytest.raises(ValidationFailed) as exc:
        elder.perform(rid, "file_for_adoption", filed_on=days_ago(5), **screening())
    assert "filing_court" in exc.value.problems
    assert elder.get(rid)["values"]["filed_on"] is None
    elder.perform(rid, "file_for_adoption", filing_court="Kibera Law Courts", filing_file_no="E12/2024",
                  filed_on=days_ago(5), screened_on=days_ago(6), **screening())
    actions = dict(elder.actions(rid))
    assert "file_for_adoption" not in actions and "record_court_result" in actions
    elder.perform(rid, "record_court_result", court_result="adopted", court_result_on=days_ago(1))
    assert elder.get(rid)["values"]["court_result"] == "adopted"
    # the rule is the form's: a hand edit cannot file with an unanswered screening either
    values = elder.get(rid)["values"]
    values["screen_written_law"] = None
    with pytest.raises(ValidationFailed):
        elder.update(rid, values)


def test_a_decision_needs_a_hearing_and_its_text(elder):
    rid = elder.open(ajs(hearings=[]))
    with pytest.raises(ValidationFailed) as exc:
        elder.perform(rid, "record_decision", **decision())
    assert "decided_on" in exc.value.problems
    elder.perform(rid, "add_session", held_on=days_ago(75), venue="Chief's camp", attendance="all")
    with pytest.raises(ValidationFailed) as exc:
        elder.perform(rid, "record_decision", decided_on=days_ago(70))
    assert "decision_text" in exc.value.problems
    elder.perform(rid, "record_decision", **decision())


def test_the_decision_record_pdf_names_only_consenting_parties(council, elder, tmp_path):
    rid = decided_case(elder)
    elder.perform(rid, "file_for_adoption", filing_court="Kibera Law Courts", filing_file_no="E12/2024",
                  filed_on=days_ago(5), **screening())
    out = tmp_path / "decision.pdf"
    stats = decision_record_pdf(elder.s, rid, out)
    text = pdf_text(out)
    assert AGENCY_NAMES["ajs_forum"] in text and "KEC/2024/001" in text and "Record of decision" in text
    assert "Baraka Named-Claimant" in text and "Secret Respondent-Name" not in text
    assert "Name withheld" in text and "mugumo tree line" in text and "Kibera Law Courts" in text
    assert "Article 159(3) screening" in text and "Mzee Panel-Chair" in text
    pages = stats["pages"]
    assert pages >= 1 and f"Page 1 of {pages}" in text and f"Page {pages} of {pages}" in text
    assert text.count(AGENCY_NAMES["ajs_forum"]) >= pages  # the council's name on every page
    assert stats["parties_named"] == 1 and stats["parties_withheld"] == 1
    assert council.login("admin").db.scalar("SELECT count(*) FROM audit WHERE action = 'ajs.decision_record' "
                                            "AND target = ?", (rid,)) == 1
    with language("sw"):
        decision_record_pdf(elder.s, rid, tmp_path / "uamuzi.pdf")
    assert "Ukurasa 1" in pdf_text(tmp_path / "uamuzi.pdf")


def test_a_long_decision_runs_over_pages_and_markup_in_text_is_printed_as_typed(elder, tmp_path):
    long_text = "\n".join(f"Paragraph {i} <b>not bold</b> & fair: the elders heard both sides." for i in range(150))
    rid = elder.open(ajs())
    elder.perform(rid, "record_decision", **decision(decision_text=long_text))
    stats = decision_record_pdf(elder.s, rid, tmp_path / "long.pdf")
    text = pdf_text(tmp_path / "long.pdf")
    assert stats["pages"] >= 3 and f"Page 3 of {stats['pages']}" in text
    assert "<b>not bold</b> & fair" in text and "Paragraph 149" in text


def test_the_decision_record_is_refused_where_it_should_be(council, elder, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    undecided = elder.open(ajs())
    with pytest.raises(UsalamaError, match="no decision"):
        decision_record_pdf(elder.s, undecided, out / "x.pdf")
    rid = decided_case(elder, register_no="KEC/2024/002")
    for role in ("coordinator", "viewer", "clerk"):
        with pytest.raises(PermissionDenied):
            decision_record_pdf(council.login(role), rid, out / "x.pdf")
    assert list(out.iterdir()) == []  # nothing written, not even a temporary file


def test_local_jurisprudence_search(council, elder):
    admin = council.login("admin")
    boundary = decided_case(elder)
    elder.perform(boundary, "close", outcome="settled")
    land = decided_case(elder, register_no="KEC/2024/002", dispute_category="land",
                        place={"county": "047", "ward": "Kilimani"})
    elder.open(ajs(register_no="KEC/2024/003"))  # no decision: not jurisprudence
    other = add_agency(admin, "Another Council", "ajs_forum")
    RecordService(admin, "ajs_case").create_many([ajs(register_no="KEC/9", **decision())], agency_id=other)

    s = elder.s
    hits = search_decisions(s, "mugumo")
    assert {h["id"] for h in hits} == {boundary, land} and "mugumo" in hits[0]["excerpt"]
    assert [h["id"] for h in search_decisions(s, "mugumo", categories=["Boundary"])] == [boundary]
    assert [h["id"] for h in search_decisions(s, "", ward="Kilimani")] == [land]
    assert [h["id"] for h in search_decisions(s, "fence", outcome="settled")] == [boundary]
    assert search_decisions(s, "no-such-word-anywhere") == []
    assert {h["id"] for h in search_decisions(s, "")} == {boundary, land}  # own council's decisions only

    coord = council.login("coordinator")
    assert search_decisions(coord, "mugumo") == []  # the decision text is not the coordinator's to read
    found = search_decisions(coord, "boundary")  # the category, or the remedy "boundary fixed" of all three
    assert len(found) == 3 and all(h["excerpt"] == "" for h in found)  # both councils, de-identified
    assert [h["id"] for h in search_decisions(coord, "boundary", categories=["land"])] == [land]
    assert "mugumo" not in repr(found)
    assert len(search_decisions(admin, "mugumo")) == 3
    with pytest.raises(PermissionDenied):
        search_decisions(council.login("viewer"), "boundary")


def test_ajs_commands(council, tmp_path):
    elder = CaseService(council.login("ajs_recorder"), "ajs")
    rid = decided_case(elder)
    env = {"USALAMA_PASSWORD": PASSWORD, "USALAMA_USER": "elder"}
    base = ("--data-dir", council.folder)
    r = run_cli(*base, "ajs", "decision-pdf", rid, "--out", tmp_path / "d.pdf", env_vars=env)
    assert r.returncode == 0, r.stderr
    assert "Baraka Named-Claimant" in pdf_text(tmp_path / "d.pdf")
    r = run_cli(*base, "ajs", "search", "mugumo", "--category", "boundary", "--county", "Nairobi", env_vars=env)
    assert r.returncode == 0 and rid in r.stdout and "mugumo" in r.stdout
    r = run_cli(*base, "ajs", "search", "--county", "Atlantis", env_vars=env)
    assert r.returncode == 1 and "county" in r.stderr
    r = run_cli(*base, "cases", "step", rid, "record_compliance", "--form", "ajs", "--set", "compliance=complied",
                env_vars=env)
    assert r.returncode == 0, r.stderr
    r = run_cli(*base, "--user", "coord", "ajs", "decision-pdf", rid, "--out", tmp_path / "c.pdf",
                env_vars={"USALAMA_PASSWORD": PASSWORD})
    assert r.returncode == 1 and "may not" in r.stderr and not (tmp_path / "c.pdf").exists()


def test_panel_gender_balance_is_counted():
    from usalama_desktop.forms.registry import get_form

    form = get_form("ajs_case")
    values = form.clean(ajs())
    assert values["panel_women"] == 1 and values["panel_men"] == 1
    assert form.by_name["decision_text"].tier == "narrative" and form.repeat_by_name["parties"].by_name[
        "name"].tier == "identifying"
    cleaned = form.clean(ajs(parties=[{"party_role": "claimant", "sex": "male", "consent_named": False,
                                       "name": "Should Vanish"}]))
    assert cleaned["parties"][0]["name"] is None  # a name without consent is not kept

"""Family-violence prevention programme: roles, de-identified views, one GBVIMS type per incident, and the export in
the GBVIMS Incident Recorder layout read back with openpyxl (codes only, never names)."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from usalama_desktop.errors import PermissionDenied, UsalamaError, ValidationFailed
from usalama_desktop.forms.registry import get_form
from usalama_desktop.io.gbvims_recorder import COLUMNS, export_gbvims
from usalama_desktop.services.cases import CaseService
from usalama_desktop.services.records import Query, RecordService

from .conftest import PASSWORD, run_cli
from .test_cases_data import ACTIONS, days_ago, family, try_action

EXPECTED = {
    "admin": set(ACTIONS),
    "clerk": set(ACTIONS),
    "counsellor": set(ACTIONS),
    "coordinator": {"read", "list", "count"},
    "viewer": {"count"},
    "ajs_recorder": set(),
}
SECRETS = ("HH-SECRET-77", "VILLAGE-SECRET", "NOTE-SECRET", "PLAN-SECRET")


@pytest.fixture
def programme(make_env):
    return make_env("rescue_centre")


def rows_of(path):
    wb = load_workbook(path, read_only=True)
    ws = wb["Incident Recorder"]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    about = [list(r) for r in wb["About"].iter_rows(values_only=True)]
    wb.close()
    return rows[0], [dict(zip(rows[0], r, strict=True)) for r in rows[1:]], about


def full_family(**over):
    return family(sessions=[{"held_on": days_ago(90), "session_type": "individual", "notes": "NOTE-SECRET"}],
                  safety_plan=True, safety_plan_on=days_ago(95), safety_plan_notes="PLAN-SECRET", **over)


@pytest.mark.parametrize("role", list(EXPECTED))
@pytest.mark.parametrize("action", ACTIONS)
def test_each_role_on_the_family_programme(programme, role, action):
    rid = RecordService(programme.login("admin"), "family_case").create(full_family())
    try_action(RecordService(programme.login(role), "family_case"), action, rid, family(case_no="NEW"),
               family(risk_level="low"), "P-0001", action in EXPECTED[role])


def test_coordinator_and_viewer_see_no_participant(programme):
    rid = CaseService(programme.login("clerk"), "family").open(full_family())
    coord = CaseService(programme.login("coordinator"), "family")
    record = coord.get(rid)
    text = repr(record["values"]) + repr(coord.history(rid)) + repr(coord.page().rows)
    assert "P-0001" not in text and not any(s in text for s in SECRETS[:1] + SECRETS[2:])
    assert record["values"]["incidents"][0]["gbv_type"] == "3"  # the codes a GBV partner counts stay
    assert coord.count(Query(equals={"risk_level": "high"})) == 1
    viewer = CaseService(programme.login("viewer"), "family")
    assert viewer.count() == 1
    with pytest.raises(PermissionDenied):
        viewer.get(rid)
    with pytest.raises(PermissionDenied):
        export_gbvims(coord.s, programme.folder / "x.xlsx")


def test_one_gbvims_core_type_per_incident_and_context_apart(programme):
    form = get_form("family_case")
    incident = form.repeat_by_name["incidents"]
    assert incident.by_name["gbv_type"].kind == "choice" and incident.by_name["context"].kind == "choice"
    assert incident.by_name["gbv_type"].choices == "gbvims_types"
    assert "domestic_violence" not in incident.by_name["gbv_type"].choice_list  # a context is never a type
    svc = CaseService(programme.login("clerk"), "family")
    two_types = family()
    two_types["incidents"][0]["gbv_type"] = ["3", "6"]
    with pytest.raises(ValidationFailed) as exc:
        svc.open(two_types)
    assert "incidents[0].gbv_type" in exc.value.problems
    values, problems = form.parse({**family(), "incidents": [{**family()["incidents"][0], "gbv_type": "3;6"}]})
    assert "incidents[0].gbv_type" in problems.errors
    no_type = family()
    no_type["incidents"][0]["gbv_type"] = None
    with pytest.raises(ValidationFailed):
        svc.open(no_type)
    late = family()
    late["incidents"][0]["interviewed_on"] = days_ago(200)
    with pytest.raises(ValidationFailed) as exc:
        svc.open(late)
    assert "incidents[0].interviewed_on" in exc.value.problems


def test_gbvims_export_has_the_recorder_columns_codes_and_no_names(programme, tmp_path):
    clerk = programme.login("clerk")
    svc = CaseService(clerk, "family")
    rid = svc.open(full_family())
    svc.perform(rid, "add_referral", referred_to="health", referred_on=days_ago(99))
    svc.perform(rid, "add_referral", referred_to="rescue_centre", referred_on=days_ago(98))
    svc.perform(rid, "referral_result", index=1, result="declined")
    second = family(case_no="FV/2024/002", participant_code="P-0002", household_code="HH-SECRET-78")
    second["incidents"] = [{**second["incidents"][0], "gbv_type": "6", "consent_share": False},
                           {**second["incidents"][0], "gbv_type": "1", "incident_on": days_ago(300)[:7],
                            "interviewed_on": days_ago(101), "perpetrator_age": "61+", "harmful_practice": "fgm"}]
    svc.open(second)
    svc.open(family(case_no="FV/2024/003", participant_code="P-0003", incidents=[], situation=["at_risk"]))

    out = tmp_path / "recorder.xlsx"
    assert export_gbvims(clerk, out, agency_code="KE-NRB-017") == 2
    header, rows, about = rows_of(out)
    assert header == list(COLUMNS) and len(COLUMNS) == 41
    assert header[:5] == ["Incident ID", "Survivor code", "Caseworker code", "Date of interview", "Date of incident"]
    assert header[-2:] == ["Consent given", "Reporting agency code"]
    first = next(r for r in rows if r["Survivor code"] == "P-0001")
    assert first["Incident ID"] == "FV/2024/001-1" and first["Caseworker code"] == "CW07"
    assert first["GBV type"] == "Physical Assault" and first["Incident time of day"] == "Night"
    assert first["Incident location"] == "Home" and first["County"] == "Nairobi"
    assert first["District"] == "Dagoretti North" and first["Camp/town"] == "Kilimani"
    assert first["Perpetrator sex"] == "M" and first["Perpetrator age group"] == "26-40"
    assert first["Perpetrator-survivor relationship"] == "Intimate partner / former partner"
    assert first["Number of alleged perpetrators"] == "1" and first["Harmful traditional practice"] == "No"
    assert first["Health"] == "Referred" and first["Safe house"] == "Declined by survivor"
    assert first["Psychosocial"] == "Service provided by your agency" and first["Police"] == "Not applicable"
    assert first["Wants legal action"] == "Undecided" and first["Consent given"] == "Yes"
    assert first["Reporting agency code"] == "KE-NRB-017" and first["Referred from"] == "Health facility"
    older = next(r for r in rows if r["Survivor code"] == "P-0002")
    assert older["GBV type"] == "Rape" and older["Perpetrator age group"] == "61 & older"
    assert older["Date of incident"] == days_ago(300)[:7] and older["Incident ID"] == "FV/2024/002-2"
    assert older["Health"] == "Not applicable"  # that referral belongs to another survivor
    everything = repr(rows) + repr(about)
    assert not any(s in everything for s in SECRETS)  # no household code, village, notes or plan
    assert "Zawadi" not in everything and "Date of birth" in header
    assert all(r["Date of birth"] in (None, "") and r["Ethnicity"] in (None, "") for r in rows)

    assert export_gbvims(clerk, out, consented_only=False) == 3
    assert export_gbvims(clerk, out, date_from=days_ago(150), date_to=days_ago(0)) == 1
    assert export_gbvims(clerk, out, date_from=days_ago(300)[:7], date_to=days_ago(250)) == 1
    entries = clerk.db.scalar("SELECT count(*) FROM audit WHERE action = 'family.gbvims_export'")
    assert entries == 4


def test_gbvims_export_refuses_bad_dates_and_leaves_the_old_file(programme, tmp_path):
    clerk = programme.login("clerk")
    CaseService(clerk, "family").open(family())
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "recorder.xlsx"
    export_gbvims(clerk, out)
    before = out.read_bytes()
    with pytest.raises(UsalamaError, match="start date"):
        export_gbvims(clerk, out, date_from="31/31/2024")
    assert out.read_bytes() == before
    assert [p.name for p in folder.iterdir()] == ["recorder.xlsx"]


def test_gbvims_export_from_the_command_line(programme, tmp_path):
    CaseService(programme.login("clerk"), "family").open(family())
    base = ("--data-dir", programme.folder)
    r = run_cli(*base, "family", "gbvims-export", "--out", tmp_path / "g.xlsx", "--from", days_ago(200),
                env_vars={"USALAMA_PASSWORD": PASSWORD, "USALAMA_USER": "clerk"})
    assert r.returncode == 0, r.stderr
    assert "1 incidents" in r.stdout and rows_of(tmp_path / "g.xlsx")[1][0]["Survivor code"] == "P-0001"
    r = run_cli(*base, "--user", "viewer", "family", "gbvims-export", "--out", tmp_path / "v.xlsx",
                env_vars={"USALAMA_PASSWORD": PASSWORD})
    assert r.returncode == 1 and "may not" in r.stderr and not (tmp_path / "v.xlsx").exists()


def test_participant_identifiers_are_identifying_and_notes_never_leave():
    form = get_form("family_case")
    assert form.by_name["participant_code"].tier == "identifying"
    assert form.by_name["household_code"].tier == "identifying"
    assert form.by_name["safety_plan_notes"].local_only
    assert form.repeat_by_name["sessions"].by_name["notes"].local_only
    assert form.referral_consent_field == "share_consent"
    assert not any(f.tier != "public" for f in form.repeat_by_name["incidents"].fields)

"""Values for the three case forms, shared by the case tests (no tests here)."""

from __future__ import annotations

import datetime as dt

import pytest

from usalama_desktop.errors import PermissionDenied
from usalama_desktop.store.ids import uuid7

ACTIONS = ("create", "read", "update", "delete", "list", "search", "count", "export")


def days_ago(n: int) -> str:
    from usalama_desktop import clock

    return (clock.today() - dt.timedelta(days=n)).isoformat()


def counselling(**over):
    values = {
        "case_no": "GC/2024/001", "opened_on": days_ago(60), "reported_by": "teacher",
        "learner_code": "ADM-4411", "learner_name": "Zawadi Kerubo Testname", "school_class": "grade_7",
        "sex": "female", "age": 13, "main_concern": "bullying_victim", "risk_level": "medium",
        "guardian_informed": True, "guardian_consent": True, "background": "BACKGROUND-MARKER",
    }
    values.update(over)
    return values


def ajs(**over):
    values = {
        "register_no": "KEC/2024/001", "opened_on": days_ago(90), "mechanism": "elders_council", "mode": "autonomous",
        "place": {"county": "047", "subcounty": "Dagoretti North", "ward": "Kawangware", "village": "Congo stage"},
        "dispute_category": "boundary", "issues": "Where the fence between two plots runs.",
        "parties": [
            {"party_role": "claimant", "sex": "male", "age_band": "35-49", "consent_named": True,
             "name": "Baraka Named-Claimant"},
            {"party_role": "respondent", "sex": "female", "age_band": "50-59", "consent_named": False,
             "name": "Secret Respondent-Name"},
        ],
        "panel": [{"member_name": "Mzee Panel-Chair", "sex": "male", "panel_role": "chair"},
                  {"member_name": "Mama Panel-Member", "sex": "female", "panel_role": "member"}],
        "hearings": [{"held_on": days_ago(80), "venue": "Chief's camp", "panel_present": 2, "attendance": "all",
                      "summary": "Both sides heard; site visit agreed."}],
    }
    values.update(over)
    return values


def decision(**over):
    values = {"decided_on": days_ago(70), "decision_text": "The boundary follows the old mugumo tree line; "
              "the respondent's fence moves two metres east within thirty days.",
              "remedies": ["boundary_fixed"], "compliance_due": days_ago(40)}
    values.update(over)
    return values


def screening(answer=True):
    return {q: answer for q in ("screen_bill_of_rights", "screen_justice_morality", "screen_written_law",
                                "screen_voluntary", "screen_not_excluded")}


def family(**over):
    values = {
        "case_no": "FV/2024/001", "opened_on": days_ago(100), "referred_from": "health", "caseworker_code": "CW07",
        "participant_code": "P-0001", "household_code": "HH-SECRET-77", "situation": ["experiencing"],
        "sex": "female", "age_band": "25-34", "marital_status": "married", "disability": False,
        "displacement": "resident",
        "place": {"county": "047", "subcounty": "Dagoretti North", "ward": "Kilimani", "village": "VILLAGE-SECRET"},
        "risk_level": "high",
        "incidents": [{"incident_on": days_ago(105), "interviewed_on": days_ago(100), "gbv_type": "3",
                       "context": "intimate_partner", "time_of_day": "night", "location": "home",
                       "harmful_practice": "none", "money_exchanged": False, "abduction": "none",
                       "previously_reported": False, "previous_incidents": True, "perpetrator_count": "1",
                       "perpetrator_sex": "M", "same_perpetrator_before": True, "perpetrator_age": "26-40",
                       "relationship": "intimate_partner", "perpetrator_occupation": "casual",
                       "wants_legal_action": "undecided", "consent_share": True}],
    }
    values.update(over)
    return values


def add_agency(session, name: str, kind: str) -> str:
    agency_id = uuid7()
    session.db.execute("INSERT INTO agencies(id, name, type, is_local, created_at) VALUES (?,?,?,0,'2024-01-01')",
                       (agency_id, name, kind))
    return agency_id


def try_action(svc, action: str, rid: str, new: dict, changed: dict, word: str, allowed: bool) -> None:
    """Do one record action through the service as the session's role: it works, or is refused by the matrix."""
    calls = {"create": lambda: svc.create(new), "read": lambda: svc.get(rid), "update": lambda: svc.update(rid, changed),
             "delete": lambda: svc.delete(rid, "testing roles"), "list": svc.page, "search": lambda: svc.search(word),
             "count": svc.count, "export": lambda: list(svc.iter_records())}
    if allowed:
        calls[action]()
        return
    with pytest.raises(PermissionDenied) as exc:
        calls[action]()
    assert "may not" in str(exc.value)

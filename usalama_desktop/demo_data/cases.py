"""Clearly fictional cases for the three case modules: learners in counselling, disputes before an elders' council,
and participants of a family-violence programme, each lived over months through the real case steps (sessions,
referrals and their results, decisions, court filing, closing and reopening), so histories and follow-ups look real.

Every name carries "(DEMO)"; codes start with DEMO. Nothing here describes a real person.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from .. import clock
from ..services.cases import CaseService
from ..store.ids import uuid7

FIRST = ["Akinyi", "Wanjiru", "Otieno", "Kamau", "Chebet", "Mutua", "Njeri", "Barasa", "Atieno", "Kiprono",
         "Wambui", "Omondi", "Nafula", "Kariuki", "Jepkosgei", "Mwende", "Ochieng", "Wekesa", "Halima", "Juma"]
LAST = ["Odhiambo", "Mwangi", "Wafula", "Kilonzo", "Rotich", "Njoroge", "Achieng", "Mohamed", "Nyaga", "Korir"]
WARDS = {"Kawangware": ["Congo stage", "Stage 2 market", "Gatina road"], "Kilimani": ["Adams Arcade", "Kibera Drive"],
         "Gatina": ["Gatina market", "Riruta junction"], "Kabiro": ["Kabiro market", "Waithaka road"]}
SECOND_SCHOOL = ("Kawangware Primary School (DEMO)", "school")


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)} (DEMO)"


def _place(rng: random.Random) -> dict[str, str]:
    ward = rng.choice(list(WARDS))
    return {"county": "047", "subcounty": "Dagoretti North", "ward": ward, "village": rng.choice(WARDS[ward])}


def _day(d: dt.date) -> str:
    return d.isoformat()


class _Life:
    """Walks one case forward in time; never past today."""

    def __init__(self, rng: random.Random, opened: dt.date):
        self.rng = rng
        self.day = opened
        self.today = clock.today()

    def later(self, low: int, high: int) -> dt.date | None:
        nxt = self.day + dt.timedelta(days=self.rng.randint(low, high))
        if nxt > self.today:
            return None
        self.day = nxt
        return nxt


# --- school guidance and counselling -----------------------------------------------------------------------------

CONCERNS = [("bullying_victim", 22), ("truancy", 14), ("home_violence", 12), ("drugs", 12), ("emotional_abuse", 9),
            ("neglect", 9), ("bullying_perpetrator", 8), ("pregnancy", 5), ("sexual_abuse", 4), ("other", 5)]


def _counselling_values(rng: random.Random, serial: int, opened: dt.date) -> dict[str, Any]:
    concern = rng.choices(*zip(*CONCERNS, strict=True))[0]
    age = rng.randint(9, 17)
    grade = min(12, max(1, age - 5))
    values: dict[str, Any] = {
        "case_no": f"GC/{opened.year}/{serial:03d}", "opened_on": _day(opened),
        "reported_by": rng.choice(["teacher", "teacher", "self", "parent", "peer", "staff"]),
        "learner_code": f"DEMO-ADM-{4000 + serial}", "learner_name": _name(rng) if rng.random() < 0.4 else None,
        "school_class": f"grade_{grade}", "sex": rng.choice(["female", "male"]), "age": age,
        "main_concern": concern, "risk_level": rng.choices(["low", "medium", "high"], [5, 4, 2])[0],
        "case_nature": rng.choice(["one_off", "chronic"]),
        "background": "DEMO background: invented for training, no real learner.",
        "guardian_informed": True, "guardian_consent": True, "share_consent": rng.random() < 0.6,
    }
    if concern == "other":
        values["concern_other"] = "Grief after a death in the family"
    if concern == "drugs":
        values["drugs"] = rng.sample(["alcohol", "marijuana", "miraa", "inhalants", "cigarettes"], rng.randint(1, 2))
    if concern == "neglect":
        values["neglect_kind"] = [rng.choice(["basic_services", "education", "love"])]
    if concern in ("home_violence", "sexual_abuse") and rng.random() < 0.5:
        values["guardian_consent"] = False
        values["best_interest_reason"] = "DEMO: a guardian is the suspected source of harm; the children's officer " \
                                         "was consulted."
    return values


def _counselling_steps(rng: random.Random, life: _Life) -> list[tuple[str, dict[str, Any]]]:
    steps: list[tuple[str, dict[str, Any]]] = []
    for i in range(rng.randint(1, 7)):
        day = life.later(2 if i == 0 else 6, 21)
        if day is None:
            return steps
        steps.append(("add_session", {
            "held_on": _day(day), "session_type": rng.choice(["individual", "individual", "group", "with_guardian",
                                                              "with_teacher", "home_visit"]),
            "notes": f"DEMO session {i + 1}: invented notes.", "agreed_actions": "Check in with the class teacher.",
            "next_on": _day(day + dt.timedelta(days=14))}))
        if i == 0 and rng.random() < 0.4:
            steps.append(("add_referral", {"referred_on": _day(day), "referred_to": rng.choice(
                ["children_officer", "health", "parents", "police"]), "referral_note": "DEMO referral."}))
            result_day = life.later(3, 20)
            if result_day and rng.random() < 0.75:
                steps.append(("referral_result", {"index": 0, "result": rng.choice(["received", "received",
                                                                                    "declined", "not_reached"]),
                                                  "result_on": _day(result_day)}))
    return steps + _close_and_reopen(rng, life, "counselling")


def _close_and_reopen(rng: random.Random, life: _Life, module: str) -> list[tuple[str, dict[str, Any]]]:
    outcomes = {"counselling": ["improved", "improved", "stable", "referred", "closed", "worse"],
                "ajs": ["settled"], "family": ["goals_met", "improved", "improved", "no_change", "dropped_out"]}
    steps: list[tuple[str, dict[str, Any]]] = []
    if rng.random() > 0.6:
        return steps
    closed = life.later(3, 30)
    if closed is None:
        return steps
    close = {"outcome": rng.choice(outcomes[module]), "closed_on": _day(closed)}
    if module == "counselling":
        close["closure_reason"] = rng.choice(["concern_resolved", "concern_resolved", "reintegrated", "transferred"])
    steps.append(("close", close))
    if rng.random() < 0.2:
        reopened = life.later(10, 60)
        if reopened is not None:
            steps.append(("reopen", {"reopen_reason": {
                "counselling": "The concern came back; the class teacher asked for more sessions.",
                "ajs": "The respondent did not comply; the claimant asked the council to sit again.",
                "family": "A new incident was reported; she asked to rejoin the programme."}[module],
                "reopened_on": _day(reopened)}))
    return steps


# --- alternative justice --------------------------------------------------------------------------------------------

DISPUTES = [("land", 20), ("boundary", 20), ("family_succession", 14), ("debt_contract", 12), ("marriage", 8),
            ("livestock", 8), ("assault", 6), ("theft", 6), ("other", 3), ("gbv", 2), ("sexual_offence", 1)]
DECISIONS = {
    "land": "The plot stays with the family; the claimant's share is the lower half towards the river.",
    "boundary": "The boundary follows the old mugumo tree line; the fence moves two metres within thirty days.",
    "family_succession": "The estate is shared equally among all the children, daughters included.",
    "debt_contract": "The respondent pays the balance in four monthly instalments.",
    "marriage": "The couple agreed to live apart for three months with the elders checking in monthly.",
    "livestock": "The respondent returns two goats or pays their value at the market price.",
    "assault": "The respondent apologises publicly and pays the clinic bill.",
    "theft": "The respondent returns the stolen items and apologises before the council.",
    "other": "Both sides keep the peace and report back to the council in a month.",
}
REMEDIES = {"land": ["property_shared"], "boundary": ["boundary_fixed"], "family_succession": ["property_shared"],
            "debt_contract": ["payment_plan"], "marriage": ["reconciliation"], "livestock": ["restitution"],
            "assault": ["apology", "compensation"], "theft": ["restitution", "apology"], "other": ["reconciliation"]}


def _ajs_values(rng: random.Random, serial: int, opened: dt.date) -> dict[str, Any]:
    category = rng.choices(*zip(*DISPUTES, strict=True))[0]
    mode = rng.choices(["autonomous", "court_referred", "court_annexed"], [7, 2, 1])[0]
    parties = []
    for role in ["claimant", "respondent", *(["interested"] if rng.random() < 0.3 else [])]:
        named = rng.random() < 0.5
        parties.append({"party_role": role, "sex": rng.choice(["female", "male"]),
                        "age_band": rng.choice(["25-34", "35-49", "50-59", "60+"]), "consent_named": named,
                        "name": _name(rng) if named else None})
    panel = [{"member_name": f"Mzee {_name(rng)}", "sex": "male", "panel_role": "chair"}]
    panel += [{"member_name": _name(rng), "sex": rng.choice(["female", "male"]), "panel_role": "member"}
              for _ in range(rng.randint(2, 4))]
    values: dict[str, Any] = {
        "register_no": f"KEC/{opened.year}/{serial:03d}", "opened_on": _day(opened),
        "mechanism": rng.choices(["elders_council", "chief", "peace_committee", "religious"], [6, 2, 1, 1])[0],
        "mode": mode, "court_reference": f"DEMO CMCC E{100 + serial}/{opened.year}" if mode != "autonomous" else None,
        "place": _place(rng), "dispute_category": category,
        "issues": f"DEMO: invented {category.replace('_', ' ')} dispute for training.",
        "claim_value": float(rng.choice([0, 5000, 20000, 150000])) or None,
        "parties": parties, "panel": panel, "share_consent": rng.random() < 0.5,
    }
    return values


def _ajs_steps(rng: random.Random, life: _Life, category: str) -> list[tuple[str, dict[str, Any]]]:
    steps: list[tuple[str, dict[str, Any]]] = []
    if category in ("gbv", "sexual_offence"):
        day = life.later(0, 3)
        if day is not None:
            steps.append(("add_referral", {"referred_on": _day(day), "referred_to": "police",
                                           "referral_note": "Belongs in the formal system."}))
            steps.append(("close", {"outcome": "referred_formal", "closed_on": _day(day)}))
        return steps
    for i in range(rng.randint(1, 4)):
        day = life.later(5 if i == 0 else 10, 28)
        if day is None:
            return steps
        steps.append(("add_session", {"held_on": _day(day), "venue": rng.choice(["Chief's camp", "Church hall",
                                                                                 "Under the mugumo tree"]),
                                      "panel_present": rng.randint(3, 5), "attendance": rng.choices(
                                          ["all", "claimant_only", "respondent_only"], [8, 1, 1])[0],
                                      "summary": f"DEMO hearing {i + 1}: both sides heard.",
                                      "next_on": _day(day + dt.timedelta(days=21))}))
    if rng.random() < 0.25:
        closed = life.later(1, 10)
        if closed:
            steps.append(("close", {"outcome": rng.choice(["reconciled", "withdrawn", "no_agreement"]),
                                    "closed_on": _day(closed)}))
        return steps
    decided = life.later(1, 14)
    if decided is None:
        return steps
    remedies = REMEDIES[category]
    decision = {"decided_on": _day(decided), "decision_text": DECISIONS[category], "remedies": remedies,
                "compliance_due": _day(decided + dt.timedelta(days=30))}
    if "compensation" in remedies:
        decision.update(compensation="KES 3,000 to the claimant for the clinic bill", compensation_kes=3000)
    steps.append(("record_decision", decision))
    checked = life.later(25, 45)
    if checked is None:
        return steps
    complied = rng.choices(["complied", "partly", "not_complied"], [6, 2, 1])[0]
    steps.append(("record_compliance", {"compliance": complied, "compliance_checked_on": _day(checked)}))
    if rng.random() < 0.3:
        filed = life.later(2, 20)
        if filed:
            steps.append(("file_for_adoption", {
                "screen_bill_of_rights": True, "screen_justice_morality": True, "screen_written_law": True,
                "screen_voluntary": True, "screen_not_excluded": True, "screened_on": _day(filed),
                "filing_court": "Kibera Law Courts (DEMO)", "filing_file_no": f"DEMO/AJS/{rng.randint(10, 99)}",
                "filed_on": _day(filed)}))
            ruled = life.later(14, 60)
            if ruled:
                steps.append(("record_court_result", {"court_result": rng.choices(
                    ["adopted", "varied", "set_aside"], [8, 2, 1])[0], "court_result_on": _day(ruled)}))
    if complied == "complied":
        steps += _close_and_reopen(rng, life, "ajs")
    return steps


# --- family-violence prevention programme -------------------------------------------------------------------------

GBV_TYPES = [("3", 35), ("6", 30), ("5", 18), ("2", 8), ("1", 5), ("4", 4)]


def _family_values(rng: random.Random, serial: int, opened: dt.date) -> dict[str, Any]:
    situation = rng.choices([["experiencing"], ["at_risk"], ["experiencing", "perpetrating"], ["perpetrating"]],
                            [6, 3, 1, 1])[0]
    incidents = []
    if "experiencing" in situation:
        for k in range(rng.choice([1, 1, 2])):
            happened = opened - dt.timedelta(days=rng.randint(1, 20) + 30 * k)
            incidents.append({
                "incident_on": _day(happened), "interviewed_on": _day(opened),
                "gbv_type": rng.choices(*zip(*GBV_TYPES, strict=True))[0],
                "context": rng.choice(["intimate_partner", "intimate_partner", "domestic_violence"]),
                "time_of_day": rng.choice(["evening", "night", "night", "morning", "afternoon"]),
                "location": rng.choices(["home", "street", "work", "other"], [8, 1, 1, 1])[0],
                "harmful_practice": "none", "money_exchanged": False, "abduction": "none",
                "previously_reported": rng.random() < 0.3, "previous_incidents": rng.random() < 0.6,
                "perpetrator_count": "1", "perpetrator_sex": "M", "same_perpetrator_before": rng.random() < 0.7,
                "perpetrator_age": rng.choice(["26-40", "26-40", "41-60", "18-25"]),
                "relationship": rng.choices(["intimate_partner", "family_other", "neighbour"], [8, 2, 1])[0],
                "perpetrator_occupation": rng.choice(["casual", "trader", "transport", "unemployed", "farmer"]),
                "wants_legal_action": rng.choice(["yes", "no", "undecided"]), "consent_share": rng.random() < 0.85,
            })
    indicators = []
    check = opened
    while True:
        check += dt.timedelta(days=rng.randint(25, 40))
        if check > clock.today():
            break
        better = len(indicators) >= 1 and rng.random() < 0.6
        indicators.append({"checked_on": _day(check),
                           "violence_since_last": "no" if better else rng.choice(["yes", "no", "unknown"]),
                           "feels_safe": "safe" if better else rng.choice(["somewhat", "unsafe"]),
                           "communication": "better" if better else rng.choice(["same", "worse"]),
                           "children_in_school": rng.choice(["yes", "yes", "unknown"])})
    safety = rng.random() < 0.7
    return {
        "case_no": f"FV/{opened.year}/{serial:03d}", "opened_on": _day(opened),
        "referred_from": rng.choice(["health", "police", "self", "chief", "community"]),
        "caseworker_code": rng.choice(["CW01", "CW02", "CW03"]), "participant_code": f"DEMO-P-{serial:04d}",
        "household_code": f"DEMO-HH-{serial:04d}", "situation": situation, "sex": "female",
        "age_band": rng.choice(["18-24", "25-34", "25-34", "35-49"]),
        "marital_status": rng.choice(["married", "married", "cohabiting", "separated"]), "disability": False,
        "displacement": "resident", "household_size": rng.randint(2, 8), "children_in_household": rng.randint(0, 5),
        "place": _place(rng), "risk_level": rng.choices(["low", "medium", "high"], [2, 5, 3])[0],
        "incidents": incidents, "safety_plan": safety, "safety_plan_on": _day(opened) if safety else None,
        "safety_plan_notes": "DEMO safety plan: invented." if safety else None, "indicators": indicators,
        "share_consent": rng.random() < 0.7,
    }


def _family_steps(rng: random.Random, life: _Life) -> list[tuple[str, dict[str, Any]]]:
    steps: list[tuple[str, dict[str, Any]]] = []
    referrals = 0
    for i in range(rng.randint(1, 8)):
        day = life.later(3 if i == 0 else 7, 21)
        if day is None:
            return steps
        steps.append(("add_session", {"held_on": _day(day), "session_type": rng.choice(
            ["individual", "individual", "couple", "family", "group"]), "notes": f"DEMO session {i + 1}.",
            "next_on": _day(day + dt.timedelta(days=14))}))
        if i < 2 and rng.random() < 0.45:
            steps.append(("add_referral", {"referred_on": _day(day), "referred_to": rng.choice(
                ["health", "police", "legal_aid", "rescue_centre", "livelihoods"])}))
            if rng.random() < 0.7:
                steps.append(("referral_result", {"index": referrals, "result": rng.choice(
                    ["received", "received", "declined", "unavailable"]), "result_on": _day(day)}))
            referrals += 1
    return steps + _close_and_reopen(rng, life, "family")


# --- filling ---------------------------------------------------------------------------------------------------------


def _agency(session, name: str, kind: str) -> str:
    row = session.db.one("SELECT id FROM agencies WHERE name = ?", (name,))
    if row is not None:
        return row[0]
    agency_id = uuid7()
    session.db.execute("INSERT INTO agencies(id, name, type, county, subcounty, is_local, created_at) "
                       "VALUES (?,?,?,?,?,0,?)", (agency_id, name, kind, "047", "Dagoretti North", clock.now_iso()))
    return agency_id


def _live(svc: CaseService, values: dict[str, Any], steps: list[tuple[str, dict[str, Any]]]) -> tuple[str, int]:
    record_id = svc.open(values)
    for key, kwargs in steps:
        svc.perform(record_id, key, **kwargs)
    return record_id, len(steps)


def fill_demo(session, rng: random.Random, size: str) -> list[str]:
    n = 12 if size == "small" else 60
    today = clock.today()
    summary = []
    plans = (("counselling_case", _counselling_values, lambda r, life, v: _counselling_steps(r, life)),
             ("ajs_case", _ajs_values, lambda r, life, v: _ajs_steps(r, life, v["dispute_category"])),
             ("family_case", _family_values, lambda r, life, v: _family_steps(r, life)))
    for form_name, make_values, make_steps in plans:
        svc = CaseService(session, form_name)
        if svc.count() > 0:
            continue
        steps_total = 0
        for serial in range(1, n + 1):
            opened = today - dt.timedelta(days=rng.randint(10, 340))
            values = make_values(rng, serial, opened)
            _record, steps = _live(svc, values, make_steps(rng, _Life(rng, opened), values))
            steps_total += steps
        summary.append(f"{svc.form.module}: {n} cases with {steps_total} steps (sessions, referrals, closing, "
                       "reopening)")
    svc = CaseService(session, "counselling_case")
    if svc.count() == n:
        other = _agency(session, *SECOND_SCHOOL)
        rows = []
        for serial in range(1, n // 2 + 1):
            values = _counselling_values(rng, 500 + serial, today - dt.timedelta(days=rng.randint(30, 300)))
            values.update(status="closed", outcome=rng.choice(["improved", "stable"]),
                          closure_reason="concern_resolved", closed_on=_day(today - dt.timedelta(days=5)))
            rows.append(values)
        svc.create_many(rows, agency_id=other)
        summary.append(f"counselling: {len(rows)} closed cases of a second school (seen de-identified)")
    return summary

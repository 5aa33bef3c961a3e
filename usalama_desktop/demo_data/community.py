"""Clearly fictional community data for the demo forum: users' feedback, police service ratings, complaints, a
safety audit, at-risk groups and team meetings.

Every name is invented and marked DEMO; phone numbers never appear (ratings that came by text message carry only
the keyed code the import would have made). The patterns are plausible, not real: courts slow but fair, the AP post
quicker but asked for bribes more often, complaints about bribes and refused reports leading, most complaints to
the OCS, a few to IPOA, and some left open long enough to show as slow redress.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from .. import clock
from ..io.sms import hash_phone, phone_key
from ..services.records import RecordService
from .observatory import WARDS

FEEDBACK_AGENCIES = [
    # (agency type, name, mean shift for ratings, chance of being asked for money)
    ("court", "Kibera Law Courts (DEMO)", 0.2, 0.10),
    ("police_station", "Kilimani Police Station (DEMO)", -0.4, 0.25),
    ("chief", "Kilimani Chief's Office (DEMO)", 0.3, 0.12),
    ("elders_council", "Kawangware Elders' Council (DEMO)", 0.6, 0.05),
    ("peace_committee", "Gatina Peace Committee (DEMO)", 0.7, 0.03),
    ("paralegal", "Haki Paralegal Desk (DEMO)", 0.9, 0.01),
]
STATIONS = [
    ("Kilimani Police Station (DEMO)", "police_station", "Kilimani", -0.2, 0.20),
    ("Kilimani AP Post (DEMO)", "ap_post", "Kawangware", -0.6, 0.35),
    ("Kabiro Police Post (DEMO)", "police_post", "Kabiro", 0.1, 0.15),
]
GROUPS = [
    ("Stage 46 Boda Boda Riders (DEMO)", "boda_boda", "Kawangware", "Kawangware 46 stage", 0.85),
    ("Adams Arcade Car Wash Youth (DEMO)", "car_wash", "Kilimani", "Adams Arcade", 0.7),
    ("Gatina Bar Hostesses Welfare (DEMO)", "bar_maids", "Gatina", "Gatina market", 0.05),
    ("Kabiro United Football Club (DEMO)", "sports_club", "Kabiro", "Kabiro market", 0.9),
    ("Route 46 Matatu Crew (DEMO)", "matatu_crew", "Kawangware", "Congo stage", 0.95),
    ("Kileleshwa Mama Mboga Savers (DEMO)", "other", "Kileleshwa", "Othaya road", 0.0),
]
GROUP_RULES = [
    "No riding under the influence of alcohol or drugs.",
    "Every member carries a helmet for the passenger.",
    "Disputes with clients go to the group chair, not to fights.",
    "Members contribute KES 50 every week to the savings pot.",
    "No member pays a bribe; report any demand to the chair.",
    "Report stolen motorbikes to the police the same day.",
]


def _day_within(rng: random.Random, days: int) -> dt.date:
    return clock.today() - dt.timedelta(days=rng.randrange(0, days))


def _rating(rng: random.Random, shift: float) -> str:
    return str(min(5, max(1, round(rng.gauss(3.1 + shift, 1.0)))))


def _place(ward: str, rng: random.Random) -> dict[str, str]:
    return {"county": "047", "subcounty": "Dagoretti North", "ward": ward, "village": rng.choice(WARDS[ward])}


def _demographics(rng: random.Random, prefix: str = "") -> dict[str, Any]:
    return {f"{prefix}sex": rng.choice(["female", "male", "female", "male", "unknown"]),
            f"{prefix}age_band": rng.choice(["18-24", "25-34", "25-34", "35-49", "50-59", "60+"])}


def feedback_values(rng: random.Random) -> dict[str, Any]:
    kind, name, shift, money = rng.choice(FEEDBACK_AGENCIES)
    asked = "yes" if rng.random() < money else rng.choice(["no", "no", "no", "unknown"])
    named = rng.random() < 0.1
    values = {
        "agency_type": kind, "agency_name": name, "place": _place(rng.choice(list(WARDS)), rng),
        "contact_date": _day_within(rng, 360).isoformat(),
        "user_role": rng.choice(["complainant", "complainant", "accused", "witness", "party", "relative"]),
        "matter": rng.choice(["criminal", "gbv", "land", "family", "debt"]),
        **{r: _rating(rng, shift) for r in ("timeliness", "respect", "fairness", "kept_informed", "overall")},
        "asked_money": asked, "paid_money": rng.choice(["yes", "no"]) if asked == "yes" else None,
        "improve": rng.choice([None, "DEMO: call us when the hearing date changes.",
                               "DEMO: the waiting bench needs a shade.", "DEMO: explain the fees in Kiswahili."]),
        "anonymous": not named,
        "channel": rng.choice(["form", "box", "meeting", "in_person", "phone"]),
        "status": rng.choice(["new", "discussed", "shared", "responded"]),
        **_demographics(rng),
    }
    if named:
        values.update({"name": f"Demo Feedback Giver {rng.randint(1, 999)}", "may_contact": rng.random() < 0.7})
    return values


def rating_values(rng: random.Random, key: bytes) -> dict[str, Any]:
    station, kind, ward, shift, bribe = rng.choice(STATIONS)
    service = rng.choices(["report_crime", "ob_abstract", "p3", "bail", "visit", "call"], [30, 20, 12, 8, 20, 10])[0]
    asked = "yes" if rng.random() < bribe else rng.choice(["no", "no", "unknown"])
    by_sms = rng.random() < 0.4
    values = {
        "station": station, "station_type": kind, "place": _place(ward, rng),
        "visit_date": _day_within(rng, 360).isoformat(),
        "visit_time": rng.choice(["morning", "afternoon", "evening",
                                  f"{rng.randint(7, 20):02d}:{rng.choice(['00', '30'])}"]),
        "service": service, "waiting_minutes": int(rng.expovariate(1 / 45)) + 2,
        "got_ob_number": rng.random() < 0.8 if service in ("report_crime", "ob_abstract") else None,
        **{r: _rating(rng, shift) for r in ("timeliness", "respect", "fairness", "kept_informed", "overall",
                                            "conduct")},
        "asked_bribe": asked, "paid_bribe": rng.choice(["yes", "no", "no"]) if asked == "yes" else None,
        "channel": "sms" if by_sms else rng.choice(["form", "in_person", "meeting"]),
        **_demographics(rng),
    }
    if by_sms:
        values["phone_hash"] = hash_phone(f"+2547000{rng.randint(10000, 99999)}", key)
    return values


def complaint_values(rng: random.Random, serial: int) -> dict[str, Any]:
    station, _kind, ward, _shift, _bribe = rng.choice(STATIONS)
    received = _day_within(rng, 330)
    occurred = received - dt.timedelta(days=rng.choice([0, 0, 1, 2, 5]))
    status = rng.choices(["received", "forwarded", "under_investigation", "resolved", "closed_no_action"],
                         [15, 25, 20, 30, 10])[0]
    forwarded = []
    if status != "received" or rng.random() < 0.2:
        first = received + dt.timedelta(days=rng.randint(0, 6))
        forwarded.append({"to": "ocs", "forwarded_on": min(first, clock.today()).isoformat(),
                          "their_ref": None, "response_on": None})
        if rng.random() < 0.3:
            later = min(first + dt.timedelta(days=rng.randint(7, 40)), clock.today())
            forwarded.append({"to": rng.choice(["iau", "ipoa"]), "forwarded_on": later.isoformat(),
                              "their_ref": f"DEMO/{rng.randint(100, 999)}/{later.year}", "response_on": None})
    closed = None
    if status in ("resolved", "closed_no_action"):
        closed = min(received + dt.timedelta(days=rng.randint(5, 120)), clock.today()).isoformat()
        for row in forwarded:
            row["forwarded_on"] = min(row["forwarded_on"], closed)
    known = rng.choice(["yes", "no", "unknown"])
    return {
        "complaint_ref": f"CMP {serial}/{received.year}", "received_on": received.isoformat(),
        "channel": rng.choice(["in_person", "sms", "phone", "meeting", "letter"]),
        "complaint_type": rng.choices(["bribery", "refused_report", "rudeness", "neglect", "force", "unlawful_arrest",
                                       "property", "threats"], [30, 18, 15, 12, 8, 7, 5, 5])[0],
        "what_happened": "DEMO: invented account for training; no real officer or person.",
        "station": station, "occurred_on": occurred.isoformat(), "place": _place(ward, rng),
        "officers_known": known,
        "officer_details": f"DEMO officer, service no. 00{rng.randint(1000, 9999)}" if known == "yes" else None,
        "complainant_name": f"Demo Complainant {serial}", "complainant_contact": None,
        **_demographics(rng, "complainant_"),
        "forwarded": forwarded, "status": status,
        "outcome": rng.choice(["apology", "disciplined", "returned", "service_given", "not_upheld", "withdrawn"])
        if closed else None,
        "closed_on": closed,
        "resolution": "DEMO: outcome explained to the complainant at the forum desk." if closed else None,
    }


def survey_values(rng: random.Random, round_id: str, start: dt.date, serial: int) -> dict[str, Any]:
    ward = rng.choice(list(WARDS))
    risk = {"Kawangware": 0.45, "Gatina": 0.4, "Kabiro": 0.35, "Kilimani": 0.25, "Kileleshwa": 0.2}[ward]
    hh = "yes" if rng.random() < risk else rng.choice(["no", "no", "no", "unknown"])
    p = "yes" if rng.random() < risk * 0.8 else rng.choice(["no", "no", "no", "unknown"])
    day = min(start + dt.timedelta(days=rng.randrange(0, 21)), clock.today())

    def reported() -> str:
        return rng.choices(["yes", "no", "unknown"], [35, 60, 5])[0]

    values: dict[str, Any] = {
        "round_id": round_id, "respondent_code": f"R{serial:04d}", "interview_date": day.isoformat(),
        "interviewer": f"INT-{rng.randint(1, 8):02d}", "consent": True, "place": _place(ward, rng),
        "household_size": rng.randint(1, 9), "hh_victim": hh, "p_victim": p,
        "safe_after_dark": rng.choices(["very_safe", "fairly_safe", "bit_unsafe", "very_unsafe", "never_alone",
                                        "dont_know"], [10, 25 - risk * 20, 25, 20 + risk * 30, 10, 3])[0],
        "trust_police": rng.choices(["great_deal", "quite_a_lot", "not_much", "none", "dont_know"],
                                    [8, 20, 40, 25, 7])[0],
        "trust_local_justice": rng.choices(["great_deal", "quite_a_lot", "not_much", "none", "dont_know"],
                                           [20, 35, 25, 12, 8])[0],
        **_demographics(rng),
    }
    if hh == "yes":
        values["hh_crimes"] = rng.sample(["burglary", "vehicle", "property_damage", "livestock", "crops"],
                                         rng.choice([1, 1, 2]))
        values["hh_reported"] = reported()
        if values["hh_reported"] == "no":
            values["hh_why_not"] = rng.sample(["not_serious", "no_use", "bribe", "fear", "solved", "other_authority"],
                                              rng.choice([1, 2]))
    if p == "yes":
        values["p_crimes"] = rng.sample(["robbery", "theft", "assault", "threat", "fraud", "bribe"], rng.choice([1, 2]))
        values["p_reported"] = reported()
        if values["p_reported"] == "no":
            values["p_why_not"] = rng.sample(["not_serious", "no_use", "bribe", "fear", "fear_police", "too_far"],
                                             rng.choice([1, 2]))
    return values


def group_values(rng: random.Random, name: str, kind: str, ward: str, landmark: str, male_share: float) -> dict:
    members = []
    for band in ("18-24", "25-34", "35-49"):
        total = rng.randint(3, 25)
        men = round(total * male_share)
        if men:
            members.append({"sex": "male", "age_band": band, "number": men})
        if total - men:
            members.append({"sex": "female", "age_band": band, "number": total - men})
    joined = _day_within(rng, 700)
    rules = []
    for rule in rng.sample(GROUP_RULES, rng.randint(1, 4)):
        adopted = joined + dt.timedelta(days=rng.randint(10, 120))
        shared = rng.random() < 0.6
        rules.append({"rule": rule, "adopted_on": min(adopted, clock.today()).isoformat(),
                      "shared_with_police": shared,
                      "shared_on": min(adopted + dt.timedelta(days=rng.randint(5, 60)), clock.today()).isoformat()
                      if shared else None})
    consent = rng.random() < 0.6
    return {
        "group_name": name, "group_type": kind, "type_other": "Market vendors' savings group" if kind == "other"
        else None, "base": {"county": "047", "subcounty": "Dagoretti North", "ward": ward, "village": landmark},
        "joined_on": joined.isoformat(), "registration": rng.choice(["social_services", "county", "sacco",
                                                                     "not_registered"]),
        "status": "active", "members": members, "contacts_consent": consent,
        "consent_date": joined.isoformat() if consent else None,
        "leader_contacts": "DEMO Chair (no real person), DEMO Secretary; numbers kept on the paper register"
        if consent else None,
        "rules": rules,
    }


def activity_values(rng: random.Random, group_id: str, day: dt.date, savings: float) -> dict[str, Any]:
    kind = rng.choices(["savings", "training", "police_meeting", "incident", "other"], [40, 20, 15, 20, 5])[0]
    values: dict[str, Any] = {"group_id": group_id, "activity_date": day.isoformat(), "kind": kind,
                              "participants_female": rng.randint(0, 8), "participants_male": rng.randint(2, 20)}
    if kind == "savings":
        values.update({"title": "Monthly savings meeting", "members_saving": rng.randint(5, 30),
                       "savings_total_kes": savings, "venture": rng.choice([None, "Motorbike spare parts kiosk",
                                                                            "Car wash pressure pump"])})
    elif kind == "training":
        values.update({"title": "Training session", "topic": rng.choice(["finance", "road_safety", "drugs",
                                                                          "conflict", "rights"]),
                       "trainer": "Usalama Forum (DEMO)"})
    elif kind == "police_meeting":
        values.update({"title": "Joint meeting with the OCS", "station": rng.choice(STATIONS)[0],
                       "rules_discussed": rng.random() < 0.7, "issues": "DEMO: parking at the stage, night patrols"})
    elif kind == "incident":
        resolved = rng.choice(["yes", "yes", "no", "unknown"])
        values.update({"title": "Incident reported to the group", "incident_type": rng.choice(
            ["internal", "clients", "police", "crash", "theft", "violence"]),
            "reported_to_police": rng.choice(["yes", "no"]), "resolved": resolved,
            "resolution": "DEMO: settled by the group chair" if resolved == "yes" else None})
    else:
        values["title"] = "Clean-up of the stage"
    return values


def meeting_values(rng: random.Random, team: str, day: dt.date) -> dict[str, Any]:
    members = {"observatory": ["police_station", "chief_office", "children_office", "health_facility",
                               "rescue_centre", "community_safety_forum"],
               "access_to_justice": ["ajs_forum", "paralegal", "chief_office", "community_safety_forum"],
               "police_service": ["police_station", "ap_post", "community_safety_forum", "paralegal"]}[team]
    actions = []
    for _ in range(rng.randint(1, 3)):
        due = day + dt.timedelta(days=rng.choice([14, 21, 30, 45]))
        age = (clock.today() - day).days
        status = rng.choices(["done", "dropped", "in_progress", "open"],
                             [70, 10, 10, 10] if age > 90 else [20, 5, 35, 40])[0]
        actions.append({
            "action": rng.choice(["Share last month's register summary with the chief",
                                  "Follow up the P3 forms not filled at the health centre",
                                  "Invite the boda boda chairs to the next meeting",
                                  "Ask the OCS to reply on the complaints forwarded",
                                  "Print feedback forms in Kiswahili",
                                  "Check that every agency sends its data by the 5th"]),
            "owner": rng.choice(["Forum coordinator (DEMO)", "OCS Kilimani (DEMO)", "Chief Kilimani (DEMO)",
                                 "Paralegal desk (DEMO)"]),
            "due_on": due.isoformat(), "status": status,
            "done_on": min(due, clock.today()).isoformat() if status == "done" else None,
        })
    return {
        "team": team, "meeting_date": day.isoformat(), "venue": "Kilimani Chief's Camp hall (DEMO)",
        "present": [{"agency_type": t, "agency_name": None, "number": rng.randint(1, 3)} for t in members],
        "data_reviewed": {"observatory": ["observatory", "cases"], "access_to_justice": ["feedback", "cases"],
                          "police_service": ["police_ratings", "complaints"]}[team],
        "data_notes": "DEMO: assaults up in the evenings near the stages.",
        "lessons": "DEMO: send the summary before the meeting, not on the day.",
        "decisions": "DEMO: agreed to review open complaints at every meeting.",
        "action_points": actions,
    }


def _monthly(count: int, end: dt.date) -> list[dt.date]:
    """One date a month going back ``count`` months, on a weekday in the second week."""
    out = []
    for k in range(count):
        month = (end.year * 12 + end.month - 1) - k - 1
        day = dt.date(month // 12, month % 12 + 1, 10)
        while day.weekday() >= 5:
            day += dt.timedelta(days=1)
        out.append(day)
    return out


def fill_demo(session, rng: random.Random, size: str) -> list[str]:
    if RecordService(session, "feedback").count() > 0:
        return []
    small = size == "small"
    lines = []
    n = 60 if small else 240
    RecordService(session, "feedback").create_many([feedback_values(rng) for _ in range(n)])
    lines.append(f"feedback: {n} users' ratings of six justice agencies")
    n = 80 if small else 320
    key = phone_key(session.db)
    RecordService(session, "police_rating").create_many([rating_values(rng, key) for _ in range(n)])
    n_complaints = 12 if small else 40
    RecordService(session, "police_complaint").create_many(
        [complaint_values(rng, i + 1) for i in range(n_complaints)])
    lines.append(f"policing: {n} service ratings of three stations, {n_complaints} complaints about conduct")

    rounds = RecordService(session, "survey_round")
    # Fieldwork two months back, so the observatory's year of demo incidents covers the same months.
    start = (clock.today() - dt.timedelta(days=60)).replace(day=1)
    year = start.year
    round_id = rounds.create({
        "round_code": f"CSA-{year}-DAGORETTI-N", "year": year,
        "area": {"county": "047", "subcounty": "Dagoretti North", "ward": None, "village": None},
        "area_note": ", ".join(WARDS), "sample_planned": 100 if small else 400, "sampling": "household_random",
        "fieldwork_start": start.isoformat(), "fieldwork_end": (start + dt.timedelta(days=20)).isoformat(),
        "partners": "Usalama Forum (DEMO)",
        "status": "published"})
    n = 100 if small else 400
    RecordService(session, "survey_response").create_many(
        [survey_values(rng, round_id, start, i + 1) for i in range(n)])
    lines.append(f"safety audit: round {year} with {n} interviews in five wards")

    groups = RecordService(session, "risk_group")
    activities = []
    for spec in GROUPS:
        group_id = groups.create(group_values(rng, *spec))
        savings = 0.0
        for day in reversed(_monthly(6 if small else 12, clock.today())):
            savings += rng.randint(2, 12) * 500
            activities.append(activity_values(rng, group_id, day, savings))
    RecordService(session, "group_activity").create_many(activities)
    lines.append(f"groups: {len(GROUPS)} at-risk groups with {len(activities)} activities")

    meetings = [meeting_values(rng, team, day) for team in ("observatory", "access_to_justice", "police_service")
                for day in _monthly(4 if small else 12, clock.today())]
    RecordService(session, "team_meeting").create_many(meetings)
    lines.append(f"meetings: {len(meetings)} team meetings with action points")
    return lines

"""A realistic, clearly fictional year of Crime Observatory data for several agencies of one forum.

Everything here is invented: reference numbers, people and narratives. The mix of offences, times and places
follows the shape of Kenyan station registers (assault, stealing and breakings lead; evenings and nights busiest;
health facilities and children's offices see mostly violence against women and children).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from .. import clock
from ..services.records import RecordService
from ..store.ids import uuid7

DEMO_AGENCIES = [
    ("Kilimani Police Station (DEMO)", "police_station", 1.0),
    ("Kilimani AP Post (DEMO)", "ap_post", 0.35),
    ("Kilimani Chief's Office (DEMO)", "chief_office", 0.3),
    ("Dagoretti Children's Office (DEMO)", "children_office", 0.2),
    ("Kilimani Health Centre (DEMO)", "health_facility", 0.25),
    ("Amani Rescue Centre (DEMO)", "rescue_centre", 0.1),
    ("Haki Paralegal Desk (DEMO)", "paralegal", 0.1),
]

WARDS = {
    "Kilimani": ["Yaya Centre", "Adams Arcade", "Kibera Drive", "Argwings Kodhek Road", "Ngong Road stage"],
    "Kawangware": ["Kawangware 46 stage", "Congo stage", "Stage 2 market", "Muslim area", "Gatina road"],
    "Gatina": ["Gatina market", "Kabiro road", "Riruta junction", "Kawangware primary"],
    "Kileleshwa": ["Kileleshwa shopping centre", "Othaya road", "Mandera road", "Laikipia road"],
    "Kabiro": ["Kabiro market", "Waithaka road", "Kawangware 56", "Kabiro chief's camp"],
}

# (category value, weight) for a police station; other agencies reweight below.
POLICE_MIX = [
    ("other_offences_against_persons", 22), ("stealing", 20), ("breakings", 10), ("offences_against_morality", 7),
    ("dangerous_drugs", 8), ("robbery", 6), ("traffic_offences", 6), ("criminal_damage", 4), ("economic_crimes", 4),
    ("theft_by_servant", 2), ("theft_of_vehicles_and_parts", 2), ("homicide", 1), ("corruption", 1),
    ("other_penal_code_offences", 5), ("theft_of_stock", 1), ("offences_involving_police_officers", 1),
]
AGENCY_MIX = {
    "health_facility": [("other_offences_against_persons", 60), ("offences_against_morality", 35), ("homicide", 2),
                        ("dangerous_drugs", 3)],
    "children_office": [("offences_against_morality", 40), ("other_offences_against_persons", 35),
                        ("other_penal_code_offences", 25)],
    "rescue_centre": [("other_offences_against_persons", 55), ("offences_against_morality", 45)],
    "paralegal": [("other_offences_against_persons", 40), ("economic_crimes", 20), ("stealing", 20),
                  ("other_penal_code_offences", 20)],
    "chief_office": [("other_offences_against_persons", 35), ("stealing", 20), ("criminal_damage", 15),
                     ("dangerous_drugs", 15), ("theft_of_stock", 5), ("other_penal_code_offences", 10)],
}
SUBTYPES = {
    "other_offences_against_persons": ["assault", "creating disturbance", "grievous harm", "affray"],
    "stealing": ["general stealing", "stealing from person", "phone snatching"],
    "breakings": ["house breaking", "store breaking", "burglary"],
    "offences_against_morality": ["rape", "defilement", "attempted defilement", "indecent act"],
    "dangerous_drugs": ["possession of bhang", "trafficking", "possession of heroin"],
    "robbery": ["robbery with violence", "robbery"],
    "traffic_offences": ["careless driving", "driving unlicensed boda boda"],
    "homicide": ["murder", "manslaughter"],
}
GBV_CATEGORIES = {"offences_against_morality": ["1", "2"], "other_offences_against_persons": ["3", "6"]}
HOUR_WEIGHTS = [3, 2, 2, 1, 1, 1, 2, 3, 4, 4, 4, 4, 5, 5, 5, 5, 6, 7, 9, 10, 10, 9, 7, 5]


def ensure_agencies(session) -> list[tuple[str, str]]:
    """The demo forum's member agencies (created once), as (id, type)."""
    out = []
    for name, kind, _weight in DEMO_AGENCIES:
        row = session.db.one("SELECT id, type FROM agencies WHERE name = ?", (name,))
        if row is None:
            agency_id = uuid7()
            session.db.execute("INSERT INTO agencies(id, name, type, county, subcounty, is_local, created_at) "
                               "VALUES (?,?,?,?,?,0,?)", (agency_id, name, kind, "047", "Dagoretti North",
                                                         clock.now_iso()))
            out.append((agency_id, kind))
        else:
            out.append((row[0], row[1]))
    return out


def _pick(rng: random.Random, mix):
    values, weights = zip(*mix, strict=True)
    return rng.choices(values, weights)[0]


def incident_values(rng: random.Random, agency_type: str, day: dt.date, serial: int) -> dict[str, Any]:
    category = _pick(rng, AGENCY_MIX.get(agency_type, POLICE_MIX))
    ward = rng.choice(list(WARDS))
    hour = rng.choices(range(24), HOUR_WEIGHTS)[0]
    r = rng.random()
    when = f"{hour:02d}:{rng.randrange(0, 60, 5):02d}" if r < 0.7 else (
        rng.choice(["morning", "afternoon", "evening", "night"]) if r < 0.9 else "unknown")
    reported = min(day + dt.timedelta(days=rng.choice([0, 0, 0, 1, 1, 2, 5])), clock.today())
    gbv = category in GBV_CATEGORIES and (category == "offences_against_morality" or rng.random() < 0.35)
    n_victims = rng.choices([1, 1, 1, 2, 3], k=1)[0]
    victims = []
    for _ in range(n_victims):
        band = rng.choices(["5-9", "10-14", "15-17", "18-24", "25-34", "35-49", "50-59", "60+"],
                           [3, 6, 7, 20, 28, 22, 9, 5] if not (gbv and agency_type == "children_office")
                           else [20, 40, 40, 0, 0, 0, 0, 0])[0]
        sex = "female" if gbv and rng.random() < 0.9 else rng.choice(["female", "male"])
        victims.append({"sex": sex, "age_band": band, "disability": rng.random() < 0.04,
                        "minor": band in ("0-4", "5-9", "10-14", "15-17")})
    perps = [{"sex": "male" if rng.random() < 0.85 else "female",
              "age_band": rng.choice(["18-24", "25-34", "35-49", "unknown"]),
              "relationship": rng.choice(["intimate_partner", "family_other", "neighbour", "unknown"]) if gbv
              else rng.choice(["no_relation", "unknown", "neighbour", "community_member"])}
             for _ in range(rng.choice([0, 1, 1, 1, 2]))]
    status = rng.choices(["open", "investigation", "in_court", "referred", "closed"], [20, 25, 15, 10, 30])[0]
    prefix = "OB" if agency_type in ("police_station", "ap_post") else {"health_facility": "HR", "children_office":
                                                                         "CO"}.get(agency_type, "REG")
    values: dict[str, Any] = {
        "agency_ref": f"{prefix} {serial}/{day.day:02d}/{day.month:02d}/{day.year}",
        "occurred_on": day.isoformat(),
        "occurred_time": when,
        "reported_on": reported.isoformat(),
        "place": {"county": "047", "subcounty": "Dagoretti North", "ward": ward,
                  "village": rng.choice(WARDS[ward])},
        "offence_category": category,
        "offence_subtype": rng.choice(SUBTYPES.get(category, [None])),
        "gbv": gbv,
        "gbvims_type": rng.choice(GBV_CATEGORIES[category]) if gbv else None,
        "gbv_context": rng.choice(["domestic_violence", "intimate_partner", "child_sexual_abuse", "none"]) if gbv
        else None,
        "weapon": rng.choices(["none", "sharp", "blunt", "body", "firearm", "unknown"], [30, 15, 15, 25, 2, 13])[0],
        "alcohol_drugs": rng.choice(["yes", "no", "unknown"]),
        "victim_count": n_victims,
        "victims": victims,
        "perpetrators": perps,
        "action_taken": sorted(rng.sample(["recorded", "investigation", "arrest", "p3", "medical", "counselling"],
                                          rng.randint(1, 3)),
                               key=["recorded", "investigation", "arrest", "p3", "medical", "counselling"].index),
        "referrals": ["health", "police"][: rng.randint(0, 2)] or None,
        "status": status,
        "outcome": rng.choice(["no_further_action", "charged", "convicted", "withdrawn", "resolved_locally"])
        if status in ("closed", "referred", "in_court") else None,
        "narrative": f"DEMO record {serial}: invented account for training, no real person.",
    }
    return values


def year_of_incidents(rng: random.Random, agencies: list[tuple[str, str]], per_day: float, end: dt.date,
                      days: int = 365):
    """(agency_id, values) for every incident of a year, busier agencies more often, weekends a bit busier."""
    serials: dict[str, int] = {}
    start = end - dt.timedelta(days=days - 1)
    weights = {kind: w for _n, kind, w in DEMO_AGENCIES}
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        weekend = 1.3 if day.weekday() >= 4 else 1.0
        december = 1.25 if day.month == 12 else 1.0
        for agency_id, kind in agencies:
            expected = per_day * weights.get(kind, 0.2) * weekend * december
            n = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
            for _ in range(n):
                serials[agency_id] = serials.get(agency_id, 0) + 1
                yield agency_id, incident_values(rng, kind, day, serials[agency_id])


def fill_demo(session, rng: random.Random, size: str) -> list[str]:
    svc = RecordService(session, "incident")
    if svc.count() > 0:
        return []
    with session.db.transaction():
        agencies = ensure_agencies(session)
    per_day = 1.5 if size == "small" else 6.0
    by_agency: dict[str, list] = {}
    for agency_id, values in year_of_incidents(rng, agencies, per_day, clock.today()):
        by_agency.setdefault(agency_id, []).append(values)
    total = 0
    for agency_id, rows in by_agency.items():
        for start in range(0, len(rows), 2000):
            svc.create_many(rows[start:start + 2000], agency_id=agency_id)
        total += len(rows)
    return [f"observatory: {total} incidents over the last year from {len(agencies)} agencies"]

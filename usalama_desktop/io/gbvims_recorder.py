"""The family programme's incidents in the column layout of the GBVIMS Incident Recorder, for GBV partners.

One row per incident, codes only: the survivor and the caseworker appear as codes, the reporting agency as the code
the partners gave it; no names, household codes or villages. By default only incidents whose survivor consented to
sharing are written (the recorder's "consent given" column then says so for every row).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import UsalamaError
from ..forms.definition import not_before
from ..forms.fields import FieldError, parse_date
from ..forms.registry import ref
from ..fsutil import atomic_writer
from ..i18n import _
from ..reference import county_name
from ..services.installation import Session
from ..services.records import Query, RecordService

FORM = "family_case"
COLUMNS = (
    "Incident ID", "Survivor code", "Caseworker code", "Date of interview", "Date of incident", "Date of birth", "Sex",
    "Ethnicity", "Country of origin", "Marital status", "Displacement status", "Person with disability",
    "Unaccompanied or separated child", "Incident time of day", "Incident location", "County", "District",
    "Camp/town", "GBV type", "Harmful traditional practice", "Money/goods/benefits exchanged", "Type of abduction",
    "Previously reported", "Previous incidents", "Number of alleged perpetrators", "Perpetrator sex",
    "Previous incident with this perpetrator", "Perpetrator age group", "Perpetrator-survivor relationship",
    "Perpetrator occupation", "Referred from", "Safe house", "Health", "Psychosocial", "Wants legal action",
    "Legal assistance", "Police", "Livelihoods", "Child protection/education", "Consent given",
    "Reporting agency code",
)
# Incident Recorder service column -> the programme's referral target.
SERVICES = (("Safe house", "rescue_centre"), ("Health", "health"), ("Psychosocial", "psychosocial"),
            ("Legal assistance", "legal_aid"), ("Police", "police"), ("Livelihoods", "livelihoods"),
            ("Child protection/education", "child_protection"))
REFERRED, OWN_AGENCY, NOT_APPLICABLE = "Referred", "Service provided by your agency", "Not applicable"
RESULT = {"pending": REFERRED, "received": REFERRED, "not_reached": REFERRED,
          "declined": "Declined by survivor", "unavailable": "Service unavailable"}
TIME_OF_DAY = {"morning": "Morning", "afternoon": "Noon", "evening": "Evening", "night": "Night",
               "unknown": "Unknown"}
PERPETRATOR_SEX = {"M": "M", "F": "F", "MF": "M and F", "unknown": "Unknown"}
PERPETRATOR_AGE = {"61+": "61 & older"}
YES_NO = {True: "Yes", False: "No", None: ""}


def _fields(group: str, *names: str) -> dict[str, str]:
    """Fields of a repeat group named through ref(), so a renamed field fails at import, not in a partner's sheet."""
    return {n: ref(FORM, f"{group}.{n}").split(".")[1] for n in names}


INC = _fields("incidents", "incident_on", "interviewed_on", "gbv_type", "time_of_day", "location", "harmful_practice",
              "money_exchanged", "abduction", "previously_reported", "previous_incidents", "perpetrator_count",
              "perpetrator_sex", "same_perpetrator_before", "perpetrator_age", "relationship",
              "perpetrator_occupation", "wants_legal_action", "consent_share")
REF = _fields("referrals", "referred_on", "referred_to", "result")


def _day(text: str | None, message: str) -> str | None:
    if not text:
        return None
    try:
        return parse_date(text, "either")
    except FieldError:
        raise UsalamaError(message) from None


def export_gbvims(session: Session, path: Path, date_from: str | None = None, date_to: str | None = None,
                  agency_code: str | None = None, consented_only: bool = True,
                  progress: Callable[[int, int], None] | None = None) -> int:
    """Write the incidents that happened between the dates (inclusive). Returns the number of rows written."""
    svc = RecordService(session, FORM)
    svc.require("export")
    date_from = _day(date_from, _("The start date is not a date; write it as YYYY-MM-DD."))
    date_to = _day(date_to, _("The end date is not a date; write it as YYYY-MM-DD."))
    code = (agency_code or "").strip() or f"AG-{session.agency.id.replace('-', '')[-6:].upper()}"
    total = svc.count()
    rows: list[list[Any]] = []
    for done, record in enumerate(svc.iter_records(Query()), 1):
        rows.extend(incident_rows(svc, record["values"], code, date_from, date_to, consented_only))
        if progress:
            progress(done, total)
    _save(Path(path), rows, date_from, date_to, consented_only)
    session.audit("family.gbvims_export", svc.module, "", {"form": FORM, "rows": len(rows),
                                                          "consented_only": consented_only})
    return len(rows)


def incident_rows(svc: RecordService, values: dict[str, Any], agency_code: str, date_from: str | None = None,
                  date_to: str | None = None, consented_only: bool = True) -> list[list[Any]]:
    form = svc.form
    incidents = form.repeat_by_name[ref(FORM, "incidents")]

    def label(name: str, value: Any) -> str:
        return incidents.by_name[name].display(value, "en") if value is not None else ""

    def top(name: str) -> str:
        return form.by_name[name].display(values.get(name), "en") if values.get(name) is not None else ""

    place = values.get(ref(FORM, "place")) or {}
    referrals = sorted(values.get(ref(FORM, "referrals")) or [], key=lambda r: r.get(REF["referred_on"]) or "")
    has_sessions = bool(values.get(ref(FORM, "sessions")))
    case_no = values.get(ref(FORM, "case_no")) or ""
    out = []
    for n, incident in enumerate(values.get(ref(FORM, "incidents")) or [], 1):
        happened = incident.get(INC["incident_on"]) or ""
        if (date_from and not not_before(happened, date_from)) or (date_to and not not_before(date_to, happened)):
            continue
        if consented_only and not incident.get(INC["consent_share"]):
            continue
        services = {}
        for column, target in SERVICES:
            latest = [r for r in referrals if r.get(REF["referred_to"]) == target
                      and not_before(r.get(REF["referred_on"]), happened)]
            if latest:
                services[column] = RESULT.get(latest[-1].get(REF["result"]) or "pending", REFERRED)
            elif column == "Psychosocial" and has_sessions:
                services[column] = OWN_AGENCY
            else:
                services[column] = NOT_APPLICABLE
        legal = incident.get(INC["wants_legal_action"])
        out.append([
            f"{case_no}-{n}" if case_no else f"{n}", values.get(ref(FORM, "participant_code")) or "",
            values.get(ref(FORM, "caseworker_code")) or "", incident.get(INC["interviewed_on"]) or "", happened, "",
            top(ref(FORM, "sex")), "", "", top(ref(FORM, "marital_status")), top(ref(FORM, "displacement")),
            YES_NO[values.get(ref(FORM, "disability"))], "",
            TIME_OF_DAY.get(incident.get(INC["time_of_day"]), ""), label(INC["location"], incident.get(INC["location"])),
            county_name(place.get("county")), place.get("subcounty") or "", place.get("ward") or "",
            label(INC["gbv_type"], incident.get(INC["gbv_type"])),
            "No" if incident.get(INC["harmful_practice"]) == "none" else label("harmful_practice",
                                                                          incident.get(INC["harmful_practice"])),
            YES_NO[incident.get(INC["money_exchanged"])], label(INC["abduction"], incident.get(INC["abduction"])),
            YES_NO[incident.get(INC["previously_reported"])], YES_NO[incident.get(INC["previous_incidents"])],
            label(INC["perpetrator_count"], incident.get(INC["perpetrator_count"])),
            PERPETRATOR_SEX.get(incident.get(INC["perpetrator_sex"]), ""),
            YES_NO[incident.get(INC["same_perpetrator_before"])],
            PERPETRATOR_AGE.get(incident.get(INC["perpetrator_age"]), incident.get(INC["perpetrator_age"]) or ""),
            label(INC["relationship"], incident.get(INC["relationship"])),
            label(INC["perpetrator_occupation"], incident.get(INC["perpetrator_occupation"])),
            top(ref(FORM, "referred_from")),
            services["Safe house"], services["Health"], services["Psychosocial"],
            {"yes": "Yes", "no": "No", "undecided": "Undecided"}.get(legal, ""),
            services["Legal assistance"], services["Police"], services["Livelihoods"],
            services["Child protection/education"], YES_NO[incident.get(INC["consent_share"])], agency_code,
        ])
    return out


def _save(path: Path, rows: list[list[Any]], date_from: str | None, date_to: str | None,
          consented_only: bool) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Incident Recorder"
    ws.append(list(COLUMNS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(row)
    ws.freeze_panes = "A2"
    about = wb.create_sheet("About")
    for line in (
        [_("Incidents of the family-violence prevention programme in the GBVIMS Incident Recorder layout.")],
        [_("Codes only: no names, household codes or villages.")],
        [_("Incidents from"), date_from or ""], [_("Incidents to"), date_to or ""],
        [_("Only incidents with the survivor's consent to share"), _("Yes") if consented_only else _("No")],
        [_("Rows"), len(rows)],
    ):
        about.append(line)
    with atomic_writer(path) as f:
        wb.save(f)

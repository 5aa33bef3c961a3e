"""The printable AJS decision record, for filing in court for adoption: A4, the council's name on every page,
page numbers "Page n of N", the Article 159(3) screening, and signature lines.

Parties appear by name only where their consent to be named is recorded; the others as "name withheld".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from .. import clock
from ..errors import PermissionDenied, UsalamaError
from ..forms.registry import ref
from ..fsutil import atomic_writer
from ..i18n import _, language
from ..services.installation import Session
from ..services.records import RecordService
from .pages import numbered_canvas

FORM = "ajs_case"


def _fields(group: str, *names: str) -> dict[str, str]:
    return {n: ref(FORM, f"{group}.{n}").split(".")[1] for n in names}


PARTY = _fields("parties", "party_role", "sex", "age_band", "consent_named", "name")
PANEL = _fields("panel", "member_name", "sex", "panel_role")
HEARING = _fields("hearings", "held_on", "venue", "attendance", "summary")


def _para(text: Any) -> str:
    """User text made safe for a reportlab paragraph (its markup is XML) with line breaks kept."""
    return escape(str(text or "")).replace("\n", "<br/>")


def decision_record_pdf(session: Session, record_id: str, path: Path, lang: str | None = None) -> dict[str, int]:
    """Write the decision record of one AJS case. Returns what went in (pages, parties named, parties withheld)."""
    svc = RecordService(session, FORM)
    svc.require("export")
    form = svc.form
    if form.by_name[ref(FORM, "decision_text")].tier not in svc.tiers:
        raise PermissionDenied(_("Your role may not print decision records."))
    record = svc.get(record_id)
    values = record["values"]
    if not values.get(ref(FORM, "decided_on")):
        raise UsalamaError(_("This case has no decision yet; record the decision first, then print it."))
    council = session.agency_name(record["spine"]["agency_id"])
    with language(lang):
        stats = _write(Path(path), form, values, record["spine"], council)
    session.audit("ajs.decision_record", svc.module, record_id, {"form": FORM, **stats})
    return stats


def _write(path: Path, form, values: dict[str, Any], spine: dict[str, Any], council: str) -> dict[str, int]:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    body, small = styles["BodyText"], styles["BodyText"].clone("small", fontSize=8, leading=10)
    h1, h2 = styles["Title"], styles["Heading2"]
    register = values.get(ref(FORM, "register_no")) or ""

    def label(name: str) -> str:
        return form.label_of(name)

    def show(name: str) -> str:
        return form.by_name[name].display(values.get(name))

    def grid(rows: list[list[Any]], widths: list[float], header: bool = True) -> Table:
        cells = [[Paragraph(_para(c), small if header and i == 0 else body) for c in row]
                 for i, row in enumerate(rows)]
        table = Table(cells, colWidths=widths, repeatRows=1 if header else 0)
        style = [("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]
        if header:
            style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")))
        table.setStyle(TableStyle(style))
        return table

    story: list[Any] = [
        Paragraph(_para(council), h2),
        Paragraph(_para(_("Record of decision")), h1),
        Paragraph(_para(_("Alternative justice system (Article 159(2)(c) of the Constitution), for filing in court "
                          "for adoption.")), body),
        Spacer(1, 4 * mm),
    ]
    facts = [ref(FORM, n) for n in ("register_no", "opened_on", "mechanism", "mode", "court_reference",
                                    "dispute_category", "place", "claim_value")]
    story.append(grid([[label(n), show(n)] for n in facts if values.get(n) not in (None, "")],
                      [55 * mm, 115 * mm], header=False))

    parties = form.repeat_by_name[ref(FORM, "parties")]
    named = withheld = 0
    shown = [PARTY["party_role"], PARTY["sex"], PARTY["age_band"]]
    rows = [[_("Party"), *(parties.by_name[n].label.text() for n in shown), _("Name")]]
    for i, party in enumerate(values.get(parties.name) or [], 1):
        if party.get(PARTY["consent_named"]) and party.get(PARTY["name"]):
            name = party[PARTY["name"]]
            named += 1
        else:
            name = _("Name withheld (no consent to be named)")
            withheld += 1
        rows.append([str(i), *(parties.by_name[n].display(party.get(n)) for n in shown), name])
    story += [Paragraph(_para(parties.label.text()), h2), grid(rows, [14 * mm, 32 * mm, 26 * mm, 30 * mm, 68 * mm])]

    panel = form.repeat_by_name[ref(FORM, "panel")]
    if values.get(panel.name):
        rows = [[panel.by_name[n].label.text() for n in PANEL.values()]]
        rows += [[panel.by_name[n].display(m.get(n)) for n in PANEL.values()] for m in values[panel.name]]
        story += [Paragraph(_para(panel.label.text()), h2), grid(rows, [90 * mm, 40 * mm, 40 * mm]),
                  Paragraph(_para(_("Women on the panel: {women}; men: {men}.").format(
                      women=values.get(ref(FORM, "panel_women")) or 0, men=values.get(ref(FORM, "panel_men")) or 0)),
                      body)]

    if values.get(ref(FORM, "issues")):
        issues = ref(FORM, "issues")
        story += [Paragraph(_para(label(issues)), h2), Paragraph(_para(values[issues]), body)]

    hearings = form.repeat_by_name[ref(FORM, "hearings")]
    if values.get(hearings.name):
        story.append(Paragraph(_para(hearings.label.text()), h2))
        attendance = hearings.by_name[HEARING["attendance"]]
        for h in values[hearings.name]:
            line = " · ".join(x for x in (h.get(HEARING["held_on"]), h.get(HEARING["venue"]),
                                          attendance.display(h.get(attendance.name))) if x)
            story.append(Paragraph("<b>" + _para(line) + "</b>", body))
            if h.get(HEARING["summary"]):
                story.append(Paragraph(_para(h[HEARING["summary"]]), body))

    story += [Paragraph(_para(_("Decision")), h2),
              Paragraph(_para(_("Decided on {date}.").format(date=values.get(ref(FORM, "decided_on")))), body),
              Paragraph(_para(values.get(ref(FORM, "decision_text"))), body), Spacer(1, 2 * mm)]
    terms = [ref(FORM, n) for n in ("remedies", "compensation", "compensation_kes", "compliance_due")]
    terms = [n for n in terms if values.get(n) not in (None, "", [])]
    if terms:
        story.append(grid([[label(n), show(n)] for n in terms], [55 * mm, 115 * mm], header=False))

    story.append(Paragraph(_para(_("Article 159(3) screening")), h2))
    answers = {True: _("Yes"), False: _("No"), None: _("Not answered")}
    screening = [[label(n), answers[values.get(n)]] for n in
                 (ref(FORM, q) for q in ("screen_bill_of_rights", "screen_justice_morality", "screen_written_law",
                                         "screen_voluntary", "screen_not_excluded"))]
    if values.get(ref(FORM, "screened_on")):
        screening.append([label(ref(FORM, "screened_on")), values[ref(FORM, "screened_on")]])
    story.append(grid(screening, [130 * mm, 40 * mm], header=False))

    filing = [ref(FORM, n) for n in ("filing_court", "filing_file_no", "filed_on", "court_result", "court_result_on")]
    filing = [n for n in filing if values.get(n) not in (None, "")]
    if filing:
        story += [Paragraph(_para(_("Court filing")), h2),
                  grid([[label(n), show(n)] for n in filing], [55 * mm, 115 * mm], header=False)]

    story += [Spacer(1, 10 * mm), Paragraph(_para(_("Signatures")), h2)]
    signers = [_("Chair of the panel"), _("Secretary")] + [
        _("Party {n}").format(n=i) for i in range(1, len(values.get(parties.name) or []) + 1)]
    story.append(Table([[s, "_" * 38, _("Date: ") + "_" * 12] for s in signers],
                       colWidths=[45 * mm, 85 * mm, 40 * mm], rowHeights=[11 * mm] * len(signers)))
    story += [Spacer(1, 6 * mm), Paragraph(_para(_("Printed on {date} from Usalama Desktop; record {id}, revision "
                                                   "{rev}.").format(date=clock.today().isoformat(), id=spine["id"],
                                                                   rev=spine["revision"])), small)]

    NumberedCanvas, pages = numbered_canvas(f"{council} · {register}"[:110], foot_mm=12)

    with atomic_writer(path) as f:
        doc = SimpleDocTemplate(f, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm,
                                bottomMargin=20 * mm, title=_("Record of decision"), author=council, invariant=1)
        doc.build(story, canvasmaker=NumberedCanvas)
    return {"pages": pages["n"], "parties_named": named, "parties_withheld": withheld}

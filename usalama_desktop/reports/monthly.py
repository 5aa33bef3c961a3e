"""The monthly summary for the team meeting and the Safety Forum: an A4 PDF (and, if asked, the same tables in a
workbook) from ``analysis.monthly``'s figures.

The forum's name and the period are on every page, with "Page n of N". The forum's version prints every count from
1 to 4 as "<5" and hides complementary cells so none can be worked back (``analysis.monthly.publish``). Nothing is
left at ``out`` unless the whole report was written: both files are built under temporary names beside their
targets and renamed at the end; a cancel or an error removes them.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO
from xml.sax.saxutils import escape

from .. import clock
from ..analysis.monthly import (
    FORUM,
    HIDDEN,
    SMALL,
    TEAM,
    MonthlyFigures,
    Published,
    Section,
    invalid,
    monthly_figures,
    publish_all,
)
from ..fsutil import atomic_writer
from ..i18n import LANGUAGES, _, language
from ..permissions import require
from .pages import numbered_canvas

_WORDS = re.compile(r"[^\W\dx]{2,}")  # two letters together: a word, not "<5", "x", a date or a figure


@dataclass
class MonthlyResult:
    path: Path
    pages: int
    xlsx: Path | None
    missing_agencies: list[str]
    incidents: int
    sections: list[str] = field(default_factory=list)  # the section keys printed, in order
    tables: list[Published] = field(default_factory=list)  # every table as printed (for checks)


def monthly_report(session, month: str, *, out: Path, scope: str = "all", lang: str = "en",
                   audience: str = "team", xlsx: Path | None = None, token=None) -> MonthlyResult:
    """Write the monthly summary of ``month`` (YYYY-MM) to ``out`` (and its tables to ``xlsx``)."""
    require(session.actor, "reports", "report")
    if lang not in LANGUAGES:
        raise invalid(_("Choose the language as en or sw."))
    out = Path(out)
    xlsx = Path(xlsx) if xlsx else None
    for target in (out, xlsx):
        if target is not None and not target.parent.is_dir():
            raise invalid(_("The folder {folder} does not exist. Choose another place to save the report.")
                                   .format(folder=target.parent))

    def progress(done: int, total: int, label: str) -> None:
        if token is not None:
            token.check()
            token.progress(done, total + 2, label)

    with language(lang):
        figures = monthly_figures(session, month, scope, audience, progress)
        published: dict[str, list[Published]] = {}
        done: list[Published] = []
        # The crime chart first: the headline's top categories follow its row totals.
        for s in sorted(figures.sections, key=lambda s: s.key != "crime_chart"):
            published[s.key] = publish_all(s.tables, audience, done)
            done += published[s.key]
        # Written under temporary names, renamed once both are complete: a cancel or a failure while writing leaves
        # neither (nor a temporary file).
        with contextlib.ExitStack() as files:
            progress(len(figures.sections), len(figures.sections), _("Writing the PDF"))
            pages = write_pdf(files.enter_context(atomic_writer(out)), figures, published)
            if xlsx is not None:
                progress(len(figures.sections) + 1, len(figures.sections), _("Writing the workbook"))
                write_xlsx(files.enter_context(atomic_writer(xlsx)), figures, published)
            if token is not None:
                token.check()
    if token is not None:
        token.progress(1, 1, "")
    tables = [p for s in figures.sections for p in published[s.key]]
    session.audit("report.monthly", "reports", month, {
        "month": month, "scope": scope, "audience": audience, "lang": lang, "pages": pages,
        "incidents": figures.incidents,
        "tables": len(tables), "sections": len(figures.sections), "missing_agencies": len(figures.missing_agencies),
        "xlsx": xlsx is not None})
    return MonthlyResult(out, pages, xlsx, list(figures.missing_agencies), figures.incidents,
                         [s.key for s in figures.sections], tables)


# --- the PDF -------------------------------------------------------------------------------------------------------


def _p(text: Any) -> str:
    return escape(str(text if text is not None else ""))


def _audience_line(figures: MonthlyFigures) -> str:
    if figures.audience == FORUM:
        return _("For the Safety Forum: counts from 1 to 4 are shown as \"<5\"; a cell marked \"x\" is hidden so "
                 "that a small count cannot be worked out from the totals.")
    return _("For the team: exact counts. Do not share this version outside the team.")


def write_pdf(f: BinaryIO, figures: MonthlyFigures, published: dict[str, list[Published]]) -> int:
    """Write the PDF to the binary file ``f``; returns the number of pages."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    body = styles["BodyText"]
    small = body.clone("small", fontSize=8, leading=10)
    cell = body.clone("cell", fontSize=8, leading=9.5)
    head_cell = cell.clone("head", fontName="Helvetica-Bold")
    h1, h2, h3 = styles["Title"], styles["Heading2"], styles["Heading4"]
    width = A4[0] - 40 * mm

    def grid(pub: Published) -> list:
        """The table, split into parts of at most seven figure columns so it fits the page."""
        header, rows = pub.header, pub.text
        n = len(header) - 1
        parts = [list(range(1 + i, min(1 + i + 7, n + 1))) for i in range(0, max(n, 1), 7)] or [[]]
        out = []
        # A column of words (an owner, a status) wraps inside its cell; figures, dates and "<5 ..." marks stay on
        # one line, right.
        wordy = {c for c in range(1, n + 1) if any(_WORDS.search(str(r[c])) and not str(r[c]).startswith("<") for r in rows)}
        for cols in parts:
            first = (38 if len(cols) > 5 else 48 if len(cols) > 3 else 70) * mm
            rest = (width - first) / max(len(cols), 1)
            data = [[Paragraph(_p(header[0]), head_cell), *(Paragraph(_p(header[c]), head_cell) for c in cols)]]
            data += [[Paragraph(_p(r[0]), cell), *(Paragraph(_p(r[c]), cell) if c in wordy else r[c] for c in cols)]
                     for r in rows]
            t = Table(data, colWidths=[first, *([rest] * len(cols))], repeatRows=1)
            style = [("GRID", (0, 0), (-1, -1), 0.3, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                     ("FONTSIZE", (0, 0), (-1, -1), 8), ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
                     ("LEFTPADDING", (0, 0), (-1, -1), 4), ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                     ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8"))]
            if pub.table.counts and pub.table.totals and rows:
                style.append(("BACKGROUND", (0, len(data) - 1), (-1, len(data) - 1), colors.HexColor("#f3f3f3")))
            t.setStyle(TableStyle(style))
            out += [t, Spacer(1, 2 * mm)]
        return out

    story: list[Any] = [
        Spacer(1, 25 * mm),
        Paragraph(_p(figures.forum), h2),
        Paragraph(_p(_("Monthly summary")), h1),
        Paragraph(_p(figures.period), h2),
        Spacer(1, 4 * mm),
        Paragraph(_p(_("Scope: {scope}.").format(scope=_("every agency's merged records") if figures.scope == "all"
                                                 else _("this agency's own records only"))), body),
        Paragraph(_p(_audience_line(figures)), body),
        Paragraph(_p(_("Printed on {date} by Usalama Desktop.").format(date=clock.today().isoformat())), body),
    ]
    if figures.partial:
        story.append(Paragraph(_p(_("The month is not over: figures count records up to {date}.").format(
            date=figures.last_day)), body))
    story += [Paragraph(_p(_("Data sources")), h2), Paragraph(_p(_(
        "The agencies whose records are counted, with the last bundle received from each and the date its data "
        "reaches.")), body)]
    header = [_("Agency"), _("Kind"), _("Last bundle"), _("Data up to"), _("Imported on")]
    if figures.audience == TEAM:
        header.append(_("Incidents this month"))
    rows = [[Paragraph(_p(c), head_cell) for c in header]]
    for s in figures.sources:
        line = [Paragraph(_p(s.agency), cell), Paragraph(_p(s.kind), cell), s.bundle, s.up_to, s.imported]
        if figures.audience == TEAM:
            line.append(f"{s.incidents:,}")
        rows.append(line)
    widths = [50 * mm, 35 * mm, 20 * mm, 22 * mm, 22 * mm, 21 * mm][:len(header)]
    sources = Table(rows, colWidths=widths, repeatRows=1)
    sources.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.3, colors.grey), ("FONTSIZE", (0, 0), (-1, -1), 8),
                                 ("VALIGN", (0, 0), (-1, -1), "TOP"),
                                 ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8"))]))
    story += [sources, Spacer(1, 3 * mm)]
    if figures.missing_agencies:
        story.append(Paragraph("<b>" + _p(_("Missing this month (no data covering {month}): {names}.").format(
            month=figures.period, names=", ".join(figures.missing_agencies))) + "</b>", body))
    elif figures.scope == "all":
        story.append(Paragraph(_p(_("Every enrolled agency has sent data covering this month.")), body))
    story.append(PageBreak())

    for section in figures.sections:
        story += _section(section, published[section.key], grid, h2, h3, body, small, width)

    title = _("Monthly summary")
    top = f"{figures.forum} · {title} · {figures.period}"
    NumberedCanvas, pages = numbered_canvas(figures.forum[:60] + " · " + figures.period, head=top[:120])

    doc = SimpleDocTemplate(f, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm,
                            bottomMargin=18 * mm, title=f"{title} {figures.month}", author=figures.forum, invariant=1)
    doc.build(story, canvasmaker=NumberedCanvas)
    return pages["n"]


def _section(section: Section, tables: list[Published], grid, h2, h3, body, small, width) -> list:
    from reportlab.lib.units import mm
    from reportlab.platypus import CondPageBreak, Paragraph, Spacer

    from .charts import bar_chart, clock_dial, line_chart

    story: list[Any] = [CondPageBreak(60 * mm), Paragraph(_p(section.title), h2)]
    if not section.has_data:
        story.append(Paragraph(_p(section.empty or _("Nothing to show for this month.")), body))
        story += [Paragraph(_p(line), body) for line in section.lines]
        return story
    by_key = {p.table.key: p for p in tables}
    for chart in section.charts:
        pub = by_key.get(chart.table)
        if pub is None or not pub.text:
            continue
        body_rows = pub.text[:len(pub.table.rows)]
        values = pub.values[:len(pub.table.rows)]
        if chart.kind == "bars":
            story.append(bar_chart([r[0] for r in body_rows], [v[-1] for v in values], width, chart.title))
        elif chart.kind == "clock":
            story.append(clock_dial([v[0] for v in values], 90 * mm, chart.title))
        elif chart.kind == "lines":
            series = [(name, [v[j] for v in values]) for j, name in enumerate(pub.header[1:])]
            story.append(line_chart([r[0] for r in body_rows], series, width, chart.title))
        story.append(Spacer(1, 3 * mm))
    for pub in tables:
        story.append(Paragraph(_p(pub.table.title), h3))
        if pub.table.empty:
            story.append(Paragraph(_p(_("None this month.")), small))
            continue
        story += grid(pub)
        if pub.table.note:
            story.append(Paragraph(_p(pub.table.note), small))
    story += [Paragraph(_p(line), body) for line in section.lines]
    if any(pub.marks for pub in tables):
        story.append(Paragraph(_p(_("{small}: from 1 to 4. {hidden}: hidden so that a small count cannot be "
                                    "worked out.").format(small=SMALL, hidden=HIDDEN)), small))
    return story


# --- the workbook --------------------------------------------------------------------------------------------------


def _sheet_name(title: str, used: set[str]) -> str:
    clean = "".join(c for c in title if c not in "[]:*?/\\")[:28] or "Sheet"
    name, i = clean, 2
    while name.lower() in used:
        name = f"{clean[:25]} {i}"
        i += 1
    used.add(name.lower())
    return name


def write_xlsx(f: BinaryIO, figures: MonthlyFigures, published: dict[str, list[Published]]) -> None:
    """To the binary file ``f``, one sheet per section: each table under its title, as printed (the forum's version suppressed alike)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    used: set[str] = set()
    ws.title = _sheet_name(_("Data sources"), used)
    bold = Font(bold=True)
    ws.append([figures.forum])
    ws.append([_("Monthly summary"), figures.period])
    ws.append([_audience_line(figures)])
    ws.append([])
    header = [_("Agency"), _("Kind"), _("Last bundle"), _("Data up to"), _("Imported on")]
    if figures.audience == TEAM:
        header.append(_("Incidents this month"))
    ws.append(header)
    for c in ws[ws.max_row]:
        c.font = bold
    for s in figures.sources:
        ws.append([s.agency, s.kind, s.bundle, s.up_to, s.imported, *([s.incidents] if figures.audience == TEAM
                                                                        else [])])
    if figures.missing_agencies:
        ws.append([])
        ws.append([_("Missing this month"), ", ".join(figures.missing_agencies)])
    for section in figures.sections:
        ws = wb.create_sheet(_sheet_name(section.title, used))
        ws.append([section.title])
        ws["A1"].font = bold
        if not section.has_data:
            ws.append([section.empty])
        for pub in published[section.key]:
            if pub.table.empty:
                continue
            ws.append([])
            ws.append([pub.table.title])
            ws.cell(ws.max_row, 1).font = bold
            ws.append(pub.header)
            for c in ws[ws.max_row]:
                c.font = bold
            for text_row, value_row in zip(pub.text, pub.values, strict=True):
                ws.append([text_row[0], *(_cell(t, v) for t, v in zip(text_row[1:], value_row, strict=True))])
            if pub.table.note:
                ws.append([pub.table.note])
        for line in section.lines:
            ws.append([line])
    wb.save(f)


def _cell(text: str, value: float | None) -> Any:
    """A number as a number (so it can be summed), anything else as printed."""
    if value is None:
        return text
    return int(value) if float(value).is_integer() and "." not in text else value


__all__ = ["MonthlyResult", "monthly_report", "write_pdf", "write_xlsx"]

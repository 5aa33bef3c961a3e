"""The monthly summary's figures: every table of the team meeting's report, computed once and shared by the PDF and
the workbook (and by any page that shows the same figure).

The observatory's figures come from ``analysis.observatory`` (the dashboard's functions, for the month); scores,
complaints, survey results and action points from their services. The case modules (counselling, family, AJS) are
counted here, over SQL aggregates whose every column is checked by ``core.resolve`` (public, coded, not kept on one
computer only): no name, code, narrative or typed note can reach a table. The only typed text printed is on
``PRINTED_TEXT`` (public fields naming a station, an agency or an owner's office), checked at import.

Each section is a list of ``Table`` (labels already in the report's language, counts as ints) and charts that draw a
table. ``publish`` applies the forum's small-cell rule to a table: counts of 1-4 become "<5" and complementary cells
are hidden so no hidden count can be worked back from the totals (``suppression.suppress``).
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import clock
from ..errors import PermissionDenied, ValidationFailed
from ..forms.choices import get as choice_list
from ..forms.definition import Form
from ..forms.fields import MULTI, TEXT
from ..forms.registry import get_form, ref
from ..i18n import _
from ..permissions import allowed
from ..services.records import Query, RecordService
from . import observatory as obs
from .core import Analysis, Filter, allow, month_end, month_label, resolve, shift_month
from .suppression import COMPLEMENT, PRIMARY, THRESHOLD, Grid, suppress

TEAM, FORUM = "team", "forum"
AUDIENCES = (TEAM, FORUM)
SCOPES = ("agency", "all")
SMALL = "<5"
HIDDEN = "x"

# Typed text the report may print: public fields that name a place of service or who owns an action, never a person
# the records are about. Checked here at import; the marker test leaves exactly these out.
PRINTED_TEXT: tuple[tuple[str, str], ...] = (
    ("feedback", ref("feedback", "agency_name")),
    ("police_rating", ref("police_rating", "station")),
    ("team_meeting", ref("team_meeting", "action_points.owner")),
)


def _check_printed_text() -> None:
    for form_name, name in PRINTED_TEXT:
        form = get_form(form_name)
        if "." in name:
            group, sub = name.split(".", 1)
            f = form.repeat_by_name[group].by_name[sub]
        else:
            f = form.by_name[name]
        if f.tier != "public" or f.local_only or f.kind != TEXT:
            raise PermissionDenied(_("{name} cannot be printed in a report.").format(name=name))


_check_printed_text()

# The case modules' figures: what each may be counted by (checked like the observatory's allow-list).
CASE_FORMS = ("counselling_case", "family_case", "ajs_case")
CONCERN = {"counselling_case": ref("counselling_case", "main_concern"),
           "family_case": ref("family_case", "situation"),
           "ajs_case": ref("ajs_case", "dispute_category")}
for _form in CASE_FORMS:
    _flow = get_form(_form).case
    allow(_form, (
        CONCERN[_form], _flow.status_field, _flow.outcome_field, _flow.opened_field, _flow.closed_field,
        f"{_flow.sessions}.{_flow.session_date}", f"{_flow.referrals}.{_flow.referral_date}",
        f"{_flow.referrals}.{_flow.referral_to}", f"{_flow.referrals}.{_flow.referral_result}",
    ))
SESSION_TYPE = {"counselling_case": ref("counselling_case", "sessions.session_type"),
                "family_case": ref("family_case", "sessions.session_type")}
AJS_FILED = ref("ajs_case", "filed_on")
AJS_RESULT = ref("ajs_case", "court_result")
AJS_RESULT_ON = ref("ajs_case", "court_result_on")


# --- what the report is made of ------------------------------------------------------------------------------------


@dataclass
class Table:
    """One printed table. ``cells`` hold ints when ``counts`` (suppressed for the forum) or display values
    (text or floats) otherwise. ``totals`` prints a total row and column (count tables with more than one
    column) or a total row (one column). ``small_rows``: for tables of averages, the number of answers behind each
    row; the forum sees "<5 responses" instead of a value computed from fewer than five."""

    key: str
    title: str
    row_head: str
    rows: list[str]
    columns: list[str]
    cells: list[list[Any]]
    counts: bool = True
    totals: bool = False
    small_rows: list[int] | None = None
    note: str = ""
    count_columns: tuple[int, ...] = ()  # in a table of values, the columns that are counts (hidden if 1-4)
    pin_totals: bool = False  # its row totals are printed elsewhere too: hide them only as a last resort
    follows: str = ""  # its rows are the row totals of this other table: hidden where that table hides them

    @property
    def empty(self) -> bool:
        return not self.rows


@dataclass
class Chart:
    """A drawing of a table: ``bars`` (a bar per row: its total, or its only column), ``lines`` (a line per column
    over the rows) or ``clock`` (24 rows around a dial)."""

    kind: str
    table: str
    title: str = ""


@dataclass
class Section:
    key: str
    title: str
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    empty: str = ""  # said in one line instead of the tables when there is nothing to show

    @property
    def has_data(self) -> bool:
        return any(not t.empty for t in self.tables)


@dataclass
class Source:
    agency: str
    kind: str
    bundle: str
    up_to: str
    imported: str
    incidents: int
    missing: bool


@dataclass
class MonthlyFigures:
    month: str
    first_day: str
    last_day: str
    partial: bool
    scope: str
    audience: str
    forum: str
    sources: list[Source]
    missing_agencies: list[str]
    incidents: int
    sections: list[Section]

    @property
    def period(self) -> str:
        label = month_label(self.month)
        if self.partial:
            return _("{month} (up to {date})").format(month=label, date=self.last_day)
        return label


def invalid(message: str) -> ValidationFailed:
    """A refusal of the report's own settings (month, scope, audience, language): one message, no field."""
    return ValidationFailed({"": [message]})


# --- the month -----------------------------------------------------------------------------------------------------


def check_month(month: str, today: dt.date | None = None) -> tuple[str, str, bool]:
    """(first day, last day counted, partial) of a month written YYYY-MM; the current month counts up to today."""
    text = str(month or "").strip()
    if not re.fullmatch(r"\d{4}-\d{2}", text) or not 1 <= int(text[5:7]) <= 12 or int(text[:4]) < 1900:
        raise invalid(_("Write the month as YYYY-MM, for example 2026-03: \"{month}\" is not a month.").format(
            month=text[:20]))
    today = today or clock.today()
    first, last = f"{text}-01", month_end(text)
    if first > today.isoformat():
        raise invalid(_("{month} has not started yet. Choose this month or an earlier one.").format(
            month=text))
    if last >= today.isoformat():
        return first, today.isoformat(), True
    return first, last, False


def check_scope(session, scope: str) -> tuple[str, ...]:
    """The agencies the report counts: () for every merged record, or the session's own agency."""
    if scope not in SCOPES:
        raise invalid(_("Choose the scope as agency or all."))
    if scope == "agency":
        return (session.agency.id,)
    if session.actor.role not in ("admin", "coordinator"):
        raise PermissionDenied(_("Only a coordinator or an administrator may report on every agency's records. "
                                 "Choose the scope \"agency\" for your own agency's report."))
    return ()


def forum_name(session) -> str:
    """The name printed on every page: the ``forum_name`` setting, or this installation's agency."""
    return session.setting("forum_name", session.agency.name)


# --- publishing a table (the forum's small-cell rule) -------------------------------------------------------------


@dataclass
class Published:
    """A table as printed: ``text`` has the header row, the body rows and the totals (when printed); ``values`` is the
    same grid as numbers for charts (None where hidden or not a number); ``marks`` the suppression's positions
    over ``grid`` (for checking)."""

    table: Table
    header: list[str]
    text: list[list[str]]
    values: list[list[float | None]]
    grid: Grid | None = None
    marks: dict[tuple[int, int], str] = field(default_factory=dict)


def _count_text(n: int) -> str:
    return f"{int(n):,}"


def publish(table: Table, audience: str) -> Published:
    forum = audience == FORUM
    header = [table.row_head, *table.columns]
    if not table.counts:
        return _publish_values(table, header, forum)
    width = len(table.columns)
    row_totals = table.totals and width > 1
    col_totals = table.totals
    grid = Grid([[int(v) for v in row] for row in table.cells], row_totals, col_totals)
    pinned = [(i, width) for i in range(len(table.rows))] + [(len(table.rows), width)] if table.pin_totals else []
    marks = suppress(grid.cells, row_totals, col_totals, pinned=pinned).marks if forum and table.rows else {}
    if row_totals:
        header.append(_("Total"))

    def cell(p):
        mark = marks.get(p)
        if mark == PRIMARY:
            return SMALL, None
        if mark == COMPLEMENT:
            return HIDDEN, None
        v = grid.value(p)
        return _count_text(v), float(v)

    text, values = [], []
    for i, label in enumerate(table.rows):
        line = [cell((i, j)) for j in range(width)] + ([cell((i, width))] if row_totals else [])
        text.append([label, *(c[0] for c in line)])
        values.append([c[1] for c in line])
    if col_totals and table.rows:
        line = [cell((len(table.rows), j)) for j in range(width)]
        if row_totals:
            line.append(cell((len(table.rows), width)))
        text.append([_("Total"), *(c[0] for c in line)])
        values.append([c[1] for c in line])
    return Published(table, header, text, values, grid, dict(marks))


def publish_all(tables: Sequence[Table], audience: str, others: Sequence[Published] = ()) -> list[Published]:
    """Publish a section's tables; a table that ``follows`` another (its rows are that table's row totals) hides
    what that one hides, so a figure hidden in one table is never printed in the other."""
    out = [publish(t, audience) for t in tables]
    by_key = {p.table.key: p for p in [*others, *out]}
    for pub in out:
        lead = by_key.get(pub.table.follows)
        if lead is None or lead.grid is None:
            continue
        width = len(lead.table.columns)
        column = width if width > 1 else 0
        hidden = {label: lead.text[i][column + 1] for i, label in enumerate(lead.table.rows)
                  if (i, column) in lead.marks}
        for i, label in enumerate(pub.table.rows):
            if label in hidden and pub.text[i][1] not in (SMALL, HIDDEN):
                pub.text[i][1] = hidden[label]
                pub.values[i][0] = None
                pub.marks[(i, 0)] = PRIMARY if hidden[label] == SMALL else COMPLEMENT
    return out


def _publish_values(table: Table, header: list[str], forum: bool) -> Published:
    text, values = [], []
    for i, (label, row) in enumerate(zip(table.rows, table.cells, strict=True)):
        few = forum and table.small_rows is not None and 0 < table.small_rows[i] < THRESHOLD
        shown, nums = [label], []
        for j, v in enumerate(row):
            if few:
                shown.append(SMALL if j == 0 else _("<5 responses"))
                nums.append(None)
            elif forum and j in table.count_columns and isinstance(v, int) and 0 < v < THRESHOLD:
                shown.append(SMALL)
                nums.append(None)
            else:
                shown.append(_display(v))
                nums.append(float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None)
        text.append(shown)
        values.append(nums)
    return Published(table, header, text, values)


def _display(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return _("Yes") if v else _("No")
    if isinstance(v, int):
        return _count_text(v)
    if isinstance(v, float):
        return f"{v:.1f}"
    return str(v)


def _share(v: float | None) -> str | None:
    return None if v is None else f"{v * 100:.0f}%"


# --- building the figures ------------------------------------------------------------------------------------------


@dataclass
class _Month:
    session: Any
    month: str
    first: str
    last: str
    agency_ids: tuple[str, ...]
    audience: str

    @property
    def filter(self) -> Filter:
        return Filter(self.first, self.last, agency_ids=self.agency_ids)

    def query(self, **kw) -> Query:
        return Query(agency_ids=list(self.agency_ids), **kw)

    def can(self, module: str) -> bool:
        return allowed(self.session.actor, module, "report")


def monthly_figures(session, month: str, scope: str = "all", audience: str = TEAM,
                    progress: Callable[[int, int, str], None] | None = None) -> MonthlyFigures:
    """Every figure of the monthly summary, labelled in the current language (the caller sets it)."""
    if audience not in AUDIENCES:
        raise invalid(_("Choose the audience as team or forum."))
    first, last, partial = check_month(month)
    agency_ids = check_scope(session, scope)
    m = _Month(session, month, first, last, agency_ids, audience)
    dash: dict[str, Any] = {}

    def observatory() -> None:
        if m.can("observatory"):
            dash["d"] = obs.dashboard(session, m.filter, main=5, places=10)
            dash["an"] = obs.incidents(session)

    steps: list[tuple[str, Callable[[], Any]]] = [
        (_("Crime observatory"), observatory),
        (_("Who is affected"), lambda: who_section(m, dash)),
        (_("Access to justice"), lambda: justice_section(m)),
        (_("Police service delivery"), lambda: police_section(m)),
        (_("Schools and the family programme"), lambda: schools_section(m)),
        (_("Community safety audit"), lambda: survey_section(m)),
        (_("Team meeting follow-up"), lambda: meetings_section(m)),
    ]
    sections: list[Section] = []
    total = len(steps) + 1
    for i, (label, step) in enumerate(steps):
        if progress:
            progress(i, total, label)
        result = step()
        if i == 0:
            sections += observatory_sections(m, dash.get("d"))
        elif result is not None:
            sections.append(result)
    sources, missing = data_sources(m, dash.get("d"))
    if progress:
        progress(total - 1, total, _("Data sources"))
    d = dash.get("d")
    return MonthlyFigures(month, first, last, partial, scope, audience, forum_name(session), sources, missing,
                          d.headline.this_month if d else 0, sections)


# --- data sources --------------------------------------------------------------------------------------------------


def data_sources(m: _Month, d) -> tuple[list[Source], list[str]]:
    """The agencies whose records the report counts, with the last bundle from each; those with nothing covering
    the month are named as missing."""
    db = m.session.db
    types = choice_list("agency_types")
    per_agency: dict[str, int] = {}
    if d is not None and len(d.chart.by_agency.columns):
        per_agency = {a: int(n) for a, n in d.chart.by_agency.sum(axis=0).items()}
    local = m.session.agency
    out = [Source(local.name, types.label(local.type), _("this computer"), m.last, "-",
                  per_agency.get(local.id, 0), False)]
    missing: list[str] = []
    if m.agency_ids:
        return out, missing
    seen = {local.id}
    for p in db.query("SELECT installation_id, agency_id, agency_name, agency_type FROM sync_peers "
                      "WHERE revoked_at IS NULL ORDER BY agency_name"):
        last = db.one("SELECT seq, created_at, imported_at FROM sync_incoming WHERE sender = ? AND superseded = 0 "
                      "ORDER BY seq DESC LIMIT 1", (p[0],))
        up_to = last[1][:10] if last else None
        is_missing = up_to is None or up_to < m.first
        if is_missing:
            missing.append(p[2])
        out.append(Source(p[2], types.label(p[3]), f"#{last[0]}" if last else _("none received"),
                          up_to or "-", last[2][:10] if last else "-", per_agency.get(p[1], 0), is_missing))
        seen.add(p[1])
    known = {r[0]: (r[1], r[2]) for r in db.query("SELECT id, name, type FROM agencies")}
    incidents = get_form(obs.FORM).table_spec.name
    for agency_id, n in sorted(per_agency.items(), key=lambda kv: known.get(kv[0], ("", ""))[0]):
        if agency_id not in seen:  # records keyed in here for another agency, or relayed through a peer
            name, kind = known.get(agency_id, (_("Unknown agency"), ""))
            relayed = db.scalar(f'SELECT 1 FROM "{incidents}" i WHERE i.agency_id = ? AND i.deleted = 0 AND '
                                "i.occurred_on BETWEEN ? AND ? AND EXISTS (SELECT 1 FROM sync_provenance p WHERE "
                                "p.record_id = i.id) LIMIT 1", (agency_id, m.first, m.last))
            how = _("through another agency") if relayed else _("keyed in at this computer")
            out.append(Source(name, types.label(kind) if kind else "", how, "-", "-", n, False))
    return out, missing


# --- the observatory ----------------------------------------------------------------------------------------------


def _series_table(key: str, title: str, head: str, items: Sequence[tuple[str, int]], column: str,
                  totals: bool = True, note: str = "") -> Table:
    return Table(key, title, head, [k for k, _n in items], [column], [[int(n)] for _k, n in items], totals=totals,
                 note=note)


def observatory_sections(m: _Month, d) -> list[Section]:
    titles = (("headline", _("Headline figures")), ("crime_chart", _("Crime chart")),
              ("crime_clock", _("Crime clock")), ("crime_graph", _("Crime graph: twelve months")),
              ("places", _("Places with most incidents")))
    if d is None:
        return [Section(k, t, empty=_("Your role may not count the observatory's records.")) for k, t in titles]
    an = obs.incidents(m.session)
    incidents = _("Incidents")
    h = d.headline

    def change(now: int, before: int) -> str:
        pct = h.percent(now, before)
        return f"{now - before:+,}" + ("" if pct is None else f" ({pct:+.0f}%)")

    head = Section("headline", titles[0][1])
    rows = [(_("This month ({month})").format(month=month_label(h.month)), h.this_month),
            (_("Last month ({month})").format(month=month_label(shift_month(h.month, -1))), h.last_month),
            (_("Same month last year ({month})").format(month=month_label(shift_month(h.month, -12))),
             h.same_month_last_year)]
    head.tables.append(_series_table("headline", _("Incidents recorded"), _("Period"), rows, incidents,
                                     totals=False))
    if m.audience == TEAM:
        head.lines += [_("Change from last month: {change}.").format(change=change(h.this_month, h.last_month)),
                       _("Change from the same month last year: {change}.").format(
                           change=change(h.this_month, h.same_month_last_year))]
    top = [(an.label(obs.CATEGORY, c), n) for c, n in obs.headline(an, m.filter, top=5).top_categories]
    head.tables.append(_series_table("top_categories", _("Top categories this month"), _("Category"), top,
                                     incidents, totals=False))
    head.tables[-1].follows = "chart_by_agency"
    if not h.this_month:
        head.lines.append(_("No incidents were recorded this month."))

    chart = Section("crime_chart", titles[1][1], empty=_("No incidents were recorded this month."))
    by_agency = d.chart.by_agency
    if d.chart.total:
        chart.tables.append(Table(
            "chart_by_agency", _("Incidents by category and agency"), _("Category"),
            [an.label(obs.CATEGORY, c) for c in by_agency.index],
            [d.chart.agency_names.get(a, a) for a in by_agency.columns],
            by_agency.to_numpy().astype(int).tolist(), totals=True, pin_totals=True))
        chart.charts.append(Chart("bars", "chart_by_agency", _("Incidents by category")))

    dial = Section("crime_clock", titles[2][1], empty=_("No incidents were recorded this month."))
    c = d.clock
    if c.total:
        dial.tables.append(Table("clock_hours", _("Incidents by hour (exact times)"), _("Hour"),
                                 [f"{h:02d}:00-{h:02d}:59" for h in range(24)], [incidents],
                                 [[n] for n in c.hours], totals=True))
        approx = choice_list("time_of_day")
        rest = [(approx.label(k), n) for k, n in c.approximate.items()]
        rest += [(_("Time unknown"), c.unknown), (_("Time not recorded"), c.blank)]
        dial.tables.append(_series_table("clock_other", _("Incidents without an exact time"), _("Time"), rest,
                                         incidents))
        dial.charts.append(Chart("clock", "clock_hours", _("Incidents by hour of the day")))

    graph = Section("crime_graph", titles[3][1])
    g = d.graph
    if int(g.current[obs.ALL].sum()) or int(g.last_year[obs.ALL].sum()):
        cats = g.categories
        columns = [_("All categories"), *(an.label(obs.CATEGORY, k) for k in cats), _("All, a year before")]
        cells = [[int(g.current.loc[mm, obs.ALL]), *(int(g.current.loc[mm, k]) for k in cats),
                  int(g.last_year.loc[mm, obs.ALL])] for mm in g.months]
        graph.tables.append(Table("graph", _("Incidents by month, main categories"), _("Month"),
                                  [month_label(mm) for mm in g.months], columns, cells))
        graph.charts.append(Chart("lines", "graph", _("Twelve months to {month}").format(
            month=month_label(m.month))))
    else:
        graph.empty = _("No incidents were recorded in the twelve months to this month.")

    places = Section("places", titles[4][1], empty=_("No incidents were recorded this month."))
    p = d.places
    if len(p.by_ward):
        places.tables.append(_series_table(
            "places_ward", _("Wards with most incidents"), _("Ward"),
            [(w if isinstance(w, str) and w else _("Not recorded"), n)
             for w, n in zip(p.by_ward[obs.WARD], p.by_ward["count"], strict=True)], incidents, totals=False))
        places.tables.append(_series_table(
            "places_village", _("Villages and landmarks with most incidents"), _("Village or landmark (ward)"),
            [(_place(v, w), n) for w, v, n in zip(p.by_village[obs.WARD], p.by_village[obs.VILLAGE],
                                                   p.by_village["count"], strict=True)], incidents, totals=False))
    return [head, chart, dial, graph, places]


def _place(village, ward) -> str:
    v = village if isinstance(village, str) and village else _("Not recorded")
    w = ward if isinstance(ward, str) and ward else _("Not recorded")
    return f"{v} ({w})"


def who_section(m: _Month, dash: dict) -> Section:
    s = Section("who", _("Who is affected"), empty=_("No victims were recorded this month."))
    if "an" not in dash:
        s.empty = _("Your role may not count the observatory's records.")
        return s
    an: Analysis = dash["an"]
    a = obs.who_is_affected(an, m.filter)
    if not a.victims and not a.gbv_incidents:
        return s
    victims = _("Victims")
    t = a.victims_by_sex_age
    t = t.loc[t.sum(axis=1) > 0, t.sum(axis=0) > 0]
    if a.victims:
        s.tables.append(Table("victims_sex_age", _("Victims by sex and age band"), _("Age band"),
                              [an.label(obs.V_AGE, b) for b in t.index], [an.label(obs.V_SEX, x) for x in t.columns],
                              t.to_numpy().astype(int).tolist(), totals=True))
        names = {"yes": _("Minors (under 18)"), "no": _("Adults"), "blank": _("Age not recorded")}
        s.tables.append(_series_table("minors", _("Victims who are minors"), _("Victims"),
                                      [(names[k], n) for k, n in a.minors.items()], victims))
        s.tables.append(_series_table("relationship", _("Perpetrators by relationship to the victim"),
                                      _("Relationship"), [(an.label(obs.P_RELATIONSHIP, k), int(n))
                                                          for k, n in a.relationship.items()], _("Perpetrators")))
        s.tables.append(_series_table("children", _("Children's cases by category"), _("Category"),
                                      [(an.label(obs.CATEGORY, k), int(n)) for k, n in a.children_by_category.items()],
                                      _("Victims who are minors")))
    if a.gbv_incidents:
        s.tables.append(_series_table("gbv", _("Gender-based violence by GBVIMS type"), _("GBVIMS type"),
                                      [(an.label(obs.GBV_TYPE, k), int(n)) for k, n in a.gbv_by_type.items()],
                                      _("Incidents")))
    return s


# --- case modules --------------------------------------------------------------------------------------------------


def _column(form: Form, name: str) -> tuple[str, str | None]:
    """The stored column of a countable field (refused unless public and coded), and its repeat group if any."""
    d = resolve(form, name)
    if d.field is None:
        raise PermissionDenied(_("{name} cannot be used in a figure: only public, coded fields can be counted.")
                               .format(name=name))
    return (name.split(".", 1)[1], d.group) if d.group else (name, None)


def dated_counts(m: _Month, form_name: str, date: str, by: str | None = None,
                 equals: dict[str, str] | None = None) -> list[tuple[Any, int]]:
    """(value, count) of the records (or repeat rows) whose ``date`` falls in the month, grouped by ``by``: the
    rows a list would show (scope, tombstones) and only public coded columns."""
    form = get_form(form_name)
    where, params = RecordService(m.session, form).filter_sql(m.query())
    date_col, group = _column(form, date)
    by_col, by_group = _column(form, by) if by else (None, None)
    if by_group and by_group != group:
        raise ValueError("a count groups by fields of one repeat group")
    conds = list(where)
    for name, value in (equals or {}).items():
        col, g = _column(form, name)
        if g:
            raise ValueError("equals takes fields of the record")
        conds.append(f'"{col}" = ?')
        params.append(value)
    spec = form.table_spec
    source = f'(SELECT * FROM "{spec.name}" WHERE {" AND ".join(conds)}) AS p'
    alias = "p"
    if group:
        source += f' JOIN "{spec.child_table(group)}" AS r ON r.parent_rid = p.rid'
        alias = "r"
    key = f'{alias}."{by_col}"' if by_col else "NULL"
    sql = (f'SELECT {key}, count(*) FROM {source} WHERE {alias}."{date_col}" >= ? AND {alias}."{date_col}" <= ? '
           f"GROUP BY 1 ORDER BY 2 DESC, 1")
    return [(r[0], int(r[1])) for r in m.session.db.query(sql, [*params, m.first, m.last])]


def _labelled(form_name: str, name: str, rows: list[tuple[Any, int]]) -> list[tuple[str, int]]:
    form = get_form(form_name)
    f = resolve(form, name).field
    out: dict[str, int] = {}
    for value, n in rows:
        if value is None or value == "":
            label = _("Not recorded")
        elif f is not None and f.choice_list is not None:
            label = f.choice_list.label(value)
        else:
            label = str(value)
        out[label] = out.get(label, 0) + n
    return list(out.items())


def _multi_counts(m: _Month, form_name: str, name: str) -> list[tuple[Any, int]]:
    """A multiple choice counted once per chosen value, for the records opened in the month (the analysis)."""
    frame = Analysis(m.session, form_name).counts(m.filter, [name])
    return sorted(((v, int(n)) for v, n in zip(frame[name], frame["count"], strict=True)),
                  key=lambda kv: (-kv[1], str(kv[0])))


def case_tables(m: _Month, form_name: str, prefix: str) -> list[Table]:
    """Cases opened by concern, sessions held, referrals made and their results, and cases closed by outcome."""
    form = get_form(form_name)
    flow = form.case
    concern = CONCERN[form_name]
    f = form.by_name[concern]
    if f.kind == MULTI:
        opened = _multi_counts(m, form_name, concern)
    else:
        opened = dated_counts(m, form_name, flow.opened_field, concern)
    cases = _("Cases")
    tables = [_series_table(f"{prefix}_opened", _("Cases opened, by {what}").format(what=f.label.text().lower()),
                            f.label.text(), _labelled(form_name, concern, opened), cases,
                            totals=f.kind != MULTI,
                            note=_("A case with several concerns counts under each.") if f.kind == MULTI else "")]
    sessions = f"{flow.sessions}.{flow.session_date}"
    session_type = SESSION_TYPE.get(form_name)
    if session_type:
        held = dated_counts(m, form_name, sessions, session_type)
        tables.append(_series_table(f"{prefix}_sessions", _("Sessions held"), _("Type of session"),
                                    _labelled(form_name, session_type, held), _("Sessions")))
    else:
        held = dated_counts(m, form_name, sessions)
        tables.append(_series_table(f"{prefix}_sessions", _("{sessions} held").format(
            sessions=flow.session_label.text()), flow.session_label.text(),
            [(_("All"), n) for _v, n in held], _("Number"), totals=False))
    referred_on = f"{flow.referrals}.{flow.referral_date}"
    to = f"{flow.referrals}.{flow.referral_to}"
    tables.append(_series_table(f"{prefix}_referrals", _("Referrals made"), _("Referred to"),
                                _labelled(form_name, to, dated_counts(m, form_name, referred_on, to)),
                                _("Referrals")))
    result = f"{flow.referrals}.{flow.referral_result}"
    tables.append(_series_table(f"{prefix}_referral_results", _("Results of the referrals made this month"),
                                _("Result"), _labelled(form_name, result, dated_counts(m, form_name, referred_on,
                                                                                       result)), _("Referrals")))
    closed = dated_counts(m, form_name, flow.closed_field, flow.outcome_field, {flow.status_field: "closed"})
    tables.append(_series_table(f"{prefix}_closed", _("Cases closed, by outcome"), _("Outcome"),
                                _labelled(form_name, flow.outcome_field, closed), cases))
    return tables


def resolution_days(m: _Month, form_name: str) -> list[int]:
    """Days from opening to closing of the cases closed in the month."""
    form = get_form(form_name)
    flow = form.case
    where, params = RecordService(m.session, form).filter_sql(m.query())
    opened, _g = _column(form, flow.opened_field)
    closed, _g = _column(form, flow.closed_field)
    status, _g = _column(form, flow.status_field)
    sql = (f'SELECT "{opened}", "{closed}" FROM "{form.table_spec.name}" WHERE {" AND ".join(where)} '
           f'AND "{status}" = ? AND "{closed}" >= ? AND "{closed}" <= ?')
    out = []
    for a, b in m.session.db.query(sql, [*params, "closed", m.first, m.last]):
        try:
            out.append((dt.date.fromisoformat(b[:10]) - dt.date.fromisoformat(a[:10] if len(a) >= 10
                                                                             else a + "-01")).days)
        except (TypeError, ValueError):
            continue
    return out


def justice_section(m: _Month) -> Section:
    s = Section("justice", _("Access to justice"),
                empty=_("No AJS cases or users' feedback were recorded this month."))
    if m.can("ajs"):
        tables = case_tables(m, "ajs_case", "ajs")
        opened = sum(n for row in tables[0].cells for n in row)
        closed = sum(n for row in tables[-1].cells for n in row)
        referrals = sum(n for row in tables[2].cells for n in row)
        filed = sum(n for _v, n in dated_counts(m, "ajs_case", AJS_FILED))
        adopted = sum(n for _v, n in dated_counts(m, "ajs_case", AJS_RESULT_ON, equals={AJS_RESULT: "adopted"}))
        if opened or closed or referrals or filed or adopted:
            summary = [(_("Cases opened"), opened), (_("Cases resolved (closed)"), closed),
                       (_("Referrals to other services"), referrals), (_("Decisions filed in court"), filed),
                       (_("Decisions adopted by the court"), adopted)]
            s.tables.append(_series_table("ajs_summary", _("AJS cases this month"), _("Cases"), summary,
                                          _("Number"), totals=False))
            s.tables += [t for t in tables if not t.empty]
            days = resolution_days(m, "ajs_case")
            if days and (m.audience == TEAM or len(days) >= THRESHOLD):
                s.lines.append(_("Time to resolution: median {median} days over {n} cases closed this month "
                                 "(shortest {low}, longest {high}).").format(
                    median=f"{statistics.median(days):.0f}", n=len(days), low=min(days), high=max(days)))
            elif days:
                s.lines.append(_("Time to resolution: fewer than 5 cases closed this month; not shown."))
    else:
        s.lines.append(_("AJS cases are not shown: your role may not count them."))
    if m.can("feedback"):
        t = score_table(m, "feedback", "feedback_scores", _("Users' feedback scores by agency"), _("Agency"))
        if not t.empty:
            s.tables.append(t)
    return s


def score_table(m: _Month, name: str, key: str, title: str, head: str) -> Table:
    from ..services.scores import scores

    table = scores(m.session, name, query=m.query(date_from=m.first, date_to=m.last),
                   min_n=THRESHOLD if m.audience == FORUM else 1)
    form = table.form
    columns = [_("Answers"), *(form.label_of(r) for r in table.ratings),
               *(_("{question}: share yes").format(question=form.label_of(f)) for f in table.flags)]
    rows, cells, small = [], [], []
    for row in table.rows:
        label = " · ".join(_group_label(form, b, v) for b, v in zip(table.by, row.group, strict=True))
        rows.append(label or _("All"))
        cells.append([row.n, *(row.means.get(r) for r in table.ratings), *(_share(row.flags.get(f))
                                                                            for f in table.flags)])
        small.append(row.n)
    return Table(key, title, head, rows, columns, cells, counts=False, small_rows=small, count_columns=(0,),
                 note=_("Mean ratings on the scale 1 (very poor) to 5 (very good)."))


def _group_label(form: Form, name: str, value: Any) -> str:
    if value in (None, ""):
        return _("Not recorded")
    return form.by_name[name].display(value)


def police_section(m: _Month) -> Section:
    s = Section("police", _("Police service delivery"), empty=_("No police ratings or complaints were recorded "
                                                                "this month."))
    if m.can("police_ratings"):
        t = score_table(m, "police_ratings", "police_ratings", _("Ratings by station"), _("Station"))
        if not t.empty:
            s.tables.append(t)
    if m.can("complaints"):
        s.tables += complaint_tables(m)
    return s


def complaint_tables(m: _Month) -> list[Table]:
    from ..services.complaints import STATUS, redress_summary

    as_of = dt.date.fromisoformat(m.last)
    r = redress_summary(m.session, m.query(date_to=m.last), as_of=as_of)
    if not r.total:
        return []
    statuses = get_form("police_complaint").by_name[STATUS].choice_list
    by_status = sorted(r.by_status.items(), key=lambda kv: (statuses.values.index(kv[0])
                                                           if kv[0] in statuses.values else 99))
    tables = [_series_table("complaints_status", _("Complaints by status (received up to the month's end)"),
                            _("Status"), [(statuses.label(k) if k else _("Not recorded"), n) for k, n in by_status],
                            _("Complaints"))]
    ages = [(_("Open"), r.open), *((_("Open for more than {days} days").format(days=d), n)
                                    for d, n in r.open_over.items())]
    note = []
    if r.median_open_age is not None:
        note.append(_("Median age of open complaints: {days} days.").format(days=f"{r.median_open_age:.0f}"))
    if r.median_days_to_close is not None:
        note.append(_("Median days to close: {days}.").format(days=f"{r.median_days_to_close:.0f}"))
    tables.append(_series_table("complaints_age", _("Open complaints by age"), _("Age"), ages, _("Complaints"),
                                totals=False, note=" ".join(note) if m.audience == TEAM or r.open >= THRESHOLD
                                else ""))
    return tables


def schools_section(m: _Month) -> Section:
    s = Section("schools", _("Schools and the family programme"),
                empty=_("No counselling or family programme cases were active this month."))
    for form_name, prefix, module, title in (("counselling_case", "counselling", "counselling",
                                              _("School counselling")),
                                             ("family_case", "family", "family", _("Family programme"))):
        if not m.can(module):
            continue
        tables = [t for t in case_tables(m, form_name, prefix) if not t.empty]
        for t in tables:
            t.title = f"{title}: {t.title}"
        s.tables += tables
    return s


def survey_section(m: _Month) -> Section | None:
    from ..services.survey import YEAR, ward_results

    s = Section("survey", _("Community safety audit"), empty=_("No community safety audit before this month."))
    if not m.can("safety_audit"):
        s.empty = _("Your role may not see the safety audit's results.")
        return s
    rounds = RecordService(m.session, "survey_round")
    where, params = rounds.filter_sql(Query())
    year = m.session.db.scalar(f'SELECT max("{YEAR}") FROM "{rounds.spec.name}" WHERE {" AND ".join(where)} '
                               f'AND "{YEAR}" <= ?', [*params, int(m.month[:4])])
    if year is None:
        return s
    results = ward_results(m.session, year=int(year), min_n=THRESHOLD if m.audience == FORUM else 1)
    if not results.wards:
        return s
    columns = [_("Respondents"), _("Victims of crime"), _("Reported to the police"), _("Feel safe after dark"),
               _("Trust the police"), _("Incidents recorded in {year}").format(year=year)]
    rows, cells, small = [], [], []
    for w in results.wards:
        rows.append(w.ward or _("Not recorded"))
        cells.append([w.respondents, _share(w.victimisation_rate), _share(w.reporting_rate), _share(w.safe_share),
                      _share(w.trust_police_share), w.recorded_incidents])
        small.append(w.respondents)
    s.tables.append(Table("survey_wards", _("Latest survey ({year}) beside recorded incidents").format(year=year), _("Ward"), rows, columns, cells,
                          counts=False, small_rows=small, count_columns=(0, 5),
                          note=_("Shares of the respondents who answered each question.")))
    s.lines += results.notes
    return s


def meetings_section(m: _Month) -> Section | None:
    from ..services.meetings import GROUP, open_action_points

    s = Section("meetings", _("Team meeting follow-up"), empty=_("No open action points from earlier meetings."))
    if not m.can("meetings"):
        s.empty = _("Your role may not see the team meetings.")
        return s
    form = get_form("team_meeting")
    team = form.by_name[ref("team_meeting", "team")]
    status = form.repeat_by_name[GROUP].by_name[ref("team_meeting", "action_points.status").split(".")[1]]
    before = (dt.date.fromisoformat(m.last) + dt.timedelta(days=1)).isoformat()
    points = [p for p in open_action_points(m.session, before)
              if not m.agency_ids or p.agency_id in m.agency_ids]
    if not points:
        return s
    rows, cells = [], []
    for p in points:
        rows.append(team.display(p.team) or _("Not recorded"))
        cells.append([p.meeting_date, p.owner, p.due_on or "-", status.display(p.status), p.days_overdue])
    s.tables.append(Table("action_points", _("Open action points"), _("Team"), rows,
                          [_("Meeting"), _("Who does it"), _("Due by"), _("Status"), _("Days overdue")], cells,
                          counts=False))
    return s


__all__ = ["AUDIENCES", "FORUM", "TEAM", "Chart", "MonthlyFigures", "Published", "Section", "Source", "Table",
           "check_month", "check_scope", "invalid", "dated_counts", "forum_name", "monthly_figures", "publish"]

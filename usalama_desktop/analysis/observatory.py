"""The Crime Observatory's figures over the incident form: crime clock, crime chart, crime graph, headline, places
and who is affected. The dashboard draws them, the monthly report prints them and writes them to Excel.

Every figure is a small typed result (a dataclass holding lists, dicts or small DataFrames with the columns
documented on it), computed from ``Analysis.counts`` for any filter (period, agencies, categories, place).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..forms.choices import get
from ..forms.registry import ref
from .core import (
    AGENCY,
    MONTH_OF,
    Analysis,
    Filter,
    agency_names,
    allow,
    month_end,
    months_between,
    shift_month,
)

if TYPE_CHECKING:
    import pandas as pd

    from ..services.installation import Session

FORM = "incident"
CATEGORY = ref("incident", "offence_category")
TIME = ref("incident", "occurred_time")
WARD = ref("incident", "place_ward")
VILLAGE = ref("incident", "place_village")
V_SEX = ref("incident", "victims.sex")
V_AGE = ref("incident", "victims.age_band")
V_MINOR = ref("incident", "victims.minor")
V_DISABILITY = ref("incident", "victims.disability")
P_RELATIONSHIP = ref("incident", "perpetrators.relationship")
GBV = ref("incident", "gbv")
GBV_TYPE = ref("incident", "gbvims_type")
GBV_CONTEXT = ref("incident", "gbv_context")
ICCS = ref("incident", "iccs_section")

# What the incident form's figures may group by; checked against the form's field tiers (core.allow).
ALLOWED = allow(FORM, (
    AGENCY, MONTH_OF, CATEGORY, TIME, ICCS, GBV, GBV_TYPE, GBV_CONTEXT,
    ref("incident", "weapon"), ref("incident", "alcohol_drugs"), ref("incident", "status"),
    ref("incident", "outcome"), ref("incident", "action_taken"), ref("incident", "referrals"),
    ref("incident", "place_county"), ref("incident", "place_subcounty"), WARD, VILLAGE,
    V_SEX, V_AGE, V_MINOR, V_DISABILITY,
    ref("incident", "perpetrators.sex"), ref("incident", "perpetrators.age_band"), P_RELATIONSHIP,
))

APPROXIMATE = ("morning", "afternoon", "evening", "night")
ALL = "all"  # the crime graph's column for every category together


def incidents(session: Session) -> Analysis:
    """The incident form's analysis for this user (refused without the observatory's ``report`` permission)."""
    return Analysis(session, FORM)


def _pivot(frame: pd.DataFrame, index: str, columns: str, rows: Sequence | None = None,
           cols: Sequence | None = None) -> pd.DataFrame:
    """Counts as a table of ints, every requested row and column present (zeros where nothing was recorded)."""
    table = frame.pivot_table(index=index, columns=columns, values="count", aggfunc="sum", fill_value=0,
                              dropna=False) if len(frame) else None
    import pandas as pd

    if table is None:
        table = pd.DataFrame(dtype="int64")
    table = table.reindex(index=list(rows) if rows is not None else table.index,
                          columns=list(cols) if cols is not None else table.columns, fill_value=0)
    table.index.name, table.columns.name = index, columns
    return table.astype("int64")


# --- crime clock ----------------------------------------------------------------------------------------------------


@dataclass
class CrimeClock:
    """When incidents happened. ``hours[h]`` counts exact times HH:MM in hour h (0-23); times given only as part of
    the day are kept apart in ``approximate`` (morning, afternoon, evening, night), as are times recorded as
    unknown and times left blank."""

    hours: list[int]
    approximate: dict[str, int]
    unknown: int
    blank: int

    @property
    def exact(self) -> int:
        return sum(self.hours)

    @property
    def total(self) -> int:
        return self.exact + sum(self.approximate.values()) + self.unknown + self.blank

    @property
    def busiest_hour(self) -> int | None:
        return max(range(24), key=lambda h: self.hours[h]) if self.exact else None


def crime_clock(an: Analysis, flt: Filter) -> CrimeClock:
    hours, approximate, unknown, blank = [0] * 24, dict.fromkeys(APPROXIMATE, 0), 0, 0
    for value, n in an.seek_rows(flt, [TIME]):
        if value is None or value == "":
            blank += n
        elif value in approximate:
            approximate[value] += n
        elif len(value) == 5 and value[2] == ":" and value[:2].isdigit() and int(value[:2]) < 24:
            hours[int(value[:2])] += n
        else:
            unknown += n
    return CrimeClock(hours, approximate, unknown, blank)


# --- crime chart ----------------------------------------------------------------------------------------------------


@dataclass
class CrimeChart:
    """Incidents by category and month, and by category and agency, for the filter's period.

    ``by_month``: index ``offence_category`` (codes, busiest first), one int column per month ("YYYY-MM", every
    month of the period). ``by_agency``: the same rows, one column per agency id (``agency_names`` to label).
    """

    by_month: pd.DataFrame
    by_agency: pd.DataFrame
    months: list[str]
    agency_names: dict[str, str] = field(default_factory=dict)

    @property
    def totals(self) -> pd.Series:
        return self.by_month.sum(axis=1)

    @property
    def total(self) -> int:
        return int(self.by_month.to_numpy().sum())


def _day(text: str, last: bool) -> str:
    """A period bound as a day: a month-only bound means its first (or last) day."""
    return text if len(text) == 10 else (month_end(text) if last else f"{text}-01")


@dataclass
class _Cells:
    """Counts by month and category (``frame``: columns month, offence_category, count) for ``months``: the one
    computation behind the headline, the crime graph and the crime chart's months."""

    frame: pd.DataFrame
    months: list[str]

    def by_month(self, months: Sequence[str]) -> pd.DataFrame:
        """Months (rows, in the order given) by category (columns)."""
        return _pivot(self.frame[self.frame[MONTH_OF].isin(months)], MONTH_OF, CATEGORY, rows=months)


def _cells(an: Analysis, flt: Filter, months: Sequence[str], first_day: str) -> _Cells:
    """Each month's slice of the (category, date) index searched once per category: the first month from
    ``first_day``, the last up to the period's end."""
    import pandas as pd

    rows = []
    last_day = _day(flt.date_to, True) if flt.date_to else None
    for m in months:
        lo = max(f"{m}-01", first_day)
        hi = min(month_end(m), last_day) if last_day else month_end(m)
        if lo <= hi:
            rows.extend((m, cat, n) for cat, n in an.seek_rows(flt.between(lo, hi), [CATEGORY]))
    return _Cells(pd.DataFrame(rows, columns=[MONTH_OF, CATEGORY, "count"]), list(months))


def _chart_months(an: Analysis, flt: Filter) -> tuple[list[str], str]:
    """The period's months and its first day; an open start begins with the oldest live record."""
    if flt.date_from:
        return months_between(flt.date_from, flt.end_month()), _day(flt.date_from, False)
    oldest = an.oldest()
    if oldest is None:
        return [flt.end_month()], f"{flt.end_month()}-01"
    return months_between(oldest, flt.end_month()), f"{oldest[:7]}-01"


def crime_chart(an: Analysis, flt: Filter, cells: _Cells | None = None) -> CrimeChart:
    """``cells``: counts already made for months that include the period (the dashboard's, shared with the graph),
    used when the period starts on the first of a month."""
    months, first_day = _chart_months(an, flt)
    if cells is None or not first_day.endswith("-01") or not set(months) <= set(cells.months):
        cells = _cells(an, flt, months, first_day)
    by_month = cells.by_month(months).T
    by_month = by_month.loc[by_month.sum(axis=1) > 0]
    by_month.index.name, by_month.columns.name = CATEGORY, MONTH_OF
    order = by_month.sum(axis=1).sort_values(ascending=False, kind="stable").index
    import pandas as pd

    frame = pd.DataFrame(an.seek_rows(flt, [AGENCY, CATEGORY]), columns=[AGENCY, CATEGORY, "count"])
    names = agency_names(an.session)
    agencies = sorted(frame[AGENCY].unique(), key=lambda a: names.get(a, a)) if len(frame) else []
    by_agency = _pivot(frame, CATEGORY, AGENCY, rows=order, cols=agencies)
    return CrimeChart(by_month.loc[order].astype("int64"), by_agency, months, {a: names.get(a, a) for a in agencies})


# --- crime graph and headline ---------------------------------------------------------------------------------------


def _window(an: Analysis, flt: Filter, first: str) -> _Cells:
    """Counts for every month from ``first`` to the period's end."""
    return _cells(an, flt, months_between(first, flt.end_month()), f"{first}-01")


@dataclass
class CrimeGraph:
    """Monthly trend lines: ``current`` has one row per month of the 12 months ending with the period's last
    month (index "YYYY-MM") and a column per main category plus ``all``; ``last_year`` has the same shape, each
    row holding the same month a year earlier."""

    months: list[str]
    current: pd.DataFrame
    last_year: pd.DataFrame

    @property
    def categories(self) -> list[str]:
        return [c for c in self.current.columns if c != ALL]


def _graph(monthly: pd.DataFrame, end: str, main: int, categories: Sequence[str]) -> CrimeGraph:
    months = months_between(shift_month(end, -11), end)
    previous = [shift_month(m, -12) for m in months]
    chosen = list(categories) or list(monthly.loc[months].sum().sort_values(ascending=False, kind="stable")
                                      .loc[lambda s: s > 0].index[:main])

    def shape(rows):
        part = monthly.reindex(index=rows, columns=chosen, fill_value=0)
        part.insert(0, ALL, monthly.reindex(index=rows, fill_value=0).sum(axis=1))
        part.index = months
        part.index.name = MONTH_OF
        return part.astype("int64")

    return CrimeGraph(months, shape(months), shape(previous))


def crime_graph(an: Analysis, flt: Filter, main: int = 5) -> CrimeGraph:
    """The 12 months ending with the period's last month, for the ``main`` busiest categories (or the filter's
    categories when it names some), each beside the same month a year before."""
    end = flt.end_month()
    window = _window(an, flt, shift_month(end, -23))
    return _graph(window.by_month(window.months), end, main, flt.categories)


@dataclass
class Headline:
    """The period's last month beside the month before and the same month a year before; ``top_categories`` are
    (category code, count) for that month, busiest first."""

    month: str
    this_month: int
    last_month: int
    same_month_last_year: int
    top_categories: list[tuple[str, int]]

    @property
    def change_from_last_month(self) -> int:
        return self.this_month - self.last_month

    @property
    def change_from_last_year(self) -> int:
        return self.this_month - self.same_month_last_year

    @staticmethod
    def percent(now: int, before: int) -> float | None:
        """Change in percent, or None when there was nothing before to compare with."""
        return None if before == 0 else 100.0 * (now - before) / before


def _headline(monthly: pd.DataFrame, end: str, top: int) -> Headline:
    totals = monthly.sum(axis=1)

    def at(month):
        return int(totals.get(month, 0))

    row = monthly.loc[end] if end in monthly.index else monthly.iloc[0:0].sum()
    ranked = row[row > 0].sort_values(ascending=False, kind="stable").iloc[:top]
    return Headline(end, at(end), at(shift_month(end, -1)), at(shift_month(end, -12)),
                    [(str(k), int(v)) for k, v in ranked.items()])


def headline(an: Analysis, flt: Filter, top: int = 3) -> Headline:
    end = flt.end_month()
    window = _window(an, flt, shift_month(end, -12))
    return _headline(window.by_month(window.months), end, top)


# --- places ---------------------------------------------------------------------------------------------------------


@dataclass
class Places:
    """Where incidents happened. ``by_ward``: columns ``place_ward``, ``count``; ``by_village``: ``place_ward``,
    ``place_village``, ``count``; both busiest first (blank places are None, kept as their own row)."""

    by_ward: pd.DataFrame
    by_village: pd.DataFrame
    wards: list[str] = field(default_factory=list)  # every ward named in the period, alphabetical


def top_places(an: Analysis, flt: Filter, limit: int = 10) -> Places:
    import pandas as pd

    frame = pd.DataFrame(an.seek_rows(flt, [WARD, VILLAGE]), columns=[WARD, VILLAGE, "count"])
    wards = (frame.groupby(WARD, dropna=False, sort=False)["count"].sum().reset_index()
             .sort_values(["count", WARD], ascending=[False, True], kind="stable"))
    by_village = (frame.sort_values(["count", WARD, VILLAGE], ascending=[False, True, True], kind="stable")
                  .head(limit).reset_index(drop=True))
    return Places(wards.head(limit).reset_index(drop=True), by_village,
                  sorted(w for w in wards[WARD] if isinstance(w, str) and w))


# --- who is affected ------------------------------------------------------------------------------------------------


@dataclass
class Affected:
    """Victims and perpetrators of the filtered incidents.

    ``victims_by_sex_age``: index age band (list order), a column per sex, counts of victims.
    ``minors`` / ``disability``: {"yes", "no", "blank"} -> victims. ``children_by_category``: victims who are minors
    by offence category (Series). ``relationship``: perpetrators by relationship to the victim (Series).
    ``gbv_by_type`` / ``gbv_by_context``: gender-based-violence incidents by GBVIMS type / case context (Series).
    ``by_iccs``: incidents by ICCS section (Series). Blank values are counted under None.
    """

    victims: int
    victims_by_sex_age: pd.DataFrame
    minors: dict[str, int]
    disability: dict[str, int]
    children_by_category: pd.Series
    relationship: pd.Series
    gbv_incidents: int
    gbv_by_type: pd.Series
    gbv_by_context: pd.Series
    by_iccs: pd.Series


def _yes_no(frame: pd.DataFrame, column: str) -> dict[str, int]:
    out = {"yes": 0, "no": 0, "blank": 0}
    for value, n in frame.groupby(column, dropna=False)["count"].sum().items():
        key = "blank" if value is None or value != value else ("yes" if value else "no")
        out[key] += int(n)
    return out


def _series(frame: pd.DataFrame, column: str, order: Sequence | None = None) -> pd.Series:
    s = frame.groupby(column, dropna=False, sort=False)["count"].sum()
    if order is not None:
        s = s.reindex([*order, *[v for v in s.index if v not in order]], fill_value=0)
        s = s[s > 0]
    return s.sort_values(ascending=False, kind="stable").astype("int64") if order is None else s.astype("int64")


def who_is_affected(an: Analysis, flt: Filter) -> Affected:
    victims = an.counts(flt, [CATEGORY, V_SEX, V_AGE, V_MINOR, V_DISABILITY])
    perpetrators = an.counts(flt, [P_RELATIONSHIP])
    cases = an.counts(flt, [GBV, GBV_TYPE, GBV_CONTEXT, ICCS])
    sexes, bands = get("sex").values, get("age_band").values
    by_sex_age = _pivot(victims, V_AGE, V_SEX, rows=bands, cols=sexes)
    minors = victims[victims[V_MINOR] == 1]
    gbv = cases[cases[GBV] == 1]
    return Affected(
        victims=int(victims["count"].sum()),
        victims_by_sex_age=by_sex_age,
        minors=_yes_no(victims, V_MINOR),
        disability=_yes_no(victims, V_DISABILITY),
        children_by_category=_series(minors, CATEGORY),
        relationship=_series(perpetrators, P_RELATIONSHIP, get("perpetrator_relationship").values),
        gbv_incidents=int(gbv["count"].sum()),
        gbv_by_type=_series(gbv, GBV_TYPE, get("gbvims_types").values),
        gbv_by_context=_series(gbv, GBV_CONTEXT, get("gbv_context").values),
        by_iccs=_series(cases, ICCS, get("iccs_sections").values),
    )


# --- everything the dashboard shows ---------------------------------------------------------------------------------


@dataclass
class Dashboard:
    filter: Filter
    headline: Headline
    clock: CrimeClock
    chart: CrimeChart
    graph: CrimeGraph
    places: Places


def dashboard(session: Session, flt: Filter, main: int = 5, places: int = 10) -> Dashboard:
    """Every figure of the observatory dashboard. The headline, the chart and the graph share one count by month,
    agency and category over the 24 months to the period's end (the same months, the same numbers); the clock and
    the places each search their own index over the period."""
    an = incidents(session)
    end = flt.end_month()
    window = _window(an, flt, shift_month(end, -23))
    monthly = window.by_month(window.months)
    return Dashboard(flt, _headline(monthly, end, 3), crime_clock(an, flt), crime_chart(an, flt, window),
                     _graph(monthly, end, main, flt.categories), top_places(an, flt, places))

"""Counts over one form, grouped in SQL by allow-listed dimensions: the one place every figure is computed from.

The dashboard, the monthly PDF and its workbook all read figures through here, so a number is computed one way.
SQLite does the grouping over the indexes (a million rows never reach Python); pandas only shapes the small
grouped result, and is imported inside functions so start-up does not pay for it.

Privacy by construction: a form's figures may group only by the dimensions on its allow-list, and every entry is
checked against the form definition when the list is declared and again at each query: public tier, never
``local_only``, and a coded kind (choice, yes/no, date, time, place). Free text, identifying and narrative fields
cannot reach an output, whatever a caller asks for.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from .. import clock
from ..errors import PermissionDenied, UsalamaError
from ..forms.definition import Form
from ..forms.fields import CHOICE, DATE, MONTH, MULTI, PLACE, PLACE_PARTS, TIME, YESNO, Field
from ..forms.registry import get_form
from ..i18n import _, language
from ..permissions import require
from ..services.records import Query, RecordService

if TYPE_CHECKING:
    import pandas as pd

    from ..services.installation import Session

# Kinds whose values are codes from a list, dates or times: safe to count by. TEXT, LONGTEXT, REFERENCE, numbers
# and anything added later are refused until someone decides otherwise here.
CODED_KINDS = frozenset({CHOICE, MULTI, YESNO, DATE, MONTH, TIME, PLACE})
AGENCY = "agency"  # the record's agency (spine column agency_id)
MONTH_OF = "month"  # the month of the form's date field

_PERIOD = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")


# --- periods ------------------------------------------------------------------------------------------------------


def month_of(text: str) -> str:
    return text[:7]


def shift_month(month: str, by: int) -> str:
    """'2024-03' moved by ``by`` months."""
    index = int(month[:4]) * 12 + int(month[5:7]) - 1 + by
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_between(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last`` inclusive, oldest first."""
    out, m = [], month_of(first)
    while m <= month_of(last):
        out.append(m)
        m = shift_month(m, 1)
    return out


def month_end(month: str) -> str:
    """The last day of a month, as YYYY-MM-DD."""
    nxt = shift_month(month, 1)
    return (dt.date(int(nxt[:4]), int(nxt[5:7]), 1) - dt.timedelta(days=1)).isoformat()


PRESETS = ("this_month", "last_3_months", "this_year", "last_12_months")


def preset_period(name: str, today: dt.date | None = None) -> tuple[str, str]:
    """(from, to) of a named period ending today: the dashboard's presets, the same for the command and tests."""
    today = today or clock.today()
    this = today.isoformat()[:7]
    first = {"this_month": this, "last_3_months": shift_month(this, -2), "this_year": f"{today.year:04d}-01",
             "last_12_months": shift_month(this, -11)}.get(name)
    if first is None:
        raise UsalamaError(_("Unknown period {name}.").format(name=name))
    return f"{first}-01", today.isoformat()


def _check_day(text: str | None) -> None:
    if text is None:
        return
    ok = bool(_PERIOD.match(text))
    if ok:
        try:
            dt.date.fromisoformat(text if len(text) == 10 else text + "-01")
        except ValueError:
            ok = False
    if not ok:
        raise UsalamaError(_("Write the period's dates as YYYY-MM-DD (or a month as YYYY-MM)."))


@dataclass(frozen=True)
class Filter:
    """Which records a figure counts. Dates are inclusive and follow the record lists' rules: a month-only date
    ("2024-03") counts in its month, and is inside a period that starts on the 1st of that month or earlier."""

    date_from: str | None = None
    date_to: str | None = None
    agency_ids: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    county: str | None = None
    subcounty: str | None = None
    ward: str | None = None

    def __post_init__(self):
        _check_day(self.date_from)
        _check_day(self.date_to)
        if self.date_from and self.date_to and self.date_from[:len(self.date_to)] > self.date_to:
            raise UsalamaError(_("The period ends before it starts. Choose the dates again."))
        object.__setattr__(self, "agency_ids", tuple(self.agency_ids))
        object.__setattr__(self, "categories", tuple(self.categories))

    def query(self) -> Query:
        return Query(date_from=self.date_from, date_to=self.date_to, categories=list(self.categories),
                     agency_ids=list(self.agency_ids), county=self.county or None, subcounty=self.subcounty or None,
                     ward=self.ward or None)

    def between(self, date_from: str | None, date_to: str | None) -> Filter:
        """The same filter over another period."""
        return replace(self, date_from=date_from, date_to=date_to)

    def end_month(self) -> str:
        """The month the period ends in (this month when it is open-ended)."""
        return month_of(self.date_to) if self.date_to else clock.today().isoformat()[:7]

    def months(self) -> list[str] | None:
        """The months of the period, or None when it has no start."""
        if not self.date_from:
            return None
        return months_between(self.date_from, self.end_month())


# --- dimensions -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dimension:
    """Something a count may be grouped by, with the SQL that yields its value."""

    name: str
    sql: str  # an expression over the record table (alias p) or the repeat group's table (alias r)
    group: str | None = None  # the repeat group whose rows are counted, if any
    multi: bool = False  # a multiple choice: counted once per chosen value (json_each)
    field: Field | None = None


def _refuse(name: str) -> PermissionDenied:
    return PermissionDenied(_("{name} cannot be used in a figure: only public, coded fields can be counted.").format(
        name=name))


def _check_field(f: Field, name: str) -> Field:
    if f.tier != "public" or f.local_only or f.kind not in CODED_KINDS:
        raise _refuse(name)
    return f


def resolve(form: Form, name: str) -> Dimension:
    """The dimension ``name`` of ``form`` if the form's definition lets it be counted; PermissionDenied if not."""
    if name == AGENCY:
        return Dimension(AGENCY, 'p."agency_id"')
    if name == MONTH_OF:
        if not form.date_field:
            raise _refuse(name)
        _check_field(form.by_name[form.date_field], name)
        return Dimension(MONTH_OF, f'substr(p."{form.date_field}", 1, 7)', field=form.by_name[form.date_field])
    if "." in name:
        group, sub = name.split(".", 1)
        repeat = form.repeat_by_name.get(group)
        if repeat is None or sub not in repeat.by_name:
            raise _refuse(name)
        f = _check_field(repeat.by_name[sub], name)
        return Dimension(name, _expr(f, f'r."{sub}"'), group=group, multi=f.kind == MULTI, field=f)
    f = form.by_name.get(name)
    if f is None:
        for place in (x for x in form.fields if x.kind == PLACE):
            if name in {f"{place.name}_{part}" for part, _lab in PLACE_PARTS}:
                return Dimension(name, f'p."{name}"', field=_check_field(place, name))
        raise _refuse(name)
    _check_field(f, name)
    if f.kind == PLACE:
        raise _refuse(name)  # a place is counted by one of its parts (place_ward, place_village, ...)
    return Dimension(name, _expr(f, f'p."{name}"'), multi=f.kind == MULTI, field=f)


def _expr(f: Field, col: str) -> str:
    if f.kind in (DATE, MONTH):
        return f"substr({col}, 1, 7)"  # dates count by month, never by day
    if f.kind == TIME:
        return f"CASE WHEN substr({col}, 3, 1) = ':' THEN substr({col}, 1, 2) ELSE {col} END"  # the hour, or the word
    return col


ALLOW_LISTS: dict[str, tuple[str, ...]] = {}
# Modules that declare a form's figures (and its allow-list), by form; loaded when that form is first analysed.
ANALYSIS_MODULES: dict[str, str] = {
    "incident": "usalama_desktop.analysis.observatory",
}


def allow(form_name: str, names: Iterable[str]) -> tuple[str, ...]:
    """Declare what figures of ``form_name`` may group by. Each entry is checked now (a bad list fails at import)
    and again at every query, against the definition as it is then."""
    form = get_form(form_name)
    names = tuple(names)
    for name in names:
        resolve(form, name)
    ALLOW_LISTS[form_name] = names
    return names


# --- the counting ------------------------------------------------------------------------------------------------


class Analysis:
    """Counts over one form for one signed-in user: the ``report`` permission on the form's module, the user's row
    scope (clerks count their own agency only), tombstones left out, and only allow-listed dimensions."""

    def __init__(self, session: Session, form: Form | str):
        self.session = session
        self.form = form if isinstance(form, Form) else get_form(form)
        require(session.actor, self.form.module, "report")
        if self.form.name not in ALLOW_LISTS and self.form.name in ANALYSIS_MODULES:
            importlib.import_module(ANALYSIS_MODULES[self.form.name])
        if self.form.name not in ALLOW_LISTS:
            raise _refuse(self.form.name)
        self.service = RecordService(session, self.form)
        self._indexes: dict[tuple[str, ...], str | None] = {}
        self._domains: dict[tuple, tuple[list, bool]] = {}

    def dimension(self, name: str) -> Dimension:
        if name not in ALLOW_LISTS[self.form.name]:
            raise _refuse(name)
        return resolve(self.form, name)

    def _sql(self, flt: Filter, by: Sequence[str]) -> tuple[str, list[Any]]:
        dims = [self.dimension(n) for n in by]
        groups = {d.group for d in dims if d.group}
        if len(groups) > 1 or sum(d.multi for d in dims) > 1:
            raise ValueError("a count groups by at most one repeat group and one multiple choice")
        where, params = self.service.filter_sql(flt.query())
        use, narrow, narrow_params = self._period_search(flt)
        spec = self.form.table_spec
        # The filters name the record table's columns unqualified; a derived table keeps them unambiguous when a
        # repeat group is joined (SQLite flattens it, so the indexes still serve).
        conds = [*where, *narrow]
        source = f'(SELECT * FROM "{spec.name}" {use}' + (f" WHERE {' AND '.join(conds)}" if conds else "") + ") AS p"
        params = [*params, *narrow_params]
        if groups:
            source += f' JOIN "{spec.child_table(next(iter(groups)))}" AS r ON r.parent_rid = p.rid'
        select = []
        for i, d in enumerate(dims):
            if d.multi:
                source += f" JOIN json_each({d.sql}) AS m"
                select.append(f"m.value AS d{i}")
            else:
                select.append(f"{d.sql} AS d{i}")
        cols = ", ".join([*select, "count(*) AS n"])
        sql = f"SELECT {cols} FROM {source}"
        if dims:
            sql += " GROUP BY " + ", ".join(f"d{i}" for i in range(len(dims)))
        return sql, params

    def _period_search(self, flt: Filter) -> tuple[str, list[str], list[Any]]:
        """For a period: the (category, date) index and the categories present, so the records of the period are
        found by one search per category instead of a scan of every record's date."""
        cf, df = self.form.category_field, self.form.date_field
        index = self._index(("deleted", cf, df)) if cf and df and (flt.date_from or flt.date_to) else None
        if index is None:
            return "", [], []
        source = f'"{self.form.table_spec.name}" INDEXED BY "{index}"'
        values, blank = self._present(source, cf, ())
        if blank or not values:
            return "", [], []
        return f'INDEXED BY "{index}"', [f'"{cf}" IN ({", ".join("?" * len(values))})'], list(values)

    def rows(self, flt: Filter, by: Sequence[str]) -> list[tuple]:
        """(value, value, ..., count) for each combination present; no pandas."""
        sql, params = self._sql(flt, by)
        return [tuple(r) for r in self.session.db.query(sql, params)]

    def counts(self, flt: Filter, by: Sequence[str]) -> pd.DataFrame:
        """One row per combination present: a column per dimension (stored codes; None where blank) and ``count``.

        Grouping by a repeat group's field counts its rows (victims, not incidents); by a multiple choice, each
        chosen value once per record.
        """
        import pandas as pd

        frame = pd.DataFrame(self.rows(flt, by), columns=[*by, "count"])
        frame["count"] = frame["count"].astype("int64")
        return frame

    def total(self, flt: Filter) -> int:
        return int(self.rows(flt, [])[0][-1])

    # --- counting without sorting ----------------------------------------------------------------------------
    #
    # SQLCipher's memory protection makes each allocation SQLite makes outside its small per-connection pool cost
    # two system calls, and with temp_store=MEMORY (so nothing decrypted reaches a temp file) the sorter behind a
    # plain GROUP BY allocates once per row: about 2.5 us a row, 0.9 s for a year of a million incidents. Instead,
    # for plain columns, an index that starts with (deleted, the grouped columns..., the date) is searched once per
    # value present (found by a loose index scan: one seek per distinct value) and the groups come out in index
    # order, already counted; only the period's slice of the index is read.

    def column(self, name: str) -> str:
        """The stored column of a dimension counted as it is (no expression): a choice, yes/no, time or place part
        of the record itself, or the agency."""
        d = self.dimension(name)
        if name == AGENCY:
            return "agency_id"
        if d.group or d.multi or d.field is None or d.field.kind in (DATE, MONTH):
            raise ValueError(f"{name} is not a plain column")
        return name

    def _index(self, lead: tuple[str, ...]) -> str | None:
        """An index of the form's table whose columns start with ``lead``, or None (an installation opened before
        its form declared one: the counts stay right, only slower)."""
        if lead not in self._indexes:
            db, table = self.session.db, self.form.table_spec.name
            found = None
            for row in db.query(f'PRAGMA index_list("{table}")'):
                cols = tuple(r[2] for r in db.query(f'PRAGMA index_info("{row[1]}")'))
                if cols[:len(lead)] == lead:
                    found = row[1]
                    break
            self._indexes[lead] = found
        return self._indexes[lead]

    def _present(self, source: str, column: str, prefix: tuple[tuple[str, Any], ...]) -> tuple[list, bool]:
        """The distinct values of ``column`` among live records with the ``prefix`` values (a loose index scan:
        one seek per value), and whether it is ever blank. Unfiltered by period or scope: a superset is harmless."""
        key = (source, column, prefix)
        if key not in self._domains:
            where = ["deleted = 0", *(f'"{c}" IS NULL' if v is None else f'"{c}" = ?' for c, v in prefix)]
            params = [v for _c, v in prefix if v is not None]
            w = " AND ".join(where)
            sql = (f'WITH RECURSIVE v(x) AS (SELECT (SELECT min("{column}") FROM {source} WHERE {w}) UNION ALL '
                   f'SELECT (SELECT min("{column}") FROM {source} WHERE {w} AND "{column}" > v.x) FROM v '
                   "WHERE v.x IS NOT NULL) SELECT x FROM v WHERE x IS NOT NULL")
            values = [r[0] for r in self.session.db.query(sql, [*params, *params])]
            blank = bool(self.session.db.scalar(
                f'SELECT EXISTS (SELECT 1 FROM {source} WHERE {w} AND "{column}" IS NULL)', params))
            self._domains[key] = (values, blank)
        return self._domains[key]

    def seek_rows(self, flt: Filter, by: Sequence[str]) -> list[tuple]:
        """(value, ..., count) for each combination of stored values present, like ``rows`` but without sorting
        (see above); times are the stored values (HH:MM or a part of the day), not hours. Without an index that
        starts with the grouped columns (a database not yet migrated) it falls back to a plain GROUP BY."""
        columns = tuple(self.column(n) for n in by)
        index = self._index(("deleted", *columns))
        if index is None:
            return self._plain_rows(flt, columns)
        source = f'"{self.form.table_spec.name}" INDEXED BY "{index}"'
        where, params = self.service.filter_sql(flt.query())
        return self._seek(source, where, params, columns)

    def _seek(self, source: str, where: list[str], params: list, columns: tuple[str, ...],
              prefix: tuple[tuple[str, Any], ...] = ()) -> list[tuple]:
        """Rows for the columns after the fixed ``prefix`` values."""
        column = columns[len(prefix)]
        values, blank = self._present(source, column, prefix)
        rest = columns[len(prefix) + 1:]
        out: list[tuple] = []
        if not rest:
            if values:
                out += self._group(source, where, params, prefix, [(column, values)])
            if blank:
                out += self._blank(source, where, params, prefix, column)
            return out
        second = self._index(("deleted", rest[0])) if len(rest) == 1 and values and not prefix else None
        if second is not None:
            # Two columns whose second leads another index too (agency, category): the values of each are found
            # there, and one statement searches every pair; pairs that do not exist cost one quick search each.
            union, blank_below = self._present(f'"{self.form.table_spec.name}" INDEXED BY "{second}"', rest[0], ())
            if len(values) * max(len(union), 1) <= 5000:
                if union:
                    out += self._group(source, where, params, (), [(column, values), (rest[0], union)])
                if blank_below:
                    out += [(v, None, n) for v, n in self._group(source, where + [f'"{rest[0]}" IS NULL'], params,
                                                                   (), [(column, values)])]
                if blank:
                    out += self._seek(source, where, params, columns, ((column, None),))
                return out
        for v in [*values, *([None] if blank else [])]:
            out += self._seek(source, where, params, columns, (*prefix, (column, v)))
        return out

    @staticmethod
    def _fixed(prefix: tuple[tuple[str, Any], ...]) -> tuple[list[str], list[Any]]:
        return ([f'"{c}" IS NULL' if v is None else f'"{c}" = ?' for c, v in prefix],
                [v for _c, v in prefix if v is not None])

    def _group(self, source: str, where: list[str], params: list, prefix: tuple[tuple[str, Any], ...],
               among: list[tuple[str, list]]) -> list[tuple]:
        fixed, fixed_params = self._fixed(prefix)
        conds = [*where, *fixed, *(f'"{c}" IN ({", ".join("?" * len(vals))})' for c, vals in among)]
        cols = ", ".join(f'"{c}"' for c, _vals in among)
        sql = f"SELECT {cols}, count(*) FROM {source} WHERE {' AND '.join(conds)} GROUP BY {cols}"
        head = tuple(v for _c, v in prefix)
        rows = self.session.db.query(sql, [*params, *fixed_params, *(x for _c, vals in among for x in vals)])
        return [(*head, *tuple(r)) for r in rows]

    def _blank(self, source: str, where: list[str], params: list, prefix: tuple[tuple[str, Any], ...],
               column: str) -> list[tuple]:
        fixed, fixed_params = self._fixed(prefix)
        conds = [*where, *fixed, f'"{column}" IS NULL']
        n = self.session.db.scalar(f"SELECT count(*) FROM {source} WHERE {' AND '.join(conds)}",
                                   [*params, *fixed_params])
        return [(*(v for _c, v in prefix), None, n)] if n else []

    def oldest(self) -> str | None:
        """The earliest date among live records (for a period with no start)."""
        df = self.form.date_field
        return self.session.db.scalar(f'SELECT min("{df}") FROM "{self.form.table_spec.name}" WHERE deleted = 0')

    def _plain_rows(self, flt: Filter, columns: tuple[str, ...]) -> list[tuple]:
        where, params = self.service.filter_sql(flt.query())
        cols = ", ".join(f'"{c}"' for c in columns)
        sql = f'SELECT {cols}, count(*) FROM "{self.form.table_spec.name}"'
        if where:
            sql += " WHERE " + " AND ".join(where)
        return [tuple(r) for r in self.session.db.query(sql + f" GROUP BY {cols}", params)]

    # --- labels ----------------------------------------------------------------------------------------------

    def label(self, name: str, value: Any, lang: str | None = None) -> str:
        """A value of a dimension as a reader sees it, in ``lang`` (the GUI's language by default)."""
        with language(lang):
            if value is None or value == "":
                return _("Not recorded")
            if name == AGENCY:
                return agency_names(self.session).get(value, _("Unknown agency"))
            if name == MONTH_OF:
                return month_label(value)
            f = self.dimension(name).field
            if f.kind == YESNO:
                return _("Yes") if value else _("No")
            if f.kind == TIME and len(str(value)) == 2:
                return f"{value}:00"
            if f.kind in (DATE, MONTH):
                return month_label(value)
            if f.kind == PLACE:
                return _place_label(name, value, lang)
            return f.choice_list.label(value, lang) if f.choice_list else str(value)


def _place_label(name: str, value: str, lang: str | None) -> str:
    if name.endswith("_county"):
        from ..forms.choices import get

        return get("counties").label(value, lang)
    return str(value)


def month_label(month: str, lang: str | None = None) -> str:
    """'2024-03' as 'Mar 2024' (or 'Mac 2024' in Kiswahili)."""
    with language(lang):
        names = (_("Jan"), _("Feb"), _("Mar"), _("Apr"), _("May"), _("Jun"), _("Jul"), _("Aug"), _("Sep"),
                 _("Oct"), _("Nov"), _("Dec"))
    try:
        return f"{names[int(month[5:7]) - 1]} {month[:4]}"
    except (ValueError, IndexError):
        return str(month)


def agency_names(session: Session) -> dict[str, str]:
    """Agency id to name, for labelling figures by agency."""
    return {r[0]: r[1] for r in session.db.query("SELECT id, name FROM agencies")}


__all__ = ["AGENCY", "MONTH_OF", "Analysis", "Dimension", "Filter", "allow", "agency_names", "month_label",
           "months_between", "preset_period", "resolve", "shift_month"]

"""Service scores: mean ratings on the shared 1-5 scale, per agency and over time, aggregated in SQL.

Any form whose rating fields use the ``rating_1_5`` list can be scored; ``SCORED`` names, per module, the form, what
"per agency" means for it and which yes/no questions are reported as a share (asked for money, asked for a bribe).
The dashboard, the monthly report and ``usalama scores`` all call :func:`scores`, so a score is computed one way.

Only public fields that are not kept on this computer alone may be grouped by; a group with fewer than ``min_n``
answers shows its count but no means, so one person's ratings cannot be read off a small cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import PermissionDenied, UsalamaError
from ..forms.definition import Form
from ..forms.feedback import RATING_SCALE
from ..forms.fields import CHOICE, TEXT, YESNO
from ..forms.registry import get_form, ref
from ..i18n import _
from ..permissions import require
from .installation import Session
from .records import Query, RecordService

MIN_N = 5
AGENCY = "agency"  # the record's agency (spine column)
PERIODS = ("month", "quarter", "year")


@dataclass(frozen=True)
class ScoreSpec:
    form: str
    per_agency: tuple[str, ...]  # the fields that name the agency being scored
    flags: tuple[str, ...] = ()  # yes / no / unknown questions reported as the share answering yes


SCORED: dict[str, ScoreSpec] = {
    "feedback": ScoreSpec("feedback", (ref("feedback", "agency_type"), ref("feedback", "agency_name")),
                          (ref("feedback", "asked_money"),)),
    "police_ratings": ScoreSpec("police_rating", (ref("police_rating", "station"),),
                                (ref("police_rating", "asked_bribe"),)),
}


@dataclass
class ScoreRow:
    group: tuple[Any, ...]
    period: str | None
    n: int
    means: dict[str, float | None] = field(default_factory=dict)
    answered: dict[str, int] = field(default_factory=dict)  # how many gave each rating
    flags: dict[str, float | None] = field(default_factory=dict)  # share answering yes among yes/no answers
    suppressed: bool = False


@dataclass
class ScoreTable:
    form: Form
    by: tuple[str, ...]
    period: str | None
    ratings: tuple[str, ...]
    flags: tuple[str, ...]
    rows: list[ScoreRow]
    min_n: int

    def header(self) -> list[str]:
        """Column titles in the GUI's language, matching :meth:`table`."""
        names = [_("Agency") if b == AGENCY else self.form.label_of(b) for b in self.by]
        if self.period:
            names.append(_("Period"))
        names.append(_("Answers"))
        names += [self.form.label_of(r) for r in self.ratings]
        names += [_("{question}: share yes").format(question=self.form.label_of(f)) for f in self.flags]
        return names

    def table(self, agency_names: dict[str, str] | None = None) -> list[list[str]]:
        """Rows of display text: choices as labels, means to one decimal, shares as percentages, '-' if hidden."""
        out = []
        for row in self.rows:
            cells = []
            for name, value in zip(self.by, row.group, strict=True):
                if name == AGENCY:
                    cells.append((agency_names or {}).get(value, value or ""))
                elif value in (None, ""):
                    cells.append(_("Not recorded"))
                else:
                    cells.append(self.form.by_name[name].display(value))
            if self.period:
                cells.append(row.period or _("Not recorded"))
            cells.append(str(row.n))
            cells += ["-" if row.means.get(r) is None else f"{row.means[r]:.1f}" for r in self.ratings]
            cells += ["-" if row.flags.get(f) is None else f"{row.flags[f] * 100:.0f}%" for f in self.flags]
            out.append(cells)
        return out


def rating_fields(form: Form) -> tuple[str, ...]:
    return tuple(f.name for f in form.fields if f.kind == CHOICE and f.choices == RATING_SCALE)


def spec_for(name: str) -> ScoreSpec:
    """A module name (feedback, police_ratings) or a form name that has scores."""
    if name in SCORED:
        return SCORED[name]
    for spec in SCORED.values():
        if spec.form == name:
            return spec
    raise UsalamaError(_("There are no scores for {name}. Choose one of: {names}.").format(
        name=name, names=", ".join(SCORED)))


def _group_expr(form: Form, name: str) -> tuple[str, str]:
    """(what to show, what to group on). Typed names group without regard to case or spacing."""
    if name == AGENCY:
        return '"agency_id"', '"agency_id"'
    f = form.by_name.get(name)
    if f is None or f.tier != "public" or f.local_only or f.kind not in (CHOICE, TEXT, YESNO) or not (
            f.dimension or f.kind == CHOICE):
        raise PermissionDenied(_("{name} cannot be used to group scores.").format(name=name))
    if f.kind == TEXT:
        text = f"nullif(trim(\"{name}\"), '')"
        return f"min({text})", f"lower({text})"  # min: a capitalised spelling sorts first
    return f'"{name}"', f'"{name}"'


def period_expr(date_col: str, period: str) -> str:
    col = f'"{date_col}"'
    if period == "month":
        return f"substr({col}, 1, 7)"
    if period == "quarter":
        return f"substr({col}, 1, 4) || '-Q' || ((CAST(substr({col}, 6, 2) AS INTEGER) + 2) / 3)"
    return f"substr({col}, 1, 4)"


def scores(session: Session, name: str, by: Sequence[str] | None = None, period: str | None = None,
           query: Query | None = None, min_n: int = MIN_N) -> ScoreTable:
    """Mean ratings and shares per group (default: per agency) and per period, for the rows this user may see.

    ``by=()`` gives one row per period (the trend over all agencies); ``period=None`` one row per group.
    """
    spec = spec_for(name)
    form = get_form(spec.form)
    require(session.actor, form.module, "report")
    if period is not None and period not in PERIODS:
        raise UsalamaError(_("Choose the period as month, quarter or year."))
    by = tuple(spec.per_agency if by is None else by)
    groups = [_group_expr(form, b) for b in by]
    ratings = rating_fields(form)
    flags = spec.flags
    service = RecordService(session, form)
    where, params = service.filter_sql(query or Query())
    select = [f"{shown} AS g{i}" for i, (shown, _key) in enumerate(groups)]
    keys = [key for _shown, key in groups]
    if period:
        select.append(f"{period_expr(form.date_field, period)} AS period")
        keys.append("period")
    select.append("count(*) AS n")
    for r in ratings:
        select.append(f'avg(CAST("{r}" AS REAL)), count("{r}")')
    for f in flags:
        select.append(f"""sum("{f}" = 'yes'), sum("{f}" IN ('yes', 'no'))""")
    sql = f'SELECT {", ".join(select)} FROM "{form.table_spec.name}"'
    if where:
        sql += " WHERE " + " AND ".join(where)
    if keys:
        sql += " GROUP BY " + ", ".join(keys) + " ORDER BY " + ", ".join(keys)
    rows = []
    for r in session.db.query(sql, params):
        values = tuple(r)
        group = values[:len(groups)]
        pos = len(groups)
        row_period = None
        if period:
            row_period = values[pos]
            pos += 1
        n = int(values[pos])
        pos += 1
        if n == 0:
            continue
        row = ScoreRow(group, row_period, n, suppressed=n < min_n)
        for rating in ratings:
            mean, answered = values[pos], int(values[pos + 1])
            pos += 2
            row.answered[rating] = answered
            row.means[rating] = None if row.suppressed or mean is None else round(float(mean), 2)
        for flag in flags:
            yes, answered = int(values[pos] or 0), int(values[pos + 1] or 0)
            pos += 2
            row.flags[flag] = None if row.suppressed or not answered else round(yes / answered, 4)
        rows.append(row)
    return ScoreTable(form, by, period, ratings, flags, rows, min_n)


def trend(session: Session, name: str, period: str = "month", query: Query | None = None,
          min_n: int = MIN_N) -> ScoreTable:
    """Scores over time for every agency together: one row per period."""
    return scores(session, name, by=(), period=period, query=query, min_n=min_n)

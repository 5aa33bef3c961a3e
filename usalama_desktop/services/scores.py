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


def _check_group(form: Form, name: str) -> bool:
    """Whether ``name`` may group scores; True when it is typed text (grouped without regard to case or spacing)."""
    if name == AGENCY:
        return False
    f = form.by_name.get(name)
    if f is None or f.tier != "public" or f.local_only or f.kind not in (CHOICE, TEXT, YESNO) or not (
            f.dimension or f.kind == CHOICE):
        raise PermissionDenied(_("{name} cannot be used to group scores.").format(name=name))
    return f.kind == TEXT


def fold_text(value: Any) -> Any:
    """How typed names compare: case, surrounding and repeated spaces ignored; blank is None."""
    if not isinstance(value, str):
        return value
    return " ".join(value.split()).casefold() or None


def period_of(date: str | None, period: str) -> str | None:
    """'2024-05-17' or '2024-05' as its month ('2024-05'), quarter ('2024-Q2') or year ('2024'), as period_expr."""
    if not date:
        return None
    if period == "month":
        return date[:7]
    if period == "quarter":
        return f"{date[:4]}-Q{(int(date[5:7]) + 2) // 3}" if len(date) >= 7 else None
    return date[:4]


def period_expr(date_col: str, period: str) -> str:
    """The same periods in SQL (a function per row: for small tables such as group activities)."""
    col = f'"{date_col}"'
    if period == "month":
        return f"substr({col}, 1, 7)"
    if period == "quarter":
        return f"substr({col}, 1, 4) || '-Q' || ((CAST(substr({col}, 6, 2) AS INTEGER) + 2) / 3)"
    return f"substr({col}, 1, 4)"


class Merged:
    """Running totals of one output row, merged from the SQL groups that fold into it (typed names written in
    several ways, dates of one period)."""

    def __init__(self, width: int):
        self.n = 0
        self.totals = [0.0] * width
        self.spellings: list[dict[Any, int]] = []

    def add(self, n: int, totals: Sequence[Any], shown: Sequence[Any]) -> None:
        self.n += n
        for i, value in enumerate(totals):
            self.totals[i] += float(value or 0)
        if not self.spellings:
            self.spellings = [{} for _ in shown]
        for i, value in enumerate(shown):
            self.spellings[i][value] = self.spellings[i].get(value, 0) + n

    def shown(self) -> tuple[Any, ...]:
        """Each grouping value as most often written (the first in sort order on a tie)."""
        return tuple(sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))[0][0] for counts in self.spellings)


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
    typed = [_check_group(form, b) for b in by]
    columns = ['"agency_id"' if b == AGENCY else f'"{b}"' for b in by]
    ratings = rating_fields(form)
    flags = spec.flags
    where, params = RecordService(session, form).filter_sql(query or Query())
    # SQL groups by the stored names and dates (no function per row: with SQLCipher's memory protection each costs
    # more than the rest of the query); names written in several ways and the days of a period are folded below.
    if period:
        columns.append(f'"{form.date_field}"')
    keys = columns
    select = [*keys, "count(*)"]
    for r in ratings:
        select.append(f'sum(CAST("{r}" AS REAL)), count("{r}")')
    for f in flags:
        select.append(f"""sum("{f}" = 'yes'), sum("{f}" IN ('yes', 'no'))""")
    sql = f'SELECT {", ".join(select)} FROM "{form.table_spec.name}"'
    if where:
        sql += " WHERE " + " AND ".join(where)
    if keys:
        sql += " GROUP BY " + ", ".join(keys)
    merged: dict[tuple, Merged] = {}
    width = 2 * (len(ratings) + len(flags))
    for r in session.db.query(sql, params):
        values = tuple(r)
        shown = tuple(v.strip() if t and isinstance(v, str) else v for v, t in zip(values[:len(by)], typed,
                                                                                    strict=True))
        key = tuple(fold_text(v) if t else v for v, t in zip(shown, typed, strict=True))
        row_period = period_of(values[len(by)], period) if period else None
        pos = len(keys)
        sums = merged.setdefault((*key, row_period), Merged(width))
        sums.add(int(values[pos]), values[pos + 1:], shown)
    rows = []
    for (*_key, row_period), sums in sorted(merged.items(), key=lambda kv: tuple(str(k or "") for k in kv[0])):
        if sums.n == 0:
            continue
        row = ScoreRow(sums.shown(), row_period, sums.n, suppressed=sums.n < min_n)
        t = sums.totals
        for i, rating in enumerate(ratings):
            total, answered = t[2 * i], int(t[2 * i + 1])
            row.answered[rating] = answered
            row.means[rating] = None if row.suppressed or not answered else round(total / answered, 2)
        for j, flag in enumerate(flags):
            yes, answered = int(t[2 * (len(ratings) + j)]), int(t[2 * (len(ratings) + j) + 1])
            row.flags[flag] = None if row.suppressed or not answered else round(yes / answered, 4)
        rows.append(row)
    return ScoreTable(form, by, period, ratings, flags, rows, min_n)


def trend(session: Session, name: str, period: str = "month", query: Query | None = None,
          min_n: int = MIN_N) -> ScoreTable:
    """Scores over time for every agency together: one row per period."""
    return scores(session, name, by=(), period=period, query=query, min_n=min_n)

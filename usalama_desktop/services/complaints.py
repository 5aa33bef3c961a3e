"""Redress of complaints about police conduct: each complaint's age in days and a summary of slow redress.

The age is computed when asked (from the day received to the day closed, or to today while open), never stored,
so it cannot go stale. Like every path to complaints, these refuse users at a police station or post.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

from .. import clock
from ..forms.policing import CLOSED_COMPLAINT, OPEN_COMPLAINT
from ..forms.registry import get_form, ref
from .installation import Session
from .records import Query, RecordService

FORM = "police_complaint"
RECEIVED = ref("police_complaint", "received_on")
CLOSED = ref("police_complaint", "closed_on")
STATUS = ref("police_complaint", "status")
STATION = ref("police_complaint", "station")
KIND = ref("police_complaint", "complaint_type")
REF = ref("police_complaint", "complaint_ref")
FORWARDED = ref("police_complaint", "forwarded")
FORWARDED_TO = ref("police_complaint", "forwarded.to").split(".")[1]
FORWARDED_ON = ref("police_complaint", "forwarded.forwarded_on").split(".")[1]
SLOW_DAYS = (30, 90)


@dataclass(frozen=True)
class ComplaintAge:
    id: str
    agency_id: str
    complaint_ref: str | None
    station: str | None
    complaint_type: str | None
    status: str | None
    received_on: str
    closed_on: str | None
    age_days: int
    is_open: bool
    forwarded_to: tuple[str, ...]
    last_forwarded_on: str | None


@dataclass(frozen=True)
class RedressSummary:
    total: int
    by_status: dict[str, int]
    open: int
    open_over: dict[int, int]  # open complaints older than 30 / 90 days
    median_open_age: float | None
    median_days_to_close: float | None
    forwarded: dict[str, int]  # complaints forwarded to each office (OCS, IAU, IPOA, other)
    oldest_open: ComplaintAge | None


def complaint_ages(session: Session, query: Query | None = None, as_of: dt.date | None = None,
                   open_only: bool = False) -> list[ComplaintAge]:
    """Every complaint this user may list, oldest open first, with its age in days on ``as_of`` (today)."""
    service = RecordService(session, FORM)
    service.require("list")
    return _ages(session, service, query, as_of, open_only)


def _ages(session: Session, service: RecordService, query: Query | None, as_of: dt.date | None,
          open_only: bool) -> list[ComplaintAge]:
    """Ages are counted here rather than in SQL: date functions per row cost more than the query itself."""
    today = as_of or clock.today()
    spec = get_form(FORM).table_spec
    where, params = service.filter_sql(query or Query())
    if open_only:
        where.append(f'"{STATUS}" IN ({", ".join("?" * len(OPEN_COMPLAINT))})')
        params.extend(OPEN_COMPLAINT)
    source = f'SELECT rid FROM "{spec.name}"' + (f" WHERE {' AND '.join(where)}" if where else "")
    forwarded: dict[int, list[tuple[str, str | None]]] = {}
    for parent, office, on in session.db.query(
            f'SELECT parent_rid, "{FORWARDED_TO}", "{FORWARDED_ON}" FROM "{spec.child_table(FORWARDED)}" '
            f"WHERE parent_rid IN ({source}) ORDER BY parent_rid, idx", params):
        forwarded.setdefault(parent, []).append((office, on))
    out = []
    for r in session.db.query(f'SELECT rid, id, agency_id, "{REF}", "{STATION}", "{KIND}", "{STATUS}", "{RECEIVED}", '
                              f'"{CLOSED}" FROM "{spec.name}"' + (f" WHERE {' AND '.join(where)}" if where else ""),
                              params):
        status, received, closed = r[6], r[7], r[8]
        is_open = status not in CLOSED_COMPLAINT
        end = dt.date.fromisoformat(closed) if closed and not is_open else today
        rows = forwarded.get(r[0], [])
        dates = [on for _office, on in rows if on]
        out.append(ComplaintAge(r[1], r[2], r[3], r[4], r[5], status, received, closed,
                                max(0, (end - dt.date.fromisoformat(received)).days), is_open,
                                tuple(dict.fromkeys(office for office, _on in rows if office)),
                                max(dates) if dates else None))
    out.sort(key=lambda a: (not a.is_open, -a.age_days, a.received_on))
    return out


def redress_summary(session: Session, query: Query | None = None, as_of: dt.date | None = None) -> RedressSummary:
    """Counts a team meeting or the monthly report needs to see whether redress is slow."""
    service = RecordService(session, FORM)
    service.require("report")
    ages = _ages(session, service, query, as_of, open_only=False)
    by_status: dict[str, int] = {}
    forwarded: dict[str, int] = {}
    for a in ages:
        by_status[a.status or ""] = by_status.get(a.status or "", 0) + 1
        for office in a.forwarded_to:
            forwarded[office] = forwarded.get(office, 0) + 1
    still_open = [a for a in ages if a.is_open]
    closed = [a for a in ages if not a.is_open and a.closed_on]
    return RedressSummary(
        total=len(ages),
        by_status=by_status,
        open=len(still_open),
        open_over={days: sum(a.age_days > days for a in still_open) for days in SLOW_DAYS},
        median_open_age=statistics.median(a.age_days for a in still_open) if still_open else None,
        median_days_to_close=statistics.median(a.age_days for a in closed) if closed else None,
        forwarded=forwarded,
        oldest_open=still_open[0] if still_open else None,
    )

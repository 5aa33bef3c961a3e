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
    today = (as_of or clock.today()).isoformat()
    spec = get_form(FORM).table_spec
    where, params = service.filter_sql(query or Query())
    if open_only:
        where.append(f'"{STATUS}" IN ({", ".join("?" * len(OPEN_COMPLAINT))})')
        params.extend(OPEN_COMPLAINT)
    child = spec.child_table(FORWARDED)
    closed_list = ", ".join(f"'{s}'" for s in CLOSED_COMPLAINT)
    end = f"""CASE WHEN c."{STATUS}" IN ({closed_list}) AND c."{CLOSED}" IS NOT NULL THEN c."{CLOSED}" ELSE ? END"""
    sql = f"""
        SELECT c.id, c.agency_id, c."{REF}", c."{STATION}", c."{KIND}", c."{STATUS}", c."{RECEIVED}", c."{CLOSED}",
               CAST(julianday({end}) - julianday(c."{RECEIVED}") AS INTEGER) AS age,
               (SELECT group_concat("{FORWARDED_TO}", ' ') FROM "{child}" f WHERE f.parent_rid = c.rid),
               (SELECT max("{FORWARDED_ON}") FROM "{child}" f WHERE f.parent_rid = c.rid)
        FROM (SELECT * FROM "{spec.name}" {"WHERE " + " AND ".join(where) if where else ""}) AS c
        ORDER BY c."{STATUS}" IN ({closed_list}), age DESC, c.rid"""
    out = []
    for r in session.db.query(sql, [today, *params]):
        status = r[5]
        out.append(ComplaintAge(r[0], r[1], r[2], r[3], r[4], status, r[6], r[7], max(0, int(r[8] or 0)),
                                status not in CLOSED_COMPLAINT, tuple(dict.fromkeys((r[9] or "").split())), r[10]))
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

"""The coordinator's submissions tracker: every enrolled agency, its last bundle (sequence, date, age in days), the
bundles missing in its sequence, bundles refused with their reason, and who is late this month (THREATS 21)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from .. import clock
from ..i18n import _
from ..permissions import require
from .importer import describe_gaps, gaps

DEFAULT_DUE_DAY = 10  # the month's bundle is expected by this day
DEFAULT_STALE_DAYS = 35  # no bundle for longer than this: late whatever the day


@dataclass
class Submission:
    agency_name: str
    agency_type: str
    installation_id: str
    key_id: str
    revoked: bool
    relay: bool
    last_sequence: int | None
    last_created: str | None
    last_imported: str | None
    age_days: int | None
    bundles: int
    records: int
    gaps: list[tuple[int, int]] = field(default_factory=list)
    rejected: int = 0
    last_rejected_reason: str = ""
    sent_this_month: bool = False
    late: bool = False

    @property
    def gap_text(self) -> str:
        return describe_gaps(self.gaps, self.agency_name) if self.gaps else ""


def _setting(session, key: str, default: int) -> int:
    try:
        return int(session.setting(key, str(default)))
    except ValueError:
        return default


def submissions(session) -> list[Submission]:
    require(session.actor, "sync", "import")
    db = session.db
    today = clock.today()
    due_day = _setting(session, "sync_due_day", DEFAULT_DUE_DAY)
    stale = _setting(session, "sync_stale_days", DEFAULT_STALE_DAYS)
    refused: dict[str, list[str]] = {}
    for r in db.query("SELECT detail FROM audit WHERE action = 'bundle.rejected' ORDER BY seq"):
        detail = json.loads(r[0])
        if detail.get("sender"):
            refused.setdefault(detail["sender"], []).append(detail.get("reason", ""))
    out = []
    for p in db.query("SELECT * FROM sync_peers ORDER BY revoked_at IS NOT NULL, agency_name"):
        stats = db.one("SELECT count(*), coalesce(sum(records), 0) FROM sync_incoming WHERE sender = ? AND "
                       "superseded = 0", (p["installation_id"],))
        last = db.one("SELECT seq, created_at, imported_at FROM sync_incoming WHERE sender = ? AND superseded = 0 "
                      "ORDER BY seq DESC LIMIT 1", (p["installation_id"],))
        newest = db.scalar("SELECT max(created_at) FROM sync_incoming WHERE sender = ? AND superseded = 0",
                           (p["installation_id"],))
        age = None
        this_month = False
        if newest:
            created = dt.date.fromisoformat(newest[:10])
            age = (today - created).days
            this_month = (created.year, created.month) == (today.year, today.month)
        late = not p["revoked_at"] and (newest is None or (age is not None and age > stale)
                                        or (not this_month and today.day > due_day))
        reasons = refused.get(p["installation_id"], [])
        out.append(Submission(
            p["agency_name"], p["agency_type"], p["installation_id"], p["key_id"], bool(p["revoked_at"]),
            bool(p["relay"]), int(last[0]) if last else None, last[1] if last else None, last[2] if last else None,
            age, int(stats[0]), int(stats[1]), gaps(db, p["installation_id"]), len(reasons),
            reasons[-1] if reasons else "", this_month, late))
    return out


def late_text(sub: Submission) -> str:
    if sub.revoked:
        return _("revoked")
    if sub.last_created is None:
        return _("nothing received yet")
    if sub.late:
        return _("late: last bundle {days} days ago").format(days=sub.age_days)
    return _("up to date")

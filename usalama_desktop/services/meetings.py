"""Action points from team meetings that are still open: the monthly report lists them under the next month."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..errors import UsalamaError
from ..forms.meetings import OPEN_ACTIONS
from ..forms.registry import get_form, ref
from ..i18n import _
from .installation import Session
from .records import Query, RecordService

FORM = "team_meeting"
TEAM = ref("team_meeting", "team")
MEETING_DATE = ref("team_meeting", "meeting_date")
GROUP = ref("team_meeting", "action_points")
ACTION = ref("team_meeting", "action_points.action").split(".")[1]
OWNER = ref("team_meeting", "action_points.owner").split(".")[1]
DUE = ref("team_meeting", "action_points.due_on").split(".")[1]
STATUS = ref("team_meeting", "action_points.status").split(".")[1]


@dataclass(frozen=True)
class ActionPoint:
    meeting_id: str
    agency_id: str
    team: str
    meeting_date: str
    index: int  # its row in the meeting's action points
    action: str
    owner: str
    due_on: str | None
    status: str
    days_overdue: int  # 0 when not yet due

    @property
    def overdue(self) -> bool:
        return self.days_overdue > 0


def open_action_points(session: Session, before_date: dt.date | str, team: str | None = None) -> list[ActionPoint]:
    """Action points set at meetings held before ``before_date`` and not yet done or dropped, most overdue first.

    ``days_overdue`` counts from the due date to ``before_date`` (the start of the month being reported).
    """
    service = RecordService(session, FORM)
    service.require("report")
    before = before_date.isoformat() if isinstance(before_date, dt.date) else str(before_date)
    try:
        dt.date.fromisoformat(before)
    except ValueError:
        raise UsalamaError(_("Write the date as YYYY-MM-DD.")) from None
    spec = get_form(FORM).table_spec
    where, params = service.filter_sql(Query(equals={TEAM: team} if team else {}))
    where.append(f'"{MEETING_DATE}" < ?')
    params.append(before)
    marks = ", ".join("?" * len(OPEN_ACTIONS))
    sql = f"""
        SELECT m.id, m.agency_id, m."{TEAM}", m."{MEETING_DATE}", a.idx, a."{ACTION}", a."{OWNER}", a."{DUE}",
               a."{STATUS}", max(0, CAST(julianday(?) - julianday(a."{DUE}") AS INTEGER))
        FROM (SELECT * FROM "{spec.name}" WHERE {" AND ".join(where)}) AS m
        JOIN "{spec.child_table(GROUP)}" AS a ON a.parent_rid = m.rid
        WHERE a."{STATUS}" IN ({marks})
        ORDER BY a."{DUE}" IS NULL, a."{DUE}", m."{MEETING_DATE}", a.idx"""
    return [ActionPoint(r[0], r[1], r[2], r[3], int(r[4]), r[5], r[6], r[7], r[8], int(r[9] or 0))
            for r in session.db.query(sql, [before, *params, *OPEN_ACTIONS])]

"""Progress of the at-risk groups over time, from their dated activity entries, aggregated in SQL."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UsalamaError
from ..forms.registry import get_form, ref
from ..i18n import _
from .installation import Session
from .records import Query, RecordService
from .scores import PERIODS, period_expr

GROUP_FORM, ACTIVITY_FORM = "risk_group", "group_activity"
GROUP_ID = ref("group_activity", "group_id")
KIND = ref("group_activity", "kind")
DATE = ref("group_activity", "activity_date")
RESOLVED = ref("group_activity", "resolved")
SAVINGS = ref("group_activity", "savings_total_kes")
FEMALE = ref("group_activity", "participants_female")
MALE = ref("group_activity", "participants_male")
GROUP_NAME = ref("risk_group", "group_name")
GROUP_TYPE = ref("risk_group", "group_type")
RULES = ref("risk_group", "rules")
RULE_SHARED = ref("risk_group", "rules.shared_with_police").split(".")[1]


@dataclass(frozen=True)
class GroupProgress:
    group_id: str
    group_name: str | None
    group_type: str | None
    period: str
    activities: int
    savings_reports: int
    trainings: int
    police_meetings: int
    incidents: int
    incidents_resolved: int
    savings_kes: float | None  # the highest savings total reported in the period
    participants: int


@dataclass(frozen=True)
class GroupRules:
    group_id: str
    group_name: str
    rules: int
    shared_with_police: int


def group_progress(session: Session, group_id: str | None = None, period: str = "quarter",
                   query: Query | None = None) -> list[GroupProgress]:
    """Per group and period: activities by kind, incidents resolved, savings reached and people taking part."""
    if period not in PERIODS:
        raise UsalamaError(_("Choose the period as month, quarter or year."))
    activities = RecordService(session, ACTIVITY_FORM)
    activities.require("report")
    groups = RecordService(session, GROUP_FORM)
    q = query or Query()
    if group_id:
        q.equals = {**q.equals, GROUP_ID: group_id}
    where, params = activities.filter_sql(q)
    g_where, g_params = groups.filter_sql(Query())
    act_table, group_table = get_form(ACTIVITY_FORM).table_spec.name, get_form(GROUP_FORM).table_spec.name
    sql = f"""
        SELECT a."{GROUP_ID}", g."{GROUP_NAME}", g."{GROUP_TYPE}", {period_expr(DATE, period)} AS period,
               count(*), sum(a."{KIND}" = 'savings'), sum(a."{KIND}" = 'training'),
               sum(a."{KIND}" = 'police_meeting'), sum(a."{KIND}" = 'incident'),
               sum(a."{KIND}" = 'incident' AND a."{RESOLVED}" = 'yes'), max(a."{SAVINGS}"),
               coalesce(sum(a."{FEMALE}"), 0) + coalesce(sum(a."{MALE}"), 0)
        FROM (SELECT * FROM "{act_table}" {"WHERE " + " AND ".join(where) if where else ""}) AS a
        JOIN (SELECT * FROM "{group_table}" {"WHERE " + " AND ".join(g_where) if g_where else ""}) AS g
             ON g.id = a."{GROUP_ID}"
        GROUP BY a."{GROUP_ID}", period
        ORDER BY g."{GROUP_NAME}", period"""
    return [GroupProgress(r[0], r[1], r[2], r[3], *(int(x or 0) for x in r[4:10]),
                          None if r[10] is None else float(r[10]), int(r[11] or 0))
            for r in session.db.query(sql, [*params, *g_params])]


def group_rules(session: Session) -> list[GroupRules]:
    """How many rules each group adopted and how many it shared with the police."""
    groups = RecordService(session, GROUP_FORM)
    groups.require("report")
    where, params = groups.filter_sql(Query())
    spec = get_form(GROUP_FORM).table_spec
    sql = f"""
        SELECT g.id, g."{GROUP_NAME}", count(r.rid), coalesce(sum(r."{RULE_SHARED}" = 1), 0)
        FROM (SELECT * FROM "{spec.name}" {"WHERE " + " AND ".join(where) if where else ""}) AS g
        LEFT JOIN "{spec.child_table(RULES)}" AS r ON r.parent_rid = g.rid
        GROUP BY g.rid ORDER BY g."{GROUP_NAME}" """
    return [GroupRules(r[0], r[1], int(r[2]), int(r[3])) for r in session.db.query(sql, params)]

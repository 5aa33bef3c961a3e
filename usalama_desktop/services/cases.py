"""Longitudinal cases: open, sessions or hearings, referrals and their results, close with an outcome, reopen with a
reason, and the follow-ups that fall due, for any form that declares a ``CaseWorkflow``.

Every step is an ordinary update through the record service: checked against the role matrix and row scope,
validated by the form's rules, kept as a revision in the history, and written in the audit trail as ``case.<step>``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import clock
from ..errors import PermissionDenied, UsalamaError, ValidationFailed
from ..forms.case import CLOSED, OPEN, REOPENED, CaseWorkflow
from ..forms.definition import Form
from ..forms.fields import CHOICE, Field, FieldError
from ..forms.registry import forms_of_module, get_form, ref
from ..i18n import _
from .installation import Session
from .records import PAGE_SIZE, Page, Query, RecordService

ADD_SESSION, ADD_REFERRAL, REFERRAL_RESULT, CLOSE, REOPEN = (
    "add_session", "add_referral", "referral_result", "close", "reopen")
FIRST_SESSION_DAYS = 7  # an open case with no session yet becomes a follow-up after a week


@dataclass(frozen=True)
class FollowUp:
    record_id: str
    title: str
    kind: str  # "session", "referral" or "deadline"
    due: str  # ISO date
    what: str


def case_form(name: str) -> Form:
    """A case form by its name or by its module's name (``counselling`` finds ``counselling_case``)."""
    candidates = [f for f in forms_of_module(name) if f.case is not None]
    form = candidates[0] if len(candidates) == 1 else get_form(name)
    if form.case is None:
        raise UsalamaError(_("{form} is not a case form.").format(form=form.title.text()))
    return form


class CaseService(RecordService):
    """The record service with the case steps on top; every step goes through ``update``."""

    def __init__(self, session: Session, form: Form | str):
        super().__init__(session, case_form(form) if isinstance(form, str) else form)
        if self.form.case is None:
            raise UsalamaError(_("{form} is not a case form.").format(form=self.form.title.text()))
        self.flow: CaseWorkflow = self.form.case

    # --- the fields each step asks for ---------------------------------------------------------------------------

    def step_fields(self, key: str) -> list[Field]:
        """What a step asks for, in order (the GUI builds its dialog from these, the command its options)."""
        flow, form = self.flow, self.form
        if key == ADD_SESSION:
            return [f for f in form.repeat_by_name[flow.sessions].fields if f.derive is None and not f.read_only]
        if key == ADD_REFERRAL:
            return [f for f in form.repeat_by_name[flow.referrals].fields
                    if f.name not in (flow.referral_result, flow.referral_result_date)]
        if key == REFERRAL_RESULT:
            group = form.repeat_by_name[flow.referrals]
            return [group.by_name[flow.referral_result], group.by_name[flow.referral_result_date]]
        if key == CLOSE:
            return [form.by_name[n] for n in (flow.outcome_field, flow.closed_field, *flow.close_fields)]
        if key == REOPEN:
            return [form.by_name[flow.reopen_reason_field], form.by_name[flow.reopened_field]]
        step = flow.step(key)
        if step is None:
            raise UsalamaError(_("There is no step called {key} for this form.").format(key=key))
        return [form.by_name[n] for n in step.fields]

    def required_fields(self, key: str) -> set[str]:
        flow = self.flow
        if key == CLOSE:
            return {flow.outcome_field}
        if key == REOPEN:
            return {flow.reopen_reason_field}
        if key == REFERRAL_RESULT:
            return {flow.referral_result}
        step = flow.step(key)
        if step is not None:
            return set(step.required)
        return {f.name for f in self.step_fields(key) if f.required}

    def _read(self, key: str, raw: Mapping[str, Any], today: tuple[str, ...] = ()) -> dict[str, Any]:
        """Typed or imported input for a step's fields, read by each field's own parser; every problem at once.
        Date fields named in ``today`` default to today."""
        self.require("update")  # a role that may not take steps hears that first, whatever it typed
        fields = {f.name: f for f in self.step_fields(key)}
        problems: dict[str, list[str]] = {}
        out: dict[str, Any] = {name: clock.today().isoformat() for name in today if raw.get(name) in (None, "")}
        raw = {k: v for k, v in raw.items() if not (k in out and v in (None, ""))}
        for name, value in raw.items():
            f = fields.get(name)
            if f is None:
                problems.setdefault(name, []).append(_("This form has no field called {name}.").format(name=name))
                continue
            try:
                out[name] = f.parse(value)
            except FieldError as exc:
                problems.setdefault(name, []).append(str(exc))
        for name in sorted(self.required_fields(key)):
            if out.get(name) in (None, "", []) and name not in problems:
                problems.setdefault(name, []).append(
                    _("{field} is required.").format(field=fields[name].label.text()))
        if problems:
            raise ValidationFailed(problems)
        return out

    # --- steps -----------------------------------------------------------------------------------------------

    def open(self, values: Mapping[str, Any]) -> str:
        """A new case, open from today unless the opening date is given."""
        flow = self.flow
        values = dict(values)
        values[flow.status_field] = OPEN
        values[flow.opened_field] = values.get(flow.opened_field) or clock.today().isoformat()
        for name in (flow.closed_field, flow.outcome_field, flow.reopened_field, flow.reopen_reason_field):
            values[name] = None
        with self.s.db.transaction():
            record_id = self.create(values)
            self.s.audit("case.open", self.module, record_id, {"form": self.form.name})
        return record_id

    def _change(self, record_id: str, key: str, mutate: Callable[[dict[str, Any]], None],
                expected_revision: int | None = None) -> int:
        """One step: read the case once, check the step may be taken now, change, save as a revision, audit."""
        self.require("update")
        record = self.get(record_id)
        self._check_can_change(record["spine"])
        if record["spine"]["deleted"]:
            raise UsalamaError(_("This record was deleted; it cannot be changed."))
        values = record["values"]
        is_open = self.flow.is_open(values)
        if key == REOPEN and is_open:
            raise UsalamaError(_("This case is already open."))
        if key != REOPEN and not is_open:
            raise UsalamaError(_("This case is closed. Reopen it first, giving the reason."))
        if key != REFERRAL_RESULT and key not in dict(self._actions_for(values)):
            raise UsalamaError(_("This step is not available for this case now."))
        mutate(values)
        revision = expected_revision if expected_revision is not None else record["spine"]["revision"]
        with self.s.db.transaction():
            rev = self.update(record_id, values, expected_revision=revision)
            self.s.audit(f"case.{key}", self.module, record_id, {"form": self.form.name, "revision": rev})
        return rev

    def add_session(self, record_id: str, row: Mapping[str, Any], expected_revision: int | None = None) -> int:
        flow = self.flow
        new = self._read(ADD_SESSION, row, today=(flow.session_date,))
        return self._change(record_id, ADD_SESSION, lambda v: v[flow.sessions].append(new), expected_revision)

    def add_referral(self, record_id: str, row: Mapping[str, Any], expected_revision: int | None = None) -> int:
        flow = self.flow
        new = self._read(ADD_REFERRAL, row, today=(flow.referral_date,))
        new[flow.referral_result] = "pending"
        return self._change(record_id, ADD_REFERRAL, lambda v: v[flow.referrals].append(new), expected_revision)

    def record_referral_result(self, record_id: str, index: int, result: Any, result_on: Any = None,
                               expected_revision: int | None = None) -> int:
        flow = self.flow
        raw = {flow.referral_result: result}
        if result_on not in (None, ""):
            raw[flow.referral_result_date] = result_on
        new = self._read(REFERRAL_RESULT, raw)
        if new[flow.referral_result] != "pending":
            new.setdefault(flow.referral_result_date, clock.today().isoformat())

        def mutate(values):
            rows = values[flow.referrals]
            if not isinstance(index, int) or not 0 <= index < len(rows):
                raise UsalamaError(_("There is no referral number {n} in this case.").format(n=index + 1))
            rows[index].update(new)

        return self._change(record_id, REFERRAL_RESULT, mutate, expected_revision)

    def close(self, record_id: str, outcome: Any, closed_on: Any = None, expected_revision: int | None = None,
              **more: Any) -> int:
        """Closing needs an outcome; the date defaults to today."""
        flow = self.flow
        raw = {flow.outcome_field: outcome, **more}
        if closed_on not in (None, ""):
            raw[flow.closed_field] = closed_on
        new = self._read(CLOSE, raw, today=(flow.closed_field,))

        def mutate(values):
            values.update(new)
            values[flow.status_field] = CLOSED

        return self._change(record_id, CLOSE, mutate, expected_revision)

    def reopen(self, record_id: str, reason: str, reopened_on: Any = None, expected_revision: int | None = None) -> int:
        """Reopening needs a reason; the outcome and closing date are cleared (the history keeps them)."""
        flow = self.flow
        if len((reason or "").strip()) < 3:
            raise ValidationFailed({flow.reopen_reason_field: [_("Say why the case is reopened.")]})
        raw = {flow.reopen_reason_field: reason}
        if reopened_on not in (None, ""):
            raw[flow.reopened_field] = reopened_on
        new = self._read(REOPEN, raw, today=(flow.reopened_field,))

        def mutate(values):
            values.update(new)
            values[flow.status_field] = REOPENED
            for name in (flow.closed_field, flow.outcome_field, *flow.close_fields):
                values[name] = None

        return self._change(record_id, REOPEN, mutate, expected_revision)

    def set_step(self, record_id: str, key: str, raw: Mapping[str, Any], expected_revision: int | None = None) -> int:
        """A module's own step (record the decision, file for court adoption): sets its fields together."""
        new = self._read(key, raw)
        return self._change(record_id, key, lambda v: v.update(new), expected_revision)

    # --- what may be done now ----------------------------------------------------------------------------------

    def actions(self, record_id: str) -> list[tuple[str, str]]:
        """The steps this user may take on this case now, as (key, label), in the order a panel shows them."""
        if not self.can("update") or not self.can("read"):
            return []
        try:
            record = self.get(record_id)
        except PermissionDenied:
            return []
        if record["spine"]["deleted"] or record["spine"]["agency_id"] != self.s.agency.id:
            return []
        return self._actions_for(record["values"])

    def _actions_for(self, values: Mapping[str, Any]) -> list[tuple[str, str]]:
        flow = self.flow
        if not flow.is_open(values):
            return [(REOPEN, _("Reopen the case…"))]
        out = [(ADD_SESSION, flow.add_session_label.text()), (ADD_REFERRAL, _("Add a referral"))]
        if flow.pending_referrals(values):
            out.append((REFERRAL_RESULT, _("Record a referral's result")))
        out.extend((s.key, s.label.text()) for s in flow.steps if s.when is None or s.when(values))
        out.append((CLOSE, _("Close the case…")))
        return out

    def perform(self, record_id: str, key: str, expected_revision: int | None = None, **kwargs: Any) -> int:
        """Take one of the steps ``actions`` offers (any other is refused with the reason); the keyword arguments
        are the step's fields, typed or as text."""
        flow = self.flow
        if key not in (ADD_SESSION, ADD_REFERRAL, REFERRAL_RESULT, CLOSE, REOPEN) and flow.step(key) is None:
            self.require("update")
            raise UsalamaError(_("There is no step called {key} for this form.").format(key=key))
        if key == ADD_SESSION:
            return self.add_session(record_id, kwargs, expected_revision)
        if key == ADD_REFERRAL:
            return self.add_referral(record_id, kwargs, expected_revision)
        if key == REFERRAL_RESULT:
            index = kwargs.pop("index", None)
            if isinstance(index, str) and index.strip().isdigit():
                index = int(index)
            if index is None:
                pending = flow.pending_referrals(self.get(record_id)["values"])
                index = pending[0] if len(pending) == 1 else None
            if not isinstance(index, int):
                raise UsalamaError(_("Say which referral the result belongs to."))
            result, result_on = kwargs.pop(flow.referral_result, None), kwargs.pop(flow.referral_result_date, None)
            self._no_other_fields(kwargs)
            return self.record_referral_result(record_id, index, result, result_on, expected_revision)
        if key == CLOSE:
            outcome = kwargs.pop(flow.outcome_field, None)
            closed_on = kwargs.pop(flow.closed_field, None)
            return self.close(record_id, outcome, closed_on, expected_revision, **kwargs)
        if key == REOPEN:
            reason, reopened_on = kwargs.pop(flow.reopen_reason_field, None), kwargs.pop(flow.reopened_field, None)
            self._no_other_fields(kwargs)
            return self.reopen(record_id, reason or "", reopened_on, expected_revision)
        return self.set_step(record_id, key, kwargs, expected_revision)

    @staticmethod
    def _no_other_fields(left: Mapping[str, Any]) -> None:
        if left:
            raise ValidationFailed({name: [_("This form has no field called {name}.").format(name=name)]
                                    for name in sorted(left)})

    # --- reading a case --------------------------------------------------------------------------------------

    def state(self, record_id: str) -> dict[str, Any]:
        """Status, dates, warnings, pending referrals, timeline and available steps: everything the panel shows."""
        record = self.get(record_id)
        values, flow, form = record["values"], self.flow, self.form
        outcome = values.get(flow.outcome_field)
        referrals = form.repeat_by_name[flow.referrals]
        to_field = referrals.by_name[flow.referral_to]
        pending = [(i, f"{values[flow.referrals][i].get(flow.referral_date) or ''}: "
                       f"{to_field.display(values[flow.referrals][i].get(flow.referral_to))}")
                   for i in flow.pending_referrals(values)]
        can_change = (self.can("update") and not record["spine"]["deleted"]
                      and record["spine"]["agency_id"] == self.s.agency.id)
        return {
            "record_id": record_id,
            "title": form.describe(values),
            "status": values.get(flow.status_field),
            "status_label": form.by_name[flow.status_field].display(values.get(flow.status_field)),
            "open": flow.is_open(values),
            "opened_on": values.get(flow.opened_field),
            "closed_on": values.get(flow.closed_field),
            "outcome": outcome,
            "outcome_label": form.by_name[flow.outcome_field].display(outcome) if outcome else "",
            "revision": record["spine"]["revision"],
            "sessions": len(values.get(flow.sessions) or []),
            "pending_referrals": pending,
            "warnings": [w for w in [flow.warnings(values)] if w] if flow.warnings else [],
            "timeline": self.timeline(record_id, values),
            "actions": self._actions_for(values) if can_change else [],
        }

    def timeline(self, record_id: str, values: Mapping[str, Any] | None = None) -> list[dict[str, str]]:
        """The case as it went: opening, each session, referrals and their results, and every close and reopen
        (from the history, so a case closed twice shows both)."""
        flow, form = self.flow, self.form
        values = values if values is not None else self.get(record_id)["values"]
        events: list[tuple[str, int, str, str]] = [(values.get(flow.opened_field) or "", 0, "opened",
                                                    _("Case opened"))]
        sessions = form.repeat_by_name[flow.sessions]
        for row in values.get(flow.sessions) or []:
            parts = [(sessions.item_label or sessions.label).text()]
            kind = next((f for f in sessions.fields if f.kind == CHOICE and f.tier == "public"), None)
            if kind is not None and row.get(kind.name) is not None:
                parts.append(kind.display(row[kind.name]))
            if row.get(flow.session_next):
                parts.append(_("next on {date}").format(date=row[flow.session_next]))
            events.append((row.get(flow.session_date) or "", 1, "session", " · ".join(parts)))
        referrals = form.repeat_by_name[flow.referrals]
        to_field, result_field = referrals.by_name[flow.referral_to], referrals.by_name[flow.referral_result]
        for row in values.get(flow.referrals) or []:
            to = to_field.display(row.get(flow.referral_to))
            events.append((row.get(flow.referral_date) or "", 2, "referral", _("Referred to {to}").format(to=to)))
            if row.get(flow.referral_result) not in (None, "pending"):
                events.append((row.get(flow.referral_result_date) or row.get(flow.referral_date) or "", 3,
                               "referral_result", _("Referral to {to}: {result}").format(
                                   to=to, result=result_field.display(row.get(flow.referral_result)))))
        events.extend(self._status_events(record_id))
        events.sort(key=lambda e: (e[0], e[1]))
        return [{"on": on, "kind": kind, "text": text} for on, _order, kind, text in events]

    def _status_events(self, record_id: str) -> list[tuple[str, int, str, str]]:
        flow, form = self.flow, self.form
        out = []
        for entry in self.history(record_id):
            changes = {c["field"]: c["new"] for c in entry["changes"]}
            status = changes.get(flow.status_field)
            if status == CLOSED:
                outcome = form.by_name[flow.outcome_field].display(changes.get(flow.outcome_field))
                out.append((changes.get(flow.closed_field) or entry["at"][:10], 4, "closed",
                            _("Closed: {outcome}").format(outcome=outcome)))
            elif status == REOPENED:
                reason = changes.get(flow.reopen_reason_field)
                text = _("Reopened: {reason}").format(reason=reason) if reason else _("Reopened")
                out.append((changes.get(flow.reopened_field) or entry["at"][:10], 5, "reopened", text))
        return out

    def open_cases(self, q: Query | None = None, after: tuple | None = None, limit: int = PAGE_SIZE) -> Page:
        q = q or Query()
        q.statuses = list(self.flow.open_statuses)
        return self.page(q, after=after, limit=limit)

    def due_follow_ups(self, on: dt.date | None = None, within_days: int = 0) -> list[FollowUp]:
        """Open cases with something due by ``on`` + ``within_days``: a planned session that has not happened, a
        referral without its result after the waiting time, a deadline in the record (compliance)."""
        self.require("list")
        flow = self.flow
        horizon = ((on or clock.today()) + dt.timedelta(days=within_days)).isoformat()
        where, params = self._filters(Query(statuses=list(flow.open_statuses)))
        out: list[FollowUp] = []
        last = 0
        while True:
            rows = self.s.db.query(f'SELECT * FROM "{self.spec.name}" WHERE {" AND ".join([*where, "rid > ?"])} '
                                   "ORDER BY rid LIMIT 1000", [*params, last])
            if not rows:
                break
            children = self._children_for([r["rid"] for r in rows])
            for r in rows:
                raw = dict(zip(r.keys(), tuple(r), strict=True))
                values = self.form.from_row(raw, children.get(raw["rid"], {}))
                self.form.mask(values, self.tiers)
                out.extend(self._due(raw["id"], values, horizon))
            last = rows[-1]["rid"]
        return sorted(out, key=lambda f: (f.due, f.title))

    def _due(self, record_id: str, values: dict[str, Any], horizon: str) -> list[FollowUp]:
        flow, form = self.flow, self.form
        title = form.describe(values)
        item = (form.repeat_by_name[flow.sessions].item_label or form.repeat_by_name[flow.sessions].label).text()
        out = []
        sessions = sorted(values.get(flow.sessions) or [], key=lambda row: row.get(flow.session_date) or "")
        if sessions:
            last = sessions[-1]
            planned = last.get(flow.session_next)
            if planned and planned <= horizon:
                out.append(FollowUp(record_id, title, "session", planned,
                                    _("{item} planned for this date").format(item=item)))
        elif values.get(flow.opened_field):
            due = _plus_days(values[flow.opened_field], FIRST_SESSION_DAYS)
            if due <= horizon:
                out.append(FollowUp(record_id, title, "session", due, _("No {item} recorded yet").format(
                    item=item.lower())))
        to_field = form.repeat_by_name[flow.referrals].by_name[flow.referral_to]
        for i in flow.pending_referrals(values):
            row = values[flow.referrals][i]
            if row.get(flow.referral_date):
                due = _plus_days(row[flow.referral_date], flow.referral_wait_days)
                if due <= horizon:
                    out.append(FollowUp(record_id, title, "referral", due, _("Result of the referral to {to}").format(
                        to=to_field.display(row.get(flow.referral_to)))))
        for deadline in flow.deadlines:
            due = values.get(deadline.field)
            if due and due <= horizon and not (deadline.done is not None and deadline.done(values)):
                out.append(FollowUp(record_id, title, "deadline", due, deadline.label.text()))
        return out


def _plus_days(iso: str, days: int) -> str:
    day = dt.date.fromisoformat(iso[:10] if len(iso) >= 10 else f"{iso[:7]}-01")
    return (day + dt.timedelta(days=days)).isoformat()


# --- local jurisprudence: AJS decisions ------------------------------------------------------------------------


def search_decisions(session: Session, text: str = "", categories: list[str] | None = None,
                     county: str | None = None, subcounty: str | None = None, ward: str | None = None,
                     outcome: str | None = None, court_result: str | None = None,
                     limit: int = PAGE_SIZE) -> list[dict[str, Any]]:
    """AJS decisions matching words (in the decision text where this role may read it, else in the category,
    remedies and outcome), by category, place and outcome. Each hit carries an excerpt where the text is visible."""
    svc = RecordService(session, "ajs_case")
    equals: dict[str, Any] = {ref("ajs_case", "decided"): True}
    if outcome:
        equals[ref("ajs_case", "outcome")] = svc.form.by_name[ref("ajs_case", "outcome")].parse(outcome)
    if court_result:
        equals[ref("ajs_case", "court_result")] = svc.form.by_name[ref("ajs_case", "court_result")].parse(
            court_result)
    category_field = svc.form.by_name[ref("ajs_case", "dispute_category")]
    q = Query(categories=[category_field.parse(c) for c in categories or []], county=county, subcounty=subcounty,
              ward=ward, equals=equals, sort=ref("ajs_case", "opened_on"))
    page = svc.search(text, q, limit=limit) if (text or "").strip() else svc.page(q, limit=limit)
    decision = ref("ajs_case", "decision_text")
    texts: dict[str, str] = {}
    if page.rows and svc.form.by_name[decision].tier in svc.tiers:
        # the rows are already the ones this user may see; their decision texts in one read
        marks = ", ".join("?" * len(page.rows))
        texts = dict(session.db.query(f'SELECT id, "{decision}" FROM "{svc.spec.name}" WHERE id IN ({marks})',
                                      [r["id"] for r in page.rows]))
    return [{"id": row["id"], "title": svc.form.describe(row["values"]), "values": row["values"],
             "excerpt": excerpt(texts[row["id"]] or "", text) if row["id"] in texts else ""} for row in page.rows]


def excerpt(text: str, words: str, width: int = 220) -> str:
    """A window of ``text`` around the first of ``words`` found (the start when none is)."""
    text = re.sub(r"\s+", " ", text or "").strip()
    start = 0
    for word in re.findall(r"\w+", words or ""):
        found = text.lower().find(word.lower())
        if found >= 0:
            start = max(0, found - width // 3)
            break
    piece = text[start:start + width]
    return ("…" if start else "") + piece + ("…" if start + width < len(text) else "")

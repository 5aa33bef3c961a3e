"""Conflict review: two versions of one record edited concurrently (neither had seen the other), both kept.

The record shows the winner (greatest hybrid clock, then installation id) until someone reviews it. For this
agency's own records the reviewer chooses one version or combines fields: that is a new local edit whose vector clock
descends from every version, so it wins everywhere it travels and the conflict closes there too. Another agency's
record can only be marked reviewed here: only its own agency may change it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .. import clock
from ..errors import NotFound, PermissionDenied, UsalamaError, ValidationFailed
from ..forms import registry
from ..forms.definition import Form
from ..i18n import _
from ..permissions import require, visible_tiers
from ..store.records import vclock_text
from .merge import FRONTIER, compose, empty_values, write_version
from .profiles import carried, everything


@dataclass
class Side:
    """One version in a conflict: who changed it, where and when, and its values."""

    key: str  # "current" or the conflict id as text
    by: str
    at: str
    agency: str
    installation_id: str
    hlc: str
    deleted: bool
    values: dict[str, Any]


@dataclass
class Conflict:
    record_id: str
    form: Form
    agency_id: str
    agency_name: str
    own: bool
    current: Side
    others: list[Side]
    status: str
    differences: list[tuple[str, str, list[str]]]  # (field, label, shown value per side), visible tiers only

    @property
    def title(self) -> str:
        """The form and a short id: never a field value (the reviewer's role may not see every tier)."""
        return f"{self.form.title.text()} {self.record_id[:8]}…"


def _form_of(table: str) -> Form:
    for form in registry.forms().values():
        if form.table_spec.name == table:
            return form
    raise NotFound(_("That record does not exist on this computer."))


def _installation_agency(db, installation_id: str) -> str:
    name = db.scalar("SELECT agency_name FROM sync_peers WHERE installation_id = ? ORDER BY revoked_at IS NOT NULL "
                     "LIMIT 1", (installation_id,))
    if name:
        return name
    if installation_id == db.scalar("SELECT value FROM meta WHERE key = 'installation_id'"):
        return db.scalar("SELECT name FROM agencies WHERE is_local = 1") or ""
    return installation_id[:8]


def _display(form: Form, name: str, value: Any) -> str:
    if name in form.repeat_by_name:
        return _("{n} rows").format(n=len(value or []))
    f = form.by_name.get(name)
    return f.display(value) if f is not None else str(value)


def load(session, record_id: str, *, for_resolve: bool = False) -> Conflict:
    """The record's conflict as this user may see it: values of tiers the role may not see are blanked, in the
    record's own fields and inside its lists (session notes, party names). Only ``resolve`` reads them whole."""
    require(session.actor, "sync", "conflicts")
    db = session.db
    rows = db.query("SELECT id, tbl, hlc, installation_id, version, status FROM sync_conflicts WHERE record_id = ? "
                    "AND status IN ('open', 'reviewed') ORDER BY hlc, installation_id", (record_id,))
    if not rows:
        raise NotFound(_("There is no open conflict on that record."))
    form = _form_of(rows[0]["tbl"])
    require(session.actor, form.module, "read")
    writer = session.writer
    row = writer.row(form.table_spec, record_id)
    if row is None:
        raise NotFound(_("That record does not exist on this computer."))
    current_values = form.from_row(row, writer.children(form.table_spec, row["rid"]))
    tiers = visible_tiers(session.actor, form.module)
    visible = [f.name for f in form.fields if f.tier in tiers]
    visible += [r.name for r in form.repeats if any(f.tier in tiers for f in r.fields)]
    current = Side("current", row["updated_by"], row["updated_at"], _installation_agency(db, row["installation_id"]),
                   row["installation_id"], row["hlc"], bool(row["deleted"]), current_values)
    others = []
    for r in rows:
        doc = json.loads(r["version"])
        sp = doc["spine"]
        keep = everything(form) if doc["profile"] == "everything" else carried(form, doc["profile"])
        values = compose(form, {**empty_values(form), **doc["values"]}, keep, current_values)
        others.append(Side(str(r["id"]), sp["updated_by"], sp["updated_at"],
                           _installation_agency(db, sp["installation_id"]), sp["installation_id"], sp["hlc"],
                           bool(sp["deleted"]), values))
    differences = []
    for name in visible:
        shown = [_display(form, name, current.values.get(name))] + [_display(form, name, o.values.get(name))
                                                                     for o in others]
        if len(set(shown)) > 1:
            differences.append((name, form.label_of(name), shown))
    agency_name = session.agency_name(row["agency_id"])
    if not for_resolve:
        for side in (current, *others):
            form.mask(side.values, tiers)
    return Conflict(record_id, form, row["agency_id"], agency_name, row["agency_id"] == session.agency.id, current,
                    others, rows[0]["status"], differences)


def list_conflicts(session, include_reviewed: bool = True) -> list[Conflict]:
    require(session.actor, "sync", "conflicts")
    states = FRONTIER if include_reviewed else ("open",)
    marks = ", ".join("?" * len(states))
    ids = [r[0] for r in session.db.query(
        f"SELECT record_id FROM sync_conflicts WHERE status IN ({marks}) GROUP BY record_id ORDER BY min(id)", states)]
    out = []
    for record_id in ids:
        try:
            out.append(load(session, record_id))
        except (NotFound, PermissionDenied):
            continue
    return out


def resolve(session, record_id: str, choice: str = "current", combine: dict[str, str] | None = None) -> str:
    """``choice`` is "current" or a conflict id; ``combine`` maps field names to "current" or a conflict id.

    Returns "resolved" (a new edit that descends from every version) or "reviewed" (another agency's record)."""
    conflict = load(session, record_id, for_resolve=True)
    db = session.db
    keys = {"current": conflict.current, **{o.key: o for o in conflict.others}}
    if choice not in keys or any(v not in keys for v in (combine or {}).values()):
        raise UsalamaError(_("Choose the current version or one of the conflicting versions by its number."))
    now = clock.now_iso()
    if not conflict.own:
        if choice != "current" or combine:
            raise PermissionDenied(_("This record belongs to {agency}. Only that agency can change it; it can only be "
                                     "marked as reviewed here.").format(agency=conflict.agency_name))
        with db.transaction():
            db.execute("UPDATE sync_conflicts SET status = 'reviewed', resolved_at = ?, resolved_by = ?, "
                       "resolution = 'kept current' WHERE record_id = ? AND status = 'open'",
                       (now, session.username, record_id))
            session.audit("conflict.review", "sync", record_id, {"form": conflict.form.name})
        return "reviewed"
    form = conflict.form
    require(session.actor, form.module, "update")
    chosen = keys[choice]
    hidden = {f.name for f in form.fields if f.tier not in visible_tiers(session.actor, form.module)}
    writer = session.writer
    spec = form.table_spec
    with db.transaction():
        row = writer.row(spec, record_id)
        current = form.from_row(row, writer.children(spec, row["rid"]))
        values = dict(current) if chosen is conflict.current else {**current, **{
            k: v for k, v in chosen.values.items() if k not in hidden}}
        for name, source in (combine or {}).items():
            if name not in form.by_name and name not in form.repeat_by_name:
                raise UsalamaError(_("This form has no field called {name}.").format(name=name))
            if name in hidden:
                raise PermissionDenied(_("Your role may not change {field}.").format(field=form.label_of(name)))
            values[name] = current.get(name) if source == "current" else keys[source].values.get(name)
        deleted = chosen.deleted and not combine
        if not deleted:
            problems = form.validate(values)
            if not problems.ok:
                raise ValidationFailed(problems.errors)
        vclocks = [json.loads(row["vclock"])]
        revisions = [int(row["revision"])]
        for r in db.query("SELECT version FROM sync_conflicts WHERE record_id = ? AND status IN ('open', 'reviewed')",
                          (record_id,)):
            sp = json.loads(r[0])["spine"]
            vclocks.append(sp["vclock"])
            revisions.append(int(sp["revision"]))
        merged: dict[str, int] = {}
        for vc in vclocks:
            for k, n in vc.items():
                merged[k] = max(merged.get(k, 0), n)
        merged[writer.installation_id] = merged.get(writer.installation_id, 0) + 1
        spine = {"installation_id": writer.installation_id, "hlc": writer.stamp(), "vclock": vclock_text(merged),
                 "revision": max(revisions) + 1, "created_by": row["created_by"], "created_at": row["created_at"],
                 "updated_by": session.username, "updated_at": now, "deleted": deleted,
                 "deleted_reason": (row["deleted_reason"] or _("conflict resolved")) if deleted else None}
        write_version(writer, form, row, values, spine, "resolve", "conflict resolved")
        resolution = {"choice": choice, "combine": combine or {}}
        db.execute("UPDATE sync_conflicts SET status = 'resolved', resolved_at = ?, resolved_by = ?, resolution = ? "
                   "WHERE record_id = ? AND status IN ('open', 'reviewed')",
                   (now, session.username, json.dumps(resolution), record_id))
        session.audit("conflict.resolve", "sync", record_id, {"form": form.name, "revision": spine["revision"],
                                                               "fields_combined": len(combine or {})})
    return "resolved"


def open_count(session) -> int:
    return int(session.db.scalar("SELECT count(DISTINCT record_id) FROM sync_conflicts WHERE status = 'open'") or 0)

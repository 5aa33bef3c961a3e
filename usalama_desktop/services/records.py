"""The record service: one generic service for every form, with permissions, row scope, field tiers, validation,
history, drafts, lists, counts and search. The command, the GUI, imports and exports all go through it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .. import clock
from ..errors import NotFound, PermissionDenied, UsalamaError, ValidationFailed
from ..forms.definition import Form, Problems
from ..forms.fields import PLACE
from ..forms.registry import get_form
from ..i18n import _
from ..permissions import allowed, own_agency_only, require, visible_tiers
from ..store.ids import uuid7
from ..store.records import Change
from ..store.spine import LIVE
from .installation import Session
from .search import NO_MATCH, SearchIndex

PAGE_SIZE = 100


@dataclass
class Query:
    """Filters for lists, counts, search and exports. Dates are inclusive; a month-only date counts as the first
    day of its month."""

    date_from: str | None = None
    date_to: str | None = None
    categories: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    agency_ids: list[str] = field(default_factory=list)
    county: str | None = None
    subcounty: str | None = None
    ward: str | None = None
    text: str | None = None
    equals: dict[str, Any] = field(default_factory=dict)
    include_deleted: bool = False
    sort: str | None = None
    descending: bool = True


@dataclass
class Page:
    rows: list[dict[str, Any]]
    next_key: tuple | None


def _lower_bound(text: str) -> str:
    """A day that starts a month also admits month-only dates of that month ('2024-03' sorts before '2024-03-01')."""
    return text[:7] if len(text) == 10 and text.endswith("-01") else text


def _upper_bound(text: str) -> str:
    """Exclusive upper bound just after ``text`` (a day or a month). A bound on the 1st of a month is written as
    the month, so month-only dates of that month ('2024-05' sorts before '2024-05-01') stay outside a period that
    ends on the last day of the month before."""
    if len(text) == 7:
        y, m = int(text[:4]), int(text[5:7])
        return f"{y + (m == 12):04d}-{(m % 12) + 1:02d}"
    d = (dt.date.fromisoformat(text) + dt.timedelta(days=1)).isoformat()
    return d[:7] if d.endswith("-01") else d


@dataclass(frozen=True)
class Checked:
    """A record's values as ``prepare_many`` cleaned and passed them, for one form and agency, with the change to
    write. ``create_many`` and ``update_many`` take these without checking again: an import checks every row first
    (to say what is wrong with each), and checking twice would double its cost."""

    form: str
    agency_id: str
    record_id: str | None
    values: dict[str, Any]
    change: Change


class RecordService:
    def __init__(self, session: Session, form: Form | str):
        self.s = session
        self.form = form if isinstance(form, Form) else get_form(form)
        self.spec = self.form.table_spec
        self.module = self.form.module

    # --- permission helpers ----------------------------------------------------------------------------------

    def require(self, action: str) -> None:
        require(self.s.actor, self.module, action)

    def can(self, action: str) -> bool:
        return allowed(self.s.actor, self.module, action)

    @property
    def tiers(self) -> frozenset[str]:
        return visible_tiers(self.s.actor, self.module)

    def visible_fields(self) -> list:
        return [f for f in self.form.fields if f.tier in self.tiers]

    def _scope(self) -> tuple[list[str], list[Any]]:
        if own_agency_only(self.s.actor):
            return ["agency_id = ?"], [self.s.user.agency_id]
        return [], []

    def _check_row_scope(self, row: Mapping[str, Any]) -> None:
        if own_agency_only(self.s.actor) and row["agency_id"] != self.s.user.agency_id:
            raise PermissionDenied(_("This record belongs to another agency; you may not open it."))

    def _check_can_change(self, row: Mapping[str, Any]) -> None:
        self._check_row_scope(row)
        if row["agency_id"] != self.s.agency.id:
            raise PermissionDenied(
                _("This record belongs to another agency. Only that agency can change it; send them a note instead."))

    # --- validation -------------------------------------------------------------------------------------------

    def prepare(self, values: Mapping[str, Any], record_id: str | None = None,
                agency_id: str | None = None) -> tuple[dict[str, Any], Problems]:
        """Clean (derive, skip logic) and validate, including uniqueness of the agency reference."""
        return self.prepare_many([values], agency_id, [record_id])[0]

    def prepare_many(self, values_list: list[Mapping[str, Any]], agency_id: str | None = None,
                     record_ids: list[str | None] | None = None) -> list[tuple[dict[str, Any], Problems]]:
        """``prepare`` for many records (imports): the same cleaning and rules, with uniqueness looked up once per
        500 values instead of once per record. ``record_ids[i]`` is the record row i would change, if any."""
        out = []
        for values in values_list:
            cleaned = self.form.clean(values)
            out.append((cleaned, self.form.validate(cleaned)))
        agency = agency_id or self.s.user.agency_id
        for f in self.form.fields:
            if not f.unique:
                continue
            wanted = sorted({c[f.name] for c, _p in out if c.get(f.name) not in (None, "")})
            holders: dict[Any, set[str]] = {}
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                for value, rec in self.s.db.query(
                        f'SELECT "{f.name}", id FROM "{self.spec.name}" WHERE agency_id = ? AND {LIVE} '
                        f'AND "{f.name}" IN ({", ".join("?" * len(chunk))})', [agency, *chunk]):
                    holders.setdefault(value, set()).add(rec)
            for i, (cleaned, problems) in enumerate(out):
                own = (record_ids[i] if record_ids else None) or ""
                if holders.get(cleaned.get(f.name), set()) - {own}:
                    problems.error(f.name, _("Another record of this agency already has this {field}.").format(
                        field=f.label.text()))
        return out

    def validate(self, values: Mapping[str, Any], record_id: str | None = None) -> Problems:
        return self.prepare(values, record_id)[1]

    # --- create, read, update, delete --------------------------------------------------------------------------

    def create(self, values: Mapping[str, Any], draft_id: str | None = None) -> str:
        self.require("create")
        cleaned, problems = self.prepare(values)
        if not problems.ok:
            raise ValidationFailed(problems.errors)
        with self.s.db.transaction():
            record_id = self.s.writer.create(self.spec, self.form.to_change(cleaned), self.s.username)
            if draft_id:
                self.s.db.execute("DELETE FROM drafts WHERE id = ? AND username = ?", (draft_id, self.s.username))
        return record_id

    def create_many(self, values_list: list[Mapping[str, Any] | Checked], agency_id: str | None = None) -> list[str]:
        """Bulk create (imports, demo data): every record cleaned and validated first; one bad record refuses all.

        Records for another agency (``agency_id``) may only be written by coordinators and admins, as when data
        from an agency's paper register is keyed in at the forum.
        """
        self.require("create")
        if agency_id not in (None, self.s.user.agency_id) and self.s.user.role not in ("admin", "coordinator"):
            raise PermissionDenied(_("Only a coordinator or administrator may enter records for another agency."))
        changes = self._changes(values_list, agency_id or self.s.user.agency_id, [None] * len(values_list))
        return self.s.writer.create_many(self.spec, changes, self.s.username, agency_id=agency_id)

    def seal(self, cleaned: dict[str, Any], problems: Problems, agency_id: str | None = None,
             record_id: str | None = None, change: Change | None = None) -> Checked:
        """Mark values ``prepare_many`` cleaned and passed (for ``record_id``, or a new record) for a bulk write."""
        if not problems.ok:
            raise ValidationFailed(problems.errors)
        return Checked(self.form.name, agency_id or self.s.user.agency_id, record_id, cleaned,
                       change or self.form.to_change(cleaned))

    def _changes(self, items: list, agency_id: str, record_ids: list[str | None]) -> list[Change]:
        """Changes to write: ``Checked`` items as they are (if checked for this form, agency and record), the rest
        cleaned and checked now; one bad record refuses all."""
        todo = [i for i, item in enumerate(items) if not isinstance(item, Checked)]
        changes: list[Change | None] = [None] * len(items)
        prepared = self.prepare_many([items[i] for i in todo], agency_id, [record_ids[i] for i in todo])
        for i, (cleaned, problems) in zip(todo, prepared, strict=True):
            if not problems.ok:
                raise ValidationFailed({f"record {i + 1}: {k}": v for k, v in problems.errors.items()})
            changes[i] = self.form.to_change(cleaned)
        for i, item in enumerate(items):
            if isinstance(item, Checked):
                if (item.form, item.agency_id, item.record_id) != (self.form.name, agency_id, record_ids[i]):
                    raise ValueError("values checked for another form, agency or record")
                changes[i] = item.change
        return changes

    def keep_hidden(self, row: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
        """``values`` with every field this role cannot see (top level or in repeat rows) kept as stored: a role
        that cannot see a tier cannot change it either."""
        merged = dict(values)
        hidden = [f for f in self.form.fields if f.tier not in self.tiers]
        if hidden:
            current = self.form.from_row(row, {})
            for f in hidden:
                merged[f.name] = current[f.name]
        self._keep_hidden_rows(row, merged)
        return merged

    def update_many(self, updates: list[tuple[str, Mapping[str, Any] | Checked]]) -> list[int]:
        """Bulk update (imports): each record checked as ``update`` checks it (scope, agency, hidden tiers, rules);
        one bad record refuses all. History, revisions, search text and audit are kept as ``update`` keeps them."""
        self.require("update")
        merged, ids = [], []
        for record_id, values in updates:
            row = self._row(record_id)
            self._check_can_change(row)
            merged.append(values if isinstance(values, Checked) else self.keep_hidden(row, values))
            ids.append(record_id)
        changes = self._changes(merged, self.s.agency.id, ids)
        return self.s.writer.update_many(self.spec, list(zip(ids, changes, strict=True)), self.s.username)

    def _row(self, record_id: str) -> dict[str, Any]:
        row = self.s.writer.row(self.spec, record_id)
        if row is None:
            raise NotFound(_("That record does not exist on this computer."))
        return row

    def get(self, record_id: str) -> dict[str, Any]:
        """The record's values (only the tiers this role may see) and its spine."""
        self.require("read")
        row = self._row(record_id)
        self._check_row_scope(row)
        values = self.form.from_row(row, self.s.writer.children(self.spec, row["rid"]))
        hidden = self.form.mask(values, self.tiers)
        spine = {k: row[k] for k in ("id", "agency_id", "installation_id", "hlc", "revision", "created_by",
                                     "created_at", "updated_by", "updated_at", "deleted", "deleted_reason")}
        return {"values": values, "spine": spine, "hidden": sorted(hidden)}

    def update(self, record_id: str, values: Mapping[str, Any], expected_revision: int | None = None,
               draft_id: str | None = None) -> int:
        self.require("update")
        row = self._row(record_id)
        self._check_can_change(row)
        merged = self.keep_hidden(row, values)
        cleaned, problems = self.prepare(merged, record_id, row["agency_id"])
        if not problems.ok:
            raise ValidationFailed(problems.errors)
        with self.s.db.transaction():
            rev = self.s.writer.update(self.spec, record_id, self.form.to_change(cleaned), self.s.username,
                                       expected_revision)
            if draft_id:
                self.s.db.execute("DELETE FROM drafts WHERE id = ? AND username = ?", (draft_id, self.s.username))
        return rev

    def _keep_hidden_rows(self, row: Mapping[str, Any], merged: dict[str, Any]) -> None:
        """Repeat-group fields this role cannot see keep their stored values, row by row (session notes stay)."""
        groups = {r.name: [f.name for f in r.fields if f.tier not in self.tiers] for r in self.form.repeats}
        groups = {name: fields for name, fields in groups.items() if fields}
        if not groups:
            return
        stored = self.form.from_row(row, self.s.writer.children(self.spec, row["rid"]))
        for name, fields in groups.items():
            old_rows = stored.get(name) or []
            rows = [dict(r) for r in merged.get(name) or []]
            for i, new_row in enumerate(rows):
                for f in fields:
                    new_row[f] = old_rows[i].get(f) if i < len(old_rows) else None
            merged[name] = rows

    def delete(self, record_id: str, reason: str) -> int:
        self.require("delete")
        reason = (reason or "").strip()
        if len(reason) < 3:
            raise UsalamaError(_("Say why this record is deleted."))
        row = self._row(record_id)
        self._check_can_change(row)
        return self.s.writer.tombstone(self.spec, record_id, reason[:500], self.s.username)

    def erase(self, record_id: str, reason: str) -> None:
        """Erase for good (a data subject's request, or retention): admins only, audited without content."""
        self.s.require_admin()
        if len((reason or "").strip()) < 3:
            raise UsalamaError(_("Say why this record is erased."))
        self._row(record_id)
        self.s.writer.erase(self.spec, record_id, reason, self.s.username)

    def history(self, record_id: str) -> list[dict[str, Any]]:
        """Who changed what and when: each change lists the fields it changed, old and new values (visible tiers)."""
        self.require("read")
        row = self._row(record_id)
        self._check_row_scope(row)
        entries = self.s.writer.history(self.spec, record_id)
        current = self.form.from_row(row, self.s.writer.children(self.spec, row["rid"]))
        visible = {f.name for f in self.form.fields if f.tier in self.tiers} | set(self.form.repeat_by_name)
        # Walk newest to oldest: each revision's "previous" is the state before it.
        states = [current]
        for e in reversed(entries[1:]):
            prev = e["previous"] or {}
            states.append(self.form.from_row(prev, prev.get("children") or {}))
        states.reverse()  # states[i] = values after entries[i]
        for state in states:
            self.form.mask(state, self.tiers)
        out = []
        for i, e in enumerate(entries):
            after = states[i]
            before = states[i - 1] if i > 0 else None
            changes = []
            for name in self.form.by_name.keys() | self.form.repeat_by_name.keys():
                if name not in visible:
                    continue
                old = before.get(name) if before else None
                new = after.get(name)
                if old != new and not (before is None and new in (None, [], "")):
                    changes.append({"field": name, "label": self.form.label_of(name), "old": old, "new": new})
            out.append({"revision": e["revision"], "action": e["action"], "by": e["by"], "at": e["at"],
                        "reason": e.get("reason"), "changes": changes})
        return out

    # --- lists, counts, search ----------------------------------------------------------------------------------

    def filter_sql(self, q: Query) -> tuple[list[str], list[Any]]:
        """WHERE terms (unqualified column names of the form's table) and their parameters for ``q``, with the row
        scope and tombstones applied: the analysis module aggregates over exactly the rows a list would show."""
        return self._filters(q)

    def _filters(self, q: Query, paging: bool = False) -> tuple[list[str], list[Any]]:
        where, params = self._scope()
        if not q.include_deleted:
            # A page walks the sort column's index and stops at the limit: with "+" the tombstone test picks no
            # index, else SQLite prefers one starting with "deleted" (the dashboard's covering ones, which counts
            # need) and sorts every matching row first (2 s at a million incidents).
            where.append(LIVE if paging else "deleted = 0")
        df = self.form.date_field
        if df and q.date_from:
            where.append(f'"{df}" >= ?')
            params.append(_lower_bound(q.date_from))
        if df and q.date_to:
            where.append(f'"{df}" < ?')
            params.append(_upper_bound(q.date_to))
        for values, col in ((q.categories, self.form.category_field), (q.statuses, self.form.status_field),
                            (q.agency_ids, "agency_id")):
            if values and col:
                where.append(f'"{col}" IN ({", ".join("?" * len(values))})')
                params.extend(values)
        pf = self.form.place_field
        if pf:
            for part, value in (("county", q.county), ("subcounty", q.subcounty), ("ward", q.ward)):
                if value:
                    where.append(f'"{pf}_{part}" = ?')
                    params.append(value)
        for name, value in q.equals.items():
            f = self.form.by_name.get(name)
            if f is None or f.kind == PLACE or f.tier not in self.tiers:
                raise UsalamaError(_("Cannot filter on {name}.").format(name=name))
            where.append(f'"{name}" = ?')
            params.append(f.to_sql(value)[name])
        if q.text:
            expr = SearchIndex(self.s.db, self.spec).expression(q.text, self.tiers)
            if expr == NO_MATCH:
                where.append("0")
            elif expr:
                where.append(f'rid IN (SELECT rowid FROM "{self.spec.fts_table}" WHERE "{self.spec.fts_table}" '
                             "MATCH ?)")
                params.append(expr)
        return where, params

    def sortable(self) -> list[str]:
        cols = []
        for name in self.form.list_columns:
            f = self.form.by_name.get(name)
            if f is None or f.tier not in self.tiers:
                continue
            cols.append(f"{name}_ward" if f.kind == PLACE else name)
        return [*cols, "updated_at", "rid"]

    def list_columns(self) -> list[str]:
        return [n for n in self.form.list_columns
                if n in self.form.by_name and self.form.by_name[n].tier in self.tiers]

    def page(self, q: Query | None = None, after: tuple | None = None, limit: int = PAGE_SIZE) -> Page:
        """Keyset paging: the next page starts after the last (sort value, rid) seen, never with OFFSET."""
        self.require("search" if q and q.text else "list")
        q = q or Query()
        sort = q.sort or (self.form.date_field if self.form.date_field in self.sortable() else "rid")
        if sort not in self.sortable():
            raise UsalamaError(_("Cannot sort on {name}.").format(name=sort))
        if q.text and sort == "rid" and q.descending:
            return self._search_page(q, after, limit)
        where, params = self._filters(q, paging=True)
        desc = q.descending
        op, order = ("<", "DESC") if desc else (">", "ASC")
        if after is not None:
            if sort == "rid":
                where.append(f"rid {op} ?")
                params.append(after[1])
            else:
                sv, rid = after
                if sv is None:
                    # NULLs sort first ascending / last descending.
                    if desc:
                        where.append(f'("{sort}" IS NULL AND rid < ?)')
                        params.append(rid)
                    else:
                        where.append(f'(("{sort}" IS NULL AND rid > ?) OR "{sort}" IS NOT NULL)')
                        params.append(rid)
                else:
                    null_part = f' OR "{sort}" IS NULL' if desc else ""
                    where.append(f'("{sort}" {op} ? OR ("{sort}" = ? AND rid {op} ?){null_part})')
                    params.extend([sv, sv, rid])
        cols = self._select_columns()
        sql = f'SELECT {cols} FROM "{self.spec.name}"'
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f' ORDER BY "{sort}" {order}, rid {order}' if sort != "rid" else f" ORDER BY rid {order}"
        sql += " LIMIT ?"
        params.append(limit)
        rows = [self._list_row(r) for r in self.s.db.query(sql, params)]
        next_key = None
        if len(rows) == limit:
            last = rows[-1]
            next_key = (last["_sort"].get(sort) if sort != "rid" else None, last["rid"])
        return Page(rows, next_key)

    def _search_page(self, q: Query, after: tuple | None, limit: int) -> Page:
        """Newest matches first, read from the index a chunk at a time and checked against the other filters."""
        index = SearchIndex(self.s.db, self.spec)
        expr = index.expression(q.text, self.tiers)
        if expr is None:
            return self.page(replace(q, text=None), after, limit)
        if expr == NO_MATCH:
            return Page([], None)
        where, params = self._filters(replace(q, text=None))
        cols = self._select_columns()
        before = after[1] if after else None
        rows: list[dict[str, Any]] = []
        chunk = limit * 2
        while len(rows) < limit:
            rids = index.newest(expr, before, chunk)
            if not rids:
                return Page(rows, None)
            marks = ", ".join("?" * len(rids))
            sql = f'SELECT {cols} FROM "{self.spec.name}" WHERE rid IN ({marks})'
            if where:
                sql += " AND " + " AND ".join(where)
            rows.extend(self._list_row(r) for r in self.s.db.query(sql + " ORDER BY rid DESC", [*rids, *params]))
            before = rids[-1]
            if len(rids) < chunk:
                rows = rows[:limit]
                return Page(rows, (None, rows[-1]["rid"]) if len(rows) == limit else None)
            chunk = min(chunk * 2, 10_000)
        rows = rows[:limit]
        return Page(rows, (None, rows[-1]["rid"]))

    def _select_columns(self) -> str:
        cols = ["rid", "id", "agency_id", "revision", "deleted", "updated_at"]
        for name in self.list_columns():
            cols.extend(c.name for c in self.form.by_name[name].columns())
        return ", ".join(f'"{c}"' for c in dict.fromkeys(cols))

    def _list_row(self, r) -> dict[str, Any]:
        raw = dict(zip(r.keys(), tuple(r), strict=True))
        values = {name: self.form.by_name[name].from_sql(raw) for name in self.list_columns()}
        return {"rid": raw["rid"], "id": raw["id"], "agency_id": raw["agency_id"], "revision": raw["revision"],
                "deleted": raw["deleted"], "values": values, "_sort": raw}

    def count(self, q: Query | None = None) -> int:
        self.require("search" if q and q.text else "count")
        where, params = self._filters(q or Query())
        sql = f'SELECT count(*) FROM "{self.spec.name}"'
        if where:
            sql += " WHERE " + " AND ".join(where)
        return int(self.s.db.scalar(sql, params))

    def search(self, text: str, q: Query | None = None, limit: int = PAGE_SIZE) -> Page:
        q = q or Query()
        q.text = text
        if q.sort is None:
            q.sort = "rid"
        return self.page(q, limit=limit)

    def iter_records(self, q: Query | None = None, batch: int = 2000) -> Iterator[dict[str, Any]]:
        """Every matching record with all visible values and repeat groups, streamed in rid order (for exports)."""
        self.require("export")
        q = q or Query()
        where, params = self._filters(q)
        last = 0
        while True:
            w = [*where, "rid > ?"]
            rows = self.s.db.query(f'SELECT * FROM "{self.spec.name}" WHERE {" AND ".join(w)} ORDER BY rid LIMIT ?',
                                   [*params, last, batch])
            if not rows:
                return
            rids = [r["rid"] for r in rows]
            children = self._children_for(rids)
            for r in rows:
                raw = dict(zip(r.keys(), tuple(r), strict=True))
                values = self.form.from_row(raw, children.get(raw["rid"], {}))
                self.form.mask(values, self.tiers, drop=True)
                yield {"spine": {k: raw[k] for k in ("id", "agency_id", "revision", "created_at", "updated_at",
                                                     "created_by", "updated_by")}, "values": values}
            last = rids[-1]

    def _children_for(self, rids: list[int]) -> dict[int, dict[str, list]]:
        out: dict[int, dict[str, list]] = {}
        marks = ", ".join("?" * len(rids))
        for child in self.spec.children:
            names = [c.name for c in child.columns]
            cols = ", ".join(f'"{n}"' for n in ["parent_rid", *names])
            for r in self.s.db.query(f'SELECT {cols} FROM "{self.spec.child_table(child.name)}" '
                                     f"WHERE parent_rid IN ({marks}) ORDER BY parent_rid, idx", rids):
                out.setdefault(r[0], {}).setdefault(child.name, []).append(dict(zip(names, tuple(r)[1:], strict=True)))
        return out

    def place_names(self, limit: int = 500) -> dict[str, list[str]]:
        """Sub-county, ward and village names already used in this form (own scope), most used first: they feed
        the type-ahead so one ward is not spelt five ways."""
        self.require("list")
        pf = self.form.place_field
        if not pf:
            return {}
        where, params = self._scope()
        clause = (" AND " + " AND ".join(where)) if where else ""
        out = {}
        for part in ("subcounty", "ward", "village"):
            col = f"{pf}_{part}"
            rows = self.s.db.query(f'SELECT "{col}", count(*) AS n FROM "{self.spec.name}" WHERE "{col}" IS NOT NULL '
                                   f'AND deleted = 0{clause} GROUP BY "{col}" ORDER BY n DESC LIMIT ?',
                                   [*params, limit])
            out[part] = [r[0] for r in rows]
        return out

    # --- drafts: autosaved in the encrypted database -------------------------------------------------------------

    def save_draft(self, values: Mapping[str, Any], draft_id: str | None = None, record_id: str | None = None) -> str:
        draft_id = draft_id or uuid7()
        data = json.dumps(values, ensure_ascii=False, default=str)
        with self.s.db.transaction():
            self.s.db.execute(
                "INSERT INTO drafts(id, username, form, record_id, data, updated_at) VALUES (?,?,?,?,?,?) "
                "ON CONFLICT(id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
                (draft_id, self.s.username, self.form.name, record_id, data, clock.now_iso()),
            )
        return draft_id

    def drafts(self) -> list[dict[str, Any]]:
        rows = self.s.db.query("SELECT id, record_id, data, updated_at FROM drafts WHERE username = ? AND form = ? "
                               "ORDER BY updated_at DESC", (self.s.username, self.form.name))
        return [{"id": r[0], "record_id": r[1], "values": json.loads(r[2]), "updated_at": r[3]} for r in rows]

    def discard_draft(self, draft_id: str) -> None:
        with self.s.db.transaction():
            self.s.db.execute("DELETE FROM drafts WHERE id = ? AND username = ?", (draft_id, self.s.username))

"""Writing records through the spine, so no module can forget the id, clock, revision, history or change sequence.

Every local change: ticks the hybrid logical clock, bumps the record's revision and vector clock, takes the next
local change sequence, keeps the previous values in ``revisions``, refreshes the full-text index and appends an
audit entry, all in the caller's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .. import clock
from ..errors import ConflictError, NotFound
from ..i18n import _
from . import audit, search_index
from .db import Database
from .hlc import HybridClock
from .ids import uuid7
from .schema import get_meta, set_meta
from .spine import SPINE_NAMES, TableSpec


def vclock_text(vc: dict[str, int]) -> str:
    return json.dumps(dict(sorted(vc.items())), separators=(",", ":"))


@dataclass
class Change:
    """A record's new content: column values, repeat-group rows, and text for the three search tiers."""

    values: dict[str, Any]
    children: dict[str, list[dict[str, Any]]]
    fts: dict[str, str] | None = None


class RecordWriter:
    def __init__(self, db: Database, installation_id: str, agency_id: str):
        self.db = db
        self.installation_id = installation_id
        self.agency_id = agency_id
        self.hlc = HybridClock(installation_id, get_meta(db, "hlc_last"))

    # --- counters ---------------------------------------------------------------------------------------------

    def next_change_seq(self, count: int = 1) -> int:
        """Reserve ``count`` change sequence numbers inside the current transaction; returns the first."""
        current = int(get_meta(self.db, "change_seq", "0") or 0)
        set_meta(self.db, "change_seq", current + count)
        return current + 1

    def stamp(self) -> str:
        s = self.hlc.tick()
        set_meta(self.db, "hlc_last", s)
        return s

    # --- reading ----------------------------------------------------------------------------------------------

    def row(self, spec: TableSpec, record_id: str) -> dict[str, Any] | None:
        r = self.db.one(f'SELECT * FROM "{spec.name}" WHERE id = ?', (record_id,))
        return None if r is None else dict(zip(r.keys(), tuple(r), strict=True))

    def children(self, spec: TableSpec, rid: int) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for child in spec.children:
            names = [c.name for c in child.columns]
            cols = ", ".join(f'"{n}"' for n in names)
            rows = self.db.query(
                f'SELECT {cols} FROM "{spec.child_table(child.name)}" WHERE parent_rid = ? ORDER BY idx', (rid,)
            )
            out[child.name] = [dict(zip(names, tuple(r), strict=True)) for r in rows]
        return out

    def get(self, spec: TableSpec, record_id: str) -> dict[str, Any]:
        row = self.row(spec, record_id)
        if row is None:
            raise NotFound(_("That record does not exist on this computer."))
        row["children"] = self.children(spec, row["rid"])
        return row

    # --- writing ----------------------------------------------------------------------------------------------

    def _write_children(self, spec: TableSpec, rid: int, children: dict[str, list[dict[str, Any]]]) -> None:
        for child in spec.children:
            table = spec.child_table(child.name)
            self.db.execute(f'DELETE FROM "{table}" WHERE parent_rid = ?', (rid,))
            rows = children.get(child.name) or []
            if not rows:
                continue
            names = [c.name for c in child.columns]
            cols = ", ".join(f'"{n}"' for n in ["parent_rid", "idx", *names])
            marks = ", ".join("?" * (len(names) + 2))
            self.db.executemany(
                f'INSERT INTO "{table}" ({cols}) VALUES ({marks})',
                [(rid, i, *[r.get(n) for n in names]) for i, r in enumerate(rows)],
            )

    def _write_fts(self, spec: TableSpec, rid: int, fts: dict[str, str] | None, deleted: bool) -> None:
        search_index.drop(self.db, spec, [rid])
        if fts and not deleted:
            search_index.put(self.db, spec, [search_index.row(rid, fts)], replace=False)

    def create(self, spec: TableSpec, change: Change, username: str, agency_id: str | None = None,
               record_id: str | None = None) -> str:
        with self.db.transaction():
            record_id = record_id or uuid7()
            now = clock.now_iso()
            stamp = self.stamp()
            seq = self.next_change_seq()
            spine = {
                "id": record_id,
                "agency_id": agency_id or self.agency_id,
                "installation_id": self.installation_id,
                "hlc": stamp,
                "vclock": vclock_text({self.installation_id: 1}),
                "revision": 1,
                "created_by": username,
                "created_at": now,
                "updated_by": username,
                "updated_at": now,
                "deleted": 0,
                "deleted_reason": None,
                "change_seq": seq,
            }
            data = {**{n: change.values.get(n) for n in spec.column_names}, **spine}
            cols = ", ".join(f'"{k}"' for k in data)
            marks = ", ".join("?" * len(data))
            cur = self.db.execute(f'INSERT INTO "{spec.name}" ({cols}) VALUES ({marks})', tuple(data.values()))
            rid = cur.lastrowid
            self._write_children(spec, rid, change.children)
            self._write_fts(spec, rid, change.fts, deleted=False)
            audit.append(self.db, username, "record.create", spec.module, record_id, {"form": spec.name})
            return record_id

    def _snapshot(self, spec: TableSpec, row: dict[str, Any]) -> str:
        previous = {n: row.get(n) for n in spec.column_names}
        previous["children"] = self.children(spec, row["rid"])
        previous["deleted"] = row["deleted"]
        return json.dumps(previous, ensure_ascii=False, separators=(",", ":"))

    def _bump(self, row: dict[str, Any], username: str) -> dict[str, Any]:
        vc = json.loads(row["vclock"])
        vc[self.installation_id] = vc.get(self.installation_id, 0) + 1
        return {
            "installation_id": self.installation_id,
            "hlc": self.stamp(),
            "vclock": vclock_text(vc),
            "revision": int(row["revision"]) + 1,
            "updated_by": username,
            "updated_at": clock.now_iso(),
            "change_seq": self.next_change_seq(),
        }

    def _record_revision(self, spec: TableSpec, row: dict[str, Any], action: str, new: dict[str, Any],
                         username: str, reason: str | None = None) -> None:
        self.db.execute(
            "INSERT INTO revisions(tbl, record_id, revision, hlc, installation_id, action, changed_by, changed_at, "
            "previous, reason) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (spec.name, row["id"], new["revision"], new["hlc"], self.installation_id, action, username,
             new["updated_at"], self._snapshot(spec, row), reason),
        )

    def update(self, spec: TableSpec, record_id: str, change: Change, username: str,
               expected_revision: int | None = None) -> int:
        with self.db.transaction():
            row = self.row(spec, record_id)
            if row is None:
                raise NotFound(_("That record does not exist on this computer."))
            if expected_revision is not None and int(row["revision"]) != expected_revision:
                raise ConflictError(
                    _("Someone saved this record after you opened it. Close it and open it again to see their changes.")
                )
            if row["deleted"]:
                raise ConflictError(_("This record was deleted; it cannot be edited."))
            new = self._bump(row, username)
            self._record_revision(spec, row, "update", new, username)
            data = {**{n: change.values.get(n) for n in spec.column_names}, **new}
            sets = ", ".join(f'"{k}" = ?' for k in data)
            self.db.execute(f'UPDATE "{spec.name}" SET {sets} WHERE rid = ?', (*data.values(), row["rid"]))
            self._write_children(spec, row["rid"], change.children)
            self._write_fts(spec, row["rid"], change.fts, deleted=False)
            audit.append(self.db, username, "record.update", spec.module, record_id,
                         {"form": spec.name, "revision": new["revision"]})
            return new["revision"]

    def tombstone(self, spec: TableSpec, record_id: str, reason: str, username: str) -> int:
        with self.db.transaction():
            row = self.row(spec, record_id)
            if row is None:
                raise NotFound(_("That record does not exist on this computer."))
            if row["deleted"]:
                return int(row["revision"])
            new = self._bump(row, username)
            self._record_revision(spec, row, "delete", new, username, reason)
            self.db.execute(
                f'UPDATE "{spec.name}" SET deleted = 1, deleted_reason = ?, '
                + ", ".join(f'"{k}" = ?' for k in new) + " WHERE rid = ?",
                (reason, *new.values(), row["rid"]),
            )
            self._write_fts(spec, row["rid"], None, deleted=True)
            audit.append(self.db, username, "record.delete", spec.module, record_id,
                         {"form": spec.name, "revision": new["revision"]})
            return new["revision"]

    def erase(self, spec: TableSpec, record_id: str, reason: str, username: str, checkpoint: bool = True) -> None:
        """Remove a record and every copy of its values (history, search index, drafts) for good.

        With secure_delete on, SQLite zeroes the freed space; the audit keeps the event (who, when, which id) but
        no content. Unlike a tombstone, nothing of the record remains to travel in a bundle.
        """
        with self.db.transaction():
            row = self.row(spec, record_id)
            if row is None:
                raise NotFound(_("That record does not exist on this computer."))
            search_index.drop(self.db, spec, [row["rid"]])
            for child in spec.children:
                self.db.execute(f'DELETE FROM "{spec.child_table(child.name)}" WHERE parent_rid = ?', (row["rid"],))
            self.db.execute("DELETE FROM revisions WHERE tbl = ? AND record_id = ?", (spec.name, record_id))
            self.db.execute("DELETE FROM drafts WHERE record_id = ?", (record_id,))
            # Copies kept by the exchange: losing versions of conflicts, merge layers, quarantined versions.
            for table in ("sync_conflicts", "sync_layers", "sync_quarantine", "sync_provenance"):
                if self.db.scalar("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)):
                    self.db.execute(f'DELETE FROM "{table}" WHERE record_id = ?', (record_id,))
            self.db.execute(f'DELETE FROM "{spec.name}" WHERE rid = ?', (row["rid"],))
            audit.append(self.db, username, "record.erase", spec.module, record_id,
                         {"form": spec.name, "reason_length": len(reason)})
        # Fold the WAL back so freed pages are overwritten in the main file too (once, after a batch).
        if checkpoint and not self.db.in_transaction:
            self.db.checkpoint()

    def history(self, spec: TableSpec, record_id: str) -> list[dict[str, Any]]:
        """Oldest first: the creation (from the spine), then each change with the values it replaced."""
        row = self.row(spec, record_id)
        if row is None:
            raise NotFound(_("That record does not exist on this computer."))
        revs = self.db.query(
            "SELECT revision, hlc, installation_id, action, changed_by, changed_at, previous, reason "
            "FROM revisions WHERE tbl = ? AND record_id = ? ORDER BY id",
            (spec.name, record_id),
        )
        out = [{"revision": 1, "action": "create", "by": row["created_by"], "at": row["created_at"],
                "previous": None, "reason": None}]
        for r in revs:
            out.append({"revision": r["revision"], "action": r["action"], "by": r["changed_by"],
                        "at": r["changed_at"], "previous": json.loads(r["previous"]) if r["previous"] else None,
                        "reason": r["reason"], "hlc": r["hlc"], "installation_id": r["installation_id"]})
        return out

    # --- bulk path (imports): executemany, one clock tick per row, one meta update per batch ----------------------

    def create_many(self, spec: TableSpec, changes: Sequence[Change], username: str,
                    agency_id: str | None = None) -> list[str]:
        if not changes:
            return []
        with self.db.transaction():
            now = clock.now_iso()
            first_seq = self.next_change_seq(len(changes))
            names = spec.column_names
            spine_names = [n for n in SPINE_NAMES if n != "rid"]
            cols = ", ".join(f'"{c}"' for c in [*spine_names, *names])
            marks = ", ".join("?" * (len(spine_names) + len(names)))
            agency = agency_id or self.agency_id
            ids, rows = [], []
            vc = vclock_text({self.installation_id: 1})
            for i, change in enumerate(changes):
                rid_id = uuid7()
                ids.append(rid_id)
                spine = (rid_id, agency, self.installation_id, self.hlc.tick(), vc, 1, username, now, username,
                         now, 0, None, first_seq + i)
                rows.append((*spine, *[change.values.get(n) for n in names]))
            set_meta(self.db, "hlc_last", self.hlc.last)
            self.db.executemany(f'INSERT INTO "{spec.name}" ({cols}) VALUES ({marks})', rows)
            rid_of = self._rids(spec, ids)
            for child in spec.children:
                cnames = [c.name for c in child.columns]
                ccols = ", ".join(f'"{n}"' for n in ["parent_rid", "idx", *cnames])
                cmarks = ", ".join("?" * (len(cnames) + 2))
                self.db.executemany(
                    f'INSERT INTO "{spec.child_table(child.name)}" ({ccols}) VALUES ({cmarks})',
                    [(rid_of[rec_id], j, *[r.get(n) for n in cnames])
                     for rec_id, change in zip(ids, changes, strict=True)
                     for j, r in enumerate(change.children.get(child.name) or [])],
                )
            search_index.put(self.db, spec, [search_index.row(rid_of[rec_id], c.fts)
                                             for rec_id, c in zip(ids, changes, strict=True) if c.fts],
                             replace=False)
            audit.append_many(self.db, [(username, "record.create", spec.module, rec_id, {"form": spec.name}, now)
                                        for rec_id in ids])
            return ids

    def _rids(self, spec: TableSpec, ids: Iterable[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        ids = list(ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            for r in self.db.query(f'SELECT id, rid FROM "{spec.name}" WHERE id IN ({marks})', chunk):
                out[r[0]] = r[1]
        return out

    # --- bulk updates (imports): the same spine, revision, children, search text and audit as ``update`` ------------

    def update_many(self, spec: TableSpec, updates: Sequence[tuple[str, Change]], username: str) -> list[int]:
        """Update many records as ``update`` does each one, with executemany. A record named twice is updated twice,
        in order (two revisions). Returns the new revision of each update, in the order given."""
        revisions: list[int] = [0] * len(updates)
        if not updates:
            return revisions
        with self.db.transaction():
            pending = list(enumerate(updates))
            while pending:
                batch, rest, seen = [], [], set()
                for i, (record_id, change) in pending:
                    (rest if record_id in seen else batch).append((i, record_id, change))
                    seen.add(record_id)
                for start in range(0, len(batch), 500):
                    self._update_batch(spec, batch[start:start + 500], username, revisions)
                pending = [(i, (record_id, change)) for i, record_id, change in rest]
        return revisions

    def children_many(self, spec: TableSpec, rids: list[int]) -> dict[int, dict[str, list[dict[str, Any]]]]:
        """``children`` for many parents at once: every child table named for each, rows in order."""
        out: dict[int, dict[str, list[dict[str, Any]]]] = {rid: {c.name: [] for c in spec.children} for rid in rids}
        if not rids:
            return out
        marks = ", ".join("?" * len(rids))
        for child in spec.children:
            names = [c.name for c in child.columns]
            cols = ", ".join(f'"{n}"' for n in ["parent_rid", *names])
            for r in self.db.query(f'SELECT {cols} FROM "{spec.child_table(child.name)}" WHERE parent_rid IN ({marks}) '
                                   "ORDER BY parent_rid, idx", rids):
                out[r[0]][child.name].append(dict(zip(names, tuple(r)[1:], strict=True)))
        return out

    def _update_batch(self, spec: TableSpec, batch: list[tuple[int, str, Change]], username: str,
                      revisions: list[int]) -> None:
        ids = [record_id for _i, record_id, _c in batch]
        marks = ", ".join("?" * len(ids))
        rows = {}
        for r in self.db.query(f'SELECT * FROM "{spec.name}" WHERE id IN ({marks})', ids):
            rows[r["id"]] = dict(zip(r.keys(), tuple(r), strict=True))
        for record_id in ids:
            row = rows.get(record_id)
            if row is None:
                raise NotFound(_("That record does not exist on this computer."))
            if row["deleted"]:
                raise ConflictError(_("This record was deleted; it cannot be edited."))
        children = self.children_many(spec, [rows[i]["rid"] for i in ids])
        now = clock.now_iso()
        first_seq = self.next_change_seq(len(batch))
        names = spec.column_names
        revs, updates, fts, audits, rids = [], [], [], [], []
        for n, (i, record_id, change) in enumerate(batch):
            row = rows[record_id]
            vc = json.loads(row["vclock"])
            vc[self.installation_id] = vc.get(self.installation_id, 0) + 1
            new = {"installation_id": self.installation_id, "hlc": self.hlc.tick(), "vclock": vclock_text(vc),
                   "revision": int(row["revision"]) + 1, "updated_by": username, "updated_at": now,
                   "change_seq": first_seq + n}
            previous = {c: row.get(c) for c in names}
            previous["children"] = children[row["rid"]]
            previous["deleted"] = row["deleted"]
            revs.append((spec.name, record_id, new["revision"], new["hlc"], self.installation_id, "update", username,
                         now, json.dumps(previous, ensure_ascii=False, separators=(",", ":")), None))
            updates.append((*[change.values.get(c) for c in names], *new.values(), row["rid"]))
            rids.append(row["rid"])
            if change.fts:
                fts.append((row["rid"], change.fts.get("public", ""), change.fts.get("identifying", ""),
                            change.fts.get("narrative", "")))
            audits.append((username, "record.update", spec.module, record_id,
                           {"form": spec.name, "revision": new["revision"]}, now))
            revisions[i] = new["revision"]
        set_meta(self.db, "hlc_last", self.hlc.last)
        self.db.executemany(
            "INSERT INTO revisions(tbl, record_id, revision, hlc, installation_id, action, changed_by, changed_at, "
            "previous, reason) VALUES (?,?,?,?,?,?,?,?,?,?)", revs)
        sets = ", ".join(f'"{k}" = ?' for k in [*names, "installation_id", "hlc", "vclock", "revision", "updated_by",
                                                "updated_at", "change_seq"])
        self.db.executemany(f'UPDATE "{spec.name}" SET {sets} WHERE rid = ?', updates)
        rid_marks = ", ".join("?" * len(rids))
        for child in spec.children:
            table = spec.child_table(child.name)
            self.db.execute(f'DELETE FROM "{table}" WHERE parent_rid IN ({rid_marks})', rids)
            cnames = [c.name for c in child.columns]
            ccols = ", ".join(f'"{n}"' for n in ["parent_rid", "idx", *cnames])
            self.db.executemany(
                f'INSERT INTO "{table}" ({ccols}) VALUES ({", ".join("?" * (len(cnames) + 2))})',
                [(rows[record_id]["rid"], j, *[r.get(n) for n in cnames])
                 for _i, record_id, change in batch for j, r in enumerate(change.children.get(child.name) or [])])
        search_index.drop(self.db, spec, rids)
        search_index.put(self.db, spec, fts, replace=False)
        audit.append_many(self.db, audits)

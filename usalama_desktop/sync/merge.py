"""Merging received versions into the database, deterministically.

For each record we keep the *frontier*: the versions no other version we have seen descends from (by vector
clock). The one with the greatest (hybrid logical clock, installation id) is the record's row; every other version
in the frontier is a conflict kept in ``sync_conflicts`` for review. The frontier of a set of versions does not
depend on the order they arrive in or on repeats, so importing any set of bundles in any order gives the same rows
and the same conflicts. Tombstones are versions like any other.

Profiles carry different fields. The fields a winning version does not carry come, for another agency's record,
from the newest referral version received (a last-writer-wins "layer" per record) and otherwise stay empty; for
this agency's own records they stay as this installation has them. Every change to a row goes through the same spine
rules as a local save: revision history, repeat groups, search text and a new local change sequence.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..forms.definition import Form
from ..i18n import _
from ..store import search_index
from ..store.records import vclock_text
from ..store.schema import set_meta
from ..store.spine import SPINE_NAMES
from .codec import Version, dominates, restrict
from .keys import Peer
from .limits import BundleRejected
from .profiles import OBSERVATORY, REFERRAL, Carried, carried, everything

BATCH = 500  # 2,000 (with 10 batches in flight) merged 100,000 records no faster here and held more memory
FRONTIER = ("open", "reviewed")  # conflict states that are still part of a record's frontier
INSERT_SPINE = [n for n in SPINE_NAMES if n != "rid"]
TRAVELLING = ["id", "agency_id", "installation_id", "hlc", "vclock", "revision", "created_by", "created_at",
              "updated_by", "updated_at", "deleted", "deleted_reason"]


@dataclass
class MergeStats:
    received: int = 0
    new: int = 0
    updated: int = 0
    duplicates: int = 0
    superseded: int = 0
    conflicts: int = 0
    held: int = 0
    per_form: dict[str, int] = field(default_factory=dict)

    @property
    def applied(self) -> int:
        return self.new + self.updated


@dataclass
class _Front:
    stamp: tuple[str, str]
    vclock: dict[str, int]
    kind: str  # "row", "conflict" or "incoming"
    conflict_id: int | None = None
    doc: dict[str, Any] | None = None


def layer_fields(form: Form) -> Carried:
    """Fields a referral carries beyond the observatory profile (identifying and non-local narrative)."""
    full, pub = carried(form, REFERRAL), carried(form, OBSERVATORY)
    repeats = []
    for group, subs in full.repeats:
        extra = subs - pub.repeat_fields.get(group, frozenset())
        if extra:
            repeats.append((group, extra))
    return Carried(full.fields - pub.fields, tuple(repeats))


def canonical(form: Form, values: Mapping[str, Any]) -> dict[str, Any]:
    """Values as the table gives them back (a place with all four parts, and so on), so a version kept aside reads
    the same whether it arrived in a bundle or was the record's row: conflicts compare equal in any order."""
    change = form.to_change(values)
    return form.from_row(change.values, change.children)


def empty_values(form: Form) -> dict[str, Any]:
    return {**{f.name: None for f in form.fields}, **{r.name: [] for r in form.repeats}}


def compose(form: Form, own_content: Mapping[str, Any], keep: Carried, base: Mapping[str, Any]) -> dict[str, Any]:
    """A row's values: the version's own carried fields over ``base`` (what fills the fields it does not carry)."""
    out = {k: (list(v) if isinstance(v, list) else v) for k, v in base.items()}
    for name in keep.fields:
        out[name] = own_content.get(name)
    for group, subs in keep.repeat_fields.items():
        base_rows = base.get(group) or []
        rows = []
        for i, row in enumerate(own_content.get(group) or []):
            filled = dict(base_rows[i]) if i < len(base_rows) else {f.name: None for f in form.repeat_by_name[
                group].fields}
            for k in subs:
                filled[k] = row.get(k)
            rows.append(filled)
        out[group] = rows
    return out


def new_row(v: Version, local_agency: str) -> tuple[list[Any], tuple, dict[str, list[tuple]], tuple | None]:
    """What a version writes when its record is new here: the spine's columns, the form's columns, each repeat
    group's rows and the search text (None for a tombstone). A tombstone stores no values; another agency's version
    fills only the fields it carries. The bundle checker makes these ahead, on the second core (pipeline.py)."""
    form = v.form
    spec = form.table_spec
    if v.deleted:
        values = empty_values(form)
    elif v.spine["agency_id"] == local_agency:
        values = v.values
    else:
        values = compose(form, v.values, v.carried, empty_values(form))
    change = form.to_change(values)
    cols = tuple(change.values.get(c) for c in spec.column_names)
    children = {child.name: [tuple(r.get(c.name) for c in child.columns) for r in change.children.get(child.name) or []]
                for child in spec.children}
    text = None
    if spec.fts and change.fts and not v.deleted:
        text = (change.fts.get("public", ""), change.fts.get("identifying", ""), change.fts.get("narrative", ""))
    sp = v.spine
    spine = [sp["id"], sp["agency_id"], sp["installation_id"], sp["hlc"], vclock_text(sp["vclock"]), sp["revision"],
             sp["created_by"], sp["created_at"], sp["updated_by"], sp["updated_at"], int(bool(sp["deleted"])),
             sp["deleted_reason"]]  # INSERT_SPINE's order, up to the local change sequence
    return spine, cols, children, text


class Merger:
    """Applies the versions of one bundle inside the caller's transaction, in batches."""

    def __init__(self, session, bundle_id: str, sender: Peer, profile: str):
        self.s = session
        self.db = session.db
        self.writer = session.writer
        self.bundle_id = bundle_id
        self.sender = sender
        self.profile = profile
        self.local_agency = session.agency.id
        self.stats = MergeStats()
        self.batch: list[Version] = []
        self.max_hlc = ""
        self._held: set[str] | None = None
        self._names: dict[str, str] = {}
        self._open_conflicts: bool | None = None  # whether any record has a conflict still in its frontier

    # --- intake -------------------------------------------------------------------------------------------------

    def add(self, v: Version, n: int) -> None:
        self._check_origin(v, n)
        self.stats.received += 1
        self.stats.per_form[v.form.name] = self.stats.per_form.get(v.form.name, 0) + 1
        if v.spine["hlc"] > self.max_hlc:
            self.max_hlc = v.spine["hlc"]
        self.batch.append(v)
        if len(self.batch) >= BATCH:
            self.flush()

    def _agency_name(self, agency_id: str) -> str:
        if agency_id not in self._names:
            self._names[agency_id] = self.db.scalar("SELECT name FROM agencies WHERE id = ?", (agency_id,)) or agency_id
        return self._names[agency_id]

    def _check_origin(self, v: Version, n: int) -> None:
        """A record's agency is the signing agency's, unless the signer is an enrolled relay (a coordinator)."""
        agency = v.spine["agency_id"]
        relayed = self.sender.relay and self.profile != REFERRAL
        if not relayed and agency != self.sender.agency_id:
            raise BundleRejected("origin", _(
                "Record {n} claims to belong to {agency}, but the bundle was signed by {signer}. An agency may only "
                "send its own records; the whole bundle was refused.").format(
                n=n, agency=self._agency_name(agency), signer=self.sender.agency_name))
        prov = v.provenance
        if prov is not None and not relayed and (prov["installation_id"] != self.sender.installation_id
                                                 or prov["agency_id"] != self.sender.agency_id):
            raise BundleRejected("origin", _(
                "Record {n} claims to have come from another installation, but {signer} is not enrolled as a "
                "coordinator that passes records on. The whole bundle was refused.").format(
                n=n, signer=self.sender.agency_name))
        if prov is not None and prov["agency_id"] != agency:
            raise BundleRejected("origin", _("Record {n} names a different agency in its provenance; the whole bundle "
                                             "was refused.").format(n=n))

    def held_ids(self) -> set[str]:
        """Records never merged into: quarantined here, or erased here for good (an erasure must not be undone by
        an old copy arriving on a stick)."""
        if self._held is None:
            held = {r[0] for r in self.db.query("SELECT record_id FROM sync_quarantine")}
            held |= {r[0] for r in self.db.query("SELECT target FROM audit WHERE action = 'record.erase'")}
            self._held = held
        return self._held

    def flush(self) -> None:
        batch, self.batch = self.batch, []
        by_form: dict[str, list[Version]] = {}
        for v in batch:
            by_form.setdefault(v.form.name, []).append(v)
        for versions in by_form.values():
            self._flush_form(versions[0].form, versions)

    def finish(self) -> MergeStats:
        self.flush()
        if self.max_hlc:
            self.writer.hlc.observe(self.max_hlc)
            set_meta(self.db, "hlc_last", self.writer.hlc.last)
        return self.stats

    # --- the fast path: records this installation has never seen -------------------------------------------------

    def _flush_form(self, form: Form, versions: list[Version]) -> None:
        spec = form.table_spec
        ids = list(dict.fromkeys(v.id for v in versions))
        existing: dict[str, str] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ", ".join("?" * len(chunk))
            for r in self.db.query(f'SELECT id, agency_id FROM "{spec.name}" WHERE id IN ({marks})', chunk):
                existing[r[0]] = r[1]
            if not self._conflicts_open():
                continue
            for r in self.db.query(f"SELECT DISTINCT record_id FROM sync_conflicts WHERE record_id IN ({marks}) "
                                   f"AND status IN ('open', 'reviewed')", chunk):
                existing.setdefault(r[0], "")
        held = self.held_ids()
        fresh: list[Version] = []
        fresh_ids: set[str] = set()
        for v in versions:
            if v.id in held:
                self.stats.held += 1
                continue
            agency = existing.get(v.id)
            if agency is None and v.id not in fresh_ids:
                fresh.append(v)
                fresh_ids.add(v.id)
                continue
            if v.id in fresh_ids:
                self._insert_new(form, fresh)
                existing.update((x.id, x.spine["agency_id"]) for x in fresh)
                fresh, fresh_ids = [], set()
            self._merge_one(form, v)
        self._insert_new(form, fresh)

    def _conflicts_open(self) -> bool:
        """Whether any conflict is still open or reviewed: read once (nobody else writes while the import holds the
        write lock), and true from the first conflict this import keeps. Without any, a batch need not look."""
        if self._open_conflicts is None:
            self._open_conflicts = bool(self.db.scalar(
                "SELECT EXISTS(SELECT 1 FROM sync_conflicts WHERE status IN ('open', 'reviewed'))"))
        return self._open_conflicts

    def _origin_of(self, v: Version) -> tuple[str, str, str]:
        if v.provenance:
            return v.provenance["installation_id"], v.provenance["agency_id"], v.provenance["bundle_id"]
        return self.sender.installation_id, self.sender.agency_id, self.bundle_id

    def _insert_new(self, form: Form, versions: list[Version]) -> None:
        if not versions:
            return
        spec = form.table_spec
        first_seq = self.writer.next_change_seq(len(versions))
        first_rid = int(self.db.scalar(f'SELECT coalesce(max(rid), 0) FROM "{spec.name}"')) + 1
        layer_keep = layer_fields(form)
        rows, fts, prov, layers = [], [], [], []
        children: dict[str, list[tuple]] = {c.name: [] for c in spec.children}
        for i, v in enumerate(versions):
            rid = first_rid + i
            own = v.spine["agency_id"] == self.local_agency
            spine, cols, kids, text = v.prepared if v.prepared is not None else new_row(v, self.local_agency)
            rows.append((rid, *spine, first_seq + i, *cols))
            for name, crows in kids.items():
                children[name].extend((rid, j, *r) for j, r in enumerate(crows))
            if text is not None:
                fts.append((rid, *text))
            origin = self._origin_of(v)
            prov.append((v.id, spec.name, *origin, self.sender.installation_id, self.sender.installation_id,
                         v.profile))
            if v.profile == REFERRAL and not own and not v.deleted:
                layers.append((v.id, spec.name, v.spine["hlc"], v.spine["installation_id"],
                               json.dumps(restrict(form, canonical(form, v.values), layer_keep, drop_empty=False),
                                          ensure_ascii=False, sort_keys=True)))
        names = spec.column_names
        cols = ", ".join(f'"{c}"' for c in ["rid", *INSERT_SPINE, *names])
        marks = ", ".join("?" * (1 + len(INSERT_SPINE) + len(names)))
        self.db.executemany(f'INSERT INTO "{spec.name}" ({cols}) VALUES ({marks})', rows)
        for child in spec.children:
            if children[child.name]:
                cnames = [c.name for c in child.columns]
                ccols = ", ".join(f'"{n}"' for n in ["parent_rid", "idx", *cnames])
                self.db.executemany(f'INSERT INTO "{spec.child_table(child.name)}" ({ccols}) VALUES '
                                    f'({", ".join("?" * (len(cnames) + 2))})', children[child.name])
        search_index.put(self.db, spec, fts, replace=False)
        self.db.executemany(
            "INSERT INTO sync_provenance(record_id, tbl, origin_installation, origin_agency, origin_bundle, first_via, "
            "last_via, profile) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(record_id) DO UPDATE SET "
            "last_via = excluded.last_via, profile = excluded.profile", prov)
        if layers:
            self.db.executemany("INSERT OR REPLACE INTO sync_layers(record_id, tbl, hlc, installation_id, data) "
                                "VALUES (?,?,?,?,?)", layers)
        self.stats.new += len(versions)

    # --- the general path: a record we already hold -------------------------------------------------------------

    def _merge_one(self, form: Form, v: Version) -> None:
        spec = form.table_spec
        row = self.writer.row(spec, v.id)
        if row is None:  # only conflicts left (cannot normally happen): treat as new
            self._insert_new(form, [v])
            return
        if row["agency_id"] != v.spine["agency_id"]:
            raise BundleRejected("origin", _(
                "A record in the bundle would change a record that belongs to {agency}. An agency cannot overwrite "
                "another agency's records; the whole bundle was refused.").format(
                agency=self._agency_name(row["agency_id"])))
        own = row["agency_id"] == self.local_agency
        layer_changed = (not own and v.profile == REFERRAL and not v.deleted and self._update_layer(form, v))
        cur = _Front((row["hlc"], row["installation_id"]), json.loads(row["vclock"]), "row")
        fronts = [cur]
        for r in self.db.query("SELECT id, hlc, installation_id, version FROM sync_conflicts WHERE record_id = ? AND "
                               "status IN ('open', 'reviewed') ORDER BY id", (v.id,)):
            doc = json.loads(r["version"])
            fronts.append(_Front((r["hlc"], r["installation_id"]), doc["spine"]["vclock"], "conflict", r["id"], doc))
        incoming = _Front(v.stamp, v.vclock, "incoming")
        if any(f.stamp == incoming.stamp for f in fronts) or any(dominates(f.vclock, v.vclock) for f in fronts):
            if any(f.stamp == incoming.stamp for f in fronts):
                self.stats.duplicates += 1
            else:
                self.stats.superseded += 1
            if layer_changed and self._row_profile(v.id, own) == OBSERVATORY and not row["deleted"]:
                self._rewrite_from_layer(form, row)
            return
        survivors = [f for f in fronts if not dominates(v.vclock, f.vclock)]
        for f in fronts:
            if f.kind == "conflict" and f not in survivors:
                self.db.execute("DELETE FROM sync_conflicts WHERE id = ?", (f.conflict_id,))
        winner = max([*survivors, incoming], key=lambda f: f.stamp)
        if winner is incoming:
            if cur in survivors:
                self._keep_conflict(v.id, spec.name, self._row_doc(form, row, own))
            self._apply(form, row, v.values, v.carried, v.spine, v.profile, own)
        elif winner is cur:
            self._keep_conflict(v.id, spec.name, self._version_doc(v))
            if layer_changed and self._row_profile(v.id, own) == OBSERVATORY and not row["deleted"]:
                self._rewrite_from_layer(form, row)
        else:
            self.db.execute("DELETE FROM sync_conflicts WHERE id = ?", (winner.conflict_id,))
            self._keep_conflict(v.id, spec.name, self._version_doc(v))
            if cur in survivors:
                self._keep_conflict(v.id, spec.name, self._row_doc(form, row, own))
            doc = winner.doc
            profile = doc["profile"]
            keep = everything(form) if profile == "everything" else carried(form, profile)
            values = {**empty_values(form), **doc["values"]}
            spine = {**doc["spine"]}
            self._apply(form, row, values, keep, spine, profile, own)

    def _row_profile(self, record_id: str, own: bool) -> str:
        if own:
            return "everything"
        return self.db.scalar("SELECT profile FROM sync_provenance WHERE record_id = ?", (record_id,)) or OBSERVATORY

    def _row_doc(self, form: Form, row: dict[str, Any], own: bool) -> dict[str, Any]:
        """The row's current version as it was received (its own carried fields), to keep as a conflict."""
        profile = self._row_profile(row["id"], own)
        keep = everything(form) if profile == "everything" else carried(form, profile)
        values = form.from_row(row, self.writer.children(form.table_spec, row["rid"]))
        spine = {k: row[k] for k in TRAVELLING}
        spine["vclock"] = json.loads(spine["vclock"])
        spine["deleted"] = bool(spine["deleted"])
        content = {} if spine["deleted"] else restrict(form, values, keep, drop_empty=False)
        return {"spine": spine, "values": content, "profile": profile}

    @staticmethod
    def _version_doc(v: Version) -> dict[str, Any]:
        content = {} if v.deleted else restrict(v.form, canonical(v.form, v.values), v.carried, drop_empty=False)
        return {"spine": dict(v.spine), "values": content, "profile": v.profile}

    def _keep_conflict(self, record_id: str, table: str, doc: dict[str, Any]) -> None:
        from .. import clock

        spine = doc["spine"]
        self._open_conflicts = True
        self.db.execute(
            "INSERT INTO sync_conflicts(tbl, record_id, hlc, installation_id, version, status, bundle_id, detected_at) "
            "VALUES (?,?,?,?,?,'open',?,?)",
            (table, record_id, spine["hlc"], spine["installation_id"],
             json.dumps(doc, ensure_ascii=False, sort_keys=True), self.bundle_id, clock.now_iso()))
        self.stats.conflicts += 1

    def _layer(self, record_id: str) -> tuple[tuple[str, str], dict[str, Any]] | None:
        r = self.db.one("SELECT hlc, installation_id, data FROM sync_layers WHERE record_id = ?", (record_id,))
        return None if r is None else ((r[0], r[1]), json.loads(r[2]))

    def _update_layer(self, form: Form, v: Version) -> bool:
        current = self._layer(v.id)
        if current is not None and current[0] >= v.stamp:
            return False
        data = restrict(form, canonical(form, v.values), layer_fields(form), drop_empty=False)
        self.db.execute("INSERT OR REPLACE INTO sync_layers(record_id, tbl, hlc, installation_id, data) "
                        "VALUES (?,?,?,?,?)", (v.id, form.table_spec.name, v.spine["hlc"], v.spine["installation_id"],
                                               json.dumps(data, ensure_ascii=False, sort_keys=True)))
        return True

    def _base(self, form: Form, row: dict[str, Any], own: bool) -> dict[str, Any]:
        """What fills the fields a winning version does not carry."""
        if own:
            return form.from_row(row, self.writer.children(form.table_spec, row["rid"]))
        base = empty_values(form)
        layer = self._layer(row["id"])
        if layer is not None:
            base = compose(form, layer[1], layer_fields(form), base)
        return base

    def _apply(self, form: Form, row: dict[str, Any], content: Mapping[str, Any], keep: Carried,
               spine: dict[str, Any], profile: str, own: bool) -> None:
        if spine["deleted"]:
            values = (form.from_row(row, self.writer.children(form.table_spec, row["rid"])) if own
                      else empty_values(form))
        else:
            values = compose(form, content, keep, self._base(form, row, own))
        self._write(form, row, values, spine, "merge")
        self.db.execute(
            "INSERT INTO sync_provenance(record_id, tbl, origin_installation, origin_agency, origin_bundle, first_via, "
            "last_via, profile) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(record_id) DO UPDATE SET "
            "last_via = excluded.last_via, profile = excluded.profile",
            (row["id"], form.table_spec.name, self.sender.installation_id, self.sender.agency_id, self.bundle_id,
             self.sender.installation_id, self.sender.installation_id, profile))
        self.stats.updated += 1

    def _rewrite_from_layer(self, form: Form, row: dict[str, Any]) -> None:
        """A newer referral arrived but an observatory version still wins: refresh the fields the layer fills."""
        own_doc = self._row_doc(form, row, own=False)
        values = compose(form, {**empty_values(form), **own_doc["values"]}, carried(form, OBSERVATORY),
                         self._base(form, row, own=False))
        spine = {k: row[k] for k in TRAVELLING}
        self._write(form, row, values, spine, "merge")

    def _write(self, form: Form, row: dict[str, Any], values: dict[str, Any], spine: dict[str, Any],
               action: str) -> None:
        write_version(self.writer, form, row, values, spine, action, f"bundle {self.bundle_id}")


def write_version(writer, form: Form, row: dict[str, Any], values: dict[str, Any], spine: dict[str, Any],
                  action: str, reason: str | None) -> None:
    """The row takes a version with its own spine: history kept, columns, repeat groups, search text, and a new
    local change sequence (so it travels onward in the next incremental bundle)."""
    spec = form.table_spec
    db = writer.db
    change = form.to_change(values)
    vclock = spine["vclock"] if isinstance(spine["vclock"], str) else vclock_text(spine["vclock"])
    db.execute(
        "INSERT INTO revisions(tbl, record_id, revision, hlc, installation_id, action, changed_by, changed_at, "
        "previous, reason) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (spec.name, row["id"], spine["revision"], spine["hlc"], spine["installation_id"], action,
         spine["updated_by"], spine["updated_at"], writer._snapshot(spec, row), reason))
    data = {**{c: change.values.get(c) for c in spec.column_names},
            "installation_id": spine["installation_id"], "hlc": spine["hlc"], "vclock": vclock,
            "revision": spine["revision"], "created_by": spine["created_by"], "created_at": spine["created_at"],
            "updated_by": spine["updated_by"], "updated_at": spine["updated_at"],
            "deleted": int(bool(spine["deleted"])), "deleted_reason": spine["deleted_reason"],
            "change_seq": writer.next_change_seq()}
    sets = ", ".join(f'"{k}" = ?' for k in data)
    db.execute(f'UPDATE "{spec.name}" SET {sets} WHERE rid = ?', (*data.values(), row["rid"]))
    writer._write_children(spec, row["rid"], change.children)
    writer._write_fts(spec, row["rid"], change.fts, deleted=bool(spine["deleted"]))

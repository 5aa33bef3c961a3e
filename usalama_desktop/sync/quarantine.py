"""After a key is revoked: list the records that came in bundles it signed, and quarantine them (moved out of the
record tables, so no list, report or bundle sees them, but kept encrypted to be released or erased later). The admin
can also reset the sequence record of a revoked sender (THREATS 18, 23, 24)."""

from __future__ import annotations

import json
from typing import Any

from .. import clock
from ..errors import NotFound, UsalamaError
from ..forms import registry
from ..forms.definition import Form
from ..i18n import _
from ..permissions import require
from ..store import search_index
from .keys import Peer


def _form_of(table: str) -> Form | None:
    for form in registry.forms().values():
        if form.table_spec.name == table:
            return form
    return None


def records_from(session, peer: Peer) -> list[dict[str, Any]]:
    """Records first brought, last changed, or originally signed by this key's installation."""
    require(session.actor, "sync", "keys")
    inst = peer.installation_id
    rows = session.db.query(
        "SELECT record_id, tbl, origin_installation, first_via, last_via FROM sync_provenance WHERE "
        "origin_installation = ? OR first_via = ? OR last_via = ? ORDER BY tbl, record_id", (inst, inst, inst))
    out = []
    for r in rows:
        form = _form_of(r[1])
        if form is None:
            continue
        live = session.db.one(f'SELECT agency_id, updated_at, deleted FROM "{form.table_spec.name}" WHERE id = ?',
                              (r[0],))
        if live is None:
            continue
        out.append({"record_id": r[0], "form": form.name, "agency": session.agency_name(live[0]),
                    "updated_at": live[1], "deleted": bool(live[2]), "origin": r[2] == inst,
                    "first_brought": r[3] == inst, "last_changed": r[4] == inst})
    return out


def quarantine(session, peer: Peer, reason: str) -> int:
    require(session.actor, "sync", "keys")
    if not peer.revoked:
        raise UsalamaError(_("Revoke the card first: only records from a revoked key are quarantined."))
    records = records_from(session, peer)
    db = session.db
    writer = session.writer
    now = clock.now_iso()
    with db.transaction():
        for rec in records:
            form = registry.forms()[rec["form"]]
            spec = form.table_spec
            row = writer.row(spec, rec["record_id"])
            data = {"row": {k: v for k, v in row.items() if k != "rid"},
                    "children": writer.children(spec, row["rid"])}
            db.execute("INSERT OR REPLACE INTO sync_quarantine(record_id, tbl, data, key_id, reason, at, by) "
                       "VALUES (?,?,?,?,?,?,?)", (rec["record_id"], spec.name, json.dumps(data, ensure_ascii=False),
                                                  peer.key_id, reason[:300], now, session.username))
            search_index.drop(db, spec, [row["rid"]])
            for child in spec.children:
                db.execute(f'DELETE FROM "{spec.child_table(child.name)}" WHERE parent_rid = ?', (row["rid"],))
            db.execute(f'DELETE FROM "{spec.name}" WHERE rid = ?', (row["rid"],))
        session.audit("keys.quarantine", "sync", peer.installation_id, {"key_id": peer.key_id,
                                                                       "records": len(records)})
    return len(records)


def quarantined(session) -> list[dict[str, Any]]:
    require(session.actor, "sync", "keys")
    return [{"record_id": r[0], "table": r[1], "key_id": r[2], "reason": r[3], "at": r[4], "by": r[5]}
            for r in session.db.query("SELECT record_id, tbl, key_id, reason, at, by FROM sync_quarantine "
                                      "ORDER BY at, record_id")]


def release(session, record_id: str) -> None:
    """Put a quarantined record back, as it was, with a new local change sequence."""
    require(session.actor, "sync", "keys")
    db = session.db
    row = db.one("SELECT tbl, data FROM sync_quarantine WHERE record_id = ?", (record_id,))
    if row is None:
        raise NotFound(_("That record is not in quarantine."))
    form = _form_of(row[0])
    if form is None:
        raise NotFound(_("That record's form no longer exists."))
    data = json.loads(row[1])
    spec = form.table_spec
    values = form.from_row(data["row"], data["children"])
    change = form.to_change(values)
    writer = session.writer
    with db.transaction():
        cols = {**data["row"], **change.values, "change_seq": writer.next_change_seq()}
        names = ", ".join(f'"{k}"' for k in cols)
        cur = db.execute(f'INSERT INTO "{spec.name}" ({names}) VALUES ({", ".join("?" * len(cols))})',
                         tuple(cols.values()))
        writer._write_children(spec, cur.lastrowid, change.children)
        writer._write_fts(spec, cur.lastrowid, change.fts, deleted=bool(cols["deleted"]))
        db.execute("DELETE FROM sync_quarantine WHERE record_id = ?", (record_id,))
        session.audit("keys.release", "sync", record_id, {"form": form.name})


def reset_sequence(session, peer: Peer) -> int:
    """Forget the sequence numbers seen from a revoked key (a stolen key may have pushed them far ahead), so the
    agency's bundles signed with its new key are not flagged. Bundle ids stay known: replays are still caught."""
    session.require_admin()
    if not peer.revoked:
        raise UsalamaError(_("Revoke the card first: the sequence record is reset only after revoking its key."))
    with session.db.transaction():
        n = session.db.execute("UPDATE sync_incoming SET superseded = 1 WHERE sender = ? AND key_id = ? AND "
                               "superseded = 0", (peer.installation_id, peer.key_id)).rowcount
        session.audit("keys.reset_sequence", "sync", peer.installation_id, {"key_id": peer.key_id, "bundles": n})
    return n

"""Append-only, hash-chained audit trail.

Each entry's hash covers its own fields and the previous entry's hash, so editing, deleting or reordering any entry
breaks the chain at that entry. Details carry ids, counts and names of things, never record values.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from .. import clock
from .db import Database

GENESIS = "0" * 64


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)  # built once: imports
# write an entry per record, and making an encoder per call cost as much as the encoding


def canonical(obj) -> str:
    return _CANONICAL.encode(obj)


def entry_hash(prev_hash: str, seq: int, at: str, username: str, action: str, module: str, target: str,
               detail: str) -> str:
    payload = canonical([seq, at, username, action, module, target, detail, prev_hash])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _head(db: Database) -> tuple[int, str]:
    row = db.one("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
    return (0, GENESIS) if row is None else (int(row[0]), str(row[1]))


def append(db: Database, username: str, action: str, module: str = "", target: str = "",
           detail: dict | None = None, at: str | None = None) -> int:
    return append_many(db, [(username, action, module, target, detail or {}, at)])


def append_many(db: Database, entries: Iterable[tuple[str, str, str, str, dict, str | None]]) -> int:
    """Append entries in order inside the caller's transaction (or a new one). Returns the last seq."""
    with db.transaction():
        seq, prev = _head(db)
        rows = []
        for username, action, module, target, detail, at in entries:
            seq += 1
            at = at or clock.now_iso()
            detail_text = canonical(detail or {})
            h = entry_hash(prev, seq, at, username, action, module, target, detail_text)
            rows.append((seq, at, username, action, module, target, detail_text, prev, h))
            prev = h
        if rows:
            db.executemany(
                "INSERT INTO audit(seq, at, username, action, module, target, detail, prev_hash, hash) "
                "VALUES (?,?,?,?,?,?,?,?,?)",
                rows,
            )
        return seq


@dataclass
class ChainReport:
    ok: bool
    entries: int
    first_bad: int | None = None
    problem: str = ""
    head: str = GENESIS


def verify(db: Database, expected_head: tuple[int, str] | None = None) -> ChainReport:
    """Walk the chain; name the first entry that was edited, deleted or reordered."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    for row in db.execute(
        "SELECT seq, at, username, action, module, target, detail, prev_hash, hash FROM audit ORDER BY rowid"
    ):
        seq, at, username, action, module, target, detail, prev_hash, h = row
        count += 1
        if seq != expected_seq:
            if seq > expected_seq:
                return ChainReport(False, count, expected_seq,
                                   f"entry {expected_seq} is missing (deleted); the next one is {seq}", prev)
            return ChainReport(False, count, seq, f"entry {seq} is out of order", prev)
        if prev_hash != prev:
            return ChainReport(False, count, seq, f"entry {seq} does not follow entry {seq - 1} (reordered or edited)",
                               prev)
        if entry_hash(prev_hash, seq, at, username, action, module, target, detail) != h:
            return ChainReport(False, count, seq, f"entry {seq} was edited", prev)
        prev = h
        expected_seq += 1
    if expected_head is not None:
        head_seq, head_hash = expected_head
        if count < head_seq:
            return ChainReport(False, count, count + 1,
                               f"the trail was cut short: {head_seq - count} entries after entry {count} are missing",
                               prev)
        if head_seq and db.scalar("SELECT hash FROM audit WHERE seq = ?", (head_seq,)) != head_hash:
            return ChainReport(False, count, head_seq, f"entry {head_seq} differs from the last checkpoint", prev)
    return ChainReport(True, count, None, "", prev)

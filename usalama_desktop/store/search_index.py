"""The search index of a record table, written by our own code rather than by triggers.

Each record's search text lives in ``<table>_search`` (one column per tier) and is indexed by the FTS5 table
``<table>_search_fts`` (external content). With SQLCipher's memory security on, SQLite triggers that feed FTS5 ran
about 25 times slower than inserting the same rows into FTS5 directly (every allocation is locked and wiped), so
the writes are done here, in batches, by the only code that changes records. Deleting passes the old text back to
FTS5 with secure-delete on, so a record's words leave the index at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .db import Database
from .spine import TableSpec

Row = tuple[int, str, str, str]  # rid, public, identifying, narrative
_CHUNK = 500


def put(db: Database, spec: TableSpec, rows: Sequence[Row], replace: bool = True) -> None:
    """Index these records, replacing what was indexed for them (``replace=False`` for brand-new rows)."""
    if not spec.fts or not rows:
        return
    if replace:
        drop(db, spec, [r[0] for r in rows])
    db.executemany(f'INSERT INTO "{spec.search_table}"(rid, public, identifying, narrative) VALUES (?,?,?,?)', rows)
    db.executemany(f'INSERT INTO "{spec.fts_table}"(rowid, public, identifying, narrative) VALUES (?,?,?,?)', rows)


def drop(db: Database, spec: TableSpec, rids: Iterable[int]) -> None:
    """Take these records out of the index (their words and their search text)."""
    if not spec.fts:
        return
    rids = list(rids)
    fts = spec.fts_table
    for start in range(0, len(rids), _CHUNK):
        chunk = rids[start:start + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        old = db.query(f'SELECT rid, public, identifying, narrative FROM "{spec.search_table}" WHERE rid IN ({marks})',
                       chunk)
        if old:
            db.executemany(f'INSERT INTO "{fts}"("{fts}", rowid, public, identifying, narrative) '
                           "VALUES ('delete', ?, ?, ?, ?)", [tuple(r) for r in old])
            db.execute(f'DELETE FROM "{spec.search_table}" WHERE rid IN ({marks})', chunk)


def row(rid: int, fts: dict[str, str] | None) -> Row:
    fts = fts or {}
    return (rid, fts.get("public", ""), fts.get("identifying", ""), fts.get("narrative", ""))

"""Versioned schema: numbered migrations for the core tables, and record tables kept in step with the forms.

Each migration runs in one transaction. Record tables follow their form definitions: a new field adds a column
(sqlite-utils does the ALTER), recorded by a fingerprint in ``meta`` so the app knows when to run it. A database
from a newer version of the program is refused rather than guessed at.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable

from ..errors import DatabaseTooNew
from ..i18n import _
from .db import Database
from .spine import CHILD_SPINE, SPINE_COLUMNS, TableSpec


def _m1_core(db: Database) -> None:
    db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute(
        """CREATE TABLE agencies (
            id TEXT PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL, county TEXT, subcounty TEXT, ward TEXT,
            is_local INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL)"""
    )
    db.execute(
        """CREATE TABLE users (
            id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE, display_name TEXT NOT NULL DEFAULT '',
            role TEXT NOT NULL, agency_id TEXT NOT NULL REFERENCES agencies(id), disabled INTEGER NOT NULL DEFAULT 0,
            must_change_password INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, created_by TEXT NOT NULL,
            updated_at TEXT NOT NULL, last_login_at TEXT)"""
    )
    db.execute("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute(
        """CREATE TABLE audit (
            seq INTEGER PRIMARY KEY, at TEXT NOT NULL, username TEXT NOT NULL, action TEXT NOT NULL,
            module TEXT NOT NULL DEFAULT '', target TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '{}',
            prev_hash TEXT NOT NULL, hash TEXT NOT NULL)"""
    )
    db.execute("CREATE INDEX audit_action ON audit(action, seq)")
    db.execute("CREATE INDEX audit_user ON audit(username, seq)")
    db.execute(
        """CREATE TABLE revisions (
            id INTEGER PRIMARY KEY, tbl TEXT NOT NULL, record_id TEXT NOT NULL, revision INTEGER NOT NULL,
            hlc TEXT NOT NULL, installation_id TEXT NOT NULL, action TEXT NOT NULL, changed_by TEXT NOT NULL,
            changed_at TEXT NOT NULL, previous TEXT, reason TEXT)"""
    )
    db.execute("CREATE INDEX revisions_record ON revisions(record_id, id)")
    db.execute(
        """CREATE TABLE drafts (
            id TEXT PRIMARY KEY, username TEXT NOT NULL, form TEXT NOT NULL, record_id TEXT,
            data TEXT NOT NULL, updated_at TEXT NOT NULL)"""
    )
    db.execute("CREATE INDEX drafts_user ON drafts(username, form)")


def _m2_imports(db: Database) -> None:
    """Spreadsheet imports: saved column mappings, and the key each imported row was seen under (so importing the
    same file again changes nothing, even for rows with no reference number)."""
    db.execute(
        """CREATE TABLE import_keys (
            form TEXT NOT NULL, agency_id TEXT NOT NULL, key TEXT NOT NULL, record_id TEXT NOT NULL,
            content_hash TEXT NOT NULL, PRIMARY KEY (form, agency_id, key)) WITHOUT ROWID"""
    )
    db.execute(
        """CREATE TABLE mappings (
            name TEXT PRIMARY KEY, form TEXT NOT NULL, data TEXT NOT NULL, updated_by TEXT NOT NULL,
            updated_at TEXT NOT NULL)"""
    )


def _m3_sync(db: Database) -> None:
    """Exchange bundles: this installation's keys, enrolled agency cards, per-recipient sequences and watermarks,
    bundles sent and received, conflicts kept for review, provenance and quarantine (see usalama_desktop/sync)."""
    from ..sync.keys import create_identity

    db.execute(
        """CREATE TABLE sync_identity (
            id INTEGER PRIMARY KEY CHECK (id = 1), sign_seed TEXT NOT NULL, sign_key_id TEXT NOT NULL,
            age_identity TEXT NOT NULL, created_at TEXT NOT NULL)"""
    )
    db.execute(
        """CREATE TABLE sync_peers (
            key_id TEXT PRIMARY KEY, installation_id TEXT NOT NULL, agency_id TEXT NOT NULL, agency_name TEXT NOT NULL,
            agency_type TEXT NOT NULL, county TEXT NOT NULL DEFAULT '', sign_public TEXT NOT NULL,
            age_recipient TEXT NOT NULL, fingerprint TEXT NOT NULL, relay INTEGER NOT NULL DEFAULT 0,
            card TEXT NOT NULL, enrolled_at TEXT NOT NULL, enrolled_by TEXT NOT NULL, revoked_at TEXT,
            revoked_by TEXT, revoke_reason TEXT)"""
    )
    db.execute("CREATE UNIQUE INDEX sync_peers_active ON sync_peers(installation_id) WHERE revoked_at IS NULL")
    db.execute(
        """CREATE TABLE sync_channels (
            recipient TEXT PRIMARY KEY, next_seq INTEGER NOT NULL, last_bundle_id TEXT,
            skipped TEXT NOT NULL DEFAULT '[]')"""
    )
    db.execute(
        """CREATE TABLE sync_watermarks (
            recipient TEXT NOT NULL, profile TEXT NOT NULL, form TEXT NOT NULL, change_seq INTEGER NOT NULL,
            PRIMARY KEY (recipient, profile, form)) WITHOUT ROWID"""
    )
    db.execute(
        """CREATE TABLE sync_outgoing (
            bundle_id TEXT PRIMARY KEY, recipient TEXT NOT NULL, seq INTEGER NOT NULL, profile TEXT NOT NULL,
            full INTEGER NOT NULL, status TEXT NOT NULL, file_name TEXT NOT NULL DEFAULT '',
            records INTEGER NOT NULL DEFAULT 0, tombstones INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL, created_by TEXT NOT NULL, manifest_sha256 TEXT NOT NULL DEFAULT '')"""
    )
    db.execute("CREATE INDEX sync_outgoing_recipient ON sync_outgoing(recipient, seq)")
    db.execute(
        """CREATE TABLE sync_incoming (
            bundle_id TEXT PRIMARY KEY, sender TEXT NOT NULL, sender_agency TEXT NOT NULL, key_id TEXT NOT NULL,
            seq INTEGER NOT NULL, previous TEXT, skipped TEXT NOT NULL DEFAULT '[]', created_at TEXT NOT NULL,
            profile TEXT NOT NULL, records INTEGER NOT NULL, applied INTEGER NOT NULL, conflicts INTEGER NOT NULL,
            audit_seq INTEGER, audit_hash TEXT, imported_at TEXT NOT NULL, imported_by TEXT NOT NULL,
            superseded INTEGER NOT NULL DEFAULT 0, manifest_sha256 TEXT NOT NULL)"""
    )
    db.execute("CREATE INDEX sync_incoming_sender ON sync_incoming(sender, seq)")
    db.execute(
        """CREATE TABLE sync_conflicts (
            id INTEGER PRIMARY KEY, tbl TEXT NOT NULL, record_id TEXT NOT NULL, hlc TEXT NOT NULL,
            installation_id TEXT NOT NULL, version TEXT NOT NULL, status TEXT NOT NULL, bundle_id TEXT NOT NULL,
            detected_at TEXT NOT NULL, resolved_at TEXT, resolved_by TEXT, resolution TEXT)"""
    )
    db.execute("CREATE INDEX sync_conflicts_record ON sync_conflicts(record_id, status)")
    db.execute(
        """CREATE TABLE sync_provenance (
            record_id TEXT PRIMARY KEY, tbl TEXT NOT NULL, origin_installation TEXT NOT NULL,
            origin_agency TEXT NOT NULL, origin_bundle TEXT NOT NULL, first_via TEXT NOT NULL,
            last_via TEXT NOT NULL, profile TEXT NOT NULL) WITHOUT ROWID"""
    )
    db.execute("CREATE INDEX sync_provenance_via ON sync_provenance(last_via)")
    db.execute(
        """CREATE TABLE sync_layers (
            record_id TEXT PRIMARY KEY, tbl TEXT NOT NULL, hlc TEXT NOT NULL, installation_id TEXT NOT NULL,
            data TEXT NOT NULL) WITHOUT ROWID"""
    )
    db.execute(
        """CREATE TABLE sync_quarantine (
            record_id TEXT PRIMARY KEY, tbl TEXT NOT NULL, data TEXT NOT NULL, key_id TEXT NOT NULL,
            reason TEXT NOT NULL, at TEXT NOT NULL, by TEXT NOT NULL) WITHOUT ROWID"""
    )
    create_identity(db)


def _m4_search_without_triggers(db: Database) -> None:
    """The search index is now written by store/search_index.py: drop the triggers sqlite-utils made (they fed
    FTS5 ~25x slower than direct inserts under SQLCipher's memory security, and would now index twice)."""
    for (name,) in db.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%\\_search' "
                            "ESCAPE '\\'"):
        for suffix in ("ai", "ad", "au"):
            db.execute(f'DROP TRIGGER IF EXISTS "{name}_{suffix}"')


def _m5_bundle_summary(db: Database) -> None:
    """What each bundle carried, per form (counts and the kinds of field, never values): the breach report for a
    lost USB stick reads it."""
    if "summary" not in {r[1] for r in db.query("PRAGMA table_info(sync_outgoing)")}:
        db.execute("ALTER TABLE sync_outgoing ADD COLUMN summary TEXT")


# Append only; never edit a migration that has shipped.
MIGRATIONS: list[Callable[[Database], None]] = [_m1_core, _m2_imports, _m3_sync, _m4_search_without_triggers,
                                                _m5_bundle_summary]
SCHEMA_VERSION = len(MIGRATIONS)


def get_meta(db: Database, key: str, default: str | None = None) -> str | None:
    try:
        value = db.scalar("SELECT value FROM meta WHERE key = ?", (key,))
    except Exception:
        return default
    return default if value is None else value


def set_meta(db: Database, key: str, value: object) -> None:
    db.execute(
        "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, str(value)),
    )


def schema_version(db: Database) -> int:
    has_meta = db.scalar("SELECT count(*) FROM sqlite_master WHERE type='table' AND name='meta'")
    if not has_meta:
        return 0
    return int(get_meta(db, "schema_version", "0") or 0)


def tables_fingerprint(specs: Iterable[TableSpec]) -> str:
    shape = [
        [s.name, [(c.name, c.sqltype) for c in s.columns], [[ch.name, [(c.name, c.sqltype) for c in ch.columns]]
                                                            for ch in s.children], list(s.indexes), s.fts]
        for s in sorted(specs, key=lambda s: s.name)
    ]
    return hashlib.sha256(json.dumps(shape).encode()).hexdigest()


def pending_work(db: Database, specs: Iterable[TableSpec]) -> bool:
    version = schema_version(db)
    if version > SCHEMA_VERSION:
        raise DatabaseTooNew(
            _("This database was made by a newer version of Usalama Desktop. Install that version or a newer one.")
        )
    return version < SCHEMA_VERSION or get_meta(db, "tables_fingerprint") != tables_fingerprint(specs)


def migrate(db: Database, specs: list[TableSpec], app_version: str) -> list[int]:
    """Bring the database up to date: each numbered migration in its own transaction, then the record tables."""
    done = []
    version = schema_version(db)
    if version > SCHEMA_VERSION:
        raise DatabaseTooNew(
            _("This database was made by a newer version of Usalama Desktop. Install that version or a newer one.")
        )
    for number in range(version + 1, SCHEMA_VERSION + 1):
        with db.transaction():
            MIGRATIONS[number - 1](db)
            set_meta(db, "schema_version", number)
            set_meta(db, "app_version", app_version)
        done.append(number)
    fingerprint = tables_fingerprint(specs)
    if get_meta(db, "tables_fingerprint") != fingerprint:
        with db.transaction():
            for spec in specs:
                ensure_record_table(db, spec)
            set_meta(db, "tables_fingerprint", fingerprint)
    return done


_PY_TYPES = {"TEXT": str, "INTEGER": int, "REAL": float}


def _create_or_grow(db: Database, name: str, spine: list[tuple[str, str]], columns, tail: str = "") -> bool:
    """Create the table (spine first, then the form's columns), or add the columns a newer definition declares.
    Returns whether it was created."""
    table = db.utils[name]
    if table.exists():
        existing = set(table.columns_dict)
        for c in columns:
            if c.name not in existing:
                table.add_column(c.name, _PY_TYPES[c.sqltype])
        return False
    cols = ",\n".join(f'"{n}" {t}' for n, t in spine)
    cols += "".join(f',\n"{c.name}" {c.sqltype}' for c in columns)
    db.execute(f'CREATE TABLE "{name}" ({cols}{tail})')
    return True


def ensure_record_table(db: Database, spec: TableSpec) -> None:
    """Create the table with the spine and the form's columns, or add columns a newer definition declares."""
    u = db.utils
    _create_or_grow(db, spec.name, SPINE_COLUMNS, spec.columns)
    db.execute(f'CREATE INDEX IF NOT EXISTS "{spec.name}_seq" ON "{spec.name}"(change_seq)')
    db.execute(f'CREATE INDEX IF NOT EXISTS "{spec.name}_agency" ON "{spec.name}"(agency_id, deleted)')
    for index in spec.indexes:
        name = f"{spec.name}_ix_" + "_".join(index)
        cols = ", ".join(f'"{c}"' for c in index)
        db.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{spec.name}"({cols})')
    for child in spec.children:
        name = spec.child_table(child.name)
        fk = f',\nFOREIGN KEY(parent_rid) REFERENCES "{spec.name}"(rid) ON DELETE CASCADE'
        if _create_or_grow(db, name, CHILD_SPINE, child.columns, fk):
            db.execute(f'CREATE INDEX "{name}_parent" ON "{name}"(parent_rid, idx)')
    if spec.fts and not u[spec.search_table].exists():
        # sqlite-utils builds the external-content FTS5 index and its triggers. With FTS5 secure-delete on, a
        # deleted or erased record's words leave the index at once instead of lingering in old segments
        # (a contentless index cannot do that: it never knows which words to remove).
        u[spec.search_table].create({"rid": int, "public": str, "identifying": str, "narrative": str}, pk="rid")
        # No triggers: store/search_index.py keeps the index in step (triggers are ~25x slower under SQLCipher's
        # memory security).
        u[spec.search_table].enable_fts(["public", "identifying", "narrative"], create_triggers=False,
                                        tokenize="unicode61 remove_diacritics 2")
        db.execute(f"INSERT INTO \"{spec.fts_table}\"(\"{spec.fts_table}\", rank) VALUES('secure-delete', 1)")

"""The spine every record table shares, defined once, and the table specs the form engine hands to the store."""

from __future__ import annotations

from dataclasses import dataclass, field

# (column, SQL type and constraints). ``rid`` is the table's stable integer rowid, used by FTS and keyset paging.
SPINE_COLUMNS: list[tuple[str, str]] = [
    ("rid", "INTEGER PRIMARY KEY"),
    ("id", "TEXT NOT NULL UNIQUE"),  # UUIDv7, the record's identity everywhere
    ("agency_id", "TEXT NOT NULL"),  # the agency the record belongs to
    ("installation_id", "TEXT NOT NULL"),  # the installation (device) that wrote this version
    ("hlc", "TEXT NOT NULL"),  # hybrid logical clock stamp of the last change
    ("vclock", "TEXT NOT NULL"),  # {installation: edits} to tell a later edit from a concurrent one
    ("revision", "INTEGER NOT NULL"),
    ("created_by", "TEXT NOT NULL"),
    ("created_at", "TEXT NOT NULL"),
    ("updated_by", "TEXT NOT NULL"),
    ("updated_at", "TEXT NOT NULL"),
    ("deleted", "INTEGER NOT NULL DEFAULT 0"),  # tombstone
    ("deleted_reason", "TEXT"),
    ("change_seq", "INTEGER NOT NULL"),  # local change sequence, read by bundle export
]
SPINE_NAMES = [name for name, _ in SPINE_COLUMNS]
# Spine columns that travel with a version of a record (the rest are local bookkeeping).
TRAVELLING_SPINE = [
    "id", "agency_id", "installation_id", "hlc", "vclock", "revision",
    "created_by", "created_at", "updated_by", "updated_at", "deleted", "deleted_reason",
]
CHILD_SPINE: list[tuple[str, str]] = [
    ("rid", "INTEGER PRIMARY KEY"),
    ("parent_rid", "INTEGER NOT NULL"),
    ("idx", "INTEGER NOT NULL"),
]
# "A live record" in a lookup by id or by reference number. The unary plus keeps SQLite's planner off the
# (agency_id, deleted) index, which matches every live record of the agency: with it, each lookup of 500 ids or
# numbers read all of them (without statistics the planner rates it as good as the index on what is looked up).
LIVE = "+deleted = 0"

FTS_TIERS = ("public", "identifying", "narrative")


@dataclass(frozen=True)
class Column:
    name: str
    sqltype: str  # TEXT, INTEGER or REAL


@dataclass(frozen=True)
class ChildTable:
    name: str  # the repeat group's name; the SQL table is <parent>__<name>
    columns: tuple[Column, ...]


@dataclass(frozen=True)
class TableSpec:
    name: str
    module: str
    columns: tuple[Column, ...]
    children: tuple[ChildTable, ...] = ()
    indexes: tuple[tuple[str, ...], ...] = ()
    fts: bool = True
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def child_table(self, child: str) -> str:
        return f"{self.name}__{child}"

    @property
    def search_table(self) -> str:
        """Search text per record, one column per tier; the FTS index is kept in step by triggers."""
        return f"{self.name}_search"

    @property
    def fts_table(self) -> str:
        return f"{self.name}_search_fts"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

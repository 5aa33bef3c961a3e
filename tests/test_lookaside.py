"""The larger lookaside pool (store/lookaside.py) is really in place on the store's connections, and a handle that
cannot be proved is left alone."""

from __future__ import annotations

import sqlcipher3

from usalama_desktop.store import lookaside
from usalama_desktop.store.db import open_connection

DEFAULT_SLOTS = 123  # SQLite's compiled-in pool: 30 slots of 1,200 bytes and 93 of 128


def test_store_connections_get_the_wider_pool(tmp_path):
    """A statement whose parse holds ~2,000 small allocations at once fits the pool on a store connection; SQLite's
    default pool tops out at 123 and sends the rest to the (locked, wiped) heap."""
    conn = open_connection(tmp_path / "x.db", b"\x01" * 32, create=True)
    try:
        conn.execute("CREATE TABLE t(a)")
        conn.execute("SELECT " + " + ".join(f"coalesce(a, {i})" for i in range(400)) + " FROM t").fetchall()
        used = lookaside.status(conn, lookaside.SQLITE_DBSTATUS_LOOKASIDE_USED)
        assert used is not None
        assert used[1] > DEFAULT_SLOTS, "the pool is still SQLite's default size"
        assert lookaside.status(conn, lookaside.SQLITE_DBSTATUS_LOOKASIDE_MISS_FULL) == (0, 0)
        assert conn.execute("PRAGMA cipher_memory_security").fetchone()[0] == "1"
    finally:
        conn.close()


def test_a_handle_naming_another_file_is_not_touched(tmp_path):
    other = sqlcipher3.connect(str(tmp_path / "other.db"))
    try:
        assert lookaside.widen(other, tmp_path / "x.db") is False
        assert lookaside.widen(other, tmp_path / "other.db") is True
    finally:
        other.close()

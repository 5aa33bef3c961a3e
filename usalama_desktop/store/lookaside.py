"""A larger lookaside pool for each connection, so SQLCipher's memory protection stays cheap on bulk work.

With ``cipher_memory_security`` on, every allocation SQLite takes from the C heap is locked into RAM with mlock and
wiped and unlocked with munlock when freed: two system calls and a memset each. SQLite serves most small, short-lived
allocations from a per-connection lookaside pool instead, but the compiled-in pool is 48 KB (30 slots of 1,200
bytes and 93 of 128): one insert into a table with a dozen indexes needs more than that, so every row of an import
paid ~50 locked allocations (bench/excel_import.py: 10,000 records took 8 s to write instead of 1 s).

The pool itself is one allocation made through SQLCipher's allocator when the connection opens, so it is locked
like the rest, never swapped out, and wiped when the connection closes, as the default pool is; only its size
changes. SQLite offers no pragma for it: ``sqlite3_db_config(SQLITE_DBCONFIG_LOOKASIDE)`` is called through ctypes
on the driver's own SQLite, before the connection has used the pool. Where that is not possible (a driver built
without exported symbols, a debug build of Python) the connection keeps the default pool: slower, never wrong.
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys

SLOT_BYTES = 1200  # SQLite's own slot size: larger allocations are rare and go to the heap either way
SLOTS = 1000  # 1.2 MB per connection: a 50,000-row import peaks near 300 slots in use
SQLITE_DBCONFIG_LOOKASIDE = 1001
SQLITE_DBSTATUS_LOOKASIDE_USED = 0
SQLITE_DBSTATUS_LOOKASIDE_MISS_FULL = 6


@functools.cache
def _library() -> ctypes.CDLL | None:
    """The SQLite inside the driver's extension module (already loaded: this only finds its symbols)."""
    if hasattr(sys, "gettotalrefcount"):  # a debug build of Python lays objects out differently
        return None
    try:
        from sqlcipher3 import _sqlite3

        lib = ctypes.CDLL(_sqlite3.__file__)
        lib.sqlite3_db_config.restype = ctypes.c_int
        lib.sqlite3_db_status.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_int),
                                          ctypes.POINTER(ctypes.c_int), ctypes.c_int]
        lib.sqlite3_db_status.restype = ctypes.c_int
        lib.sqlite3_db_filename.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        lib.sqlite3_db_filename.restype = ctypes.c_char_p
        return lib
    except (ImportError, OSError, AttributeError):
        return None


def _handle(conn) -> ctypes.c_void_p:
    """The ``sqlite3 *`` of a driver connection: the first field after the object header, as in every pysqlite."""
    return ctypes.c_void_p(ctypes.c_void_p.from_address(id(conn) + 2 * ctypes.sizeof(ctypes.c_void_p)).value)


def widen(conn, path: str | os.PathLike) -> bool:
    """Give a freshly opened connection to ``path`` the larger pool; False when it keeps SQLite's default.

    The handle is proved before use: SQLite must name the same file for it, so a driver laid out differently is
    left alone rather than handed a wrong pointer."""
    lib = _library()
    if lib is None or conn is None:
        return False
    handle = _handle(conn)
    try:
        named = lib.sqlite3_db_filename(handle, b"main")
    except OSError:
        return False
    if not named or os.path.realpath(os.fsdecode(named)) != os.path.realpath(path):
        return False
    rc = lib.sqlite3_db_config(handle, SQLITE_DBCONFIG_LOOKASIDE, None, ctypes.c_int(SLOT_BYTES),
                               ctypes.c_int(SLOTS))
    return rc == 0


def status(conn, op: int, reset: bool = False) -> tuple[int, int] | None:
    """``sqlite3_db_status`` (current, highest) for a lookaside counter, or None where it cannot be read."""
    lib = _library()
    if lib is None:
        return None
    current, highest = ctypes.c_int(), ctypes.c_int()
    if lib.sqlite3_db_status(_handle(conn), op, ctypes.byref(current), ctypes.byref(highest), int(reset)) != 0:
        return None
    return current.value, highest.value

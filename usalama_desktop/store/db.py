"""The SQLCipher 4 database: opened with a raw 256-bit key, checked and hardened at every open."""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import sqlcipher3

from ..errors import DatabaseClosed, DatabaseDamaged, NotInitialised, StorageError, WeakCipher
from ..i18n import _
from . import lookaside

EXPECTED_CIPHER_SETTINGS = [
    "PRAGMA kdf_iter = 256000;",
    "PRAGMA cipher_page_size = 4096;",
    "PRAGMA cipher_use_hmac = 1;",
    "PRAGMA cipher_plaintext_header_size = 0;",
    "PRAGMA cipher_hmac_algorithm = HMAC_SHA512;",
    "PRAGMA cipher_kdf_algorithm = PBKDF2_HMAC_SHA512;",
]

# Settings a weaker database might have been made with; tried only to explain a refusal.
_LEGACY_PROBES = [
    ["PRAGMA cipher_use_hmac = OFF"],
    ["PRAGMA cipher_compatibility = 3"],
    ["PRAGMA cipher_compatibility = 2"],
    ["PRAGMA cipher_compatibility = 1"],
    ["PRAGMA cipher_page_size = 1024"],
    ["PRAGMA cipher_plaintext_header_size = 32"],
]

CACHE_KIB = 262144  # pages are allocated only as used: small registers never reach it
# A bulk write gains nothing past 64 MiB of cache (SQLCipher then runs within ~10% of plain SQLite), and a big
# bundle import would otherwise fill all of CACHE_KIB: importing a million records is held under 200 MB.
BULK_CACHE_KIB = 65536
# SQLCipher's memory protection makes each allocation outside a connection's small lookaside pool cost two system
# calls (mlock, munlock). Cached prepared statements hold that pool: with Python's default of 128 cached
# statements, a GROUP BY of 40,000 groups took 2.6 s instead of 0.06 s once a session had run a few dozen
# different statements. A handful keeps the pool free (bench/dashboard.py).
STATEMENT_CACHE = 4
DatabaseError = sqlcipher3.DatabaseError
Row = sqlcipher3.Row

_DAMAGED = re.compile(r"not a database|malformed|corrupt|disk image", re.I)
_FULL = re.compile(r"disk is full|database or disk is full|no space", re.I)
_READONLY = re.compile(r"readonly|read-only|attempt to write", re.I)
_LOCKED = re.compile(r"database is locked|busy", re.I)


def damaged_message() -> str:
    return _("The database is damaged; restore the last backup.")


def translate_error(exc: BaseException) -> Exception | None:
    """Map a driver error caused by the environment onto a message the user can act on; None for our bugs."""
    if not isinstance(exc, sqlcipher3.DatabaseError):
        return None
    text = str(exc)
    if _FULL.search(text):
        return StorageError(_("The disk is full: nothing was saved. Free some space, then try again."))
    if _READONLY.search(text):
        return StorageError(_("The data folder cannot be written to. Check the disk, then try again."))
    if _LOCKED.search(text):
        return StorageError(_("The database is busy in another window or program. Close it, then try again."))
    if _DAMAGED.search(text):
        return DatabaseDamaged(damaged_message())
    if isinstance(exc, sqlcipher3.OperationalError) and "I/O" in text:
        return StorageError(_("The disk could not be read or written. Check the disk, then try again."))
    return None


@contextlib.contextmanager
def environment_errors() -> Iterator[None]:
    try:
        yield
    except sqlcipher3.DatabaseError as exc:
        mapped = translate_error(exc)
        if mapped is None:
            raise
        raise mapped from exc


def _key_pragma(key: bytes) -> str:
    return f"PRAGMA key = \"x'{key.hex()}'\""


def _connect(path: Path) -> sqlcipher3.Connection:
    conn = sqlcipher3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=5.0,
                              cached_statements=STATEMENT_CACHE)
    lookaside.widen(conn, path)  # before anything uses the pool: see store/lookaside.py
    # SQLCipher logs decryption failures to stderr by default; the level is process-wide.
    conn.execute("PRAGMA cipher_log_level = NONE")
    conn.execute("PRAGMA cipher_memory_security = ON")
    return conn


def _probe_legacy(path: Path, key: bytes) -> bool:
    for probe in _LEGACY_PROBES:
        conn = _connect(path)
        try:
            conn.execute(_key_pragma(key))
            for stmt in probe:
                conn.execute(stmt)
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return True
        except sqlcipher3.DatabaseError:
            continue
        finally:
            conn.close()
    return False


def open_connection(path: Path, key: bytes, *, create: bool = False) -> sqlcipher3.Connection:
    path = Path(path)
    if not create and not path.exists():
        raise NotInitialised(_("There is no Usalama database in this folder yet. Run the set-up first."))
    conn = _connect(path)
    try:
        conn.execute(_key_pragma(key))
        version = conn.execute("PRAGMA cipher_version").fetchone()
        if not version or not str(version[0]).startswith("4."):
            raise WeakCipher(_("This program was built without SQLCipher 4 and cannot protect the data."))
        settings = [r[0] for r in conn.execute("PRAGMA cipher_settings").fetchall()]
        if settings != EXPECTED_CIPHER_SETTINGS:
            raise WeakCipher(_("The encryption settings are weaker than SQLCipher 4's defaults; the database was refused."))
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlcipher3.DatabaseError as exc:
            conn.close()
            if _probe_legacy(path, key):
                raise WeakCipher(
                    _("This database uses weaker encryption than SQLCipher 4's defaults and was refused. "
                      "Restore a backup made by Usalama Desktop.")
                ) from exc
            raise DatabaseDamaged(damaged_message()) from exc
        mem = conn.execute("PRAGMA cipher_memory_security").fetchone()
        if not mem or str(mem[0]) != "1":
            raise WeakCipher(_("SQLCipher memory protection could not be switched on."))
        journal = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(journal).lower() != "wal":
            raise StorageError(_("The data folder does not support the safe journal mode. Move it to a local disk."))
        for pragma in (
            "PRAGMA synchronous = FULL",
            "PRAGMA foreign_keys = ON",
            "PRAGMA secure_delete = ON",
            "PRAGMA temp_store = MEMORY",
            "PRAGMA busy_timeout = 5000",
            f"PRAGMA cache_size = -{CACHE_KIB}",
            "PRAGMA trusted_schema = OFF",
            "PRAGMA cell_size_check = ON",
        ):
            conn.execute(pragma)
        conn.row_factory = sqlcipher3.Row
        return conn
    except BaseException:
        with contextlib.suppress(Exception):
            conn.close()
        raise


class Database:
    """One keyed connection, used by one thread at a time (the GUI's database worker or the command)."""

    def __init__(self, path: Path, key: bytes, *, create: bool = False):
        self.path = Path(path)
        with environment_errors():
            self.conn = open_connection(self.path, key, create=create)
        self._key = bytearray(key)
        self.lock = threading.RLock()
        self._depth = 0
        self._flat = False  # inside a transaction(savepoints=False)
        self._utils = None

    # --- plain access --------------------------------------------------------------------------------------

    def _open(self) -> sqlcipher3.Connection:
        conn = self.conn
        if conn is None:
            raise DatabaseClosed(_("The database is closed because the window was locked. Log in again."))
        return conn

    def execute(self, sql: str, params: Sequence[Any] | dict = ()) -> sqlcipher3.Cursor:
        with self.lock, environment_errors():
            return self._open().execute(sql, params)

    def executemany(self, sql: str, rows) -> sqlcipher3.Cursor:
        with self.lock, environment_errors():
            return self._open().executemany(sql, rows)

    def query(self, sql: str, params: Sequence[Any] | dict = ()) -> list[sqlcipher3.Row]:
        with self.lock, environment_errors():
            return self._open().execute(sql, params).fetchall()

    def one(self, sql: str, params: Sequence[Any] | dict = ()) -> sqlcipher3.Row | None:
        with self.lock, environment_errors():
            return self._open().execute(sql, params).fetchone()

    def tuples(self, sql: str, params: Sequence[Any] | dict = ()) -> tuple[list[str], list[tuple]]:
        """The column names once and the rows as plain tuples: for reads of many rows, where making a Row object
        of each costs more than reading it."""
        with self.lock, environment_errors():
            cur = self._open().cursor()
            cur.row_factory = None
            cur.execute(sql, params)
            return [d[0] for d in cur.description], cur.fetchall()

    def scalar(self, sql: str, params: Sequence[Any] | dict = ()) -> Any:
        row = self.one(sql, params)
        return None if row is None else row[0]

    @property
    def utils(self):
        """sqlite-utils over the same connection, for table definitions and small writes."""
        if self._utils is None:
            import sqlite_utils

            self._utils = sqlite_utils.Database(self.conn)
        return self._utils

    @contextlib.contextmanager
    def bulk_cache(self) -> Iterator[Database]:
        """The page cache held to BULK_CACHE_KIB while a bulk write runs (pages beyond it are released)."""
        self.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
        try:
            yield self
        finally:
            with contextlib.suppress(sqlcipher3.Error):
                self.execute(f"PRAGMA cache_size = -{CACHE_KIB}")

    # --- transactions ----------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self, savepoints: bool = True) -> Iterator[Database]:
        """BEGIN IMMEDIATE ... COMMIT; nested calls become savepoints. Errors roll back and propagate.

        ``savepoints=False`` is for bulk writes that are all or nothing (imports): calls nested inside join this
        transaction with no savepoint of their own. A savepoint makes SQLite keep the original of every page it
        changes in a statement journal, which under SQLCipher's memory protection cost a 50,000-row import 2.9 s
        of its 11 s write. Only for callers where any error inside ends the whole transaction."""
        with self.lock, environment_errors():
            self._open()
            if self._depth == 0:
                self.conn.execute("BEGIN IMMEDIATE")
                self._depth = 1
                self._flat = not savepoints
                try:
                    yield self
                except BaseException:
                    self._depth = 0
                    self._flat = False
                    with contextlib.suppress(sqlcipher3.DatabaseError):
                        self.conn.execute("ROLLBACK")
                    raise
                else:
                    try:
                        self.conn.execute("COMMIT")
                    except BaseException:
                        with contextlib.suppress(sqlcipher3.DatabaseError):
                            self.conn.execute("ROLLBACK")
                        raise
                    finally:
                        self._depth = 0
                        self._flat = False
            elif self._flat:
                self._depth += 1
                try:
                    yield self
                finally:
                    self._depth -= 1
            else:
                name = f"sp{self._depth}"
                self.conn.execute(f"SAVEPOINT {name}")
                self._depth += 1
                try:
                    yield self
                except BaseException:
                    # A full disk or an I/O error makes SQLite roll the whole transaction back by itself: then
                    # there is no savepoint left to return to, and the outer level finishes the rollback.
                    if self.conn.in_transaction:
                        self.conn.execute(f"ROLLBACK TO {name}")
                        self.conn.execute(f"RELEASE {name}")
                    raise
                else:
                    self.conn.execute(f"RELEASE {name}")
                finally:
                    self._depth -= 1

    @property
    def key(self) -> bytes:
        """The raw key, for wrapping into a new key slot or keying a backup copy."""
        if self.conn is None:
            raise StorageError(_("The database is closed."))
        return bytes(self._key)

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    # --- maintenance -----------------------------------------------------------------------------------------

    def checkpoint(self) -> None:
        with self.lock, environment_errors():
            self._open().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    def integrity_problems(self, quick: bool = False) -> list[str]:
        """SQLite's own check plus SQLCipher's HMAC check of every page; empty when healthy."""
        problems: list[str] = []
        with self.lock:
            try:
                problems += [str(r[0]) for r in self.conn.execute("PRAGMA cipher_integrity_check").fetchall()]
            except sqlcipher3.DatabaseError as exc:
                problems.append(str(exc))
            try:
                rows = self.conn.execute("PRAGMA quick_check" if quick else "PRAGMA integrity_check").fetchall()
                problems += [str(r[0]) for r in rows if str(r[0]) != "ok"]
            except sqlcipher3.DatabaseError as exc:
                problems.append(str(exc))
        return problems

    def backup_to(self, target: Path, progress=None) -> None:
        """Encrypted-to-encrypted online backup through SQLite's backup API, keyed with the same key."""
        dst = _connect(Path(target))
        try:
            dst.execute(_key_pragma(self.key))
            with self.lock, environment_errors():
                self.conn.backup(dst, pages=1024, progress=progress)
            dst.execute("PRAGMA journal_mode = DELETE")
        finally:
            dst.close()

    def close(self, checkpoint: bool = True) -> None:
        """Close, and zero the key. ``checkpoint=False`` for a second connection that only read: it leaves the
        write-ahead log to the connection that wrote it (a checkpoint would wait for that one's readers)."""
        if self.conn is None:
            return
        with self.lock:
            if checkpoint:
                with contextlib.suppress(sqlcipher3.DatabaseError):
                    self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            self.conn.close()
            self.conn = None
            self._utils = None
            for i in range(len(self._key)):
                self._key[i] = 0

    @property
    def closed(self) -> bool:
        return self.conn is None

"""Transactions: nested calls are savepoints, except inside an all-or-nothing bulk write (``savepoints=False``), where
they join the outer transaction and any error ends all of it."""

from __future__ import annotations

import contextlib
import os

import pytest

from usalama_desktop.store.db import Database


@pytest.fixture(name="db")
def db_fixture(tmp_path):
    db = Database(tmp_path / "t.db", os.urandom(32), create=True)
    db.execute("CREATE TABLE t(x)")
    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)
    db.statements = statements
    yield db
    db.close()


def _count(db) -> int:
    return int(db.scalar("SELECT count(*) FROM t"))


def test_nested_calls_are_savepoints_that_undo_only_their_own_writes(db):
    with db.transaction():
        db.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(ValueError), db.transaction():
            db.execute("INSERT INTO t VALUES (2)")
            raise ValueError
    assert _count(db) == 1
    assert any(s.startswith("SAVEPOINT") for s in db.statements)


def test_an_all_or_nothing_transaction_takes_no_savepoints_and_any_error_ends_it(db):
    with db.transaction(savepoints=False):
        db.execute("INSERT INTO t VALUES (1)")
        with db.transaction():
            db.execute("INSERT INTO t VALUES (2)")
            with db.transaction():
                db.execute("INSERT INTO t VALUES (3)")
    assert _count(db) == 3
    assert not any(s.startswith(("SAVEPOINT", "RELEASE")) for s in db.statements)

    with pytest.raises(ValueError), db.transaction(savepoints=False):
        db.execute("INSERT INTO t VALUES (4)")
        with db.transaction():
            db.execute("INSERT INTO t VALUES (5)")
            raise ValueError
    assert _count(db) == 3  # nothing of the failed transaction is left
    assert not db.in_transaction


@pytest.mark.parametrize("fails", [False, True])
def test_savepoints_come_back_after_an_all_or_nothing_transaction(db, fails):
    with pytest.raises(ValueError) if fails else contextlib.nullcontext(), db.transaction(savepoints=False):
        db.execute("INSERT INTO t VALUES (1)")
        if fails:
            raise ValueError
    db.statements.clear()
    with db.transaction():
        with pytest.raises(ValueError), db.transaction():
            db.execute("INSERT INTO t VALUES (2)")
            raise ValueError
        db.execute("INSERT INTO t VALUES (3)")
    assert any(s.startswith("SAVEPOINT") for s in db.statements)
    assert sorted(r[0] for r in db.query("SELECT x FROM t")) == ([3] if fails else [1, 3])

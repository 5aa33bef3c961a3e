"""The audit trail's hash chain, encrypted backups and restores, and versioned migrations."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import sqlcipher3

from usalama_desktop.errors import DatabaseTooNew, UsalamaError, WrongPassword
from usalama_desktop.services.auditing import AuditService
from usalama_desktop.services.backup import restore_backup, write_backup
from usalama_desktop.services.records import RecordService
from usalama_desktop.store import audit, schema
from usalama_desktop.store.keyslots import KeySlot, unseal

from .conftest import PASSWORD
from .test_store_encryption import incident


def _entries(s, n=12):
    for i in range(n):
        s.audit("test.event", "settings", f"t{i}", {"i": i})


def test_intact_chain_verifies(env):
    s = env.login()
    _entries(s)
    report = AuditService(s).verify()
    assert report.ok and report.entries >= 12


def test_edited_entry_is_named(env):
    s = env.login()
    _entries(s)
    seq = s.db.scalar("SELECT seq FROM audit WHERE target = 't5'")
    s.db.execute("UPDATE audit SET username = 'someone-else' WHERE seq = ?", (seq,))
    report = audit.verify(s.db)
    assert not report.ok and report.first_bad == seq and "edited" in report.problem


def test_edited_hash_is_caught_at_the_next_entry(env):
    s = env.login()
    _entries(s)
    seq = s.db.scalar("SELECT seq FROM audit WHERE target = 't5'")
    # Someone recomputes the edited entry's own hash: the next entry no longer follows it.
    row = s.db.one("SELECT * FROM audit WHERE seq = ?", (seq,))
    new_hash = audit.entry_hash(row["prev_hash"], seq, row["at"], "intruder", row["action"], row["module"],
                                row["target"], row["detail"])
    s.db.execute("UPDATE audit SET username = 'intruder', hash = ? WHERE seq = ?", (new_hash, seq))
    report = audit.verify(s.db)
    assert not report.ok and report.first_bad == seq + 1


def test_deleted_entry_is_named(env):
    s = env.login()
    _entries(s)
    seq = s.db.scalar("SELECT seq FROM audit WHERE target = 't3'")
    s.db.execute("DELETE FROM audit WHERE seq = ?", (seq,))
    report = audit.verify(s.db)
    assert not report.ok and report.first_bad == seq and "missing" in report.problem


def test_reordered_entries_are_named(env):
    s = env.login()
    _entries(s)
    a = s.db.scalar("SELECT seq FROM audit WHERE target = 't2'")
    b = s.db.scalar("SELECT seq FROM audit WHERE target = 't6'")
    ra = dict(s.db.one("SELECT * FROM audit WHERE seq = ?", (a,)))
    rb = dict(s.db.one("SELECT * FROM audit WHERE seq = ?", (b,)))
    cols = ["at", "username", "action", "module", "target", "detail", "prev_hash", "hash"]
    with s.db.transaction():
        s.db.execute(f"UPDATE audit SET {', '.join(c + ' = ?' for c in cols)} WHERE seq = ?",
                     [rb[c] for c in cols] + [a])
        s.db.execute(f"UPDATE audit SET {', '.join(c + ' = ?' for c in cols)} WHERE seq = ?",
                     [ra[c] for c in cols] + [b])
    report = audit.verify(s.db)
    assert not report.ok and report.first_bad == a


def test_truncation_is_caught_against_the_checkpoint(env):
    s = env.login()
    _entries(s)
    head_seq, head_hash = s.db.one("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
    schema.set_meta(s.db, "audit_checkpoint", f'{{"seq": {head_seq}, "hash": "{head_hash}"}}')
    s.db.execute("DELETE FROM audit WHERE seq > ?", (head_seq - 3,))
    report = AuditService(s).verify()
    assert not report.ok and "cut short" in report.problem


def test_audit_details_hold_no_record_values(env):
    s = env.login("clerk")
    svc = RecordService(s, "incident")
    rid = svc.create(incident(offence_subtype="SECRETVALUE", narrative="SECRETNARRATIVE"))
    svc.update(rid, {**svc.get(rid)["values"], "offence_subtype": "OTHERSECRET"})
    svc.delete(rid, "entered twice")
    text = " ".join(" ".join(map(str, r)) for r in s.db.query("SELECT * FROM audit"))
    for marker in ("SECRETVALUE", "SECRETNARRATIVE", "OTHERSECRET", "entered twice"):
        assert marker not in text
    actions = [r[0] for r in s.db.query("SELECT action FROM audit WHERE target = ?", (rid,))]
    assert actions == ["record.create", "record.update", "record.delete"]


def test_audit_list_is_for_admins(env):
    from usalama_desktop.errors import PermissionDenied

    clerk = env.login("clerk")
    with pytest.raises(PermissionDenied):
        AuditService(clerk).entries()
    admin = env.login("admin")
    rows = AuditService(admin).entries(action="login")
    assert rows and all(r["action"].startswith("login") for r in rows)


# --- backups ---------------------------------------------------------------------------------------------------


def test_backup_opens_with_the_same_accounts_and_passes_both_checks(env, tmp_path):
    s = env.login("clerk")
    svc = RecordService(s, "incident")
    rid = svc.create(incident())
    # A writer is active while the backup runs (the online backup API copes).
    out = write_backup(env.installation, s.db, tmp_path / "b.usalama-backup", "clerk")
    svc.create(incident(agency_ref="OB 2/2/2/2024"))
    with zipfile.ZipFile(out["path"]) as zf:
        names = set(zf.namelist())
        assert {"usalama.db", "backup.json", "keys/recovery.slot", "keys/users/admin.slot"} <= names
        (tmp_path / "x").mkdir()
        zf.extractall(tmp_path / "x")
    slot = KeySlot.from_json((tmp_path / "x" / "keys" / "users" / "clerk.slot").read_bytes())
    key = unseal(slot, PASSWORD.encode())
    assert (tmp_path / "x" / "usalama.db").read_bytes()[:16] != b"SQLite format 3\x00"
    conn = sqlcipher3.connect(str(tmp_path / "x" / "usalama.db"))
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    assert conn.execute("PRAGMA cipher_integrity_check").fetchall() == []
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM incident WHERE id = ?", (rid,)).fetchone()[0] == 1
    conn.close()


def test_restore_brings_the_backup_back_and_keeps_the_replaced_files(env, tmp_path):
    s = env.login("clerk")
    svc = RecordService(s, "incident")
    first = svc.create(incident())
    out = write_backup(env.installation, s.db, tmp_path / "b.usalama-backup", "clerk")
    svc.create(incident(agency_ref="OB 2/2/2/2024"))
    s.close()
    with pytest.raises(WrongPassword):
        restore_backup(env.installation, out["path"], "clerk", "wrong-password")
    result = restore_backup(env.installation, out["path"], "clerk", PASSWORD)
    s = env.login("clerk")
    assert RecordService(s, "incident").count() == 1
    assert RecordService(s, "incident").get(first)
    assert s.db.scalar("SELECT count(*) FROM audit WHERE action = 'restore'") == 1
    assert AuditService(env.login("admin")).verify().ok
    assert (tmp_path / "inst" / "backups").exists() and result["replaced"]


def test_damaged_backup_file_is_refused_and_nothing_changes(env, tmp_path):
    s = env.login()
    out = write_backup(env.installation, s.db, tmp_path / "b.usalama-backup", "admin")
    s.close()
    data = bytearray(Path(out["path"]).read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad = tmp_path / "bad.usalama-backup"
    bad.write_bytes(bytes(data))
    before = env.paths.db.read_bytes()
    with pytest.raises(UsalamaError):
        restore_backup(env.installation, bad, "admin", PASSWORD)
    assert env.paths.db.read_bytes() == before


def test_restore_with_the_recovery_key(env, tmp_path):
    s = env.login()
    out = write_backup(env.installation, s.db, tmp_path / "b.usalama-backup", "admin")
    s.close()
    restore_backup(env.installation, out["path"], "recovery", env.recovery_key, use_recovery_key=True)
    env.login("admin")


# --- migrations ------------------------------------------------------------------------------------------------


def test_migrations_from_an_empty_database(tmp_path):
    import os

    from usalama_desktop.store.db import Database

    db = Database(tmp_path / "empty.db", os.urandom(32), create=True)
    done = schema.migrate(db, [], "test")
    assert done == list(range(1, schema.SCHEMA_VERSION + 1))
    assert schema.schema_version(db) == schema.SCHEMA_VERSION
    assert schema.migrate(db, [], "test") == []  # running again does nothing
    db.close()


def test_newer_database_is_refused_with_a_clear_message(env):
    s = env.login()
    schema.set_meta(s.db, "schema_version", schema.SCHEMA_VERSION + 5)
    s.close()
    with pytest.raises(DatabaseTooNew) as exc:
        env.login()
    assert "newer version" in str(exc.value)
    assert env.installation.lockout.load("admin").failures == 0


def test_a_new_field_adds_a_column_after_a_backup(env, monkeypatch):
    from dataclasses import replace

    from usalama_desktop.forms import registry
    from usalama_desktop.forms.fields import TEXT, Field
    from usalama_desktop.forms.observatory import INCIDENT
    from usalama_desktop.i18n import L

    s = env.login("clerk")
    RecordService(s, "incident").create(incident())
    s.close()
    sections = list(INCIDENT.sections)
    sections[0] = replace(sections[0], items=(*sections[0].items, Field("extra_note", TEXT, L("Extra", "Ziada"))))
    grown = replace(INCIDENT, sections=tuple(sections))
    monkeypatch.setattr(registry, "forms", lambda: {"incident": grown})
    s = env.login("clerk")
    cols = {r[1] for r in s.db.query("PRAGMA table_info(incident)")}
    assert "extra_note" in cols
    backups = list(env.paths.backups.glob("before-upgrade-*.usalama-backup"))
    assert len(backups) == 1
    assert RecordService(s, grown).count() == 1


def test_a_failing_migration_changes_nothing(env, monkeypatch):
    s = env.login()
    tables_before = sorted(r[0] for r in s.db.query("SELECT name FROM sqlite_master"))
    version = schema.schema_version(s.db)

    def broken(db):
        db.execute("CREATE TABLE half_done(x)")
        raise RuntimeError("boom")

    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, broken])
    monkeypatch.setattr(schema, "SCHEMA_VERSION", len(schema.MIGRATIONS))
    with pytest.raises(RuntimeError):
        schema.migrate(s.db, [], "test")
    assert schema.schema_version(s.db) == version
    assert sorted(r[0] for r in s.db.query("SELECT name FROM sqlite_master")) == tables_before

"""The database at rest: encrypted, hardened at every open, and honest about wrong passwords vs damage."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import textwrap

import pytest
import sqlcipher3
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from usalama_desktop.errors import DatabaseDamaged, WeakCipher, WrongPassword
from usalama_desktop.services.records import Query, RecordService
from usalama_desktop.store.db import EXPECTED_CIPHER_SETTINGS, Database
from usalama_desktop.store.keyslots import unseal

from .conftest import PASSWORD

MARKER = "ZEBRA-MARKER-QXJWV"  # letters only: a digit run could turn up in any timestamp


def db_key(env, user="admin", password=PASSWORD) -> bytes:
    return unseal(env.installation.keystore.read("user", user), password.encode())


def incident(**over):
    values = {
        "agency_ref": "OB 1/01/01/2024", "occurred_on": "2024-01-01", "reported_on": "2024-01-02",
        "place": {"county": "047", "ward": "Kilimani"}, "offence_category": "stealing", "status": "open",
    }
    values.update(over)
    return values


def decrypt_pages(path, key: bytes, page_size=4096, reserve=80):
    """An independent SQLCipher 4 page decryptor (AES-256-CBC, HMAC-SHA512 checked) written from the format spec."""
    data = path.read_bytes()
    salt = data[:16]
    hmac_key = PBKDF2HMAC(hashes.SHA512(), 32, bytes(b ^ 0x3A for b in salt), 2).derive(key)
    out = []
    for n in range(len(data) // page_size):
        page = data[n * page_size:(n + 1) * page_size]
        start = 16 if n == 0 else 0
        body = page[start:page_size - reserve]
        iv = page[page_size - reserve:page_size - reserve + 16]
        mac = page[page_size - reserve + 16:]
        h = hmac.HMAC(hmac_key, hashes.SHA512())
        h.update(body + iv + (n + 1).to_bytes(4, "little"))
        h.verify(mac)
        d = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        out.append(d.update(body) + d.finalize())
    return out


def test_file_is_not_plain_sqlite_and_stock_sqlite3_cannot_read_it(env):
    head = env.paths.db.read_bytes()[:16]
    assert head != b"SQLite format 3\x00"
    if shutil.which("sqlite3"):
        r = subprocess.run(["sqlite3", str(env.paths.db), "SELECT count(*) FROM sqlite_master;"],
                           capture_output=True, text=True)
        assert r.returncode != 0
        assert "file is not a database" in (r.stderr + r.stdout)


def test_marker_saved_through_the_service_is_absent_from_db_wal_and_shm(env):
    s = env.login("clerk")
    RecordService(s, "incident").create(incident(narrative=f"{MARKER} told us", offence_subtype=MARKER))
    files = [p for p in env.paths.db_files() if p.exists()]
    assert any(p.name.endswith("-wal") for p in files), "the write should still be in the WAL"
    for p in files:
        raw = p.read_bytes()
        for enc in ("utf-8", "utf-16-le", "utf-16-be"):
            assert MARKER.encode(enc) not in raw, f"{p.name} holds the marker in {enc}"
    s.close()
    for p in env.paths.db_files():
        if p.exists():
            assert MARKER.encode() not in p.read_bytes()


def test_independent_decryptor_reads_what_we_wrote(env):
    """Proves the scans above would have found the marker had it been written in the clear."""
    s = env.login("clerk")
    RecordService(s, "incident").create(incident(offence_subtype=MARKER))
    s.close()
    pages = decrypt_pages(env.paths.db, db_key(env))
    assert any(MARKER.encode() in p for p in pages)


def test_cipher_settings_are_the_sqlcipher4_defaults_and_memory_security_is_on(env):
    s = env.login()
    settings = [r[0] for r in s.db.query("PRAGMA cipher_settings")]
    assert settings == EXPECTED_CIPHER_SETTINGS
    assert str(s.db.scalar("PRAGMA cipher_version")).startswith("4.")
    assert str(s.db.scalar("PRAGMA cipher_memory_security")) == "1"
    assert s.db.scalar("PRAGMA journal_mode") == "wal"
    assert s.db.scalar("PRAGMA synchronous") == 2  # FULL
    assert s.db.scalar("PRAGMA foreign_keys") == 1
    assert s.db.scalar("PRAGMA secure_delete") == 1
    assert s.db.scalar("PRAGMA temp_store") == 2  # MEMORY
    opts = [r[0] for r in s.db.query("PRAGMA compile_options")]
    assert any(o in ("TEMP_STORE=2", "TEMP_STORE=3") for o in opts)


@pytest.mark.parametrize("weakening", [["PRAGMA cipher_use_hmac = OFF"], ["PRAGMA cipher_compatibility = 3"],
                                       ["PRAGMA kdf_iter = 64000"]])
def test_weaker_database_is_refused(env, weakening):
    key = db_key(env)
    weak = env.folder / "weak.db"
    conn = sqlcipher3.connect(str(weak))
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    for stmt in weakening:  # cipher settings take effect only after the key
        conn.execute(stmt)
    conn.execute("CREATE TABLE t(x)")
    conn.commit()
    conn.close()
    if weakening == ["PRAGMA kdf_iter = 64000"]:
        # With a raw key SQLCipher never runs the KDF, so such a file is as strong as ours; a connection asked to
        # use 64000 iterations is what must be refused.
        conn = sqlcipher3.connect(str(weak))
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        conn.execute("PRAGMA kdf_iter = 64000")
        assert [r[0] for r in conn.execute("PRAGMA cipher_settings")] != EXPECTED_CIPHER_SETTINGS
        conn.close()
        return
    for f in env.paths.db_files():
        if f.exists():
            f.unlink()
    shutil.copy(weak, env.paths.db)
    with pytest.raises(WeakCipher) as exc:
        env.login()
    assert "weaker" in str(exc.value)


def test_wrong_password_and_damaged_page_one_are_told_apart(env):
    with pytest.raises(WrongPassword):
        env.installation.login("admin", "not-the-password")
    assert env.installation.lockout.load("admin").failures == 1
    data = bytearray(env.paths.db.read_bytes())
    data[100] ^= 0xFF  # inside page 1
    env.paths.db.write_bytes(bytes(data))
    for f in env.paths.db_files()[1:]:
        if f.exists():
            f.unlink()
    with pytest.raises(DatabaseDamaged) as exc:
        env.installation.login("admin", PASSWORD)
    assert "damaged" in str(exc.value) and "backup" in str(exc.value)
    assert env.installation.lockout.load("admin").failures == 1  # unchanged by the damaged open


def test_flipped_byte_in_page_n_is_named_by_cipher_integrity_check_and_reads_say_damaged(env):
    s = env.login("clerk")
    svc = RecordService(s, "incident")
    for i in range(60):
        svc.create(incident(agency_ref=f"OB {i}/01/01/2024", narrative="x" * 500))
    s.close()
    key = db_key(env)
    # A page of the incident table itself: it holds a reference number and the spine's user name.
    plain = decrypt_pages(env.paths.db, key)
    target = next(n + 1 for n, p in enumerate(plain) if b"OB 30/01/01/2024" in p and b"clerk" in p)
    data = bytearray(env.paths.db.read_bytes())
    data[(target - 1) * 4096 + 200] ^= 0x01
    env.paths.db.write_bytes(bytes(data))
    db = Database(env.paths.db, key)
    problems = db.integrity_problems()
    db.close()
    assert any(f"page {target}" in p or f"pgno={target}" in p or str(target) in p for p in problems), problems
    # The program never shows partial data: reading the whole table fails with "damaged".
    with pytest.raises(DatabaseDamaged):
        s = env.login("admin")
        list(RecordService(s, "incident").iter_records())


def test_sqlite_temp_files_never_reach_the_disk(env, tmp_path):
    tmpdir = tmp_path / "sqlite-tmp"
    tmpdir.mkdir()
    key = db_key(env)
    script = textwrap.dedent(f"""
        from usalama_desktop.store.db import Database
        db = Database({str(env.paths.db)!r}, bytes.fromhex({key.hex()!r}))
        db.execute("CREATE TEMP TABLE big AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 200000) SELECT i, hex(randomblob(40)) AS h FROM n")
        db.query("SELECT * FROM big ORDER BY h LIMIT 5")
        db.execute("CREATE TABLE perm AS SELECT * FROM big")
        db.execute("CREATE INDEX perm_h ON perm(h)")
        db.execute("DROP TABLE perm")
        db.execute("VACUUM")
        db.close()
    """)
    e = dict(os.environ, SQLITE_TMPDIR=str(tmpdir), TMPDIR=str(tmpdir), TEMP=str(tmpdir), TMP=str(tmpdir))
    r = subprocess.run([sys.executable, "-c", script], env=e, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert list(tmpdir.iterdir()) == []


def test_sqlcipher_log_messages_never_reach_stderr(env):
    script = textwrap.dedent(f"""
        from usalama_desktop.store.db import Database
        from usalama_desktop.errors import DatabaseDamaged
        try:
            Database({str(env.paths.db)!r}, b"\\x01" * 32)
        except DatabaseDamaged:
            print("refused")
    """)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert r.stdout.strip() == "refused"
    assert r.stderr == ""


def test_erased_record_leaves_no_trace_in_decrypted_pages_or_search_index(env):
    """Erasure (DPA s.40): secure_delete plus FTS5 secure-delete, checked on pages we decrypt ourselves."""
    s = env.login("clerk")
    svc = RecordService(s, "incident")
    rid = svc.create(incident(offence_subtype=MARKER + " words", agency_ref="OB 9/9/9/2024",
                              narrative="the NARRATIVEMARKER text"))
    svc.update(rid, {**svc.get(rid)["values"], "offence_subtype": MARKER + " again"})
    assert svc.count(Query(text="zebra")) == 1
    s.close()
    s = env.login("admin")
    RecordService(s, "incident").erase(rid, "data subject asked for erasure")
    assert RecordService(s, "incident").count(Query(text="zebra")) == 0
    trail = s.db.query("SELECT action, target, detail FROM audit WHERE action = 'record.erase'")
    assert trail and trail[0][1] == rid and "ZEBRA" not in trail[0][2]
    s.db.checkpoint()
    s.close()
    pages = decrypt_pages(env.paths.db, db_key(env))
    for token in (MARKER.encode(), b"zebra", b"qxjwv", b"NARRATIVEMARKER", b"narrativemarker"):
        assert not any(token in p for p in pages), token


def test_database_file_is_private_to_the_account(env):
    s = env.login()
    s.close()
    hashlib.sha256(env.paths.db.read_bytes())
    assert oct(env.paths.keys.stat().st_mode & 0o777) == "0o700"

"""Power cuts and full disks: every acknowledged save survives a kill -9, nothing is half written, a full disk
fails with a clear message and leaves the database intact (THREATS 10, 11, 13)."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import time

import pytest

from usalama_desktop.config import Paths
from usalama_desktop.errors import StorageError
from usalama_desktop.services.installation import Installation
from usalama_desktop.services.records import Query, RecordService
from usalama_desktop.store import audit
from usalama_desktop.store.db import Database
from usalama_desktop.store.keyslots import unseal

from .conftest import PASSWORD
from .test_store_encryption import incident

ITERATIONS = 200


def _child(folder, write_fd, seed):
    """Write through the real services until killed; report each acknowledged change on the pipe."""
    rng = random.Random(seed)
    out = os.fdopen(write_fd, "w", buffering=1)
    s = Installation(Paths(folder)).login("clerk", PASSWORD)
    svc = RecordService(s, "incident")
    mine = [r["id"] for r in svc.page(Query(sort="rid"), limit=50).rows]
    out.write("ready\n")
    n = 0
    while True:
        n += 1
        choice = rng.random()
        if choice < 0.5 or not mine:
            victims = [{"sex": "female", "age_band": "25-34"}] * rng.randint(1, 3)
            rid = svc.create(incident(agency_ref=f"K{seed}-{n}", victim_count=len(victims), victims=victims,
                                      narrative="x" * rng.randint(0, 3000)))
            mine.append(rid)
            out.write(json.dumps(["create", rid, 1]) + "\n")
        elif choice < 0.8:
            rid = rng.choice(mine)
            current = svc.get(rid)
            values = {**current["values"], "offence_subtype": f"edit {n}"}
            rev = svc.update(rid, values, expected_revision=current["spine"]["revision"])
            out.write(json.dumps(["update", rid, rev]) + "\n")
        elif choice < 0.9:
            ids = svc.create_many([incident(agency_ref=f"B{seed}-{n}-{j}") for j in range(rng.randint(2, 40))])
            for rid in ids:
                out.write(json.dumps(["create", rid, 1]) + "\n")
        else:
            rid = mine.pop(rng.randrange(len(mine)))
            rev = svc.delete(rid, "harness delete")
            out.write(json.dumps(["delete", rid, rev]) + "\n")


def _check(folder, key, acked: dict[str, tuple[str, int]]):
    db = Database(Paths(folder).db, key)
    try:
        assert db.integrity_problems() == []
        assert audit.verify(db).ok
        rows = {r["id"]: r for r in db.query("SELECT rid, id, revision, deleted, victim_count FROM incident")}
        for rid, (action, rev) in acked.items():
            assert rid in rows, f"acknowledged {action} of {rid} lost"
            assert rows[rid]["revision"] >= rev
            if action == "delete":
                assert rows[rid]["deleted"] == 1
        victims = dict(db.query("SELECT parent_rid, count(*) FROM incident__victims GROUP BY parent_rid"))
        search = {r[0] for r in db.query("SELECT rid FROM incident_search")}
        audited = dict(db.query("SELECT target, count(*) FROM audit WHERE action LIKE 'record.%' GROUP BY target"))
        for r in rows.values():
            # Each record whole: its repeat rows, search text and audit entries came with it, or not at all.
            if r["victim_count"]:
                assert victims.get(r["rid"], 0) == r["victim_count"]
            assert (r["rid"] in search) == (not r["deleted"])
            assert audited.get(r["id"]) == r["revision"]
    finally:
        db.close()


@pytest.mark.slow
def test_kill_minus_nine_during_writes_loses_no_acknowledged_save(env):
    key = unseal(env.installation.keystore.read("user", "clerk"), PASSWORD.encode())
    acked: dict[str, tuple[str, int]] = {}
    rng = random.Random(10)
    for i in range(ITERATIONS):
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child never returns into pytest
            try:
                os.close(read_fd)
                _child(str(env.folder), write_fd, i)
            finally:
                os._exit(0)
        os.close(write_fd)
        reader = os.fdopen(read_fd)
        assert reader.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.25))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        for line in reader:
            action, rid, rev = json.loads(line)
            acked[rid] = (action, rev)
        reader.close()
        if i % 20 == 19 or i == ITERATIONS - 1:
            _check(env.folder, key, acked)
    assert len(acked) > ITERATIONS // 2  # the harness really wrote (fewer on a loaded machine: kills land sooner)


def test_a_full_database_refuses_the_save_clearly_and_stays_whole(env):
    s = env.login("clerk")
    svc = RecordService(s, "incident")
    svc.create(incident(agency_ref="before"))
    before = {t: s.db.scalar(f"SELECT count(*) FROM {t}") for t in ("incident", "incident__victims",
                                                                       "incident_search", "audit", "revisions")}
    pages = s.db.scalar("PRAGMA page_count")
    s.db.execute(f"PRAGMA max_page_count = {pages + 1}")
    with pytest.raises(StorageError) as exc:
        for i in range(50):
            svc.create(incident(agency_ref=f"big {i}", narrative="n" * 7000,
                                victims=[{"sex": "male", "age_band": "18-24"}] * 20, victim_count=20))
    assert "disk is full" in str(exc.value) and "nothing was saved" in str(exc.value)
    s.db.execute("PRAGMA max_page_count = 1073741823")
    after = {t: s.db.scalar(f"SELECT count(*) FROM {t}") for t in before}
    assert after["incident"] - before["incident"] == after["audit"] - before["audit"]  # no half record
    assert after["incident_search"] - before["incident_search"] == after["incident"] - before["incident"]
    assert s.db.integrity_problems() == []


def _mount_tmpfs(path, size: str) -> bool:
    path.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    return r.returncode == 0


def _save_until_refused(folder) -> tuple[str, str]:
    """Log in, save one record, then save big ones until the store refuses; (kept id, the refusal's message)."""
    s = Installation(Paths(folder)).login("clerk", PASSWORD)
    svc = RecordService(s, "incident")
    kept = svc.create(incident(agency_ref="kept"))
    try:
        for i in range(400):
            svc.create(incident(agency_ref=f"full {i}", narrative="n" * 7000))
    except StorageError as exc:
        return kept, str(exc)
    finally:
        s.close()
    return kept, ""


def _on_a_full_tmpfs(folder, mnt) -> tuple[str, str]:
    """A real full disk: a 3 MB tmpfs filled up once the installation is open."""
    shutil.copytree(folder, mnt / "inst")
    s = Installation(Paths(mnt / "inst")).login("clerk", PASSWORD)
    s.close()
    filler = mnt / "filler"
    budget = shutil.disk_usage(mnt).free - 512 * 1024  # half a megabyte left for the saves
    filler.write_bytes(b"\0" * max(budget, 0))
    try:
        return _save_until_refused(mnt / "inst")
    finally:
        filler.unlink()


def _with_a_file_size_limit(folder) -> tuple[str, str]:
    """Where nothing can be mounted: the saves run in a child whose files may not grow past 512 KB more than the
    database already holds (RLIMIT_FSIZE, with SIGXFSZ ignored, so a write fails the way it does on a full disk)."""
    import resource

    limit = max(p.stat().st_size for p in folder.rglob("*") if p.is_file()) + 512 * 1024
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child never returns into pytest
        try:
            os.close(read_fd)
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
            os.write(write_fd, json.dumps(_save_until_refused(folder)).encode())
        finally:
            os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd) as reader:
        answer = reader.read()
    os.waitpid(pid, 0)
    assert answer, "the child stopped without an answer"
    kept, message = json.loads(answer)
    return kept, message


def test_a_full_disk_refuses_the_save_clearly_and_the_database_opens_after(env, tmp_path):
    mnt = tmp_path / "small"
    mounted = os.geteuid() == 0 and _mount_tmpfs(mnt, "3m")
    try:
        kept, message = _on_a_full_tmpfs(env.folder, mnt) if mounted else _with_a_file_size_limit(env.folder)
        assert message, "the store never refused a save"
        s = Installation(Paths(mnt / "inst" if mounted else env.folder)).login("clerk", PASSWORD)
        assert s.db.integrity_problems() == []
        assert RecordService(s, "incident").get(kept)
        live = s.db.scalar("SELECT count(*) FROM incident")
        assert s.db.scalar("SELECT count(*) FROM audit WHERE action = 'record.create'") == live
        s.close()
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(mnt)], capture_output=True)

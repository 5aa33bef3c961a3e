"""Accounts on a shared offline PC: key slots, lockout, recovery, password changes, roles."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from usalama_desktop import clock
from usalama_desktop.errors import AccountLocked, LoginDelayed, PermissionDenied, UsalamaError, WrongPassword
from usalama_desktop.services.installation import Installation
from usalama_desktop.services.users import UserService
from usalama_desktop.store.keyslots import KdfParams, KeySlot, derive_kek, seal, unseal

from .conftest import PASSWORD


def test_slot_holds_argon2id_parameters_in_phc_form(env):
    slot_doc = json.loads((env.paths.keys / "users" / "admin.slot").read_text())
    phc = slot_doc["kdf"]
    assert phc.startswith("$argon2id$v=19$m=")
    params = dict(p.split("=") for p in phc.split("$")[3].split(","))
    assert int(params["m"]) >= 65536 and int(params["t"]) >= 3
    assert "wrapped" in slot_doc and PASSWORD not in json.dumps(slot_doc)


def test_debian_argon2_cli_reproduces_our_derivation():
    """Proves parameters and encoding are the standard ones: the reference tool gives the same raw bytes."""
    import shutil

    if not shutil.which("argon2"):
        pytest.fail("the argon2 command is missing; `make test` installs it")
    salt = b"usalama-fixture!"
    ours = derive_kek(b"fixture password", salt, KdfParams(65536, 3, 4))
    r = subprocess.run(["argon2", salt.decode(), "-id", "-t", "3", "-k", "65536", "-p", "4", "-l", "32", "-r"],
                       input=b"fixture password", capture_output=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().strip() == ours.hex()


def test_login_with_old_parameters_rewraps_with_current_ones(env):
    key = unseal(env.installation.keystore.read("user", "admin"), PASSWORD.encode())
    info = env.installation.info()
    old = seal(key, PASSWORD.encode(), "user", "admin", info["installation_id"], KdfParams(65536, 3, 1))
    env.installation.keystore.write(old)
    env.login("admin")
    now = env.installation.keystore.read("user", "admin")
    assert now.params == KdfParams()
    assert now.salt != old.salt


def test_wrong_password_is_refused_and_counted(env):
    with pytest.raises(WrongPassword) as exc:
        env.installation.login("admin", "wrong-password")
    assert "Wrong user name or password" in str(exc.value)
    assert env.installation.lockout.load("admin").failures == 1
    env.login("admin")
    assert env.installation.lockout.load("admin").failures == 0


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(env):
    with pytest.raises(WrongPassword) as exc:
        env.installation.login("nobody", PASSWORD)
    assert "Wrong user name or password" in str(exc.value)


def test_delays_grow_from_the_third_failure_and_the_tenth_locks(env):
    inst = env.installation
    for _ in range(3):
        with pytest.raises(WrongPassword):
            inst.login("clerk", "nope-nope")
    with pytest.raises(LoginDelayed) as exc:
        inst.login("clerk", PASSWORD)  # even the right password waits
    assert exc.value.seconds > 0
    waits = []
    for _ in range(7):
        state = inst.lockout.load("clerk")
        wait = 2 ** (state.failures - 3)
        waits.append(wait)
        clock.shift(wait * 1000 + 10)
        with pytest.raises((WrongPassword, AccountLocked)):
            inst.login("clerk", "nope-nope")
    assert waits == [1, 2, 4, 8, 16, 32, 64]
    clock.shift(10 ** 9)
    with pytest.raises(AccountLocked):
        inst.login("clerk", PASSWORD)
    # A new program start (a fresh Installation object) still sees the lock.
    with pytest.raises(AccountLocked):
        Installation(env.paths).login("clerk", PASSWORD)
    admin = env.login("admin")
    UserService(admin).unlock("clerk")
    env.login("clerk")
    actions = [r[0] for r in admin.db.query("SELECT action FROM audit WHERE target = 'clerk'")]
    assert "user.unlock" in actions


def test_counter_is_on_disk_before_the_password_is_checked(env):
    """Killing the program during the (slow) check must not reset the counter."""
    script = textwrap.dedent(f"""
        import sys, time
        from usalama_desktop.config import Paths
        from usalama_desktop.services import installation as mod
        def slow_unseal(slot, secret):
            print("checking", flush=True)
            time.sleep(60)
        mod.unseal = slow_unseal
        mod.Installation(Paths({str(env.folder)!r})).login("clerk", "guess-1234")
    """)
    p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "checking"
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    p.stdout.close()
    assert env.installation.lockout.load("clerk").failures == 1


def test_failed_logins_reach_the_audit_trail_at_the_next_login(env):
    with pytest.raises(WrongPassword):
        env.installation.login("clerk", "wrong-one-1")
    s = env.login("admin")
    rows = s.db.query("SELECT username, action FROM audit WHERE action = 'login.failed'")
    assert [tuple(r) for r in rows] == [("clerk", "login.failed")]


def test_clock_set_back_is_audited_and_does_not_shorten_a_delay(env):
    inst = env.installation
    for _ in range(4):
        clock.shift(60_000)
        with pytest.raises((WrongPassword, LoginDelayed)):
            inst.login("clerk", "nope-nope")
    clock.shift(-3_600_000)  # someone sets the PC clock an hour back
    with pytest.raises(LoginDelayed):
        inst.login("clerk", PASSWORD)
    state = inst.lockout.load("clerk")
    assert any(e["event"] == "clock.back" for e in state.pending)
    clock.shift(120_000)
    env.login("clerk")
    s = env.login("admin")
    assert s.db.scalar("SELECT count(*) FROM audit WHERE action = 'clock.back'") >= 1


def test_recovery_key_opens_forces_a_new_password_and_is_audited(env):
    inst = env.installation
    with pytest.raises(WrongPassword):
        inst.recover("AAAA-" * 12 + "AAAA", "admin", "brand-new-pass")
    s = inst.recover(env.recovery_key, "admin", "brand-new-pass")
    assert s.user.username == "admin"
    s.close()
    with pytest.raises(WrongPassword):
        inst.login("admin", PASSWORD)
    s = env.login("admin", "brand-new-pass")
    actions = [r[0] for r in s.db.query("SELECT action FROM audit ORDER BY seq")]
    assert "recovery.used" in actions and "recovery.failed" in actions


def test_wrong_recovery_keys_are_rate_limited(env):
    inst = env.installation
    bad = "-".join(["ABCD"] * 13)
    with pytest.raises(WrongPassword):
        inst.recover(bad, "admin", "brand-new-pass")
    with pytest.raises(WrongPassword):
        inst.recover(bad, "admin", "brand-new-pass")
    with pytest.raises(WrongPassword):
        inst.recover(bad, "admin", "brand-new-pass")
    with pytest.raises(LoginDelayed):
        inst.recover(env.recovery_key, "admin", "brand-new-pass")


def test_recovery_key_unlocks_a_locked_account(env):
    inst = env.installation
    state = inst.lockout.load("admin")
    state.failures, state.locked = 10, True
    inst.lockout.save("admin", state)
    with pytest.raises(AccountLocked):
        inst.login("admin", PASSWORD)
    inst.recover(env.recovery_key, "admin", "fresh-password-9").close()
    env.login("admin", "fresh-password-9")


def test_every_slot_wraps_the_same_key_so_an_admin_reset_needs_no_old_password(env):
    s = env.login("admin")
    UserService(s).change_password("clerk", "reset-by-admin", PASSWORD)
    clerk = env.login("clerk", "reset-by-admin")
    assert clerk.user.must_change_password
    assert s.db.scalar("SELECT count(*) FROM audit WHERE action = 'user.password_reset' AND target = 'clerk'") == 1


def test_changing_a_password_rewrites_one_slot(env):
    before = {p.name: p.read_bytes() for p in (env.paths.keys / "users").glob("*.slot")}
    s = env.login("clerk")
    UserService(s).change_password("clerk", "my-new-secret", PASSWORD)
    after = {p.name: p.read_bytes() for p in (env.paths.keys / "users").glob("*.slot")}
    assert [n for n in before if before[n] != after[n]] == ["clerk.slot"]
    assert (env.paths.keys / "recovery.slot").exists()
    with pytest.raises(WrongPassword):
        env.installation.login("clerk", PASSWORD)
    env.login("clerk", "my-new-secret")


def test_a_slot_write_cut_short_leaves_nothing_after_the_next_write(env):
    """A temporary slot file left by a write that was killed goes at the next write of that slot (slot writers take
    turns under the database's write lock); another slot's, and the slots themselves, stay."""
    users = env.paths.keys / "users"
    mine, other = users / ".clerk.slot.0badf00d.tmp", users / ".admin.slot.0badf00d.tmp"
    mine.write_bytes(b"half a slot")
    other.write_bytes(b"half another")
    slots = sorted(p.name for p in users.glob("*.slot"))
    admin = env.login("admin")
    UserService(admin).change_password("clerk", "a-new-password-2026", PASSWORD)
    admin.close()
    assert not mine.exists() and other.exists()
    assert sorted(p.name for p in users.glob("*.slot")) == slots and "clerk.slot" in slots
    other.unlink()


def test_power_cut_during_password_change_leaves_old_or_new_working(env):
    """Kill -9 at random points while a password is changed again and again; one of the two always opens."""
    script = textwrap.dedent(f"""
        import itertools
        from usalama_desktop.config import Paths
        from usalama_desktop.services.installation import Installation
        from usalama_desktop.services.users import UserService
        inst = Installation(Paths({str(env.folder)!r}))
        s = inst.login("clerk", {PASSWORD!r})
        users = UserService(s)
        current = {PASSWORD!r}
        print("ready", flush=True)
        for i in itertools.count():
            new = f"password-{{i}}-xyz"
            users.change_password("clerk", new, current)
            current = new
            print(current, flush=True)
    """)
    rng = __import__("random").Random(7)
    for _ in range(6):
        p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        assert p.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.05, 0.6))
        os.kill(p.pid, signal.SIGKILL)
        lines = p.stdout.read().split()
        p.wait()
        p.stdout.close()
        last_done = lines[-1] if lines else None
        slot = env.installation.keystore.read("user", "clerk")
        candidates = [c for c in (last_done, f"password-{len(lines)}-xyz") if c]
        if not lines:
            candidates.append(PASSWORD)
        opened = []
        for c in candidates:
            try:
                unseal(slot, c.encode())
                opened.append(c)
            except WrongPassword:
                pass
        assert len(opened) == 1, (candidates, opened)
        # Reset for the next round, as an admin would.
        admin = env.login("admin")
        UserService(admin).change_password("clerk", PASSWORD, PASSWORD)
        admin.close()
        env.installation.lockout.unlock("clerk")
    assert not list((env.paths.keys / "users").glob(".*.tmp"))


def test_disabled_account_cannot_log_in_and_loses_its_slot(env):
    s = env.login("admin")
    UserService(s).disable("clerk")
    assert env.installation.keystore.read("user", "clerk") is None
    with pytest.raises(WrongPassword):
        env.installation.login("clerk", PASSWORD)
    UserService(s).enable("clerk", "welcome-back-1", PASSWORD)
    env.login("clerk", "welcome-back-1")


def test_only_admins_manage_users_and_the_last_admin_stays(env):
    clerk = env.login("clerk")
    with pytest.raises(PermissionDenied):
        UserService(clerk).add("sneaky", "admin", "password-123", PASSWORD)
    with pytest.raises(PermissionDenied):
        UserService(clerk).set_role("clerk", "admin")
    with pytest.raises(PermissionDenied):
        UserService(clerk).change_password("admin", "takeover-123", PASSWORD)
    admin = env.login("admin")
    with pytest.raises(UsalamaError):
        UserService(admin).set_role("admin", "clerk")
    with pytest.raises(UsalamaError):
        UserService(admin).add("x", "clerk", "short", PASSWORD)


def test_role_edited_directly_in_the_database_is_flagged_by_audit_verify(env):
    from usalama_desktop.services.auditing import AuditService

    s = env.login("admin")
    assert AuditService(s).verify().ok
    s.db.execute("UPDATE users SET role = 'admin' WHERE username = 'clerk'")  # bypassing the service
    report = AuditService(s).verify()
    assert not report.ok and "clerk" in report.problem


def test_slot_from_another_installation_is_refused(env, tmp_path):
    from usalama_desktop.config import Paths

    other = Installation(Paths(tmp_path / "other"))
    other.initialise("Other Station", "police_station", "001", "admin", PASSWORD)[0].close()
    foreign = other.keystore.read("user", "admin")
    data = foreign.to_json()
    (env.paths.keys / "users" / "admin.slot").write_bytes(data)
    with pytest.raises(WrongPassword):
        env.installation.login("admin", PASSWORD)


def test_damaged_slot_file_gives_a_clear_message(env):
    (env.paths.keys / "users" / "clerk.slot").write_text("{not json")
    with pytest.raises(UsalamaError) as exc:
        env.installation.login("clerk", PASSWORD)
    assert "damaged" in str(exc.value)


def test_slot_aad_binds_name_so_slots_cannot_be_swapped(env):
    admin_slot = env.installation.keystore.read("user", "admin")
    swapped = KeySlot("user", "clerk", admin_slot.installation, admin_slot.salt, admin_slot.params,
                      admin_slot.nonce, admin_slot.wrapped)
    with pytest.raises(WrongPassword):
        unseal(swapped, PASSWORD.encode())
    assert base64.b64decode(json.loads(admin_slot.to_json())["wrapped"])

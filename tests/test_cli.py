"""The headless command as scripts use it: passwords from the environment or files, exit codes 0/1/2."""

from __future__ import annotations

import pytest

from .conftest import PASSWORD, run_cli


@pytest.fixture
def fresh(tmp_path):
    return tmp_path / "data"


def test_version_needs_no_installation():
    r = run_cli("version")
    assert r.returncode == 0
    assert "usalama-desktop" in r.stdout and "sqlcipher: 4." in r.stdout


def test_init_user_and_audit_from_a_script(fresh, tmp_path):
    env = {"USALAMA_PASSWORD": PASSWORD}
    r = run_cli("--data-dir", fresh, "init", "--agency", "Kilimani Police Station", "--agency-type",
                "police_station", "--county", "47", "--admin", "admin", "--recovery-pdf", tmp_path / "rk.pdf",
                env_vars=env)
    assert r.returncode == 0, r.stderr
    key_line = [line for line in r.stdout.splitlines() if line.count("-") == 12]
    assert len(key_line) == 1
    import subprocess

    text = subprocess.run(["pdftotext", str(tmp_path / "rk.pdf"), "-"], capture_output=True, text=True).stdout
    assert key_line[0].split("-")[0] in text
    pw = tmp_path / "clerk.pw"
    pw.write_text("clerk-password-1\n")
    r = run_cli("--data-dir", fresh, "user", "add", "jane", "--role", "clerk", "--new-password-file", pw,
                env_vars=env)
    assert r.returncode == 0, r.stderr
    r = run_cli("--data-dir", fresh, "user", "list", env_vars=env)
    assert "jane\tclerk\tactive" in r.stdout
    r = run_cli("--data-dir", fresh, "--user", "jane", "audit", "verify",
                env_vars={"USALAMA_PASSWORD": "clerk-password-1"})
    assert r.returncode == 1 and "may not" in r.stderr  # clerks do not verify the audit trail
    r = run_cli("--data-dir", fresh, "audit", "verify", env_vars=env)
    assert r.returncode == 0 and "intact" in r.stdout
    r = run_cli("--data-dir", fresh, "user", "disable", "jane", env_vars=env)
    assert r.returncode == 0
    r = run_cli("--data-dir", fresh, "user", "list", env_vars={"USALAMA_PASSWORD": "clerk-password-1",
                                                               "USALAMA_USER": "jane"})
    assert r.returncode == 1 and r.stderr.count("\n") == 1


def test_wrong_password_is_exit_1_with_one_line(env):
    r = run_cli("--data-dir", env.folder, "user", "list", env_vars={"USALAMA_PASSWORD": "nope-nope"})
    assert r.returncode == 1
    assert r.stderr.strip() == "usalama: Wrong user name or password."


def test_usage_errors_are_exit_2_and_no_password_argument_exists(env):
    assert run_cli("--data-dir", env.folder, "user").returncode == 2
    assert run_cli("nonsense").returncode == 2
    r = run_cli("--data-dir", env.folder, "--password", PASSWORD, "user", "list")
    assert r.returncode == 2


def test_missing_password_is_refused_without_a_terminal(env):
    r = run_cli("--data-dir", env.folder, "user", "list")
    assert r.returncode == 1 and "USALAMA_PASSWORD" in r.stderr


def test_backup_and_restore_from_the_command(env, tmp_path):
    e = {"USALAMA_PASSWORD": PASSWORD}
    out = tmp_path / "b.usalama-backup"
    r = run_cli("--data-dir", env.folder, "backup", out, env_vars=e)
    assert r.returncode == 0, r.stderr
    r = run_cli("--data-dir", env.folder, "restore", out, env_vars=e)
    assert r.returncode == 0, r.stderr
    r = run_cli("--data-dir", env.folder, "check", env_vars=e)
    assert r.returncode == 0 and "passed" in r.stdout


def test_data_dir_from_the_environment(env):
    r = run_cli("user", "list", env_vars={"USALAMA_DATA_DIR": str(env.folder), "USALAMA_PASSWORD": PASSWORD})
    assert r.returncode == 0 and "admin" in r.stdout


def test_bad_init_input_is_refused_and_leaves_nothing(tmp_path):
    e = {"USALAMA_PASSWORD": PASSWORD}
    r = run_cli("--data-dir", tmp_path / "d", "init", "--agency", "X", "--agency-type", "bakery", "--county", "047",
                "--admin", "admin", env_vars=e)
    assert r.returncode == 1 and "agency type" in r.stderr.lower()
    r = run_cli("--data-dir", tmp_path / "d", "init", "--agency", "X", "--agency-type", "school", "--county", "099",
                "--admin", "admin", env_vars=e)
    assert r.returncode == 1 and "county" in r.stderr.lower()
    assert not (tmp_path / "d" / "usalama.db").exists()


def test_demo_creates_a_demo_installation(tmp_path):
    r = run_cli("--data-dir", tmp_path / "demo", "demo", "--size", "small")
    assert r.returncode == 0, r.stderr
    assert "admin" in r.stdout and "usalama-demo" in r.stdout
    r = run_cli("--data-dir", tmp_path / "demo", "user", "list", env_vars={"USALAMA_PASSWORD": "usalama-demo"})
    assert r.returncode == 0 and "clerk" in r.stdout

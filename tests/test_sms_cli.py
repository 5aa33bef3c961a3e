"""``usalama sms import`` as a script runs it: the row accounting on standard output, exit codes, and no phone
number in the output, the logs or the database."""

from __future__ import annotations

from .conftest import PASSWORD, run_cli
from .test_sms import PHONE_TEXTS, SAMPLE, all_text


def _cli(env, user, *args):
    return run_cli("--data-dir", env.folder, "--user", user, *args, env_vars={"USALAMA_PASSWORD": PASSWORD})


def test_the_command_imports_and_accounts_for_every_row(make_env, tmp_path):
    env = make_env("community_safety_forum")
    r = _cli(env, "clerk", "sms", "import", str(SAMPLE), "--dry-run")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1] == "Dry run: nothing was saved."
    r = _cli(env, "clerk", "sms", "import", str(SAMPLE))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert [line.split("\t")[:3] for line in lines[:11]][6] == ["8", "-", "not a rating or complaint"]
    assert lines[-1].startswith("4 ratings and 3 complaints imported")
    rejected = [line for line in lines if "\trejected\t" in line]
    assert len(rejected) == 2 and "Overall" in rejected[0]
    output = r.stdout + r.stderr
    logs = "".join(p.read_text(errors="replace") for p in env.paths.logs.rglob("*") if p.is_file())
    s = env.login("admin")
    stored = all_text(s)
    for phone in PHONE_TEXTS:
        assert phone not in output and phone not in logs and phone not in stored
    r = _cli(env, "clerk", "sms", "import", str(SAMPLE))
    assert "0 ratings and 0 complaints imported; 8 already imported" in r.stdout


def test_refusals_exit_1_with_one_line_and_write_nothing(make_env, tmp_path):
    env = make_env("community_safety_forum")
    bad = tmp_path / "bad.csv"
    bad.write_text("Message ID,From,Text\n1,0700000101,hello\n")
    r = _cli(env, "clerk", "sms", "import", str(bad))
    assert r.returncode == 1 and r.stdout == "" and len(r.stderr.strip().splitlines()) == 1
    assert "0700000101" not in r.stderr
    r = _cli(env, "viewer", "sms", "import", str(SAMPLE))
    assert r.returncode == 1 and "may not" in r.stderr
    s = env.login("admin")
    assert s.db.scalar("SELECT count(*) FROM police_rating") == 0

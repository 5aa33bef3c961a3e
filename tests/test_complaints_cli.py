"""Complaints through the real ``usalama`` command: never listed, exported, searched or audited for anyone at a
police station; listed and summarised for a forum coordinator."""

from __future__ import annotations

import pytest

from .conftest import PASSWORD, ROLES_USERS, run_cli
from .test_complaints import MARK, _arrived_complaint, complaint


def _cli(env, user, *args):
    return run_cli("--data-dir", env.folder, "--user", user, *args, env_vars={"USALAMA_PASSWORD": PASSWORD})


@pytest.fixture
def police(make_env):
    env = make_env("police_station")
    admin = env.login("admin")
    record_id = _arrived_complaint(admin)
    admin.close()
    return env, record_id


@pytest.mark.parametrize("role", list(ROLES_USERS))
def test_no_path_of_the_command_shows_a_complaint_at_a_police_station(police, tmp_path, role):
    env, record_id = police
    user = ROLES_USERS[role]
    attempts = [
        ("records", "list", "--form", "police_complaint"),
        ("records", "list", "--form", "police_complaint", "--search", MARK),
        ("records", "export", "--form", "police_complaint", "--out", str(tmp_path / "out.xlsx")),
        ("records", "export", "--form", "police_complaint", "--out", str(tmp_path / "out.csv")),
        ("complaints", "ages"),
        ("complaints", "summary"),
    ]
    for args in attempts:
        r = _cli(env, user, *args)
        assert r.returncode == 1, (args, r.stdout)
        assert record_id not in r.stdout + r.stderr and MARK not in r.stdout + r.stderr
        assert not any(tmp_path.glob("out*")), args
    r = _cli(env, user, "audit", "list", "--limit", "1000")
    assert record_id not in r.stdout and "complaints" not in r.stdout


def test_a_forum_coordinator_lists_exports_and_summarises_complaints(make_env, tmp_path):
    from usalama_desktop.services.records import RecordService

    env = make_env("community_safety_forum")
    clerk = env.login("clerk")
    record_id = RecordService(clerk, "police_complaint").create(complaint(received_on="2024-03-04"))
    clerk.close()
    r = _cli(env, "coord", "records", "list", "--form", "police_complaint")
    assert r.returncode == 0, r.stderr
    assert record_id in r.stdout
    r = _cli(env, "coord", "records", "export", "--form", "police_complaint", "--out", str(tmp_path / "c.xlsx"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "c.xlsx").exists()
    r = _cli(env, "coord", "complaints", "ages", "--as-of", "2024-04-03")
    assert r.returncode == 0 and f"{record_id}\tCMP 1/2024" in r.stdout and "\t30\t" in r.stdout
    r = _cli(env, "coord", "complaints", "summary", "--as-of", "2024-04-03")
    assert r.returncode == 0 and r.stdout.startswith("1 complaints, 1 open")
    r = _cli(env, "coord", "complaints", "ages", "--as-of", "April")
    assert r.returncode == 1 and "YYYY-MM-DD" in r.stderr

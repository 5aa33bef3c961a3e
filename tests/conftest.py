"""Shared fixtures: a real SQLCipher installation in a temp folder for every test, copied from a template made once
per agency type (Argon2id at 64 MiB is slow on purpose)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.pop("USALAMA_DATA_DIR", None)
os.environ.pop("USALAMA_PASSWORD", None)
os.environ.pop("USALAMA_NEW_PASSWORD", None)
os.environ.pop("USALAMA_USER", None)

import pytest  # noqa: E402

from usalama_desktop import clock  # noqa: E402
from usalama_desktop.config import Paths  # noqa: E402
from usalama_desktop.services.installation import Installation  # noqa: E402

PASSWORD = "correct-horse-1"
ROLES_USERS = {
    "admin": "admin",
    "coordinator": "coord",
    "clerk": "clerk",
    "counsellor": "couns",
    "ajs_recorder": "elder",
    "viewer": "viewer",
}
AGENCY_NAMES = {
    "police_station": "Kilimani Police Station",
    "community_safety_forum": "Kilimani Community Safety Forum",
    "school": "Kilimani Primary School",
    "ajs_forum": "Kilimani Elders Council",
    "health_facility": "Kilimani Health Centre",
    "children_office": "Dagoretti Children's Office",
}

_templates: dict[str, Path] = {}


def _template(tmp_root: Path, agency_type: str) -> Path:
    if agency_type in _templates:
        return _templates[agency_type]
    folder = tmp_root / f"template-{agency_type}"
    inst = Installation(Paths(folder))
    session, recovery = inst.initialise(AGENCY_NAMES.get(agency_type, agency_type.title()), agency_type, "047",
                                        "admin", PASSWORD, subcounty="Dagoretti North", ward="Kilimani")
    from usalama_desktop.services.users import UserService

    users = UserService(session)
    for role, name in ROLES_USERS.items():
        if name != "admin":
            users.add(name, role, PASSWORD, PASSWORD)
    session.db.execute("UPDATE users SET must_change_password = 0")
    session.close()
    (folder / "recovery.txt").write_text(recovery)
    _templates[agency_type] = folder
    return folder


@pytest.fixture(scope="session")
def template_root(tmp_path_factory):
    return tmp_path_factory.mktemp("templates")


@pytest.fixture(autouse=True)
def _reset_clock():
    clock.reset()
    yield
    clock.reset()


class Env:
    """One test's installation: its folder, recovery key, and sessions by role."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.paths = Paths(folder)
        self.installation = Installation(self.paths)
        self.recovery_key = (folder / "recovery.txt").read_text()
        self.sessions = []

    def login(self, role_or_user: str = "admin", password: str = PASSWORD):
        user = ROLES_USERS.get(role_or_user, role_or_user)
        s = self.installation.login(user, password)
        self.sessions.append(s)
        return s

    def close(self):
        for s in self.sessions:
            s.close()


@pytest.fixture
def make_env(tmp_path, template_root):
    envs = []

    def make(agency_type: str = "police_station", name: str = "inst") -> Env:
        folder = tmp_path / name
        shutil.copytree(_template(template_root, agency_type), folder)
        env = Env(folder)
        envs.append(env)
        return env

    yield make
    for env in envs:
        env.close()


@pytest.fixture
def env(make_env) -> Env:
    return make_env("police_station")


@pytest.fixture
def admin(env):
    return env.login("admin")


def run_cli(*args, env_vars=None, input_text=None, cwd=None):
    """Run the real ``usalama`` command in a subprocess, as a user would."""
    import subprocess

    e = {k: v for k, v in os.environ.items() if not k.startswith("USALAMA_")}
    e.update(env_vars or {})
    exe = Path(sys.executable).with_name("usalama")
    cmd = [str(exe), *map(str, args)] if exe.exists() else [sys.executable, "-m", "usalama_desktop.cli", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, env=e, input=input_text, cwd=cwd, timeout=600)

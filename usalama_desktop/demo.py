"""``usalama demo``: a demo installation with realistic, clearly fictional data for every module that exists."""

from __future__ import annotations

import random

from .config import Paths
from .services.installation import Installation

DEMO_PASSWORD = "usalama-demo"
DEMO_USERS = [
    ("coordinator", "coordinator"),
    ("clerk", "clerk"),
    ("counsellor", "counsellor"),
    ("elder", "ajs_recorder"),
    ("viewer", "viewer"),
]
# Modules that add demo data define ``fill_demo(session, rng, size) -> list[str]`` (lines for the summary).
DEMO_MODULES: list[str] = [
    "usalama_desktop.demo_data.observatory",
    "usalama_desktop.demo_data.cases",
    "usalama_desktop.demo_data.community",
]


def run_demo(paths: Paths, password: str | None, seed: int = 2026, size: str = "normal") -> dict:
    password = password or DEMO_PASSWORD
    inst = Installation(paths)
    summary: list[str] = []
    if inst.exists():
        session = inst.login("admin", password)
    else:
        session, _recovery = inst.initialise(
            "Kilimani Community Safety Forum (DEMO)", "community_safety_forum", "047", "admin", password,
            subcounty="Dagoretti North", ward="Kilimani", admin_display_name="Demo Administrator",
        )
        from .services.users import UserService

        users = UserService(session)
        for username, role in DEMO_USERS:
            users.add(username, role, password, password, display_name=f"Demo {role.replace('_', ' ')}")
        summary.append(f"users: admin, {', '.join(u for u, _ in DEMO_USERS)} (all with the same demo password)")
    try:
        rng = random.Random(seed)
        from .forms.registry import import_optional

        for name in DEMO_MODULES:
            module = import_optional(name)
            if module is not None:
                # One commit per module (thousands of small saves, one fsync), with no savepoint per save.
                with session.db.transaction(savepoints=False):
                    summary.extend(module.fill_demo(session, rng, size))
    finally:
        session.close()
    return {"folder": str(paths.root), "password": password, "summary": summary}

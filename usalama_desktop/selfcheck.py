"""Versions and a headless self-check, used by ``usalama version``, the about box and the frozen-build test."""

from __future__ import annotations

import os
import platform
import sys
import tempfile
from pathlib import Path

from . import __version__


def versions() -> dict[str, str]:
    import sqlcipher3

    out = {"usalama-desktop": __version__, "python": platform.python_version(), "sqlite": sqlcipher3.sqlite_version}
    try:
        conn = sqlcipher3.connect(":memory:")
        out["sqlcipher"] = conn.execute("PRAGMA cipher_version").fetchone()[0]
        conn.close()
    except Exception:  # pragma: no cover - reported as missing
        out["sqlcipher"] = "missing"
    for name, module in (("pyside6", "PySide6"), ("pandas", "pandas"), ("openpyxl", "openpyxl"),
                         ("reportlab", "reportlab"), ("cryptography", "cryptography"), ("pyrage", "pyrage"),
                         ("orjson", "orjson"), ("isal", "isal")):
        try:
            from importlib.metadata import version

            out[name] = version(module if name != "pyside6" else "PySide6-Essentials")
        except Exception:
            out[name] = getattr(sys.modules.get(module), "__version__", "unknown")
    return out


def run_selfcheck() -> str:
    """Create, key, write, reopen and check an encrypted database in a temp folder; import every heavy library."""
    from .store.db import Database

    key = os.urandom(32)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "check.db"
        db = Database(path, key, create=True)
        db.execute("CREATE TABLE t(x)")
        db.execute("INSERT INTO t VALUES ('ok')")
        db.close()
        if path.read_bytes()[:16] == b"SQLite format 3\x00":
            raise RuntimeError("database not encrypted")
        db = Database(path, key)
        value = db.scalar("SELECT x FROM t")
        problems = db.integrity_problems()
        db.close()
    if value != "ok" or problems:
        raise RuntimeError("self-check failed")
    import openpyxl  # noqa: F401
    import orjson  # noqa: F401
    import pandas  # noqa: F401
    import pyrage  # noqa: F401
    import reportlab  # noqa: F401
    from isal import isal_zlib  # noqa: F401

    from .resources import resource_path

    if not resource_path("reference", "kenya_counties.csv").exists():
        raise RuntimeError("resources missing")
    from .sync import pipeline

    pipeline.round_trip()  # large bundles are checked by a helper process: it must start in this build too
    return f"usalama-desktop {__version__}: self-check passed"

"""The PyInstaller spec builds a one-folder app whose programs start: the spec must not rot before packaging."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_pyinstaller_build_starts(tmp_path):
    pyinstaller = Path(sys.executable).with_name("pyinstaller")
    r = subprocess.run([str(pyinstaller), "--noconfirm", "--clean", "--distpath", str(tmp_path / "dist"),
                        "--workpath", str(tmp_path / "work"), str(ROOT / "build.spec")],
                       capture_output=True, text=True, cwd=ROOT, timeout=1500)
    assert r.returncode == 0, r.stderr[-3000:]
    app = tmp_path / "dist" / "usalama-desktop"
    r = subprocess.run([str(app / "usalama-desktop"), "--selfcheck"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "self-check passed" in r.stdout, r.stderr
    r = subprocess.run([str(app / "usalama"), "version"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "sqlcipher: 4." in r.stdout and "reportlab: " in r.stdout
    r = subprocess.run([str(app / "usalama"), "selfcheck"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "self-check passed" in r.stdout, r.stderr  # the command starts a helper too
    env = {k: v for k, v in os.environ.items() if not k.startswith("USALAMA_")}
    env.update(USALAMA_PASSWORD="frozen-pass-1", QT_QPA_PLATFORM="offscreen")
    data = tmp_path / "data"
    r = subprocess.run([str(app / "usalama"), "--data-dir", str(data), "init", "--agency", "Frozen Post",
                        "--agency-type", "ap_post", "--county", "001", "--admin", "admin"],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([str(app / "usalama-desktop"), "--data-dir", str(data), "--startup-probe"],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0 and "first-window-ms" in r.stdout, r.stderr

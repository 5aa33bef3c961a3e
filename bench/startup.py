"""Time from launch to the login window on screen, beside a bare Qt window in the same run.

Run: .venv/bin/python bench/startup.py   (offscreen; median of 7 launches each)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, table  # noqa: E402

BARE = """
import time, sys
t0 = time.perf_counter()
from PySide6.QtWidgets import QApplication, QWidget
from PySide6.QtCore import QTimer
app = QApplication(sys.argv[:1]); w = QWidget(); w.show()
QTimer.singleShot(0, lambda: (print(f"first-window-ms {(time.perf_counter() - t0) * 1000:.1f}"), app.quit()))
app.exec()
"""


def launch(cmd, env) -> float:
    """Launch to first window: what the process reports from its first line, plus the interpreter's own start."""
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
    inner = float(out.split("first-window-ms")[1].split()[0]) / 1000
    return inner + interpreter_start(env)


_interp = None


def interpreter_start(env) -> float:
    global _interp
    if _interp is None:
        runs = []
        for _ in range(5):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
            runs.append(time.perf_counter() - t)
        _interp = statistics.median(runs)
    return _interp


def main() -> str:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", USALAMA_PASSWORD="bench-pass-1")
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        subprocess.run([sys.executable, "-m", "usalama_desktop.cli", "--data-dir", str(data), "init", "--agency",
                        "Bench Station", "--agency-type", "police_station", "--county", "047", "--admin", "admin"],
                       env=env, check=True, capture_output=True)
        bare = statistics.median(launch([sys.executable, "-c", BARE], env) for _ in range(7))
        ours = statistics.median(launch([sys.executable, "-m", "usalama_desktop", "--data-dir", str(data),
                                         "--startup-probe"], env) for _ in range(7))
    rows = [("launch to login window", ours, "bare Qt window", bare, "< 500 ms")]
    return table("Start-up (offscreen, median of 7, including interpreter start)", rows)


if __name__ == "__main__":
    print(f"Machine: {machine()}\n")
    print(main())

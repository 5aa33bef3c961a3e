"""Plaintext never leaks outside the encrypted database (THREATS 6): a full GUI session with marker strings, then
every file in the user profile, the temp folder and the data folder is scanned for them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from .conftest import PASSWORD

MARKERS = ["ZEBRAMARKER-8812", "Wanjikũ-Ñyokabi-ŁEAK"]

SCENARIO = textwrap.dedent("""
    import sys, time
    from usalama_desktop.config import Paths
    from usalama_desktop.logsetup import setup_logging
    from usalama_desktop.ui.qt import QApplication
    from PySide6.QtTest import QTest
    app = QApplication(sys.argv[:1])
    from usalama_desktop.ui.app import Shell
    from usalama_desktop.ui.errors import install_excepthook
    paths = Paths(sys.argv[1])
    setup_logging(paths.logs)
    install_excepthook()
    markers = sys.argv[2:]

    def wait(cond, ms=20000):
        end = time.time() + ms / 1000
        while not cond():
            QTest.qWait(20)
            if time.time() > end:
                raise SystemExit("timed out")

    shell = Shell(paths)
    shell.start()
    d = shell.dialog
    d.username.setText("clerk"); d.password.setText(%(password)r); d.submit()
    wait(lambda: shell.window is not None)
    page = shell.window.show_page("records:incident")
    wait(lambda: page.loaded and not page.model.loading)
    w = page.open_record(None)
    v = w.view
    v.editors["agency_ref"].edit.setText("OB 1/1/1/2024")
    v.editors["occurred_on"].edit.setText("12/03/2024")
    v.editors["reported_on"].edit.setText("13/03/2024")
    place = v.editors["place"]; place.county.setCurrentIndex(place.county.findData("047"))
    place.parts["village"].setText(markers[1])
    cat = v.editors["offence_category"].combo; cat.setCurrentIndex(cat.findData("stealing"))
    v.editors["offence_subtype"].edit.setText(markers[0])
    v.editors["narrative"].edit.setPlainText(" ".join(markers) + " told us what happened")
    v.dirty = True
    w.save_draft()
    w.save()
    wait(lambda: w.record_id is not None and not w.saving)
    page.search.setText(markers[0]); page.apply_filters()
    wait(lambda: page.model.total == 1)
    QApplication.clipboard().setText(markers[0])
    w2 = page.open_record(w.record_id)
    wait(lambda: w2.revision is not None)
    v2 = w2.view
    v2.editors["offence_subtype"].edit.setText(markers[1])
    v2.dirty = True
    w2.save_draft()
    shell.lock("button")
    wait(lambda: shell.session is None and shell.dialog is not None)
    shell.dialog.username.setText("clerk"); shell.dialog.password.setText(%(password)r); shell.dialog.submit()
    wait(lambda: shell.session is not None)
    shell.tasks.wait_idle()
    shell.window.close()
    shell.session.close()
    print("scenario done", flush=True)
""") % {"password": PASSWORD}


@pytest.mark.gui
def test_a_full_session_leaves_no_plaintext_on_disk(env, tmp_path):
    home, tmp, xdg = tmp_path / "home", tmp_path / "tmp", tmp_path / "xdg"
    for d in (home, tmp, xdg / "cache", xdg / "config", xdg / "data", xdg / "runtime"):
        d.mkdir(parents=True)
    os.chmod(xdg / "runtime", 0o700)
    e = {k: v for k, v in os.environ.items() if not k.startswith(("USALAMA_", "XDG_"))}
    e.update(HOME=str(home), TMPDIR=str(tmp), TEMP=str(tmp), TMP=str(tmp), SQLITE_TMPDIR=str(tmp),
             XDG_CACHE_HOME=str(xdg / "cache"), XDG_CONFIG_HOME=str(xdg / "config"),
             XDG_DATA_HOME=str(xdg / "data"), XDG_RUNTIME_DIR=str(xdg / "runtime"), QT_QPA_PLATFORM="offscreen")
    r = subprocess.run([sys.executable, "-c", SCENARIO, str(env.folder), *MARKERS], env=e, capture_output=True,
                       text=True, timeout=300)
    assert "scenario done" in r.stdout, r.stdout + r.stderr
    patterns = [m.encode(enc) for m in MARKERS for enc in ("utf-8", "utf-16-le", "utf-16-be")]
    scanned, hits = 0, []
    for root in (home, tmp, xdg, env.folder):
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                path = os.path.join(dirpath, name)
                if os.path.islink(path):
                    continue
                with open(path, "rb") as f:
                    data = f.read()
                scanned += 1
                hits += [f"{path}: {p!r}" for p in patterns if p in data]
    for text in (r.stdout, r.stderr):
        hits += [f"process output: {m}" for m in MARKERS if m in text]
    assert scanned >= 5 and (env.folder / "logs" / "usalama.log").exists()
    assert hits == []

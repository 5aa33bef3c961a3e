"""Start-up: the login window first and fast (heavy libraries load only when first needed), then the main window.

``usalama-desktop [--data-dir DIR] [--lang en|sw]``; ``--version`` and ``--selfcheck`` run headless.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

_T0 = time.perf_counter()


def _args(argv):
    p = argparse.ArgumentParser(prog="usalama-desktop", allow_abbrev=False)
    p.add_argument("--data-dir")
    p.add_argument("--lang", choices=["en", "sw"])
    p.add_argument("--version", action="store_true")
    p.add_argument("--selfcheck", action="store_true")
    p.add_argument("--startup-probe", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args(argv)


class Shell:
    """Owns the worker, the installation and whichever window is showing: wizard, login, main, lock prompt."""

    def __init__(self, paths):
        from ..services.installation import Installation
        from .tasks import TaskRunner

        self.installation = Installation(paths)
        self.tasks = TaskRunner()
        self.session = None
        self.window = None
        self.dialog = None
        self.locked_user: str | None = None

    def start(self):
        if self.installation.exists():
            self.show_login()
        else:
            self.show_wizard()

    def show_wizard(self):
        from .wizard import SetupWizard

        self.dialog = SetupWizard(self.installation, self.tasks)
        self.dialog.setup_done.connect(self.logged_in)
        self.dialog.show()

    def show_login(self, locked_user: str | None = None):
        from .login import LoginDialog

        self.dialog = LoginDialog(self.installation, self.tasks, locked_user=locked_user)
        self.dialog.logged_in.connect(self.logged_in)
        self.dialog.show()
        self.dialog.raise_()

    def logged_in(self, session):
        from ..i18n import set_language

        previous_user, self.locked_user = self.locked_user, None
        self.session = session
        lang = os.environ.get("USALAMA_LANG")
        if not lang:
            try:
                lang = session.setting("language", "en")
            except Exception:
                lang = "en"
        set_language(lang if lang in ("en", "sw") else "en")
        if self.window is not None and previous_user == session.user.username:
            self.window.session = session
            self.window.locking = False
            self.window.outer.setCurrentIndex(0)
            self.window.menuBar().setEnabled(True)
            self.window.statusBar().show()
            from .idle import IdleWatcher

            self.window.idle = IdleWatcher(self.window.idle.limit_ms // 60000, session.opened_ms, self.window)
            self.window.idle.idle.connect(self.window.lock_requested.emit)
            for page in self.window.pages.values():
                if hasattr(page, "session_changed"):
                    page.session_changed(session)
            return
        if self.window is not None:
            self.window.deleteLater()
        from .mainwindow import MainWindow

        self.window = MainWindow(self, session)
        self.window.lock_requested.connect(self.lock)
        self.window.show()

    def lock(self, reason: str = "idle"):
        if self.window is None or self.session is None:
            return
        user = self.locked_user = self.session.user.username
        self.window.hide_records()
        session, self.session = self.session, None
        # Queued behind any draft saves on the same worker; the database closes, then the password is asked again.
        self.tasks.run(session.close, lambda _r: self.show_login(locked_user=user))


def main(argv: list[str] | None = None) -> int:
    args = _args(sys.argv[1:] if argv is None else argv)
    os.umask(0o077)
    if args.version:
        from ..selfcheck import versions

        for k, v in versions().items():
            print(f"{k}: {v}")
        return 0
    if args.selfcheck:
        from ..selfcheck import run_selfcheck

        print(run_selfcheck())
        return 0
    from ..config import resolve
    from ..i18n import set_language
    from ..logsetup import log, setup_logging

    if args.lang:
        os.environ["USALAMA_LANG"] = args.lang
        set_language(args.lang)
    paths = resolve(args.data_dir)
    setup_logging(paths.logs)
    from .qt import QApplication, QTimer

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Usalama Desktop")
    app.setQuitOnLastWindowClosed(True)
    from .errors import install_excepthook

    install_excepthook()
    shell = Shell(paths)
    shell.start()
    log().info("start-up to first window: %.0f ms", (time.perf_counter() - _T0) * 1000)
    if args.startup_probe:
        # bench/startup.py: report when the first window is on screen, then leave.
        def probe():
            print(f"first-window-ms {(time.perf_counter() - _T0) * 1000:.1f}", flush=True)
            app.quit()

        QTimer.singleShot(0, probe)
    code = app.exec()
    shell.tasks.wait_idle(10000)
    if shell.session is not None:
        shell.session.close()
    return code


if __name__ == "__main__":
    raise SystemExit(main())

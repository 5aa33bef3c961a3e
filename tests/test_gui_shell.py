"""The app shell driven through real widgets: first-run wizard, login, idle lock, admin pages, crash dialog."""

from __future__ import annotations

import os

import psutil
import pytest

from usalama_desktop import clock
from usalama_desktop.config import Paths
from usalama_desktop.ui.app import Shell
from usalama_desktop.ui.qt import QApplication, QDialogButtonBox, QLabel, Qt, QWizard

from .conftest import PASSWORD

pytestmark = pytest.mark.gui


@pytest.fixture
def shell(qtbot):
    from usalama_desktop.ui import errors

    errors._shown.clear()
    shells = []

    def make(folder):
        s = Shell(Paths(folder))
        shells.append(s)
        return s

    yield make
    from usalama_desktop.ui.qt import QApplication as _App
    from usalama_desktop.ui.record_window import RecordWindow

    for w in _App.topLevelWidgets():
        if isinstance(w, RecordWindow):
            w.view.dirty = False  # tests leave windows half filled on purpose; no "discard?" at teardown
            w.close()
    for s in shells:
        s.tasks.wait_idle()
        if s.window is not None:
            s.window.idle.stop()
            s.window.close()
        if s.dialog is not None:
            s.dialog.close()
        if s.session is not None:
            s.session.close()
        s.tasks.wait_idle()
    for d in list(errors._shown):
        d.close()
    errors._shown.clear()


def login_through_dialog(qtbot, sh, user="admin", password=PASSWORD):
    dialog = sh.dialog
    qtbot.waitUntil(dialog.isVisible)
    dialog.username.setText(user)
    qtbot.keyClicks(dialog.password, password)
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)


def test_first_run_wizard_sets_up_and_shows_the_key_once(qtbot, shell, tmp_path):
    sh = shell(tmp_path / "new")
    sh.start()
    wiz = sh.dialog
    qtbot.addWidget(wiz)
    qtbot.keyClicks(wiz.agency.name, "Kilimani Police Station")
    wiz.agency.type.setCurrentIndex(wiz.agency.type.findData("police_station"))
    wiz.agency.county.setCurrentIndex(wiz.agency.county.findData("047"))
    wiz.agency.ward.setText("Kilimani")
    wiz.next()
    assert wiz.currentPage() is wiz.admin
    qtbot.keyClicks(wiz.admin.password, "short")
    qtbot.keyClicks(wiz.admin.again, "short")
    wiz.next()
    assert "at least" in wiz.admin.error.text()
    wiz.admin.password.setText(PASSWORD)
    wiz.admin.again.setText(PASSWORD)
    wiz.next()
    qtbot.waitUntil(lambda: wiz.currentPage() is wiz.recovery, timeout=10000)
    shown = wiz.recovery.key.text().split()
    assert len(shown) == 13 and all(len(g) == 4 for g in shown)
    finish = wiz.button(QWizard.WizardButton.FinishButton)
    assert not finish.isEnabled()
    wiz.recovery.confirm.setChecked(True)
    assert finish.isEnabled()
    qtbot.mouseClick(finish, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: sh.window is not None and sh.window.isVisible())
    assert "admin" in sh.window.user_label.text() and "Kilimani Police Station" in sh.window.user_label.text()
    assert wiz.recovery_key is None and wiz.recovery.key.text() == ""
    # The key that was on screen really opens the installation.
    sh.session.close()
    sh.session = None
    sh.installation.recover("-".join(shown), "admin", "after-recovery-1").close()


def test_login_shows_inline_errors_then_opens_the_main_window(qtbot, shell, env):
    sh = shell(env.folder)
    sh.start()
    qtbot.addWidget(sh.dialog)
    login_through_dialog(qtbot, sh, password="wrong-password")
    qtbot.waitUntil(lambda: "Wrong user name or password" in sh.dialog.error.text(), timeout=10000)
    assert sh.window is None
    login_through_dialog(qtbot, sh)
    qtbot.waitUntil(lambda: sh.window is not None and sh.window.isVisible(), timeout=10000)
    assert {"users", "audit", "settings"} <= set(sh.window.page_keys())


def test_clerk_does_not_see_admin_pages(qtbot, shell, env):
    sh = shell(env.folder)
    sh.start()
    login_through_dialog(qtbot, sh, user="clerk")
    qtbot.waitUntil(lambda: sh.window is not None, timeout=10000)
    keys = set(sh.window.page_keys())
    assert "users" not in keys and "audit" not in keys and "records:incident" in keys


def _db_files_open(paths: Paths) -> list[str]:
    names = {str(p) for p in paths.db_files()}
    return [f.path for f in psutil.Process(os.getpid()).open_files() if f.path in names]


def test_idle_lock_closes_the_database_clears_the_clipboard_and_asks_again(qtbot, shell, env):
    sh = shell(env.folder)
    sh.start()
    login_through_dialog(qtbot, sh)
    qtbot.waitUntil(lambda: sh.window is not None, timeout=10000)
    window = sh.window
    assert _db_files_open(env.paths)
    QApplication.clipboard().setText("copied case detail")
    clock.shift(16 * 60 * 1000)
    window.idle.check()
    qtbot.waitUntil(lambda: sh.dialog is not None and sh.dialog.locked_user == "admin" and sh.dialog.isVisible(),
                    timeout=10000)
    assert window.outer.currentWidget() is window.locked_view
    assert QApplication.clipboard().text() == ""
    assert _db_files_open(env.paths) == []
    login_through_dialog(qtbot, sh)
    qtbot.waitUntil(lambda: sh.session is not None, timeout=10000)
    assert sh.window is window and window.outer.currentIndex() == 0


def test_twelve_hours_force_a_new_login_even_when_busy(qtbot, shell, env):
    sh = shell(env.folder)
    sh.start()
    login_through_dialog(qtbot, sh)
    qtbot.waitUntil(lambda: sh.window is not None, timeout=10000)
    clock.shift(12 * 3600 * 1000 + 1000)
    sh.window.idle.last_ms = clock.now_ms()  # the user was active a moment ago
    sh.window.idle.check()
    qtbot.waitUntil(lambda: sh.session is None and sh.dialog.locked_user == "admin", timeout=10000)


def test_lock_button(qtbot, shell, env):
    sh = shell(env.folder)
    sh.start()
    login_through_dialog(qtbot, sh)
    qtbot.waitUntil(lambda: sh.window is not None, timeout=10000)
    qtbot.mouseClick(sh.window.lock_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: sh.session is None and sh.dialog.isVisible(), timeout=10000)


def test_admin_adds_a_user_through_the_users_page(qtbot, shell, env, monkeypatch):
    from usalama_desktop.ui import admin_pages

    sh = shell(env.folder)
    sh.start()
    login_through_dialog(qtbot, sh)
    qtbot.waitUntil(lambda: sh.window is not None, timeout=10000)
    page = sh.window.show_page("users")
    qtbot.waitUntil(lambda: page.table.rowCount() == 6, timeout=10000)

    def fill(dialog):
        dialog.username.setText("wanjiru")
        dialog.role.setCurrentIndex(dialog.role.findData("clerk"))
        dialog.password.setText("first-pass-1")
        dialog.again.setText("first-pass-1")
        return admin_pages.QDialog.DialogCode.Accepted

    monkeypatch.setattr(admin_pages.NewUserDialog, "exec", fill)
    page.add()
    qtbot.waitUntil(lambda: page.table.rowCount() == 7, timeout=10000)
    env.login("wanjiru", "first-pass-1")


def test_audit_page_lists_and_verifies(qtbot, shell, env):
    sh = shell(env.folder)
    sh.start()
    login_through_dialog(qtbot, sh)
    qtbot.waitUntil(lambda: sh.window is not None, timeout=10000)
    page = sh.window.show_page("audit")
    qtbot.waitUntil(lambda: page.table.rowCount() > 0, timeout=10000)
    page.action.setText("login")
    page.refresh()
    qtbot.waitUntil(lambda: all(page.table.item(i, 3).text().startswith("login")
                                for i in range(page.table.rowCount())), timeout=10000)
    qtbot.mouseClick(page.findChild(type(page.action).__mro__[0], "audit_action"), Qt.MouseButton.LeftButton)
    page.verify()
    qtbot.waitUntil(lambda: "intact" in page.status.text(), timeout=10000)


def test_unexpected_error_shows_copyable_redacted_details(qtbot, shell, env, tmp_path):
    from usalama_desktop.logsetup import setup_logging
    from usalama_desktop.ui import errors

    setup_logging(tmp_path / "logs")
    sh = shell(env.folder)

    def boom():
        raise ValueError("secret value ZEBRA-LEAK in a library message")

    sh.tasks.run(boom)
    qtbot.waitUntil(lambda: any(isinstance(d, errors.CrashDialog) for d in errors._shown), timeout=10000)
    dialog = next(d for d in errors._shown if isinstance(d, errors.CrashDialog))
    text = dialog.details.toPlainText()
    assert "ValueError" in text and "boom" in text and "ZEBRA-LEAK" not in text
    dialog.copy()
    assert QApplication.clipboard().text() == text
    log_text = (tmp_path / "logs" / "usalama.log").read_text()
    assert "ValueError" in log_text and "ZEBRA-LEAK" not in log_text
    dialog.close()


def test_about_box_lists_versions(qtbot, shell, env, monkeypatch):
    from usalama_desktop.ui import mainwindow

    shown = {}
    monkeypatch.setattr(mainwindow.QMessageBox, "about", lambda parent, title, text: shown.update(text=text))
    sh = shell(env.folder)
    sh.start()
    login_through_dialog(qtbot, sh)
    qtbot.waitUntil(lambda: sh.window is not None, timeout=10000)
    sh.window.show_about()
    assert "sqlcipher" in shown["text"] and "pyside6" in shown["text"]


def test_status_bar_and_buttons_have_labels(qtbot, shell, env):
    sh = shell(env.folder)
    sh.start()
    login_through_dialog(qtbot, sh)
    qtbot.waitUntil(lambda: sh.window is not None, timeout=10000)
    assert sh.window.findChild(QLabel, "status_user").text()
    assert isinstance(sh.dialog.findChild(QDialogButtonBox), QDialogButtonBox)


def test_a_damaged_database_offers_the_last_backup(qtbot, shell, env, monkeypatch):
    from usalama_desktop.services.backup import write_backup
    from usalama_desktop.ui import login

    s = env.login("admin")
    write_backup(env.installation, s.db, env.paths.backups / "last.usalama-backup", "admin")
    s.close()
    data = bytearray(env.paths.db.read_bytes())
    data[200] ^= 0xFF  # page 1
    env.paths.db.write_bytes(bytes(data))
    sh = shell(env.folder)
    sh.start()
    dialog = sh.dialog
    login_through_dialog(qtbot, sh)
    qtbot.waitUntil(lambda: "damaged" in dialog.error.text(), timeout=10000)
    assert dialog.restore_button.isVisible() and sh.window is None
    monkeypatch.setattr(login.QFileDialog, "getOpenFileName",
                        lambda *a, **k: (str(env.paths.backups / "last.usalama-backup"), ""))
    dialog.password.setText(PASSWORD)
    dialog.restore()
    qtbot.waitUntil(lambda: "restored" in dialog.error.text(), timeout=20000)
    login_through_dialog(qtbot, sh)
    qtbot.waitUntil(lambda: sh.window is not None, timeout=10000)

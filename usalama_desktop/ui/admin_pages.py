"""Administration pages: users, the audit trail, backups, settings."""

from __future__ import annotations

import json

from ..errors import UsalamaError
from ..i18n import _
from ..permissions import ROLES, role_label
from .qt import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from .widgets import ErrorLabel, heading, password_field


class NewUserDialog(QDialog):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle(_("Add a user"))
        form = QFormLayout(self)
        self.username = QLineEdit()
        self.username.setObjectName("new_username")
        self.display = QLineEdit()
        self.role = QComboBox()
        self.role.setObjectName("new_role")
        for r in ROLES:
            self.role.addItem(role_label(r), r)
        self.password = password_field()
        self.password.setObjectName("new_password")
        self.again = password_field()
        self.again.setObjectName("new_password_again")
        form.addRow(_("User name"), self.username)
        form.addRow(_("Full name"), self.display)
        form.addRow(_("Role"), self.role)
        form.addRow(_("First password"), self.password)
        form.addRow(_("Password again"), self.again)
        form.addRow(QLabel(_("They will be asked to choose their own password at first login.")))
        self.error = ErrorLabel()
        form.addRow(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.check)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def check(self):
        if self.password.text() != self.again.text():
            self.error.show_message(_("The two passwords differ."))
            return
        self.accept()


class UsersPage(QWidget):
    def __init__(self, window):
        super().__init__()
        self.window = window
        layout = QVBoxLayout(self)
        layout.addWidget(heading(_("Users")))
        self.table = QTableWidget(0, 4)
        self.table.setObjectName("users_table")
        self.table.setHorizontalHeaderLabels([_("User name"), _("Name"), _("Role"), _("State")])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        layout.addWidget(self.table)
        row = QHBoxLayout()
        for text, slot, name in ((_("Add user…"), self.add, "add_user"), (_("Reset password…"), self.reset, "reset"),
                                 (_("Change role…"), self.change_role, "role"), (_("Disable"), self.disable, "disable"),
                                 (_("Enable…"), self.enable, "enable"), (_("Unlock"), self.unlock, "unlock")):
            b = QPushButton(text)
            b.setObjectName(f"users_{name}")
            b.clicked.connect(slot)
            row.addWidget(b)
        row.addStretch(1)
        layout.addLayout(row)
        self.error = ErrorLabel()
        layout.addWidget(self.error)

    @property
    def service(self):
        from ..services.users import UserService

        return UserService(self.window.session)

    def activated(self):
        self.refresh()

    def refresh(self):
        self.window.tasks.run(self.service.list, self._fill)

    def _fill(self, users):
        self.table.setRowCount(len(users))
        for i, u in enumerate(users):
            for j, text in enumerate((u.username, u.display_name, role_label(u.role),
                                      _("disabled") if u.disabled else _("active"))):
                self.table.setItem(i, j, QTableWidgetItem(text))

    def selected(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            self.error.show_message(_("Choose a user in the list first."))
            return None
        return self.table.item(rows[0].row(), 0).text()

    def _do(self, fn, done_message: str):
        def ok(_result):
            self.error.show_message(done_message, warning=True)
            self.refresh()

        def failed(error):
            if isinstance(error, UsalamaError):
                self.error.show_message(error.message)
            else:
                from .errors import show_error

                show_error(error, self)

        self.window.tasks.run(fn, ok, failed)

    def add(self):
        dialog = NewUserDialog(self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        name, role, pw, display = (dialog.username.text().strip().lower(), dialog.role.currentData(),
                                   dialog.password.text(), dialog.display.text())
        self._do(lambda: self.service.add(name, role, pw, display_name=display), _("User {name} added.").format(name=name))

    def reset(self):
        name = self.selected()
        if not name:
            return
        pw, ok = QInputDialog.getText(self, _("Reset password"), _("New password for {name}:").format(name=name),
                                      QLineEdit.EchoMode.Password)
        if ok:
            self._do(lambda: self.service.change_password(name, pw), _("Password reset for {name}.").format(name=name))

    def change_role(self):
        name = self.selected()
        if not name:
            return
        labels = [role_label(r) for r in ROLES]
        choice, ok = QInputDialog.getItem(self, _("Change role"), _("Role for {name}:").format(name=name), labels, 0,
                                          False)
        if ok:
            role = ROLES[labels.index(choice)]
            self._do(lambda: self.service.set_role(name, role), _("Role changed for {name}.").format(name=name))

    def disable(self):
        name = self.selected()
        if name:
            self._do(lambda: self.service.disable(name), _("User {name} disabled.").format(name=name))

    def enable(self):
        name = self.selected()
        if not name:
            return
        pw, ok = QInputDialog.getText(self, _("Enable user"), _("New password for {name}:").format(name=name),
                                      QLineEdit.EchoMode.Password)
        if ok:
            self._do(lambda: self.service.enable(name, pw), _("User {name} enabled.").format(name=name))

    def unlock(self):
        name = self.selected()
        if name:
            self._do(lambda: self.service.unlock(name), _("User {name} unlocked.").format(name=name))


class AuditPage(QWidget):
    def __init__(self, window):
        super().__init__()
        self.window = window
        layout = QVBoxLayout(self)
        layout.addWidget(heading(_("Audit trail")))
        filters = QHBoxLayout()
        self.action = QLineEdit()
        self.action.setObjectName("audit_action")
        self.action.setPlaceholderText(_("action, e.g. login or record"))
        self.user = QLineEdit()
        self.user.setObjectName("audit_user")
        self.user.setPlaceholderText(_("user name"))
        self.since = QLineEdit()
        self.since.setPlaceholderText(_("from YYYY-MM-DD"))
        self.until = QLineEdit()
        self.until.setPlaceholderText(_("to YYYY-MM-DD"))
        apply = QPushButton(_("Filter"))
        apply.setObjectName("audit_filter")
        apply.clicked.connect(self.refresh)
        verify = QPushButton(_("Verify the chain"))
        verify.setObjectName("audit_verify")
        verify.clicked.connect(self.verify)
        for w in (self.action, self.user, self.since, self.until, apply, verify):
            filters.addWidget(w)
        layout.addLayout(filters)
        self.table = QTableWidget(0, 6)
        self.table.setObjectName("audit_table")
        self.table.setHorizontalHeaderLabels([_("No."), _("When (UTC)"), _("User"), _("Action"), _("Record or item"),
                                              _("Details")])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        layout.addWidget(self.table)
        self.status = ErrorLabel()
        self.status.setObjectName("audit_status")
        layout.addWidget(self.status)

    def activated(self):
        self.refresh()

    def refresh(self):
        from ..services.auditing import AuditService

        svc = AuditService(self.window.session)
        action, user = self.action.text().strip() or None, self.user.text().strip() or None
        since, until = self.since.text().strip() or None, self.until.text().strip() or None
        self.window.tasks.run(lambda: svc.entries(limit=500, action=action, username=user, since=since,
                                                  until=until), self._fill)

    def _fill(self, rows):
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            detail = json.loads(r["detail"] or "{}")
            for j, text in enumerate((str(r["seq"]), r["at"], r["username"], r["action"], r["target"],
                                      ", ".join(f"{k}={v}" for k, v in detail.items()))):
                self.table.setItem(i, j, QTableWidgetItem(text))

    def verify(self):
        from ..services.auditing import AuditService

        svc = AuditService(self.window.session)

        def show(report):
            if report.ok:
                self.status.show_message(_("The audit trail is intact: {n} entries.").format(n=report.entries),
                                         warning=True)
            else:
                self.status.show_message(_("The audit trail was changed at entry {seq}: {problem}").format(
                    seq=report.first_bad, problem=report.problem))

        self.window.tasks.run(svc.verify, show)


class BackupPage(QWidget):
    def __init__(self, window):
        super().__init__()
        self.window = window
        layout = QVBoxLayout(self)
        layout.addWidget(heading(_("Backup")))
        layout.addWidget(QLabel(_("A backup is encrypted like the database and opens with the passwords and recovery "
                                  "key as they are today. Keep it on a USB stick apart from this computer.")))
        b = QPushButton(_("Make a backup now…"))
        b.setObjectName("backup_now")
        b.clicked.connect(self.backup)
        layout.addWidget(b)
        self.status = ErrorLabel()
        layout.addWidget(self.status)
        layout.addStretch(1)

    def backup(self, path: str | None = None):
        if not path:
            path, _f = QFileDialog.getSaveFileName(self, _("Save the backup"), "usalama.usalama-backup",
                                                   _("Usalama backup (*.usalama-backup)"))
        if not path:
            return
        from ..services.backup import write_backup

        s = self.window.session

        def job(token):
            return write_backup(s.installation, s.db, path, s.username,
                                progress=lambda done, total: token.progress(done, total))

        self.window.tasks.run_with_progress(self, _("Writing the backup…"), job,
                                            lambda r: self.status.show_message(
                                                _("Backup written to {path}.").format(path=r["path"]), warning=True))


class SettingsPage(QWidget):
    def __init__(self, window):
        super().__init__()
        self.window = window
        layout = QVBoxLayout(self)
        layout.addWidget(heading(_("Settings")))
        form = QFormLayout()
        self.idle = QSpinBox()
        self.idle.setObjectName("idle_minutes")
        self.idle.setRange(1, 120)
        self.idle.setSuffix(_(" minutes"))
        self.language = QComboBox()
        self.language.setObjectName("language")
        self.language.addItem("English", "en")
        self.language.addItem("Kiswahili", "sw")
        form.addRow(_("Lock the window after"), self.idle)
        form.addRow(_("Language"), self.language)
        layout.addLayout(form)
        save = QPushButton(_("Save settings"))
        save.setObjectName("save_settings")
        save.clicked.connect(self.save)
        layout.addWidget(save)
        self.status = ErrorLabel()
        layout.addWidget(self.status)
        layout.addStretch(1)

    def activated(self):
        s = self.window.session

        def load():
            return s.setting("idle_minutes", "15"), s.setting("language", "en")

        def show(values):
            self.idle.setValue(int(values[0]))
            self.language.setCurrentIndex(max(0, self.language.findData(values[1])))

        self.window.tasks.run(load, show)

    def save(self):
        s = self.window.session
        minutes, lang = str(self.idle.value()), self.language.currentData()

        def job():
            s.set_setting("idle_minutes", minutes)
            s.set_setting("language", lang)

        self.window.tasks.run(job, lambda _r: self.status.show_message(
            _("Saved. The new lock time applies from the next login."), warning=True))


__all__ = ["UsersPage", "AuditPage", "BackupPage", "SettingsPage", "QMessageBox"]

"""The login window (and the unlock prompt after an idle lock), and the recovery-key dialog."""

from __future__ import annotations

from ..errors import DatabaseDamaged, LoginDelayed, UsalamaError
from ..i18n import _
from .qt import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    Qt,
    QTimer,
    QVBoxLayout,
    Signal,
)
from .widgets import ErrorLabel, heading, password_field


class LoginDialog(QDialog):
    logged_in = Signal(object)  # the Session

    def __init__(self, installation, tasks, locked_user: str | None = None, parent=None):
        super().__init__(parent)
        self.installation = installation
        self.tasks = tasks
        self.locked_user = locked_user
        try:
            agency = installation.info().get("agency_name", "")
        except UsalamaError:
            agency = ""
        self.setWindowTitle(_("Usalama Desktop") + (f" — {agency}" if agency else ""))
        layout = QVBoxLayout(self)
        layout.addWidget(heading(_("Locked") if locked_user else _("Log in")))
        if locked_user:
            layout.addWidget(QLabel(_("The window was locked. Type your password to carry on.")))
        form = QFormLayout()
        self.username = QLineEdit(locked_user or "")
        self.username.setObjectName("username")
        self.password = password_field()
        self.password.setObjectName("password")
        form.addRow(_("User name"), self.username)
        form.addRow(_("Password"), self.password)
        layout.addLayout(form)
        self.error = ErrorLabel()
        self.error.setObjectName("login_error")
        layout.addWidget(self.error)
        buttons = QDialogButtonBox()
        self.ok = buttons.addButton(_("Log in") if not locked_user else _("Unlock"),
                                    QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok.setObjectName("login_button")
        self.ok.setDefault(True)
        self.recover_button = QPushButton(_("Forgot the password? Use the recovery key"))
        self.recover_button.setFlat(True)
        self.recover_button.clicked.connect(self.recover)
        buttons.addButton(self.recover_button, QDialogButtonBox.ButtonRole.ResetRole)
        self.ok.clicked.connect(self.submit)
        layout.addWidget(buttons)
        self.restore_button = QPushButton(_("Restore a backup…"))
        self.restore_button.setObjectName("restore_button")
        self.restore_button.clicked.connect(self.restore)
        self.restore_button.hide()
        layout.addWidget(self.restore_button)
        (self.password if locked_user else self.username).setFocus()
        self._retry = QTimer(self)
        self._retry.setSingleShot(True)
        self._retry.timeout.connect(lambda: self.ok.setEnabled(True))

    def submit(self):
        user, password = self.username.text().strip(), self.password.text()
        if not user or not password:
            self.error.show_message(_("Type your user name and password."))
            return
        self.ok.setEnabled(False)
        self.error.show_message(_("Checking…"), warning=True)
        self.tasks.run(lambda: self.installation.login(user, password), self._done, self._failed)

    def _done(self, session):
        self.password.clear()
        self.error.show_message("")
        self.ok.setEnabled(True)
        self.logged_in.emit(session)
        self.accept()

    def _failed(self, error):
        self.password.clear()
        self.password.setFocus()
        if isinstance(error, LoginDelayed):
            self.error.show_message(error.message)
            self._retry.start(int(error.seconds * 1000) + 50)
            return
        self.ok.setEnabled(True)
        if isinstance(error, DatabaseDamaged):
            # Never show partial data: offer the last verified backup instead.
            self.restore_button.show()
        if isinstance(error, UsalamaError):
            self.error.show_message(error.message)
        else:
            from .errors import show_error

            self.error.show_message(_("Something went wrong; see the details."))
            show_error(error, self)

    def restore(self, path: str | None = None):
        """Bring back a backup, opened with the user name and password typed above (as they were then)."""
        if not path:
            folder = self.installation.paths.backups
            backups = sorted(folder.glob("*.usalama-backup")) if folder.is_dir() else []
            start = str(backups[-1]) if backups else str(folder)
            path, _f = QFileDialog.getOpenFileName(self, _("Choose the backup to restore"), start,
                                                   _("Usalama backup (*.usalama-backup)"))
        if not path:
            return
        user, password = self.username.text().strip(), self.password.text()
        if not user or not password:
            self.error.show_message(_("Type the user name and password the backup was made with, then restore."))
            return
        from ..services.backup import restore_backup

        self.restore_button.setEnabled(False)
        self.error.show_message(_("Restoring…"), warning=True)

        def done(result):
            self.restore_button.setEnabled(True)
            self.restore_button.hide()
            self.password.clear()
            self.password.setFocus()
            self.error.show_message(_("Backup from {when} restored. Log in.").format(when=result.get("created_at",
                                                                                                   "?")), warning=True)

        def failed(error):
            self.restore_button.setEnabled(True)
            self._failed(error)

        self.tasks.run(lambda: restore_backup(self.installation, path, user, password), done, failed)

    def recover(self):
        dialog = RecoveryDialog(self.installation, self.tasks, self)
        dialog.recovered.connect(lambda s: (self.logged_in.emit(s), self.accept()))
        dialog.open()


class RecoveryDialog(QDialog):
    recovered = Signal(object)

    def __init__(self, installation, tasks, parent=None):
        super().__init__(parent)
        self.installation = installation
        self.tasks = tasks
        self.setWindowTitle(_("Use the recovery key"))
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(_("Type the recovery key printed at set-up, the account to open, and a new password "
                                  "for it. Using the key is written in the audit trail.")))
        form = QFormLayout()
        self.key = QLineEdit()
        self.key.setObjectName("recovery_key")
        self.key.setPlaceholderText("XXXX-XXXX-XXXX-…")
        self.username = QLineEdit("admin")
        self.new1 = password_field()
        self.new2 = password_field()
        form.addRow(_("Recovery key"), self.key)
        form.addRow(_("User name"), self.username)
        form.addRow(_("New password"), self.new1)
        form.addRow(_("New password again"), self.new2)
        layout.addLayout(form)
        self.error = ErrorLabel()
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        self.ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        layout.addWidget(buttons)
        self.key.setFocus(Qt.FocusReason.OtherFocusReason)

    def submit(self):
        if self.new1.text() != self.new2.text():
            self.error.show_message(_("The two passwords differ."))
            return
        key, user, pw = self.key.text(), self.username.text().strip().lower(), self.new1.text()
        self.ok.setEnabled(False)
        self.tasks.run(lambda: self.installation.recover(key, user, pw), self._done, self._failed)

    def _done(self, session):
        self.recovered.emit(session)
        self.accept()

    def _failed(self, error):
        self.ok.setEnabled(True)
        if isinstance(error, UsalamaError):
            self.error.show_message(error.message)
        else:
            from .errors import show_error

            show_error(error, self)

"""First-run wizard: the agency, the first administrator, and the recovery key shown once."""

from __future__ import annotations

from ..errors import UsalamaError
from ..i18n import _
from ..reference import AGENCY_TYPES, counties
from ..services.installation import check_password
from ..store.keyslots import check_username
from .qt import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QFileDialog,
    QFont,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    Qt,
    QVBoxLayout,
    QWizard,
    QWizardPage,
    Signal,
)
from .widgets import ErrorLabel, password_field


def county_combo() -> QComboBox:
    combo = QComboBox()
    combo.setEditable(True)
    combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    for c in counties():
        combo.addItem(f"{c.label.en} ({c.value})", c.value)
    combo.completer().setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
    combo.completer().setFilterMode(Qt.MatchFlag.MatchContains)
    combo.setCurrentIndex(-1)
    return combo


class AgencyPage(QWizardPage):
    def __init__(self):
        super().__init__()
        self.setTitle(_("Your agency"))
        self.setSubTitle(_("Which agency keeps its records on this computer?"))
        form = QFormLayout(self)
        self.name = QLineEdit()
        self.name.setObjectName("agency_name")
        self.type = QComboBox()
        self.type.setObjectName("agency_type")
        for c in AGENCY_TYPES:
            self.type.addItem(str(c.label), c.value)
        self.county = county_combo()
        self.county.setObjectName("county")
        self.subcounty = QLineEdit()
        self.ward = QLineEdit()
        form.addRow(_("Agency name"), self.name)
        form.addRow(_("Agency type"), self.type)
        form.addRow(_("County"), self.county)
        form.addRow(_("Sub-county"), self.subcounty)
        form.addRow(_("Ward"), self.ward)
        self.error = ErrorLabel()
        form.addRow(self.error)

    def county_code(self) -> str | None:
        index = self.county.findText(self.county.currentText())
        return self.county.itemData(index) if index >= 0 else None

    def validatePage(self) -> bool:  # noqa: N802 (Qt's name)
        if not self.name.text().strip():
            self.error.show_message(_("Give the agency's name."))
            return False
        if not self.county_code():
            self.error.show_message(_("Choose the county from the list."))
            return False
        self.error.show_message("")
        return True


class AdminPage(QWizardPage):
    def __init__(self, wizard: SetupWizard):
        super().__init__()
        self.wiz = wizard
        self.setTitle(_("The administrator"))
        self.setSubTitle(_("The first account manages users, backups and settings."))
        form = QFormLayout(self)
        self.username = QLineEdit("admin")
        self.username.setObjectName("admin_username")
        self.display = QLineEdit()
        self.password = password_field()
        self.password.setObjectName("admin_password")
        self.again = password_field()
        self.again.setObjectName("admin_password_again")
        form.addRow(_("User name"), self.username)
        form.addRow(_("Full name"), self.display)
        form.addRow(_("Password"), self.password)
        form.addRow(_("Password again"), self.again)
        self.error = ErrorLabel()
        self.error.setObjectName("admin_error")
        form.addRow(self.error)
        self._created = False

    def validatePage(self) -> bool:  # noqa: N802
        if self._created:
            return True
        try:
            check_username(self.username.text().strip().lower())
            check_password(self.password.text(), self.username.text().strip())
        except UsalamaError as exc:
            self.error.show_message(exc.message)
            return False
        if self.password.text() != self.again.text():
            self.error.show_message(_("The two passwords differ."))
            return False
        self.error.show_message(_("Setting up the encrypted database…"), warning=True)
        self.wiz.create_installation()
        return False  # the wizard moves on when the set-up has finished

    def created(self):
        self._created = True
        self.error.show_message("")


class RecoveryPage(QWizardPage):
    def __init__(self, wizard: SetupWizard):
        super().__init__()
        self.wiz = wizard
        self.setTitle(_("Your recovery key"))
        self.setSubTitle(_("If every password is forgotten, this key is the only way back into the records. Write it "
                           "down or print it now; it is not shown again."))
        layout = QVBoxLayout(self)
        self.key = QLabel()
        self.key.setObjectName("recovery_key")
        self.key.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = QFont("monospace")
        font.setStyleHint(QFont.StyleHint.Monospace)
        font.setPointSizeF(font.pointSizeF() * 1.3)
        self.key.setFont(font)
        self.key.setWordWrap(True)
        layout.addWidget(self.key)
        self.pdf = QPushButton(_("Save the recovery sheet as PDF…"))
        self.pdf.clicked.connect(self.save_pdf)
        layout.addWidget(self.pdf)
        self.confirm = QCheckBox(_("I have written down or printed the recovery key and will keep it locked away."))
        self.confirm.setObjectName("recovery_confirm")
        self.confirm.toggled.connect(self.completeChanged)
        layout.addWidget(self.confirm)

    def initializePage(self):  # noqa: N802
        key = self.wiz.recovery_key or ""
        groups = key.split("-")
        self.key.setText("\n".join("  ".join(groups[i:i + 5]) for i in range(0, len(groups), 5)))

    def isComplete(self) -> bool:  # noqa: N802
        return self.confirm.isChecked()

    def save_pdf(self):
        path, _filter = QFileDialog.getSaveFileName(self, _("Save the recovery sheet"), "usalama-recovery-key.pdf",
                                                    "PDF (*.pdf)")
        if path:
            self.wiz.write_recovery_pdf(path)


class SetupWizard(QWizard):
    setup_done = Signal(object)  # the Session

    def __init__(self, installation, tasks, parent=None):
        super().__init__(parent)
        self.installation = installation
        self.tasks = tasks
        self.session = None
        self.recovery_key: str | None = None
        self.setWindowTitle(_("Set up Usalama Desktop"))
        self.agency = AgencyPage()
        self.admin = AdminPage(self)
        self.recovery = RecoveryPage(self)
        for page in (self.agency, self.admin, self.recovery):
            self.addPage(page)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)

    def create_installation(self):
        a, p = self.agency, self.admin
        args = dict(
            agency_name=a.name.text().strip(), agency_type=a.type.currentData(), county=a.county_code(),
            admin_username=p.username.text().strip().lower(), admin_password=p.password.text(),
            subcounty=a.subcounty.text().strip(), ward=a.ward.text().strip(), admin_display_name=p.display.text(),
        )
        self.button(QWizard.WizardButton.NextButton).setEnabled(False)
        self.tasks.run(lambda: self.installation.initialise(**args), self._created, self._failed)

    def _created(self, result):
        self.session, self.recovery_key = result
        self.admin.created()
        self.button(QWizard.WizardButton.NextButton).setEnabled(True)
        self.next()

    def _failed(self, error):
        self.button(QWizard.WizardButton.NextButton).setEnabled(True)
        if isinstance(error, UsalamaError):
            self.admin.error.show_message(error.message)
        else:
            from .errors import show_error

            show_error(error, self)

    def write_recovery_pdf(self, path: str):
        from ..reports.recovery import recovery_key_pdf

        key, session = self.recovery_key, self.session
        self.tasks.run(lambda: recovery_key_pdf(path, key, session.agency.name, session.installation_id))

    def accept(self):
        if self.session is None:
            return
        self.recovery_key = None
        self.recovery.key.clear()
        super().accept()
        self.setup_done.emit(self.session)

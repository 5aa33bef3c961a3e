"""Windows for the community imports and the survey results: the mobile platform's text messages, a KoboToolbox
export with its XLSForm, and the safety audit by ward. Thin over io/sms.py, io/kobo.py and services/survey.py; the
slow work runs on the database worker with progress and cancel."""

from __future__ import annotations

from pathlib import Path

from .. import clock
from ..errors import UsalamaError
from ..forms.registry import ref
from ..i18n import _
from ..io.kobo import import_kobo, propose_mapping, read_xlsform
from ..io.sms import import_sms
from ..services.records import Query, RecordService
from ..services.survey import ward_results
from .qt import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from .widgets import ErrorLabel

SPREADSHEETS = "(*.csv *.xlsx *.xls *.ods *.txt)"


def _parent(window) -> QWidget | None:
    return window if isinstance(window, QWidget) else None


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def _fill(table: QTableWidget, rows: list[list[str]]) -> None:
    table.setRowCount(len(rows))
    for r, cells in enumerate(rows):
        for c, text in enumerate(cells):
            table.setItem(r, c, QTableWidgetItem(text))


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def _pairs(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            raise UsalamaError(_("Write one NAME=VALUE on each line."))
        out[name.strip()] = value.strip()
    return out


class _PathRow(QWidget):
    """A file path with a Choose button."""

    def __init__(self, title: str, pattern: str, name: str, parent=None):
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit()
        self.edit.setObjectName(name)
        self.title, self.pattern = title, pattern
        browse = QPushButton(_("Choose file…"))
        browse.clicked.connect(self.browse)
        row.addWidget(self.edit, 1)
        row.addWidget(browse)

    def browse(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(self, self.title, "", self.pattern)
        if path:
            self.edit.setText(path)

    def path(self) -> Path | None:
        text = self.edit.text().strip()
        return Path(text) if text else None


class _ImportWindow(QDialog):
    """What both imports share: a check-only option, an Import button, the row accounting and a place for errors."""

    def __init__(self, window, title: str):
        super().__init__(_parent(window))
        self.window = window
        self.report = None
        self.setWindowTitle(title)
        self.resize(860, 620)
        self.layout_ = QVBoxLayout(self)
        self.form = QFormLayout()
        self.layout_.addLayout(self.form)
        self.check_only = QCheckBox(_("Only check the rows; save nothing"))
        self.check_only.setObjectName("check_only")
        self.layout_.addWidget(self.check_only)
        self.error = ErrorLabel()
        self.layout_.addWidget(self.error)
        self.summary = QLabel("")
        self.summary.setObjectName("import_summary")
        self.summary.setWordWrap(True)
        self.layout_.addWidget(self.summary)
        self.rows = _table([_("Row"), _("Kind"), _("Outcome"), _("Reasons")])
        self.rows.setObjectName("import_rows")
        self.layout_.addWidget(self.rows, 1)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.import_button = self.buttons.addButton(_("Import"), QDialogButtonBox.ButtonRole.ActionRole)
        self.import_button.setObjectName("import_button")
        self.import_button.clicked.connect(self.run_import)
        self.buttons.rejected.connect(self.reject)
        self.layout_.addWidget(self.buttons)

    @property
    def session(self):
        return self.window.session

    def run_import(self) -> None:
        raise NotImplementedError

    def start(self, title: str, job) -> None:
        self.error.show_message("")
        self.summary.setText("")
        self.import_button.setEnabled(False)
        self.window.tasks.run_with_progress(self, title, job, self.imported, self.failed)

    def imported(self, report) -> None:
        self.report = report
        self.import_button.setEnabled(True)
        lines = [report.summary(), *report.notes]
        if report.dry_run:
            lines.append(_("Only checked: nothing was saved."))
        self.summary.setText("\n".join(lines))
        _fill(self.rows, [[str(r.row), self.kind_of(r), r.status, "; ".join(r.problems)] for r in report.rows])

    def kind_of(self, row) -> str:
        return ""

    def failed(self, error: BaseException) -> None:
        self.import_button.setEnabled(True)
        if isinstance(error, UsalamaError):
            self.error.show_message(error.message)
            return
        from .tasks import report_error

        report_error(error)


class SmsImportDialog(_ImportWindow):
    """The mobile platform's export into police ratings and complaints, through the saved column mappings."""

    def __init__(self, window):
        super().__init__(window, _("Import text messages from the mobile platform"))
        self.file = _PathRow(_("Choose the platform's export"), _("Spreadsheets {pattern}").format(
            pattern=SPREADSHEETS), "sms_path")
        self.form.addRow(_("Export file:"), self.file)
        note = QLabel(_("Ratings go to police service ratings and complaints to the complaint register, using the "
                        "saved mappings sms-ratings and sms-complaints. Phone numbers are never kept: each becomes a "
                        "sender code."))
        note.setWordWrap(True)
        self.form.addRow(note)

    def kind_of(self, row) -> str:
        from ..forms.registry import get_form

        return get_form(row.form).title.text() if row.form else ""

    def run_import(self) -> None:
        path = self.file.path()
        if path is None:
            self.error.show_message(_("Choose the export file first."))
            return
        session, dry_run = self.session, self.check_only.isChecked()
        self.start(_("Importing {name}").format(name=path.name),
                   lambda token: import_sms(session, path, dry_run=dry_run, progress=token.progress))


class KoboImportDialog(_ImportWindow):
    """A KoboToolbox export with its XLSForm into one survey round, with the question matching shown first."""

    def __init__(self, window):
        super().__init__(window, _("Import a KoboToolbox export"))
        self.export = _PathRow(_("Choose the KoboToolbox export"), _("Spreadsheets {pattern}").format(
            pattern=SPREADSHEETS), "kobo_export")
        self.xlsform = _PathRow(_("Choose the XLSForm"), _("XLSForm workbooks (*.xlsx *.xls)"), "kobo_xlsform")
        self.round = QComboBox()
        self.round.setObjectName("kobo_round")
        self.overrides = QPlainTextEdit()
        self.overrides.setObjectName("kobo_overrides")
        self.overrides.setPlaceholderText(_("field=question, one on each line (only where the match is wrong)"))
        self.overrides.setMaximumHeight(60)
        self.choice_overrides = QPlainTextEdit()
        self.choice_overrides.setObjectName("kobo_choice_overrides")
        self.choice_overrides.setPlaceholderText(_("question.code=value, one on each line"))
        self.choice_overrides.setMaximumHeight(60)
        self.form.addRow(_("Export (XLSX or CSV):"), self.export)
        self.form.addRow(_("XLSForm:"), self.xlsform)
        self.form.addRow(_("Survey round:"), self.round)
        self.form.addRow(_("Questions set by hand:"), self.overrides)
        self.form.addRow(_("Answers set by hand:"), self.choice_overrides)
        self.check_button = QPushButton(_("Check the question matching"))
        self.check_button.setObjectName("kobo_check")
        self.check_button.clicked.connect(self.check_mapping)
        self.form.addRow(self.check_button)
        self.matching = _table([_("Audit field"), _("Question")])
        self.matching.setObjectName("kobo_matching")
        self.matching.setMaximumHeight(180)
        self.form.addRow(self.matching)
        self.load_rounds()

    def load_rounds(self) -> None:
        session = self.session
        code, year = ref("survey_round", "round_code"), ref("survey_round", "year")

        def read():
            page = RecordService(session, "survey_round").page(Query(sort="rid"), limit=500)
            return [(r["id"], f"{r['values'].get(code)} ({r['values'].get(year)})") for r in page.rows]

        def loaded(rounds):
            self.round.clear()
            for round_id, label in rounds:
                self.round.addItem(label, round_id)
            if not rounds:
                self.error.show_message(_("There is no survey round yet. Create the round first, then import its "
                                          "interviews."))

        self.window.tasks.run(read, loaded, self.failed)

    def _paths(self) -> tuple[Path, Path] | None:
        export, xlsform = self.export.path(), self.xlsform.path()
        if export is None or xlsform is None:
            self.error.show_message(_("Choose both the export and its XLSForm."))
            return None
        return export, xlsform

    def _hand_set(self) -> tuple[dict[str, str], dict[str, str]] | None:
        """The questions and answers set by hand, or None (with the reason shown) when a line cannot be read."""
        try:
            return _pairs(self.overrides.toPlainText()), _pairs(self.choice_overrides.toPlainText())
        except UsalamaError as exc:
            self.error.show_message(exc.message)
            return None

    def check_mapping(self) -> None:
        xlsform = self.xlsform.path()
        if xlsform is None:
            self.error.show_message(_("Choose the XLSForm first."))
            return
        hand_set = self._hand_set()
        if hand_set is None:
            return
        self.error.show_message("")
        self.window.tasks.run(lambda: propose_mapping(read_xlsform(xlsform), *hand_set), self.show_mapping,
                              self.failed)

    def show_mapping(self, mapping) -> None:
        _fill(self.matching, [[target, question] for target, question in sorted(mapping.questions.items())])
        problems = mapping.problems()
        if problems:
            self.error.show_message(" ".join(problems))
        else:
            self.summary.setText(_("The form fits the safety audit questions."))

    def run_import(self) -> None:
        paths = self._paths()
        if paths is None:
            return
        round_id = self.round.currentData()
        if not round_id:
            self.error.show_message(_("Choose the survey round."))
            return
        hand_set = self._hand_set()
        if hand_set is None:
            return
        overrides, choices = hand_set
        export, xlsform = paths
        session, dry_run = self.session, self.check_only.isChecked()
        self.start(_("Importing {name}").format(name=export.name),
                   lambda token: import_kobo(session, export, xlsform, round_id, overrides, choices, dry_run=dry_run,
                                             progress=token.progress))

    def kind_of(self, row) -> str:
        return _("Interview")


class SurveyResultsDialog(QDialog):
    """The safety audit by ward for a year, beside the incidents the agencies recorded in the same ward and year."""

    def __init__(self, window):
        super().__init__(_parent(window))
        self.window = window
        self.results = None
        self.setWindowTitle(_("Safety audit results by ward"))
        self.resize(980, 560)
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.year = QSpinBox()
        self.year.setObjectName("survey_year")
        self.year.setRange(2000, 2100)
        self.year.setValue(clock.today().year)
        self.min_n = QSpinBox()
        self.min_n.setRange(1, 1000)
        self.min_n.setValue(5)
        self.show_button = QPushButton(_("Show"))
        self.show_button.setObjectName("survey_show")
        self.show_button.clicked.connect(self.refresh)
        row.addWidget(QLabel(_("Year:")))
        row.addWidget(self.year)
        row.addWidget(QLabel(_("Hide rates below this many respondents:")))
        row.addWidget(self.min_n)
        row.addStretch(1)
        row.addWidget(self.show_button)
        layout.addLayout(row)
        self.title = QLabel("")
        self.title.setObjectName("survey_title")
        layout.addWidget(self.title)
        self.table = _table([_("Ward"), _("Respondents"), _("Victimisation rate"), _("Reporting rate"),
                             _("Feel safe"), _("Never walk alone"), _("Don't know"), _("Trust police"),
                             _("Trust local justice"), _("Incidents recorded"), _("Most recorded offence")])
        self.table.setObjectName("survey_table")
        layout.addWidget(self.table, 1)
        self.notes = QLabel(_("Feel safe: very or fairly safe walking alone after dark (SDG 16.1.4), over those who "
                              "said how safe they feel; \"I never walk alone after dark\" and \"don't know\" are "
                              "counted apart. Victimisation: household or personal crime in the last 12 months. "
                              "Reporting: cases whose most recent one was reported to the police. Recorded "
                              "incidents: the observatory's records for the same ward and calendar year."))
        self.notes.setWordWrap(True)
        layout.addWidget(self.notes)
        self.error = ErrorLabel()
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.refresh()

    def refresh(self) -> None:
        session, year, min_n = self.window.session, self.year.value(), self.min_n.value()
        self.error.show_message("")
        self.window.tasks.run(lambda: ward_results(session, year, min_n=min_n), self.shown, self.failed)

    def shown(self, results) -> None:
        self.results = results
        self.title.setText(_("Safety audit {year}: rounds {rounds}").format(
            year=results.year, rounds=", ".join(results.rounds) or "–"))
        rows = []
        for w in [*results.wards, *([results.total] if results.wards else [])]:
            name = w.ward or (_("All wards") if w is results.total else _("Not recorded"))
            rows.append([name, str(w.respondents), _percent(w.victimisation_rate), _percent(w.reporting_rate),
                         _percent(w.safe_share), str(w.never_alone), str(w.dont_know), _percent(w.trust_police_share),
                         _percent(w.trust_justice_share),
                         "–" if w.recorded_incidents is None else str(w.recorded_incidents),
                         w.recorded_top_category or ""])
        _fill(self.table, rows)
        if results.notes:
            self.error.show_message(" ".join(results.notes), warning=True)

    def failed(self, error: BaseException) -> None:
        if isinstance(error, UsalamaError):
            self.error.show_message(error.message)
            return
        from .tasks import report_error

        report_error(error)


def sms_import_dialog(window) -> SmsImportDialog:
    dialog = SmsImportDialog(window)
    dialog.show()
    return dialog


def kobo_import_dialog(window) -> KoboImportDialog:
    dialog = KoboImportDialog(window)
    dialog.show()
    return dialog

"""Import, export and blank templates for any form: thin windows over usalama_desktop.io, with the slow work on the
database worker (progress and cancel) and every rule left to the services."""

from __future__ import annotations

from pathlib import Path

from ..errors import UsalamaError
from ..forms.fields import CHOICE, MULTI, PLACE, FieldError
from ..forms.registry import get_form
from ..i18n import _, current_language
from ..io import mapping as mappings
from ..io.export import export_records
from ..io.importer import import_file, template_plan
from ..io.layout import targets
from ..io.mapping import ColumnRule, Mapping, fold
from ..io.tabular import cell_text, is_blank, read_book
from ..io.template import write_template
from ..services.records import Query, RecordService
from .qt import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDesktopServices,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QUrl,
    QVBoxLayout,
    QWidget,
)
from .tasks import report_error
from .widgets import ErrorLabel

AUTOMATIC = "__automatic__"
NOT_IMPORTED = ""
MAX_VALUES = 200  # distinct values listed per column for value mapping


def show_inline(label: ErrorLabel, error: BaseException) -> None:
    """The user's own problem goes under the form; anything else is ours, for the crash dialog."""
    if isinstance(error, UsalamaError):
        label.show_message(error.message)
        return
    report_error(error)


def _dialog_parent(window) -> QWidget | None:
    return window if isinstance(window, QWidget) else None


def _choice_field(column) -> bool:
    f = column.field
    return f is not None and (f.kind in (CHOICE, MULTI) or (f.kind == PLACE and column.part == "county"))


def _choices_of(column) -> list[tuple[str, str]]:
    """(value, label) of what a mapped value may become."""
    f = column.field
    if f.kind == PLACE:
        from ..forms.choices import get

        cl = get("counties")
    else:
        cl = f.choice_list
    return [(c.value, c.label.text()) for c in cl.choices]


def _automatic(column, text: str) -> str | None:
    """What a value becomes with no value map: the field's own reading (value, label or alias), else None."""
    if is_blank(text):
        return None
    try:
        if column.field.kind == PLACE:
            return column.field.parse({"county": text})["county"]
        found = column.field.parse(text)
    except FieldError:
        return None
    return found[0] if isinstance(found, list) and len(found) == 1 else (None if isinstance(found, list) else found)


class ImportDialog(QDialog):
    """Choose a file, choose or build a column mapping (columns, values, fixed values), save it, import it."""

    def __init__(self, window, form_name: str):
        super().__init__(_dialog_parent(window))
        self.window = window
        self.form = get_form(form_name)
        self.targets = targets(self.form)
        self.book = None
        self.headers: list[str] = []
        self.distinct: dict[str, list[str]] = {}
        self.is_template = False
        self.report = None
        self.extras: dict[tuple[str, str], ColumnRule] = {}
        self.saved: dict[str, Mapping] = {}
        self.setWindowTitle(_("Import into {form}").format(form=self.form.title.text()))
        self.resize(900, 700)
        layout = QVBoxLayout(self)

        row = QHBoxLayout()
        self.path_edit = QLineEdit()
        self.path_edit.setObjectName("import_path")
        self.path_edit.setPlaceholderText(_("A filled template, or any .xlsx or .csv file"))
        self.path_edit.editingFinished.connect(self.load_file)
        browse = QPushButton(_("Choose file…"))
        browse.clicked.connect(self.browse)
        row.addWidget(QLabel(_("File:")))
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        layout.addLayout(row)

        row = QHBoxLayout()
        self.mapping_combo = QComboBox()
        self.mapping_combo.setObjectName("import_mapping")
        row.addWidget(QLabel(_("Column mapping:")))
        row.addWidget(self.mapping_combo, 1)
        layout.addLayout(row)
        self.file_note = QLabel("")
        self.file_note.setWordWrap(True)
        layout.addWidget(self.file_note)

        self.columns_box = QGroupBox(_("Columns: which field each column of the file fills"))
        box = QVBoxLayout(self.columns_box)
        self.columns = QTableWidget(0, 2)
        self.columns.setObjectName("import_columns")
        self.columns.setHorizontalHeaderLabels([_("Column in the file"), _("Field")])
        self.columns.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.columns.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        box.addWidget(self.columns)
        again = QPushButton(_("Use the selected column for another field too"))
        again.clicked.connect(self.repeat_selected)
        box.addWidget(again)
        layout.addWidget(self.columns_box, 2)

        self.values_box = QGroupBox(_("Values: what the file's values mean"))
        box = QVBoxLayout(self.values_box)
        self.unmatched = QLabel("")
        self.unmatched.setObjectName("import_unmatched")
        self.unmatched.setWordWrap(True)
        box.addWidget(self.unmatched)
        self.values = QTableWidget(0, 3)
        self.values.setObjectName("import_values")
        self.values.setHorizontalHeaderLabels([_("Field"), _("Value in the file"), _("Means")])
        self.values.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        box.addWidget(self.values)
        layout.addWidget(self.values_box, 2)

        self.fixed_box = QGroupBox(_("Fixed values for every row"))
        box = QVBoxLayout(self.fixed_box)
        self.fixed = QTableWidget(0, 2)
        self.fixed.setObjectName("import_fixed")
        self.fixed.setHorizontalHeaderLabels([_("Field"), _("Value")])
        self.fixed.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        box.addWidget(self.fixed)
        buttons = QHBoxLayout()
        add = QPushButton(_("Add a fixed value"))
        add.clicked.connect(lambda: self.add_fixed())
        remove = QPushButton(_("Remove"))
        remove.clicked.connect(lambda: self.fixed.removeRow(self.fixed.currentRow()))
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        box.addLayout(buttons)
        form = QFormLayout()
        self.blank_ref = QComboBox()
        self.blank_ref.addItem(_("Import it, keyed by the whole row (the same row again is a duplicate)"), "hash")
        self.blank_ref.addItem(_("Reject the row"), "reject")
        form.addRow(_("When a row has no reference:"), self.blank_ref)
        save_row = QHBoxLayout()
        self.save_name = QLineEdit()
        self.save_name.setObjectName("import_save_name")
        self.save_name.setPlaceholderText(_("Name for this mapping"))
        self.save_button = QPushButton(_("Save mapping"))
        self.save_button.setObjectName("import_save")
        self.save_button.clicked.connect(self.save_mapping)
        save_row.addWidget(self.save_name, 1)
        save_row.addWidget(self.save_button)
        form.addRow(_("Keep it for next time:"), save_row)
        box.addLayout(form)
        layout.addWidget(self.fixed_box, 1)

        self.error = ErrorLabel()
        layout.addWidget(self.error)
        self.result = QLabel("")
        self.result.setObjectName("import_result")
        self.result.setWordWrap(True)
        layout.addWidget(self.result)
        self.buttons = QDialogButtonBox()
        self.import_button = self.buttons.addButton(_("Import"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.import_button.setObjectName("import_run")
        self.import_button.clicked.connect(self.run_import)
        self.report_button = self.buttons.addButton(_("Open the row report"), QDialogButtonBox.ButtonRole.ActionRole)
        self.report_button.clicked.connect(self.open_report)
        self.report_button.hide()
        close = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        close.clicked.connect(self.reject)
        layout.addWidget(self.buttons)
        self.fill_mapping_list()
        self.mapping_combo.currentIndexChanged.connect(self.mapping_chosen)
        self.set_enabled()

    # --- choosing ---------------------------------------------------------------------------------------------

    @property
    def session(self):
        return self.window.session

    def fill_mapping_list(self, select: str | None = None) -> None:
        """Saved mappings are read on the worker (the database is the worker's), shipped ones from resources."""
        session, form = self.session, self.form.name

        def load():
            return {n: mappings.load_saved(session, n) for n in mappings.saved_names(session, form)}

        def fill(saved: dict[str, Mapping]) -> None:
            self.saved = saved
            self.mapping_combo.blockSignals(True)
            self.mapping_combo.clear()
            self.mapping_combo.addItem(_("Automatic (a Usalama template, or headers that name the fields)"),
                                       AUTOMATIC)
            for name in saved:
                self.mapping_combo.addItem(_("Saved: {name}").format(name=name), f"saved:{name}")
            for name, path in mappings.shipped().items():
                try:
                    m = mappings.read_file(path)
                except UsalamaError:
                    continue
                if m.form == form:
                    self.mapping_combo.addItem(_("Shipped: {name}").format(name=m.name or name), f"shipped:{name}")
            self.mapping_combo.blockSignals(False)
            if select:
                self.mapping_combo.setCurrentIndex(max(0, self.mapping_combo.findData(select)))

        self.window.tasks.run(load, fill, self.failed)

    def browse(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(self, _("Choose the file to import"), "",
                                                    _("Spreadsheets (*.xlsx *.xls *.ods *.csv *.txt)"))
        if path:
            self.path_edit.setText(path)
            self.load_file()

    def load_file(self) -> None:
        """Read the file's sheets on the worker: headers and the values each column holds."""
        text = self.path_edit.text().strip()
        if not text:
            return
        path = Path(text)
        form = self.form

        def read():
            book = read_book(path)
            sheet = next((s for s in book.sheets if s.visible), book.sheets[0])
            headers = [cell_text(v) for v in sheet.row(0)]
            distinct: dict[str, list[str]] = {}
            for i, h in enumerate(headers):
                seen: dict[str, None] = {}
                for r in sheet.rows[1:]:
                    if i < len(r) and len(seen) < MAX_VALUES:
                        seen.setdefault(cell_text(r[i]), None)
                distinct[h] = list(seen)
            return book, headers, distinct, template_plan(book, form) is not None

        self.error.show_message("")
        self.window.tasks.run(read, self.file_read, self.failed)

    def file_read(self, result) -> None:
        self.book, self.headers, self.distinct, self.is_template = result
        if self.is_template:
            self.file_note.setText(_("This is a Usalama template or export: its columns map themselves."))
            self.mapping_combo.setCurrentIndex(0)
        else:
            self.file_note.setText(_("{n} columns found. Choose the field each one fills, or choose a saved mapping.")
                                   .format(n=len([h for h in self.headers if h])))
        self.mapping_chosen()

    def mapping_chosen(self, *_args) -> None:
        data = self.mapping_combo.currentData()
        try:
            if data == AUTOMATIC or data is None:
                m = mappings.suggest(self.form, self.headers) if self.headers else Mapping(self.form.name)
            elif data.startswith("saved:"):
                m = self.saved[data.split(":", 1)[1]]
            else:
                m = mappings.read_file(mappings.shipped()[data.split(":", 1)[1]])
        except UsalamaError as exc:
            self.error.show_message(exc.message)
            return
        self.show_mapping(m)

    def show_mapping(self, m: Mapping) -> None:
        self.extras = {(r.source, r.target): r for r in m.columns}
        self.columns.setRowCount(0)
        shown = set()
        for rule in m.columns:
            self.add_column_row(rule.source, rule.target)
            shown.add(rule.source)
        for h in self.headers:
            if h and h not in shown:
                self.add_column_row(h, NOT_IMPORTED)
        self.fixed.setRowCount(0)
        for target, value in m.constants.items():
            self.add_fixed(target, value)
        self.blank_ref.setCurrentIndex(max(0, self.blank_ref.findData(m.blank_reference)))
        self.save_name.setText(m.name)
        self.refresh_values()
        self.set_enabled()

    def _target_combo(self, selected: str) -> QComboBox:
        combo = QComboBox()
        combo.addItem(_("— not imported —"), NOT_IMPORTED)
        for key, column in self.targets.items():
            combo.addItem(f"{column.label.text()}" + (f" ({key})" if "." in key else ""), key)
        combo.setCurrentIndex(max(0, combo.findData(selected)))
        return combo

    def add_column_row(self, source: str, target: str) -> None:
        row = self.columns.rowCount()
        self.columns.insertRow(row)
        item = QTableWidgetItem(source)
        item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
        self.columns.setItem(row, 0, item)
        combo = self._target_combo(target)
        combo.currentIndexChanged.connect(self.refresh_values)
        self.columns.setCellWidget(row, 1, combo)

    def repeat_selected(self) -> None:
        row = self.columns.currentRow()
        if row >= 0:
            self.add_column_row(self.columns.item(row, 0).text(), NOT_IMPORTED)

    def add_fixed(self, target: str = "", value: str = "") -> None:
        row = self.fixed.rowCount()
        self.fixed.insertRow(row)
        self.fixed.setCellWidget(row, 0, self._target_combo(target))
        self.fixed.setItem(row, 1, QTableWidgetItem(value))

    def column_rules(self) -> list[tuple[str, str]]:
        out = []
        for row in range(self.columns.rowCount()):
            target = self.columns.cellWidget(row, 1).currentData()
            if target:
                out.append((self.columns.item(row, 0).text(), target))
        return out

    def refresh_values(self, *_args) -> None:
        """List every value a choice column holds with what it will become; unmatched ones first."""
        old = self.value_choices()
        self.values.setRowCount(0)
        unmatched = 0
        rows = []
        for source, target in self.column_rules():
            column = self.targets[target]
            if not _choice_field(column):
                continue
            rule = self.extras.get((source, target))
            known = {fold(k): v for k, v in (rule.values if rule else {}).items()}
            for text in self.distinct.get(source, []):
                chosen = old.get((source, target, text), known.get(fold(text)))
                auto = _automatic(column, text)
                if chosen is None and auto is None and not is_blank(text):
                    unmatched += 1
                rows.append((source, target, text, chosen, auto, column))
        rows.sort(key=lambda r: (r[3] is not None or r[4] is not None or is_blank(r[2])))
        for source, target, text, chosen, auto, column in rows:
            row = self.values.rowCount()
            self.values.insertRow(row)
            name = QTableWidgetItem(f"{column.label.text()} ← {source}")
            name.setData(Qt.ItemDataRole.UserRole, (source, target))
            self.values.setItem(row, 0, name)
            self.values.setItem(row, 1, QTableWidgetItem(text))
            combo = QComboBox()
            combo.addItem(_("(as written)") if auto or is_blank(text) else _("— no match: choose —"), None)
            combo.addItem(_("(leave blank)"), "")
            for value, label in _choices_of(column):
                combo.addItem(label, value)
            if chosen is not None:
                combo.setCurrentIndex(max(0, combo.findData(chosen)))
            self.values.setCellWidget(row, 2, combo)
        self.unmatched.setText(
            _("{n} values match no choice. Choose what each means, or those rows will be rejected.").format(n=unmatched)
            if unmatched else "")
        self.values_box.setVisible(bool(rows))

    def value_choices(self) -> dict[tuple[str, str, str], str]:
        out = {}
        for row in range(self.values.rowCount()):
            source, target = self.values.item(row, 0).data(Qt.ItemDataRole.UserRole)
            value = self.values.cellWidget(row, 2).currentData()
            if value is not None:
                out[(source, target, self.values.item(row, 1).text())] = value
        return out

    def current_mapping(self) -> Mapping | None:
        """The mapping the widgets describe; None for a Usalama template read by its own key row."""
        if self.is_template and self.mapping_combo.currentData() == AUTOMATIC:
            return None
        choices = self.value_choices()
        rules = []
        for source, target in self.column_rules():
            old = self.extras.get((source, target))
            values = {text: v for (s, t, text), v in choices.items() if (s, t) == (source, target)}
            if old is not None:
                values = {**{k: v for k, v in old.values.items() if k not in values}, **values}
            rules.append(ColumnRule(source, target, values, old.default if old else None,
                                    old.month_day if old else None, old.first_chars if old else None))
        constants = {}
        for row in range(self.fixed.rowCount()):
            target = self.fixed.cellWidget(row, 0).currentData()
            item = self.fixed.item(row, 1)
            if target and item is not None and item.text().strip():
                constants[target] = item.text().strip()
        return Mapping(self.form.name, rules, constants, name=self.save_name.text().strip(),
                       blank_reference=self.blank_ref.currentData())

    def set_enabled(self) -> None:
        mapped = not (self.is_template and self.mapping_combo.currentData() == AUTOMATIC)
        for box in (self.columns_box, self.values_box, self.fixed_box):
            box.setEnabled(mapped)
        self.import_button.setEnabled(self.book is not None)

    # --- saving and importing ------------------------------------------------------------------------------------

    def save_mapping(self) -> None:
        m = self.current_mapping()
        if m is None:
            return
        try:
            mappings.check(m)
        except UsalamaError as exc:
            self.error.show_message(exc.message)
            return
        session = self.session

        def saved(_result):
            self.error.show_message("")
            self.fill_mapping_list(select=f"saved:{m.name}")
            self.result.setText(_("Mapping {name} saved.").format(name=m.name))

        self.window.tasks.run(lambda: mappings.save(session, m), saved, self.failed)

    def run_import(self) -> None:
        path = Path(self.path_edit.text().strip())
        try:
            m = self.current_mapping()
            if m is not None:
                mappings.check(m)
        except UsalamaError as exc:
            self.error.show_message(exc.message)
            return
        self.error.show_message("")
        self.result.setText("")
        self.import_button.setEnabled(False)
        session, form = self.session, self.form.name
        self.window.tasks.run_with_progress(self, _("Importing {name}").format(name=path.name),
                                            lambda token: import_file(session, form, path, m, token=token),
                                            self.imported, self.failed)

    def imported(self, report) -> None:
        self.report = report
        self.import_button.setEnabled(True)
        self.result.setText("\n".join(report.lines()))
        self.report_button.setVisible(report.report_path is not None)

    def failed(self, error: BaseException) -> None:
        self.import_button.setEnabled(self.book is not None)
        show_inline(self.error, error)

    def open_report(self) -> None:
        if self.report is not None and self.report.report_path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.report.report_path)))


class ExportDialog(QDialog):
    """Export the records the list shows (its filters), as .xlsx or .csv, narratives only when ticked."""

    def __init__(self, window, form_name: str, query: Query | None = None):
        super().__init__(_dialog_parent(window))
        self.window = window
        self.form = get_form(form_name)
        self.query = query or Query()
        self.result = None
        self.setWindowTitle(_("Export {form}").format(form=self.form.title.text()))
        layout = QVBoxLayout(self)
        self.count_label = QLabel("")
        self.count_label.setObjectName("export_count")
        layout.addWidget(self.count_label)
        form = QFormLayout()
        kinds = QHBoxLayout()
        self.as_xlsx = QRadioButton(_("Excel workbook (.xlsx)"))
        self.as_csv = QRadioButton(_("CSV text (.csv)"))
        self.as_xlsx.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.as_xlsx)
        group.addButton(self.as_csv)
        self.as_xlsx.toggled.connect(self._suffix)
        kinds.addWidget(self.as_xlsx)
        kinds.addWidget(self.as_csv)
        form.addRow(_("Format:"), kinds)
        self.lang = QComboBox()
        self.lang.addItem("English", "en")
        self.lang.addItem("Kiswahili", "sw")
        self.lang.setCurrentIndex(max(0, self.lang.findData(current_language())))
        form.addRow(_("Language of headers and choices:"), self.lang)
        svc = RecordService(window.session, self.form)
        local = [f for f in self.form.fields if f.local_only and f.tier in svc.tiers]
        self.include_local = QCheckBox(_("Also export {fields} (they never leave this computer otherwise; keep the "
                                         "file safe)").format(fields=", ".join(f.label.text() for f in local)))
        self.include_local.setObjectName("export_include_local")
        self.include_local.setVisible(bool(local))
        form.addRow("", self.include_local)
        row = QHBoxLayout()
        self.path_edit = QLineEdit()
        self.path_edit.setObjectName("export_path")
        browse = QPushButton(_("Choose…"))
        browse.clicked.connect(self.browse)
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        form.addRow(_("Save as:"), row)
        layout.addLayout(form)
        self.error = ErrorLabel()
        layout.addWidget(self.error)
        self.done_label = QLabel("")
        self.done_label.setObjectName("export_done")
        self.done_label.setWordWrap(True)
        layout.addWidget(self.done_label)
        buttons = QDialogButtonBox()
        self.export_button = buttons.addButton(_("Export"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setObjectName("export_run")
        self.export_button.clicked.connect(self.run_export)
        close = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        close.clicked.connect(self.reject)
        layout.addWidget(buttons)
        q = self.query
        window.tasks.run(lambda: svc.count(q), lambda n: self.count_label.setText(
            _("{n} records match the list's filters.").format(n=n)), self.failed)

    def _suffix(self, *_args) -> None:
        text = self.path_edit.text().strip()
        if text:
            self.path_edit.setText(str(Path(text).with_suffix(".xlsx" if self.as_xlsx.isChecked() else ".csv")))

    def browse(self) -> None:
        suffix = ".xlsx" if self.as_xlsx.isChecked() else ".csv"
        path, _filter = QFileDialog.getSaveFileName(self, _("Export to"), f"{self.form.name}{suffix}",
                                                    f"*{suffix}")
        if path:
            self.path_edit.setText(str(Path(path).with_suffix(suffix)))

    def run_export(self) -> None:
        text = self.path_edit.text().strip()
        if not text:
            self.error.show_message(_("Choose where to save the export."))
            return
        suffix = ".xlsx" if self.as_xlsx.isChecked() else ".csv"
        path = Path(text).with_suffix(suffix)
        session, form, q = self.window.session, self.form.name, self.query
        include, lang = self.include_local.isVisible() and self.include_local.isChecked(), self.lang.currentData()
        self.error.show_message("")
        self.export_button.setEnabled(False)
        self.window.tasks.run_with_progress(
            self, _("Exporting {form}").format(form=self.form.title.text()),
            lambda token: export_records(session, form, path, q, include_local=include, lang=lang, token=token),
            self.exported, self.failed)

    def exported(self, result) -> None:
        self.result = result
        self.export_button.setEnabled(True)
        self.done_label.setText(_("{n} records exported to {path}.").format(
            n=result.records, path=", ".join(str(p) for p in result.paths)))

    def failed(self, error: BaseException) -> None:
        self.export_button.setEnabled(True)
        show_inline(self.error, error)


def save_template(window, form_name: str, path: str | Path | None = None, lang: str | None = None) -> Path | None:
    """Ask where to save the blank template of a form (unless ``path`` is given) and write it."""
    form = get_form(form_name)
    if path is None:
        chosen, _filter = QFileDialog.getSaveFileName(_dialog_parent(window), _("Save the blank template"),
                                                      f"{form.name}-template.xlsx", "*.xlsx")
        if not chosen:
            return None
        path = chosen
    path = Path(path).with_suffix(".xlsx")
    try:
        write_template(form.name, path, lang or current_language())
    except (UsalamaError, OSError) as exc:
        from .errors import show_error

        show_error(exc if isinstance(exc, UsalamaError) else UsalamaError(
            _("The template could not be written to {path}. Choose another folder.").format(path=path)))
        return None
    status = getattr(window, "statusBar", None)
    if callable(status):
        status().showMessage(_("Template written to {path}.").format(path=path), 8000)
    return path

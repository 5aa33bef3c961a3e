"""A form's records: filters, search, the lazy list, and the way into new, open, delete, import and export."""

from __future__ import annotations

import datetime as dt
import importlib.util

from ..errors import UsalamaError
from ..forms.fields import FieldError, parse_date
from ..forms.registry import get_form
from ..i18n import L, _
from ..permissions import own_agency_only
from ..services.records import Query, RecordService
from .list_model import RecordListModel
from .qt import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    Qt,
    QTableView,
    QTimer,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from .record_window import RecordWindow
from .widgets import ErrorLabel, heading


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


# Module-specific ways in, shown in a form's menu: (modules, action needed, label, "module:callable(window)").
EXTRA_ACTIONS = [
    (("police_ratings", "complaints"), "import", L("Import text messages (SMS platform)…",
                                                   "Leta jumbe za simu (jukwaa la SMS)…"),
     "usalama_desktop.ui.community_imports:sms_import_dialog"),
    (("safety_audit",), "import", L("Import a KoboToolbox / ODK export…", "Leta data kutoka KoboToolbox / ODK…"),
     "usalama_desktop.ui.community_imports:kobo_import_dialog"),
    (("safety_audit",), "report", L("Survey results by ward…", "Matokeo ya utafiti kwa wadi…"),
     "usalama_desktop.ui.community_imports:SurveyResultsDialog"),
]


class RecordsPage(QWidget):
    def __init__(self, window, form_name: str):
        super().__init__()
        self.window = window
        self.form = get_form(form_name)
        self.service = RecordService(window.session, self.form)
        self.open_windows: list[RecordWindow] = []
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(heading(self.form.title.text()))
        top.addStretch(1)
        self.new_button = QPushButton(_("New (Ctrl+N)"))
        self.new_button.setObjectName("records_new")
        self.new_button.clicked.connect(lambda: self.open_record(None))
        self.new_button.setVisible(self.service.can("create"))
        top.addWidget(self.new_button)
        self.drafts_button = QPushButton()
        self.drafts_button.setObjectName("records_drafts")
        self.drafts_button.clicked.connect(self.resume_draft)
        self.drafts_button.hide()
        top.addWidget(self.drafts_button)
        self.more = QToolButton()
        self.more.setText(_("Import and export…"))
        self.more.setObjectName("records_excel")
        self.more.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.more)
        if _has("usalama_desktop.ui.excel_dialogs"):
            if self.service.can("import"):
                menu.addAction(_("Import a spreadsheet…"), self.import_file)
            if self.service.can("export"):
                menu.addAction(_("Export these records…"), self.export_file)
            menu.addAction(_("Blank template…"), self.template)
        for modules, action, label, target in EXTRA_ACTIONS:
            if self.form.module in modules and self.service.can(action) and _has(target.split(":")[0]):
                menu.addAction(label.text(), lambda t=target: self.run_extra(t))
        self.more.setMenu(menu)
        self.more.setVisible(bool(menu.actions()))
        top.addWidget(self.more)
        layout.addLayout(top)

        filters = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setObjectName("records_search")
        self.search.setPlaceholderText(_("Search…"))
        self.search.setClearButtonEnabled(True)
        self.search.setVisible(self.service.can("search"))
        filters.addWidget(self.search, 2)
        self.date_from = QLineEdit()
        self.date_from.setObjectName("records_from")
        self.date_from.setPlaceholderText(_("from dd/mm/yyyy"))
        self.date_to = QLineEdit()
        self.date_to.setObjectName("records_to")
        self.date_to.setPlaceholderText(_("to dd/mm/yyyy"))
        if self.form.date_field:
            filters.addWidget(self.date_from)
            filters.addWidget(self.date_to)
        self.category = self._choice_filter(self.form.category_field, "records_category", _("All categories"))
        self.status = self._choice_filter(self.form.status_field, "records_status", _("Any status"))
        for combo in (self.category, self.status):
            if combo is not None:
                filters.addWidget(combo, 1)
        self.agency = QComboBox()
        self.agency.setObjectName("records_agency")
        self.agency.addItem(_("All agencies"), None)
        self.agency.setVisible(not own_agency_only(window.session.actor))
        filters.addWidget(self.agency, 1)
        self.ward = QLineEdit()
        self.ward.setObjectName("records_ward")
        self.ward.setPlaceholderText(_("Ward"))
        if self.form.place_field:
            filters.addWidget(self.ward)
        clear = QPushButton(_("Clear"))
        clear.clicked.connect(self.clear_filters)
        filters.addWidget(clear)
        layout.addLayout(filters)
        self.filter_error = ErrorLabel()
        layout.addWidget(self.filter_error)

        self.table = QTableView()
        self.table.setObjectName("records_table")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()
        self.table.doubleClicked.connect(lambda index: self.open_record(self.model.record_id(index.row())))
        layout.addWidget(self.table, 1)
        self.status_line = QLabel()
        self.status_line.setObjectName("records_count")
        layout.addWidget(self.status_line)

        self.model = RecordListModel(self.service, window.tasks, parent=self)
        self.model.count_changed.connect(self._count)
        self.model.failed.connect(self._failed)
        self.table.setModel(self.model)
        self.table.setSortingEnabled(False)
        self.table.horizontalHeader().setSortIndicatorShown(True)
        self.table.horizontalHeader().sortIndicatorChanged.connect(self.model.sort)
        self.table.activated.connect(lambda index: self.open_record(self.model.record_id(index.row())))

        self.debounce = QTimer(self)
        self.debounce.setSingleShot(True)
        self.debounce.setInterval(300)
        self.debounce.timeout.connect(self.apply_filters)
        for edit in (self.search, self.date_from, self.date_to, self.ward):
            edit.textChanged.connect(lambda _t: self.debounce.start())
        for combo in (self.category, self.status, self.agency):
            if combo is not None:
                combo.currentIndexChanged.connect(lambda _i: self.apply_filters())
        self.loaded = False

    def _choice_filter(self, name, object_name, everything):
        if not name:
            return None
        field = self.form.by_name[name]
        combo = QComboBox()
        combo.setObjectName(object_name)
        combo.addItem(everything, None)
        for c in field.choice_list.choices:
            combo.addItem(c.label.text(), c.value)
        return combo

    # --- life cycle -----------------------------------------------------------------------------------------------

    def activated(self):
        if not self.loaded:
            self.loaded = True
            session = self.window.session
            if not own_agency_only(session.actor):
                self.window.tasks.run(lambda: [tuple(r) for r in session.db.query(
                    "SELECT id, name FROM agencies ORDER BY is_local DESC, name")], self._agencies)
            self.apply_filters()
        self.refresh_drafts()

    def session_changed(self, session):
        self.service = RecordService(session, self.form)
        self.model.service = self.service
        self.model.refresh()

    def _agencies(self, rows):
        self.model.agencies = dict(rows)
        self.model.show_agency = len(rows) > 1
        for agency_id, name in rows:
            self.agency.addItem(name, agency_id)
        self.model.refresh()

    def query(self) -> Query | None:
        q = Query()
        try:
            if self.date_from.text().strip():
                q.date_from = parse_date(self.date_from.text(), "day")
            if self.date_to.text().strip():
                q.date_to = parse_date(self.date_to.text(), "day")
        except FieldError as exc:
            self.filter_error.show_message(str(exc))
            return None
        self.filter_error.show_message("")
        if self.category is not None and self.category.currentData():
            q.categories = [self.category.currentData()]
        if self.status is not None and self.status.currentData():
            q.statuses = [self.status.currentData()]
        if self.agency.currentData():
            q.agency_ids = [self.agency.currentData()]
        if self.ward.text().strip():
            q.ward = self.ward.text().strip()
        if self.search.text().strip():
            q.text = self.search.text().strip()
            q.sort = "rid"
        return q

    def apply_filters(self):
        q = self.query()
        if q is not None:
            self.status_line.setText(_("Loading…"))
            self.model.set_query(q)

    def clear_filters(self):
        for edit in (self.search, self.date_from, self.date_to, self.ward):
            edit.blockSignals(True)
            edit.clear()
            edit.blockSignals(False)
        for combo in (self.category, self.status, self.agency):
            if combo is not None:
                combo.blockSignals(True)
                combo.setCurrentIndex(0)
                combo.blockSignals(False)
        self.apply_filters()

    def _count(self, n: int):
        self.status_line.setText(_("{n} records").format(n=f"{n:,}"))

    def _failed(self, error):
        if isinstance(error, UsalamaError):
            self.filter_error.show_message(error.message)
        else:
            from .errors import show_error

            show_error(error, self)

    # --- records --------------------------------------------------------------------------------------------------

    def open_record(self, record_id: str | None, draft: dict | None = None) -> RecordWindow | None:
        if record_id is None and not self.service.can("create"):
            return None
        w = RecordWindow(self.window, self.form, record_id, draft=draft)
        w.saved.connect(lambda _id: (self.model.refresh(), self.refresh_drafts()))
        w.destroyed.connect(lambda *_a, w=w: self.open_windows.remove(w) if w in self.open_windows else None)
        self.open_windows.append(w)
        w.show()
        return w

    def keyPressEvent(self, event):  # noqa: N802 (Qt's name)
        if event.key() == Qt.Key.Key_N and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.open_record(None)
            return
        super().keyPressEvent(event)

    def refresh_drafts(self):
        if not self.service.can("create"):
            return

        def show(drafts):
            self.drafts = drafts
            self.drafts_button.setText(_("Resume an unsaved draft ({n})").format(n=len(drafts)))
            self.drafts_button.setVisible(bool(drafts))

        self.window.tasks.run(self.service.drafts, show)

    def resume_draft(self):
        drafts = getattr(self, "drafts", [])
        if drafts:
            draft = drafts[0]
            self.open_record(draft["record_id"], draft=draft)

    def run_extra(self, target: str):
        module, name = target.split(":")
        result = getattr(importlib.import_module(module), name)(self.window)
        if hasattr(result, "finished"):
            result.finished.connect(lambda *_a: self.model.refresh())
        if hasattr(result, "open") and not result.isVisible():
            result.open()
        return result

    # --- spreadsheets ---------------------------------------------------------------------------------------------

    def import_file(self):
        from .excel_dialogs import ImportDialog

        dialog = ImportDialog(self.window, self.form.name)
        dialog.finished.connect(lambda *_a: self.model.refresh())
        dialog.open()

    def export_file(self):
        from .excel_dialogs import ExportDialog

        ExportDialog(self.window, self.form.name, self.query() or Query()).open()

    def template(self):
        from .excel_dialogs import save_template

        save_template(self.window, self.form.name)


__all__ = ["RecordsPage", "dt"]

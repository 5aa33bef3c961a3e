"""A record open for entry or editing: the generated form, Ctrl+S / Ctrl+N / Esc, autosaved drafts, history,
delete with a reason, and the case panel for longitudinal cases."""

from __future__ import annotations

from typing import Any

from ..errors import UsalamaError, ValidationFailed
from ..forms.definition import Form
from ..i18n import _
from ..services.records import RecordService
from .form_view import FormView
from .qt import (
    QAbstractItemView,
    QAction,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QInputDialog,
    QKeySequence,
    QLabel,
    QMainWindow,
    QMessageBox,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QTimer,
    QToolBar,
    QVBoxLayout,
    QWidget,
    Signal,
)

AUTOSAVE_MS = 10_000


class RecordWindow(QMainWindow):
    """Closes (after saving a draft) when the app locks."""

    saved = Signal(str)
    closes_on_lock = True

    def __init__(self, main_window, form: Form, record_id: str | None = None, draft: dict | None = None):
        super().__init__(main_window)
        self.setWindowFlag(Qt.WindowType.Window, True)
        self.main_window = main_window
        self.session = main_window.session
        self.tasks = main_window.tasks
        self.form = form
        self.service = RecordService(self.session, form)
        self.record_id = record_id
        self.revision: int | None = None
        self.draft_id: str | None = draft["id"] if draft else None
        self.pending_draft = draft if (draft and record_id) else None
        self.saving = False
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.resize(900, 760)
        self._update_title()

        hidden = {f.name for f in form.fields if f.tier not in self.service.tiers}
        self.view = FormView(form, hidden_fields=hidden)
        self.view.setObjectName("form_view")
        self.view.changed.connect(self._changed)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        self.banner = QLabel()
        self.banner.setObjectName("record_banner")
        self.banner.setWordWrap(True)
        layout.addWidget(self.banner)
        self.case_panel = None
        if form.case is not None:
            try:
                from .case_panel import CasePanel
            except ModuleNotFoundError:
                CasePanel = None  # noqa: N806 - the case panel lands with the case modules
            if CasePanel is not None:
                self.case_panel = CasePanel(self)
                # A step (session, referral, close) is its own saved revision: show it, and edit from there on.
                self.case_panel.changed.connect(self._step_saved)
                layout.addWidget(self.case_panel)
        layout.addWidget(self.view, 1)
        self.setCentralWidget(body)

        bar = QToolBar()
        bar.setMovable(False)
        self.addToolBar(bar)
        self.save_action = self._action(bar, _("Save"), "Ctrl+S", self.save, "save")
        self.new_action = self._action(bar, _("New"), "Ctrl+N", self.new_record, "new")
        bar.addSeparator()
        self.history_action = self._action(bar, _("History"), "Ctrl+H", self.show_history, "history")
        self.delete_action = self._action(bar, _("Delete…"), None, self.delete, "delete")
        bar.addSeparator()
        self._action(bar, _("Close"), "Esc", self.close, "close")
        self.save_action.setEnabled(self.service.can("create") if record_id is None else self.service.can("update"))
        self.new_action.setEnabled(self.service.can("create"))

        self.autosave = QTimer(self)
        self.autosave.setInterval(AUTOSAVE_MS)
        self.autosave.timeout.connect(self.save_draft)
        self.autosave.start()
        main_window.about_to_lock.connect(self.save_draft)

        self.tasks.run(self.service.place_names, self.view.set_place_suggestions, lambda _e: None)
        if record_id:
            self._load(record_id)
        else:
            self.view.set_values(form.clean(form.empty_values()))
            if draft:
                self.view.set_raw_values(draft["values"])
                self.banner.setText(_("Restored from an unsaved draft of {when}.").format(when=draft["updated_at"]))
        self._update_actions()
        first = self.view.first_editor()
        if first is not None:
            first.setFocus(Qt.FocusReason.OtherFocusReason)

    def _action(self, bar, text, shortcut, slot, name) -> QAction:
        action = QAction(text, self)
        action.setObjectName(f"action:{name}")
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
            action.setToolTip(f"{text} ({shortcut})")
        action.triggered.connect(slot)
        bar.addAction(action)
        return action

    # --- loading -----------------------------------------------------------------------------------------------

    def _load(self, record_id: str):
        self.view.setEnabled(False)

        def loaded(record):
            self.view.set_values(record["values"])
            self.revision = record["spine"]["revision"]
            self.view.setEnabled(True)
            spine = record["spine"]
            self.banner.setText(_("Revision {rev}, last changed by {who} on {when}.").format(
                rev=spine["revision"], who=spine["updated_by"], when=spine["updated_at"][:16].replace("T", " ")))
            if self.pending_draft:
                self.view.set_raw_values(self.pending_draft["values"])
                self.banner.setText(_("Restored from an unsaved draft of {when}.").format(
                    when=self.pending_draft["updated_at"]))
                self.pending_draft = None
            if spine["deleted"]:
                self.banner.setText(_("This record was deleted."))
                self.view.setEnabled(False)
                self.save_action.setEnabled(False)
            self._update_actions()

        self.tasks.run(lambda: self.service.get(record_id), loaded)

    def _step_saved(self, record_id: str) -> None:
        self.record_id = record_id
        self.saved.emit(record_id)
        self._load(record_id)

    def _update_title(self):
        what = self.form.title.text()
        self.setWindowTitle((_("New {form}").format(form=what) if not self.record_id else what) + "[*]")

    def _update_actions(self):
        self.history_action.setEnabled(bool(self.record_id))
        self.delete_action.setEnabled(bool(self.record_id) and self.service.can("delete"))

    def _changed(self):
        self.setWindowModified(True)

    # --- saving ------------------------------------------------------------------------------------------------

    def values(self) -> dict[str, Any]:
        return self.view.quiet_values()

    def save(self, then=None) -> None:
        if self.saving:
            return
        values, problems = self.view.values()
        if problems:
            first = self.view.show_problems(problems)
            if first is not None:
                first.setFocus()
            return
        self.saving = True
        record_id, revision, draft_id = self.record_id, self.revision, self.draft_id

        def job():
            if record_id is None:
                new_id = self.service.create(values, draft_id=draft_id)
                return new_id, 1
            return record_id, self.service.update(record_id, values, expected_revision=revision, draft_id=draft_id)

        def done(result):
            self.saving = False
            self.record_id, self.revision = result
            self.draft_id = None
            self.view.dirty = False
            self.setWindowModified(False)
            self.view.clear_problems()
            self.banner.setText(_("Saved."))
            self._update_title()
            self._update_actions()
            self.saved.emit(self.record_id)
            if then:
                then()

        def failed(error):
            self.saving = False
            if isinstance(error, ValidationFailed):
                first = self.view.show_problems(error.problems)
                self.banner.setText(_("Not saved: correct the fields marked in red."))
                if first is not None:
                    first.setFocus()
            elif isinstance(error, UsalamaError):
                self.banner.setText(error.message)
            else:
                from .errors import show_error

                show_error(error, self)

        self.tasks.run(job, done, failed)

    def save_draft(self) -> None:
        """Autosave what is typed (even half-typed) into the encrypted database, so a power cut loses nothing."""
        if not self.view.dirty or self.saving or self.session.closed:
            return
        raw = self.view.raw_values()
        draft_id, record_id = self.draft_id, self.record_id

        def done(new_id):
            self.draft_id = new_id

        self.tasks.run(lambda: self.service.save_draft(raw, draft_id, record_id), done, lambda _e: None)

    # --- other actions -----------------------------------------------------------------------------------------

    def new_record(self):
        if not self._confirm_discard():
            return
        self._discard_draft()
        self.record_id = None
        self.revision = None
        self.view.set_values(self.form.clean(self.form.empty_values()))
        self.view.clear_problems()
        self.setWindowModified(False)
        self.banner.setText("")
        self._update_title()
        self._update_actions()
        first = self.view.first_editor()
        if first is not None:
            first.setFocus()

    def show_history(self):
        if not self.record_id:
            return
        record_id = self.record_id
        self.tasks.run(lambda: self.service.history(record_id), lambda h: HistoryDialog(self, self.form, h).open())

    def delete(self):
        if not self.record_id:
            return
        reason, ok = QInputDialog.getText(self, _("Delete record"), _("Why is this record deleted? (kept in the "
                                                                       "history)"))
        if not ok:
            return
        record_id = self.record_id

        def done(_rev):
            self.view.dirty = False
            self.saved.emit(record_id)
            self.close()

        def failed(error):
            if isinstance(error, UsalamaError):
                self.banner.setText(error.message)
            else:
                from .errors import show_error

                show_error(error, self)

        self.tasks.run(lambda: self.service.delete(record_id, reason), done, failed)

    def _discard_draft(self):
        if self.draft_id and not self.session.closed:
            draft_id = self.draft_id
            self.tasks.run(lambda: self.service.discard_draft(draft_id), None, lambda _e: None)
        self.draft_id = None

    def _confirm_discard(self) -> bool:
        if not self.view.dirty:
            return True
        box = QMessageBox(QMessageBox.Icon.Question, _("Discard changes?"),
                          _("This record has changes that are not saved. Discard them?"),
                          QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel, self)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        return box.exec() == QMessageBox.StandardButton.Discard

    def closeEvent(self, event):  # noqa: N802 (Qt's name)
        if self.session.closed or self.main_window.locking:
            self.autosave.stop()
            event.accept()
            return
        if not self._confirm_discard():
            event.ignore()
            return
        self.autosave.stop()
        self._discard_draft()
        event.accept()


class HistoryDialog(QDialog):
    """Who changed what and when, oldest first, with the old and new values of each changed field."""

    def __init__(self, parent, form: Form, history: list[dict]):
        super().__init__(parent)
        self.setWindowTitle(_("History"))
        self.resize(820, 420)
        layout = QVBoxLayout(self)
        rows = []
        for entry in history:
            who, when = entry["by"], entry["at"][:16].replace("T", " ")
            action = {"create": _("created"), "update": _("changed"), "delete": _("deleted")}.get(entry["action"],
                                                                                                 entry["action"])
            if entry.get("reason"):
                action += f" ({entry['reason']})"
            if not entry["changes"]:
                rows.append((when, who, action, "", "", ""))
            for c in entry["changes"]:
                rows.append((when, who, action, c["label"], _display(form, c["field"], c["old"]),
                             _display(form, c["field"], c["new"])))
        self.table = QTableWidget(len(rows), 6)
        self.table.setObjectName("history_table")
        self.table.setHorizontalHeaderLabels([_("When (UTC)"), _("Who"), _("What"), _("Field"), _("Before"),
                                              _("After")])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        for i, row in enumerate(rows):
            for j, text in enumerate(row):
                self.table.setItem(i, j, QTableWidgetItem(text))
        layout.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


def _display(form: Form, name: str, value) -> str:
    if value in (None, [], ""):
        return ""
    if name in form.repeat_by_name:
        repeat = form.repeat_by_name[name]
        return "; ".join(", ".join(f.display(row.get(f.name)) for f in repeat.fields if row.get(f.name) is not None)
                         for row in value)
    return form.by_name[name].display(value) if name in form.by_name else str(value)

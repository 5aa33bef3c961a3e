"""The case panel inside a record window: status, the timeline of sessions, referrals, closing and reopening, a
warning where the case belongs elsewhere (GBV before an AJS council), and a button for each step this user may take
now. Each step opens a small dialog built from the step's fields; the work runs on the worker thread through
``CaseService.perform``, so the rules are the service's, not the panel's.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import UsalamaError, ValidationFailed
from ..forms.fields import FieldError
from ..i18n import _
from ..services.cases import REFERRAL_RESULT, CaseService
from .form_widgets import FieldEditor, make_editor
from .qt import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from .widgets import ErrorLabel

_ROW_PREFIX = re.compile(r"^\w+\[\d+\]\.")  # "hearings[2].held_on" is the new row's held_on
WARNING_STYLE = "background: #fff4d6; color: #6b3e00; border: 1px solid #e0a800; padding: 6px;"


class CasePanel(QFrame):
    """``changed(record_id)`` fires after a step was saved: the record window reloads its form from it."""

    changed = Signal(str)

    def __init__(self, record_window):
        super().__init__(record_window)
        self.window = record_window
        self.tasks = record_window.tasks
        self.service = CaseService(record_window.session, record_window.form)
        self.record_id: str | None = record_window.record_id
        self.state: dict[str, Any] | None = None
        self.dialog: StepDialog | None = None
        self.buttons: dict[str, QPushButton] = {}
        self.setObjectName("case_panel")
        self.setFrameShape(QFrame.Shape.StyledPanel)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.status = QLabel()
        self.status.setObjectName("case_status")
        self.status.setWordWrap(True)
        font = self.status.font()
        font.setBold(True)
        self.status.setFont(font)
        layout.addWidget(self.status)
        self.warning = QLabel()
        self.warning.setObjectName("case_warning")
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet(WARNING_STYLE)
        self.warning.hide()
        layout.addWidget(self.warning)
        self.timeline = QListWidget()
        self.timeline.setObjectName("case_timeline")
        self.timeline.setMaximumHeight(130)
        layout.addWidget(self.timeline)
        self.button_row = QHBoxLayout()
        layout.addLayout(self.button_row)
        self.message = ErrorLabel()
        self.message.setObjectName("case_message")
        layout.addWidget(self.message)

        record_window.saved.connect(self._saved)
        view = getattr(record_window, "view", None)
        if view is not None and hasattr(view, "changed") and hasattr(record_window, "values"):
            view.changed.connect(self._typed)  # the GBV warning appears while the dispute is being entered
        if self.record_id:
            self.refresh()
        else:
            self.status.setText(_("New case: save it to start its timeline."))

    # --- loading --------------------------------------------------------------------------------------------

    def refresh(self) -> None:
        record_id = self.record_id
        if not record_id:
            return
        self.tasks.run(lambda: self.service.state(record_id), self._show, self._failed)

    def _saved(self, record_id: str) -> None:
        self.record_id = record_id
        self.refresh()

    def _typed(self) -> None:
        flow = self.service.flow
        if flow.warnings is None:
            return
        try:
            values = self.window.values()
        except (UsalamaError, FieldError, ValueError, TypeError):
            return
        self._set_warnings([w for w in [flow.warnings(values)] if w])

    def _set_warnings(self, warnings: list[str]) -> None:
        self.warning.setText("\n".join(warnings))
        self.warning.setVisible(bool(warnings))

    def _show(self, state: dict[str, Any]) -> None:
        self.state = state
        if state["open"]:
            text = _("{status} · opened {opened} · {what}: {n}").format(
                status=state["status_label"], opened=state["opened_on"] or "?",
                what=self.service.flow.session_label.text(), n=state["sessions"])
        else:
            text = _("{status} on {closed}: {outcome}").format(status=state["status_label"],
                                                              closed=state["closed_on"] or "?",
                                                              outcome=state["outcome_label"])
        self.status.setText(text)
        self._set_warnings(state["warnings"])
        self.timeline.clear()
        for event in state["timeline"]:
            item = QListWidgetItem(f"{event['on']}  {event['text']}")
            item.setData(Qt.ItemDataRole.UserRole, event["kind"])
            self.timeline.addItem(item)
        self.timeline.scrollToBottom()
        for button in self.buttons.values():
            self.button_row.removeWidget(button)
            button.deleteLater()
        self.buttons = {}
        for key, label in state["actions"]:
            button = QPushButton(label)
            button.setObjectName(f"case_action:{key}")
            button.clicked.connect(lambda _checked=False, k=key, t=label: self.start(k, t))
            self.button_row.addWidget(button)
            self.buttons[key] = button
        self.message.show_message("")

    def _failed(self, error: BaseException) -> None:
        if isinstance(error, UsalamaError):
            self.message.show_message(error.message)
        else:
            from .errors import show_error

            show_error(error, self)

    # --- steps --------------------------------------------------------------------------------------------

    def start(self, key: str, title: str) -> StepDialog | None:
        """Open the dialog for one step (refused while the record has unsaved edits: save those first)."""
        if self.state is None or not self.record_id:
            return None
        if self.window.isWindowModified():
            self.message.show_message(_("Save your changes to the record first, then take this step."))
            return None
        pending = self.state["pending_referrals"] if key == REFERRAL_RESULT else None
        self.dialog = StepDialog(self, key, title.rstrip("…"), self.service.step_fields(key),
                                 self.service.required_fields(key), pending)
        self.dialog.submitted.connect(self._perform)
        self.dialog.open()
        return self.dialog

    def _perform(self, key: str, values: dict[str, Any]) -> None:
        record_id, revision, dialog = self.record_id, self.state["revision"], self.dialog
        dialog.set_busy(True)

        def done(_revision):
            dialog.set_busy(False)
            dialog.accept()
            self.dialog = None
            self.changed.emit(record_id)
            self.refresh()

        def failed(error):
            dialog.set_busy(False)
            if isinstance(error, ValidationFailed):
                dialog.show_problems(error.problems)
            elif isinstance(error, UsalamaError):
                dialog.error.show_message(error.message)
            else:
                from .errors import show_error

                show_error(error, dialog)

        self.tasks.run(lambda: self.service.perform(record_id, key, expected_revision=revision, **values), done,
                       failed)


class StepDialog(QDialog):
    """The fields of one step; OK sends what was typed to the panel, problems come back inline."""

    submitted = Signal(str, dict)

    def __init__(self, parent: QWidget, key: str, title: str, fields, required: set[str],
                 pending: list[tuple[int, str]] | None = None):
        super().__init__(parent)
        self.key = key
        self.setObjectName(f"case_step:{key}")
        self.setWindowTitle(title)
        self.editors: dict[str, FieldEditor] = {}
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.referral: QComboBox | None = None
        if pending is not None:
            self.referral = QComboBox()
            self.referral.setObjectName("case_referral")
            for index, text in pending:
                self.referral.addItem(text, index)
            form.addRow(_("Referral"), self.referral)
        for field in fields:
            editor = make_editor(field)
            editor.setEnabled(True)  # status fields are read-only in the record form; a step is how they change
            self.editors[field.name] = editor
            box = QWidget()
            inner = QVBoxLayout(box)
            inner.setContentsMargins(0, 0, 0, 0)
            inner.addWidget(editor)
            inner.addWidget(editor.error)
            form.addRow(field.label.text() + (" *" if field.name in required else ""), box)
        layout.addLayout(form)
        self.error = ErrorLabel()
        self.error.setObjectName("case_step_error")
        layout.addWidget(self.error)
        self.button_box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok = self.button_box.button(QDialogButtonBox.StandardButton.Ok)
        self.button_box.accepted.connect(self.submit)
        self.button_box.rejected.connect(self.reject)
        layout.addWidget(self.button_box)
        self.resize(520, self.sizeHint().height())

    def submit(self) -> None:
        values: dict[str, Any] = {}
        problems = False
        for name, editor in self.editors.items():
            value, errors, _warnings = editor.check()
            problems = problems or bool(errors)
            if value is not None:
                values[name] = value
        if problems:
            self.error.show_message(_("Correct the fields marked in red."))
            return
        if self.referral is not None:
            values["index"] = self.referral.currentData()
        self.error.show_message("")
        self.submitted.emit(self.key, values)

    def set_busy(self, busy: bool) -> None:
        self.ok.setEnabled(not busy)

    def show_problems(self, problems: dict[str, list[str]]) -> None:
        other = []
        for where, messages in problems.items():
            editor = self.editors.get(_ROW_PREFIX.sub("", where))
            if editor is not None:
                editor.show_problem(messages, [])
            else:
                other.extend(messages)
        self.error.show_message(" ".join(other) or _("Correct the fields marked in red."))

"""The form, generated from its definition: sections, fields, repeat groups, skip logic and inline messages."""

from __future__ import annotations

import re
from typing import Any

from ..forms.definition import Form, Repeat
from ..forms.fields import Field, FieldError
from ..i18n import _
from .form_widgets import FieldEditor, PlaceEditor, make_editor
from .qt import (
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    Qt,
    QToolButton,
    QVBoxLayout,
    QWidget,
    Signal,
)
from .widgets import ErrorLabel

_PATH = re.compile(r"^(\w+)\[(\d+)\](?:\.(\w+))?$")


def _label_text(field: Field) -> str:
    return field.label.text() + (" *" if field.required else "")


class RepeatRow(QFrame):
    remove_requested = Signal(object)

    def __init__(self, repeat: Repeat, number: int, parent=None):
        super().__init__(parent)
        self.repeat = repeat
        self.setFrameShape(QFrame.Shape.StyledPanel)
        grid = QGridLayout(self)
        grid.setContentsMargins(6, 4, 6, 4)
        title = repeat.item_label.text() if repeat.item_label else repeat.label.text()
        self.title = QLabel(f"{title} {number}")
        grid.addWidget(self.title, 0, 0, 1, len(repeat.fields))
        self.editors: dict[str, FieldEditor] = {}
        for col, f in enumerate(repeat.fields):
            label = QLabel(_label_text(f))
            editor = make_editor(f)
            editor.focus_target().setObjectName(f"field:{repeat.name}.{f.name}")
            label.setBuddy(editor.focus_target())
            grid.addWidget(label, 1, col)
            grid.addWidget(editor, 2, col)
            grid.addWidget(editor.error, 3, col)
            self.editors[f.name] = editor
        remove = QToolButton()
        remove.setText("✕")
        remove.setToolTip(_("Remove this one"))
        remove.clicked.connect(lambda: self.remove_requested.emit(self))
        grid.addWidget(remove, 0, len(repeat.fields))

    def values(self, problems: dict[str, list[str]], index: int) -> dict[str, Any]:
        out = {}
        for name, editor in self.editors.items():
            try:
                out[name] = editor.value()
            except FieldError as exc:
                problems.setdefault(f"{self.repeat.name}[{index}].{name}", []).append(str(exc))
                out[name] = None
        return out

    def set_values(self, values: dict[str, Any]) -> None:
        for name, editor in self.editors.items():
            editor.set_value(values.get(name))


class RepeatEditor(QWidget):
    changed = Signal()

    def __init__(self, repeat: Repeat, parent=None):
        super().__init__(parent)
        self.repeat = repeat
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.rows_box = QVBoxLayout()
        layout.addLayout(self.rows_box)
        item = repeat.item_label.text() if repeat.item_label else repeat.label.text()
        self.add_button = QPushButton(_("Add {item}").format(item=item.lower()))
        self.add_button.setObjectName(f"add:{repeat.name}")
        self.add_button.clicked.connect(lambda: self.add_row(focus=True))
        layout.addWidget(self.add_button, alignment=Qt.AlignmentFlag.AlignLeft)
        self.error = ErrorLabel()
        layout.addWidget(self.error)
        self.rows: list[RepeatRow] = []

    def add_row(self, values: dict[str, Any] | None = None, focus: bool = False) -> RepeatRow:
        row = RepeatRow(self.repeat, len(self.rows) + 1)
        row.remove_requested.connect(self.remove_row)
        for editor in row.editors.values():
            editor.changed.connect(self.changed.emit)
        if values:
            row.set_values(values)
        self.rows.append(row)
        self.rows_box.addWidget(row)
        if focus:
            first = next(iter(row.editors.values()))
            first.focus_target().setFocus(Qt.FocusReason.TabFocusReason)
        self.changed.emit()
        return row

    def remove_row(self, row: RepeatRow) -> None:
        self.rows.remove(row)
        row.setParent(None)
        row.deleteLater()
        for i, r in enumerate(self.rows):
            r.title.setText(r.title.text().rsplit(" ", 1)[0] + f" {i + 1}")
        self.changed.emit()

    def values(self, problems: dict[str, list[str]]) -> list[dict[str, Any]]:
        return [row.values(problems, i) for i, row in enumerate(self.rows)]

    def set_values(self, rows: list[dict[str, Any]]) -> None:
        for row in list(self.rows):
            self.remove_row(row)
        for values in rows or []:
            self.add_row(values)


class FormView(QScrollArea):
    """Sections of fields in tab order; skip logic re-evaluated as answers change; messages inline, never modal."""

    changed = Signal()

    def __init__(self, form: Form, hidden_fields: set[str] | None = None, parent=None):
        super().__init__(parent)
        self.form = form
        self.setWidgetResizable(True)
        body = QWidget()
        outer = QVBoxLayout(body)
        self.form_error = ErrorLabel()
        self.form_error.setObjectName("form_error")
        outer.addWidget(self.form_error)
        self.editors: dict[str, FieldEditor] = {}
        self.repeats: dict[str, RepeatEditor] = {}
        self.rows: dict[str, tuple[QFormLayout, QWidget]] = {}
        self.sections: list[tuple[Any, QGroupBox]] = []
        hidden_fields = hidden_fields or set()
        for section in form.sections:
            box = QGroupBox(section.title.text())
            layout = QFormLayout(box)
            layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            for item in section.items:
                if isinstance(item, Repeat):
                    editor = RepeatEditor(item)
                    editor.setObjectName(f"repeat:{item.name}")
                    editor.changed.connect(self._on_change)
                    label = QLabel(item.label.text())
                    layout.addRow(label, editor)
                    self.repeats[item.name] = editor
                    self.rows[item.name] = (layout, editor)
                    continue
                if item.name in hidden_fields:
                    continue
                editor = make_editor(item)
                holder = QWidget()
                col = QVBoxLayout(holder)
                col.setContentsMargins(0, 0, 0, 0)
                col.addWidget(editor)
                col.addWidget(editor.error)
                label = QLabel(_label_text(item))
                label.setBuddy(editor.focus_target())
                if item.help:
                    label.setToolTip(item.help.text())
                layout.addRow(label, holder)
                editor.changed.connect(self._on_change)
                self.editors[item.name] = editor
                self.rows[item.name] = (layout, holder)
            outer.addWidget(box)
            self.sections.append((section, box))
        outer.addStretch(1)
        self.setWidget(body)
        self.dirty = False
        self._loading = False
        self._apply_logic()

    # --- values ------------------------------------------------------------------------------------------------

    def values(self) -> tuple[dict[str, Any], dict[str, list[str]]]:
        """What the form holds, parsed; plus messages for anything that could not be read."""
        problems: dict[str, list[str]] = {}
        out: dict[str, Any] = {}
        for name, editor in self.editors.items():
            try:
                out[name] = editor.value()
            except FieldError as exc:
                problems.setdefault(name, []).append(str(exc))
                out[name] = None
        for name, editor in self.repeats.items():
            out[name] = editor.values(problems)
        return out, problems

    def quiet_values(self) -> dict[str, Any]:
        return self.values()[0]

    def raw_values(self) -> dict[str, Any]:
        """What was typed, unparsed: for drafts, so half-typed dates are kept exactly as typed."""
        out = {name: editor.raw() for name, editor in self.editors.items()}
        for name, editor in self.repeats.items():
            out[name] = [{n: e.raw() for n, e in row.editors.items()} for row in editor.rows]
        return out

    def set_values(self, values: dict[str, Any]) -> None:
        self._loading = True
        try:
            for name, editor in self.editors.items():
                editor.set_value(values.get(name))
            for name, editor in self.repeats.items():
                editor.set_values(values.get(name) or [])
        finally:
            self._loading = False
        self.dirty = False
        self._apply_logic()

    def set_raw_values(self, raw: dict[str, Any]) -> None:
        """Restore a draft: parse what can be parsed, keep the rest as typed."""
        values, _problems = self.form.parse(raw)
        self.set_values(values)
        for name, editor in self.editors.items():
            if raw.get(name) not in (None, "") and values.get(name) is None and hasattr(editor, "edit"):
                editor.edit.setText(str(raw[name]))
        self.dirty = True

    def set_place_suggestions(self, suggestions: dict[str, list[str]]) -> None:
        for editor in self.editors.values():
            if isinstance(editor, PlaceEditor):
                editor.set_suggestions(suggestions)

    # --- logic -------------------------------------------------------------------------------------------------

    def _on_change(self):
        if self._loading:
            return
        self.dirty = True
        self._apply_logic()
        self.changed.emit()

    def _apply_logic(self):
        """Show only the questions that apply; refresh derived read-only fields."""
        values = self.quiet_values()
        derived = self.form.derive(dict(values))
        for f in self.form.fields:
            if f.derive is not None and f.name in self.editors:
                self.editors[f.name].set_value(derived.get(f.name))
        for f in self.form.fields:
            if f.name in self.rows:
                self._set_row_visible(f.name, self.form.relevant(f, values))
        for r in self.form.repeats:
            self._set_row_visible(r.name, self.form.relevant(r, values))
        for section, box in self.sections:
            box.setVisible(section.relevant is None or section.relevant(values))

    def _set_row_visible(self, name: str, visible: bool) -> None:
        layout, widget = self.rows[name]
        layout.setRowVisible(widget, visible)

    def is_visible_field(self, name: str) -> bool:
        layout, widget = self.rows[name]
        return layout.isRowVisible(widget)

    # --- messages ----------------------------------------------------------------------------------------------

    def clear_problems(self) -> None:
        self.form_error.show_message("")
        for editor in self.editors.values():
            editor.show_problem([], [])
        for rep in self.repeats.values():
            rep.error.show_message("")
            for row in rep.rows:
                for editor in row.editors.values():
                    editor.show_problem([], [])

    def show_problems(self, errors: dict[str, list[str]], warnings: dict[str, list[str]] | None = None) -> QWidget | None:
        """Put each message under its field; return the first field with an error, to move the cursor there."""
        self.clear_problems()
        first: QWidget | None = None
        leftovers = []
        for where, messages in {**(warnings or {}), **errors}.items():
            is_error = where in errors
            target = self._editor_at(where)
            if isinstance(target, FieldEditor):
                if is_error:
                    target.show_problem(messages, [])
                    first = first or target.focus_target()
                else:
                    target.show_problem([], messages)
            elif isinstance(target, RepeatEditor):
                target.error.show_message(" ".join(messages), warning=not is_error)
                first = first or target.add_button
            elif is_error:
                leftovers.extend(messages)
        if leftovers:
            self.form_error.show_message(" ".join(leftovers))
        if first is not None:
            self.ensureWidgetVisible(first)
        return first

    def _editor_at(self, where: str):
        if where in self.editors:
            return self.editors[where]
        if where in self.repeats:
            return self.repeats[where]
        m = _PATH.match(where)
        if m and m.group(1) in self.repeats:
            rows = self.repeats[m.group(1)].rows
            index = int(m.group(2))
            if index < len(rows) and m.group(3):
                return rows[index].editors.get(m.group(3))
            return self.repeats[m.group(1)]
        return None

    def first_editor(self) -> QWidget | None:
        for editor in self.editors.values():
            if editor.isEnabled():
                return editor.focus_target()
        return None


__all__ = ["FormView", "QHBoxLayout"]

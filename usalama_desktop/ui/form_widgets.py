"""One editor widget per field kind, all with the same small interface, generated from the field definition.

Keyboard first: every editor takes focus in tab order, choice lists type-ahead (match anywhere in the label),
dates are typed (12/3/2024, 2024-03-12, or 2024-03 where a month is allowed), times as 14:30 or a part of day.
Each editor parses with the field's own ``parse`` and checks with its own ``check``: the same code the service and
the importers run, so the inline message and the save agree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..forms import choices as choice_lists
from ..forms.fields import (
    CHOICE,
    DATE,
    DECIMAL,
    INTEGER,
    LONGTEXT,
    MONTH,
    MULTI,
    PLACE,
    PLACE_PARTS,
    REFERENCE,
    TEXT,
    TIME,
    YESNO,
    Field,
    FieldError,
)
from ..i18n import _
from .qt import (
    QComboBox,
    QCompleter,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QSizePolicy,
    QStringListModel,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from .widgets import ErrorLabel


class FieldEditor(QWidget):
    """Base: ``raw()`` is what is typed, ``value()`` the parsed value (raises FieldError), ``set_value`` fills."""

    changed = Signal()

    def __init__(self, field: Field, parent=None):
        super().__init__(parent)
        self.field = field
        self.error = ErrorLabel()
        self.error.setObjectName(f"error:{field.name}")

    def value(self) -> Any:
        return self.field.parse(self.raw())

    def raw(self) -> Any:
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def focus_target(self) -> QWidget:
        return self

    def check(self) -> tuple[Any, list[str], list[str]]:
        """(value, errors, warnings) for this field alone; shows the message inline."""
        try:
            value = self.value()
        except FieldError as exc:
            self.show_problem([str(exc)], [])
            return None, [str(exc)], []
        errors = self.field.check(value)
        warnings = self.field.soft_check(value) if not errors else []
        self.show_problem(errors, warnings)
        return value, errors, warnings

    def show_problem(self, errors: list[str], warnings: list[str]) -> None:
        if errors:
            self.error.show_message(" ".join(errors))
        elif warnings:
            self.error.show_message(" ".join(warnings), warning=True)
        else:
            self.error.show_message("")


class LineEditor(FieldEditor):
    def __init__(self, field: Field, parent=None, placeholder: str = ""):
        super().__init__(field, parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit()
        self.edit.setObjectName(f"field:{field.name}")
        self.edit.setPlaceholderText(placeholder)
        self.edit.setMaxLength(field.limit if field.kind == TEXT else 64)
        layout.addWidget(self.edit, 1)
        self.hint = QLabel()
        self.hint.setObjectName(f"hint:{field.name}")
        self.hint.setStyleSheet("color: #555;")
        layout.addWidget(self.hint)
        self.edit.textEdited.connect(lambda _t: self.changed.emit())
        self.edit.editingFinished.connect(self._finished)
        self.hint.setVisible(field.kind in (DATE, MONTH))

    def _finished(self):
        _value, errors, _w = self.check()
        if self.field.kind in (DATE, MONTH):
            self.hint.setText(self._describe_date(_value) if not errors else "")

    @staticmethod
    def _describe_date(value: str | None) -> str:
        if not value:
            return ""
        if len(value) == 7:
            d = dt.date(int(value[:4]), int(value[5:7]), 1)
            return d.strftime("%B %Y")
        return dt.date.fromisoformat(value).strftime("%a %d %b %Y")

    def raw(self):
        return self.edit.text()

    def set_value(self, value):
        if value is None:
            self.edit.setText("")
        elif self.field.kind == DATE and isinstance(value, str) and len(value) == 10:
            d = dt.date.fromisoformat(value)
            self.edit.setText(f"{d.day:02d}/{d.month:02d}/{d.year}")
        else:
            self.edit.setText(self.field.display(value) if self.field.kind == DECIMAL else str(value))
        if self.field.kind in (DATE, MONTH):
            self.hint.setText(self._describe_date(value) if value else "")

    def focus_target(self):
        return self.edit


class TextAreaEditor(FieldEditor):
    def __init__(self, field: Field, parent=None):
        super().__init__(field, parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.edit = QPlainTextEdit()
        self.edit.setObjectName(f"field:{field.name}")
        self.edit.setTabChangesFocus(True)  # Tab moves on, as in every other field
        self.edit.setMinimumHeight(70)
        self.edit.setMaximumHeight(140)
        layout.addWidget(self.edit)
        self.edit.textChanged.connect(self.changed.emit)

    def raw(self):
        return self.edit.toPlainText()

    def set_value(self, value):
        self.edit.setPlainText(value or "")

    def focus_target(self):
        return self.edit


def _choice_combo(name: str, items: list[tuple[str, Any]], editable_text: bool = False) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    combo.setEditable(True)
    combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    combo.addItem("", None)
    for label, data in items:
        combo.addItem(label, data)
    completer = combo.completer()
    completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
    completer.setFilterMode(Qt.MatchFlag.MatchContains)
    completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    return combo


class ChoiceEditor(FieldEditor):
    """Single choice, yes/no, and time (whose list is the parts of the day; typed HH:MM is accepted too)."""

    def __init__(self, field: Field, parent=None):
        super().__init__(field, parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        if field.kind == YESNO:
            items = [(_("Yes"), True), (_("No"), False)]
        else:
            items = [(c.label.text(), c.value) for c in field.choice_list.choices]
        self.combo = _choice_combo(f"field:{field.name}", items)
        if field.kind == TIME:
            self.combo.lineEdit().setPlaceholderText(_("HH:MM or part of day"))
        layout.addWidget(self.combo)
        self.combo.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self.combo.lineEdit().editingFinished.connect(self.check)

    def raw(self):
        text = self.combo.currentText().strip()
        if not text:
            return None
        index = self.combo.findText(text, Qt.MatchFlag.MatchFixedString)
        if index > 0:
            return self.combo.itemData(index)
        return text

    def set_value(self, value):
        if value is None:
            self.combo.setCurrentIndex(0)
            self.combo.setEditText("")
            return
        index = self.combo.findData(value)
        if index >= 0:
            self.combo.setCurrentIndex(index)
        else:
            self.combo.setEditText(str(value))

    def focus_target(self):
        return self.combo


class MultiEditor(FieldEditor):
    def __init__(self, field: Field, parent=None):
        super().__init__(field, parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.list = QListWidget()
        self.list.setObjectName(f"field:{field.name}")
        for c in field.choice_list.choices:
            item = QListWidgetItem(c.label.text())
            item.setData(Qt.ItemDataRole.UserRole, c.value)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.list.addItem(item)
        rows = min(len(field.choice_list.choices), 6)
        self.list.setMaximumHeight(rows * 22 + 8)
        layout.addWidget(self.list)
        self.list.itemChanged.connect(lambda _i: self.changed.emit())

    def raw(self):
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.CheckState.Checked] or None

    def set_value(self, value):
        chosen = set(value or [])
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setCheckState(Qt.CheckState.Checked if item.data(Qt.ItemDataRole.UserRole) in chosen
                               else Qt.CheckState.Unchecked)

    def focus_target(self):
        return self.list


class PlaceEditor(FieldEditor):
    """County from the list; sub-county, ward and village typed, completed from names already used."""

    def __init__(self, field: Field, parent=None):
        super().__init__(field, parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        counties = choice_lists.get("counties")
        self.county = _choice_combo(f"field:{field.name}_county",
                                    [(f"{c.label.en} ({c.value})", c.value) for c in counties.choices])
        self.county.lineEdit().setPlaceholderText(str(PLACE_PARTS[0][1]))
        layout.addWidget(self.county, 2)
        self.parts: dict[str, QLineEdit] = {}
        self.models: dict[str, QStringListModel] = {}
        for part, label in PLACE_PARTS[1:]:
            edit = QLineEdit()
            edit.setObjectName(f"field:{field.name}_{part}")
            edit.setPlaceholderText(str(label))
            edit.setMaxLength(120)
            model = QStringListModel()
            completer = QCompleter(model, edit)
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            completer.setFilterMode(Qt.MatchFlag.MatchContains)
            edit.setCompleter(completer)
            self.parts[part] = edit
            self.models[part] = model
            layout.addWidget(edit, 2)
            edit.textEdited.connect(lambda _t: self.changed.emit())
        self.county.currentIndexChanged.connect(lambda _i: self.changed.emit())

    def set_suggestions(self, suggestions: dict[str, list[str]]) -> None:
        for part, names in suggestions.items():
            if part in self.models:
                self.models[part].setStringList(names)

    def raw(self):
        text = self.county.currentText().strip()
        index = self.county.findText(text, Qt.MatchFlag.MatchFixedString)
        county = self.county.itemData(index) if index > 0 else (text or None)
        out = {"county": county, **{p: (e.text().strip() or None) for p, e in self.parts.items()}}
        return out if any(out.values()) else None

    def set_value(self, value):
        value = value or {}
        index = self.county.findData(value.get("county"))
        self.county.setCurrentIndex(max(index, 0))
        for p, e in self.parts.items():
            e.setText(value.get(p) or "")

    def focus_target(self):
        return self.county


def make_editor(field: Field) -> FieldEditor:
    k = field.kind
    if k in (CHOICE, YESNO, TIME):
        editor = ChoiceEditor(field)
    elif k == MULTI:
        editor = MultiEditor(field)
    elif k == PLACE:
        editor = PlaceEditor(field)
    elif k == LONGTEXT:
        editor = TextAreaEditor(field)
    elif k in (DATE, MONTH):
        editor = LineEditor(field, placeholder="YYYY-MM" if k == MONTH or field.precision == "month"
                            else (_("dd/mm/yyyy or YYYY-MM") if field.precision == "either" else _("dd/mm/yyyy")))
    elif k in (INTEGER, DECIMAL):
        editor = LineEditor(field, placeholder="0")
    elif k in (TEXT, REFERENCE):
        editor = LineEditor(field)
    else:  # pragma: no cover - every kind is handled above
        raise ValueError(k)
    editor.focus_target().setToolTip(field.help.text() if field.help else "")
    if field.read_only:
        editor.setEnabled(False)
    return editor

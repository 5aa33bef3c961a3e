"""Small widgets shared by every page."""

from __future__ import annotations

from ..i18n import _
from .qt import QFrame, QHBoxLayout, QLabel, QLineEdit, QPushButton, Qt, QVBoxLayout, QWidget


class ErrorLabel(QLabel):
    """An inline message under a field: red, word-wrapped, hidden when empty (no modal boxes while typing)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.setStyleSheet("color: #b00020;")
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hide()

    def show_message(self, text: str | None, warning: bool = False) -> None:
        self.setStyleSheet("color: #8a5a00;" if warning else "color: #b00020;")
        self.setText(text or "")
        self.setVisible(bool(text))


def password_field(placeholder: str = "") -> QLineEdit:
    edit = QLineEdit()
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setPlaceholderText(placeholder)
    return edit


def heading(text: str) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 1.4)
    font.setBold(True)
    label.setFont(font)
    return label


class Card(QFrame):
    """A titled box for dashboard figures."""

    def __init__(self, title: str, value: str = "", parent=None):
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        self.title = QLabel(title)
        self.value = QLabel(value)
        f = self.value.font()
        f.setPointSizeF(f.pointSizeF() * 1.8)
        f.setBold(True)
        self.value.setFont(f)
        layout.addWidget(self.title)
        layout.addWidget(self.value)


def button_row(*buttons: QPushButton) -> QWidget:
    w = QWidget()
    row = QHBoxLayout(w)
    row.setContentsMargins(0, 0, 0, 0)
    row.addStretch(1)
    for b in buttons:
        row.addWidget(b)
    return w


def confirm_text(action: str) -> str:
    return _("{action}? This cannot be undone.").format(action=action)

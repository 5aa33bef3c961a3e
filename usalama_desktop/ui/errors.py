"""Errors shown the right way: the environment's fault plainly, our bugs in a crash dialog with copyable details.

Crash details are the redacted trace (types and frames, no messages from libraries), the same text the log gets,
so nothing a clerk copies into an e-mail can carry a record value.
"""

from __future__ import annotations

import sys

from .. import __version__
from ..errors import Cancelled, DatabaseClosed, UsalamaError
from ..i18n import _
from ..logsetup import log, redacted_traceback
from .qt import QApplication, QDialog, QDialogButtonBox, QLabel, QMessageBox, QPlainTextEdit, QVBoxLayout

_shown: list[QDialog] = []


class CrashDialog(QDialog):
    def __init__(self, details: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle(_("Something went wrong"))
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(_("Usalama Desktop hit a problem it did not expect. Your saved records are safe. "
                                  "If it happens again, copy the details below and send them to your support "
                                  "contact; they contain no record values.")))
        self.details = QPlainTextEdit(details)
        self.details.setReadOnly(True)
        layout.addWidget(self.details)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = buttons.addButton(_("Copy details"), QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(self.copy)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(640, 360)

    def copy(self):
        QApplication.clipboard().setText(self.details.toPlainText())


def crash_details(error: BaseException) -> str:
    return f"Usalama Desktop {__version__}\n{redacted_traceback(error)}"


def show_error(error: BaseException, parent=None) -> None:
    if isinstance(error, Cancelled | DatabaseClosed):
        return
    if isinstance(error, UsalamaError):
        log().info("refused: %s", type(error).__name__)
        box = QMessageBox(QMessageBox.Icon.Warning, _("Usalama Desktop"), error.message,
                          QMessageBox.StandardButton.Ok, parent)
        _shown.append(box)
        box.finished.connect(lambda *_a: _shown.remove(box) if box in _shown else None)
        box.open()
        return
    log().error("unexpected error", exc_info=(type(error), error, error.__traceback__))
    dialog = CrashDialog(crash_details(error), parent)
    _shown.append(dialog)
    dialog.finished.connect(lambda *_a: _shown.remove(dialog) if dialog in _shown else None)
    dialog.open()


def install_excepthook() -> None:
    def hook(kind, value, tb):
        if value is None:
            value = kind()
        value.__traceback__ = tb
        show_error(value)

    sys.excepthook = hook

"""Idle lock: no keyboard or mouse for the configured minutes (default 15), or 12 hours since login, locks."""

from __future__ import annotations

from .. import clock
from .qt import QApplication, QEvent, QObject, QTimer, Signal

ABSOLUTE_LIMIT_MS = 12 * 3600 * 1000
_INPUT = {QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove, QEvent.Type.Wheel,
          QEvent.Type.TouchBegin}


class IdleWatcher(QObject):
    idle = Signal(str)  # "idle" or "absolute"

    def __init__(self, minutes: int, session_started_ms: int, parent=None):
        super().__init__(parent)
        self.limit_ms = max(1, minutes) * 60_000
        self.started_ms = session_started_ms
        self.last_ms = clock.now_ms()
        self.timer = QTimer(self)
        self.timer.setInterval(5000)
        self.timer.timeout.connect(self.check)
        QApplication.instance().installEventFilter(self)
        self.timer.start()

    def eventFilter(self, obj, event):  # noqa: N802 (Qt's name)
        if event.type() in _INPUT:
            self.last_ms = clock.now_ms()
        return False

    def check(self) -> None:
        now = clock.now_ms()
        if now - self.started_ms >= ABSOLUTE_LIMIT_MS:
            self.stop()
            self.idle.emit("absolute")
        elif now - self.last_ms >= self.limit_ms or now < self.last_ms - 60_000:
            self.stop()
            self.idle.emit("idle")

    def stop(self) -> None:
        self.timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

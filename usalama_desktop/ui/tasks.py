"""Work off the GUI thread (Anki's taskman, Picard's thread helper).

All database work runs on one serialized worker thread, so the GUI never waits on the disk and the connection is
only ever used by one thread at a time. Results and errors come back on the GUI thread. Long jobs get a progress
dialog after 600 ms with a cancel button that the job honours between steps.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import Any

from ..errors import Cancelled
from ..i18n import _
from .qt import QObject, QProgressDialog, QRunnable, Qt, QThreadPool, QTimer, Signal

PROGRESS_DELAY_MS = 600


class Token:
    """Handed to a long job: it reports progress and checks for cancel between steps."""

    def __init__(self):
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self.done = 0
        self.total = 0
        self.label = ""

    def progress(self, done: int, total: int | None = None, label: str | None = None) -> None:
        with self._lock:
            self.done = done
            if total is not None:
                self.total = total
            if label is not None:
                self.label = label
        if self._cancel.is_set():
            raise Cancelled(_("Stopped; nothing from this run was saved."))

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        if self._cancel.is_set():
            raise Cancelled(_("Stopped; nothing from this run was saved."))

    def snapshot(self) -> tuple[int, int, str]:
        with self._lock:
            return self.done, self.total, self.label


class _Relay(QObject):
    finished = Signal(object, object)  # (result, error)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay):
        super().__init__()
        self.fn = fn
        self.relay = relay
        self.setAutoDelete(True)

    def run(self):
        try:
            result = self.fn()
        except BaseException as exc:  # delivered to the GUI thread, never lost
            exc.__usalama_trace__ = traceback.format_exc()
            self.relay.finished.emit(None, exc)
        else:
            self.relay.finished.emit(result, None)


class TaskRunner(QObject):
    """One worker thread for everything that touches the database."""

    busy_changed = Signal(bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.pool = QThreadPool()
        self.pool.setMaxThreadCount(1)
        self._relays: set[_Relay] = set()
        self.pending = 0

    def run(self, fn: Callable[[], Any], on_done: Callable[[Any], None] | None = None,
            on_error: Callable[[BaseException], None] | None = None) -> None:
        relay = _Relay()
        self._relays.add(relay)
        self.pending += 1
        if self.pending == 1:
            self.busy_changed.emit(True)

        def finished(result, error):
            self._relays.discard(relay)
            self.pending -= 1
            if self.pending == 0:
                self.busy_changed.emit(False)
            try:
                if error is not None:
                    handler = on_error or report_error
                    handler(error)
                elif on_done is not None:
                    on_done(result)
            except RuntimeError as exc:
                # The window that asked closed while the work ran: its widgets are gone, there is nothing to show.
                if "already deleted" not in str(exc):
                    raise

        relay.finished.connect(finished, Qt.ConnectionType.QueuedConnection)
        self.pool.start(_Job(fn, relay))

    def run_with_progress(self, parent, title: str, fn: Callable[[Token], Any],
                          on_done: Callable[[Any], None] | None = None,
                          on_error: Callable[[BaseException], None] | None = None) -> Token:
        """Run ``fn(token)``; a progress dialog with Cancel appears if it takes longer than 600 ms."""
        token = Token()
        dialog = QProgressDialog(title, _("Cancel"), 0, 0, parent)
        dialog.setWindowTitle(title)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(PROGRESS_DELAY_MS)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(token.cancel)
        timer = QTimer(dialog)
        timer.setInterval(100)

        def tick():
            done, total, label = token.snapshot()
            if total:
                dialog.setMaximum(total)
                dialog.setValue(min(done, total))
            if label:
                dialog.setLabelText(label)

        timer.timeout.connect(tick)
        timer.start()

        def close():
            timer.stop()
            dialog.reset()
            dialog.hide()
            dialog.deleteLater()

        def done(result):
            close()
            if on_done:
                on_done(result)

        def failed(error):
            close()
            (on_error or report_error)(error)

        self.run(lambda: fn(token), done, failed)
        self.active_token = token
        self.active_dialog = dialog
        return token

    def wait_idle(self, msecs: int = 30000) -> bool:
        """Tests and shutdown only: wait for the worker to finish what it has."""
        return self.pool.waitForDone(msecs)


def report_error(error: BaseException) -> None:
    from .errors import show_error

    show_error(error)

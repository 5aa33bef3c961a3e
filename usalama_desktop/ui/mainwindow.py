"""The main window: navigation sidebar, page stack, status bar with user/role/agency and a lock button."""

from __future__ import annotations

from .. import __version__
from ..i18n import _
from ..permissions import role_label
from .idle import IdleWatcher
from .pages import pages_for
from .qt import (
    QAction,
    QApplication,
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    Qt,
    QWidget,
    Signal,
)


class MainWindow(QMainWindow):
    lock_requested = Signal(str)
    about_to_lock = Signal()

    def __init__(self, shell, session):
        super().__init__()
        self.shell = shell
        self.session = session
        self.tasks = shell.tasks
        self.setWindowTitle(f"Usalama Desktop — {session.agency.name}")
        self.resize(1200, 780)
        self.pages: dict[str, QWidget] = {}
        self.locking = False
        self.specs = pages_for(session)

        body = QWidget()
        row = QHBoxLayout(body)
        row.setContentsMargins(0, 0, 0, 0)
        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.setMaximumWidth(250)
        self.stack = QStackedWidget()
        row.addWidget(self.nav)
        row.addWidget(self.stack, 1)
        self.locked_view = QLabel(_("Locked. Type your password to carry on."))
        self.locked_view.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.outer = QStackedWidget()
        self.outer.addWidget(body)
        self.outer.addWidget(self.locked_view)
        self.setCentralWidget(self.outer)

        group = None
        for spec in self.specs:
            if spec.group != group:
                group = spec.group
                header = QListWidgetItem(str(group).upper())
                header.setFlags(Qt.ItemFlag.NoItemFlags)
                f = header.font()
                f.setBold(True)
                f.setPointSizeF(f.pointSizeF() * 0.85)
                header.setFont(f)
                self.nav.addItem(header)
            item = QListWidgetItem(str(spec.label))
            item.setData(Qt.ItemDataRole.UserRole, spec.key)
            self.nav.addItem(item)
        self.nav.currentItemChanged.connect(self._navigate)

        bar = self.statusBar()
        self.user_label = QLabel(f"{session.user.display_name or session.user.username} · "
                                 f"{role_label(session.user.role)} · "
                                 f"{session.agency.name}")
        self.user_label.setObjectName("status_user")
        bar.addPermanentWidget(self.user_label)
        self.lock_button = QPushButton(_("Lock"))
        self.lock_button.setObjectName("lock_button")
        self.lock_button.setToolTip(_("Hide the records and ask for the password again (Ctrl+L)"))
        self.lock_button.clicked.connect(lambda: self.lock_requested.emit("button"))
        bar.addPermanentWidget(self.lock_button)
        self.busy = QLabel("")
        bar.addWidget(self.busy)
        self.tasks.busy_changed.connect(self._busy)

        lock_action = QAction(_("Lock"), self)
        lock_action.setShortcut(QKeySequence("Ctrl+L"))
        lock_action.triggered.connect(lambda: self.lock_requested.emit("button"))
        self.addAction(lock_action)
        menu = self.menuBar().addMenu(_("Help"))
        about = menu.addAction(_("About Usalama Desktop"))
        about.triggered.connect(self.show_about)

        minutes = 15
        try:
            minutes = int(session.setting("idle_minutes", "15"))
        except ValueError:
            pass
        self.idle = IdleWatcher(minutes, session.opened_ms, self)
        self.idle.idle.connect(self.lock_requested.emit)
        self.show_page("home")

    def _busy(self, busy: bool) -> None:
        self.busy.setText(_("Working…") if busy else "")

    # --- pages ---------------------------------------------------------------------------------------------

    def _navigate(self, item, _previous=None):
        if item is not None and item.data(Qt.ItemDataRole.UserRole):
            self.show_page(item.data(Qt.ItemDataRole.UserRole))

    def show_page(self, key: str) -> QWidget | None:
        spec = next((s for s in self.specs if s.key == key), None)
        if spec is None:
            return None
        if key not in self.pages:
            page = spec.build(self)
            page.setObjectName(f"page:{key}")
            self.pages[key] = page
            self.stack.addWidget(page)
        page = self.pages[key]
        self.stack.setCurrentWidget(page)
        for i in range(self.nav.count()):
            if self.nav.item(i).data(Qt.ItemDataRole.UserRole) == key:
                self.nav.blockSignals(True)
                self.nav.setCurrentRow(i)
                self.nav.blockSignals(False)
        if hasattr(page, "activated"):
            page.activated()
        return page

    def page_keys(self) -> list[str]:
        return [s.key for s in self.specs]

    # --- locking ---------------------------------------------------------------------------------------------

    def hide_records(self) -> None:
        """Before the database closes: drafts are saved, record windows closed, the clipboard cleared."""
        self.locking = True  # record windows close without asking, keeping their draft
        self.idle.stop()
        self.about_to_lock.emit()
        for w in QApplication.topLevelWidgets():
            if w is not self and w.isVisible() and getattr(w, "closes_on_lock", False):
                w.close()
        QApplication.clipboard().clear()
        self.outer.setCurrentWidget(self.locked_view)
        self.menuBar().setEnabled(False)
        self.statusBar().hide()

    def show_about(self):
        from ..selfcheck import versions

        lines = "\n".join(f"{k}: {v}" for k, v in versions().items())
        QMessageBox.about(self, _("About Usalama Desktop"),
                          _("Usalama Desktop {version}\nOffline records for Community Safety Forums.\n\n{lines}").format(
                              version=__version__, lines=lines))

    def closeEvent(self, event):  # noqa: N802
        self.idle.stop()
        self.about_to_lock.emit()
        super().closeEvent(event)

"""The home page: who is logged in, what this installation holds, where to start."""

from __future__ import annotations

from ..i18n import _
from ..permissions import allowed
from .qt import QGridLayout, QLabel, QVBoxLayout, QWidget
from .widgets import Card, heading


class HomePage(QWidget):
    def __init__(self, window):
        super().__init__()
        self.window = window
        s = window.session
        layout = QVBoxLayout(self)
        layout.addWidget(heading(_("Welcome, {name}").format(name=s.user.display_name or s.user.username)))
        layout.addWidget(QLabel(_("{agency} · records are encrypted on this computer.").format(agency=s.agency.name)))
        self.grid = QGridLayout()
        layout.addLayout(self.grid)
        layout.addStretch(1)
        self.cards: dict[str, Card] = {}

    def activated(self):
        from ..forms.registry import forms
        from ..services.records import RecordService

        session = self.window.session
        visible = [f for f in forms().values() if not f.child_record and allowed(session.actor, f.module, "count")]

        def counts():
            return {f.name: RecordService(session, f).count() for f in visible}

        def show(result):
            for i, f in enumerate(visible):
                card = self.cards.get(f.name)
                if card is None:
                    card = Card(str(f.title))
                    card.setObjectName(f"card:{f.name}")
                    self.cards[f.name] = card
                    self.grid.addWidget(card, i // 3, i % 3)
                card.value.setText(f"{result.get(f.name, 0):,}")

        self.window.tasks.run(counts, show)

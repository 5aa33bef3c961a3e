"""Exchange bundles: send to the coordinator (or refer a case), receive a whole USB stick, see who has sent, review
conflicts, and manage agency cards. A thin layer over usalama_desktop.sync; every long job runs on the worker with
progress and cancel."""

from __future__ import annotations

from pathlib import Path

from ..i18n import _
from ..permissions import allowed
from .qt import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from .widgets import ErrorLabel, heading


def _table(name: str, headers: list[str]) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setObjectName(name)
    t.setHorizontalHeaderLabels(headers)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    return t


def _fill(table: QTableWidget, rows: list[list[str]]) -> None:
    table.setRowCount(len(rows))
    for i, row in enumerate(rows):
        for j, text in enumerate(row):
            table.setItem(i, j, QTableWidgetItem("" if text is None else str(text)))


def _note(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    return label


def _show_refusal(tab, error) -> bool:
    """A refusal goes under the buttons of the tab (True); anything else is our bug, shown as such (False)."""
    from ..errors import UsalamaError
    from .errors import show_error

    if isinstance(error, UsalamaError):
        tab.status.show_message(error.message)
        return True
    show_error(error, tab)
    return False


def _button(text: str, name: str, slot) -> QPushButton:
    b = QPushButton(text)
    b.setObjectName(name)
    b.clicked.connect(lambda _checked=False: slot())
    return b


class SendTab(QWidget):
    def __init__(self, page):
        super().__init__()
        self.page = page
        self.last_result = None
        layout = QVBoxLayout(self)
        layout.addWidget(_note(_("A bundle carries the records changed since the last bundle to the same recipient, "
                                  "encrypted so that only the recipient can read it and signed so that they know it "
                                  "is from you. Names and narratives never travel in the observatory profile.")))
        form = QFormLayout()
        self.recipient = QComboBox()
        self.recipient.setObjectName("send_recipient")
        self.profile = QComboBox()
        self.profile.setObjectName("send_profile")
        from ..sync.profiles import PROFILE_LABELS, PROFILES

        for p in PROFILES:
            self.profile.addItem(PROFILE_LABELS[p].text(), p)
        self.record = QLineEdit()
        self.record.setObjectName("send_record")
        self.record.setPlaceholderText(_("record id of the case to refer"))
        self.record.setEnabled(False)
        self.profile.currentIndexChanged.connect(
            lambda _i: self.record.setEnabled(self.profile.currentData() == "referral"))
        self.full = QCheckBox(_("Every record, not only the changes since the last bundle"))
        self.full.setObjectName("send_full")
        self.folder = QLineEdit()
        self.folder.setObjectName("send_folder")
        choose = _button(_("Choose…"), "send_choose", self.choose_folder)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(choose)
        form.addRow(_("Send to"), self.recipient)
        form.addRow(_("Profile"), self.profile)
        form.addRow(_("Case"), self.record)
        form.addRow("", self.full)
        form.addRow(_("USB stick or folder"), row)
        layout.addLayout(form)
        buttons = QHBoxLayout()
        self.write = _button(_("Write the bundle"), "send_write", self.export)
        self.receipt = _button(_("Print receipt…"), "send_receipt", self.print_receipt)
        self.receipt.setEnabled(False)
        buttons.addWidget(self.write)
        buttons.addWidget(self.receipt)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.status = ErrorLabel()
        self.status.setObjectName("send_status")
        layout.addWidget(self.status)
        layout.addWidget(QLabel(_("Bundles sent")))
        self.sent = _table("sent_table", [_("Recipient"), _("Number"), _("Profile"), _("Records"), _("State"),
                                          _("Written"), _("File")])
        layout.addWidget(self.sent, 1)

    def refresh(self):
        from ..sync.export import outgoing
        from ..sync.keys import list_peers

        s = self.page.session

        def load():
            return [p for p in list_peers(s) if not p.revoked], outgoing(s)

        self.page.window.tasks.run(load, self._loaded)

    def _loaded(self, result):
        peers, sent = result
        current = self.recipient.currentData()
        self.recipient.clear()
        for p in sorted(peers, key=lambda p: (not p.relay, p.agency_name)):
            self.recipient.addItem(f"{p.agency_name} ({_('coordinator') if p.relay else _('agency')})",
                                   p.installation_id)
        if current:
            self.recipient.setCurrentIndex(max(0, self.recipient.findData(current)))
        states = {"done": _("written and verified"), "failed": _("failed"), "writing": _("interrupted")}
        _fill(self.sent, [[r["recipient"], r["sequence"], r["profile"], r["records"], states.get(r["status"], r[
            "status"]), (r["created_at"] or "")[:16].replace("T", " "), r["file_name"]] for r in sent])

    def choose_folder(self):
        folder = QFileDialog.getExistingDirectory(self, _("Choose the USB stick or folder"))
        if folder:
            self.folder.setText(folder)

    def export(self):
        from ..sync.export import export_bundle
        from ..sync.keys import active_peer

        folder = self.folder.text().strip()
        if not folder:
            self.status.show_message(_("Choose the USB stick or folder to write to."))
            return
        if self.recipient.currentData() is None:
            self.status.show_message(_("Enrol the recipient's agency card first (Agency cards tab)."))
            return
        s = self.page.session
        installation = self.recipient.currentData()
        profile = self.profile.currentData()
        record = self.record.text().strip() or None
        full = self.full.isChecked()
        self.status.show_message("")

        def job(token):
            peer = active_peer(s.db, installation)
            return export_bundle(s, Path(folder), peer, profile, full, record,
                                 progress=lambda done, total: token.progress(done, total))

        self.page.window.tasks.run_with_progress(self, _("Writing the bundle…"), job, self._done, self._failed)

    def _done(self, result):
        self.last_result = result
        self.receipt.setEnabled(True)
        self.status.show_message(_("Bundle {seq} for {agency} written and verified: {n} records. {path}").format(
            seq=result.sequence, agency=result.recipient.agency_name, n=result.records, path=result.path),
            warning=True)
        self.refresh()

    def _failed(self, error):
        if _show_refusal(self, error):
            self.refresh()

    def print_receipt(self, path: str | None = None):
        if self.last_result is None:
            return
        if not path:
            suggested = self.last_result.path.with_suffix(".receipt.pdf").name
            path, _f = QFileDialog.getSaveFileName(self, _("Save the receipt"), suggested, _("PDF (*.pdf)"))
        if not path:
            return
        from ..reports.receipt import bundle_receipt_pdf

        s, result = self.page.session, self.last_result
        self.page.window.tasks.run(lambda: bundle_receipt_pdf(s, Path(path), result),
                                   lambda p: self.status.show_message(_("Receipt saved to {path}.").format(path=p),
                                                                      warning=True))


class ReceiveTab(QWidget):
    def __init__(self, page):
        super().__init__()
        self.page = page
        self.results = []
        layout = QVBoxLayout(self)
        layout.addWidget(_note(_("Each bundle is checked before anything is saved: its signature, that it is "
                                  "addressed to you, and every record in it. A refused bundle changes nothing.")))
        row = QHBoxLayout()
        row.addWidget(_button(_("Import bundles…"), "receive_files", self.choose_files))
        row.addWidget(_button(_("Import a whole USB stick…"), "receive_folder", self.choose_folder))
        row.addStretch(1)
        layout.addLayout(row)
        self.summary = ErrorLabel()
        self.summary.setObjectName("receive_summary")
        layout.addWidget(self.summary)
        self.table = _table("receive_table", [_("File"), _("Result"), _("Details")])
        layout.addWidget(self.table, 1)

    def choose_files(self):
        from ..sync.limits import BUNDLE_SUFFIX

        paths, _f = QFileDialog.getOpenFileNames(self, _("Choose bundles"), "",
                                                 _("Usalama bundles (*{suffix})").format(suffix=BUNDLE_SUFFIX))
        if paths:
            self.import_paths([Path(p) for p in paths])

    def choose_folder(self):
        folder = QFileDialog.getExistingDirectory(self, _("Choose the USB stick or folder"))
        if folder:
            self.import_paths([Path(folder)])

    def import_paths(self, paths: list[Path], accept_jump: bool = False):
        from ..sync.importer import import_many

        s = self.page.session

        def job(token):
            return import_many(s, paths, accept_jump=accept_jump,
                               progress=lambda done, total: token.progress(done, total))

        self.page.window.tasks.run_with_progress(self, _("Importing bundles…"), job,
                                                 lambda results: self._done(paths, results, accept_jump))

    def _done(self, paths, results, accepted: bool):
        self.results = results
        labels = {"imported": _("imported"), "already": _("already imported"), "rejected": _("refused")}
        _fill(self.table, [[r.file_name, labels[r.status], " ".join([r.message, *r.notes])] for r in results])
        ok = sum(r.status == "imported" for r in results)
        refused = sum(r.status == "rejected" for r in results)
        if not results:
            self.summary.show_message(_("No bundles found there."))
        else:
            self.summary.show_message(_("{ok} imported, {refused} refused, {same} already imported.").format(
                ok=ok, refused=refused, same=len(results) - ok - refused), warning=not refused)
        jumps = [r for r in results if r.code == "sequence_jump"]
        if jumps and not accepted and self.confirm_jump(len(jumps)):
            folder_paths = [p for p in paths if p.is_file()]
            self.import_paths(folder_paths or paths, accept_jump=True)
        self.page.refresh_others(self)

    def confirm_jump(self, n: int) -> bool:
        answer = QMessageBox.question(self, _("Sequence jump"), _(
            "{n} bundles jump far ahead of the last one seen from their agency. Import them anyway? Say yes only if "
            "the agency confirms it sent them.").format(n=n))
        return answer == QMessageBox.StandardButton.Yes


class SubmissionsTab(QWidget):
    def __init__(self, page):
        super().__init__()
        self.page = page
        layout = QVBoxLayout(self)
        self.table = _table("submissions_table", [_("Agency"), _("Last bundle"), _("Created"), _("Age (days)"),
                                                  _("State"), _("Missing"), _("Refused")])
        layout.addWidget(self.table, 2)
        layout.addWidget(QLabel(_("Refused bundles")))
        self.refused = _table("refused_table", [_("When"), _("File"), _("Reason")])
        layout.addWidget(self.refused, 1)

    def refresh(self):
        from ..sync.importer import rejected
        from ..sync.tracker import submissions

        s = self.page.session
        self.page.window.tasks.run(lambda: (submissions(s), rejected(s)), self._loaded)

    def _loaded(self, result):
        from ..sync.tracker import late_text

        subs, refused = result
        _fill(self.table, [[x.agency_name, x.last_sequence or "", (x.last_created or "")[:10],
                            "" if x.age_days is None else x.age_days, late_text(x),
                            ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in x.gaps), x.rejected or ""]
                           for x in subs])
        _fill(self.refused, [[r["at"][:16].replace("T", " "), r["file"], r["reason"]] for r in refused])


class CombineDialog(QDialog):
    """One row per differing field: choose which version's value to keep."""

    def __init__(self, conflict, parent=None):
        super().__init__(parent)
        self.setWindowTitle(_("Combine the versions"))
        form = QFormLayout(self)
        self.choices: dict[str, QComboBox] = {}
        sides = [conflict.current, *conflict.others]
        for name, label, shown in conflict.differences:
            combo = QComboBox()
            for side, value in zip(sides, shown, strict=True):
                combo.addItem(f"{value} ({side.agency}, {side.at[:10]})", side.key)
            self.choices[name] = combo
            form.addRow(label, combo)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def mapping(self) -> dict[str, str]:
        return {name: combo.currentData() for name, combo in self.choices.items()}


class ConflictsTab(QWidget):
    def __init__(self, page):
        super().__init__()
        self.page = page
        self.conflicts = []
        layout = QVBoxLayout(self)
        layout.addWidget(_note(_("A conflict is a record changed in two places without either seeing the other. "
                                  "Both versions are kept; the newer one shows until someone reviews it.")))
        self.table = _table("conflicts_table", [_("Record"), _("Agency"), _("State"), _("Versions")])
        self.table.itemSelectionChanged.connect(self.show_selected)
        layout.addWidget(self.table, 1)
        self.details = _table("conflict_details", [_("Field"), _("Current"), _("Other")])
        layout.addWidget(self.details, 1)
        row = QHBoxLayout()
        self.keep_current = _button(_("Keep the current version"), "conflict_keep_current",
                                    lambda: self.resolve("current"))
        self.keep_other = _button(_("Keep the other version"), "conflict_keep_other", self.keep_other_version)
        self.combine = _button(_("Combine…"), "conflict_combine", self.combine_versions)
        for b in (self.keep_current, self.keep_other, self.combine):
            row.addWidget(b)
        row.addStretch(1)
        layout.addLayout(row)
        self.status = ErrorLabel()
        self.status.setObjectName("conflict_status")
        layout.addWidget(self.status)

    def refresh(self):
        from ..sync.conflicts import list_conflicts

        s = self.page.session
        self.page.window.tasks.run(lambda: list_conflicts(s), self._loaded)

    def _loaded(self, conflicts):
        self.conflicts = conflicts
        states = {"open": _("to review"), "reviewed": _("reviewed")}
        _fill(self.table, [[c.title, c.agency_name, states.get(c.status, c.status), 1 + len(c.others)]
                           for c in conflicts])
        _fill(self.details, [])
        if conflicts:
            self.table.selectRow(0)

    def selected(self):
        rows = self.table.selectionModel().selectedRows()
        return self.conflicts[rows[0].row()] if rows and rows[0].row() < len(self.conflicts) else None

    def show_selected(self):
        c = self.selected()
        if c is None:
            return
        self.details.setColumnCount(2 + len(c.others))
        self.details.setHorizontalHeaderLabels([_("Field"), _("Current"), *[
            _("Other ({agency}, {date})").format(agency=o.agency, date=o.at[:10]) for o in c.others]])
        _fill(self.details, [[label, *shown] for _name, label, shown in c.differences])
        self.keep_other.setEnabled(c.own)
        self.combine.setEnabled(c.own)
        self.keep_current.setText(_("Keep the current version") if c.own else _("Mark as reviewed"))

    def keep_other_version(self):
        c = self.selected()
        if c is not None and c.others:
            self.resolve(c.others[-1].key)

    def combine_versions(self, mapping: dict[str, str] | None = None):
        c = self.selected()
        if c is None:
            return
        if mapping is None:
            dialog = CombineDialog(c, self)
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return
            mapping = dialog.mapping()
        self.resolve("current", mapping)

    def resolve(self, choice: str, combine: dict[str, str] | None = None):
        from ..sync.conflicts import resolve

        c = self.selected()
        if c is None:
            self.status.show_message(_("Choose a conflict in the list first."))
            return
        s = self.page.session
        self.page.window.tasks.run(lambda: resolve(s, c.record_id, choice, combine), self._resolved)

    def _resolved(self, outcome: str):
        self.status.show_message(_("Conflict resolved: a new version that includes every other was saved.")
                                 if outcome == "resolved" else
                                 _("Conflict marked as reviewed; the record keeps its current version."), warning=True)
        self.refresh()


class EnrolDialog(QDialog):
    """Shows the card and asks for the fingerprint the other agency reads out."""

    def __init__(self, card: dict, parent=None):
        super().__init__(parent)
        self.setWindowTitle(_("Enrol an agency card"))
        form = QFormLayout(self)
        form.addRow(_("Agency"), QLabel(card["agency_name"]))
        form.addRow(_("Type"), QLabel(card["agency_type"]))
        shown = QLabel(card["fingerprint"])
        f = shown.font()
        f.setPointSizeF(f.pointSizeF() * 1.4)
        f.setBold(True)
        shown.setFont(f)
        form.addRow(_("Fingerprint on the card"), shown)
        form.addRow(_note(_("Ask the agency to read its fingerprint aloud from its own screen, and type it here. "
                             "Enrol only if every digit matches.")))
        self.typed = QLineEdit()
        self.typed.setObjectName("enrol_fingerprint")
        form.addRow(_("Fingerprint they read out"), self.typed)
        self.relay = QCheckBox(_("Passes other agencies' records on (a coordinator)"))
        self.relay.setChecked(card["agency_type"] == "community_safety_forum")
        form.addRow("", self.relay)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


class CardsTab(QWidget):
    def __init__(self, page):
        super().__init__()
        self.page = page
        self.peers = []
        layout = QVBoxLayout(self)
        self.own = QLabel("")
        self.own.setObjectName("own_card")
        self.own.setWordWrap(True)
        layout.addWidget(self.own)
        row = QHBoxLayout()
        row.addWidget(_button(_("Save this installation's card…"), "card_save", self.save_card))
        can_manage = allowed(page.session.actor, "sync", "keys")
        if can_manage:
            row.addWidget(_button(_("Enrol a card…"), "card_enrol", self.enrol))
            row.addWidget(_button(_("Revoke…"), "card_revoke", self.revoke))
            row.addWidget(_button(_("Quarantine its records"), "card_quarantine", self.quarantine))
        row.addStretch(1)
        layout.addLayout(row)
        self.status = ErrorLabel()
        self.status.setObjectName("card_status")
        layout.addWidget(self.status)
        self.table = _table("cards_table", [_("Agency"), _("Type"), _("Role"), _("State"), _("Fingerprint")])
        layout.addWidget(self.table, 1)

    def refresh(self):
        from ..sync.keys import list_peers, local_card

        s = self.page.session
        self.page.window.tasks.run(lambda: (local_card(s), list_peers(s)), self._loaded)

    def _loaded(self, result):
        card, peers = result
        self.peers = peers
        self.own.setText(_("This installation: {agency}. Fingerprint to read aloud: {fingerprint}").format(
            agency=card["agency_name"], fingerprint=card["fingerprint"]))
        _fill(self.table, [[p.agency_name, p.agency_type, _("coordinator") if p.relay else _("agency"),
                            _("revoked {date}").format(date=p.revoked_at[:10]) if p.revoked else _("active"),
                            p.fingerprint] for p in peers])

    def save_card(self, folder: str | None = None):
        from ..sync.keys import write_card

        if not folder:
            folder = QFileDialog.getExistingDirectory(self, _("Choose the USB stick or folder"))
        if not folder:
            return
        s = self.page.session
        self.page.window.tasks.run(lambda: write_card(s, Path(folder)), lambda paths: self.status.show_message(
            _("Card saved to {path}.").format(path=paths[0]), warning=True))

    def enrol(self, path: str | None = None, fingerprint: str | None = None, relay: bool | None = None):
        from ..sync.keys import enrol, read_card

        if not path:
            path, _f = QFileDialog.getOpenFileName(self, _("Choose the agency card"), "", _("Agency card (*.json)"))
        if not path:
            return
        s = self.page.session

        def opened(card):
            typed, as_relay = fingerprint, relay
            if typed is None:
                dialog = EnrolDialog(card, self)
                if dialog.exec() != QDialog.DialogCode.Accepted:
                    return
                typed, as_relay = dialog.typed.text(), dialog.relay.isChecked()
            self.page.window.tasks.run(lambda: enrol(s, card, typed, as_relay), self._enrolled, self._failed)

        self.page.window.tasks.run(lambda: read_card(Path(path)), opened, self._failed)

    def _enrolled(self, peer):
        self.status.show_message(_("Enrolled {name}.").format(name=peer.agency_name), warning=True)
        self.page.refresh_all()

    def _failed(self, error):
        _show_refusal(self, error)

    def selected(self):
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            self.status.show_message(_("Choose a card in the list first."))
            return None
        return self.peers[rows[0].row()]

    def revoke(self, reason: str | None = None):
        from ..sync.keys import revoke

        peer = self.selected()
        if peer is None:
            return
        if reason is None:
            reason, ok = QInputDialog.getText(self, _("Revoke the card"), _(
                "Why is the card of {agency} revoked? Its bundles will be refused from now on.").format(
                agency=peer.agency_name))
            if not ok:
                return
        s = self.page.session
        self.page.window.tasks.run(lambda: revoke(s, peer, reason), lambda p: (self.status.show_message(
            _("Revoked the card of {name}: its bundles are refused from now on.").format(name=p.agency_name),
            warning=True), self.refresh()), self._failed)

    def quarantine(self):
        from ..sync.quarantine import quarantine

        peer = self.selected()
        if peer is None:
            return
        s = self.page.session
        self.page.window.tasks.run(lambda: quarantine(s, peer, _("key revoked")), lambda n: self.status.show_message(
            _("{n} records that came with that key were quarantined.").format(n=n), warning=True), self._failed)


class ExchangePage(QWidget):
    def __init__(self, window):
        super().__init__()
        self.window = window
        layout = QVBoxLayout(self)
        layout.addWidget(heading(_("Exchange bundles")))
        self.tabs = QTabWidget()
        self.tabs.setObjectName("exchange_tabs")
        actor = self.session.actor
        self.send = self.receive = self.submissions = self.conflicts = None
        if allowed(actor, "sync", "export"):
            self.send = SendTab(self)
            self.tabs.addTab(self.send, _("Send"))
        if allowed(actor, "sync", "import"):
            self.receive = ReceiveTab(self)
            self.tabs.addTab(self.receive, _("Receive"))
            self.submissions = SubmissionsTab(self)
            self.tabs.addTab(self.submissions, _("Submissions"))
        if allowed(actor, "sync", "conflicts"):
            self.conflicts = ConflictsTab(self)
            self.tabs.addTab(self.conflicts, _("Conflicts"))
        self.cards = CardsTab(self)
        self.tabs.addTab(self.cards, _("Agency cards"))
        layout.addWidget(self.tabs, 1)

    @property
    def session(self):
        return self.window.session

    def tabs_present(self) -> list[QWidget]:
        return [t for t in (self.send, self.receive, self.submissions, self.conflicts, self.cards) if t is not None]

    def activated(self):
        self.refresh_all()

    def refresh_all(self):
        for tab in self.tabs_present():
            if hasattr(tab, "refresh"):
                tab.refresh()

    def refresh_others(self, origin: QWidget):
        for tab in self.tabs_present():
            if tab is not origin and hasattr(tab, "refresh"):
                tab.refresh()

"""The text-message import window through real widgets: choose the export, check only, import, read the rows."""

from __future__ import annotations

import pytest

from usalama_desktop.services.records import RecordService
from usalama_desktop.ui.community_imports import sms_import_dialog
from usalama_desktop.ui.qt import QMainWindow, Qt
from usalama_desktop.ui.tasks import TaskRunner

from .test_sms import SAMPLE

pytestmark = pytest.mark.gui


class Host(QMainWindow):
    """The two things the community windows need from the main window: the session and the worker."""

    def __init__(self, session):
        super().__init__()
        self.session = session
        self.tasks = TaskRunner(self)


@pytest.fixture
def host(qtbot, make_env):
    hosts = []

    def make(agency_type="community_safety_forum", role="clerk"):
        h = Host(make_env(agency_type).login(role))
        qtbot.addWidget(h)
        hosts.append(h)
        return h

    yield make
    for h in hosts:
        h.tasks.wait_idle()


def import_and_wait(qtbot, dialog):
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.import_button.isEnabled() and bool(dialog.summary.text() or dialog.error.text()),
                    timeout=20000)


def test_check_then_import_the_platform_export(qtbot, host):
    h = host()
    dialog = sms_import_dialog(h)
    qtbot.addWidget(dialog)
    import_and_wait(qtbot, dialog)
    assert "Choose the export file" in dialog.error.text()
    qtbot.keyClicks(dialog.file.edit, str(SAMPLE))
    dialog.check_only.setChecked(True)
    import_and_wait(qtbot, dialog)
    assert "nothing was saved" in dialog.summary.text() and dialog.rows.rowCount() == 11
    assert RecordService(h.session, "police_rating").count() == 0
    dialog.check_only.setChecked(False)
    dialog.summary.setText("")
    import_and_wait(qtbot, dialog)
    assert dialog.summary.text().startswith("4 ratings and 3 complaints imported")
    assert dialog.rows.item(0, 1).text() == "Police service rating" and dialog.rows.item(0, 2).text() == "imported"
    assert dialog.rows.item(5, 2).text() == "rejected" and "Overall" in dialog.rows.item(5, 3).text()
    assert RecordService(h.session, "police_rating").count() == 4


def test_a_refused_file_shows_its_reason_inline(qtbot, host, tmp_path):
    h = host()
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    dialog = sms_import_dialog(h)
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.file.edit, str(bad))
    import_and_wait(qtbot, dialog)
    assert "no column" in dialog.error.text() and dialog.rows.rowCount() == 0

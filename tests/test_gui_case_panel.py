"""The case panel driven through real widgets: status and timeline, close with an outcome, reopen with a reason, the
AJS warning and refusal, and no steps for a role that may not take them."""

from __future__ import annotations

import pytest

from usalama_desktop.forms.ajs import FORMAL_SYSTEM_WARNING
from usalama_desktop.forms.registry import get_form
from usalama_desktop.services.cases import CaseService
from usalama_desktop.ui.case_panel import CasePanel
from usalama_desktop.ui.qt import QLineEdit, Qt, QWidget, Signal
from usalama_desktop.ui.tasks import TaskRunner

from .test_cases_data import ajs, counselling, days_ago
from .test_gui_shell import login_through_dialog, shell  # noqa: F401 (fixture)

pytestmark = pytest.mark.gui


class Window(QWidget):
    """What the panel needs from a record window: session, tasks, form, record id and the ``saved`` signal."""

    saved = Signal(str)

    def __init__(self, session, form_name, record_id=None, values=None):
        super().__init__()
        self.setWindowTitle("Case[*]")  # as the record window's title, with the modified marker
        self.session = session
        self.tasks = TaskRunner(self)
        self.form = get_form(form_name)
        self.record_id = record_id
        self._values = values or {}

    def values(self):
        return self._values


@pytest.fixture
def open_panel(qtbot):
    windows = []

    def make(session, form_name, record_id=None, values=None) -> CasePanel:
        window = Window(session, form_name, record_id, values)
        qtbot.addWidget(window)
        windows.append(window)
        panel = CasePanel(window)
        window.show()
        if record_id:
            qtbot.waitUntil(lambda: panel.state is not None, timeout=10000)
        return panel

    yield make
    for w in windows:
        w.tasks.wait_idle()


def click(qtbot, button):
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_close_and_reopen_from_the_panel(qtbot, make_env, open_panel):
    env = make_env("school")
    s = env.login("counsellor")
    svc = CaseService(s, "counselling")
    rid = svc.open(counselling())
    svc.add_session(rid, {"held_on": days_ago(30), "session_type": "individual"})
    panel = open_panel(s, "counselling_case", rid)
    assert panel.state["status"] == "open" and "Open" in panel.status.text()
    assert panel.timeline.count() == 2 and not panel.warning.isVisible()
    assert set(panel.buttons) == {"add_session", "add_referral", "close"}
    changed = []
    panel.changed.connect(changed.append)

    click(qtbot, panel.buttons["close"])
    dialog = panel.dialog
    assert dialog is not None and dialog.isVisible() and set(dialog.editors) >= {"outcome", "closed_on"}
    click(qtbot, dialog.ok)  # no outcome chosen: refused by the service, shown on the field
    qtbot.waitUntil(lambda: dialog.editors["outcome"].error.isVisible(), timeout=10000)
    assert "required" in dialog.editors["outcome"].error.text() and dialog.isVisible()
    assert svc.get(rid)["values"]["status"] == "open"
    qtbot.keyClicks(dialog.editors["outcome"].combo.lineEdit(), "Improved")
    click(qtbot, dialog.ok)
    qtbot.waitUntil(lambda: panel.state["status"] == "closed", timeout=10000)
    assert not dialog.isVisible() and changed == [rid]
    assert svc.get(rid)["values"]["outcome"] == "improved"
    assert "Closed" in panel.status.text() and "Improved" in panel.status.text()
    assert set(panel.buttons) == {"reopen"}
    assert any("Closed: Improved" in panel.timeline.item(i).text() for i in range(panel.timeline.count()))

    click(qtbot, panel.buttons["reopen"])
    dialog = panel.dialog
    click(qtbot, dialog.ok)  # no reason
    qtbot.waitUntil(lambda: dialog.editors["reopen_reason"].error.isVisible(), timeout=10000)
    assert "Say why" in dialog.editors["reopen_reason"].error.text()
    qtbot.keyClicks(dialog.editors["reopen_reason"].edit, "Came back after the holidays upset again.")
    click(qtbot, dialog.ok)
    qtbot.waitUntil(lambda: panel.state["status"] == "reopened", timeout=10000)
    assert "close" in panel.buttons and changed == [rid, rid]
    texts = [panel.timeline.item(i).text() for i in range(panel.timeline.count())]
    assert any("Reopened: Came back" in t for t in texts)
    assert [h["action"] for h in svc.history(rid)] == ["create", "update", "update", "update"]


def test_a_session_and_a_referral_result_from_the_panel(qtbot, make_env, open_panel):
    env = make_env("school")
    s = env.login("counsellor")
    rid = CaseService(s, "counselling").open(counselling())
    panel = open_panel(s, "counselling_case", rid)
    click(qtbot, panel.buttons["add_session"])
    dialog = panel.dialog
    dialog.editors["held_on"].edit.setText("31/02/2024")  # not a date: caught on the field before sending
    qtbot.keyClicks(dialog.editors["session_type"].combo.lineEdit(), "Group")
    click(qtbot, dialog.ok)
    assert dialog.isVisible() and dialog.editors["held_on"].error.isVisible()
    dialog.editors["held_on"].edit.setText("")
    click(qtbot, dialog.ok)  # an empty date means today
    qtbot.waitUntil(lambda: panel.state["sessions"] == 1, timeout=10000)

    click(qtbot, panel.buttons["add_referral"])
    dialog = panel.dialog
    qtbot.keyClicks(dialog.editors["referred_to"].combo.lineEdit(), "Police")
    click(qtbot, dialog.ok)
    qtbot.waitUntil(lambda: "referral_result" in panel.buttons, timeout=10000)
    click(qtbot, panel.buttons["referral_result"])
    dialog = panel.dialog
    assert dialog.referral is not None and dialog.referral.count() == 1 and "Police" in dialog.referral.itemText(0)
    qtbot.keyClicks(dialog.editors["result"].combo.lineEdit(), "Service received")
    click(qtbot, dialog.ok)
    qtbot.waitUntil(lambda: "referral_result" not in panel.buttons, timeout=10000)
    assert any("Service received" in panel.timeline.item(i).text() for i in range(panel.timeline.count()))


def test_ajs_warning_and_refused_decision_in_the_panel(qtbot, make_env, open_panel):
    env = make_env("ajs_forum")
    s = env.login("ajs_recorder")
    rid = CaseService(s, "ajs").open(ajs(dispute_category="gbv"))
    panel = open_panel(s, "ajs_case", rid)
    assert panel.warning.isVisible() and panel.warning.text() == FORMAL_SYSTEM_WARNING.text()
    click(qtbot, panel.buttons["record_decision"])
    dialog = panel.dialog
    dialog.editors["decided_on"].edit.setText(days_ago(5))
    dialog.editors["decision_text"].edit.setPlainText("The husband apologises.")
    click(qtbot, dialog.ok)
    qtbot.waitUntil(lambda: dialog.editors["decided_on"].error.isVisible(), timeout=10000)
    assert "formal justice system" in dialog.editors["decided_on"].error.text()
    assert CaseService(s, "ajs").get(rid)["values"]["decided_on"] is None
    dialog.reject()


def test_the_warning_shows_while_a_new_dispute_is_typed(qtbot, make_env, open_panel):
    env = make_env("ajs_forum")
    s = env.login("ajs_recorder")
    values = {"dispute_category": "land"}
    panel = open_panel(s, "ajs_case", None, values)
    assert "save it" in panel.status.text() and panel.buttons == {}
    panel._typed()
    assert not panel.warning.isVisible()
    values["dispute_category"] = "sexual_offence"
    panel._typed()
    assert panel.warning.isVisible()


def test_no_step_buttons_for_a_coordinator_and_none_while_the_record_has_edits(qtbot, make_env, open_panel):
    env = make_env("school")
    rid = CaseService(env.login("counsellor"), "counselling").open(counselling())
    coord_panel = open_panel(env.login("coordinator"), "counselling_case", rid)
    assert coord_panel.buttons == {} and coord_panel.state["status"] == "open"
    panel = open_panel(env.login("counsellor"), "counselling_case", rid)
    panel.window.setWindowModified(True)
    assert panel.start("close", "Close") is None and "Save your changes" in panel.message.text()
    panel.window.setWindowModified(False)
    panel.window.saved.emit(rid)  # a save in the record window refreshes the panel
    qtbot.waitUntil(lambda: panel.message.text() == "", timeout=10000)
    assert isinstance(panel.start("close", "Close").editors["closed_on"].edit, QLineEdit)
    panel.dialog.reject()


def open_case_window(qtbot, shell, make_env):  # noqa: F811
    """A school's counsellor opens a new counselling case in its record window: (the window, its case panel)."""
    env = make_env("school")
    rid = CaseService(env.login("counsellor"), "counselling").open(counselling())
    sh = shell(env.folder)
    sh.start()
    login_through_dialog(qtbot, sh, user="couns")
    qtbot.waitUntil(lambda: sh.window is not None, timeout=10000)
    page = sh.window.show_page("records:counselling_case")
    qtbot.waitUntil(lambda: page.loaded and not page.model.loading, timeout=10000)
    window = page.open_record(rid)
    panel = window.case_panel
    return window, panel


def test_the_record_window_embeds_the_panel(qtbot, shell, make_env):  # noqa: F811
    window, panel = open_case_window(qtbot, shell, make_env)
    assert isinstance(panel, CasePanel)
    qtbot.waitUntil(lambda: panel.state is not None, timeout=10000)
    assert panel.state["status"] == "open" and "close" in panel.buttons
    window.close()


def test_a_step_in_the_panel_reloads_the_record_window_so_saving_after_it_works(qtbot, shell, make_env):  # noqa: F811
    window, panel = open_case_window(qtbot, shell, make_env)
    qtbot.waitUntil(lambda: panel.state is not None and window.revision == 1, timeout=10000)
    click(qtbot, panel.buttons["add_session"])
    dialog = panel.dialog
    dialog.editors["held_on"].set_value(days_ago(2))
    dialog.editors["session_type"].set_value("individual")
    click(qtbot, dialog.ok)
    qtbot.waitUntil(lambda: window.revision == 2, timeout=10000)
    assert len(window.view.repeats["sessions"].rows) == 1  # the window shows the new session
    window.view.editors["risk_level"].set_value("high")
    window.view.dirty = True
    window.save()
    qtbot.waitUntil(lambda: window.revision == 3 and not window.saving, timeout=10000)
    assert "Saved" in window.banner.text()
    window.close()

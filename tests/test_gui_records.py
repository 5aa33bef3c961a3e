"""Record entry and lists through real widgets: keyboard entry, inline checks, skip logic, drafts, history, lists."""

from __future__ import annotations

import pytest

from usalama_desktop.services.records import Query, RecordService
from usalama_desktop.ui import record_window as rw
from usalama_desktop.ui.qt import QApplication, QMessageBox, Qt

from .test_gui_shell import login_through_dialog, shell  # noqa: F401 (fixture)
from .test_store_encryption import incident

pytestmark = pytest.mark.gui


@pytest.fixture
def main(qtbot, shell, env):  # noqa: F811
    def open_as(role="clerk"):
        sh = shell(env.folder)
        sh.start()
        login_through_dialog(qtbot, sh, user={"clerk": "clerk", "admin": "admin", "viewer": "viewer",
                                              "coordinator": "coord"}[role])
        qtbot.waitUntil(lambda: sh.window is not None, timeout=10000)
        return sh

    return open_as


def records_page(qtbot, sh):
    page = sh.window.show_page("records:incident")
    qtbot.waitUntil(lambda: page.loaded and not page.model.loading, timeout=10000)
    return page


def wait_saved(qtbot, w):
    qtbot.waitUntil(lambda: w.record_id is not None and not w.saving, timeout=10000)


def type_incident(qtbot, w, ref="OB 7/12/03/2024"):
    v = w.view
    qtbot.keyClicks(v.editors["agency_ref"].edit, ref)
    qtbot.keyClicks(v.editors["occurred_on"].edit, "12/03/2024")
    v.editors["occurred_on"].edit.editingFinished.emit()
    qtbot.keyClicks(v.editors["occurred_time"].combo.lineEdit(), "21:40")
    qtbot.keyClicks(v.editors["reported_on"].edit, "13/03/2024")
    place = v.editors["place"]
    place.county.setCurrentIndex(place.county.findData("047"))
    qtbot.keyClicks(place.parts["ward"], "Kilimani")
    qtbot.keyClicks(place.parts["village"], "Yaya Centre")
    cat = v.editors["offence_category"].combo
    qtbot.keyClicks(cat.lineEdit(), "Robbery")
    status = v.editors["status"].combo
    status.setCurrentIndex(status.findData("investigation"))


def test_a_clerk_enters_a_record_with_the_keyboard(qtbot, main, env):
    sh = main("clerk")
    page = records_page(qtbot, sh)
    w = page.open_record(None)
    type_incident(qtbot, w)
    assert w.view.editors["occurred_on"].hint.text() == "Tue 12 Mar 2024"
    w.view.repeats["victims"].add_row()
    row = w.view.repeats["victims"].rows[0]
    row.editors["sex"].combo.setCurrentIndex(row.editors["sex"].combo.findData("female"))
    row.editors["age_band"].combo.setCurrentIndex(row.editors["age_band"].combo.findData("25-34"))
    assert w.save_action.shortcut().toString() == "Ctrl+S"
    w.save_action.trigger()
    wait_saved(qtbot, w)
    s = env.login("clerk")
    record = RecordService(s, "incident").get(w.record_id)["values"]
    assert record["offence_category"] == "robbery" and record["iccs_section"] == "04"
    assert record["occurred_time"] == "21:40" and record["place"]["village"] == "Yaya Centre"
    assert record["victims"] == [{"sex": "female", "age_band": "25-34", "disability": None, "minor": None}]
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=10000)


def test_inline_messages_and_nothing_saved_on_errors(qtbot, main, env):
    sh = main("clerk")
    page = records_page(qtbot, sh)
    w = page.open_record(None)
    editor = w.view.editors["occurred_on"]
    qtbot.keyClicks(editor.edit, "31/02/2024")
    editor.edit.editingFinished.emit()
    assert "not a real date" in editor.error.text() and editor.error.isVisibleTo(w)
    editor.edit.setText("12/03/2024")
    w.view.editors["reported_on"].edit.setText("01/03/2024")  # before it happened
    w.save_action.trigger()
    qtbot.waitUntil(lambda: "Not saved" in w.banner.text(), timeout=10000)
    assert "before the date it happened" in w.view.editors["reported_on"].error.text()
    assert "required" in w.view.editors["offence_category"].error.text()
    assert RecordService(env.login("clerk"), "incident").count() == 0


def test_skip_logic_shows_gbv_questions_only_when_they_apply(qtbot, main):
    sh = main("clerk")
    page = records_page(qtbot, sh)
    w = page.open_record(None)
    assert not w.view.is_visible_field("gbvims_type")
    gbv = w.view.editors["gbv"].combo
    gbv.setCurrentIndex(gbv.findData(True))
    assert w.view.is_visible_field("gbvims_type") and w.view.is_visible_field("gbv_context")
    assert not w.view.is_visible_field("outcome")
    status = w.view.editors["status"].combo
    status.setCurrentIndex(status.findData("closed"))
    assert w.view.is_visible_field("outcome")


def test_escape_asks_before_discarding_changes(qtbot, main, monkeypatch):
    sh = main("clerk")
    page = records_page(qtbot, sh)
    w = page.open_record(None)
    qtbot.keyClicks(w.view.editors["agency_ref"].edit, "OB 1")
    answers = iter([QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Discard])
    monkeypatch.setattr(rw.QMessageBox, "exec", lambda self: next(answers))
    w.close()
    assert w.isVisible()
    w.close()
    assert not w.isVisible()


def test_a_draft_survives_a_crash(qtbot, main, env):
    sh = main("clerk")
    page = records_page(qtbot, sh)
    w = page.open_record(None)
    qtbot.keyClicks(w.view.editors["agency_ref"].edit, "OB 99/1/1/2024")
    qtbot.keyClicks(w.view.editors["occurred_on"].edit, "12/03/20")  # half typed
    w.save_draft()
    qtbot.waitUntil(lambda: w.draft_id is not None, timeout=10000)
    sh.tasks.wait_idle()
    # A power cut: the process dies with the window open. The next session finds the draft.
    s = env.login("clerk")
    drafts = RecordService(s, "incident").drafts()
    assert drafts and drafts[0]["values"]["agency_ref"] == "OB 99/1/1/2024"
    assert drafts[0]["values"]["occurred_on"] == "12/03/20"
    page.refresh_drafts()
    qtbot.waitUntil(page.drafts_button.isVisible, timeout=10000)
    w.view.dirty = False
    w.close()
    page.resume_draft()
    restored = page.open_windows[-1]
    assert restored.view.editors["agency_ref"].edit.text() == "OB 99/1/1/2024"
    assert restored.view.editors["occurred_on"].edit.text() == "12/03/20"


def test_history_and_delete_with_a_reason(qtbot, main, env, monkeypatch):
    s = env.login("clerk")
    svc = RecordService(s, "incident")
    rid = svc.create(incident())
    svc.update(rid, {**svc.get(rid)["values"], "status": "closed", "outcome": "no_suspect"})
    sh = main("clerk")
    page = records_page(qtbot, sh)
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=10000)
    w = page.open_record(page.model.record_id(0))
    qtbot.waitUntil(lambda: w.revision == 2, timeout=10000)
    shown = []
    monkeypatch.setattr(rw.HistoryDialog, "open", lambda self: shown.append(self))
    w.show_history()
    qtbot.waitUntil(lambda: bool(shown), timeout=10000)
    table = shown[0].table
    cells = {(table.item(r, 3).text(), table.item(r, 4).text(), table.item(r, 5).text())
             for r in range(table.rowCount())}
    assert ("Status", "Open", "Closed") in cells
    monkeypatch.setattr(rw.QInputDialog, "getText", lambda *a, **k: ("entered twice", True))
    w.delete()
    qtbot.waitUntil(lambda: page.model.rowCount() == 0, timeout=10000)
    assert svc.count() == 0


def test_the_list_pages_sorts_filters_and_searches(qtbot, main, env, qtmodeltester):
    s = env.login("clerk")
    svc = RecordService(s, "incident")
    values = []
    for i in range(230):
        cat = "robbery" if i % 10 == 0 else "stealing"
        values.append(incident(agency_ref=f"OB {i}/1/1/2024", offence_category=cat,
                               occurred_on=f"2024-0{1 + i % 9}-1{i % 10}", reported_on="2024-10-01"))
    svc.create_many(values)
    sh = main("clerk")
    page = records_page(qtbot, sh)
    model = page.model
    qtbot.waitUntil(lambda: model.rowCount() >= 100 and model.total == 230, timeout=10000)
    assert "230 records" in page.status_line.text()
    qtmodeltester.check(model, force_py=True)
    while model.canFetchMore() or model.loading:  # the view may also ask for pages as it scrolls
        model.fetchMore()
        qtbot.waitUntil(lambda: not model.loading, timeout=10000)
    assert model.rowCount() == 230
    dates = [model.rows[i]["values"]["occurred_on"] for i in range(230)]
    assert dates == sorted(dates, reverse=True)
    page.category.setCurrentIndex(page.category.findData("robbery"))
    qtbot.waitUntil(lambda: model.total == 23 and model.rowCount() == 23, timeout=10000)
    page.clear_filters()
    qtbot.waitUntil(lambda: model.total == 230, timeout=10000)
    page.search.setText("OB 17/1/1/2024")
    qtbot.waitUntil(lambda: model.total == 1, timeout=10000)
    assert model.display[0][1] == "OB 17/1/1/2024"
    page.clear_filters()
    qtbot.waitUntil(lambda: model.total == 230, timeout=10000)
    model.sort(0, Qt.SortOrder.AscendingOrder)
    qtbot.waitUntil(lambda: model.rowCount() >= 100 and model.query.sort == "occurred_on", timeout=10000)
    assert model.rows[0]["values"]["occurred_on"] == min(dates)  # the tester stays attached through every change
    page.date_from.setText("31/31/2024")
    qtbot.waitUntil(lambda: "real date" in page.filter_error.text(), timeout=10000)


def test_viewer_sees_no_entry_buttons_and_no_narrative(qtbot, main, env):
    s = env.login("clerk")
    rid = RecordService(s, "incident").create(incident(narrative="private words"))
    sh = main("viewer")
    page = records_page(qtbot, sh)
    assert not page.new_button.isVisible() and not page.search.isVisible()
    w = page.open_record(rid)
    assert "narrative" not in w.view.editors
    assert not w.save_action.isEnabled()


def test_windows_close_with_a_draft_when_the_app_locks(qtbot, main, env):
    sh = main("clerk")
    page = records_page(qtbot, sh)
    w = page.open_record(None)
    qtbot.keyClicks(w.view.editors["agency_ref"].edit, "OB 5/5/5/2024")
    sh.lock("button")
    qtbot.waitUntil(lambda: sh.session is None, timeout=10000)
    assert not w.isVisible()
    assert RecordService(env.login("clerk"), "incident").drafts()[0]["values"]["agency_ref"] == "OB 5/5/5/2024"
    assert QApplication.clipboard().text() == ""


def test_filters_limit_the_count(env):
    s = env.login("clerk")
    svc = RecordService(s, "incident")
    svc.create(incident(occurred_on="2024-03", reported_on="2024-03-05", agency_ref="M1"))
    svc.create(incident(occurred_on="2024-03-31", reported_on="2024-04-01", agency_ref="M2"))
    svc.create(incident(occurred_on="2024-04-01", reported_on="2024-04-01", agency_ref="M3"))
    assert svc.count(Query(date_from="2024-03-01", date_to="2024-03-31")) == 2
    assert svc.count(Query(date_from="2024-03-15", date_to="2024-04-30")) == 2


def test_module_specific_imports_are_in_the_forms_menu(qtbot, shell, make_env):  # noqa: F811
    env = make_env("community_safety_forum")
    sh = shell(env.folder)
    sh.start()
    login_through_dialog(qtbot, sh, user="clerk")
    qtbot.waitUntil(lambda: sh.window is not None, timeout=10000)
    page = sh.window.show_page("records:police_rating")
    labels = [a.text() for a in page.more.menu().actions()]
    assert "Import text messages (SMS platform)…" in labels and "Import a spreadsheet…" in labels
    action = next(a for a in page.more.menu().actions() if a.text().startswith("Import text messages"))
    action.trigger()
    from usalama_desktop.ui.community_imports import SmsImportDialog

    dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, SmsImportDialog))
    assert dialog.isVisible()
    dialog.close()
    survey = sh.window.show_page("records:survey_response")
    assert any(a.text().startswith("Import a KoboToolbox") for a in survey.more.menu().actions())
    incidents = sh.window.show_page("records:incident")
    assert not any(a.text().startswith("Import text") for a in incidents.more.menu().actions())

"""The KoboToolbox import window through real widgets: rounds offered, question matching shown, answers set by
hand, then the interviews imported row by row."""

from __future__ import annotations

import pytest

from usalama_desktop.services.records import RecordService
from usalama_desktop.ui.community_imports import kobo_import_dialog
from usalama_desktop.ui.qt import Qt

from .test_kobo import make_round, write_export, write_xlsform
from .test_sms_gui import host, import_and_wait  # noqa: F401 (fixture)

pytestmark = pytest.mark.gui


def test_match_fix_and_import(qtbot, host, tmp_path):  # noqa: F811
    h = host(role="coordinator")
    round_id = make_round(h.session)
    xlsform, export = write_xlsform(tmp_path / "f.xlsx"), write_export(tmp_path / "e.xlsx")
    dialog = kobo_import_dialog(h)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.round.count() == 1, timeout=10000)
    assert dialog.round.currentData() == round_id and "CSA-2024" in dialog.round.currentText()
    qtbot.keyClicks(dialog.xlsform.edit, str(xlsform))
    qtbot.keyClicks(dialog.export.edit, str(export))
    qtbot.mouseClick(dialog.check_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.matching.rowCount() > 0, timeout=10000)
    assert "gender" in dialog.error.text()
    import_and_wait(qtbot, dialog)
    assert "gender" in dialog.error.text() and RecordService(h.session, "survey_response").count() == 0
    qtbot.keyClicks(dialog.choice_overrides, "gender.x=unknown")
    qtbot.mouseClick(dialog.check_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "fits" in dialog.summary.text(), timeout=10000)
    dialog.summary.setText("")
    import_and_wait(qtbot, dialog)
    assert dialog.summary.text().startswith("3 interviews imported")
    assert [dialog.rows.item(r, 2).text() for r in range(dialog.rows.rowCount())] == [
        "imported", "imported", "imported", "rejected", "rejected"]
    assert RecordService(h.session, "survey_response").count() == 3


def test_without_a_round_the_window_says_what_to_do(qtbot, host):  # noqa: F811
    dialog = kobo_import_dialog(host(role="coordinator"))
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: "no survey round" in dialog.error.text(), timeout=10000)

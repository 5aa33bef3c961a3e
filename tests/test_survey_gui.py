"""The survey results window through real widgets."""

from __future__ import annotations

import pytest

from usalama_desktop.services.records import RecordService
from usalama_desktop.ui.community_imports import SurveyResultsDialog
from usalama_desktop.ui.qt import Qt

from .test_kobo import make_round
from .test_sms_gui import host  # noqa: F401 (fixture)
from .test_survey import answer

pytestmark = pytest.mark.gui


def test_results_by_ward_for_the_chosen_year(qtbot, host):  # noqa: F811
    h = host(role="coordinator")
    round_id = make_round(h.session)
    RecordService(h.session, "survey_response").create_many(
        [answer(round_id, safe_after_dark="very_safe")] * 3 + [answer(round_id, safe_after_dark="very_unsafe")] * 3
        + [answer(round_id, ward="Gatina")])
    dialog = SurveyResultsDialog(h)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.results is not None, timeout=10000)
    assert dialog.table.rowCount() == 0 and "No survey round" in dialog.error.text()
    dialog.year.setValue(2024)
    dialog.results = None
    qtbot.mouseClick(dialog.show_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.results is not None, timeout=10000)
    cells = [[dialog.table.item(r, c).text() for c in range(4)] + [dialog.table.item(r, 4).text()]
             for r in range(dialog.table.rowCount())]
    assert cells[0][:2] == ["Gatina", "1"] and cells[0][4] == "–"  # too few respondents: no rate
    assert cells[1][:2] == ["Kilimani", "6"] and cells[1][4] == "50%"
    assert cells[2][:2] == ["All wards", "7"]
    assert "CSA-2024-DAGORETTI-N" in dialog.title.text()

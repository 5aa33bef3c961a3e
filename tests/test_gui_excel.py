"""Import, export and templates through the real dialogs: a mapping built with the combo boxes (columns, unmatched
values, a fixed county), saved by name, run on the worker with progress, and its row accounting shown."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest

from usalama_desktop.io import mapping as mappings
from usalama_desktop.services.records import Query, RecordService
from usalama_desktop.ui.excel_dialogs import ExportDialog, ImportDialog, save_template
from usalama_desktop.ui.qt import QWidget
from usalama_desktop.ui.tasks import TaskRunner

pytestmark = pytest.mark.gui

POLICE = Path(__file__).resolve().parent / "data" / "police-uk-city-of-london-2020"


class Host(QWidget):
    """What the dialogs need from the main window: the session and the task runner."""

    def __init__(self, session):
        super().__init__()
        self.session = session
        self.tasks = TaskRunner(self)


@pytest.fixture
def host(qtbot, env):
    h = Host(env.login("clerk"))
    qtbot.addWidget(h)
    yield h
    h.tasks.wait_idle()


def row_of(table, text: str, start: int = 0) -> int:
    for row in range(start, table.rowCount()):
        if table.item(row, 0).text() == text:
            return row
    raise AssertionError(text)


def choose(combo, data) -> None:
    index = combo.findData(data)
    assert index >= 0, data
    combo.setCurrentIndex(index)


def open_file(qtbot, dlg, path: Path) -> None:
    qtbot.waitUntil(lambda: dlg.mapping_combo.count() > 0, timeout=10000)
    dlg.path_edit.setText(str(path))
    dlg.load_file()
    qtbot.waitUntil(lambda: dlg.book is not None, timeout=10000)


def test_a_mapping_built_in_the_dialog_is_saved_and_imports_the_file(qtbot, host, tmp_path):
    path = tmp_path / "register.csv"
    path.write_text("OB No;Date;Reported;Offence;Ward\n"
                    "OB 1/2024;03/01/2024;04/01/2024;Theft;Kilimani\n"
                    "OB 2/2024;05/01/2024;05/01/2024;Assault;Kawangware\n"
                    "OB 3/2024;06/01/2024;06/01/2024;Robbery;Kilimani\n"
                    "OB 3/2024;06/01/2024;06/01/2024;Robbery;Kilimani\n", encoding="cp1252")
    dlg = ImportDialog(host, "incident")
    qtbot.addWidget(dlg)
    open_file(qtbot, dlg, path)
    cols = dlg.columns
    for source, target in (("OB No", "agency_ref"), ("Date", "occurred_on"), ("Reported", "reported_on"),
                           ("Offence", "offence_category"), ("Ward", "place_ward")):
        choose(cols.cellWidget(row_of(cols, source), 1), target)
    # Two of the three offences are not our words: the dialog lists them, unmatched first.
    assert dlg.unmatched.text().startswith("2 values match no choice")
    values = dlg.values
    for text, ours in (("Theft", "stealing"), ("Assault", "other_offences_against_persons")):
        choose(values.cellWidget(row_of_value(values, text), 2), ours)
    dlg.refresh_values()
    assert dlg.unmatched.text() == ""
    dlg.add_fixed()
    choose(dlg.fixed.cellWidget(0, 0), "place_county")
    dlg.fixed.item(0, 1).setText("047")
    dlg.save_name.setText("station register")
    dlg.save_button.click()
    qtbot.waitUntil(lambda: dlg.mapping_combo.currentData() == "saved:station register", timeout=10000)
    saved = mappings.load_saved(host.session, "station register")
    offence = next(r for r in saved.columns if r.target == "offence_category")
    assert offence.values == {"Theft": "stealing", "Assault": "other_offences_against_persons"}
    assert saved.constants == {"place_county": "047"}
    assert dlg.mapping_combo.currentData() == "saved:station register"
    dlg.import_button.click()
    qtbot.waitUntil(lambda: dlg.report is not None, timeout=20000)
    assert dlg.report.summary() == "4 rows: 3 imported, 0 updated, 1 skipped as exact duplicates, 0 rejected."
    assert "3 imported" in dlg.result.text() and not dlg.report_button.isHidden()
    assert RecordService(host.session, "incident").count() == 3
    assert (tmp_path / "register.csv.import-report.csv").exists()


def row_of_value(table, text: str) -> int:
    for row in range(table.rowCount()):
        if table.item(row, 1).text() == text:
            return row
    raise AssertionError(text)


def test_the_shipped_police_uk_mapping_runs_from_the_dialog(qtbot, host, tmp_path):
    path = tmp_path / "2020-05-city-of-london-street.csv"
    shutil.copy(POLICE / path.name, path)
    dlg = ImportDialog(host, "incident")
    qtbot.addWidget(dlg)
    open_file(qtbot, dlg, path)
    choose(dlg.mapping_combo, "shipped:police_uk_street")
    assert dlg.unmatched.text() == ""  # every crime type and outcome has its meaning
    assert dlg.current_mapping().columns[0].first_chars == 16  # options the table does not show survive
    dlg.import_button.click()
    qtbot.waitUntil(lambda: dlg.report is not None, timeout=30000)
    r = dlg.report
    assert r.rows == 226 and r.imported + r.updated + r.duplicates + r.rejected == 226 and r.rejected == 0


def test_a_usalama_template_needs_no_mapping_and_export_and_template_work(qtbot, host, tmp_path):
    from .test_import_template import fill, incident_row

    path = fill(tmp_path / "filled.xlsx", [incident_row("OB 1/2024"), incident_row("OB 2/2024")])
    dlg = ImportDialog(host, "incident")
    qtbot.addWidget(dlg)
    open_file(qtbot, dlg, path)
    assert dlg.is_template and not dlg.columns_box.isEnabled()
    dlg.import_button.click()
    qtbot.waitUntil(lambda: dlg.report is not None, timeout=20000)
    assert dlg.report.imported == 2

    export = ExportDialog(host, "incident", Query(categories=["stealing"]))
    qtbot.addWidget(export)
    qtbot.waitUntil(lambda: "2 records" in export.count_label.text(), timeout=10000)
    assert export.include_local.isVisibleTo(export)  # a clerk may choose to carry narratives
    export.path_edit.setText(str(tmp_path / "out.xlsx"))
    export.as_csv.setChecked(True)
    assert export.path_edit.text().endswith("out.csv")
    export.export_button.click()
    qtbot.waitUntil(lambda: export.result is not None, timeout=20000)
    text = (tmp_path / "out.csv").read_text(encoding="utf-8-sig")
    assert "OB 2/2024" in text and "MARKER-NARRATIVE" not in text

    written = save_template(host, "incident", tmp_path / "blank", lang="sw")
    assert written == tmp_path / "blank.xlsx"
    assert openpyxl.load_workbook(written).sheetnames[0] == "Tukio"

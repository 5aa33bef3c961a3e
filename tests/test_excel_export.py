"""Exports: the list's filters, role and row scope, narratives only by choice (and audited as such), formulas
defused, no record values through the shared temp folder, and an export that imports back as the same records."""

from __future__ import annotations

import csv
import json

import openpyxl
import pytest

from usalama_desktop.errors import PermissionDenied, UsalamaError
from usalama_desktop.io.export import export_records
from usalama_desktop.io.importer import import_file
from usalama_desktop.services.records import Query, RecordService

from .test_import_template import fill, incident_row


@pytest.fixture
def filled(env, tmp_path):
    clerk = env.login("clerk")
    rows = [incident_row("OB 1/2024"), incident_row("OB 2/2024", offence_category="Robbery", occurred_on="2024-04-02",
                                                    reported_on="2024-04-02"),
            incident_row("OB 3/2024", offence_subtype="=HYPERLINK(\"http://x\",\"click\")", occurred_on="2024-05-01",
                         reported_on="2024-05-01"),
            incident_row(None, occurred_on="2024-05", reported_on="2024-06-01")]
    path = fill(tmp_path / "in.xlsx", rows, victims=[["OB 1/2024", "Female", "25-34 years"],
                                                     ["#6", "Male", "18-24 years"]])
    assert import_file(clerk, "incident", path).imported == 4
    return clerk


def sheet_rows(path, index=0):
    wb = openpyxl.load_workbook(path)
    return [[c.value for c in row] for row in wb.worksheets[index].iter_rows()], wb


def test_an_xlsx_export_has_the_template_layout_and_the_filters(filled, tmp_path):
    path = tmp_path / "out.xlsx"
    result = export_records(filled, "incident", path, Query(date_from="2024-03-01", date_to="2024-04-30"))
    assert result.records == 2 and result.repeat_rows == {"victims": 1, "perpetrators": 0}
    rows, wb = sheet_rows(path)
    assert wb.sheetnames[:3] == ["Incident", "Victims", "Suspected perpetrators"]
    assert wb["Incident"].row_dimensions[2].hidden and wb["_usalama"].sheet_state == "hidden"
    keys = rows[1]
    assert keys[0] == "agency_ref" and "iccs_section" in keys and "_id" in keys and "narrative" not in keys
    data = [dict(zip(keys, r, strict=True)) for r in rows[2:]]
    assert [d["agency_ref"] for d in data] == ["OB 1/2024", "OB 2/2024"]
    assert data[1]["offence_category"] == "Robbery" and data[0]["place_county"] == "Nairobi"
    assert data[0]["status"] == "Closed" and data[0]["gbv"] == "No" and data[0]["victim_count"] == 1
    victims, _wb = sheet_rows(path, 1)
    assert victims[2] == ["OB 1/2024", "Female", "25-34 years", None, None]
    everything = export_records(filled, "incident", tmp_path / "all.xlsx")
    assert everything.records == 4
    victims, _wb = sheet_rows(tmp_path / "all.xlsx", 1)
    assert ["#6", "Male", "18-24 years", None, None] in victims  # no reference: linked by its row


def test_narratives_stay_out_unless_chosen_and_the_choice_is_audited(filled, tmp_path):
    export_records(filled, "incident", tmp_path / "plain.csv", Query(text="Kilimani"))
    assert "MARKER-NARRATIVE" not in (tmp_path / "plain.csv").read_text(encoding="utf-8-sig")
    export_records(filled, "incident", tmp_path / "full.xlsx", include_local=True)
    rows, _wb = sheet_rows(tmp_path / "full.xlsx")
    assert "narrative" in rows[1] and any("MARKER-NARRATIVE" in str(v) for v in rows[2])
    audits = filled.db.query("SELECT detail FROM audit WHERE action = 'records.export' ORDER BY seq")
    details = [json.loads(a[0]) for a in audits]
    assert details[0]["include_local"] is False and details[0]["filters"] == {"text": True}
    assert details[1]["include_local"] is True and details[1]["records"] == 4 and details[1]["format"] == "xlsx"
    everything = " ".join(a[0] for a in audits)
    assert "Kilimani" not in everything and "OB 1" not in everything and "MARKER" not in everything


def test_roles_and_row_scope_apply(env, filled, tmp_path):
    with pytest.raises(PermissionDenied):
        export_records(env.login("viewer"), "incident", tmp_path / "v.xlsx")
    admin = env.login("admin")
    other = "01a00000-0000-7000-8000-000000000002"
    admin.db.execute("INSERT INTO agencies(id, name, type, county, is_local, created_at) VALUES (?,?,?,?,0,?)",
                     (other, "Kilimani Health Centre", "health_facility", "047", "2024-01-01T00:00:00Z"))
    RecordService(admin, "incident").create_many([{
        "agency_ref": "HR 9/2024", "occurred_on": "2024-03-01", "reported_on": "2024-03-01",
        "place": {"county": "047"}, "offence_category": "robbery", "status": "open"}], agency_id=other)
    assert export_records(filled, "incident", tmp_path / "clerk.csv").records == 4  # own agency only
    coord = env.login("coord")
    result = export_records(coord, "incident", tmp_path / "coord.csv")
    assert result.records == 5
    with (tmp_path / "coord.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {r["Agency"] for r in rows} == {"Kilimani Police Station", "Kilimani Health Centre"}
    assert "What happened (stays on this computer)" not in rows[0]  # a coordinator never sees narratives
    assert not any("MARKER" in v for r in rows for v in r.values())
    with pytest.raises(UsalamaError):
        export_records(coord, "incident", tmp_path / "out.pdf")


def test_formulas_are_written_as_text(filled, tmp_path):
    export_records(filled, "incident", tmp_path / "out.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "out.xlsx")
    cells = [c for row in wb["Incident"].iter_rows() for c in row if str(c.value).startswith("=HYPERLINK")]
    assert len(cells) == 1 and cells[0].data_type == "s"
    export_records(filled, "incident", tmp_path / "out.csv")
    text = (tmp_path / "out.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text
    report = import_file(filled, "incident", tmp_path / "out.csv")
    assert report.duplicates == 4  # the apostrophe comes off again on the way in


def test_no_record_value_passes_through_the_shared_temp_folder(filled, tmp_path, monkeypatch):
    from openpyxl.worksheet import _writer

    def refuse(*args, **kwargs):
        raise AssertionError("openpyxl wanted a file in the shared temp folder")

    monkeypatch.setattr(_writer, "create_temporary_file", refuse)
    out = tmp_path / "exports"
    out.mkdir()
    export_records(filled, "incident", out / "out.xlsx", include_local=True)
    assert sorted(p.name for p in out.iterdir()) == ["out.xlsx"]  # the scratch sheets are gone too


def test_an_export_imports_back_as_the_same_records_and_an_edit_updates_one(filled, tmp_path):
    path = tmp_path / "round.xlsx"
    export_records(filled, "incident", path, lang="sw")
    report = import_file(filled, "incident", path)
    assert report.duplicates == 4 and report.child_rows["Waathiriwa"] == {"attached": 2, "rejected": 0}
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    keys = [c.value for c in ws[2]]
    ws.cell(row=3, column=keys.index("status") + 1, value="Inachunguzwa")
    ws.cell(row=3, column=keys.index("outcome") + 1, value=None)
    ws.cell(row=6, column=keys.index("offence_subtype") + 1, value="snatching")  # the row without a reference
    wb.save(path)
    report = import_file(filled, "incident", path)
    assert (report.updated, report.duplicates) == (2, 2)
    svc = RecordService(filled, "incident")
    first = svc.get(report.results[0].record_id)["values"]
    assert first["status"] == "investigation" and first["narrative"].startswith("MARKER")  # narrative kept
    assert svc.count() == 4


def test_a_kiswahili_csv_export_imports_by_its_headers(filled, tmp_path):
    path = tmp_path / "sw.csv"
    export_records(filled, "incident", path, lang="sw")
    head = path.read_text(encoding="utf-8-sig").splitlines()[0]
    assert head.startswith("\"Nambari ya taasisi") and (tmp_path / "sw-victims.csv").exists()
    assert import_file(filled, "incident", path).duplicates == 4


def test_a_cancelled_export_leaves_no_file_and_no_audit(filled, tmp_path):
    from usalama_desktop.errors import Cancelled

    class Cancel:
        def progress(self, done, total=None, label=None):
            raise Cancelled("stopped")

        def check(self):
            raise Cancelled("stopped")

    out = tmp_path / "cancelled"
    out.mkdir()
    before = filled.db.scalar("SELECT count(*) FROM audit")
    for name in ("out.xlsx", "out.csv"):
        with pytest.raises(Cancelled):
            export_records(filled, "incident", out / name, token=Cancel())
    assert list(out.iterdir()) == []
    assert filled.db.scalar("SELECT count(*) FROM audit") == before

"""Foreign CSV and spreadsheet files as they come: sniffed delimiters, byte-order marks, Windows-1252, UTF-16, and
broken or unreadable files refused with a clear message and nothing written."""

from __future__ import annotations

import pytest

from usalama_desktop.errors import ImportRejected
from usalama_desktop.io.importer import import_file
from usalama_desktop.io.mapping import ColumnRule, Mapping
from usalama_desktop.io.tabular import decode, read_book, sniff_delimiter
from usalama_desktop.services.records import RecordService

RULES = Mapping("incident", [ColumnRule("Ref", "agency_ref"), ColumnRule("Date", "occurred_on"),
                             ColumnRule("Reported", "reported_on"), ColumnRule("Place", "place_village"),
                             ColumnRule("Type", "offence_category")], {"place_county": "047"})


def rows_text(sep: str) -> str:
    return sep.join(["Ref", "Date", "Reported", "Place", "Type"]) + "\r\n" + "\r\n".join(
        sep.join(r) for r in [["OB 1", "01/02/2024", "01/02/2024", "Café Nyayo", "Robbery"],
                              ["OB 2", "2024-02-03", "2024-02-04", '"Kona, ""Mbaya"""', "Stealing"]]) + "\r\n"


@pytest.mark.parametrize("encoding, sep, note", [
    ("utf-8", ",", False), ("utf-8-sig", ";", False), ("cp1252", ";", True), ("utf-16", "\t", False),
    ("utf-8", "|", False),
])
def test_csv_files_in_the_encodings_and_separators_people_send(env, tmp_path, encoding, sep, note):
    admin = env.login("admin")
    path = tmp_path / "in.csv"
    path.write_bytes(rows_text(sep).encode(encoding))
    report = import_file(admin, "incident", path, RULES)
    assert report.imported == 2, report.results
    assert any("Windows-1252" in n for n in report.notes) == note
    places = sorted(r["values"]["place"]["village"] for r in RecordService(admin, "incident").iter_records())
    assert places == ["Café Nyayo", 'Kona, "Mbaya"']


def test_helpers_read_what_they_should():
    assert decode(b"ndiyo") == ("ndiyo", "utf-8")
    assert decode("café".encode("cp1252")) == ("café", "cp1252")
    assert decode(b"\xef\xbb\xbfa,b")[0] == "a,b"
    assert sniff_delimiter("a;b;c\n1;2;3\n") == ";"
    assert sniff_delimiter("single\nline\n") == ","


def test_unreadable_files_are_refused_whole(env, tmp_path):
    admin = env.login("admin")
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"PK\x03\x04 this is no workbook at all" * 10)
    with pytest.raises(ImportRejected, match="could not be read as a spreadsheet"):
        import_file(admin, "incident", bad, RULES)
    quote = tmp_path / "quote.csv"
    quote.write_text('Ref,Date\n"OB 1,2024-01-01\n' + "x" * 200000 + "\n", encoding="utf-8")
    with pytest.raises(ImportRejected, match="cannot be read as CSV"):
        import_file(admin, "incident", quote, RULES)
    binary = tmp_path / "photo.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20)
    with pytest.raises(ImportRejected, match="not a spreadsheet or CSV"):
        import_file(admin, "incident", binary, RULES)
    with pytest.raises(ImportRejected, match="cannot be opened"):
        import_file(admin, "incident", tmp_path / "missing.csv", RULES)
    assert admin.db.scalar("SELECT count(*) FROM incident") == 0
    assert admin.db.scalar("SELECT count(*) FROM audit WHERE action = 'records.import'") == 0


def test_a_header_only_file_and_blank_rows(env, tmp_path):
    admin = env.login("admin")
    path = tmp_path / "empty.csv"
    path.write_text("Ref,Date,Reported,Place,Type\n", encoding="utf-8")
    assert import_file(admin, "incident", path, RULES).rows == 0
    path.write_text(rows_text(",").replace("\r\nOB 2", "\r\n,,,,\r\n\r\nOB 2"), encoding="utf-8")
    report = import_file(admin, "incident", path, RULES)
    assert report.rows == 2 and report.imported == 2 and [r.row for r in report.results] == [2, 5]


def test_a_workbook_sheet_and_header_row_can_be_chosen(env, tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "Cover"
    wb.active.append(["Monthly return"])
    data = wb.create_sheet("Data")
    data.append(["Kilimani station, March"])
    data.append(["Ref", "Date", "Reported", "Place", "Type"])
    data.append(["OB 1", "2024-03-01", "2024-03-02", "Yaya", "Robbery"])
    wb.save(tmp_path / "return.xlsx")
    m = Mapping("incident", RULES.columns, RULES.constants, sheet="data", header_row=2)
    report = import_file(env.login("admin"), "incident", tmp_path / "return.xlsx", m)
    assert report.imported == 1 and report.results[0].row == 3
    assert read_book(tmp_path / "return.xlsx").sheet("DATA").name == "Data"
    with pytest.raises(ImportRejected, match="no sheet called Summary"):
        import_file(env.login("admin"), "incident", tmp_path / "return.xlsx",
                    Mapping("incident", RULES.columns, RULES.constants, sheet="Summary"))

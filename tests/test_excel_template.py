"""The blank template of every form: a column per field part with its key in the hidden second row, drop-downs from
the choice lists (labels in the template's language), repeat sheets, and instructions for every column."""

from __future__ import annotations

import openpyxl
import pytest

from usalama_desktop.forms.fields import CHOICE, PLACE, YESNO
from usalama_desktop.forms.registry import forms, get_form
from usalama_desktop.i18n import L
from usalama_desktop.io.layout import layout, sheet_title
from usalama_desktop.io.template import write_template


def validations(ws) -> dict[str, str]:
    """Column letter -> the list range its drop-down reads."""
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            out[rng.coord.split(":")[0].rstrip("0123456789")] = dv.formula1
    return out


def list_values(wb, formula: str) -> list[str]:
    sheet, rng = formula.lstrip("=").split("!")
    return [c.value for row in wb[sheet][rng.replace("$", "")] for c in row]


@pytest.mark.parametrize("name", sorted(forms()))
def test_every_form_has_a_complete_template(tmp_path, name):
    form = get_form(name)
    path = write_template(name, tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path)
    sheets = layout(form)
    assert wb.sheetnames[: len(sheets)] == [sheet_title(s.title, "en", []) if i == 0 else wb.sheetnames[i]
                                            for i, s in enumerate(sheets)]
    assert wb["Lists"].sheet_state == "hidden" and wb["_usalama"].sheet_state == "hidden"
    instructions = list(wb["Instructions"].iter_rows(values_only=True))
    described = {row[3] for row in instructions if row and len(row) > 3}
    for index, sheet in enumerate(sheets):
        ws = wb.worksheets[index]
        assert ws.row_dimensions[2].hidden and ws.freeze_panes == "A3"
        assert [c.value for c in ws[2]] == [c.key for c in sheet.columns]
        assert [c.value for c in ws[1]] == [c.label.en for c in sheet.columns]
        dropdowns = validations(ws)
        for i, column in enumerate(sheet.columns):
            assert column.key in described
            f = column.field
            letter = openpyxl.utils.get_column_letter(i + 1)
            wants_list = f is not None and (f.kind in (CHOICE, YESNO) or (f.kind == PLACE and column.part == "county"))
            assert (letter in dropdowns) == wants_list, column.key
            if f is not None and f.kind == CHOICE:
                assert list_values(wb, dropdowns[letter]) == [c.label.en for c in f.choice_list.choices]
    fields = [*form.fields, *[f for r in form.repeats for f in r.fields]]
    assert all(f.read_only or f.derive is not None or any(f.name in str(k) for k in described) for f in fields)


def test_the_incident_template_in_kiswahili(tmp_path):
    wb = openpyxl.load_workbook(write_template("incident", tmp_path / "sw.xlsx", "sw"))
    assert wb.sheetnames[:4] == ["Tukio", "Waathiriwa", "Washukiwa", "Maelekezo"]
    ws = wb["Tukio"]
    heads = [c.value for c in ws[1]]
    assert heads[1] == "Tarehe lilipotokea" and "iccs_section" not in [c.value for c in ws[2]]
    dropdowns = validations(ws)
    status = [c.value for c in ws[2]].index("status")
    assert list_values(wb, dropdowns[openpyxl.utils.get_column_letter(status + 1)])[-1] == "Imefungwa"
    gbv = [c.value for c in ws[2]].index("gbv")
    assert list_values(wb, dropdowns[openpyxl.utils.get_column_letter(gbv + 1)]) == ["Ndiyo", "Hapana"]
    rows = list(wb["Maelekezo"].iter_rows(values_only=True))
    by_key = {r[3]: r for r in rows if r and len(r) > 3 and r[3]}
    assert by_key["gbvims_type"][5] == "Ndiyo, inapoulizwa"
    assert "Ukatili wa kijinsia" in by_key["gbvims_type"][8]  # skip logic in words, with the Kiswahili label
    assert by_key["victims.sex"][0] == "Waathiriwa" and by_key["_record"][5] == "Ndiyo"
    assert rows[0][0].startswith("Jinsi ya kujaza")


def test_the_instructions_say_what_each_column_takes(tmp_path):
    wb = openpyxl.load_workbook(write_template("incident", tmp_path / "en.xlsx"))
    rows = {r[3]: r for r in wb["Instructions"].iter_rows(values_only=True) if r and len(r) > 3 and r[3]}
    assert rows["occurred_on"][5] == "Yes" and "YYYY-MM" in rows["occurred_on"][6]
    assert rows["outcome"][8] == "Status in (closed, referred, in_court)"
    assert rows["victim_count"][6] == "A whole number. From 0 to 500."
    assert "Separate several with a semicolon" in rows["action_taken"][6]
    assert rows["narrative"][7] == "Never sent in any bundle or report."
    assert rows["place_county"][5] == "Yes" and rows["place_ward"][5] == "No"


def test_sheet_titles_are_ones_excel_accepts():
    assert sheet_title(L("A/B: C? [D]*"), "en") == "A B  C   D"
    assert sheet_title(L("x" * 40), "en", ["x" * 31]) == "x" * 27 + " (2)"

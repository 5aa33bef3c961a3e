"""The blank Excel template of any form: a column per field part, drop-down lists from the choice lists, a sheet per
repeat group, and an Instructions sheet that says what every column takes, in English or Kiswahili.

The column keys sit in a hidden second row, so a header a clerk retyped or translated still imports. A template
holds no record values.
"""

from __future__ import annotations

import io
from pathlib import Path

from ..forms.definition import Form
from ..forms.fields import CHOICE, DATE, DECIMAL, INTEGER, LONGTEXT, MONTH, MULTI, PLACE, REFERENCE, TEXT, TIME, YESNO
from ..forms.registry import get_form
from ..fsutil import atomic_write_bytes
from ..i18n import L, _, language
from .layout import RECORD_LINK, Column, SheetLayout, column_letter, layout, sheet_title

TEMPLATE_VERSION = 1
LIST_SHEET = "Lists"
META_SHEET = "_usalama"
FIRST_DATA_ROW = 3
KIND_LABELS = {
    TEXT: L("Text", "Maandishi"), LONGTEXT: L("Long text", "Maandishi marefu"),
    INTEGER: L("Whole number", "Nambari kamili"), DECIMAL: L("Number", "Nambari"),
    YESNO: L("Yes or no", "Ndiyo au hapana"), DATE: L("Date", "Tarehe"), TIME: L("Time", "Saa"),
    MONTH: L("Month", "Mwezi"), CHOICE: L("One choice", "Chaguo moja"), MULTI: L("Several choices", "Machaguo kadhaa"),
    PLACE: L("Place", "Mahali"), REFERENCE: L("Reference to another record", "Rejea ya kumbukumbu nyingine"),
}
MAX_LISTED = 40  # longer lists are named in the instructions but only offered in the drop-down


def choice_labels(column: Column, lang: str) -> list[str] | None:
    """The drop-down entries for a column, in the template's language; None when it takes free input."""
    f = column.field
    if f is None:
        return None
    if f.kind == YESNO:
        with language(lang):
            return [_("Yes"), _("No")]
    if f.kind == PLACE:
        if column.part != "county":
            return None
        from ..forms.choices import get

        return [c.label.text(lang) for c in get("counties").choices]
    if f.kind == CHOICE:
        return [c.label.text(lang) for c in f.choice_list.choices]
    return None


def describe_format(column: Column, lang: str) -> str:
    """What a cell of this column may hold, in words."""
    f = column.field
    with language(lang):
        if f is None:
            return ""
        k = f.kind
        if k == PLACE:
            return _("The county's name or three-digit code.") if column.part == "county" else _("Text.")
        if k == YESNO:
            return _("Yes or No.")
        if k in (CHOICE, MULTI):
            labels = [c.label.text(lang) for c in f.choice_list.choices]
            listed = "; ".join(labels) if len(labels) <= MAX_LISTED else _("see the drop-down list")
            if k == MULTI:
                return _("One or more of: {choices}. Separate several with a semicolon (;).").format(choices=listed)
            return _("One of: {choices}.").format(choices=listed)
        if k == DATE:
            if f.precision == "day":
                return _("A date: YYYY-MM-DD or dd/mm/yyyy.")
            return _("A date (YYYY-MM-DD or dd/mm/yyyy), or only the month (YYYY-MM) if the day is not known.")
        if k == MONTH:
            return _("A month: YYYY-MM.")
        if k == TIME:
            return _("HH:MM (24-hour clock), or morning, afternoon, evening, night or unknown.")
        if k in (INTEGER, DECIMAL):
            text = _("A whole number.") if k == INTEGER else _("A number.")
            if f.minimum is not None and f.maximum is not None:
                text += " " + _("From {low} to {high}.").format(low=_num(f.minimum), high=_num(f.maximum))
            return text
        return _("Text, at most {n} characters.").format(n=f.limit)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def asked_when(form: Form, column: Column, lang: str) -> str:
    """The skip logic in words: when this question applies (empty when always)."""
    f = column.field
    if f is None:
        return ""

    def label_of(name: str) -> str:
        try:
            return form.field(f"{column.group}.{name}" if column.group and name in
                              form.repeat_by_name[column.group].by_name else name).label.text(lang)
        except KeyError:
            return name

    conds = []
    item_name = column.group or f.name
    section = form.section_of(item_name)
    if section is not None and section.relevant is not None:
        conds.append(section.relevant)
    item = form.repeat_by_name.get(column.group) if column.group else f
    if item is not None and item.relevant is not None:
        conds.append(item.relevant)
    if column.group and f.relevant is not None:
        conds.append(f.relevant)
    return "; ".join(c.describe(label_of) for c in conds)


def required_text(form: Form, column: Column, lang: str) -> str:
    f = column.field
    with language(lang):
        if column.key == RECORD_LINK:
            return _("Yes")
        if f is None or not f.required or (f.kind == PLACE and column.part != "county"):
            return _("No")
        return _("Yes, when it is asked") if asked_when(form, column, lang) else _("Yes")


def instructions(form: Form, sheets: list[tuple[SheetLayout, str]], lang: str) -> list[list[str]]:
    with language(lang):
        ref = form.field(form.reference_field).label.text(lang) if form.reference_field else None
        intro = [
            [_("How to fill in this template: {form}").format(form=form.title.text(lang))],
            [_("One row per record on the sheet {sheet}, from row 3 down. Do not delete row 2 (hidden): it tells the "
               "program which column is which.").format(sheet=sheets[0][1])],
            [_("Choose from the drop-down list where there is one. Write dates as YYYY-MM-DD or dd/mm/yyyy.")],
        ]
        if len(sheets) > 1:
            link = (_("the record's {reference}, or # and its row number on the first sheet (for example #5)")
                    .format(reference=ref) if ref else _("the row number of the record on the first sheet"))
            intro.append([_("Lists inside a record (such as {groups}) go on their own sheets, one row each; the first "
                            "column names the record: {link}.").format(
                groups=", ".join(name for _s, name in sheets[1:]), link=link)])
        if ref:
            intro.append([_("Importing the same file again changes nothing. A row whose {reference} is already stored "
                            "updates that record.").format(reference=ref)])
        intro.append([])
        head = [_("Sheet"), _("Column"), _("Header"), _("Key"), _("Kind"), _("Required"), _("What to write"),
                _("Help"), _("Asked when")]
        rows = [*intro, head]
        for sheet, title in sheets:
            for i, c in enumerate(sheet.columns):
                f = c.field
                if c.key == RECORD_LINK:
                    what = (_("The record's {reference}, or # and its row number on the first sheet.")
                            .format(reference=ref) if ref else _("The record's row number on the first sheet."))
                    rows.append([title, column_letter(i), c.label.text(lang), c.key, "", _("Yes"), what, "", ""])
                    continue
                rows.append([title, column_letter(i), c.label.text(lang), c.key,
                             KIND_LABELS[f.kind].text(lang) if f else "", required_text(form, c, lang),
                             describe_format(c, lang), f.help.text(lang) if f and f.help else "",
                             asked_when(form, c, lang)])
        return rows


def build_template(form: Form, lang: str = "en"):
    """The template workbook (openpyxl, in memory)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    sheets = layout(form)
    titles: list[str] = []
    for s in sheets:
        titles.append(sheet_title(s.title, lang, [*titles, LIST_SHEET, META_SHEET]))
    titles_instr = sheet_title(L("Instructions", "Maelekezo"), lang, [*titles, LIST_SHEET, META_SHEET])
    lists = wb.create_sheet(LIST_SHEET)
    list_ranges: dict[tuple[str, ...], str] = {}
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDE7F0")
    wrap = Alignment(wrap_text=True, vertical="top")
    for index, (sheet, title) in enumerate(zip(sheets, titles, strict=True)):
        ws = wb.active if index == 0 else wb.create_sheet(title, index)
        ws.title = title
        for col, c in enumerate(sheet.columns, start=1):
            letter = column_letter(col - 1)
            head = ws.cell(row=1, column=col, value=c.label.text(lang))
            head.font, head.fill, head.alignment = bold, fill, wrap
            ws.cell(row=2, column=col, value=c.key)
            ws.column_dimensions[letter].width = max(14, min(40, len(c.label.text(lang)) + 4))
            if c.is_text or c.key == RECORD_LINK:
                ws.column_dimensions[letter].number_format = "@"
            labels = choice_labels(c, lang)
            if labels:
                key = tuple(labels)
                if key not in list_ranges:
                    lcol = column_letter(len(list_ranges))
                    for r, text in enumerate(labels, start=1):
                        lists.cell(row=r, column=len(list_ranges) + 1, value=text)
                    list_ranges[key] = f"{LIST_SHEET}!${lcol}$1:${lcol}${len(labels)}"
                dv = DataValidation(type="list", formula1=f"={list_ranges[key]}", allow_blank=True,
                                    showErrorMessage=True, errorStyle="warning")
                with language(lang):
                    dv.error = _("Choose from the list.")
                    dv.errorTitle = c.label.text(lang)[:32]
                ws.add_data_validation(dv)
                dv.add(f"{letter}{FIRST_DATA_ROW}:{letter}1048576")
        ws.row_dimensions[1].height = 45
        ws.row_dimensions[2].hidden = True
        ws.freeze_panes = f"A{FIRST_DATA_ROW}"
    info = wb.create_sheet(titles_instr)
    for row in instructions(form, list(zip(sheets, titles, strict=True)), lang):
        info.append(row)
    info["A1"].font = Font(bold=True, size=14)
    for letter, width in zip("ABCDEFGHI", (16, 8, 34, 22, 16, 14, 50, 50, 34), strict=True):
        info.column_dimensions[letter].width = width
    lists.sheet_state = "hidden"
    wb.move_sheet(lists, offset=len(wb.sheetnames))
    meta = wb.create_sheet(META_SHEET)
    for row in (("form", form.name), ("template_version", TEMPLATE_VERSION), ("language", lang), ("kind", "template")):
        meta.append(list(row))
    meta.sheet_state = "hidden"
    wb.active = 0
    return wb


def write_template(form_name: str, path: Path, lang: str = "en") -> Path:
    """Write the blank template of ``form_name`` to ``path`` (.xlsx), atomically."""
    form = get_form(form_name)
    wb = build_template(form, lang)
    buf = io.BytesIO()
    wb.save(buf)
    atomic_write_bytes(Path(path), buf.getvalue(), mode=0o644)
    return Path(path)

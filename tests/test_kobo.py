"""Importing a KoboToolbox export of the safety audit with its XLSForm: questions matched by name, alias and label,
codes by code and label, ages turned into bands, every row accounted for, bad files refused with nothing written.

The XLSForm and the export are written here with openpyxl, shaped like what KoboToolbox gives: a survey sheet with
groups and Kiswahili labels, a choices sheet with numeric codes, an export with group paths in the headers,
select_multiple answers both as one column of codes and as one 0/1 column per code, and the _uuid and
_submission_time columns.
"""

from __future__ import annotations

import csv
import datetime as dt
import json

import openpyxl
import pytest

from usalama_desktop.errors import ImportRejected, PermissionDenied, UsalamaError
from usalama_desktop.io.kobo import ALREADY, IMPORTED, REJECTED, import_kobo, propose_mapping, read_xlsform
from usalama_desktop.services.records import RecordService

SURVEY = [
    ("start", "start", "", ""), ("end", "end", "", ""), ("today", "today", "", ""), ("deviceid", "deviceid", "", ""),
    ("text", "enumerator", "Enumerator code", "Msimbo wa mhoji"),
    ("select_one yn", "consent", "Do you agree to take part in this survey?", "Unakubali kushiriki?"),
    ("begin_group", "respondent", "About you", "Kuhusu wewe"),
    ("select_one ward", "ward", "Ward", "Wadi"),
    ("text", "village", "Village or estate", "Kijiji au mtaa"),
    ("select_one gender", "gender", "Sex of respondent", "Jinsia ya mhojiwa"),
    ("integer", "age", "Age in years", "Umri kwa miaka"),
    ("integer", "hh_members", "How many people live in this household?", "Watu wangapi wanaishi katika kaya hii?"),
    ("end_group", "", "", ""),
    ("begin_group", "victim", "Crime in the last 12 months", "Uhalifu katika miezi 12"),
    ("select_one yndk", "hh_victim", "In the last 12 months, was your household a victim of a crime?",
     "Katika miezi 12 iliyopita, je, kaya yako ilikumbwa na uhalifu?"),
    ("select_multiple hhcrime", "hh_crimes", "Which crimes?", "Uhalifu upi?"),
    ("select_one yndk", "hh_reported", "Was the most recent one reported to the police?", "Uliripotiwa kwa polisi?"),
    ("select_multiple why", "hh_why_not", "Why not?", "Kwa nini?"),
    ("select_one yndk", "p_victim", "In the last 12 months, were you personally a victim of a crime?",
     "Katika miezi 12 iliyopita, je, wewe binafsi ulikumbwa na uhalifu?"),
    ("select_multiple pcrime", "p_crimes", "Which crimes?", "Uhalifu upi?"),
    ("select_one yndk", "p_reported", "Was the most recent one reported to the police?", "Uliripotiwa kwa polisi?"),
    ("select_multiple why", "p_why_not", "Why not?", "Kwa nini?"),
    ("end_group", "", "", ""),
    ("begin_group", "perception", "Safety and trust", "Usalama na imani"),
    ("select_one safe", "safe_dark", "How safe do you feel walking alone around the area where you live after dark?",
     "Unajisikia salama kiasi gani ukitembea peke yako katika eneo unaloishi baada ya giza?"),
    ("select_one trust", "trust_police", "How much do you trust the police?", "Unawaamini polisi kiasi gani?"),
    ("select_one trust", "trust_justice", "How much do you trust chiefs, elders and the local courts?",
     "Unawaamini machifu, wazee na mahakama kiasi gani?"),
    ("text", "comments", "Anything else you want to tell us?", "Jambo lingine?"),
    ("end_group", "", "", ""),
    ("begin_repeat", "members", "Household members", "Wanakaya"),
    ("text", "member_name", "Name", "Jina"),
    ("end_repeat", "", "", ""),
]
CHOICES = {
    "yn": [("1", "Yes", "Ndiyo"), ("2", "No", "Hapana")],
    "yndk": [("1", "Yes", "Ndiyo"), ("2", "No", "Hapana"), ("98", "Don't know", "Sijui")],
    "ward": [("kilimani", "Kilimani", "Kilimani"), ("kawangware", "Kawangware", "Kawangware"),
             ("gatina", "Gatina", "Gatina")],
    "gender": [("f", "Female", "Mwanamke"), ("m", "Male", "Mwanamume"), ("x", "Prefer not to say", "Sitaki kusema")],
    "hhcrime": [("burglary", "House breaking or burglary", "Uvunjaji"),
                ("stock", "Theft of livestock", "Wizi wa mifugo"),
                ("moto", "Theft of a vehicle, motorbike or bicycle", "Wizi wa pikipiki"),
                ("damage", "Deliberate damage to property", "Uharibifu")],
    "pcrime": [("robbery", "Robbery (with force or threat)", "Unyang'anyi"), ("phone", "Theft of personal property "
               "(phone, money)", "Wizi wa simu"), ("assault", "Physical assault", "Shambulio")],
    "why": [("1", "Not serious enough", "Si jambo zito"), ("2", "Police would not do anything", "Polisi hawangefanya"),
            ("3", "Police would ask for money", "Polisi wangeomba pesa"), ("4", "Solved it ourselves or with elders",
                                                                            "Tulitatua wenyewe")],
    "safe": [("1", "Very safe", "Salama sana"), ("2", "Fairly safe", "Salama kiasi"),
             ("3", "A bit unsafe", "Si salama kidogo"), ("4", "Very unsafe", "Si salama kabisa"),
             ("5", "I never walk alone after dark", "Sitembei peke yangu"), ("98", "Don't know", "Sijui")],
    "trust": [("1", "A great deal", "Sana"), ("2", "Quite a lot", "Kiasi"), ("3", "Not very much", "Si sana"),
              ("4", "None at all", "Hata kidogo"), ("98", "Don't know", "Sijui")],
}
MULTI = {"hh_crimes": "hhcrime", "hh_why_not": "why", "p_crimes": "pcrime", "p_why_not": "why"}
GROUP = {"ward": "respondent", "village": "respondent", "gender": "respondent", "age": "respondent",
         "hh_members": "respondent", "safe_dark": "perception", "trust_police": "perception",
         "trust_justice": "perception", "comments": "perception"}

# One answer dict per submission, with Kobo's codes.
SUBMISSIONS = [
    {"enumerator": "E01", "consent": "1", "ward": "kilimani", "village": "Yaya", "gender": "f", "age": 34,
     "hh_members": 4, "hh_victim": "1", "hh_crimes": "burglary moto", "hh_reported": "2", "hh_why_not": "2 3",
     "p_victim": "2", "safe_dark": "3", "trust_police": "3", "trust_justice": "2", "comments": "Street lights off"},
    {"enumerator": "E01", "consent": "1", "ward": "kawangware", "village": "Stage 46", "gender": "m", "age": 22,
     "hh_members": 6, "hh_victim": "2", "p_victim": "1", "p_crimes": "phone", "p_reported": "1", "safe_dark": "1",
     "trust_police": "2", "trust_justice": "1"},
    {"enumerator": "E02", "consent": "1", "ward": "gatina", "village": "", "gender": "x", "age": 67, "hh_members": 2,
     "hh_victim": "98", "p_victim": "2", "safe_dark": "5", "trust_police": "98", "trust_justice": "4"},
    {"enumerator": "E02", "consent": "2", "ward": "gatina", "gender": "f", "age": 40, "hh_victim": "2",
     "p_victim": "2", "safe_dark": "2"},  # no consent: must be rejected
    {"enumerator": "E03", "consent": "1", "ward": "kilimani", "gender": "m", "age": 51, "hh_victim": "2",
     "p_victim": "2", "safe_dark": "7"},  # 7 is not in the list
]


def write_xlsform(path, survey=SURVEY, choices=CHOICES, settings=True):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(["type", "name", "label::English (en)", "label::Kiswahili (sw)", "required", "relevant"])
    for row in survey:
        ws.append([*row, "", ""])
    ch = wb.create_sheet("choices")
    ch.append(["list_name", "name", "label::English (en)", "label::Kiswahili (sw)"])
    for list_name, items in choices.items():
        for code, en, sw in items:
            ch.append([list_name, code, en, sw])
    if settings:
        st = wb.create_sheet("settings")
        st.append(["form_title", "form_id", "version"])
        st.append(["Community Safety Audit - Dagoretti North", "csa_dagoretti", "2024110101"])
    wb.save(path)
    return path


def _header():
    cols = ["start", "end", "today", "deviceid", "enumerator", "consent"]
    for kind, name, _en, _sw in SURVEY[6:]:
        if not name or kind.startswith(("begin", "end")) or name == "member_name":
            continue
        path = f"{GROUP.get(name, 'victim')}/{name}"
        cols.append(path)
        if name in MULTI:
            cols.extend(f"{path}/{code}" for code, _e, _s in CHOICES[MULTI[name]])
    return [*cols, "_id", "_uuid", "_submission_time", "_validation_status", "_index"]


def export_rows(submissions=SUBMISSIONS, with_groups=True):
    header = _header()
    rows = []
    for i, sub in enumerate(submissions):
        day = dt.date(2024, 11, 4) + dt.timedelta(days=i % 20)
        cells = {"start": f"{day}T09:0{i % 10}:00.000+03:00", "end": f"{day}T09:2{i % 10}:00.000+03:00", "today": day,
                 "deviceid": f"collect:FAKE{i}", "_id": 501 + i, "_uuid": f"6f1c2b0e-0000-4000-8000-00000000000{i}",
                 "_submission_time": dt.datetime(day.year, day.month, day.day, 12, 0), "_validation_status": "",
                 "_index": i + 1}
        for column in header:
            name = column.split("/")
            if len(name) >= 2 and name[-2] in MULTI:  # one 0/1 column per code
                cells[column] = 1 if name[-1] in (sub.get(name[-2]) or "").split() else 0
            elif name[-1] in sub:
                cells[column] = sub[name[-1]]
        rows.append([cells.get(c, "") for c in header])
    if not with_groups:
        header = [c.split("/")[-1] if c.count("/") == 1 else c for c in header]
    return header, rows


def write_export(path, submissions=SUBMISSIONS, with_groups=True):
    header, rows = export_rows(submissions, with_groups)
    if str(path).endswith(".csv"):
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, delimiter=";")  # KoboToolbox's CSV export uses semicolons
            writer.writerow(header)
            writer.writerows([[c.isoformat() if hasattr(c, "isoformat") else c for c in r] for r in rows])
        return path
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Community Safety Audit - Dagor"
    ws.append(header)
    for r in rows:
        ws.append(r)
    members = wb.create_sheet("members")
    members.append(["member_name", "_index", "_parent_index"])
    members.append(["Not imported", 1, 1])
    wb.save(path)
    return path


def make_round(session, year=2024, code="CSA-2024-DAGORETTI-N"):
    return RecordService(session, "survey_round").create({
        "round_code": code, "year": year, "area": {"county": "047", "subcounty": "Dagoretti North"},
        "sample_planned": 300, "status": "fieldwork"})


GENDER_X = {"gender.x": "unknown"}


@pytest.fixture
def files(tmp_path):
    return write_xlsform(tmp_path / "csa_dagoretti.xlsx"), write_export(tmp_path / "csa_export.xlsx")


# --- the XLSForm and the proposed mapping ---------------------------------------------------------------------------


def test_the_xlsform_is_read_with_groups_lists_and_labels(tmp_path):
    form = read_xlsform(write_xlsform(tmp_path / "f.xlsx"))
    assert form.form_id == "csa_dagoretti" and form.title.startswith("Community Safety Audit")
    ward = form.question("ward")
    assert ward.type == "select_one" and ward.list_name == "ward" and ward.path == ("respondent",)
    assert ward.labels == ("Ward", "Wadi")
    assert form.question("member_name").in_repeat
    assert [code for code, _labels in form.choices["safe"]] == ["1", "2", "3", "4", "5", "98"]


def test_questions_map_by_name_alias_and_label_and_codes_by_label(tmp_path):
    form = read_xlsform(write_xlsform(tmp_path / "f.xlsx"))
    mapping = propose_mapping(form)
    q = mapping.questions
    assert q["hh_victim"] == "hh_victim"  # by name
    assert (q["sex"], q["age_band"], q["interviewer"], q["place_ward"]) == ("gender", "age", "enumerator", "ward")
    assert q["safe_after_dark"] == "safe_dark" and q["trust_local_justice"] == "trust_justice"
    assert q["household_size"] == "hh_members" and q["interview_date"] == "today"
    assert mapping.choices["safe_dark"] == {"1": "very_safe", "2": "fairly_safe", "3": "bit_unsafe",
                                            "4": "very_unsafe", "5": "never_alone", "98": "dont_know"}
    assert mapping.choices["hh_crimes"] == {"burglary": "burglary", "stock": "livestock", "moto": "vehicle",
                                            "damage": "property_damage"}
    assert mapping.choices["consent"] == {"1": "yes", "2": "no"}
    assert mapping.unmatched_choices["gender"] == ["x"] and not mapping.complete
    assert "gender" in " ".join(mapping.problems())
    fixed = propose_mapping(form, choice_overrides=GENDER_X)
    assert fixed.complete and fixed.choices["gender"]["x"] == "unknown"
    assert "member_name" not in fixed.unused and "member_name" not in fixed.questions.values()


def test_hand_set_matches_win_and_bad_ones_are_refused(tmp_path):
    form = read_xlsform(write_xlsform(tmp_path / "f.xlsx"))
    mapping = propose_mapping(form, {"comments": "village", "place_village": "comments"}, GENDER_X)
    assert mapping.questions["comments"] == "village" and mapping.questions["place_village"] == "comments"
    with pytest.raises(UsalamaError):
        propose_mapping(form, {"no_such_field": "ward"})
    with pytest.raises(UsalamaError):
        propose_mapping(form, {"sex": "no_such_question"})
    with pytest.raises(UsalamaError):
        propose_mapping(form, choice_overrides={"gender.x": "not a sex"})
    with pytest.raises(UsalamaError):
        propose_mapping(form, choice_overrides={"gender": "unknown"})


def test_a_form_without_the_safety_question_is_incomplete(tmp_path):
    survey = [row for row in SURVEY if row[1] != "safe_dark"]
    form = read_xlsform(write_xlsform(tmp_path / "f.xlsx", survey=survey))
    mapping = propose_mapping(form, choice_overrides=GENDER_X)
    assert mapping.missing == ["safe_after_dark"]
    assert "--map safe_after_dark=QUESTION" in mapping.problems()[0]


# --- the import ---------------------------------------------------------------------------------------------------


def test_an_export_is_imported_row_by_row(make_env, files):
    xlsform, export = files
    s = make_env("community_safety_forum").login("clerk")
    round_id = make_round(s)
    report = import_kobo(s, export, xlsform, round_id, choice_overrides=GENDER_X)
    assert [(r.row, r.status) for r in report.rows] == [(2, IMPORTED), (3, IMPORTED), (4, IMPORTED), (5, REJECTED),
                                                        (6, REJECTED)]
    assert "consent" in report.rows[3].problems[0].lower()
    assert "safe_dark" in report.rows[4].problems[0]
    assert report.summary() == "3 interviews imported, 0 already imported, 2 rejected."
    svc = RecordService(s, "survey_response")
    first = svc.get(report.rows[0].record_id)["values"]
    assert first["round_id"] == round_id and first["source_id"] == "6f1c2b0e-0000-4000-8000-000000000000"
    assert first["place"] == {"county": "047", "subcounty": "Dagoretti North", "ward": "Kilimani", "village": "Yaya"}
    assert (first["sex"], first["age_band"], first["household_size"], first["interviewer"]) == ("female", "25-34", 4,
                                                                                                 "E01")
    assert first["interview_date"] == "2024-11-04"
    assert first["hh_crimes"] == ["burglary", "vehicle"] and first["hh_why_not"] == ["no_use", "bribe"]
    assert first["p_crimes"] is None and first["safe_after_dark"] == "bit_unsafe"
    assert first["comments"] == "Street lights off"
    third = svc.get(report.rows[2].record_id)["values"]
    assert (third["sex"], third["age_band"], third["hh_victim"], third["safe_after_dark"]) == (
        "unknown", "60+", "unknown", "never_alone")
    assert third["trust_police"] == "dont_know"
    again = import_kobo(s, export, xlsform, round_id, choice_overrides=GENDER_X)
    assert [r.status for r in again.rows] == [ALREADY, ALREADY, ALREADY, REJECTED, REJECTED]
    assert svc.count() == 3


def test_a_csv_export_without_group_paths_reads_the_same(make_env, tmp_path):
    xlsform = write_xlsform(tmp_path / "f.xlsx")
    export = write_export(tmp_path / "export.csv", SUBMISSIONS[:3], with_groups=False)
    s = make_env("community_safety_forum").login("coordinator")
    report = import_kobo(s, export, xlsform, make_round(s), choice_overrides=GENDER_X)
    assert report.count(IMPORTED) == 3
    values = RecordService(s, "survey_response").get(report.rows[0].record_id)["values"]
    assert values["hh_crimes"] == ["burglary", "vehicle"] and values["place"]["ward"] == "Kilimani"


def test_multiple_answers_are_read_from_the_one_column_per_code_layout(make_env, tmp_path):
    xlsform = write_xlsform(tmp_path / "f.xlsx")
    header, rows = export_rows(SUBMISSIONS[:1])
    for column in ("victim/hh_crimes", "victim/hh_why_not"):
        rows[0][header.index(column)] = ""  # only the 0/1 columns remain
    wb = openpyxl.Workbook()
    wb.active.append(header)
    wb.active.append(rows[0])
    wb.save(tmp_path / "split.xlsx")
    s = make_env("community_safety_forum").login("coordinator")
    report = import_kobo(s, tmp_path / "split.xlsx", xlsform, make_round(s), choice_overrides=GENDER_X)
    values = RecordService(s, "survey_response").get(report.rows[0].record_id)["values"]
    assert values["hh_crimes"] == ["burglary", "vehicle"] and values["hh_why_not"] == ["no_use", "bribe"]


def test_a_dry_run_accounts_for_every_row_and_writes_nothing(make_env, files):
    xlsform, export = files
    s = make_env("community_safety_forum").login("clerk")
    round_id = make_round(s)
    before = s.db.scalar("SELECT count(*) FROM audit")
    report = import_kobo(s, export, xlsform, round_id, choice_overrides=GENDER_X, dry_run=True)
    assert report.count(IMPORTED) == 3 and all(r.record_id is None for r in report.rows)
    assert RecordService(s, "survey_response").count() == 0
    assert s.db.scalar("SELECT count(*) FROM import_keys") == 0
    assert s.db.scalar("SELECT count(*) FROM audit") == before


@pytest.mark.parametrize("problem", ["no_round", "incomplete", "not_a_workbook", "no_choices", "wrong_export",
                                     "garbage_export"])
def test_bad_files_are_refused_with_a_clear_message_and_nothing_written(make_env, tmp_path, problem):
    s = make_env("community_safety_forum").login("clerk")
    round_id = make_round(s)
    xlsform = write_xlsform(tmp_path / "f.xlsx")
    export = write_export(tmp_path / "e.xlsx")
    overrides = GENDER_X
    if problem == "no_round":
        round_id = "01900000-0000-7000-8000-000000000000"
    elif problem == "incomplete":
        overrides = {}
    elif problem == "not_a_workbook":
        xlsform = tmp_path / "f.csv"
        xlsform.write_text("type,name\ntext,ward\n")
    elif problem == "no_choices":
        wb = openpyxl.load_workbook(tmp_path / "f.xlsx")
        del wb["choices"]
        wb.save(tmp_path / "f.xlsx")
    elif problem == "wrong_export":
        export = tmp_path / "other.csv"
        export.write_text("name,amount\nJohn,4\n")
    elif problem == "garbage_export":
        export = tmp_path / "e.xlsx"
        export.write_bytes(b"PK\x03\x04 this is not really a workbook")
    with pytest.raises(ImportRejected) as exc:
        import_kobo(s, export, xlsform, round_id, choice_overrides=overrides)
    assert exc.value.message and "Traceback" not in exc.value.message
    assert RecordService(s, "survey_response").count() == 0
    assert s.db.scalar("SELECT count(*) FROM import_keys") == 0


@pytest.mark.parametrize("role", ["counsellor", "ajs_recorder", "viewer"])
def test_roles_without_import_rights_are_refused(make_env, files, role):
    xlsform, export = files
    env = make_env("community_safety_forum")
    round_id = make_round(env.login("coordinator"))
    s = env.login({"counsellor": "couns", "ajs_recorder": "elder", "viewer": "viewer"}[role])
    with pytest.raises(PermissionDenied):
        import_kobo(s, export, xlsform, round_id, choice_overrides=GENDER_X)


def test_the_import_is_audited_without_answers(make_env, files):
    xlsform, export = files
    s = make_env("community_safety_forum").login("clerk")
    round_id = make_round(s)
    import_kobo(s, export, xlsform, round_id, choice_overrides=GENDER_X)
    detail = json.loads(s.db.scalar("SELECT detail FROM audit WHERE action = 'import.kobo'"))
    assert detail == {"file_rows": 5, "imported": 3}

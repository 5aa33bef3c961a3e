"""A filled template back in: records with their repeat rows, rejected rows with row, column and reason (never the
value), updates with history, cancel and failure leaving the database as it was, for every form in the registry."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import openpyxl
import pytest

from usalama_desktop.errors import Cancelled, ImportRejected, PermissionDenied
from usalama_desktop.forms.registry import forms
from usalama_desktop.io import importer as importer_module
from usalama_desktop.io.importer import import_file
from usalama_desktop.io.mapping import ColumnRule, Mapping
from usalama_desktop.io.template import write_template
from usalama_desktop.services.records import RecordService

HEAD = ["agency_ref", "occurred_on", "occurred_time", "reported_on", "place_county", "place_subcounty", "place_ward",
        "place_village", "offence_category", "offence_subtype", "gbv", "gbvims_type", "gbv_context", "weapon",
        "alcohol_drugs", "victim_count", "action_taken", "referrals", "status", "outcome", "narrative"]


def incident_row(ref="OB 1/01/03/2024", **over) -> dict:
    row = {"agency_ref": ref, "occurred_on": "2024-03-01", "occurred_time": "21:30", "reported_on": "02/03/2024",
           "place_county": "Nairobi", "place_subcounty": "Dagoretti North", "place_ward": "Kilimani",
           "place_village": "Yaya Centre", "offence_category": "Stealing", "offence_subtype": "phone snatching",
           "gbv": "No", "weapon": "Hands, feet or body", "alcohol_drugs": "Unknown", "victim_count": 1,
           "action_taken": "Recorded only; Investigation opened", "status": "Closed", "outcome": "No suspect identified",
           "narrative": "MARKER-NARRATIVE taken at the desk"}
    row.update(over)
    return row


def fill(path: Path, rows: list[dict], victims: list[list] = (), perpetrators: list[list] = (), lang="en") -> Path:
    """Write the real template, then type rows into it as a clerk would (by the keys in hidden row 2)."""
    write_template("incident", path, lang)
    wb = openpyxl.load_workbook(path)
    main, vic, per = wb.worksheets[0], wb.worksheets[1], wb.worksheets[2]
    keys = [c.value for c in main[2]]
    for row in rows:
        main.append([row.get(k) for k in keys])
        for cell in main[main.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # typed text that looks like a formula, as Excel keeps it with a leading '
    for v in victims:
        vic.append(v)
    for p in perpetrators:
        per.append(p)
    wb.save(path)
    return path


def fingerprint(db) -> str:
    h = hashlib.sha256()
    for table in ("incident", "incident__victims", "incident__perpetrators", "revisions", "incident_search",
                  "import_keys"):
        for r in db.query(f'SELECT * FROM "{table}"'):
            h.update(repr(tuple(r)).encode())
    h.update(str(db.scalar("SELECT value FROM meta WHERE key = 'change_seq'")).encode())
    return h.hexdigest()


def report_lines(report) -> list[dict]:
    with report.report_path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_a_filled_template_imports_records_with_their_victims(env, tmp_path):
    admin = env.login("admin")
    path = fill(tmp_path / "filled.xlsx", [incident_row(), incident_row("OB 2/01/03/2024", gbv="Yes",
                                                                        gbvims_type="Physical Assault", victim_count=2,
                                                                        offence_category="Other offences against "
                                                                                         "persons"),
                                           incident_row(None, offence_category="Robbery")],
                victims=[["OB 1/01/03/2024", "Female", "25-34 years", "No", "No"],
                         ["OB 2/01/03/2024", "Male", "15-17 years", "No", "Yes"],
                         ["OB 2/01/03/2024", "Female", "10-14 years", "Yes", "Yes"],
                         ["#5", "Male", "60 years and older", "No", "No"]],
                perpetrators=[["OB  2/01/03/2024", "Male", "25-34 years", "Family friend / neighbour"]])
    report = import_file(admin, "incident", path)
    assert (report.rows, report.imported, report.rejected) == (3, 3, 0), [r for r in report.results if r.outcome == "rejected"]
    assert report.child_rows["Victims"] == {"attached": 4, "rejected": 0}
    svc = RecordService(admin, "incident")
    by_ref = {r["values"]["agency_ref"]: r["values"] for r in svc.iter_records()}
    assert [v["sex"] for v in by_ref["OB 2/01/03/2024"]["victims"]] == ["male", "female"]
    assert by_ref["OB 2/01/03/2024"]["perpetrators"][0]["relationship"] == "neighbour"
    assert by_ref["OB 2/01/03/2024"]["gbvims_type"] == "3"
    assert by_ref[None]["victims"][0]["age_band"] == "60+"  # linked by #row: the record has no reference
    first = by_ref["OB 1/01/03/2024"]
    assert (first["reported_on"], first["occurred_time"], first["place"]["county"]) == ("2024-03-02", "21:30", "047")
    assert first["action_taken"] == ["recorded", "investigation"] and first["iccs_section"] == "05"
    assert first["narrative"].startswith("MARKER-NARRATIVE")
    assert [r.record_id for r in report.results if r.outcome == "imported"] and all(
        r.record_id for r in report.results)
    again = import_file(admin, "incident", path)
    assert again.duplicates == 3 and again.imported == again.updated == 0


def test_lookups_of_an_import_read_their_own_index_not_every_record_of_the_agency(env, tmp_path):
    """Uniqueness, references and record ids are looked up 500 at a time; each lookup must go through the index on
    what it looks up. Through the (agency_id, deleted) index it read every live record of the agency each time: a
    re-import of 50,000 rows took twice as long, and more the more records the agency holds."""
    admin = env.login("clerk")
    RecordService(admin, "incident").create_many(
        [{**RecordService(admin, "incident").form.empty_values(), "agency_ref": f"OB {i}/2023",
          "occurred_on": "2023-05-01", "reported_on": "2023-05-01", "place": {"county": "047"},
          "offence_category": "stealing", "status": "open"} for i in range(50)])
    path = fill(tmp_path / "again.xlsx", [incident_row(f"OB {i}/01/03/2024") for i in range(3)])
    assert import_file(admin, "incident", path).imported == 3
    statements: list[str] = []
    admin.db.conn.set_trace_callback(statements.append)
    try:
        again = import_file(admin, "incident", path)
    finally:
        admin.db.conn.set_trace_callback(None)
    assert again.duplicates == 3
    lookups = [q for q in statements if q.startswith("SELECT") and 'FROM "incident" WHERE' in q and " IN (" in q]
    assert len(lookups) >= 2, statements
    for q in lookups:
        plan = " ".join(str(tuple(r)[3]) for r in admin.db.query("EXPLAIN QUERY PLAN " + q))
        assert "USING INDEX incident_agency " not in plan and "SCAN" not in plan, (q, plan)


def test_a_kiswahili_template_with_retyped_headers_still_imports(env, tmp_path):
    admin = env.login("clerk")
    path = fill(tmp_path / "sw.xlsx", [incident_row(offence_category="Wizi", status="Imefungwa",
                                                    outcome="Hakuna mshukiwa aliyetambuliwa", gbv="Hapana",
                                                    weapon="Hakuna silaha", alcohol_drugs="Ndiyo")], lang="sw")
    wb = openpyxl.load_workbook(path)
    for cell in wb.worksheets[0][1]:
        cell.value = f"my own words {cell.column}"
    wb.save(path)
    report = import_file(admin, "incident", path)
    assert report.imported == 1, report.results
    values = next(RecordService(admin, "incident").iter_records())["values"]
    assert (values["offence_category"], values["status"], values["weapon"], values["alcohol_drugs"]) == (
        "stealing", "closed", "none", "yes")


def test_a_template_whose_key_row_was_deleted_maps_by_its_headers(env, tmp_path):
    admin = env.login("admin")
    path = fill(tmp_path / "nokeys.xlsx", [incident_row()])
    wb = openpyxl.load_workbook(path)
    wb.worksheets[0].delete_rows(2)
    wb.save(path)
    report = import_file(admin, "incident", path)
    assert report.imported == 1 and report.results[0].row == 2


def test_rejected_rows_say_row_column_and_reason_without_values_and_write_nothing(env, tmp_path):
    admin = env.login("admin")
    rows = [incident_row("OB 1/2024"),
            incident_row("OB 2/2024", occurred_on="31/02/2024"),  # not a real date
            incident_row("OB 3/2024", offence_category="SECRET-CATEGORY"),  # not a choice
            incident_row("OB 4/2024", place_county=None),  # required county missing
            incident_row("OB 5/2024", reported_on="2024-02-01"),  # reported before it happened
            incident_row("OB 6/2024", gbv="SECRET-YESNO", victim_count="many"),  # two problems
            incident_row("OB 7/2024")]
    victims = [["OB 7/2024", "SECRET-SEX", "25-34 years"], ["OB 99/2024", "Female", "25-34 years"]]
    path = fill(tmp_path / "bad.xlsx", rows, victims=victims)
    before = admin.db.scalar("SELECT count(*) FROM incident")
    report = import_file(admin, "incident", path)
    assert report.rows == 7 and report.imported == 1 and report.rejected == 6
    lines = {(line["Sheet"], int(line["Row"])): line for line in report_lines(report)}
    assert lines[("Incident", 4)]["Column"] == "B: Date it happened"
    assert "Not a date" in lines[("Incident", 4)]["Reason"]
    assert lines[("Incident", 5)]["Column"] == "I: Offence category"
    assert "Not one of the choices for Offence category" in lines[("Incident", 5)]["Reason"]
    assert "E: Where it happened: County" in lines[("Incident", 6)]["Column"]
    assert lines[("Incident", 7)]["Column"] == "D: Date reported"
    assert "before the date it happened" in lines[("Incident", 7)]["Reason"]
    assert "K: Gender-based violence" in lines[("Incident", 8)]["Column"] and "P: Number of victims" in \
        lines[("Incident", 8)]["Column"]
    assert lines[("Incident", 9)]["Column"] == "Victims row 3, B: Sex"
    assert lines[("Victims", 4)]["Outcome"] == "rejected" and lines[("Victims", 4)]["Column"].startswith("A: ")
    text = report.report_path.read_text(encoding="utf-8-sig")
    assert "SECRET" not in text and "31/02" not in text and "many" not in text and "MARKER" not in text
    assert admin.db.scalar("SELECT count(*) FROM incident") == before + 1
    assert admin.db.scalar("SELECT agency_ref FROM incident") == "OB 1/2024"
    assert report.child_rows["Victims"] == {"attached": 1, "rejected": 1}


def test_the_same_reference_again_updates_with_history(env, tmp_path):
    admin = env.login("clerk")
    path = fill(tmp_path / "a.xlsx", [incident_row("OB 1/2024"), incident_row("OB 2/2024")],
                victims=[["OB 1/2024", "Female", "25-34 years"]])
    assert import_file(admin, "incident", path).imported == 2
    path2 = fill(tmp_path / "b.xlsx", [incident_row("OB 1/2024", status="Under investigation", outcome=None,
                                                    victim_count=2),
                                       incident_row("OB 2/2024"), incident_row("OB 3/2024"),
                                       incident_row("OB 3/2024", offence_category="Robbery"),
                                       incident_row("OB 3/2024", offence_category="Robbery")],
                 victims=[["OB 1/2024", "Female", "25-34 years"], ["OB 1/2024", "Male", "18-24 years"]])
    report = import_file(admin, "incident", path2)
    assert [r.outcome for r in report.results] == ["updated", "duplicate", "imported", "updated", "duplicate"]
    assert "row 5" in report.results[3].reason and "row 6" in report.results[4].reason
    svc = RecordService(admin, "incident")
    rec = report.results[0].record_id
    history = svc.history(rec)
    assert [h["action"] for h in history] == ["create", "update"]
    changed = {c["field"] for c in history[1]["changes"]}
    assert changed == {"status", "outcome", "victims", "victim_count"}
    third = svc.get(report.results[2].record_id)
    assert third["values"]["offence_category"] == "robbery" and third["spine"]["revision"] == 1
    assert svc.search("Kilimani").rows  # the search text followed the update
    audit = admin.db.query("SELECT action, detail FROM audit WHERE action IN ('record.update', 'records.import') "
                           "ORDER BY seq")
    assert [a[0] for a in audit] == ["records.import", "record.update", "records.import"]
    assert "OB" not in audit[-1][1] and '"updated":2' in audit[-1][1]


def test_cancel_and_a_failure_while_writing_leave_the_database_as_it_was(env, tmp_path, monkeypatch):
    admin = env.login("admin")
    assert import_file(admin, "incident", fill(tmp_path / "a.xlsx", [incident_row("OB 1/2024")])).imported == 1
    path = fill(tmp_path / "b.xlsx", [incident_row("OB 1/2024", status="Open", outcome=None),
                                      *[incident_row(f"OB {n}/2024") for n in range(2, 40)]])
    before = fingerprint(admin.db)
    audit_before = admin.db.scalar("SELECT count(*) FROM audit")

    class CancelWhileSaving:
        def progress(self, done, total=None, label=None):
            if label and label.startswith("Saving") and done > 0:
                raise Cancelled("stopped")

        def check(self):
            pass

    monkeypatch.setattr(importer_module, "WRITE_BATCH", 10)
    with pytest.raises(Cancelled):
        import_file(admin, "incident", path, token=CancelWhileSaving())
    assert fingerprint(admin.db) == before
    assert admin.db.scalar("SELECT count(*) FROM audit") == audit_before
    assert not (tmp_path / "b.xlsx.import-report.csv").exists()

    def broken(self, updates):
        raise RuntimeError("disk gone")

    monkeypatch.setattr(RecordService, "update_many", broken)
    with pytest.raises(RuntimeError):
        import_file(admin, "incident", path)  # creates ran first, then the update failed
    assert fingerprint(admin.db) == before
    monkeypatch.undo()
    report = import_file(admin, "incident", path)
    assert (report.imported, report.updated) == (38, 1)


def test_blank_references_can_be_refused_by_the_mapping(env, tmp_path):
    admin = env.login("admin")
    path = tmp_path / "foreign.csv"
    path.write_text("Ref,When,Reported,County,Type\nA1,2024-01,2024-01-05,47,Robbery\n,2024-01,2024-01-06,47,Robbery\n"
                    ",2024-01,2024-01-06,47,Robbery\n", encoding="utf-8")
    rules = [ColumnRule("Ref", "agency_ref"), ColumnRule("When", "occurred_on"), ColumnRule("Reported", "reported_on"),
             ColumnRule("County", "place_county"), ColumnRule("Type", "offence_category")]
    report = import_file(admin, "incident", path, Mapping("incident", rules, blank_reference="reject"))
    assert [r.outcome for r in report.results] == ["imported", "rejected", "rejected"]
    assert report.results[1].column == "A: Ref" and "blank" in report.results[1].reason
    report = import_file(admin, "incident", path, Mapping("incident", rules, blank_reference="hash"))
    assert [r.outcome for r in report.results] == ["duplicate", "imported", "duplicate"]


def test_who_may_import(env, tmp_path):
    path = fill(tmp_path / "a.xlsx", [incident_row()])
    with pytest.raises(PermissionDenied):
        import_file(env.login("viewer"), "incident", path)
    with pytest.raises(PermissionDenied):
        import_file(env.login("couns"), "incident", path)
    clerk = env.login("clerk")
    with pytest.raises(PermissionDenied):
        import_file(clerk, "incident", path, agency_id="someone-else")
    with pytest.raises(ImportRejected):
        import_file(env.login("admin"), "incident", path, agency_id="no-such-agency")


def test_a_coordinator_import_neither_reads_nor_erases_narratives(env, tmp_path):
    clerk = env.login("clerk")
    assert import_file(clerk, "incident", fill(tmp_path / "a.xlsx", [incident_row("OB 1/2024")])).imported == 1
    coord = env.login("coord")
    report = import_file(coord, "incident", fill(tmp_path / "b.xlsx", [incident_row(
        "OB 1/2024", narrative="COORD-TEXT", status="Open", outcome=None)]))
    assert report.updated == 1 and any("role may not see" in n for n in report.notes)
    values = RecordService(clerk, "incident").get(report.results[0].record_id)["values"]
    assert values["narrative"].startswith("MARKER-NARRATIVE") and values["status"] == "open"


def test_a_coordinator_imports_for_another_agency_but_cannot_change_its_records(env, tmp_path):
    coord = env.login("coord")
    other = "01a00000-0000-7000-8000-000000000001"
    coord.db.execute("INSERT INTO agencies(id, name, type, county, is_local, created_at) VALUES (?,?,?,?,0,?)",
                     (other, "Kilimani Health Centre", "health_facility", "047", "2024-01-01T00:00:00Z"))
    report = import_file(coord, "incident", fill(tmp_path / "a.xlsx", [incident_row("HR 1/2024")]), agency_id=other)
    assert report.imported == 1
    assert coord.db.scalar("SELECT agency_id FROM incident") == other
    report = import_file(coord, "incident", fill(tmp_path / "b.xlsx", [incident_row("HR 1/2024", status="Open",
                                                                                    outcome=None)]), agency_id=other)
    assert report.rejected == 1 and "may not" in report.results[0].reason


@pytest.mark.parametrize("name", sorted(forms()))
def test_every_form_has_a_template_that_imports_back(env, tmp_path, name):
    admin = env.login("admin")
    path = write_template(name, tmp_path / f"{name}.xlsx")
    svc = RecordService(admin, name)
    if not (svc.can("import") and svc.can("create")):
        return
    report = import_file(admin, name, path)
    assert (report.rows, report.rejected) == (0, 0)


def test_a_records_fingerprint_ignores_key_order_and_takes_any_value():
    """Re-imports find unchanged rows by this fingerprint: the same content in another order is the same record, and
    a value orjson cannot write (an integer past 64 bits) falls back to the standard encoder instead of failing."""
    from usalama_desktop.store.records import Change

    def change(values, children):
        return Change(values, children)

    a = change({"b": 1, "a": "x", "n": None}, {"victims": [{"sex": "female", "minor": 1}]})
    b = change({"n": None, "a": "x", "b": 1}, {"victims": [{"minor": 1, "sex": "female"}]})
    assert importer_module.content_hash(a) == importer_module.content_hash(b)
    assert importer_module.content_hash(a) != importer_module.content_hash(change({"b": 2, "a": "x"}, {}))
    huge = change({"b": 10**30}, {})
    assert importer_module.content_hash(huge) == importer_module.content_hash(change({"b": 10**30}, {}))
    assert importer_module.content_hash(huge) != importer_module.content_hash(change({"b": 10**29}, {}))

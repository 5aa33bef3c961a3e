"""Column mappings: the JSON file format (strict, checked against the form), saved by name in the database,
resolved from a file, a saved name or a shipped one; value maps, defaults, fixed values, month days, first chars."""

from __future__ import annotations

import json

import pytest

from usalama_desktop.errors import ImportRejected, PermissionDenied, UsalamaError
from usalama_desktop.io import mapping as mappings
from usalama_desktop.io.importer import import_file
from usalama_desktop.io.mapping import ColumnRule, Mapping, from_json
from usalama_desktop.services.records import RecordService

GOOD = {"usalama_mapping": 1, "name": "register", "form": "incident", "columns": [
    {"source": "Ref", "target": "agency_ref"}, {"source": "Month", "target": "occurred_on"},
    {"source": "Month", "target": "reported_on", "month_day": "last"},
    {"source": "Kind", "target": "offence_category", "values": {"Theft": "stealing", "Fight": "Other offences against "
                                                                                             "persons"},
     "default": "other_penal_code_offences"},
    {"source": "Where", "target": "place_ward"}], "constants": {"place_county": "Nairobi"}}


def test_a_good_mapping_round_trips_through_its_file(tmp_path):
    m = from_json(json.dumps(GOOD))
    assert m.columns[2].month_day == "last" and m.constants == {"place_county": "Nairobi"}
    mappings.write_file(m, tmp_path / "m.json")
    again = mappings.read_file(tmp_path / "m.json")
    assert again.to_json() == m.to_json()
    assert from_json(b"\xef\xbb\xbf" + json.dumps(GOOD).encode()).name == "register"  # Notepad's BOM is fine


@pytest.mark.parametrize("broken, words", [
    ('{"usalama_mapping": 1, "form": "incident", "form": "x"}', "twice"),
    ('{"usalama_mapping": 1, "form": "incident", "header_row": NaN}', "not a number"),
    ('[1, 2]', "not a Usalama column mapping"),
    ('{"usalama_mapping": 2, "form": "incident"}', "not a Usalama column mapping"),
    ('{"usalama_mapping": 1, "form": "nope"}', "no form called nope"),
    ('{"usalama_mapping": 1, "form": "incident", "colour": "red"}', "unknown setting colour"),
    ('{"usalama_mapping": 1, "form": "incident", "columns": [{"source": "A", "target": "nothing"}]}', "no column"),
    ('{"usalama_mapping": 1, "form": "incident", "columns": [{"source": "A", "target": "status"}, '
     '{"source": "B", "target": "status"}]}', "two columns"),
    ('{"usalama_mapping": 1, "form": "incident", "columns": [{"source": "A", "target": "status", '
     '"values": {"x": "not-a-status"}}]}', "not one of the choices"),
    ('{"usalama_mapping": 1, "form": "incident", "columns": [{"source": "A", "target": "status", '
     '"month_day": "first"}]}', "month_day"),
    ('{"usalama_mapping": 1, "form": "incident", "columns": [{"source": "A", "target": "agency_ref", '
     '"first_chars": 0}]}', "first_chars"),
    ('{"usalama_mapping": 1, "form": "incident", "constants": {"place_county": "Atlantis"}}', "not one of"),
    ('{"usalama_mapping": 1, "form": "incident", "blank_reference": "maybe"}', "blank_reference"),
    ('{"usalama_mapping": 1, "form": "incident"} trailing', "extra data"),
    ('\xff\xfe', "not valid"),
])
def test_a_broken_mapping_file_is_refused_with_its_reason(broken, words):
    with pytest.raises(ImportRejected) as exc:
        from_json(broken.encode("latin-1") if broken.startswith("\xff") else broken)
    assert words in str(exc.value) and str(exc.value).startswith("The column mapping is not valid")


def test_value_maps_defaults_month_days_and_fixed_values_shape_the_rows(env, tmp_path):
    admin = env.login("admin")
    path = tmp_path / "foreign.csv"
    path.write_text("Ref,Month,Kind,Where\nA1,2024-02,theft ,Kilimani\nA2,02/2024,FIGHT,Gatina\nA3,2024-02,Arson,\n",
                    encoding="utf-8")
    report = import_file(admin, "incident", path, from_json(json.dumps(GOOD)))
    assert report.imported == 3, report.results
    rows = {r["values"]["agency_ref"]: r["values"] for r in RecordService(admin, "incident").iter_records()}
    assert rows["A1"]["offence_category"] == "stealing" and rows["A2"]["offence_category"] == \
        "other_offences_against_persons"
    assert rows["A3"]["offence_category"] == "other_penal_code_offences"  # the default for unlisted values
    assert rows["A1"]["reported_on"] == "2024-02-29" and rows["A2"]["occurred_on"] == "2024-02"
    assert rows["A3"]["place"] == {"county": "047", "subcounty": None, "ward": None, "village": None}


def test_a_file_without_a_column_the_mapping_reads_is_refused_whole(env, tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("Ref,Month\nA1,2024-02\n", encoding="utf-8")
    with pytest.raises(ImportRejected, match="no column called Kind"):
        import_file(env.login("admin"), "incident", path, from_json(json.dumps(GOOD)))
    lacking = Mapping("incident", [ColumnRule("Ref", "agency_ref"), ColumnRule("Month", "occurred_on")])
    with pytest.raises(ImportRejected, match="which every record needs"):
        import_file(env.login("admin"), "incident", path, lacking)
    assert env.login("admin").db.scalar("SELECT count(*) FROM incident") == 0


def test_mappings_are_saved_by_name_listed_resolved_and_deleted(env, tmp_path):
    clerk = env.login("clerk")
    m = from_json(json.dumps(GOOD))
    m.name = "  station register "
    mappings.save(clerk, m)
    assert mappings.saved_names(clerk, "incident") == ["station register"]
    assert mappings.load_saved(clerk, "station register").to_json()["columns"] == GOOD["columns"]
    m.constants = {"place_county": "Kiambu"}
    mappings.save(clerk, m)  # saving again under the same name replaces it
    assert mappings.load_saved(clerk, "station register").constants == {"place_county": "Kiambu"}
    assert mappings.resolve(clerk, "station register").name == "station register"
    (tmp_path / "file.json").write_text(json.dumps(GOOD), encoding="utf-8")
    assert mappings.resolve(clerk, str(tmp_path / "file.json")).name == "register"
    assert mappings.resolve(clerk, "police_uk_street").name == "police.uk street crime"
    with pytest.raises(UsalamaError, match="No mapping file or saved mapping called nope"):
        mappings.resolve(clerk, "nope")
    with pytest.raises(PermissionDenied):
        mappings.save(env.login("viewer"), m)
    with pytest.raises(UsalamaError):
        mappings.save(clerk, Mapping("incident", name=""))
    mappings.delete_saved(clerk, "station register")
    assert mappings.saved_names(clerk) == []
    actions = [r[0] for r in clerk.db.query("SELECT action FROM audit WHERE action LIKE 'mapping.%' ORDER BY seq")]
    assert actions == ["mapping.save", "mapping.save", "mapping.delete"]


def test_suggest_maps_headers_by_key_or_label_in_either_language():
    from usalama_desktop.forms.registry import get_form

    m = mappings.suggest(get_form("incident"), ["agency_ref", "Tarehe lilipotokea", "OFFENCE CATEGORY", "Colour",
                                                "Where it happened: County", "Sex"])
    assert [(r.source, r.target) for r in m.columns] == [
        ("agency_ref", "agency_ref"), ("Tarehe lilipotokea", "occurred_on"), ("OFFENCE CATEGORY", "offence_category"),
        ("Where it happened: County", "place_county")]


def test_the_shipped_police_mapping_is_valid_and_covers_its_values():
    m = mappings.read_file(mappings.shipped()["police_uk_street"])
    assert m.form == "incident" and m.constants == {"place_county": "047"}
    category = next(r for r in m.columns if r.target == "offence_category")
    assert len(category.values) == 14 and len(set(category.values.values())) == 8

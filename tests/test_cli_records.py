"""``usalama records`` as a script uses it: forms, template, import with the row accounting (exit 0 when it ran, 1
when refused whole), export with filters, list, and mappings saved and written back out."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import openpyxl

from .conftest import PASSWORD, run_cli
from .test_import_template import fill, incident_row

POLICE = Path(__file__).resolve().parent / "data" / "police-uk-city-of-london-2020"


def cli(env, *args, user="admin"):
    return run_cli("--data-dir", env.folder, "--user", user, "records", *args,
                   env_vars={"USALAMA_PASSWORD": PASSWORD})


def test_forms_and_templates_need_no_login(tmp_path):
    r = run_cli("records", "forms")
    assert r.returncode == 0
    assert "incident\tIncident" in r.stdout.splitlines()
    r = run_cli("records", "template", "--form", "incident", "--out", tmp_path / "t.xlsx", "--lang", "sw")
    assert r.returncode == 0, r.stderr
    assert openpyxl.load_workbook(tmp_path / "t.xlsx").sheetnames[0] == "Tukio"
    r = run_cli("records", "template", "--form", "nothing", "--out", tmp_path / "n.xlsx")
    assert r.returncode == 1 and "There is no form called nothing" in r.stderr and r.stderr.count("\n") == 1


def test_import_prints_the_accounting_and_writes_the_report(env, tmp_path):
    path = tmp_path / "2020-04-city-of-london-street.csv"
    shutil.copy(POLICE / path.name, path)
    r = cli(env, "import", path, "--form", "incident", "--mapping", "police_uk_street", user="clerk")
    assert r.returncode == 0, r.stderr
    first = r.stdout.splitlines()[0]
    assert first == "236 rows: 230 imported, 3 updated, 3 skipped as exact duplicates, 0 rejected."
    assert f"Row report: {path}.import-report.csv" in r.stdout
    r = cli(env, "import", path, "--form", "incident", "--mapping", "police_uk_street", user="clerk")
    assert r.stdout.splitlines()[0] == "236 rows: 0 imported, 0 updated, 236 skipped as exact duplicates, 0 rejected."
    r = cli(env, "import", path, "--form", "incident", user="clerk")  # no mapping: refused whole
    assert r.returncode == 1 and "do not match the Incident template" in r.stderr
    r = cli(env, "import", path, "--form", "incident", "--mapping", "nope", user="clerk")
    assert r.returncode == 1 and "No mapping file or saved mapping called nope" in r.stderr


def test_rejected_rows_still_exit_0(env, tmp_path):
    path = fill(tmp_path / "t.xlsx", [incident_row("OB 1/2024"), incident_row("OB 2/2024", occurred_on="someday")])
    r = cli(env, "import", path, "--form", "incident")
    assert r.returncode == 0 and "1 imported" in r.stdout and "1 rejected" in r.stdout
    with (tmp_path / "t.xlsx.import-report.csv").open(encoding="utf-8-sig", newline="") as f:
        lines = list(csv.DictReader(f))
    assert [(x["Row"], x["Outcome"], x["Column"]) for x in lines] == [("3", "imported", ""),
                                                                     ("4", "rejected", "B: Date it happened")]
    r = cli(env, "import", path, "--form", "incident", user="viewer")
    assert r.returncode == 1 and "may not" in r.stderr


def test_export_and_list_with_filters(env, tmp_path):
    path = fill(tmp_path / "t.xlsx", [incident_row("OB 1/2024"), incident_row("OB 2/2024", offence_category="Robbery",
                                                                            status="Open", outcome=None),
                                      incident_row("OB 3/2024", occurred_on="2023-12-30", reported_on="2023-12-31")])
    assert cli(env, "import", path, "--form", "incident").returncode == 0
    r = cli(env, "export", "--form", "incident", "--out", tmp_path / "e.csv", "--from", "2024-01-01", "--category",
            "Stealing", "--category", "robbery", "--county", "nairobi")
    assert r.returncode == 0, r.stderr
    assert "2 records exported." in r.stdout
    with (tmp_path / "e.csv").open(encoding="utf-8-sig", newline="") as f:
        refs = sorted(row["Agency reference (OB, register or file number)"] for row in csv.DictReader(f))
    assert refs == ["OB 1/2024", "OB 2/2024"]
    r = cli(env, "export", "--form", "incident", "--out", tmp_path / "e.xlsx", "--status", "Open",
            "--include-narratives")
    assert "1 records exported." in r.stdout
    detail = json.loads(env.login("admin").db.scalar(
        "SELECT detail FROM audit WHERE action = 'records.export' ORDER BY seq DESC LIMIT 1"))
    assert detail["include_local"] is True and detail["filters"] == {"statuses": ["open"]}
    r = cli(env, "export", "--form", "incident", "--out", tmp_path / "e.csv", "--category", "Piracy")
    assert r.returncode == 1 and "Piracy is not a category" in r.stderr
    r = cli(env, "list", "--form", "incident", "--limit", "2", "--search", "Kilimani")
    lines = r.stdout.splitlines()
    assert r.returncode == 0 and len(lines) == 3 and lines[0].startswith("Record id\tDate it happened")
    assert "OB 2/2024\tRobbery" in lines[1]
    r = cli(env, "list", "--form", "incident", "--to", "2023-12", user="viewer")
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 2


def test_mappings_are_saved_listed_and_written_out(env, tmp_path):
    shipped = Path(__file__).resolve().parents[1] / "resources" / "mappings" / "police_uk_street.json"
    r = cli(env, "mapping-save", shipped, "--name", "london")
    assert r.returncode == 0 and "Mapping london saved." in r.stdout
    r = cli(env, "mappings", "--form", "incident")
    assert "london\tsaved" in r.stdout and "police_uk_street\tshipped\tpolice.uk street crime" in r.stdout
    r = cli(env, "mapping-export", "london", "--out", tmp_path / "london.json")
    assert r.returncode == 0
    data = json.loads((tmp_path / "london.json").read_text(encoding="utf-8"))
    assert data["name"] == "london" and data["constants"] == {"place_county": "047"}
    path = tmp_path / "2020-05-city-of-london-street.csv"
    shutil.copy(POLICE / path.name, path)
    r = cli(env, "import", path, "--form", "incident", "--mapping", "london")
    assert r.returncode == 0 and "226 rows:" in r.stdout
    assert cli(env, "mapping-export", "nope", "--out", tmp_path / "x.json").returncode == 1
    assert cli(env, "import", "--form", "incident").returncode == 2

"""The real police.uk street-crime files (City of London, 2020) through the shipped mapping: every row accounted for,
per category, against counts worked out here from the CSVs with the csv module alone; importing again changes
nothing."""

from __future__ import annotations

import csv
import hashlib
import shutil
from collections import Counter
from pathlib import Path

import pytest

from usalama_desktop.io import mapping as mappings
from usalama_desktop.io.importer import import_file

DATA = Path(__file__).resolve().parent / "data" / "police-uk-city-of-london-2020"
FILES = sorted(DATA.glob("*-city-of-london-street.csv"))

# Written out again here on purpose (not read from the mapping): the test's own idea of what the mapping means.
CATEGORY = {
    "Violence and sexual offences": "other_offences_against_persons", "Burglary": "breakings",
    "Drugs": "dangerous_drugs", "Robbery": "robbery", "Vehicle crime": "theft_of_vehicles_and_parts",
    "Criminal damage and arson": "criminal_damage", "Theft from the person": "stealing", "Other theft": "stealing",
    "Shoplifting": "stealing", "Bicycle theft": "stealing", "Public order": "other_penal_code_offences",
    "Anti-social behaviour": "other_penal_code_offences", "Possession of weapons": "other_penal_code_offences",
    "Other crime": "other_penal_code_offences",
}
OPEN = {"": "open", "Status update unavailable": "open", "Under investigation": "investigation"}
STATUS_OUTCOME = {
    "Awaiting court outcome": ("in_court", "charged"), "Court result unavailable": ("closed", "unknown"),
    "Investigation complete; no suspect identified": ("closed", "no_suspect"),
    "Unable to prosecute suspect": ("closed", "no_further_action"),
    "Formal action is not in the public interest": ("closed", "no_further_action"),
    "Further investigation is not in the public interest": ("closed", "no_further_action"),
    "Offender given a caution": ("closed", "resolved_locally"),
    "Offender given a drugs possession warning": ("closed", "resolved_locally"),
    "Offender given penalty notice": ("closed", "resolved_locally"), "Local resolution": ("closed", "resolved_locally"),
    "Action to be taken by another organisation": ("referred", "referred"),
}


def content(row: dict[str, str]) -> tuple:
    """What the incident record will hold for this row (the outcome only counts once a case is closed or moved)."""
    last = row["Last outcome category"]
    status, outcome = (OPEN[last], None) if last in OPEN else STATUS_OUTCOME[last]
    village = None if row["Location"] == "No Location" else row["Location"]
    return (row["Month"], CATEGORY[row["Crime type"]], row["LSOA name"] or None, village, status, outcome)


def expected(path: Path) -> tuple[Counter, dict[str, Counter], dict[tuple, tuple]]:
    """Outcome counts, per-category counts per outcome, and each record's final content, from the CSV alone."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    last: dict[tuple, tuple] = {}
    counts: Counter = Counter()
    by_category: dict[str, Counter] = {o: Counter() for o in ("imported", "updated", "duplicate", "rejected")}
    for row in rows:
        key = ("id", row["Crime ID"]) if row["Crime ID"] else ("row", tuple(row.values()))
        now = content(row)
        if key not in last:
            outcome = "imported"
        else:
            outcome = "duplicate" if last[key] == now else "updated"
        last[key] = now
        counts[outcome] += 1
        by_category[outcome][now[1]] += 1
    assert sum(counts.values()) == len(rows)
    return counts, by_category, last


def table_fingerprint(db) -> str:
    """Every record, repeat row, revision, search row and import key: any change shows."""
    h = hashlib.sha256()
    for sql in ("SELECT * FROM incident ORDER BY rid", "SELECT * FROM incident__victims ORDER BY rid",
                "SELECT * FROM revisions ORDER BY id", "SELECT * FROM incident_search ORDER BY rid",
                "SELECT * FROM import_keys ORDER BY form, agency_id, key"):
        for r in db.query(sql):
            h.update(repr(tuple(r)).encode())
    return h.hexdigest()


@pytest.fixture(scope="module")
def police_mapping():
    return mappings.read_file(mappings.shipped()["police_uk_street"])


def test_the_data_is_what_the_readme_says():
    assert len(FILES) == 12
    rows = []
    for path in FILES:
        with path.open(encoding="utf-8", newline="") as f:
            rows.extend(csv.DictReader(f))
    assert len(rows) == 5925
    ids = [r["Crime ID"] for r in rows if r["Crime ID"]]
    assert len(ids) < len(rows)  # anti-social behaviour has none
    assert len(set(ids)) < len(ids)  # some repeat
    assert any(r["Location"] == "No Location" and not r["Longitude"] for r in rows)
    assert len({tuple(r.values()) for r in rows}) < len(rows)  # exact copies
    # The mapping keeps 16 of the Crime ID's 64 characters: still one per crime.
    assert len({i[:16] for i in ids}) == len(set(ids))


@pytest.mark.slow
def test_every_row_is_accounted_for_per_category_and_again_changes_nothing(env, tmp_path, police_mapping):
    admin = env.login("admin")
    finals: dict[tuple, tuple] = {}
    totals: Counter = Counter()
    for source in FILES:
        path = tmp_path / source.name
        shutil.copy(source, path)
        report = import_file(admin, "incident", path, police_mapping)
        counts, by_category, last = expected(source)
        assert report.rows == sum(counts.values())
        assert report.imported + report.updated + report.duplicates + report.rejected == report.rows
        assert {o: report.counts[o] for o in counts} == dict(counts), source.name
        assert report.rejected == 0
        for outcome, per in by_category.items():
            assert dict(report.by_category[outcome]) == {k: v for k, v in per.items() if v}, (source.name, outcome)
        finals.update({(source.name, *k): v for k, v in last.items()})
        totals.update(counts)
        # The row report: one line per row, no cell values.
        with report.report_path.open(encoding="utf-8-sig", newline="") as f:
            lines = list(csv.DictReader(f))
        assert len(lines) == report.rows
        assert Counter(line["Outcome"] for line in lines) == Counter({o: n for o, n in counts.items() if n})
        text = report.report_path.read_text(encoding="utf-8-sig")
        assert "On or near" not in text and "Camden" not in text
    # What is stored is the final content of each record, counted by category.
    stored = Counter(r[0] for r in admin.db.query("SELECT offence_category FROM incident WHERE deleted = 0"))
    assert stored == Counter(v[1] for v in finals.values())
    assert sum(stored.values()) == totals["imported"]
    assert admin.db.scalar("SELECT count(*) FROM incident WHERE place_ward IS NULL") == sum(
        1 for v in finals.values() if v[2] is None)
    assert admin.db.scalar("SELECT count(*) FROM incident WHERE reported_on LIKE '2020-__-01'") == sum(stored.values())
    # Each file's updates reached the record: no more revisions than in-file updates, and none for duplicates.
    assert admin.db.scalar("SELECT count(*) FROM revisions") == 0  # new records got their final content at once

    before = table_fingerprint(admin.db)
    again = Counter()
    for source in FILES:
        report = import_file(admin, "incident", tmp_path / source.name, police_mapping)
        again.update(report.counts)
        assert report.duplicates == report.rows, source.name
    assert again["duplicate"] == 5925
    assert table_fingerprint(admin.db) == before
    actions = Counter(r[0] for r in admin.db.query("SELECT action FROM audit WHERE action LIKE 'records.%'"))
    assert actions["records.import"] == 24

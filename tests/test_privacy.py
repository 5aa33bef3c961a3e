"""Data Protection Act duties: retention purge, a person's access export, breach readiness (THREATS 44-46)."""

from __future__ import annotations

import json

import pytest

from usalama_desktop import clock
from usalama_desktop.errors import PermissionDenied, UsalamaError
from usalama_desktop.services.cases import CaseService
from usalama_desktop.services.privacy import PrivacyService, report_text
from usalama_desktop.services.records import Query, RecordService
from usalama_desktop.store import audit

from .conftest import PASSWORD, run_cli
from .test_cases_data import counselling
from .test_store_encryption import db_key, decrypt_pages, incident
from .test_sync_support import add_incidents, pair_fixture, stick_fixture  # noqa: F401 (fixtures)


def test_retention_purge_erases_old_records_and_leaves_no_remnant(env):
    s = env.login("clerk")
    svc = RecordService(s, "incident")
    old = svc.create(incident(agency_ref="OLD-1", offence_subtype="RETAINMARKER words", narrative="RETAINNARR"))
    svc.update(old, {**svc.get(old)["values"], "offence_subtype": "RETAINMARKER again"})
    s.close()
    clock.shift(400 * 86_400_000)
    s = env.login("clerk")
    fresh = RecordService(s, "incident").create(incident(agency_ref="NEW-1"))
    admin = env.login("admin")
    privacy = PrivacyService(admin)
    with pytest.raises(PermissionDenied):
        PrivacyService(s).purge()
    assert privacy.due_for_purge() == {}  # nothing set: nothing is ever purged
    privacy.set_retention("observatory", 1)
    assert privacy.due_for_purge() == {"incident": 1}
    assert privacy.purge() == {"incident": 1}
    svc = RecordService(admin, "incident")
    assert svc.count() == 1 and svc.get(fresh)
    assert svc.count(Query(text="retainmarker")) == 0
    assert admin.db.scalar("SELECT count(*) FROM revisions WHERE record_id = ?", (old,)) == 0
    entry = admin.db.one("SELECT detail FROM audit WHERE action = 'privacy.purge'")
    assert json.loads(entry[0]) == {"erased": {"incident": 1}}
    assert audit.verify(admin.db).ok
    admin.close()
    s.close()
    pages = decrypt_pages(env.paths.db, db_key(env))
    for token in (b"RETAINMARKER", b"retainmarker", b"RETAINNARR", b"retainnarr"):
        assert not any(token in p for p in pages), token


def test_access_export_holds_all_and_only_one_persons_records(make_env, tmp_path):
    env = make_env("school")
    s = env.login("counsellor")
    cases = CaseService(s, "counselling")
    mine = [cases.open(counselling(case_no="GC/1", learner_code="ADM-4411")),
            cases.open(counselling(case_no="GC/2", learner_code="adm-4411 ", opened_on=counselling()["opened_on"]))]
    other = cases.open(counselling(case_no="GC/3", learner_code="ADM-9999", learner_name="Someone Else"))
    admin = env.login("admin")
    privacy = PrivacyService(admin)
    with pytest.raises(UsalamaError):
        privacy.access_export("ADM-4411", tmp_path / "x.json", "")
    result = privacy.access_export("ADM-4411", tmp_path / "access.json", "letter of 3 March")
    doc = json.loads((tmp_path / "access.json").read_text())
    assert result["records"] == 2 and sorted(r["id"] for r in doc["records"]) == sorted(mine)
    assert other not in json.dumps(doc) and "Someone Else" not in json.dumps(doc)
    assert doc["records"][0]["values"]["background"] == "BACKGROUND-MARKER"  # their own data, every tier
    detail = json.loads(admin.db.scalar("SELECT detail FROM audit WHERE action = 'privacy.access'"))
    assert detail["records"] == 2 and "ADM" not in json.dumps(detail) and "March" not in json.dumps(detail)
    with pytest.raises(PermissionDenied):
        PrivacyService(env.login("counsellor")).access_export("ADM-4411", tmp_path / "y.json", "request 1")


def test_breach_report_names_agencies_counts_categories_and_encryption(env):
    s = env.login("clerk")
    svc = RecordService(s, "incident")
    svc.create_many([incident(agency_ref=f"B{i}", offence_category="robbery" if i < 3 else "stealing")
                     for i in range(5)])
    report = PrivacyService(env.login("admin")).breach_report()
    incidents = next(f for f in report["forms"] if f["form"] == "incident")
    assert report["encrypted"] and "SQLCipher 4" in report["encryption"]
    assert incidents["records"] == 5 and incidents["by_agency"] == {"Kilimani Police Station": 5}
    assert incidents["categories"] == {"Robbery": 3, "Stealing": 2}
    text = report_text(report)
    assert "Robbery 3" in text and "Encrypted: yes" in text
    with pytest.raises(PermissionDenied):
        PrivacyService(s).breach_report()


def test_breach_report_for_a_lost_bundle_says_what_each_form_carried(pair, stick):
    from usalama_desktop.sync.export import export_bundle

    agency, _coord = pair
    add_incidents(agency, 4)
    result = export_bundle(agency, stick)
    report = PrivacyService(agency).breach_report(result.bundle_id)
    assert report["kind"] == "bundle" and report["records"] == 4
    incidents = next(f for f in report["forms"] if f["form"] == "incident")
    assert incidents["records"] == 4 and incidents["tombstones"] == 0
    assert incidents["sensitive_fields"] == []  # the observatory profile carries no personal or sensitive field
    text = report_text(report)
    assert "Incident" in text and "4 records" in text
    assert "MARKER-NARRATIVE" not in json.dumps(report)


def test_privacy_commands(env, tmp_path):
    e = {"USALAMA_PASSWORD": PASSWORD}
    r = run_cli("--data-dir", env.folder, "privacy", "retention", "--module", "observatory", "--years", "5",
                env_vars=e)
    assert r.returncode == 0 and "observatory\t5" in r.stdout
    r = run_cli("--data-dir", env.folder, "privacy", "purge", "--dry-run", env_vars=e)
    assert r.returncode == 0
    r = run_cli("--data-dir", env.folder, "privacy", "breach", "--out", tmp_path / "b.txt", env_vars=e)
    assert r.returncode == 0 and "Encrypted: yes" in (tmp_path / "b.txt").read_text()
    r = run_cli("--data-dir", env.folder, "--user", "clerk", "privacy", "breach", env_vars=e)
    assert r.returncode == 1 and "administrator" in r.stderr

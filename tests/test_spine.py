"""The spine every record shares: id, agency, installation, clock, revision, history, change sequence."""

from __future__ import annotations

import json
import re

import pytest

from usalama_desktop import clock
from usalama_desktop.errors import ConflictError, PermissionDenied, UsalamaError, ValidationFailed
from usalama_desktop.services.records import RecordService
from usalama_desktop.store.hlc import HybridClock, Stamp

from .test_store_encryption import incident

UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def test_create_update_delete_keep_the_spine(env):
    s = env.login("clerk")
    svc = RecordService(s, "incident")
    rid = svc.create(incident())
    assert UUID7.match(rid)
    row = s.writer.row(svc.spec, rid)
    assert row["agency_id"] == s.agency.id and row["installation_id"] == s.installation_id
    assert row["revision"] == 1 and row["created_by"] == "clerk" and row["deleted"] == 0
    assert json.loads(row["vclock"]) == {s.installation_id: 1}
    seq1, hlc1 = row["change_seq"], row["hlc"]
    svc.update(rid, {**svc.get(rid)["values"], "status": "closed", "outcome": "no_suspect"}, expected_revision=1)
    row = s.writer.row(svc.spec, rid)
    assert row["revision"] == 2 and row["change_seq"] > seq1 and row["hlc"] > hlc1
    assert json.loads(row["vclock"]) == {s.installation_id: 2}
    with pytest.raises(ConflictError):
        svc.update(rid, svc.get(rid)["values"], expected_revision=1)
    with pytest.raises(UsalamaError):
        svc.delete(rid, "")
    svc.delete(rid, "entered twice")
    row = s.writer.row(svc.spec, rid)
    assert row["deleted"] == 1 and row["revision"] == 3 and row["deleted_reason"] == "entered twice"
    hist = svc.history(rid)
    assert [h["action"] for h in hist] == ["create", "update", "delete"]
    changed = {c["field"]: (c["old"], c["new"]) for c in hist[1]["changes"]}
    assert changed["status"] == ("open", "closed")
    assert hist[2]["reason"] == "entered twice"
    assert svc.count() == 0  # tombstones are hidden from lists


def test_validation_refuses_and_writes_nothing(env):
    s = env.login("clerk")
    svc = RecordService(s, "incident")
    before = s.db.scalar("SELECT count(*) FROM audit")
    with pytest.raises(ValidationFailed) as exc:
        svc.create(incident(reported_on="2023-12-01"))
    assert "reported_on" in exc.value.problems
    tomorrow = clock.today().toordinal() + 1
    import datetime as dt

    with pytest.raises(ValidationFailed) as exc:
        svc.create(incident(occurred_on=dt.date.fromordinal(tomorrow).isoformat(),
                            reported_on=dt.date.fromordinal(tomorrow).isoformat()))
    assert "future" in str(exc.value)
    assert svc.count() == 0 and s.db.scalar("SELECT count(*) FROM audit") == before


def test_agency_reference_is_unique_per_agency(env):
    s = env.login("clerk")
    svc = RecordService(s, "incident")
    svc.create(incident(agency_ref="OB 5/5/5/2024"))
    with pytest.raises(ValidationFailed) as exc:
        svc.create(incident(agency_ref="OB 5/5/5/2024"))
    assert "agency_ref" in exc.value.problems


def test_change_sequence_and_clock_only_go_forward(env):
    s = env.login("clerk")
    svc = RecordService(s, "incident")
    a = svc.create(incident(agency_ref="A1"))
    clock.shift(-86_400_000)  # the PC clock goes back a day
    b = svc.create(incident(agency_ref="A2"))
    ra, rb = s.writer.row(svc.spec, a), s.writer.row(svc.spec, b)
    assert rb["hlc"] > ra["hlc"] and rb["change_seq"] == ra["change_seq"] + 1


def test_hybrid_clock_observes_remote_stamps():
    c = HybridClock("01000000-0000-7000-8000-000000000001")
    first = c.tick()
    remote = str(Stamp(Stamp.parse(first).ms + 60_000, 3, "01000000-0000-7000-8000-000000000002"))
    c.observe(remote)
    assert c.tick() > remote
    with pytest.raises(ValueError):
        c.observe(str(Stamp(clock.now_ms() + 10 ** 12, 0, "01000000-0000-7000-8000-000000000002")))


def test_another_agencys_record_cannot_be_changed_here(env):
    s = env.login("admin")
    svc = RecordService(s, "incident")
    rid = svc.create(incident())
    s.db.execute("INSERT INTO agencies(id, name, type, is_local, created_at) VALUES ('other', 'Other', "
                 "'chief_office', 0, '2024-01-01')")
    s.db.execute("UPDATE incident SET agency_id = 'other' WHERE id = ?", (rid,))
    with pytest.raises(PermissionDenied):
        svc.update(rid, svc.get(rid)["values"])
    with pytest.raises(PermissionDenied):
        svc.delete(rid, "not ours")


def test_drafts_survive_in_the_encrypted_database(env):
    s = env.login("clerk")
    svc = RecordService(s, "incident")
    did = svc.save_draft({"agency_ref": "OB draft", "narrative": "half typed"})
    s.close()
    s = env.login("clerk")
    drafts = RecordService(s, "incident").drafts()
    assert drafts[0]["id"] == did and drafts[0]["values"]["narrative"] == "half typed"
    rid = RecordService(s, "incident").create(incident(), draft_id=did)
    assert rid and RecordService(s, "incident").drafts() == []

"""Large bundles are checked on the second core by a helper process (sync/pipeline.py). What it merges, what it
refuses and the message a user reads must be the same as when every record is checked inline; a helper that dies
leaves nothing imported and no helper behind."""

from __future__ import annotations

import multiprocessing
import threading
import time

import pytest

from usalama_desktop.services.records import RecordService
from usalama_desktop.sync import keys, pipeline
from usalama_desktop.sync.export import export_bundle
from usalama_desktop.sync.importer import import_bundle
from usalama_desktop.sync.limits import BundleRejected
from usalama_desktop.sync.merge import Merger

from .conftest import PASSWORD, run_cli
from .test_sync_support import (  # noqa: F401 (fixtures)
    add_incidents,
    audit_head,
    audit_tail,
    craft,
    doc,
    enrol_both,
    stick_fixture,
    table_hashes,
    with_testform_fixture,
)

MERGED_TABLES = ("incident", "incident__victims", "incident__perpetrators", "incident_search")


@pytest.fixture(name="station")
def station_fixture(make_env):
    return make_env("police_station", "station").login("admin")


def _coordinator(make_env, station, name):
    coord = make_env("community_safety_forum", name).login("admin")
    enrol_both(station, coord)
    return coord


def _watch(monkeypatch) -> list:
    """The record checkers the importer makes, kept for the test to look at."""
    made = []
    original = pipeline.record_checker

    def spy(*args):
        made.append(original(*args))
        return made[-1]

    monkeypatch.setattr("usalama_desktop.sync.importer.record_checker", spy)
    return made


def _route_through_helper(monkeypatch) -> list:
    """Every bundle goes through the helper, in batches of 7 lines (so one bundle makes many round trips)."""
    monkeypatch.setattr(pipeline, "PIPELINE_MIN_RECORDS", 0)
    monkeypatch.setattr(pipeline, "LINES_PER_BATCH", 7)
    return _watch(monkeypatch)


def _helper_gone() -> bool:
    """No helper process left, nor the threads that feed it and read its replies."""
    return multiprocessing.active_children() == [] and not [
        t for t in threading.enumerate() if t.name.startswith("usalama-bundle-") and t.is_alive()]


def _merged(session):
    """What the merge wrote (the two bundles differ only in their ids, which provenance names)."""
    all_tables = table_hashes(session.db)
    return ({t: all_tables[t] for t in MERGED_TABLES},
            [tuple(r) for r in session.db.query("SELECT record_id, tbl, origin_installation, origin_agency, first_via, "
                                                "profile FROM sync_provenance ORDER BY record_id")])


def test_helper_merges_exactly_what_the_inline_path_merges(make_env, station, stick, monkeypatch):
    """New records, then changes to records the coordinator holds (their values unpacked from the helper's reply
    only then): the same rows either way."""
    svc = RecordService(station, "incident")
    ids = add_incidents(station, 60)
    svc.delete(ids[0], "entered twice")
    inline = _coordinator(make_env, station, "inline")
    bundle = export_bundle(station, stick, keys.find_peer(station, inline.installation_id), full=True).path
    inline_result = import_bundle(inline, bundle)
    helper = _coordinator(make_env, station, "helper")
    bundle2 = export_bundle(station, stick, keys.find_peer(station, helper.installation_id), full=True).path

    for rid in ids[1:11]:
        values = svc.get(rid)["values"]
        svc.update(rid, {**values, "status": "closed", "outcome": "charged", "victim_count": 2,
                         "victims": [*values["victims"], {"sex": "male", "age_band": "18-24"}]})
    svc.delete(ids[11], "duplicate")
    changes = export_bundle(station, stick, keys.find_peer(station, inline.installation_id)).path  # both read it
    inline_changes = import_bundle(inline, changes)

    made = _route_through_helper(monkeypatch)
    helper_result = import_bundle(helper, bundle2)
    helper_changes = import_bundle(helper, changes)

    assert [type(m) for m in made] == [pipeline.HelperChecker, pipeline.HelperChecker]
    assert not any(m.process.is_alive() for m in made)
    assert helper_result.stats.new == inline_result.stats.new == 60
    assert helper_changes.stats.updated == inline_changes.stats.updated == 11
    assert helper.db.scalar("SELECT count(*) FROM incident WHERE status = 'closed' AND victim_count = 2") >= 10
    assert _merged(helper) == _merged(inline)
    assert _helper_gone()


def _bad_bundle(station, coord, path, bad_at, origin_at=None):
    docs = [doc(station, values={"agency_ref": f"OB {i}/1/2024", "occurred_on": "2024-01-01",
                                 "reported_on": "2024-01-02", "place": {"county": "047", "ward": "Kilimani"},
                                 "offence_category": "stealing", "status": "open", "gbv": False})
            for i in range(40)]
    docs[bad_at]["values"]["offence_category"] = "no-such-category"
    if origin_at is not None:
        docs[origin_at]["spine"]["agency_id"] = coord.agency.id
    return craft(station, coord, docs, path)


@pytest.mark.parametrize("origin_at", [None, 3])
def test_helper_refuses_with_the_inline_message(make_env, station, tmp_path, monkeypatch, origin_at):
    results = {}
    for mode in ("inline", "helper"):
        coord = _coordinator(make_env, station, mode)
        path = _bad_bundle(station, coord, tmp_path / f"{mode}.usalama-bundle", 17, origin_at)
        if mode == "helper":
            _route_through_helper(monkeypatch)
        mark = audit_head(coord.db)
        with pytest.raises(BundleRejected) as caught:
            import_bundle(coord, path)
        assert coord.db.scalar("SELECT count(*) FROM incident") == 0
        assert coord.db.scalar("SELECT count(*) FROM sync_incoming") == 0
        assert [a for a, _d in audit_tail(coord.db, mark)] == ["bundle.rejected"]
        results[mode] = (caught.value.code, caught.value.message)
    assert results["helper"] == results["inline"]
    assert ("Record 4 " if origin_at is not None else "Record 18 ") in results["helper"][1]
    assert _helper_gone()


def test_a_refusal_is_reported_even_when_the_merge_is_slower_than_the_helper(make_env, station, tmp_path,
                                                                              monkeypatch):
    """The helper stops checking after a bad record; batches the importer sends after that must not turn the
    refusal into "the helper stopped" (found in review: with real batch sizes the merge is the slower side)."""
    coord = _coordinator(make_env, station, "coord")
    path = _bad_bundle(station, coord, tmp_path / "bad.usalama-bundle", 17)
    _route_through_helper(monkeypatch)
    add = Merger.add

    def slow_add(self, v, n):
        time.sleep(0.02)
        return add(self, v, n)

    monkeypatch.setattr(Merger, "add", slow_add)
    with pytest.raises(BundleRejected) as caught:
        import_bundle(coord, path)
    assert "Record 18 " in caught.value.message
    assert coord.db.scalar("SELECT count(*) FROM incident") == 0
    assert _helper_gone()


def test_a_helper_that_dies_leaves_nothing_imported(make_env, station, stick, monkeypatch):
    _route_through_helper(monkeypatch)
    add_incidents(station, 50)
    coord = _coordinator(make_env, station, "coord")
    bundle = export_bundle(station, stick, keys.find_peer(station, coord.installation_id), full=True).path
    original = pipeline.HelperChecker._send

    def send_then_die(self):
        original(self)
        self.process.kill()
        self.process.join()

    monkeypatch.setattr(pipeline.HelperChecker, "_send", send_then_die)
    with pytest.raises(pipeline.HelperFailed) as caught:
        import_bundle(coord, bundle)
    assert "Nothing was imported" in str(caught.value)
    assert coord.db.scalar("SELECT count(*) FROM incident") == 0
    assert coord.db.scalar("SELECT count(*) FROM sync_incoming") == 0
    assert _helper_gone()
    monkeypatch.setattr(pipeline.HelperChecker, "_send", original)
    assert import_bundle(coord, bundle).stats.new == 50  # the same bundle, once the helper works


def test_small_bundles_and_unknown_forms_are_checked_inline(with_testform, make_env, station, stick, monkeypatch):
    coord = _coordinator(make_env, station, "coord")
    made = _watch(monkeypatch)
    add_incidents(station, 3)
    import_bundle(coord, export_bundle(station, stick, keys.find_peer(station, coord.installation_id)).path)
    monkeypatch.setattr(pipeline, "PIPELINE_MIN_RECORDS", 0)
    RecordService(station, with_testform.name).create({"ref_no": "T-1", "category": "open",
                                                       "client_name": "Wanjiru"})
    import_bundle(coord, export_bundle(station, stick, keys.find_peer(station, coord.installation_id)).path)
    assert [type(m) for m in made] == [pipeline.InlineChecker, pipeline.InlineChecker]


def test_the_command_imports_a_large_bundle_through_its_helper(make_env, station, stick):
    """The real ``usalama`` command, whose helper is a new interpreter that must not rerun the command itself."""
    add_incidents(station, pipeline.PIPELINE_MIN_RECORDS)
    coord_env = make_env("community_safety_forum", "coord")
    coord = coord_env.login("admin")
    enrol_both(station, coord)
    coord_env.close()
    bundle = export_bundle(station, stick, keys.find_peer(station, coord.installation_id), full=True).path
    out = run_cli("--data-dir", coord_env.folder, "import", bundle,
                  env_vars={"USALAMA_PASSWORD": PASSWORD, "USALAMA_USER": "admin"})
    assert out.returncode == 0, out.stderr
    assert f"Imported {pipeline.PIPELINE_MIN_RECORDS:,}" in out.stdout or \
        f"Imported {pipeline.PIPELINE_MIN_RECORDS}" in out.stdout, out.stdout
    check = coord_env.login("admin")
    assert check.db.scalar("SELECT count(*) FROM incident") == pipeline.PIPELINE_MIN_RECORDS

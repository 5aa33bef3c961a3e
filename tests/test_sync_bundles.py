"""Exchange bundles, the happy paths: export, read back by the reference age and minisign tools, import, merge,
incremental and full exports, tombstones, onward relay with provenance, profiles, receipts, interrupted writes."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile

import pytest

from usalama_desktop.errors import PermissionDenied, UsalamaError
from usalama_desktop.services.records import RecordService
from usalama_desktop.store.schema import get_meta
from usalama_desktop.sync import export as export_mod
from usalama_desktop.sync import keys
from usalama_desktop.sync.export import export_bundle
from usalama_desktop.sync.importer import import_bundle, import_many

from .test_sync_support import (  # noqa: F401 (fixtures)
    TESTCASE,
    add_incidents,
    case_values,
    enrol_both,
    members,
    pair_fixture,
    stick_fixture,
    with_testform_fixture,
)


def test_export_is_read_by_the_reference_age_and_minisign_tools(pair, stick, tmp_path):
    agency, coord = pair
    ids = add_incidents(agency, 3)
    result = export_bundle(agency, stick)
    assert result.records == 3 and result.sequence == 1 and result.path.exists()
    assert not [p for p in stick.iterdir() if p.name.startswith(".")]  # no temporary file left behind
    parts = members(result.path)
    assert list(parts) == ["payload.age", "manifest.json", "manifest.json.minisig"]
    out = tmp_path / "unpacked"
    out.mkdir()
    for name, data in parts.items():
        (out / name).write_bytes(data)
    _json, pub = keys.write_card(agency, tmp_path)
    verified = subprocess.run(["minisign", "-Vm", str(out / "manifest.json"), "-p", str(pub)], capture_output=True,
                              text=True)
    assert verified.returncode == 0, verified.stderr
    assert f"seq=1 bundle={result.bundle_id}" in verified.stdout
    assert f"sender={agency.installation_id}" in verified.stdout
    identity = tmp_path / "identity.txt"
    identity.write_text(keys.load_identity(coord.db).age_identity + "\n")
    plain = subprocess.run(["age", "-d", "-i", str(identity), str(out / "payload.age")], capture_output=True)
    assert plain.returncode == 0, plain.stderr
    records = [json.loads(x) for x in subprocess.run(["gzip", "-dc"], input=plain.stdout,
                                                      capture_output=True).stdout.splitlines()]
    assert sorted(r["spine"]["id"] for r in records) == sorted(ids)
    assert all("narrative" not in r["values"] for r in records)
    # The agency's own age key cannot read what it sent to the coordinator.
    identity.write_text(keys.load_identity(agency.db).age_identity + "\n")
    assert subprocess.run(["age", "-d", "-i", str(identity), str(out / "payload.age")],
                          capture_output=True).returncode != 0
    manifest = json.loads(parts["manifest.json"])
    assert manifest["members"]["payload.age"]["sha256"]
    assert "MARKER" not in parts["manifest.json"].decode()
    assert manifest["audit_checkpoint"]["seq"] > 0
    cp = json.loads(get_meta(agency.db, "audit_checkpoint"))
    assert cp == {"seq": manifest["audit_checkpoint"]["seq"], "hash": manifest["audit_checkpoint"]["hash"]}


def test_a_payload_compressed_in_many_chunks_is_one_stream_the_reference_tools_read(pair, stick, tmp_path,
                                                                                    monkeypatch):
    """The export compresses chunk after chunk on a second thread: cut into many small chunks, the payload must
    still be the one gzip stream `age -d | gzip -dc` reads, every record once and in order, and the thread gone."""
    agency, coord = pair
    ids = add_incidents(agency, 40)
    monkeypatch.setattr(export_mod._GzipSource, "CHUNK", 300)  # about one record a chunk
    result = export_bundle(agency, stick)
    assert _helpers_gone()
    assert [json.loads(x)["spine"]["id"] for x in _payload_lines(result, coord, tmp_path)] == ids
    assert import_bundle(coord, result.path).stats.new == 40


def _payload_lines(result, coord, tmp_path) -> list[bytes]:
    """The records of a bundle as `age -d | gzip -dc` read them."""
    payload = tmp_path / "payload.age"
    payload.write_bytes(members(result.path)["payload.age"])
    identity = tmp_path / "identity.txt"
    identity.write_text(keys.load_identity(coord.db).age_identity + "\n")
    plain = subprocess.run(["age", "-d", "-i", str(identity), str(payload)], capture_output=True, check=True).stdout
    unzipped = subprocess.run(["gzip", "-dc"], input=plain, capture_output=True, check=True)
    assert unzipped.stderr == b""
    return unzipped.stdout.splitlines()


def _helpers_gone() -> bool:
    import multiprocessing
    import threading

    return (not [p for p in multiprocessing.active_children() if p.name == "usalama-bundle-export"]
            and not [t for t in threading.enumerate() if t.name.startswith(("usalama-deflate", "usalama-bundle-export"))])


def test_a_large_export_shares_its_windows_with_a_helper_and_stays_one_stream(pair, stick, tmp_path, monkeypatch):
    """With enough records the table is walked in windows, some read, encoded and compressed by a helper process:
    every record travels exactly once, the payload is one gzip stream the reference tools read, and the helper is
    gone afterwards. (Windows of 10 rows here, so a few dozen records take the path 100,000 take.)"""
    agency, coord = pair
    ids = add_incidents(agency, 95)
    RecordService(agency, "incident").delete(ids[7], "entered twice")
    monkeypatch.setattr(export_mod, "BATCH", 10)
    monkeypatch.setattr(export_mod, "PIPELINE_MIN_RECORDS", 20)
    started = []
    original = export_mod._WindowHelper.__init__

    def spy(self, *args, **kwargs):
        started.append(args[1].name)
        original(self, *args, **kwargs)

    monkeypatch.setattr(export_mod._WindowHelper, "__init__", spy)
    result = export_bundle(agency, stick)
    assert started == ["incident"]
    assert _helpers_gone()
    assert result.records == 95 and result.tombstones == 1
    docs = [json.loads(x) for x in _payload_lines(result, coord, tmp_path)]
    assert sorted(d["spine"]["id"] for d in docs) == sorted(ids)
    assert [d["spine"]["deleted"] for d in docs].count(True) == 1
    assert all("narrative" not in d["values"] for d in docs)
    assert import_bundle(coord, result.path).stats.new == 95


def test_a_helper_that_fails_fails_the_export_plainly_with_nothing_sent(pair, stick, monkeypatch):
    from usalama_desktop.errors import Cancelled

    agency, _coord = pair
    add_incidents(agency, 60)
    monkeypatch.setattr(export_mod, "BATCH", 10)
    monkeypatch.setattr(export_mod, "PIPELINE_MIN_RECORDS", 20)
    with monkeypatch.context() as m:
        m.setattr(agency.db, "path", stick.parent / "no-such-database.db")  # the helper cannot open it
        with pytest.raises(UsalamaError, match="helper program stopped unexpectedly"):
            export_bundle(agency, stick)
    assert list(stick.iterdir()) == [] and _helpers_gone()

    def cancel(done, total):
        if done >= 20:
            raise Cancelled("stopped")

    with pytest.raises(Cancelled):
        export_bundle(agency, stick, progress=cancel)
    assert list(stick.iterdir()) == [] and _helpers_gone()
    result = export_bundle(agency, stick)
    assert result.records == 60 and result.skipped_sequences == [1, 2]


@pytest.mark.parametrize("library", ["isal", "zlib"])
def test_gzip_chunks_compressed_apart_make_one_stream_with_the_right_checksum(library, monkeypatch):
    """With ISA-L's deflate and with zlib's (used where ISA-L has no build): one standard gzip stream."""
    import gzip
    import random
    import zlib

    from isal import isal_zlib

    from usalama_desktop.sync import export
    from usalama_desktop.sync.export import _GzipSource, crc32_combine, deflate_block

    assert export.DEFLATE is isal_zlib
    monkeypatch.setattr(export, "DEFLATE", {"isal": isal_zlib, "zlib": zlib}[library])

    rng = random.Random(5)
    for _ in range(100):
        a, b = rng.randbytes(rng.randrange(0, 2000)), rng.randbytes(rng.randrange(0, 100_000))
        assert crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)
    for size in ((1 << 20) - 1, 1 << 20, (1 << 20) + 1, 2_500_003):  # around and past the zeros it runs over
        a, b = rng.randbytes(300), rng.randbytes(size)
        assert crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)
    lines = [f'{{"n":{i},"x":"{"y" * rng.randrange(100)}"}}\n'.encode() for i in range(3000)]
    whole = b"".join(lines)
    for items, expected in (([], b""), (lines, whole), ([deflate_block(whole)], whole),
                            ([*lines[:700], deflate_block(b"".join(lines[700:2000])), deflate_block(b""),
                              *lines[2000:]], whole)):
        source = _GzipSource(iter(items))
        source.CHUNK = 4000
        out = b""
        while chunk := source.read(8192):
            out += chunk
        source.close()
        assert gzip.decompress(out) == expected
        assert zlib.decompressobj(31).decompress(out) == expected
        assert subprocess.run(["gzip", "-dc"], input=out, capture_output=True, check=True).stdout == expected


def test_import_merges_and_keeps_spine_history_and_search(pair, stick):
    agency, coord = pair
    ids = add_incidents(agency, 4)
    res = import_bundle(coord, export_bundle(agency, stick).path)
    assert res.status == "imported" and res.stats.new == 4 and res.gaps == []
    svc = RecordService(coord, "incident")
    assert svc.count() == 4
    row = coord.writer.row(svc.spec, ids[0])
    source = agency.writer.row(svc.spec, ids[0])
    for k in ("agency_id", "installation_id", "hlc", "vclock", "revision", "created_by", "created_at"):
        assert row[k] == source[k]
    assert row["narrative"] is None  # local_only never travels
    assert svc.get(ids[0])["values"]["victims"] == [{"sex": "female", "age_band": "18-24", "disability": None,
                                                     "minor": False}]
    assert sorted(r["id"] for r in svc.search("Kilimani").rows) == sorted(ids)
    assert svc.search("stealing").rows
    assert coord.db.scalar("SELECT count(*) FROM sync_provenance WHERE origin_installation = ?",
                           (agency.installation_id,)) == 4
    # The coordinator's clock moved past what it received: its next edit orders after.
    assert get_meta(coord.db, "hlc_last") >= max(agency.writer.row(svc.spec, i)["hlc"] for i in ids)


def test_import_holds_the_page_cache_to_the_bulk_size_and_gives_it_back(pair, stick):
    from usalama_desktop.store.db import BULK_CACHE_KIB, CACHE_KIB

    agency, coord = pair
    add_incidents(agency, 3)
    during = []
    import_bundle(coord, export_bundle(agency, stick).path,
                  progress=lambda done, total: during.append(coord.db.scalar("PRAGMA cache_size")))
    assert during and set(during) == {-BULK_CACHE_KIB}
    assert coord.db.scalar("PRAGMA cache_size") == -CACHE_KIB


def test_incremental_exports_carry_only_changes_and_tombstones_propagate(pair, stick):
    agency, coord = pair
    ids = add_incidents(agency, 3)
    import_bundle(coord, export_bundle(agency, stick).path)
    svc = RecordService(agency, "incident")
    svc.update(ids[0], {**svc.get(ids[0])["values"], "status": "closed", "outcome": "no_suspect"})
    svc.delete(ids[1], "entered twice")
    second = export_bundle(agency, stick)
    assert second.records == 2 and second.tombstones == 1 and second.sequence == 2
    res = import_bundle(coord, second.path)
    assert res.stats.updated == 2
    csvc = RecordService(coord, "incident")
    assert csvc.get(ids[0])["values"]["status"] == "closed"
    tomb = coord.writer.row(csvc.spec, ids[1])
    assert tomb["deleted"] == 1 and tomb["agency_ref"] is None  # a tombstone carries no values
    assert csvc.count() == 2
    assert [h["action"] for h in coord.writer.history(csvc.spec, ids[0])] == ["create", "merge"]
    third = export_bundle(agency, stick)
    assert third.records == 0  # nothing changed since: an empty bundle still says "we are here"
    assert import_bundle(coord, third.path).status == "imported"
    full = export_bundle(agency, stick, full=True)
    assert full.records == 3
    assert import_bundle(coord, full.path).stats.applied == 0


def test_coordinator_relays_onward_with_origin_and_provenance(make_env, stick):
    station = make_env("police_station", "station").login("admin")
    forum = make_env("community_safety_forum", "forum").login("admin")
    county = make_env("children_office", "county").login("admin")
    enrol_both(station, forum)
    enrol_both(forum, county)
    ids = add_incidents(station, 2)
    first = export_bundle(station, stick)
    import_bundle(forum, first.path)
    onward = export_bundle(forum, stick, keys.find_peer(forum, county.installation_id))
    assert onward.records == 2
    res = import_bundle(county, onward.path)
    assert res.stats.new == 2
    row = county.writer.row(RecordService(county, "incident").spec, ids[0])
    assert row["agency_id"] == station.agency.id and row["installation_id"] == station.installation_id
    prov = county.db.one("SELECT origin_installation, origin_agency, origin_bundle, first_via FROM sync_provenance "
                         "WHERE record_id = ?", (ids[0],))
    assert tuple(prov) == (station.installation_id, station.agency.id, first.bundle_id, forum.installation_id)


def test_a_non_relay_agency_sends_only_its_own_records(pair, stick, make_env):
    agency, coord = pair
    add_incidents(coord, 2, "CSF")  # the coordinator's own
    other = make_env("ap_post", "other").login("admin")
    enrol_both(other, coord)
    add_incidents(other, 1, "OTH")
    import_bundle(coord, export_bundle(other, stick).path)
    to_agency = export_bundle(coord, stick, keys.find_peer(coord, agency.installation_id))
    assert to_agency.records == 3  # the forum passes everything it holds on
    import_bundle(agency, to_agency.path)
    back = export_bundle(agency, stick)
    assert back.records == 0  # but an agency only ever sends its own


def test_observatory_profile_never_carries_identifying_or_local_fields(with_testform, make_env, stick):
    agency = make_env("children_office", "agency").login("admin")
    coord = make_env("community_safety_forum", "coord").login("admin")
    enrol_both(agency, coord)
    RecordService(agency, TESTCASE).create(case_values())
    add_incidents(agency, 1)
    result = export_bundle(agency, stick)
    identity = stick.parent / "id.txt"
    identity.write_text(keys.load_identity(coord.db).age_identity + "\n")
    payload = stick.parent / "payload.age"
    payload.write_bytes(members(result.path)["payload.age"])
    plain = subprocess.run(f"age -d -i {identity} {payload} | gzip -dc", shell=True, capture_output=True).stdout
    assert b"MARKER" not in plain
    docs = {json.loads(x)["form"]: json.loads(x) for x in plain.splitlines()}
    assert set(docs["sync_testcase"]["values"]) == {"ref_no", "category", "consent", "people"}
    assert docs["sync_testcase"]["values"]["people"] == [{"sex": "female"}]
    import_bundle(coord, result.path)
    row = coord.db.one("SELECT client_name, phone, notes, diary, ref_no FROM sync_testcase")
    assert tuple(row) == (None, None, None, None, "T-1")


def test_observatory_profile_of_every_form_is_public_only():
    """Built from tiers: no identifying, narrative or local-only field of any form (counselling and AJS included)."""
    from usalama_desktop.forms.registry import forms
    from usalama_desktop.sync.profiles import carried

    for form in forms().values():
        keep = carried(form, "observatory")
        for name in keep.fields:
            f = form.by_name[name]
            assert f.tier == "public" and not f.local_only, (form.name, name)
        for group, subs in keep.repeat_fields.items():
            for name in subs:
                f = form.repeat_by_name[group].by_name[name]
                assert f.tier == "public" and not f.local_only, (form.name, group, name)


def test_referral_needs_consent_and_carries_all_but_local_fields(with_testform, make_env, stick):
    agency = make_env("children_office", "agency").login("admin")
    health = make_env("health_facility", "health").login("admin")
    enrol_both(agency, health)
    svc = RecordService(agency, TESTCASE)
    with_consent = svc.create(case_values())
    without = svc.create(case_values(ref_no="T-2", consent=False))
    peer = keys.find_peer(agency, health.installation_id)
    with pytest.raises(PermissionDenied) as exc:
        export_bundle(agency, stick, peer, profile="referral", record_id=without)
    assert "Consent" in str(exc.value)
    with pytest.raises(UsalamaError):
        export_bundle(agency, stick, peer, profile="referral")
    result = export_bundle(agency, stick, peer, profile="referral", record_id=with_consent)
    assert result.records == 1
    res = import_bundle(health, result.path)
    assert res.stats.new == 1
    row = health.db.one("SELECT client_name, phone, notes, diary FROM sync_testcase WHERE id = ?", (with_consent,))
    assert tuple(row) == ("MARKER-NAME Wanjiru", "MARKER-PHONE 0700", "MARKER-NOTES shared", None)
    person = health.db.one("SELECT person_name FROM sync_testcase__people")
    assert person[0] == "MARKER-PERSON Achieng"
    # A later observatory bundle (public fields only) does not wipe what the referral brought.
    svc.update(with_consent, {**svc.get(with_consent)["values"], "category": "closed"})
    import_bundle(health, export_bundle(agency, stick, peer).path)
    row = health.db.one("SELECT category, client_name, notes FROM sync_testcase WHERE id = ?", (with_consent,))
    assert tuple(row) == ("closed", "MARKER-NAME Wanjiru", "MARKER-NOTES shared")
    assert RecordService(health, TESTCASE).search("Wanjiru").rows


def test_complaints_never_go_to_a_police_station(make_env, stick):
    from usalama_desktop.forms.registry import forms_of_module

    forum = make_env("community_safety_forum", "forum").login("admin")
    station = make_env("police_station", "station").login("admin")
    enrol_both(forum, station)
    result = export_bundle(forum, stick, keys.find_peer(forum, station.installation_id))
    complaint_forms = {f.name for f in forms_of_module("complaints")}
    assert complaint_forms and not complaint_forms & set(result.counts)


def test_receipt_pdf_lists_the_bundle(pair, stick, tmp_path):
    from usalama_desktop.reports.receipt import bundle_receipt_pdf

    agency, _coord = pair
    add_incidents(agency, 2)
    result = export_bundle(agency, stick)
    pdf = bundle_receipt_pdf(agency, tmp_path / "receipt.pdf", result)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    assert result.bundle_id in text and result.sender_fingerprint in text
    assert "Kilimani Police Station" in text and "Sequence number" in text
    assert "MARKER" not in text


def test_a_lying_stick_fails_write_verification_and_nothing_is_marked_sent(pair, stick, monkeypatch):
    agency, coord = pair
    add_incidents(agency, 2)
    real_reader = export_mod.BundleReader

    def lying(path):
        data = bytearray(path.read_bytes())
        data[len(data) // 3] ^= 0x20
        path.write_bytes(bytes(data))
        return real_reader(path)

    monkeypatch.setattr(export_mod, "BundleReader", lying)
    with pytest.raises(UsalamaError) as exc:
        export_bundle(agency, stick)
    assert "Write verification failed" in str(exc.value)
    assert list(stick.iterdir()) == []
    assert agency.db.scalar("SELECT status FROM sync_outgoing") == "failed"
    monkeypatch.setattr(export_mod, "BundleReader", real_reader)
    again = export_bundle(agency, stick)
    assert again.records == 2 and again.sequence == 2 and again.skipped_sequences == [1]
    res = import_bundle(coord, again.path)
    assert res.gaps == [] and res.stats.new == 2


def test_a_stick_pulled_mid_write_leaves_no_bundle(pair, stick, monkeypatch):
    agency, _coord = pair
    add_incidents(agency, 3)
    real_sign = export_mod.minisign.sign

    def pulled(*a, **k):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(export_mod.minisign, "sign", pulled)
    with pytest.raises(UsalamaError) as exc:
        export_bundle(agency, stick)
    assert "could not be written" in str(exc.value)
    assert list(stick.iterdir()) == []
    monkeypatch.setattr(export_mod.minisign, "sign", real_sign)
    assert export_bundle(agency, stick).records == 3


def test_a_whole_stick_imports_in_one_go(pair, stick, make_env):
    agency, coord = pair
    other = make_env("chief_office", "chief").login("admin")
    enrol_both(other, coord)
    add_incidents(agency, 2)
    export_bundle(agency, stick)
    add_incidents(agency, 1, "B")
    export_bundle(agency, stick)
    add_incidents(other, 2, "CH")
    sub = stick / "chief"
    sub.mkdir()
    export_bundle(other, sub)
    (stick / "notes.txt").write_text("not a bundle")
    seen = []
    results = import_many(coord, [stick], progress=lambda d, t: seen.append((d, t)))
    assert [r.status for r in results] == ["imported"] * 3
    assert RecordService(coord, "incident").count() == 5
    assert seen and seen[-1][0] == seen[-1][1]


def test_clerk_may_export_but_not_import_or_enrol(pair, stick):
    agency, coord = pair
    clerk = agency.installation.login("clerk", "correct-horse-1")
    add_incidents(agency, 1)
    assert export_bundle(clerk, stick).records == 1
    with pytest.raises(PermissionDenied):
        import_bundle(clerk, next(stick.iterdir()))
    with pytest.raises(PermissionDenied):
        card = keys.local_card(coord)
        keys.enrol(clerk, card, card["fingerprint"])
    clerk.close()


def test_bundle_file_is_a_standard_zip(pair, stick):
    agency, _coord = pair
    result = export_bundle(agency, stick)
    with zipfile.ZipFile(result.path) as z:
        assert z.testzip() is None
        assert all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist())
    assert shutil.which("unzip") is None or subprocess.run(["unzip", "-tq", str(result.path)],
                                                           capture_output=True).returncode == 0


def test_the_fast_row_encoder_says_what_the_general_encoder_says(with_testform, pair):
    """The export reads rows as tuples and skips the general from_row; it must say exactly what codec.encode says."""
    from usalama_desktop.forms.registry import forms
    from usalama_desktop.sync import codec
    from usalama_desktop.sync.export import _child_rows

    agency, _coord = pair
    svc = RecordService(agency, "incident")
    ids = [svc.create({"agency_ref": "OB 1/2024", "occurred_on": "2024-03", "occurred_time": "night",
                       "reported_on": "2024-04-02", "place": {"county": "047", "village": "Yaya"},
                       "offence_category": "offences_against_morality", "gbv": True, "gbvims_type": "1",
                       "action_taken": ["arrest", "p3"], "status": "closed", "outcome": "charged",
                       "victim_count": 2, "victims": [{"sex": "female", "age_band": "15-17", "minor": True},
                                                      {"sex": "male", "age_band": "18-24", "disability": False}]}),
           svc.create({"agency_ref": "OB 2/2024", "occurred_on": "2024-01-05", "reported_on": "2024-01-05",
                       "place": {"county": "047"}, "offence_category": "stealing", "status": "open"})]
    svc.delete(ids[1], "entered twice")
    RecordService(agency, TESTCASE).create(case_values())
    compared = 0
    for form_name in ("incident", TESTCASE.name):
        form = forms()[form_name]
        for profile in ("observatory", "referral") if form.referral_consent_field else ("observatory",):
            checker = codec.RecordChecker(forms(), profile)
            cur = agency.db.execute(f'SELECT * FROM "{form.table_spec.name}"')
            columns = [d[0] for d in cur.description]
            rows = [tuple(r) for r in cur.fetchall()]
            children, child_columns = _child_rows(agency.db, form, [r[0] for r in rows])
            encode = codec.RowEncoder(form, profile, columns, child_columns)
            for r in rows:
                fast = checker.decode(encode(r, children.get(r[0], {}), None), 1)
                row = agency.writer.row(form.table_spec, fast.id)
                values = form.from_row(row, agency.writer.children(form.table_spec, row["rid"]))
                general = checker.decode(codec.encode(form, row, values, profile), 1)
                assert fast.spine == general.spine
                assert fast.values == general.values, (form_name, profile)
                compared += 1
    assert compared == 4


def test_the_row_encoder_reads_each_kind_of_column_as_a_save_would():
    """The encoder written for a form: empty columns left out, yes/no as true or false (0 is an answer), a place
    only when some part is filled, several choices from their JSON text (quotes and all), a deletion with no values,
    provenance when given; anything else in the row (a column the profile does not carry) never read."""
    import orjson

    from usalama_desktop.forms.registry import forms
    from usalama_desktop.sync import codec

    form = forms()["incident"]
    main, children = codec.RowEncoder.needs(form, "observatory")
    assert "narrative" not in main
    columns = [*main, "narrative"]
    encode = codec.RowEncoder(form, "observatory", columns, children)

    def row(**values):
        spine = {"id": "r1", "agency_id": "a1", "installation_id": "i1", "hlc": "h1", "vclock": '{"i1":2}',
                 "revision": 2, "created_by": "clerk", "created_at": "c", "updated_by": "clerk", "updated_at": "u",
                 "deleted": 0, "deleted_reason": None, "narrative": "never read"}
        return tuple({**spine, **values}.get(c) for c in columns)

    victims = [tuple({"sex": "female", "disability": 0, "minor": 1}.get(c) for c in children["victims"])]
    doc = orjson.loads(encode(row(gbv=0, place_county="047", place_village="", action_taken='["arrest", "say \\"hi\\""]',
                                  victim_count=1, agency_ref=""), {"victims": victims}, None))
    assert doc == {"form": "incident",
                   "spine": {"id": "r1", "agency_id": "a1", "installation_id": "i1", "hlc": "h1", "revision": 2,
                             "created_by": "clerk", "created_at": "c", "updated_by": "clerk", "updated_at": "u",
                             "deleted_reason": None, "deleted": False, "vclock": {"i1": 2}},
                   "values": {"agency_ref": "", "gbv": False, "victim_count": 1,
                              "place": {"county": "047", "subcounty": None, "ward": None, "village": ""},
                              "action_taken": ["arrest", 'say "hi"'],
                              "victims": [{"sex": "female", "disability": False, "minor": True}]}}
    empty_place = orjson.loads(encode(row(place_county="", place_ward=""), {}, None))
    assert empty_place["values"] == {}
    gone = orjson.loads(encode(row(deleted=1, deleted_reason="entered twice", gbv=1), {"victims": victims},
                               {"installation_id": "i0", "agency_id": "a1", "bundle_id": "b0"}))
    assert gone["values"] == {} and gone["spine"]["deleted"] is True
    assert gone["provenance"] == {"installation_id": "i0", "agency_id": "a1", "bundle_id": "b0"}


def test_cancel_stops_export_and_import_with_nothing_saved(pair, stick):
    from usalama_desktop.errors import Cancelled

    from .test_sync_support import table_hashes

    agency, coord = pair
    add_incidents(agency, 1200)

    def cancel_at(point):
        def progress(done, total):
            if done >= point:
                raise Cancelled("stopped")
        return progress

    with pytest.raises(Cancelled):
        export_bundle(agency, stick, progress=cancel_at(600))
    assert list(stick.iterdir()) == []
    result = export_bundle(agency, stick)
    assert result.records == 1200 and result.skipped_sequences == [1]
    before = table_hashes(coord.db)
    with pytest.raises(Cancelled):
        import_bundle(coord, result.path, progress=cancel_at(1))
    assert table_hashes(coord.db) == before  # a cancelled import is not a refusal: not even an audit row
    assert import_bundle(coord, result.path).stats.new == 1200


def test_the_tracker_flags_late_agencies_and_shows_gaps(pair, stick):
    from usalama_desktop import clock
    from usalama_desktop.sync.tracker import late_text, submissions

    agency, coord = pair
    [sub] = submissions(coord)
    assert sub.late and late_text(sub) == "nothing received yet"
    add_incidents(agency, 1)
    first = export_bundle(agency, stick)
    export_bundle(agency, stick)  # bundle 2 never reaches the coordinator
    add_incidents(agency, 1, "X")
    third = export_bundle(agency, stick)
    import_bundle(coord, first.path)
    import_bundle(coord, third.path)
    [sub] = submissions(coord)
    assert sub.last_sequence == 3 and sub.age_days == 0 and sub.gaps == [(2, 2)]
    assert sub.gap_text == "bundles 2 from Kilimani Police Station missing"
    clock.shift(40 * 24 * 3600 * 1000)
    [sub] = submissions(coord)
    assert sub.late and sub.age_days == 40 and "late" in late_text(sub)

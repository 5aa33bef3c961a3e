"""A bundle is hostile until proven otherwise (THREATS C and D): every damaged, forged, replayed, mixed, oversized or
malformed bundle is refused with a plain message, and the only thing written is one "bundle.rejected" audit row."""

from __future__ import annotations

import io
import json
import random
import time
import tracemalloc
import warnings
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from usalama_desktop import clock
from usalama_desktop.errors import ImportRejected
from usalama_desktop.services.records import RecordService
from usalama_desktop.sync import keys, minisign
from usalama_desktop.sync.codec import RecordChecker
from usalama_desktop.sync.export import export_bundle
from usalama_desktop.sync.importer import import_bundle
from usalama_desktop.sync.limits import BundleRejected, NeedsConfirmation
from usalama_desktop.sync.manifest import serialise, trusted_comment

from .test_sync_support import (  # noqa: F401 (fixtures)
    add_incidents,
    audit_head,
    audit_tail,
    craft,
    doc,
    enrol_both,
    members,
    pair_fixture,
    rebuild,
    table_hashes,
)


def rejected(session, source, *words, file_name=None) -> BundleRejected:
    before = audit_head(session.db)
    with pytest.raises(ImportRejected) as exc:
        import_bundle(session, source, file_name=file_name)
    assert [a for a, _d in audit_tail(session.db, before)] == ["bundle.rejected"], str(exc.value)
    for w in words:
        assert w in str(exc.value)
    return exc.value


@pytest.fixture
def small(pair, tmp_path):
    """A one-record bundle from the station to the coordinator, and the coordinator's tables before import."""
    agency, coord = pair
    add_incidents(agency, 1)
    stick = tmp_path / "stick"
    stick.mkdir()
    result = export_bundle(agency, stick)
    return agency, coord, result.path.read_bytes(), stick


def test_a_byte_flipped_at_every_offset_is_refused_and_nothing_is_written(small):
    agency, coord, data, _stick = small
    before = table_hashes(coord.db)
    head = audit_head(coord.db)
    codes = set()
    for offset in range(len(data)):
        flipped = bytearray(data)
        flipped[offset] ^= 0x5A
        with pytest.raises(ImportRejected) as exc:
            import_bundle(coord, bytes(flipped))
        codes.add(exc.value.code)
    tail = audit_tail(coord.db, head)
    assert len(tail) == len(data) and {a for a, _d in tail} == {"bundle.rejected"}
    assert table_hashes(coord.db) == before
    assert {"damaged", "incomplete", "not_bundle"} <= codes  # CRCs catch flips before the signature is checked
    assert import_bundle(coord, data).status == "imported"  # the intact bundle still imports


def test_a_thousand_random_flips_in_a_larger_bundle_are_refused(pair, tmp_path):
    agency, coord = pair
    add_incidents(agency, 600)
    stick = tmp_path / "stick"
    stick.mkdir()
    data = export_bundle(agency, stick).path.read_bytes()
    before = table_hashes(coord.db)
    rng = random.Random(16)
    for offset in rng.sample(range(len(data)), 1000):
        flipped = bytearray(data)
        flipped[offset] ^= 1 << rng.randrange(8)
        with pytest.raises(ImportRejected):
            import_bundle(coord, bytes(flipped))
    assert table_hashes(coord.db) == before


def test_a_bundle_cut_short_anywhere_is_incomplete(small):
    _agency, coord, data, _stick = small
    before = table_hashes(coord.db)
    for end in range(len(data)):
        with pytest.raises(ImportRejected) as exc:
            import_bundle(coord, data[:end])
        assert "incomplete" in str(exc.value), end
    assert table_hashes(coord.db) == before


def test_unknown_and_revoked_signers_are_refused(pair, make_env, tmp_path):
    agency, coord = pair
    stranger = make_env("chief_office", "stranger").login("admin")
    keys.enrol(stranger, keys.local_card(coord), keys.local_card(coord)["fingerprint"])
    add_incidents(stranger, 1)
    stick = tmp_path / "stick"
    stick.mkdir()
    forged = export_bundle(stranger, stick)
    rejected(coord, forged.path, "not enrolled")
    add_incidents(agency, 2)
    first = export_bundle(agency, stick)
    assert import_bundle(coord, first.path).status == "imported"
    keys.revoke(coord, keys.find_peer(coord, agency.installation_id), "laptop stolen")
    add_incidents(agency, 1, "NEW")
    later = export_bundle(agency, stick)
    rejected(coord, later.path, "revoked")


def test_not_addressed_here(pair, make_env, tmp_path):
    agency, coord = pair
    other = make_env("children_office", "other").login("admin")
    enrol_both(agency, other)
    add_incidents(agency, 1)
    stick = tmp_path / "stick"
    stick.mkdir()
    for_coord = export_bundle(agency, stick, keys.find_peer(agency, coord.installation_id))
    before = table_hashes(other.db)
    err = rejected(other, for_coord.path, "not addressed to this coordinator", "Kilimani Community Safety Forum")
    assert "decrypt" not in str(err)
    assert table_hashes(other.db) == before


def test_members_swapped_between_two_valid_bundles_are_refused(pair, tmp_path):
    agency, coord = pair
    stick = tmp_path / "stick"
    stick.mkdir()
    add_incidents(agency, 1)
    a = members(export_bundle(agency, stick).path)
    add_incidents(agency, 1, "X")
    b = members(export_bundle(agency, stick).path)
    mixed = rebuild(None, tmp_path / "mixed1.usalama-bundle", {**a, "payload.age": b["payload.age"]})
    rejected(coord, mixed, "does not match")
    mixed = rebuild(None, tmp_path / "mixed2.usalama-bundle", {**a, "manifest.json.minisig": b["manifest.json.minisig"]})
    rejected(coord, mixed, "signature")
    unsigned = io.BytesIO()
    with zipfile.ZipFile(unsigned, "w") as z:
        z.writestr("payload.age", a["payload.age"])
        z.writestr("manifest.json", a["manifest.json"])
    rejected(coord, unsigned.getvalue(), "lacks")


def _zip(entries) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(buf, "w") as z:
            for info, data in entries:
                z.writestr(info, data)
    return buf.getvalue()


def _info(name, mode=0o100644, method=zipfile.ZIP_STORED, dir_bit=False):
    info = zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0))
    info.create_system = 3
    info.external_attr = (mode << 16) | (0x10 if dir_bit else 0)
    info.compress_type = method
    return info


@pytest.mark.parametrize("name", ["../payload.age", "/etc/passwd", "C:\\Windows\\evil.dll", "\\\\server\\share\\x",
                                  "sub\\payload.age", "CON", "NUL.txt", "aux", "payload.age.", "manifest.json ",
                                  "a/../../b"])
def test_zip_slip_names_are_refused_without_touching_the_disk(small, tmp_path, name, monkeypatch):
    _agency, coord, data, _stick = small
    parts = members(io.BytesIO(data))
    hostile = _zip([(_info(n), parts[n]) for n in parts] + [(_info(name), b"x")])
    monkeypatch.chdir(tmp_path)
    listing = sorted(p.name for p in tmp_path.rglob("*"))
    start = time.perf_counter()
    err = rejected(coord, hostile, "refused")
    assert time.perf_counter() - start < 1
    assert "unsafe name" in str(err) or "should not" in str(err)
    assert sorted(p.name for p in tmp_path.rglob("*")) == listing


def test_duplicate_symlink_directory_and_compressed_members_are_refused(small):
    _agency, coord, data, _stick = small
    parts = members(io.BytesIO(data))
    cases = [
        ([(_info(n), parts[n]) for n in parts] + [(_info("manifest.json"), b"{}")], "twice"),
        ([(_info("payload.age"), parts["payload.age"]), (_info("manifest.json", mode=0o120777), b"/etc/passwd"),
          (_info("manifest.json.minisig"), parts["manifest.json.minisig"])], "link, folder or device"),
        ([(_info("payload.age"), parts["payload.age"]), (_info("manifest.json", dir_bit=True, mode=0o040755), b""),
          (_info("manifest.json.minisig"), parts["manifest.json.minisig"])], "link, folder or device"),
        ([(_info("payload.age"), parts["payload.age"]), (_info("manifest.json", mode=0o020644), b""),
          (_info("manifest.json.minisig"), parts["manifest.json.minisig"])], "link, folder or device"),
        ([(_info("payload.age"), parts["payload.age"]),
          (_info("manifest.json", method=zipfile.ZIP_DEFLATED), parts["manifest.json"]),
          (_info("manifest.json.minisig"), parts["manifest.json.minisig"])], "compressed"),
    ]
    for entries, words in cases:
        rejected(coord, _zip(entries), words)


def test_compression_bombs_are_refused_fast_with_flat_memory(small):
    _agency, coord, data, _stick = small
    parts = members(io.BytesIO(data))
    bomb = _zip([(_info("payload.age", method=zipfile.ZIP_DEFLATED), b"\0" * (10 * 1024 * 1024)),
                 (_info("manifest.json"), parts["manifest.json"]),
                 (_info("manifest.json.minisig"), parts["manifest.json.minisig"])])
    assert len(bomb) < 64 * 1024
    # Two directory entries quoting the same local data (an overlapping bomb).
    good = rebuild(None, io.BytesIO(), parts).getvalue()
    overlap = _overlapping(good)
    for hostile, words in ((bomb, "compressed"), (overlap, "damaged")):
        tracemalloc.start()
        start = time.perf_counter()
        rejected(coord, hostile, words)
        elapsed = time.perf_counter() - start
        _cur, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert elapsed < 1 and peak < 4 * 1024 * 1024, (elapsed, peak)


def _overlapping(data: bytes) -> bytes:
    """Rewrite the directory so the manifest's entry points at the payload's local header."""
    import struct

    end = data[-22:]
    cd_size, cd_offset = struct.unpack("<II", end[12:20])
    cd = bytearray(data[cd_offset:cd_offset + cd_size])
    first_len = 46 + struct.unpack("<H", cd[28:30])[0]
    cd[first_len + 42:first_len + 46] = struct.pack("<I", 0)
    return data[:cd_offset] + bytes(cd) + end


def test_declared_sizes_that_lie_give_a_clean_refusal(small):
    import struct

    _agency, coord, data, _stick = small
    end = data[-22:]
    cd_offset = struct.unpack("<I", end[16:20])[0]
    lying = bytearray(data)
    lying[cd_offset + 20:cd_offset + 24] = struct.pack("<I", 50_000_000)  # compressed size of payload.age
    lying[cd_offset + 24:cd_offset + 28] = struct.pack("<I", 50_000_000)
    rejected(coord, bytes(lying), "damaged")
    too_many = bytearray(data)
    too_many[-12:-10] = struct.pack("<H", 10000)
    too_many[-14:-12] = struct.pack("<H", 10000)
    start = time.perf_counter()
    rejected(coord, bytes(too_many), "members")
    assert time.perf_counter() - start < 0.1


def test_ten_thousand_recipient_stanzas_are_refused_before_any_crypto(small):
    _agency, coord, data, _stick = small
    parts = members(io.BytesIO(data))
    header = b"age-encryption.org/v1\n" + b"-> X25519 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\nAAAA\n" * 10000
    parts["payload.age"] = header + b"--- AAAA\n" + b"\0" * 64
    hostile = rebuild(None, io.BytesIO(), parts).getvalue()
    start = time.perf_counter()
    rejected(coord, hostile, "too many recipients")
    assert time.perf_counter() - start < 0.1


BAD_LINES = {
    "deep nesting": b'{"form":"incident","spine":' + b"[" * 100000 + b"]" * 100000 + b',"values":{}}',
    "NaN": None,
    "duplicate keys": None,
    "huge number": None,
    "invalid UTF-8": b'{"form":"incident\xff","spine":{},"values":{}}',
    "byte order mark": None,
    "not JSON": b"this is not json",
    "a list": b"[1,2,3]",
    "empty line": b"",
}


def _bad_line(kind: str, sender) -> bytes:
    good = json.dumps(doc(sender), separators=(",", ":"))
    if kind == "NaN":
        return good.replace('"revision":1', '"revision":NaN').encode()
    if kind == "duplicate keys":
        return good.replace('"revision":1', '"revision":1,"revision":2').encode()
    if kind == "huge number":
        return good.replace('"revision":1', '"revision":1' + "0" * 40).encode()
    if kind == "byte order mark":
        return b"\xef\xbb\xbf" + good.encode()
    return BAD_LINES[kind]


@pytest.mark.parametrize("kind", sorted(BAD_LINES))
def test_malformed_json_records_refuse_the_whole_bundle(pair, tmp_path, kind):
    agency, coord = pair
    before = table_hashes(coord.db)
    lines = [doc(agency), _bad_line(kind, agency), doc(agency)]
    path = craft(agency, coord, lines, tmp_path / "bad.usalama-bundle", counts={"incident": {"records": 3,
                                                                                            "tombstones": 0}})
    rejected(coord, path, "Record 2")
    assert table_hashes(coord.db) == before


def _mutations(sender):
    ok = doc(sender)
    bad = []

    def with_spine(**kw):
        d = json.loads(json.dumps(ok))
        d["spine"].update(kw)
        return d

    def with_values(**kw):
        d = json.loads(json.dumps(ok))
        d["values"].update(kw)
        return d

    bad.append(("wrong type", with_spine(revision="1")))
    bad.append(("missing field", {k: v for k, v in ok.items() if k != "values"}))
    bad.append(("bool as int", with_spine(deleted=0)))
    bad.append(("impossible date", with_values(occurred_on="2024-02-30")))
    bad.append(("future date", with_values(occurred_on="2099-01-01", reported_on="2099-01-02")))
    bad.append(("over-long text", with_values(agency_ref="x" * 61)))
    bad.append(("control character", with_values(agency_ref="OB\x07 1")))
    bad.append(("bidi override in a name", with_spine(updated_by="clerk\u202e")))
    bad.append(("unknown field", with_values(shoe_size=42)))
    bad.append(("local-only field", with_values(narrative="MARKER")))
    bad.append(("not a choice", with_values(offence_category="dragons")))
    bad.append(("impossible timestamp", with_spine(created_at="2024-13-01T00:00:00.000Z")))
    bad.append(("clock from the future", with_spine(hlc=f"{clock.now_ms() + 10 ** 12:015d}-00000-"
                                                     f"{sender.installation_id}")))
    bad.append(("clock of another node", with_spine(hlc=f"{clock.now_ms():015d}-00000-{sender.agency.id}")))
    bad.append(("unknown form", {**ok, "form": "no_such_form"}))
    bad.append(("tombstone with values", with_spine(deleted=True, deleted_reason="x")))
    bad.append(("skip logic broken", with_values(outcome="convicted")))
    return bad


def test_schema_invalid_records_refuse_the_whole_bundle(pair, tmp_path):
    agency, coord = pair
    before = table_hashes(coord.db)
    for i, (what, bad) in enumerate(_mutations(agency)):
        path = craft(agency, coord, [doc(agency), bad], tmp_path / f"bad{i}.usalama-bundle", seq=1,
                     counts={"incident": {"records": 2, "tombstones": 0}})
        before_audit = audit_head(coord.db)
        with pytest.raises(ImportRejected) as exc:
            import_bundle(coord, path)
        assert "Record 2" in str(exc.value), what
        assert len(audit_tail(coord.db, before_audit)) == 1
    assert table_hashes(coord.db) == before


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_generated_invalid_documents_never_pass(pair, data):
    """Replace any part of a valid record with any JSON value: the checker accepts it only if it is still valid,
    and never fails with anything but a refusal."""
    agency, _coord = pair
    checker = RecordChecker(__import__("usalama_desktop.forms.registry", fromlist=["forms"]).forms(), "observatory")
    d = doc(agency)
    json_values = st.recursive(st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.text(max_size=20)
                               | st.floats(allow_nan=False), lambda c: st.lists(c, max_size=3)
                               | st.dictionaries(st.text(max_size=5), c, max_size=3), max_leaves=8)
    part = data.draw(st.sampled_from(["spine", "values"]))
    key = data.draw(st.sampled_from(sorted(d[part])))
    d[part][key] = data.draw(json_values)
    line = json.dumps(d).encode()
    try:
        v = checker.decode(line, 1)
    except BundleRejected:
        return
    # Accepted: then it must be exactly as valid as a local save would require.
    problems = v.form.validate(v.values)
    assert problems.ok and isinstance(v.spine["revision"], int)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=4))
def test_any_mutation_either_imports_or_is_refused(small, edits):
    _agency, coord, data, _stick = small
    mutated = bytearray(data)
    for pos, value in edits:
        mutated[pos % len(mutated)] = value
    before = table_hashes(coord.db)
    try:
        import_bundle(coord, bytes(mutated))
    except ImportRejected:
        assert table_hashes(coord.db) == before  # refused: nothing but the audit row


def test_records_claiming_another_agency_are_refused(pair, make_env, tmp_path):
    agency, coord = pair
    before = table_hashes(coord.db)
    path = craft(agency, coord, [doc(agency), doc(agency, agency=coord.agency.id)], tmp_path / "a.usalama-bundle")
    rejected(coord, path, "claims to belong to Kilimani Community Safety Forum")
    other = make_env("ap_post", "other").login("admin")
    enrol_both(other, coord)
    theirs = add_incidents(other, 1)
    stick = tmp_path / "stick"
    stick.mkdir()
    import_bundle(coord, export_bundle(other, stick).path)
    before = table_hashes(coord.db)
    takeover = doc(agency, record_id=theirs[0], revision=5)
    path = craft(agency, coord, [takeover], tmp_path / "b.usalama-bundle")
    rejected(coord, path, "belongs to")
    assert table_hashes(coord.db) == before
    fake_origin = {**doc(agency), "provenance": {"installation_id": other.installation_id,
                                                 "agency_id": agency.agency.id, "bundle_id": doc(agency)["spine"]["id"]}}
    rejected(coord, craft(agency, coord, [fake_origin], tmp_path / "c.usalama-bundle"), "another installation")


def test_replay_older_sequences_gaps_and_reuse(pair, tmp_path):
    agency, coord = pair
    paths = {}
    for seq in (1, 2, 3, 4, 5):
        paths[seq] = craft(agency, coord, [doc(agency)], tmp_path / f"s{seq}.usalama-bundle", seq=seq)
    first = import_bundle(coord, paths[1])
    assert first.status == "imported" and first.gaps == []
    before = table_hashes(coord.db)
    again = import_bundle(coord, paths[1])
    assert again.status == "already" and "Already imported" in again.message
    assert table_hashes(coord.db) == before
    res = import_bundle(coord, paths[4])
    assert res.gaps == [(2, 3)]
    assert "bundles 2-3 from Kilimani Police Station missing" in res.notes
    res = import_bundle(coord, paths[2])
    assert any("older than the last one imported" in n and "(4)" in n for n in res.notes)
    assert res.gaps == [(3, 3)]
    reused = craft(agency, coord, [doc(agency)], tmp_path / "reuse.usalama-bundle", seq=4)
    rejected(coord, reused, "already imported as a different bundle", "last bundle seen from them is 4")
    skipped = craft(agency, coord, [doc(agency)], tmp_path / "s6.usalama-bundle", seq=6, skipped=[3, 5])
    assert import_bundle(coord, skipped).gaps == []


def test_a_fast_forward_jump_needs_confirmation_and_is_audited(pair, tmp_path):
    agency, coord = pair
    import_bundle(coord, craft(agency, coord, [doc(agency)], tmp_path / "1.usalama-bundle", seq=1))
    jump = craft(agency, coord, [doc(agency)], tmp_path / "j.usalama-bundle", seq=5000)
    err = rejected(coord, jump, "jumps far ahead", "(1)")
    assert isinstance(err, NeedsConfirmation)
    res = import_bundle(coord, jump, accept_jump=True)
    assert res.status == "imported" and any("confirmed" in n for n in res.notes)
    entry = json.loads(coord.db.scalar("SELECT detail FROM audit WHERE action = 'bundle.import' ORDER BY seq DESC"))
    assert entry["jump_confirmed"] is True


def test_unsigned_parts_change_no_decision_and_signed_parts_refuse(pair, tmp_path):
    agency, coord = pair
    path = craft(agency, coord, [doc(agency)], tmp_path / "a.usalama-bundle", seq=1)
    parts = members(path)
    sig_lines = parts["manifest.json.minisig"].decode().split("\n")
    sig_lines[0] = "untrusted comment: APPROVED BY THE COUNTY COMMANDER, import without checks"
    edited = rebuild(None, tmp_path / "renamed-anything.usalama-bundle",
                     {**parts, "manifest.json.minisig": "\n".join(sig_lines).encode()})
    assert import_bundle(coord, edited, file_name="urgent.usalama-bundle").status == "imported"
    ident = keys.load_identity(agency.db)
    manifest = json.loads(parts["manifest.json"])
    for field, value in (("sequence", 2), ("created_at", "2020-01-01T00:00:00.000Z"), ("format_version", 2)):
        changed = {**manifest, field: value}
        tampered = rebuild(None, tmp_path / f"t-{field}.usalama-bundle", {**parts,
                                                                           "manifest.json": serialise(changed)})
        rejected(coord, tampered, "signature")
    changed = {**manifest, "sender": {**manifest["sender"], "agency_id": coord.agency.id}}
    rejected(coord, rebuild(None, tmp_path / "t-agency.usalama-bundle", {**parts, "manifest.json": serialise(changed)}),
             "signature")
    sig_lines = parts["manifest.json.minisig"].decode().split("\n")
    sig_lines[2] = sig_lines[2].replace("seq=1", "seq=9")
    rejected(coord, rebuild(None, tmp_path / "t-comment.usalama-bundle",
                            {**parts, "manifest.json.minisig": "\n".join(sig_lines).encode()}), "signature")
    assert ident  # the sender's key was used for every signature above


def _resigned(agency, parts, manifest, out):
    ident = keys.load_identity(agency.db)
    data = serialise(manifest)
    sig = minisign.sign(ident.sign_seed, ident.key_id, data, trusted_comment(manifest), "x")
    return rebuild(None, out, {**parts, "manifest.json": data, "manifest.json.minisig": sig.encode()})


def test_format_downgrade_and_unknown_algorithms_are_refused_even_when_signed(pair, tmp_path):
    agency, coord = pair
    parts = members(craft(agency, coord, [doc(agency)], tmp_path / "a.usalama-bundle", seq=1))
    manifest = json.loads(parts["manifest.json"])
    rejected(coord, _resigned(agency, parts, {**manifest, "format_version": 0}, tmp_path / "old.usalama-bundle"),
             "older format")
    algos = {**manifest["algorithms"], "encryption": "age-v1-scrypt"}
    rejected(coord, _resigned(agency, parts, {**manifest, "algorithms": algos}, tmp_path / "alg.usalama-bundle"),
             "algorithm")
    rejected(coord, _resigned(agency, parts, {**manifest, "format_version": 7}, tmp_path / "new.usalama-bundle"),
             "newer format")
    # The same bundle, re-signed unchanged, is fine: the refusals above come from the fields, not the signing.
    assert import_bundle(coord, _resigned(agency, parts, manifest, tmp_path / "same.usalama-bundle")).ok


def test_a_compression_bomb_inside_the_signed_payload_is_refused(pair, tmp_path):
    """Even an enrolled sender cannot make the importer unpack without bound."""
    import pyrage

    agency, coord = pair
    path = craft(agency, coord, [doc(agency)], tmp_path / "a.usalama-bundle", seq=1)
    parts = members(path)
    import zlib

    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = z.compress(b" " * (300 * 1024 * 1024)) + z.flush()
    payload = pyrage.encrypt(bomb, [pyrage.x25519.Recipient.from_str(keys.local_card(coord)["age_recipient"])])
    manifest = json.loads(parts["manifest.json"])
    import hashlib

    manifest["members"]["payload.age"] = {"sha256": hashlib.sha256(payload).hexdigest(), "size": len(payload)}
    hostile = _resigned(agency, {**parts, "payload.age": payload}, manifest, tmp_path / "bomb.usalama-bundle")
    tracemalloc.start()
    rejected(coord, hostile, "compression bomb")
    _cur, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 32 * 1024 * 1024


def test_a_police_station_refuses_complaints(make_env, tmp_path):
    from usalama_desktop.forms.registry import forms_of_module

    station = make_env("police_station", "station").login("admin")
    forum = make_env("community_safety_forum", "forum").login("admin")
    enrol_both(station, forum)
    complaint_form = forms_of_module("complaints")[0].name
    d = doc(forum, values={}, form=complaint_form)
    rejected(station, craft(forum, station, [d], tmp_path / "c.usalama-bundle"), "complaints")
    assert RecordService(station, "incident").count() == 0


def test_the_checker_names_what_is_wrong_with_a_record(pair):
    """The reasons a refused record is given, in the order the checks run: a name the form lacks, a field the
    profile does not carry (top level or in a repeat row, the first in the record's order), an answer to a question
    that does not apply; and a record that is fine after a refused one is still accepted (the checker keeps no state
    from a refusal)."""
    agency, _coord = pair
    checker = RecordChecker(__import__("usalama_desktop.forms.registry", fromlist=["forms"]).forms(), "observatory")
    ok = doc(agency)

    def reason(**values) -> str:
        d = json.loads(json.dumps(ok))
        d["values"].update(values)
        with pytest.raises(BundleRejected) as caught:
            checker.decode(json.dumps(d).encode(), 7)
        assert "Record 7 " in caught.value.message
        return caught.value.message

    assert "(unknown field shoe_size)" in reason(shoe_size=42, narrative="x")
    assert "(field narrative is not allowed in this profile)" in reason(narrative="MARKER", shoe_size=42)
    assert "(field victims.name is not allowed in this profile)" in reason(
        victims=[{"sex": "female"}, {"sex": "male", "name": "Wanjiru", "colour": "x"}])
    assert "(field victims.colour is not allowed in this profile)" in reason(victims=[{"colour": "x", "name": "y"}])
    assert "(field outcome answers a question that does not apply)" in reason(outcome="charged")
    assert "(field gbv_context answers a question that does not apply)" in reason(outcome="charged",
                                                                                  gbv_context="intimate_partner")
    assert checker.decode(json.dumps(ok).encode(), 8).values["agency_ref"] == ok["values"]["agency_ref"]

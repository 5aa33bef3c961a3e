"""Identity and trust: keys made by the migration (at set-up and on upgrade), agency cards, fingerprints, enrolment,
revocation, and the signed audit checkpoint that travels in bundles (THREATS 17, 18, 52)."""

from __future__ import annotations

import json
import subprocess

import pytest

from usalama_desktop.errors import PermissionDenied, UsalamaError
from usalama_desktop.services.auditing import AuditService
from usalama_desktop.store import schema
from usalama_desktop.sync import keys, minisign
from usalama_desktop.sync.export import export_bundle
from usalama_desktop.sync.importer import import_bundle

from .test_sync_support import add_incidents, pair_fixture  # noqa: F401 (fixture)


def test_set_up_gives_each_installation_its_own_keys_inside_the_database(make_env):
    a = make_env("police_station", "a").login("admin")
    b = make_env("school", "b").login("admin")
    ia, ib = keys.load_identity(a.db), keys.load_identity(b.db)
    assert ia.sign_seed != ib.sign_seed and ia.age_identity != ib.age_identity and ia.key_id != ib.key_id
    assert ia.age_identity.startswith("AGE-SECRET-KEY-1") and len(ia.sign_seed) == 32
    key_file_text = b"".join(p.read_bytes() for p in a.installation.paths.keys.rglob("*") if p.is_file())
    assert ia.age_identity.encode() not in key_file_text and ia.sign_seed.hex().encode() not in key_file_text


def test_an_upgraded_database_gets_keys_from_the_migration(env):
    s = env.login("admin")
    with s.db.transaction():
        for (name,) in s.db.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'sync_%'"):
            s.db.execute(f'DROP TABLE "{name}"')
        schema.set_meta(s.db, "schema_version", 2)
    s.close()
    s = env.login("admin")
    assert schema.schema_version(s.db) >= 3
    assert keys.load_identity(s.db).age_identity.startswith("AGE-SECRET-KEY-1")
    assert list(env.paths.backups.glob("before-upgrade-*"))


def test_the_card_holds_keys_and_a_fingerprint_and_nothing_personal(env, tmp_path):
    s = env.login("admin")
    json_path, pub_path = keys.write_card(s, tmp_path)
    card = json.loads(json_path.read_text())
    assert set(card) == {"format", "version", "agency_id", "agency_name", "agency_type", "county",
                         "installation_id", "sign_key", "age_recipient", "fingerprint"}
    assert card["agency_name"] == "Kilimani Police Station" and card["age_recipient"].startswith("age1")
    groups = card["fingerprint"].split(" ")
    assert len(groups) == 6 and all(len(g) == 5 and g.isdigit() for g in groups)
    assert keys.parse_card(json_path.read_bytes()) == card
    # The .pub is a real minisign key: the reference tool checks a signature made with our key.
    ident = keys.load_identity(s.db)
    message = tmp_path / "m.txt"
    message.write_bytes(b"hello")
    (tmp_path / "m.txt.minisig").write_text(minisign.sign(ident.sign_seed, ident.key_id, b"hello", "t", "u"))
    assert subprocess.run(["minisign", "-Vm", str(message), "-p", str(pub_path)], capture_output=True).returncode == 0
    forged = {**card, "agency_name": "Kilimani Police Station HQ"}
    with pytest.raises(UsalamaError) as exc:
        keys.parse_card(json.dumps(forged).encode())
    assert "fingerprint does not match" in str(exc.value)
    for bad in (b"", b"\xef\xbb\xbf{}", b"[]", json.dumps({**card, "extra": 1}).encode(),
                json.dumps({**card, "age_recipient": "age1nonsense"}).encode(), b"{" * 10000):
        with pytest.raises(UsalamaError):
            keys.parse_card(bad)


def test_enrolment_needs_the_matching_fingerprint(pair, make_env):
    agency, coord = pair
    other = make_env("school", "school").login("admin")
    card = keys.local_card(other)
    with pytest.raises(UsalamaError) as exc:
        keys.enrol(coord, card, "00000 00000 00000 00000 00000 00000")
    assert "does not match" in str(exc.value)
    with pytest.raises(UsalamaError):
        keys.enrol(coord, keys.local_card(coord), keys.local_card(coord)["fingerprint"])
    peer = keys.enrol(coord, card, card["fingerprint"].replace(" ", "-"))
    assert peer.agency_name == "Kilimani Primary School" and not peer.relay
    assert coord.db.scalar("SELECT name FROM agencies WHERE id = ?", (card["agency_id"],)) == peer.agency_name
    assert keys.find_peer(coord, peer.key_id_text).installation_id == peer.installation_id
    assert keys.find_peer(coord, "Kilimani Primary School").key_id == peer.key_id
    keys.revoke(coord, peer, "replaced")
    with pytest.raises(UsalamaError) as exc:
        keys.enrol(coord, card, card["fingerprint"])
    assert "revoked" in str(exc.value)
    clerk = coord.installation.login("clerk", "correct-horse-1")
    with pytest.raises(PermissionDenied):
        keys.enrol(clerk, card, card["fingerprint"])
    clerk.close()
    assert [p.agency_name for p in keys.list_peers(coord)] == ["Kilimani Police Station", "Kilimani Primary School"]


def test_the_audit_checkpoint_travels_and_catches_truncation(pair, tmp_path):
    agency, coord = pair
    add_incidents(agency, 1)
    result = export_bundle(agency, tmp_path)
    res = import_bundle(coord, result.path)
    cp = json.loads(schema.get_meta(agency.db, "audit_checkpoint"))
    kept = coord.db.one("SELECT audit_seq, audit_hash FROM sync_incoming WHERE bundle_id = ?", (res.bundle_id,))
    assert (kept[0], kept[1]) == (cp["seq"], cp["hash"])
    assert AuditService(agency).verify().ok
    # Someone cuts the trail short to hide what happened before the export.
    agency.db.execute("DELETE FROM audit WHERE seq >= ?", (cp["seq"] - 1,))
    report = AuditService(agency).verify()
    assert not report.ok and "cut short" in report.problem

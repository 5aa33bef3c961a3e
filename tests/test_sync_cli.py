"""``usalama keys|export|import|conflicts|submissions`` through the real command, as a coordinator would use it."""

from __future__ import annotations

import json

from .conftest import PASSWORD, run_cli
from .test_sync_support import add_incidents


def usalama(env, *args, user="admin"):
    return run_cli("--data-dir", env.folder, *args, env_vars={"USALAMA_PASSWORD": PASSWORD, "USALAMA_USER": user})


def test_cards_export_import_and_the_tracker_from_the_command_line(make_env, tmp_path):
    agency_env = make_env("police_station", "agency")
    coord_env = make_env("community_safety_forum", "coord")
    cards = tmp_path / "cards"
    cards.mkdir()
    r = usalama(agency_env, "keys", "card", "--out", cards)
    assert r.returncode == 0, r.stderr
    agency_card = next(cards.glob("kilimani-police-station.card.json"))
    assert (cards / "kilimani-police-station.pub").exists()
    fingerprint = json.loads(agency_card.read_text())["fingerprint"]
    assert fingerprint in r.stdout
    r = usalama(coord_env, "keys", "card", "--out", cards)
    coord_card = next(cards.glob("kilimani-community-safety-forum.card.json"))
    coord_fp = json.loads(coord_card.read_text())["fingerprint"]

    r = usalama(coord_env, "keys", "enrol", agency_card)
    assert r.returncode == 1 and fingerprint in r.stdout and "--fingerprint" in r.stderr
    r = usalama(coord_env, "keys", "enrol", agency_card, "--fingerprint", "12345 12345 12345 12345 12345 12345")
    assert r.returncode == 1 and "does not match" in r.stderr
    r = usalama(coord_env, "keys", "enrol", agency_card, "--fingerprint", fingerprint)
    assert r.returncode == 0 and "Enrolled Kilimani Police Station" in r.stdout
    assert usalama(agency_env, "keys", "enrol", coord_card, "--fingerprint", coord_fp).returncode == 0
    r = usalama(agency_env, "keys", "list")
    assert "Kilimani Community Safety Forum" in r.stdout and "relay" in r.stdout and coord_fp in r.stdout

    s = agency_env.login("admin")
    add_incidents(s, 2)
    s.close()
    stick = tmp_path / "stick"
    stick.mkdir()
    r = usalama(agency_env, "export", "--to", stick, "--receipt", tmp_path / "receipt.pdf", user="clerk")
    assert r.returncode == 0, r.stderr
    assert "Bundle 1 for Kilimani Community Safety Forum written and verified" in r.stdout
    assert (tmp_path / "receipt.pdf").read_bytes().startswith(b"%PDF")
    bundle = next(stick.glob("*.usalama-bundle"))
    damaged = stick / "damaged.usalama-bundle"
    damaged.write_bytes(bundle.read_bytes()[:-40])

    r = usalama(coord_env, "import", stick)
    assert r.returncode == 1  # one of the two was refused
    assert "Imported 2 records from Kilimani Police Station" in r.stdout
    assert "damaged.usalama-bundle" in r.stderr and "incomplete" in r.stderr
    r = usalama(coord_env, "import", bundle)
    assert r.returncode == 0 and "Already imported" in r.stdout
    r = usalama(coord_env, "submissions")
    assert r.returncode == 0 and "Kilimani Police Station" in r.stdout and "1 (" in r.stdout
    assert "Refused bundles" in r.stdout and "damaged.usalama-bundle" in r.stdout
    r = usalama(coord_env, "conflicts", "list")
    assert r.returncode == 0 and r.stdout == ""
    r = usalama(coord_env, "import", bundle, user="clerk")
    assert r.returncode == 1 and "may not import" in r.stderr

    r = usalama(coord_env, "keys", "revoke", "Kilimani Police Station", "--reason", "laptop stolen", "--quarantine")
    assert r.returncode == 0, r.stderr
    assert "2 records that came with that key were quarantined" in r.stdout
    r = usalama(coord_env, "keys", "list")
    assert "revoked" in r.stdout
    r = usalama(coord_env, "import", bundle)
    assert r.returncode == 1 and "revoked" in r.stderr


def test_usage_errors_exit_2(env):
    r = usalama(env, "export")
    assert r.returncode == 2
    r = usalama(env, "keys", "frobnicate")
    assert r.returncode == 2

"""Shared helpers for the exchange-bundle tests: two enrolled installations, bundles built with chosen contents and
signed by a real enrolled key, a test form with identifying fields, and a fingerprint of every table."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from usalama_desktop import clock
from usalama_desktop.forms import registry
from usalama_desktop.forms.definition import Form, Repeat, Section
from usalama_desktop.forms.fields import CHOICE, LONGTEXT, TEXT, YESNO, Field
from usalama_desktop.i18n import L
from usalama_desktop.services.records import RecordService
from usalama_desktop.store.ids import uuid7
from usalama_desktop.sync import keys
from usalama_desktop.sync.export import party, write_bundle

from .test_store_encryption import incident

TESTCASE = Form(
    name="sync_testcase", module="observatory", title=L("Sync test case", "Kesi ya majaribio"),
    referral_consent_field="consent", reference_field="ref_no",
    sections=(Section(L("Case", "Kesi"), (
        Field("ref_no", TEXT, L("Reference", "Nambari"), required=True, unique=True),
        Field("category", CHOICE, L("Category", "Aina"), choices="incident_status", required=True),
        Field("client_name", TEXT, L("Client name", "Jina la mteja"), tier="identifying", required=True),
        Field("phone", TEXT, L("Phone", "Simu"), tier="identifying"),
        Field("notes", LONGTEXT, L("Notes", "Maelezo"), tier="narrative"),
        Field("diary", LONGTEXT, L("Diary (stays here)", "Shajara"), tier="narrative", local_only=True),
        Field("consent", YESNO, L("Consent to refer", "Idhini ya rufaa")),
        Repeat("people", L("People", "Watu"), fields=(
            Field("sex", CHOICE, L("Sex", "Jinsia"), choices="sex"),
            Field("person_name", TEXT, L("Name", "Jina"), tier="identifying"),
        )),
    )),),
)


def case_values(**over):
    values = {"ref_no": "T-1", "category": "open", "client_name": "MARKER-NAME Wanjiru", "phone": "MARKER-PHONE 0700",
              "notes": "MARKER-NOTES shared", "diary": "MARKER-DIARY local", "consent": True,
              "people": [{"sex": "female", "person_name": "MARKER-PERSON Achieng"}]}
    values.update(over)
    return values


@pytest.fixture(name="with_testform")
def with_testform_fixture(monkeypatch):
    original = registry.forms

    def forms():
        return {**original(), TESTCASE.name: TESTCASE}

    monkeypatch.setattr(registry, "forms", forms)
    return TESTCASE


def enrol_both(a, b) -> None:
    ca, cb = keys.local_card(a), keys.local_card(b)
    keys.enrol(a, cb, cb["fingerprint"])
    keys.enrol(b, ca, ca["fingerprint"])


@pytest.fixture(name="stick")
def stick_fixture(tmp_path):
    """An empty folder standing for the USB stick."""
    folder = tmp_path / "stick"
    folder.mkdir()
    return folder


@pytest.fixture(name="pair")
def pair_fixture(make_env):
    """A police station and its forum coordinator, each holding the other's card."""
    agency_env = make_env("police_station", "agency")
    coord_env = make_env("community_safety_forum", "coord")
    agency, coord = agency_env.login("admin"), coord_env.login("admin")
    enrol_both(agency, coord)
    return agency, coord


def add_incidents(session, n: int, prefix: str = "OB") -> list[str]:
    svc = RecordService(session, "incident")
    return svc.create_many([incident(agency_ref=f"{prefix} {i}/1/2024", victim_count=1,
                                     victims=[{"sex": "female", "age_band": "18-24", "minor": False}],
                                     narrative=f"MARKER-NARRATIVE {i}") for i in range(n)])


def table_hashes(db, skip=("audit",)) -> dict[str, str]:
    """A SHA-256 of the content of every table (rows in rowid or key order)."""
    out = {}
    for (name,) in db.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
        if name in skip or name.startswith("sqlite_"):
            continue
        h = hashlib.sha256()
        for row in db.query(f'SELECT * FROM "{name}"'):
            h.update(json.dumps([str(x) for x in tuple(row)]).encode())
        out[name] = h.hexdigest()
    return out


def audit_tail(db, after: int) -> list[tuple[str, dict]]:
    return [(r[0], json.loads(r[1])) for r in db.query("SELECT action, detail FROM audit WHERE seq > ? ORDER BY seq",
                                                       (after,))]


def audit_head(db) -> int:
    return int(db.scalar("SELECT coalesce(max(seq), 0) FROM audit"))


def spine(sender, record_id=None, *, installation=None, hlc_ms=None, counter=0, vclock=None, revision=1,
          deleted=False, agency=None) -> dict:
    inst = installation or sender.installation_id
    ms = hlc_ms if hlc_ms is not None else clock.now_ms()
    return {"id": record_id or uuid7(), "agency_id": agency or sender.agency.id, "installation_id": inst,
            "hlc": f"{ms:015d}-{counter:05d}-{inst}", "vclock": vclock or {inst: revision}, "revision": revision,
            "created_by": "clerk", "created_at": "2024-01-02T08:00:00.000Z", "updated_by": "clerk",
            "updated_at": "2024-01-02T08:00:00.000Z", "deleted": deleted,
            "deleted_reason": "duplicate" if deleted else None}


def doc(sender, values=None, form="incident", **spine_kw) -> dict:
    sp = spine(sender, **spine_kw)
    vals = {} if sp["deleted"] else (values if values is not None else {
        "agency_ref": "OB 9/9/2024", "occurred_on": "2024-01-01", "reported_on": "2024-01-02",
        "place": {"county": "047", "ward": "Kilimani"}, "offence_category": "stealing", "iccs_section": "05",
        "status": "open", "gbv": False})
    return {"form": form, "spine": sp, "values": vals}


def line(d) -> bytes:
    if isinstance(d, bytes):
        return d if d.endswith(b"\n") else d + b"\n"
    return json.dumps(d, separators=(",", ":")).encode() + b"\n"


def counts_of(docs) -> dict:
    counts = {}
    for d in docs:
        if isinstance(d, dict):
            c = counts.setdefault(d["form"], {"records": 0, "tombstones": 0})
            c["records"] += 1
            c["tombstones"] += int(d["spine"]["deleted"])
    return counts


def craft(sender, recipient, docs, path: Path, seq: int = 1, profile: str = "observatory", counts=None,
          previous=None, skipped=(), bundle_id=None, recipients=None) -> Path:
    """A bundle with exactly these records, signed by the sender's real key and encrypted to the recipient."""
    ident = keys.load_identity(sender.db)
    rcpt = keys.local_card(recipient)
    write_bundle(path, ident, party(keys.local_card(sender)), recipients or [(party(rcpt), rcpt["age_recipient"])],
                 seq, previous, list(skipped), profile, False, iter([line(d) for d in docs]),
                 dict(counts if counts is not None else counts_of(docs)),
                 {"seq": 1, "hash": "0" * 64, "at": clock.now_iso()}, bundle_id=bundle_id)
    return path


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def rebuild(path: Path | None, out, members_: dict[str, bytes]):
    """The same canonical layout, with chosen member contents (for tests that edit a member on purpose). ``out`` is
    a path or an in-memory file."""
    from usalama_desktop.sync.container import MEMBERS, BundleWriter

    def write(f):
        w = BundleWriter(f)
        for name in MEMBERS:
            w.add(name, [members_[name]])
        w.finish()

    if hasattr(out, "write"):
        write(out)
        return out
    with open(out, "wb") as f:
        write(f)
    return out


def test_table_hashes_see_a_change(pair):
    agency, _coord = pair
    before = table_hashes(agency.db)
    add_incidents(agency, 1)
    after = table_hashes(agency.db)
    assert before["incident"] != after["incident"]

"""Identity and trust: this installation's signing and encryption keys, agency cards, enrolment and revocation.

Each installation gets an Ed25519 signing key (minisign format) and an age X25519 identity when its database is
created; both stay inside the encrypted database. The public half travels as an *agency card*: a small JSON file
with the agency, the installation, both public keys and a fingerprint of 30 digits to read aloud. A coordinator
enrols a card only after the fingerprint read out by the agency matches the one on screen (and agencies enrol
their coordinator's card the same way). Revoking a card refuses every later bundle signed by it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import clock
from ..errors import NotFound, PermissionDenied, UsalamaError
from ..fsutil import atomic_write_bytes
from ..i18n import _
from ..permissions import require
from ..reference import AGENCY_TYPE_IDS, counties
from ..store.db import Database
from . import minisign, safejson
from .limits import BAD_TEXT, MAX_CARD_BYTES, safe_name

CARD_FORMAT = "usalama-agency-card"
CARD_VERSION = 1
CARD_SUFFIX = ".card.json"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
RELAY_TYPES = frozenset({"community_safety_forum"})  # agency types that pass merged data onward by default


@dataclass(frozen=True)
class Identity:
    """This installation's secret keys (only ever read inside a session)."""

    sign_seed: bytes
    key_id: bytes
    age_identity: str

    @property
    def sign_public(self) -> bytes:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        key = Ed25519PrivateKey.from_private_bytes(self.sign_seed)
        return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def age_recipient(self) -> str:
        import pyrage

        return str(pyrage.x25519.Identity.from_str(self.age_identity).to_public())


@dataclass(frozen=True)
class Peer:
    """An enrolled agency card."""

    key_id: str  # hex of the 8 key-id bytes
    installation_id: str
    agency_id: str
    agency_name: str
    agency_type: str
    county: str
    sign_public: bytes
    age_recipient: str
    fingerprint: str
    relay: bool
    enrolled_at: str
    enrolled_by: str
    revoked_at: str | None
    revoked_by: str | None
    revoke_reason: str | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def key_id_text(self) -> str:
        return minisign.key_id_text(bytes.fromhex(self.key_id))


# --- this installation ------------------------------------------------------------------------------------------


def create_identity(db: Database) -> None:
    """Called once, by the schema migration that adds exchange bundles (at set-up or on upgrade)."""
    import pyrage
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    key = Ed25519PrivateKey.generate()
    seed = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    db.execute("INSERT INTO sync_identity(id, sign_seed, sign_key_id, age_identity, created_at) VALUES (1,?,?,?,?)",
               (seed.hex(), os.urandom(minisign.KEY_ID_BYTES).hex(), str(pyrage.x25519.Identity.generate()),
                clock.now_iso()))


def load_identity(db: Database) -> Identity:
    row = db.one("SELECT sign_seed, sign_key_id, age_identity FROM sync_identity WHERE id = 1")
    if row is None:
        raise UsalamaError(_("This installation has no exchange keys. Restore the last backup."))
    return Identity(bytes.fromhex(row[0]), bytes.fromhex(row[1]), row[2])


def fingerprint(card: dict[str, Any]) -> str:
    """Thirty digits in six groups, from a SHA-256 of every identifying field of the card: read aloud, compared."""
    fields = [card.get(k) for k in ("agency_id", "agency_name", "agency_type", "county", "installation_id",
                                     "sign_key", "age_recipient")]
    digest = hashlib.sha256(json.dumps([CARD_FORMAT, CARD_VERSION, *fields], ensure_ascii=False,
                                       separators=(",", ":")).encode("utf-8")).digest()
    return " ".join(f"{int.from_bytes(digest[i * 5:(i + 1) * 5], 'big') % 100000:05d}" for i in range(6))


def normalise_fingerprint(text: str) -> str:
    digits = re.sub(r"\D", "", text or "")
    return " ".join(digits[i:i + 5] for i in range(0, len(digits), 5))


def local_card(session) -> dict[str, Any]:
    ident = load_identity(session.db)
    agency = session.agency
    card = {
        "format": CARD_FORMAT,
        "version": CARD_VERSION,
        "agency_id": agency.id,
        "agency_name": agency.name,
        "agency_type": agency.type,
        "county": agency.county or "",
        "installation_id": session.installation_id,
        "sign_key": minisign.public_key_line(ident.key_id, ident.sign_public),
        "age_recipient": ident.age_recipient,
    }
    card["fingerprint"] = fingerprint(card)
    return card


def card_file_stem(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40]
    return slug or "agency"


def write_card(session, folder: Path) -> tuple[Path, Path]:
    """The card as JSON, and the signing key alone as a minisign .pub (so ``minisign -V`` can check bundles)."""
    require(session.actor, "sync", "export")
    card = local_card(session)
    folder = Path(folder)
    if not folder.is_dir():
        raise UsalamaError(_("The folder {folder} does not exist. Plug in the USB stick or choose another folder.")
                           .format(folder=folder))
    stem = card_file_stem(card["agency_name"])
    json_path = folder / f"{stem}{CARD_SUFFIX}"
    pub_path = folder / f"{stem}.pub"
    ident = load_identity(session.db)
    try:
        atomic_write_bytes(json_path, (json.dumps(card, ensure_ascii=False, indent=1) + "\n").encode("utf-8"), 0o644)
        atomic_write_bytes(pub_path, minisign.public_key_file(
            ident.key_id, ident.sign_public, f"minisign public key {minisign.key_id_text(ident.key_id)} "
            f"of {card['agency_name']}").encode("utf-8"), 0o644)
    except OSError as exc:
        raise UsalamaError(_("The card could not be written to {folder}. Check the USB stick.").format(
            folder=folder)) from exc
    with session.db.transaction():
        session.audit("keys.card", "sync", session.installation_id, {"key_id": ident.key_id.hex()})
    return json_path, pub_path


# --- reading and enrolling cards -----------------------------------------------------------------------------------


def _bad_card(reason: str) -> UsalamaError:
    return UsalamaError(_("This is not a valid agency card ({reason}). Ask the agency to save its card again.")
                        .format(reason=reason))


def parse_card(data: bytes) -> dict[str, Any]:
    """A card from a file: strict JSON, every field checked, the fingerprint recomputed."""
    try:
        card = safejson.loads(data, MAX_CARD_BYTES, 4)
    except safejson.JSONRefused as exc:
        raise _bad_card(str(exc)) from None
    if not isinstance(card, dict) or card.get("format") != CARD_FORMAT:
        raise _bad_card("not a card")
    if card.get("version") != CARD_VERSION:
        raise _bad_card("unknown card version")
    expected = {"format", "version", "agency_id", "agency_name", "agency_type", "county", "installation_id",
                "sign_key", "age_recipient", "fingerprint"}
    if set(card) != expected:
        raise _bad_card("unexpected or missing fields")
    if not all(isinstance(card[k], str) for k in expected - {"version"}):
        raise _bad_card("a field is not text")
    for k in ("agency_id", "installation_id"):
        if not UUID.match(card[k]):
            raise _bad_card(k)
    name = card["agency_name"]
    if not name.strip() or len(name) > 120 or BAD_TEXT.search(name):
        raise _bad_card("agency name")
    if card["agency_type"] not in AGENCY_TYPE_IDS:
        raise _bad_card("agency type")
    if card["county"] and card["county"] not in {c.value for c in counties()}:
        raise _bad_card("county")
    try:
        minisign.parse_public_key(card["sign_key"])
    except minisign.MinisignError:
        raise _bad_card("signing key") from None
    import pyrage

    try:
        if not card["age_recipient"].startswith("age1"):
            raise ValueError
        pyrage.x25519.Recipient.from_str(card["age_recipient"])
    except Exception:
        raise _bad_card("encryption key") from None
    if card["fingerprint"] != fingerprint(card):
        raise _bad_card("its fingerprint does not match its keys")
    return card


def read_card(path: Path) -> dict[str, Any]:
    path = Path(path)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_CARD_BYTES + 1)
    except OSError:
        raise UsalamaError(_("The card {name} could not be read.").format(name=safe_name(path.name))) from None
    return parse_card(data)


def _peer(row) -> Peer:
    return Peer(row["key_id"], row["installation_id"], row["agency_id"], row["agency_name"], row["agency_type"],
                row["county"], bytes.fromhex(row["sign_public"]), row["age_recipient"], row["fingerprint"],
                bool(row["relay"]), row["enrolled_at"], row["enrolled_by"], row["revoked_at"], row["revoked_by"],
                row["revoke_reason"])


def enrol(session, card: dict[str, Any], confirmed_fingerprint: str, relay: bool | None = None) -> Peer:
    """Trust a card. ``confirmed_fingerprint`` is what the other side read out; it must match exactly."""
    require(session.actor, "sync", "keys")
    card = parse_card(json.dumps(card, ensure_ascii=False).encode("utf-8"))
    if normalise_fingerprint(confirmed_fingerprint) != card["fingerprint"]:
        raise UsalamaError(_("The fingerprint does not match this card: it was not enrolled. Compare the digits "
                             "again with the agency, in person or by phone."))
    if card["installation_id"] == session.installation_id or card["agency_id"] == session.agency.id:
        raise UsalamaError(_("This is this installation's own card; enrol the cards of other agencies."))
    key_id, public = minisign.parse_public_key(card["sign_key"])
    relay = card["agency_type"] in RELAY_TYPES if relay is None else bool(relay)
    db = session.db
    with db.transaction():
        existing = db.one("SELECT * FROM sync_peers WHERE key_id = ?", (key_id.hex(),))
        if existing is not None:
            if existing["revoked_at"]:
                raise UsalamaError(_("This card was revoked on {date}; a revoked card cannot be enrolled again.")
                                   .format(date=existing["revoked_at"][:10]))
            if existing["sign_public"] != public.hex() or existing["installation_id"] != card["installation_id"]:
                raise UsalamaError(_("Another card with the same key id is already enrolled. Revoke it first."))
        active = db.one("SELECT key_id FROM sync_peers WHERE installation_id = ? AND revoked_at IS NULL",
                        (card["installation_id"],))
        if active is not None and active[0] != key_id.hex():
            raise UsalamaError(_("This installation is already enrolled with other keys. Revoke the old card first."))
        clash = db.one("SELECT installation_id FROM sync_peers WHERE agency_id = ? AND installation_id != ? "
                       "AND revoked_at IS NULL", (card["agency_id"], card["installation_id"]))
        local = db.scalar("SELECT id FROM agencies WHERE id = ? AND is_local = 1", (card["agency_id"],))
        if local:
            raise UsalamaError(_("This is this installation's own card; enrol the cards of other agencies."))
        now = clock.now_iso()
        db.execute(
            "INSERT INTO sync_peers(key_id, installation_id, agency_id, agency_name, agency_type, county, sign_public, "
            "age_recipient, fingerprint, relay, card, enrolled_at, enrolled_by) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT(key_id) DO UPDATE SET relay = excluded.relay, agency_name = excluded.agency_name, "
            "card = excluded.card",
            (key_id.hex(), card["installation_id"], card["agency_id"], card["agency_name"], card["agency_type"],
             card["county"], public.hex(), card["age_recipient"], card["fingerprint"], int(relay),
             json.dumps(card, ensure_ascii=False, sort_keys=True), now, session.username),
        )
        db.execute(
            "INSERT INTO agencies(id, name, type, county, is_local, created_at) VALUES (?,?,?,?,0,?) "
            "ON CONFLICT(id) DO UPDATE SET name = excluded.name, type = excluded.type, county = excluded.county",
            (card["agency_id"], card["agency_name"], card["agency_type"], card["county"], now),
        )
        session.audit("keys.enrol", "sync", card["installation_id"],
                      {"key_id": key_id.hex(), "agency_id": card["agency_id"], "relay": relay,
                       "second_installation_of_agency": bool(clash)})
    return peer_by_key(db, key_id.hex())


def peer_by_key(db: Database, key_id_hex: str) -> Peer | None:
    row = db.one("SELECT * FROM sync_peers WHERE key_id = ?", (key_id_hex,))
    return None if row is None else _peer(row)


def active_peer(db: Database, installation_id: str) -> Peer | None:
    row = db.one("SELECT * FROM sync_peers WHERE installation_id = ? AND revoked_at IS NULL", (installation_id,))
    return None if row is None else _peer(row)


def list_peers(session, include_revoked: bool = True) -> list[Peer]:
    if not any(_can(session, a) for a in ("keys", "import", "export")):
        raise PermissionDenied(_("Your role may not see the enrolled agency cards."))
    sql = "SELECT * FROM sync_peers" + ("" if include_revoked else " WHERE revoked_at IS NULL")
    return [_peer(r) for r in session.db.query(sql + " ORDER BY agency_name, enrolled_at")]


def _can(session, action: str) -> bool:
    from ..permissions import allowed

    return allowed(session.actor, "sync", action)


def find_peer(session, what: str) -> Peer:
    """A peer by installation id, key id (as minisign prints it or raw), fingerprint, card file or agency name."""
    what = (what or "").strip()
    db = session.db
    if what.endswith(".json") and Path(what).exists():
        card = read_card(Path(what))
        key_id, _pub = minisign.parse_public_key(card["sign_key"])
        peer = peer_by_key(db, key_id.hex())
        if peer is None:
            raise NotFound(_("The card {name} is not enrolled here. Enrol it first (compare fingerprints).").format(
                name=safe_name(Path(what).name)))
        return peer
    rows = db.query("SELECT * FROM sync_peers ORDER BY revoked_at IS NOT NULL, enrolled_at DESC")
    norm = normalise_fingerprint(what)
    for r in rows:
        p = _peer(r)
        if what in (p.installation_id, p.key_id) or what.upper() == p.key_id_text or (norm and norm == p.fingerprint):
            return p
    matches = [_peer(r) for r in rows if r["agency_name"].lower() == what.lower() and r["revoked_at"] is None]
    if len(matches) == 1:
        return matches[0]
    raise NotFound(_("No enrolled agency card matches {what}. See `usalama keys list`.").format(what=safe_name(what)))


def revoke(session, peer: Peer, reason: str) -> Peer:
    """Refuse every later bundle signed by this key. Records already imported stay until quarantined."""
    require(session.actor, "sync", "keys")
    reason = " ".join((reason or "").split())
    if len(reason) < 3:
        raise UsalamaError(_("Say why this card is revoked."))
    if peer.revoked:
        return peer
    with session.db.transaction():
        session.db.execute("UPDATE sync_peers SET revoked_at = ?, revoked_by = ?, revoke_reason = ? WHERE key_id = ?",
                           (clock.now_iso(), session.username, reason[:300], peer.key_id))
        session.audit("keys.revoke", "sync", peer.installation_id, {"key_id": peer.key_id})
    return peer_by_key(session.db, peer.key_id)


def set_relay(session, peer: Peer, relay: bool) -> Peer:
    require(session.actor, "sync", "keys")
    with session.db.transaction():
        session.db.execute("UPDATE sync_peers SET relay = ? WHERE key_id = ?", (int(relay), peer.key_id))
        session.audit("keys.relay", "sync", peer.installation_id, {"key_id": peer.key_id, "relay": relay})
    return peer_by_key(session.db, peer.key_id)

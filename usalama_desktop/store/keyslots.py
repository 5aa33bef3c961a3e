"""Key slots: the random database key wrapped once per account and once under the recovery key.

The database key is 32 random bytes, never typed. Each slot wraps it with ChaCha20-Poly1305 under a key derived
from a password (or the recovery key) with Argon2id; the AEAD tag is the key-check value that tells a wrong password
from a damaged database. Parameters travel with the slot in PHC form, so they can be raised later and old slots
re-wrapped at the next login.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from ..errors import UsalamaError, WrongPassword
from ..fsutil import atomic_write_bytes, private_dir, remove_leftovers
from ..i18n import _

SLOT_FORMAT = "usalama-keyslot"
SLOT_VERSION = 1
DB_KEY_BYTES = 32


@dataclass(frozen=True)
class KdfParams:
    memory_kib: int = 65536
    time_cost: int = 3
    parallelism: int = 4

    def at_least(self, other: KdfParams) -> bool:
        return self.memory_kib >= other.memory_kib and self.time_cost >= other.time_cost


CURRENT_KDF = KdfParams()
MINIMUM_KDF = KdfParams(memory_kib=65536, time_cost=3, parallelism=1)

_PHC = re.compile(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)$")
_USERNAME = re.compile(r"^[a-z][a-z0-9_.-]{1,31}$")


def b64e(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64d(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def phc_b64e(data: bytes) -> str:
    """PHC strings use standard base64 without padding."""
    return b64e(data).rstrip("=")


def phc_b64d(text: str) -> bytes:
    return b64d(text + "=" * (-len(text) % 4))


def derive_kek(secret: bytes, salt: bytes, params: KdfParams) -> bytes:
    return hash_secret_raw(
        secret=secret,
        salt=salt,
        time_cost=params.time_cost,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        hash_len=32,
        type=Type.ID,
        version=19,
    )


def check_username(username: str) -> str:
    if not _USERNAME.match(username or ""):
        raise UsalamaError(
            _("A user name uses 2 to 32 small letters, digits, dots, dashes or underscores, starting with a letter.")
        )
    return username


@dataclass(frozen=True)
class KeySlot:
    kind: str  # "user" or "recovery"
    name: str
    installation: str
    salt: bytes
    params: KdfParams
    nonce: bytes
    wrapped: bytes

    @property
    def phc(self) -> str:
        p = self.params
        return f"$argon2id$v=19$m={p.memory_kib},t={p.time_cost},p={p.parallelism}${phc_b64e(self.salt)}"

    def aad(self) -> bytes:
        return f"{SLOT_FORMAT}/{SLOT_VERSION}|{self.kind}|{self.name}|{self.installation}".encode()

    def to_json(self) -> bytes:
        doc = {
            "format": SLOT_FORMAT,
            "version": SLOT_VERSION,
            "kind": self.kind,
            "name": self.name,
            "installation": self.installation,
            "kdf": self.phc,
            "aead": "chacha20poly1305",
            "nonce": b64e(self.nonce),
            "wrapped": b64e(self.wrapped),
        }
        return json.dumps(doc, indent=2).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> KeySlot:
        try:
            doc = json.loads(data)
            if doc.get("format") != SLOT_FORMAT or doc.get("version") != SLOT_VERSION:
                raise ValueError("format")
            m = _PHC.match(doc["kdf"])
            if not m or doc.get("aead") != "chacha20poly1305":
                raise ValueError("kdf")
            params = KdfParams(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            return cls(
                kind=doc["kind"],
                name=doc["name"],
                installation=doc["installation"],
                salt=phc_b64d(m.group(4)),
                params=params,
                nonce=b64d(doc["nonce"]),
                wrapped=b64d(doc["wrapped"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise UsalamaError(_("A key file of this installation is damaged. Restore the last backup.")) from exc


def seal(db_key: bytes, secret: bytes, kind: str, name: str, installation: str,
         params: KdfParams = CURRENT_KDF) -> KeySlot:
    if len(db_key) != DB_KEY_BYTES:
        raise ValueError("database key must be 32 bytes")
    salt = os.urandom(16)
    nonce = os.urandom(12)
    draft = KeySlot(kind, name, installation, salt, params, nonce, b"")
    kek = derive_kek(secret, salt, params)
    wrapped = ChaCha20Poly1305(kek).encrypt(nonce, db_key, draft.aad())
    return KeySlot(kind, name, installation, salt, params, nonce, wrapped)


def unseal(slot: KeySlot, secret: bytes) -> bytes:
    """Return the database key, or raise WrongPassword when the AEAD tag does not match."""
    if not slot.params.at_least(MINIMUM_KDF):
        raise UsalamaError(_("A key file uses weaker settings than this version allows. Restore the last backup."))
    kek = derive_kek(secret, slot.salt, slot.params)
    try:
        return ChaCha20Poly1305(kek).decrypt(slot.nonce, slot.wrapped, slot.aad())
    except InvalidTag:
        raise WrongPassword(_("Wrong password.")) from None


# --- recovery keys -------------------------------------------------------------------------------------------

_B32_FIX = str.maketrans({"0": "O", "1": "I", "8": "B"})


def new_recovery_key() -> str:
    """32 random bytes as 13 groups of 4 base32 characters: typed from paper, never stored."""
    text = base64.b32encode(secrets.token_bytes(32)).decode("ascii").rstrip("=")
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def normalise_recovery_key(text: str) -> bytes:
    cleaned = re.sub(r"[\s\-]", "", text or "").upper().translate(_B32_FIX)
    if len(cleaned) != 52 or not re.fullmatch(r"[A-Z2-7]+", cleaned):
        raise WrongPassword(_("That is not a recovery key: it has 52 letters and digits in groups of four."))
    return base64.b32decode(cleaned + "====")


# --- the slot folder -----------------------------------------------------------------------------------------


class KeyStore:
    """``keys/`` in the data folder: one file per slot, each replaced atomically."""

    def __init__(self, keys_dir: Path):
        self.dir = Path(keys_dir)

    def _path(self, kind: str, name: str) -> Path:
        if kind == "recovery":
            return self.dir / "recovery.slot"
        return self.dir / "users" / f"{check_username(name)}.slot"

    def write(self, slot: KeySlot) -> None:
        """Replace the slot's file in one step. Callers write inside a transaction of the installation's database
        (BEGIN IMMEDIATE), which lets one writer at a time through, across processes: so a temporary file of this
        slot already there was left by a write cut short, and goes."""
        path = self._path(slot.kind, slot.name)
        private_dir(path.parent)
        remove_leftovers(path)
        atomic_write_bytes(path, slot.to_json())

    def read(self, kind: str, name: str) -> KeySlot | None:
        path = self._path(kind, name)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        return KeySlot.from_json(data)

    def remove(self, kind: str, name: str) -> None:
        path = self._path(kind, name)
        if path.exists():
            path.unlink()

    def users(self) -> list[str]:
        folder = self.dir / "users"
        if not folder.is_dir():
            return []
        return sorted(p.stem for p in folder.glob("*.slot"))

    def all_files(self) -> list[Path]:
        files = []
        if (self.dir / "recovery.slot").exists():
            files.append(self.dir / "recovery.slot")
        files.extend(sorted((self.dir / "users").glob("*.slot")) if (self.dir / "users").is_dir() else [])
        return files

"""The minisign file formats (public key and signature), written and checked with ``cryptography``'s Ed25519.

Only the prehashed algorithm ("ED": Ed25519 over BLAKE2b-512 of the message) is written or accepted, so the
reference ``minisign -V`` verifies our signatures and we never hold a whole bundle to sign it. The global signature
covers the signature and the trusted comment; the untrusted comment is ignored by every decision.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PUBLIC_ALG = b"Ed"
SIGNATURE_ALG = b"ED"  # prehashed
KEY_ID_BYTES = 8
MAX_SIGNATURE_FILE = 2048
MAX_COMMENT = 1024


class MinisignError(ValueError):
    """A key or signature file that is not in the minisign format we accept."""


def key_id_text(key_id: bytes) -> str:
    """As minisign prints it: the 8 bytes as a little-endian number in upper-case hex."""
    return key_id[::-1].hex().upper()


def public_key_file(key_id: bytes, public: bytes, comment: str) -> str:
    line = base64.b64encode(PUBLIC_ALG + key_id + public).decode("ascii")
    return f"untrusted comment: {_one_line(comment)}\n{line}\n"


def parse_public_key(text: str) -> tuple[bytes, bytes]:
    """(key id, 32-byte Ed25519 public key) from a minisign .pub file or its base64 line alone."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    if lines and lines[0].startswith("untrusted comment:"):
        lines = lines[1:]
    if len(lines) != 1:
        raise MinisignError("not a minisign public key")
    raw = _b64(lines[0], 42)
    if raw[:2] != PUBLIC_ALG:
        raise MinisignError("not an Ed25519 minisign public key")
    return raw[2:10], raw[10:]


def public_key_line(key_id: bytes, public: bytes) -> str:
    return base64.b64encode(PUBLIC_ALG + key_id + public).decode("ascii")


@dataclass(frozen=True)
class Signature:
    key_id: bytes
    signature: bytes
    trusted_comment: str
    global_signature: bytes
    untrusted_comment: str


def prehash(message: bytes | None = None) -> hashlib.blake2b:
    h = hashlib.blake2b(digest_size=64)
    if message is not None:
        h.update(message)
    return h


def sign(seed: bytes, key_id: bytes, message: bytes, trusted_comment: str, untrusted_comment: str) -> str:
    key = Ed25519PrivateKey.from_private_bytes(seed)
    trusted = _one_line(trusted_comment)
    sig = key.sign(prehash(message).digest())
    global_sig = key.sign(sig + trusted.encode("utf-8"))
    return (f"untrusted comment: {_one_line(untrusted_comment)}\n"
            f"{base64.b64encode(SIGNATURE_ALG + key_id + sig).decode('ascii')}\n"
            f"trusted comment: {trusted}\n"
            f"{base64.b64encode(global_sig).decode('ascii')}\n")


def parse_signature(data: bytes) -> Signature:
    """Strict: four lines, UTF-8, the prehashed algorithm only."""
    if len(data) > MAX_SIGNATURE_FILE:
        raise MinisignError("signature file too large")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise MinisignError("signature is not text") from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines = lines[:-1]
    if len(lines) != 4:
        raise MinisignError("a signature file has four lines")
    if not lines[0].startswith("untrusted comment: ") or not lines[2].startswith("trusted comment: "):
        raise MinisignError("signature comments missing")
    raw = _b64(lines[1], 74)
    if raw[:2] != SIGNATURE_ALG:
        raise MinisignError("signature algorithm not allowed")
    trusted = lines[2][len("trusted comment: "):]
    if len(trusted) > MAX_COMMENT or "\r" in trusted:
        raise MinisignError("trusted comment too long")
    return Signature(raw[2:10], raw[10:], trusted, _b64(lines[3], 64), lines[0][len("untrusted comment: "):])


def verify(sig: Signature, public: bytes, message_hash: bytes) -> bool:
    """``message_hash`` is the BLAKE2b-512 of the signed message (see ``prehash``)."""
    key = Ed25519PublicKey.from_public_bytes(public)
    try:
        key.verify(sig.signature, message_hash)
        key.verify(sig.global_signature, sig.signature + sig.trusted_comment.encode("utf-8"))
    except InvalidSignature:
        return False
    return True


def _b64(text: str, size: int) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise MinisignError("bad base64") from None
    if len(raw) != size or base64.b64encode(raw).decode("ascii") != text.strip():
        raise MinisignError("wrong length or not canonical base64")
    return raw


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:MAX_COMMENT]

"""Limits a bundle must keep before anything in it is parsed or decrypted, and the refusal every check raises.

A bundle arrives on a USB stick from outside: it is hostile until its signature, hashes and every record have been
checked. Each limit here is applied to sizes and counts first, with streaming byte counters, so a hostile file costs
at most a few reads (THREATS 29-37).
"""

from __future__ import annotations

import re

from ..errors import ImportRejected

FORMAT = "usalama-bundle"
FORMAT_VERSION = 1
SIGNATURE_ALGORITHM = "minisign-ed25519-blake2b512"
ENCRYPTION_ALGORITHM = "age-v1-x25519"
PAYLOAD_ENCODING = "gzip+ndjson"
HASH_ALGORITHM = "sha256"
ALGORITHMS = {"signature": SIGNATURE_ALGORITHM, "encryption": ENCRYPTION_ALGORITHM, "payload": PAYLOAD_ENCODING,
              "hash": HASH_ALGORITHM}
BUNDLE_SUFFIX = ".usalama-bundle"

MAX_BUNDLE_BYTES = 200 * 1024 * 1024
MAX_ZIP_ENTRIES = 16  # counted from the end record before the directory is read
MAX_MANIFEST_BYTES = 64 * 1024
MAX_SIGNATURE_BYTES = 2048
MAX_AGE_HEADER_BYTES = 8 * 1024
MAX_RECIPIENT_STANZAS = 16
MAX_RECIPIENTS = 16
MAX_RECORD_BYTES = 1024 * 1024  # one line of the payload
MAX_JSON_DEPTH = 32
MAX_PAYLOAD_PLAIN_BYTES = 8 * 1024 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
RATIO_SLACK_BYTES = 1024 * 1024
MAX_RECORDS = 5_000_000
MAX_CARD_BYTES = 8 * 1024
SEQUENCE_WINDOW = 100  # a jump further ahead than this needs the coordinator's confirmation
CLOCK_AHEAD_DAYS = 1  # a record's dates may be this far past our today (senders' clocks and time zones differ)


class BundleRejected(ImportRejected):
    """A bundle refused as a whole. ``code`` names the check that refused it (kept in the audit trail)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


class NeedsConfirmation(BundleRejected):
    """Refused until a coordinator confirms (a sequence jump beyond the window); nothing was written."""


def safe_name(text: object, limit: int = 60) -> str:
    """Text from a hostile file, made safe to show and to audit: printable ASCII, escaped, shortened."""
    shown = str(text).encode("ascii", "backslashreplace").decode("ascii")
    shown = "".join(ch if 32 <= ord(ch) < 127 else f"\\x{ord(ch):02x}" for ch in shown)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


# Control characters, bidirectional overrides and the byte-order mark: never allowed in a name or short text.
BAD_TEXT = re.compile(r"[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069\ufeff]")


class PullSource:
    """A file-like ``read`` for pyrage to pull from. pyrage may replace an exception raised inside ``read`` with its
    own error, so the original is kept in ``error`` for the caller to raise again."""

    error: BaseException | None = None

    def _read(self, n: int) -> bytes:
        raise NotImplementedError

    def read(self, n: int = -1) -> bytes:
        try:
            return self._read(n)
        except BaseException as exc:
            self.error = exc
            raise

    def readinto(self, b) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

"""The manifest: what a bundle is, who sent it to whom, and the SHA-256 of the payload, signed as a whole.

It holds no personal data: ids, agency names, counts, hashes and times. The trusted comment of its signature
repeats the sender, sequence and bundle id, and the reader checks both agree.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ..i18n import _
from . import safejson
from .keys import UUID
from .limits import (
    ALGORITHMS,
    BAD_TEXT,
    FORMAT,
    FORMAT_VERSION,
    MAX_MANIFEST_BYTES,
    MAX_RECIPIENTS,
    MAX_RECORDS,
    BundleRejected,
)
from .profiles import PROFILES

KEYS = frozenset({"format", "format_version", "algorithms", "bundle_id", "created_at", "sender", "recipients",
                  "sequence", "previous_bundle_id", "skipped_sequences", "profile", "full", "counts",
                  "total_records", "members", "audit_checkpoint", "app_version"})
PARTY_KEYS = frozenset({"installation_id", "agency_id", "agency_name", "agency_type", "key_id", "fingerprint"})
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_HEX16 = re.compile(r"^[0-9a-f]{16}$")
_FINGERPRINT = re.compile(r"^\d{5}( \d{5}){5}$")
_FORM = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def serialise(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode("utf-8")


def trusted_comment(manifest: dict[str, Any]) -> str:
    return (f"usalama-bundle v{manifest['format_version']} sender={manifest['sender']['installation_id']} "
            f"agency={manifest['sender']['agency_id']} seq={manifest['sequence']} bundle={manifest['bundle_id']}")


@dataclass(frozen=True)
class Manifest:
    doc: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.doc[key]

    @property
    def sender(self) -> dict[str, str]:
        return self.doc["sender"]

    @property
    def recipients(self) -> list[dict[str, str]]:
        return self.doc["recipients"]


def _bad(what: str) -> BundleRejected:
    return BundleRejected("manifest", _("The bundle's manifest is not valid ({what}); it was refused.").format(
        what=what))


def _party(p: Any, what: str) -> None:
    if not isinstance(p, dict) or set(p) != PARTY_KEYS or not all(isinstance(v, str) for v in p.values()):
        raise _bad(what)
    if not UUID.match(p["installation_id"]) or not UUID.match(p["agency_id"]) or not _HEX16.match(p["key_id"]):
        raise _bad(what)
    if not _FINGERPRINT.match(p["fingerprint"]) or len(p["agency_name"]) > 120 or BAD_TEXT.search(p["agency_name"]):
        raise _bad(what)
    if len(p["agency_type"]) > 40:
        raise _bad(what)


def parse(data: bytes) -> Manifest:
    """Called only after the signature over these exact bytes was verified."""
    try:
        doc = safejson.loads(data, MAX_MANIFEST_BYTES, 6)
    except safejson.JSONRefused as exc:
        raise _bad(str(exc)) from None
    if not isinstance(doc, dict):
        raise _bad("not an object")
    if doc.get("format") != FORMAT:
        raise _bad("not a Usalama bundle")
    version = doc.get("format_version")
    if type(version) is not int or version < FORMAT_VERSION:
        raise BundleRejected("downgrade", _("The bundle uses an older format ({version}) that this program no longer "
                                            "accepts; it was refused. Ask the sender to update Usalama Desktop.")
                             .format(version=str(version)[:10]))
    if version > FORMAT_VERSION:
        raise BundleRejected("format", _("The bundle uses a newer format ({version}) than this program reads. Update "
                                         "Usalama Desktop, then import it again.").format(version=str(version)[:10]))
    if doc.get("algorithms") != ALGORITHMS:
        raise BundleRejected("algorithm", _("The bundle names an algorithm that is not allowed; it was refused."))
    if set(doc) != KEYS:
        raise _bad("fields")
    if not isinstance(doc["bundle_id"], str) or not UUID.match(doc["bundle_id"]):
        raise _bad("bundle id")
    if not isinstance(doc["created_at"], str) or not _ISO.match(doc["created_at"]):
        raise _bad("created_at")
    _party(doc["sender"], "sender")
    recipients = doc["recipients"]
    if not isinstance(recipients, list) or not 1 <= len(recipients) <= MAX_RECIPIENTS:
        raise _bad("recipients")
    for r in recipients:
        _party(r, "recipient")
    seq = doc["sequence"]
    if type(seq) is not int or not 1 <= seq <= 10**12:
        raise _bad("sequence")
    prev = doc["previous_bundle_id"]
    if prev is not None and (not isinstance(prev, str) or not UUID.match(prev)):
        raise _bad("previous bundle")
    skipped = doc["skipped_sequences"]
    if (not isinstance(skipped, list) or len(skipped) > 1000
            or not all(type(s) is int and 1 <= s < seq for s in skipped)):
        raise _bad("skipped sequences")
    if doc["profile"] not in PROFILES or type(doc["full"]) is not bool:
        raise _bad("profile")
    counts = doc["counts"]
    if not isinstance(counts, dict) or len(counts) > 200:
        raise _bad("counts")
    total = 0
    for name, c in counts.items():
        if (not _FORM.match(name) or not isinstance(c, dict) or set(c) != {"records", "tombstones"}
                or not all(type(x) is int and 0 <= x <= MAX_RECORDS for x in c.values())
                or c["tombstones"] > c["records"]):
            raise _bad("counts")
        total += c["records"]
    if doc["total_records"] != total or total > MAX_RECORDS:
        raise _bad("counts")
    members = doc["members"]
    if (not isinstance(members, dict) or set(members) != {"payload.age"} or not isinstance(members["payload.age"], dict)
            or set(members["payload.age"]) != {"sha256", "size"}
            or not isinstance(members["payload.age"]["sha256"], str)
            or not _HEX64.match(members["payload.age"]["sha256"]) or type(members["payload.age"]["size"]) is not int):
        raise _bad("members")
    cp = doc["audit_checkpoint"]
    if (not isinstance(cp, dict) or set(cp) != {"seq", "hash", "at"} or type(cp["seq"]) is not int or cp["seq"] < 0
            or not isinstance(cp["hash"], str) or not _HEX64.match(cp["hash"]) or not isinstance(cp["at"], str)
            or not _ISO.match(cp["at"])):
        raise _bad("audit checkpoint")
    if not isinstance(doc["app_version"], str) or len(doc["app_version"]) > 40:
        raise _bad("app version")
    return Manifest(doc)

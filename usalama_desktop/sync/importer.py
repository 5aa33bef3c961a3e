"""Importing bundles: every check in a fixed order, each refusing with a plain message and writing nothing but one
audit entry, then one transaction that decrypts, validates and merges the whole payload, streamed.

1. Limits and structure, before any parsing or crypto (container.py): size, member count, names, types, sizes,
   the age header's recipient count.
2. The signature, against enrolled and unrevoked keys; then the manifest, which must agree with the trusted comment
   and with the enrolled card.
3. Addressed to this installation.
4. The payload's size and SHA-256 against the signed manifest (read again while decrypting, and compared before
   anything is committed, so a stick that changes what it serves between reads is caught too).
5. Sequence: the same bundle again is "already imported" and changes nothing; a sequence number reused by another
   bundle is refused; a jump further ahead than the window needs confirmation; an older one that fills a gap is
   imported and flagged.
6. Decryption, gzip with a compression-ratio cap, every record checked (codec.py; for a large bundle on the second
   core, pipeline.py) and merged (merge.py). One bad record refuses the whole bundle: the transaction rolls back.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .. import clock
from ..bulkwork import collection_paused
from ..errors import UsalamaError
from ..forms import registry
from ..i18n import _
from ..permissions import require
from ..reference import POLICE_AGENCY_TYPES
from . import minisign
from .codec import RecordChecker, Version
from .container import MANIFEST, PAYLOAD, SIGNATURE, BundleReader
from .keys import Peer, load_identity, peer_by_key
from .limits import (
    BUNDLE_SUFFIX,
    MAX_AGE_HEADER_BYTES,
    MAX_COMPRESSION_RATIO,
    MAX_PAYLOAD_PLAIN_BYTES,
    MAX_RECIPIENT_STANZAS,
    MAX_RECORD_BYTES,
    MAX_RECORDS,
    RATIO_SLACK_BYTES,
    SEQUENCE_WINDOW,
    BundleRejected,
    NeedsConfirmation,
    PullSource,
    safe_name,
)
from .manifest import Manifest, parse, trusted_comment
from .merge import Merger, MergeStats
from .pipeline import HelperChecker, InlineChecker, record_checker

AGE_MAGIC = b"age-encryption.org/v1\n"
OUT_CHUNK = 1 << 20


@dataclass
class ImportResult:
    file_name: str
    status: str  # "imported", "already" or "rejected"
    message: str
    bundle_id: str | None = None
    sender: Peer | None = None
    sequence: int | None = None
    profile: str | None = None
    stats: MergeStats | None = None
    gaps: list[tuple[int, int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    code: str | None = None

    @property
    def ok(self) -> bool:
        return self.status != "rejected"


@dataclass
class Checked:
    manifest: Manifest
    manifest_sha256: str
    peer: Peer


def check_age_header(head: bytes) -> None:
    """Count recipient stanzas before any decryption (THREATS 36)."""
    if not head.startswith(AGE_MAGIC):
        raise BundleRejected("payload", _("The bundle's encrypted part is not in the age format; it was refused."))
    end = head.find(b"\n--- ")
    if end < 0:
        raise BundleRejected("recipients", _("The bundle's encrypted part has too many recipients or too large a "
                                             "header; it was refused unread."))
    stanzas = head[:end].count(b"\n-> ")
    if stanzas < 1 or stanzas > MAX_RECIPIENT_STANZAS:
        raise BundleRejected("recipients", _("The bundle's encrypted part has too many recipients or too large a "
                                             "header; it was refused unread."))


def check_bundle(session, reader: BundleReader) -> Checked:
    """Steps 1-4: nothing is written; raises BundleRejected."""
    check_age_header(reader.head(PAYLOAD, MAX_AGE_HEADER_BYTES))
    sig_bytes = reader.read_member(SIGNATURE)
    manifest_bytes = reader.read_member(MANIFEST)
    try:
        sig = minisign.parse_signature(sig_bytes)
    except minisign.MinisignError:
        raise BundleRejected("signature", _("The bundle's signature is missing or not valid; it was refused.")) from None
    db = session.db
    peer = peer_by_key(db, sig.key_id.hex())
    if peer is None:
        raise BundleRejected("unknown_signer", _(
            "The bundle is signed by a key that is not enrolled here (key {key}). Enrol the sender's agency card "
            "first, after comparing fingerprints; nothing was imported.").format(key=minisign.key_id_text(sig.key_id)))
    if not minisign.verify(sig, peer.sign_public, minisign.prehash(manifest_bytes).digest()):
        raise BundleRejected("bad_signature", _(
            "The bundle's signature does not match its contents: it was changed after it was signed, or its files "
            "were mixed with another bundle's. Nothing was imported."))
    if peer.revoked:
        raise BundleRejected("revoked", _("The bundle is signed by the key of {agency}, which was revoked on {date}. "
                                          "Nothing was imported.").format(agency=peer.agency_name,
                                                                          date=peer.revoked_at[:10]))
    manifest = parse(manifest_bytes)
    if sig.trusted_comment != trusted_comment(manifest.doc):
        raise BundleRejected("bad_signature", _(
            "The bundle's signature does not match its contents: it was changed after it was signed, or its files "
            "were mixed with another bundle's. Nothing was imported."))
    sender = manifest.sender
    if (sender["key_id"] != peer.key_id or sender["installation_id"] != peer.installation_id
            or sender["agency_id"] != peer.agency_id):
        raise BundleRejected("origin", _("The bundle names a sender other than the agency whose key signed it; it was "
                                         "refused."))
    ident = load_identity(db)
    mine = [r for r in manifest.recipients if r["installation_id"] == session.installation_id]
    if not mine or mine[0]["key_id"] != ident.key_id.hex():
        names = ", ".join(safe_name(r["agency_name"], 60) for r in manifest.recipients[:3])
        raise BundleRejected("not_addressed", _("This bundle is not addressed to this coordinator: it is for {names}. "
                                                "Nothing was imported.").format(names=names))
    declared = manifest["members"][PAYLOAD]
    if declared["size"] != reader.members[PAYLOAD].size:
        raise mixed()
    h = hashlib.sha256()
    for chunk in reader.iter_member(PAYLOAD):
        h.update(chunk)
    if h.hexdigest() != declared["sha256"]:
        raise mixed()
    return Checked(manifest, hashlib.sha256(manifest_bytes).hexdigest(), peer)


def mixed() -> BundleRejected:
    return BundleRejected("hash", _("The bundle's data does not match its signed manifest: it was changed, damaged, "
                                    "or mixed with another bundle's. Nothing was imported."))


# --- sequence ---------------------------------------------------------------------------------------------------


def _seen(db, sender: str) -> list[tuple[str, int, list[int]]]:
    return [(r[0], int(r[1]), json.loads(r[2])) for r in db.query(
        "SELECT bundle_id, seq, skipped FROM sync_incoming WHERE sender = ? AND superseded = 0", (sender,))]


def gaps(db, sender: str) -> list[tuple[int, int]]:
    """Missing sequence numbers from a sender, as ranges (bundles declared skipped by the sender are not missing)."""
    seen = _seen(db, sender)
    if not seen:
        return []
    have = {s for _b, s, _k in seen}
    for _b, _s, skipped in seen:
        have.update(skipped)
    out: list[tuple[int, int]] = []
    start = None
    for n in range(1, max(have) + 1):
        if n not in have:
            start = n if start is None else start
        elif start is not None:
            out.append((start, n - 1))
            start = None
    return out


def describe_gaps(ranges: list[tuple[int, int]], agency: str) -> str:
    parts = [str(a) if a == b else f"{a}-{b}" for a, b in ranges]
    return _("bundles {numbers} from {agency} missing").format(numbers=", ".join(parts), agency=agency)


def _check_sequence(db, checked: Checked, accept_jump: bool) -> tuple[list[str], bool]:
    """Refuse a reused number or an unconfirmed jump; returns notes for the user and whether a jump was confirmed."""
    m, peer = checked.manifest, checked.peer
    seq = m["sequence"]
    seen = _seen(db, peer.installation_id)
    last = max((s for _b, s, _k in seen), default=0)
    for bundle_id, s, _k in seen:
        if s == seq and bundle_id != m["bundle_id"]:
            raise BundleRejected("sequence", _(
                "Bundle {seq} from {agency} was already imported as a different bundle, so this one was refused. The "
                "last bundle seen from them is {last}. Ask them to check their exports.").format(
                seq=seq, agency=peer.agency_name, last=last))
    if seq > last + SEQUENCE_WINDOW and not accept_jump:
        raise NeedsConfirmation("sequence_jump", _(
            "Bundle {seq} from {agency} jumps far ahead of the last one seen ({last}). If you expected this, import "
            "it again and confirm the jump; otherwise their key may be misused. Nothing was imported.").format(
            seq=seq, agency=peer.agency_name, last=last))
    notes = []
    if seq < last:
        notes.append(_("Bundle {seq} is older than the last one imported from {agency} ({last}); it was imported to "
                       "fill the gap.").format(seq=seq, agency=peer.agency_name, last=last))
    jumped = seq > last + SEQUENCE_WINDOW
    if jumped:
        notes.append(_("The jump from bundle {last} to {seq} was confirmed.").format(last=last, seq=seq))
    return notes, jumped


# --- payload -----------------------------------------------------------------------------------------------------


class _PayloadSource(PullSource):
    """The encrypted payload read from the bundle a second time, hashed again, with progress and cancel."""

    def __init__(self, chunks: Iterator[bytes], total: int, progress: Callable[[int, int], None] | None):
        self.chunks = chunks
        self.total = total
        self.progress = progress
        self.sha = hashlib.sha256()
        self.buf = b""
        self.done = 0

    def _read(self, n: int) -> bytes:
        if not self.buf:
            chunk = next(self.chunks, b"")
            if chunk:
                self.sha.update(chunk)
                self.done += len(chunk)
                if self.progress is not None:
                    self.progress(self.done, self.total)
            self.buf = chunk
        if n is None or n < 0:
            n = len(self.buf)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


class _PayloadSink:
    """Receives decrypted bytes from age: gunzips with a ratio cap, splits records, checks and merges each one."""

    def __init__(self, checker: RecordChecker, records: InlineChecker | HelperChecker, merger: Merger):
        self.checker = checker
        self.records = records
        self.merger = merger
        self.z = zlib.decompressobj(31)
        self.pending = bytearray()
        self.in_bytes = 0
        self.out_bytes = 0
        self.n = 0  # lines read
        self.merged = 0  # versions checked and handed to the merge, in bundle order
        self.counts: dict[str, dict[str, int]] = {}
        self.error: BaseException | None = None

    def write(self, data) -> int:
        try:
            return self._write(data)
        except BaseException as exc:
            self.error = exc
            raise

    def _write(self, data) -> int:
        data = bytes(data)
        self.in_bytes += len(data)
        buf = data
        while True:
            if self.z.eof:
                if buf or self.z.unused_data:
                    raise BundleRejected("payload", _("The bundle's data has extra bytes after its end; it was "
                                                      "refused."))
                break
            try:
                out = self.z.decompress(buf, OUT_CHUNK)
            except zlib.error:
                raise BundleRejected("payload", _("The bundle's data could not be unpacked; it was refused.")) from None
            buf = self.z.unconsumed_tail
            self._take(out)
            if not buf and len(out) < OUT_CHUNK:
                break
        return len(data)

    def flush(self) -> None:
        pass

    def _take(self, out: bytes) -> None:
        if not out:
            return
        self.out_bytes += len(out)
        if (self.out_bytes > MAX_PAYLOAD_PLAIN_BYTES
                or self.out_bytes > MAX_COMPRESSION_RATIO * self.in_bytes + RATIO_SLACK_BYTES):
            raise BundleRejected("bomb", _("The bundle's data unpacks to far more than it should (a compression "
                                           "bomb); it was refused."))
        self.pending += out
        start = 0
        while True:
            end = self.pending.find(b"\n", start)
            if end < 0:
                break
            self._record(bytes(self.pending[start:end]))
            start = end + 1
        del self.pending[:start]
        if len(self.pending) > MAX_RECORD_BYTES:
            raise self.checker.refuse(self.n + 1, "longer than allowed")

    def _record(self, line: bytes) -> None:
        self.n += 1
        if self.n > MAX_RECORDS:
            raise BundleRejected("records", _("The bundle holds more records than allowed; it was refused."))
        self._merge(self.records.feed(line, self.n))

    def _merge(self, versions: Iterator[Version]) -> None:
        for v in versions:
            self.merged += 1
            c = self.counts.setdefault(v.form.name, {"records": 0, "tombstones": 0})
            c["records"] += 1
            c["tombstones"] += int(v.deleted)
            self.merger.add(v, self.merged)

    def close(self) -> None:
        if not self.z.eof or self.pending:
            raise BundleRejected("incomplete", _("The bundle's data ends early; it was refused."))
        self._merge(self.records.finish())


def _merge_payload(session, reader: BundleReader, checked: Checked,
                   progress: Callable[[int, int], None] | None) -> MergeStats:
    import pyrage

    m = checked.manifest
    refuse = frozenset({"complaints"}) if session.agency.type in POLICE_AGENCY_TYPES else frozenset()
    checker = RecordChecker(registry.forms(), m["profile"], refuse)
    merger = Merger(session, m["bundle_id"], checked.peer, m["profile"])
    records = record_checker(checker, session.agency.id, m["counts"])
    try:
        sink = _PayloadSink(checker, records, merger)
        size = reader.members[PAYLOAD].size
        source = _PayloadSource(reader.iter_member(PAYLOAD), size, progress)
        identity = pyrage.x25519.Identity.from_str(load_identity(session.db).age_identity)
        try:
            pyrage.decrypt_io(source, sink, [identity])
        except pyrage.DecryptError:
            if source.error is not None or sink.error is not None:
                raise (source.error or sink.error) from None
            raise BundleRejected("decrypt", _("The bundle could not be decrypted with this installation's key; "
                                              "nothing was imported. Ask the sender to export it again for this "
                                              "coordinator.")) from None
        sink.close()
    finally:
        records.close()
    if source.sha.hexdigest() != m["members"][PAYLOAD]["sha256"]:
        raise mixed()
    stats = merger.finish()
    declared = {k: v for k, v in m["counts"].items() if v["records"]}
    if declared != sink.counts:
        raise BundleRejected("counts", _("The bundle holds other records than its manifest lists; it was refused."))
    return stats


# --- the whole import --------------------------------------------------------------------------------------------


def import_bundle(session, source: Path | bytes, accept_jump: bool = False, file_name: str | None = None,
                  progress: Callable[[int, int], None] | None = None) -> ImportResult:
    """Import one bundle. Returns the result ("imported" or "already"); raises BundleRejected (after auditing the
    refusal) when it is refused."""
    require(session.actor, "sync", "import")
    name = safe_name(file_name or (Path(source).name if not isinstance(source, bytes | bytearray) else "bundle"), 120)
    db = session.db
    context: dict[str, object] = {}
    try:
        with BundleReader(source) as reader:
            checked = check_bundle(session, reader)
            m, peer = checked.manifest, checked.peer
            context.update(bundle=m["bundle_id"], sender=peer.installation_id, sequence=m["sequence"])
            done = db.one("SELECT imported_at FROM sync_incoming WHERE bundle_id = ?", (m["bundle_id"],))
            if done is not None:
                with db.transaction():
                    session.audit("bundle.already_imported", "sync", name, {"bundle": m["bundle_id"],
                                                                           "sender": peer.installation_id})
                return ImportResult(name, "already", _("Already imported on {date}; nothing changed.").format(
                    date=done[0][:10]), m["bundle_id"], peer, m["sequence"], m["profile"],
                    gaps=gaps(db, peer.installation_id))
            notes, jumped = _check_sequence(db, checked, accept_jump)
            with collection_paused(), db.bulk_cache(), db.transaction(savepoints=False):  # all or nothing
                stats = _merge_payload(session, reader, checked, progress)
                cp = m["audit_checkpoint"]
                db.execute(
                    "INSERT INTO sync_incoming(bundle_id, sender, sender_agency, key_id, seq, previous, skipped, "
                    "created_at, profile, records, applied, conflicts, audit_seq, audit_hash, imported_at, imported_by, "
                    "manifest_sha256) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (m["bundle_id"], peer.installation_id, peer.agency_id, peer.key_id, m["sequence"],
                     m["previous_bundle_id"], json.dumps(m["skipped_sequences"]), m["created_at"], m["profile"],
                     stats.received, stats.applied, stats.conflicts, cp["seq"], cp["hash"], clock.now_iso(),
                     session.username, checked.manifest_sha256))
                session.audit("bundle.import", "sync", name, {
                    "bundle": m["bundle_id"], "sender": peer.installation_id, "sequence": m["sequence"],
                    "profile": m["profile"], "records": stats.received, "applied": stats.applied,
                    "conflicts": stats.conflicts, "held": stats.held, "jump_confirmed": jumped})
    except BundleRejected as exc:
        with db.transaction():
            session.audit("bundle.rejected", "sync", name, {"code": exc.code, "reason": exc.message, **context})
        raise
    missing = gaps(db, peer.installation_id)
    message = _("Imported {n} records from {agency} (bundle {seq}): {new} new, {updated} updated, {conflicts} "
                "conflicts to review.").format(n=stats.received, agency=peer.agency_name, seq=m["sequence"],
                                               new=stats.new, updated=stats.updated, conflicts=stats.conflicts)
    if missing:
        notes.append(describe_gaps(missing, peer.agency_name))
    return ImportResult(name, "imported", message, m["bundle_id"], peer, m["sequence"], m["profile"], stats,
                        missing, notes)


def find_bundles(folder: Path) -> list[Path]:
    """Bundles in a folder and its sub-folders (a whole USB stick), in name order."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UsalamaError(_("The folder {folder} does not exist. Plug in the USB stick or choose another folder.")
                           .format(folder=folder))
    found = [p for p in folder.rglob(f"*{BUNDLE_SUFFIX}") if p.is_file() and not p.is_symlink()]
    return sorted(found, key=lambda p: (p.name, str(p)))


def import_many(session, sources: list[Path], accept_jump: bool = False,
                progress: Callable[[int, int], None] | None = None) -> list[ImportResult]:
    """Import several bundles (a folder is searched for bundles); one refused bundle does not stop the others."""
    require(session.actor, "sync", "import")
    paths: list[Path] = []
    for src in sources:
        src = Path(src)
        paths.extend(find_bundles(src) if src.is_dir() else [src])
    sizes = []
    for p in paths:
        try:
            sizes.append(p.stat().st_size)
        except OSError:
            sizes.append(0)
    total = sum(sizes) or 1
    results: list[ImportResult] = []
    base = 0
    for path, size in zip(paths, sizes, strict=True):
        def inner(done: int, _total: int, base=base) -> None:
            if progress is not None:
                progress(base + done, total)

        try:
            results.append(import_bundle(session, path, accept_jump=accept_jump, progress=inner))
        except BundleRejected as exc:
            results.append(ImportResult(safe_name(path.name, 120), "rejected", exc.message, code=exc.code))
        base += size
        if progress is not None:
            progress(base, total)
    return results


def incoming(session, limit: int = 500) -> list[dict]:
    require(session.actor, "sync", "import")
    keys = ("bundle_id", "sender", "agency", "sequence", "created_at", "imported_at", "profile", "records", "applied",
            "conflicts")
    rows = session.db.query(
        "SELECT i.bundle_id, i.sender, coalesce(a.name, i.sender_agency), i.seq, i.created_at, i.imported_at, i.profile, "
        "i.records, i.applied, i.conflicts FROM sync_incoming i LEFT JOIN agencies a ON a.id = i.sender_agency "
        "ORDER BY i.imported_at DESC LIMIT ?", (limit,))
    return [dict(zip(keys, tuple(r), strict=True)) for r in rows]


def rejected(session, limit: int = 200) -> list[dict]:
    """Refused bundles with their reason, from the audit trail (the only thing a refusal writes)."""
    require(session.actor, "sync", "import")
    out = []
    for r in session.db.query("SELECT seq, at, username, target, detail FROM audit WHERE action = 'bundle.rejected' "
                              "ORDER BY seq DESC LIMIT ?", (limit,)):
        detail = json.loads(r[4])
        out.append({"at": r[1], "by": r[2], "file": r[3], "code": detail.get("code", ""),
                    "reason": detail.get("reason", ""), "sender": detail.get("sender", ""),
                    "sequence": detail.get("sequence")})
    return out


__all__ = ["ImportResult", "import_bundle", "import_many", "find_bundles", "gaps", "describe_gaps"]

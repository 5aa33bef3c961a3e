"""Writing a bundle: records changed since the last bundle to that recipient (or all of them), streamed through
gzip and age into the canonical zip, the manifest signed, the file written under a temporary name, flushed, renamed,
then read back and verified before the export counts as done. A large form is read, encoded and compressed on both
cores (a helper process takes windows of rows as it comes free): docs/bundle-format.md, "Export".

A stick pulled out mid-write leaves only a temporary file that is not a bundle; a stick that lies about what it
stored fails the read-back ("write verification failed") and the export is not marked done, so the next one sends
the same records again. Sequence numbers are never reused: a failed one is listed as skipped in the next manifest.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import struct
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__, clock
from ..bulkwork import collection_paused
from ..errors import NotFound, PermissionDenied, UsalamaError
from ..forms import registry
from ..forms.definition import Form
from ..fsutil import fsync_dir, temp_path
from ..i18n import _
from ..permissions import allowed, require, visible_tiers
from ..reference import POLICE_AGENCY_TYPES
from ..store import audit
from ..store.db import Database
from ..store.ids import uuid7
from ..store.schema import get_meta, set_meta
from . import codec, minisign
from .container import MANIFEST, PAYLOAD, SIGNATURE, BundleReader, BundleWriter
from .keys import RELAY_TYPES, Identity, Peer, card_file_stem, find_peer, load_identity, local_card
from .limits import ALGORITHMS, BUNDLE_SUFFIX, FORMAT, FORMAT_VERSION, BundleRejected, PullSource
from .manifest import serialise, trusted_comment
from .pipeline import PIPELINE_MIN_RECORDS, HelperProcess, quiet_helper
from .profiles import OBSERVATORY, PROFILES, REFERRAL, carried, consent_given

BATCH = 2000
HELPER_AHEAD = 2  # windows asked of the export's helper at once
# The helper's page cache. It reads each page of its windows once, so a small cache serves as well as a large one,
# and closing its connection is quicker: every cached page is wiped and unlocked then (cipher_memory_security),
# which took 50-70 ms with the full cache at 100,000 records, while the export waited for the helper to end.
HELPER_CACHE_KIB = 4096
GZIP_LEVEL = 1
try:  # ISA-L's deflate: the same standard stream as zlib's, about four times as fast (a quarter of an export's work)
    from isal import isal_zlib as DEFLATE
except ImportError:  # a platform it has no build for: zlib, slower, same format
    DEFLATE = zlib
HIDDEN_FROM_POLICE_MODULES = frozenset({"complaints"})


@dataclass
class ExportResult:
    path: Path
    bundle_id: str
    sequence: int
    profile: str
    full: bool
    recipient: Peer
    sender_name: str
    sender_fingerprint: str
    created_at: str
    counts: dict[str, dict[str, int]]
    manifest_sha256: str
    size: int
    skipped_sequences: list[int] = field(default_factory=list)

    @property
    def records(self) -> int:
        return sum(c["records"] for c in self.counts.values())

    @property
    def tombstones(self) -> int:
        return sum(c["tombstones"] for c in self.counts.values())


GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # RFC 1952: deflate, no name, no time, OS unknown
GZIP_LAST_BLOCK = b"\x03\x00"  # an empty final block: what a raw deflate stream's Z_FINISH writes when flushed


@dataclass
class Deflated:
    """Some lines compressed on their own: raw deflate ending on a byte boundary (Z_SYNC_FLUSH), so blocks written
    one after another make one deflate stream (as pigz writes them); with their CRC-32 and length, for the trailer."""

    data: bytes
    crc: int
    size: int


def deflate_block(lines: bytes) -> Deflated:
    z = DEFLATE.compressobj(GZIP_LEVEL, DEFLATE.DEFLATED, -15)
    return Deflated(z.compress(lines) + z.flush(DEFLATE.Z_SYNC_FLUSH), DEFLATE.crc32(lines), len(lines))


_POLY = 0xEDB88320  # CRC-32's polynomial, bits reflected


def _multmodp(a: int, b: int) -> int:
    """``a`` times ``b`` modulo the CRC-32 polynomial, in the reflected bit order CRCs use (zlib's multmodp)."""
    m, p = 1 << 31, 0
    while m:
        if a & m:
            p ^= b
            if not a & (m - 1):  # no lower bit of ``a`` left
                break
        m >>= 1
        b = (b >> 1) ^ _POLY if b & 1 else b >> 1
    return p


_X2N = [1 << 30]  # x^(2^k) modulo the polynomial, k = 0..31 (x^1 is bit 30 in reflected order)
for _k in range(31):
    _X2N.append(_multmodp(_X2N[-1], _X2N[-1]))


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """The CRC-32 of A followed by B from the CRC-32s of each and B's length: zlib's crc32_combine, which Python's
    zlib does not offer. Appending len2 bytes multiplies A's CRC by x^(8 * len2) modulo the polynomial; that power
    is made from the table of x^(2^k), one product per set bit of the length (about 40 microseconds in all)."""
    if len2 <= 0:
        return crc1
    power, n, k = 1 << 31, len2, 3  # x^0; the length in bits is len2 * 2^3
    while n:
        if n & 1:
            power = _multmodp(_X2N[k & 31], power)
        n >>= 1
        k += 1
    return _multmodp(power, crc1) ^ crc2


class _GzipSource(PullSource):
    """The payload's plaintext for pyrage to pull (8 KiB at a time): one gzip stream (RFC 1952, one member) of the
    NDJSON lines.

    Lines are compressed a chunk at a time, each chunk on its own (``deflate_block``), on a second thread (zlib lets
    go of the interpreter while it compresses), so the next lines are read and encoded meanwhile; an export's helper
    process sends chunks it compressed itself. The chunks are written in the order given, and the trailer's CRC-32
    is combined from theirs."""

    CHUNK = 1 << 18
    AHEAD = 4  # chunks in flight: bounds the memory held (about 1 MiB of lines)

    def __init__(self, lines: Iterator[bytes | Deflated]):
        self.lines = lines
        self.buf = bytearray(GZIP_HEADER)
        self.crc, self.size = 0, 0
        self.done = False
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="usalama-deflate")
        self.pending: deque[Future[Deflated]] = deque()

    def _fill(self) -> None:
        """Hand the compressor the next chunk of lines (a chunk compressed already goes as it is)."""
        chunk: list[bytes] = []
        size = 0
        for item in self.lines:
            if isinstance(item, Deflated):
                if chunk:
                    self.pending.append(self.pool.submit(deflate_block, b"".join(chunk)))
                done: Future[Deflated] = Future()
                done.set_result(item)
                self.pending.append(done)
                return
            chunk.append(item)
            size += len(item)
            if size >= self.CHUNK:
                break
        else:
            self.done = True
        if chunk:
            self.pending.append(self.pool.submit(deflate_block, b"".join(chunk)))

    def _read(self, n: int) -> bytes:
        while (n is None or n < 0 or len(self.buf) < n) and (self.pending or not self.done):
            while not self.done and len(self.pending) < self.AHEAD:
                self._fill()
            if self.pending:
                block = self.pending.popleft().result()
                self.buf += block.data
                self.crc = crc32_combine(self.crc, block.crc, block.size)
                self.size += block.size
            if self.done and not self.pending:
                self.buf += GZIP_LAST_BLOCK + struct.pack("<II", self.crc, self.size & 0xFFFFFFFF)
        if n is None or n < 0:
            n = len(self.buf)
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def close(self) -> None:
        close = getattr(self.lines, "close", None)
        if close is not None:
            close()
        for f in self.pending:
            f.cancel()
        self.pool.shutdown(wait=True)


def party(peer_or_card: Peer | dict[str, Any]) -> dict[str, str]:
    if isinstance(peer_or_card, Peer):
        p = peer_or_card
        return {"installation_id": p.installation_id, "agency_id": p.agency_id, "agency_name": p.agency_name,
                "agency_type": p.agency_type, "key_id": p.key_id, "fingerprint": p.fingerprint}
    c = peer_or_card
    key_id, _pub = minisign.parse_public_key(c["sign_key"])
    return {"installation_id": c["installation_id"], "agency_id": c["agency_id"], "agency_name": c["agency_name"],
            "agency_type": c["agency_type"], "key_id": key_id.hex(), "fingerprint": c["fingerprint"]}


def default_recipient(session) -> Peer:
    rows = session.db.query("SELECT key_id FROM sync_peers WHERE revoked_at IS NULL AND relay = 1")
    if len(rows) == 1:
        return find_peer(session, rows[0][0])
    if not rows:
        raise UsalamaError(_("No coordinator's card is enrolled yet. Enrol your coordinator's agency card first "
                             "(compare fingerprints), or name the recipient."))
    raise UsalamaError(_("More than one coordinator is enrolled: say which one the bundle is for."))


def is_relay_installation(session) -> bool:
    return session.agency.type in RELAY_TYPES


@dataclass
class _Plan:
    forms: list[tuple[Form, int]]  # form, watermark (records changed after it travel)
    record: tuple[Form, str] | None = None  # referral: the one record


def _plan(session, peer: Peer, profile: str, full: bool, record_id: str | None) -> _Plan:
    actor = session.actor
    police = peer.agency_type in POLICE_AGENCY_TYPES
    if profile == REFERRAL:
        if not record_id:
            raise UsalamaError(_("A referral carries one case: name the record to refer."))
        for form in registry.forms().values():
            row = session.db.one(f'SELECT * FROM "{form.table_spec.name}" WHERE id = ?', (record_id,))
            if row is None:
                continue
            require(actor, form.module, "export")
            if "identifying" not in visible_tiers(actor, form.module):
                raise PermissionDenied(_("Your role may not see this case's names, so it may not refer it."))
            if police and form.module in HIDDEN_FROM_POLICE_MODULES:
                raise PermissionDenied(_("Complaints are never sent to a police station."))
            if row["agency_id"] != session.agency.id:
                raise PermissionDenied(_("Only the agency that holds a case may refer it."))
            if row["deleted"]:
                raise UsalamaError(_("This record was deleted; it cannot be referred."))
            values = form.from_row(dict(zip(row.keys(), tuple(row), strict=True)), {})
            if not consent_given(form, values):
                raise PermissionDenied(_("Consent to refer this case is not recorded on it, so it may not leave this "
                                         "installation. Record the consent first."))
            return _Plan([], (form, record_id))
        raise NotFound(_("That record does not exist on this computer."))
    forms = []
    for form in registry.forms().values():
        if not allowed(actor, form.module, "export"):
            continue
        if police and form.module in HIDDEN_FROM_POLICE_MODULES:
            continue
        mark = 0
        if not full:
            mark = int(session.db.scalar("SELECT change_seq FROM sync_watermarks WHERE recipient = ? AND profile = ? "
                                         "AND form = ?", (peer.installation_id, profile, form.name)) or 0)
        forms.append((form, mark))
    return _Plan(forms)


def _children_for(db, form: Form, rids: list[int]) -> dict[int, dict[str, list[dict[str, Any]]]]:
    spec = form.table_spec
    out: dict[int, dict[str, list[dict[str, Any]]]] = {}
    if not rids or not spec.children:
        return out
    marks = ", ".join("?" * len(rids))
    for child in spec.children:
        names = [c.name for c in child.columns]
        cols = ", ".join(f'"{n}"' for n in ["parent_rid", *names])
        for r in db.query(f'SELECT {cols} FROM "{spec.child_table(child.name)}" WHERE parent_rid IN ({marks}) '
                          "ORDER BY parent_rid, idx", rids):
            out.setdefault(r[0], {}).setdefault(child.name, []).append(dict(zip(names, tuple(r)[1:], strict=True)))
    return out


def _child_rows(db, form: Form, rids: list[int], span: tuple[int, int] | None = None,
                wanted_columns: dict[str, list[str]] | None = None
                ) -> tuple[dict[int, dict[str, list[tuple]]], dict[str, list[str]]]:
    """Repeat-group rows of many records as tuples (column names returned once): every column, or those
    ``wanted_columns`` names per group (a group with none is not read). With ``span``, the rows of every parent in
    that rowid range are read in one range scan and those not asked for are dropped."""
    spec = form.table_spec
    out: dict[int, dict[str, list[tuple]]] = {}
    columns = {child.name: [c.name for c in child.columns] for child in spec.children}
    if wanted_columns is not None:
        columns = {name: wanted_columns.get(name, []) for name in columns}
    if not rids:
        return out, columns
    wanted = set(rids)
    for child in spec.children:
        if not columns[child.name]:
            continue
        cols = ", ".join(f'"{n}"' for n in ["parent_rid", *columns[child.name]])
        if span is not None:
            sql, params = "parent_rid BETWEEN ? AND ?", list(span)
        else:
            sql, params = f"parent_rid IN ({', '.join('?' * len(rids))})", rids
        _names, rows = db.tuples(f'SELECT {cols} FROM "{spec.child_table(child.name)}" WHERE {sql} '
                                 "ORDER BY parent_rid, idx", params)
        for r in rows:
            if r[0] in wanted:
                out.setdefault(r[0], {}).setdefault(child.name, []).append(r[1:])
    return out, columns


class _FormReader:
    """Reads one form's changed records and encodes them as bundle lines, a batch at a time: by rowid window (a walk
    of the table, children by rowid range) or by change sequence (a few records, through its index). Only the
    columns the profile carries are read, and at a relay each record's provenance by a join."""

    def __init__(self, db, form: Form, profile: str, relay: bool, local_agency: str, mark: int, high: int):
        self.db, self.form, self.profile, self.relay = db, form, profile, relay
        needed, self.needed_children = codec.RowEncoder.needs(form, profile)
        self.select = ", ".join(f't."{c}"' for c in dict.fromkeys([*needed, "rid", "change_seq"]))
        self.source, self.joined = f'"{form.table_spec.name}" t', []
        if relay:  # another agency's record travels on with where it came from
            self.select += ", p.origin_installation, p.origin_agency, p.origin_bundle"
            self.source += " LEFT JOIN sync_provenance p ON p.record_id = t.id AND t.agency_id != ?"
            self.joined = [local_agency]
        self.where, self.params = changed_where(mark, high, None if relay else local_agency, "t.")
        self.encode: codec.RowEncoder | None = None

    def window(self, lo: int, hi: int) -> tuple[int, int, bytes]:
        """Records with rowid in (lo, hi]: how many, how many deletions, their lines."""
        columns, rows = self.db.tuples(f"SELECT {self.select} FROM {self.source} WHERE t.rid > ? AND t.rid <= ? AND "
                                       f"{self.where} ORDER BY t.rid", [*self.joined, lo, hi, *self.params])
        return self._lines(columns, rows, True)

    def page(self, after: int) -> tuple[int, int, bytes, int]:
        """The next batch by change sequence after ``after``: as ``window``, and the last change sequence read."""
        columns, rows = self.db.tuples(f"SELECT {self.select} FROM {self.source} WHERE t.change_seq > ? AND "
                                       f"{self.where} ORDER BY t.change_seq LIMIT ?",
                                       [*self.joined, after, *self.params, BATCH])
        records, deleted, lines = self._lines(columns, rows, False)
        return records, deleted, lines, rows[-1][columns.index("change_seq")] if rows else after

    def _lines(self, columns: list[str], rows: list[tuple], by_range: bool) -> tuple[int, int, bytes]:
        if not rows:
            return 0, 0, b""
        rid, deleted = columns.index("rid"), columns.index("deleted")
        live = [r[rid] for r in rows if not r[deleted]]
        children, child_columns = _child_rows(self.db, self.form, live, (rows[0][rid], rows[-1][rid]) if by_range
                                              else None, self.needed_children)
        if self.encode is None:
            self.encode = codec.RowEncoder(self.form, self.profile, columns, child_columns)
        origin = len(columns) - 3 if self.relay else None
        lines = []
        for r in rows:
            prov = None
            if origin is not None and r[origin] is not None:
                prov = {"installation_id": r[origin], "agency_id": r[origin + 1], "bundle_id": r[origin + 2]}
            lines.append(self.encode(r, children.get(r[rid], {}), prov))
        return len(rows), len(rows) - len(live), b"".join(lines)


def changed_where(mark: int, high: int, agency: str | None, alias: str = "") -> tuple[str, list[Any]]:
    """Records changed after ``mark`` up to ``high`` (of ``agency`` only, unless None)."""
    where, params = f"{alias}change_seq > ? AND {alias}change_seq <= ?", [mark, high]
    if agency is not None:
        where += f" AND {alias}agency_id = ?"
        params.append(agency)
    return where, params


def _encode_windows(requests, replies, settings: dict[str, Any]) -> None:
    """The export's helper: reads, encodes and compresses the rowid windows of a large form it is asked for, from its
    own connection, while the exporting process does others, and sends back each window's compressed lines. It holds
    the database key (given through its pipe, never a file, argument or variable) because it reads our own database
    and never a bundle: the import's helper, which parses what came from outside, still holds none."""
    quiet_helper(settings)
    key = settings.pop("key")
    try:
        db = Database(Path(settings["path"]), bytes(key))
    except Exception as exc:  # the environment's fault or ours: only its type travels
        replies.send_bytes(pickle.dumps(("failed", type(exc).__name__)))
        return
    finally:
        key[:] = bytes(len(key))
    try:
        db.execute(f"PRAGMA cache_size = -{HELPER_CACHE_KIB}")  # it reads each page once: see HELPER_CACHE_KIB
        reader = _FormReader(db, registry.declared_forms()[settings["form"]], settings["profile"], settings["relay"],
                             settings["agency"], settings["mark"], settings["high"])
        while True:
            try:
                window = requests.recv()
            except EOFError:
                return
            try:
                records, deleted, lines = reader.window(*window)
                block = deflate_block(lines)
                reply: tuple = ("ok", records, deleted, block.data, block.crc, block.size)
            except Exception as exc:
                reply = ("failed", type(exc).__name__)
            replies.send_bytes(pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL))
            if reply[0] != "ok":
                return
    except OSError:
        return  # the exporter stopped listening (cancelled, or it failed)
    finally:
        db.close(checkpoint=False)


class _WindowHelper(HelperProcess):
    """A helper process that reads, encodes and compresses the windows it is asked for, its replies in that order."""

    def __init__(self, session, form: Form, profile: str, relay: bool, mark: int, high: int):
        key = bytearray(session.db.key)
        try:
            super().__init__(_encode_windows, {"path": str(session.db.path), "key": key, "form": form.name,
                                               "profile": profile, "relay": relay, "agency": session.agency.id,
                                               "mark": mark, "high": high}, "usalama-bundle-export")
        finally:
            key[:] = bytes(len(key))
        self.asked = 0

    def ask(self, lo: int, hi: int) -> None:
        try:
            self.to_helper.send((lo, hi))
        except OSError:
            self._failed("stopped")
        self.asked += 1

    def ready(self) -> bool:
        return not self.replies.empty()

    def receive(self) -> tuple[int, int, Deflated]:
        message = self.replies.get()
        reply = pickle.loads(message) if message else ("failed", "stopped")
        if not message:
            self.replies.put(message)  # the pipe stays closed for any later call
        self.asked -= 1
        if reply[0] != "ok":
            self._failed(reply[1])
        return reply[1], reply[2], Deflated(*reply[3:])

    @staticmethod
    def _failed(problem: str):
        raise UsalamaError(_("The bundle could not be written because a helper program stopped unexpectedly "
                             "({problem}). Nothing was marked as sent. Export again; if it happens again, restart "
                             "Usalama Desktop.").format(problem=problem))


class _Lines:
    """The payload's records, read from the database in batches by change sequence."""

    def __init__(self, session, plan: _Plan, profile: str, high: int, progress: Callable | None):
        self.s = session
        self.plan = plan
        self.profile = profile
        self.high = high
        self.progress = progress
        self.counts: dict[str, dict[str, int]] = {}
        self.relay = is_relay_installation(session)
        self.done = 0
        self.total = self._total()

    def _total(self) -> int:
        if self.plan.record:
            return 1
        self.per_form: dict[str, tuple[int, int]] = {}
        for form, mark in self.plan.forms:
            where, params = changed_where(mark, self.high, None if self.relay else self.s.agency.id)
            name = form.table_spec.name
            n = int(self.s.db.scalar(f'SELECT count(*) FROM "{name}" WHERE {where}', params))
            self.per_form[form.name] = (n, int(self.s.db.scalar(f'SELECT coalesce(max(rid), 0) FROM "{name}"')))
        return sum(n for n, _size in self.per_form.values())

    def __iter__(self) -> Iterator[bytes | Deflated]:
        db = self.s.db
        if self.plan.record:
            form, record_id = self.plan.record
            row = db.one(f'SELECT * FROM "{form.table_spec.name}" WHERE id = ?', (record_id,))
            raw = dict(zip(row.keys(), tuple(row), strict=True))
            values = form.from_row(raw, _children_for(db, form, [raw["rid"]]).get(raw["rid"], {}))
            self.counts[form.name] = {"records": 1, "tombstones": 0}
            yield codec.encode(form, raw, values, self.profile)
            self._tick()
            return
        for form, mark in self.plan.forms:
            yield from self._batches(form, mark)

    def _batches(self, form: Form, mark: int) -> Iterator[bytes | Deflated]:
        """The lines of the form's records, a batch at a time. Many changed records: the table is walked in rowid
        windows, shared with a helper process on the second core when there are enough of them; a few: they are
        found through the change-sequence index."""
        counts = self.counts.setdefault(form.name, {"records": 0, "tombstones": 0})
        wanted, size = self.per_form[form.name]
        if not wanted:
            return
        reader = _FormReader(self.s.db, form, self.profile, self.relay, self.s.agency.id, mark, self.high)
        if wanted * 5 <= size:
            last = mark
            while True:
                records, deleted, lines, last = reader.page(last)
                if not records:
                    return
                yield from self._give(counts, records, deleted, lines)
        windows = deque((lo, min(lo + BATCH, size)) for lo in range(0, size, BATCH))
        helper = None
        if wanted >= PIPELINE_MIN_RECORDS and len(windows) > 2 and form is registry.declared_forms().get(form.name):
            helper = _WindowHelper(self.s, form, self.profile, self.relay, mark, self.high)
        try:
            # Both processes take the next window as they come free, so windows may travel out of rowid order: the
            # order of records in a bundle means nothing to the merge.
            while windows or (helper is not None and helper.asked):
                while helper is not None and helper.asked < HELPER_AHEAD and windows:
                    helper.ask(*windows.popleft())
                    if not windows:
                        helper.end_input()
                if helper is not None and helper.asked and (not windows or helper.ready()):
                    yield from self._give(counts, *helper.receive())
                else:
                    yield from self._give(counts, *reader.window(*windows.popleft()))
            if helper is not None:
                helper.finished = True
        finally:
            if helper is not None:
                helper.close()

    def _give(self, counts: dict[str, int], records: int, deleted: int, lines: bytes | Deflated
              ) -> Iterator[bytes | Deflated]:
        counts["records"] += records
        counts["tombstones"] += deleted
        if lines:
            yield lines
        self._tick(records)

    def _tick(self, n: int = 1) -> None:
        before, self.done = self.done, self.done + n
        if self.progress is not None and n and (self.done // 500 > before // 500 or self.done == self.total):
            self.progress(self.done, self.total)


def bundle_name(sender: str, recipient: str, seq: int) -> str:
    return f"{card_file_stem(sender)}-to-{card_file_stem(recipient)}-{seq:05d}-{clock.today():%Y%m%d}{BUNDLE_SUFFIX}"


def write_bundle(path: Path, ident: Identity, sender: dict[str, str], recipients: list[tuple[dict[str, str], str]],
                 seq: int, previous: str | None, skipped: list[int], profile: str, full: bool,
                 lines: Iterator[bytes | Deflated], counts: dict[str, dict[str, int]], checkpoint: dict[str, Any],
                 bundle_id: str | None = None, created_at: str | None = None) -> tuple[dict[str, Any], bytes, int]:
    """Write one bundle file (not atomically: callers write to a temporary name). ``recipients`` pairs each party
    with its age recipient. ``counts`` is filled while ``lines`` is consumed. Returns the manifest, its bytes and
    the file size. Also used by tests to build bundles with chosen contents."""
    import pyrage

    bundle_id = bundle_id or uuid7()
    with open(path, "xb") as f:
        writer = BundleWriter(f)
        sink = writer.open_member(PAYLOAD)
        source = _GzipSource(iter(lines))
        try:
            pyrage.encrypt_io(source, sink, [pyrage.x25519.Recipient.from_str(age) for _p, age in recipients])
        except pyrage.EncryptError:
            if source.error is not None:
                raise source.error from None
            raise
        finally:
            source.close()
        payload = sink.close()
        manifest = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "algorithms": dict(ALGORITHMS),
            "bundle_id": bundle_id, "created_at": created_at or clock.now_iso(), "sender": sender,
            "recipients": [p for p, _age in recipients], "sequence": seq, "previous_bundle_id": previous,
            "skipped_sequences": sorted(skipped), "profile": profile, "full": full, "counts": counts,
            "total_records": sum(c["records"] for c in counts.values()),
            "members": {PAYLOAD: {"sha256": payload.sha256, "size": payload.size}},
            "audit_checkpoint": checkpoint, "app_version": __version__,
        }
        data = serialise(manifest)
        writer.add(MANIFEST, [data])
        sig = minisign.sign(ident.sign_seed, ident.key_id, data, trusted_comment(manifest),
                            f"signature from Usalama Desktop key {minisign.key_id_text(ident.key_id)}")
        writer.add(SIGNATURE, [sig.encode("utf-8")])
        writer.finish()
        f.flush()
        os.fsync(f.fileno())
        size = f.tell()
    return manifest, data, size


def verify_written(path: Path, manifest_bytes: bytes, ident: Identity, payload_sha256: str) -> None:
    """Read the file back as an importer would (structure, CRCs, signature, payload hash)."""
    import hashlib

    with BundleReader(path) as reader:
        if reader.read_member(MANIFEST) != manifest_bytes:
            raise BundleRejected("verify", "manifest differs")
        sig = minisign.parse_signature(reader.read_member(SIGNATURE))
        if sig.key_id != ident.key_id or not minisign.verify(sig, ident.sign_public,
                                                               minisign.prehash(manifest_bytes).digest()):
            raise BundleRejected("verify", "signature")
        h = hashlib.sha256()
        for chunk in reader.iter_member(PAYLOAD):
            h.update(chunk)
        if h.hexdigest() != payload_sha256:
            raise BundleRejected("verify", "payload")


def _summary(counts: dict[str, dict[str, int]], profile: str) -> dict[str, Any]:
    """Per form: how many records and deletions went, and which fields with personal or sensitive data the profile
    carried (labels only), for the breach report if the stick is lost."""
    out = []
    for name, c in sorted(counts.items()):
        form = registry.forms().get(name)
        if form is None:
            continue
        kept = carried(form, profile)
        sensitive = [f.label.en for f in form.fields if f.tier != "public" and kept.has(f.name)]
        sensitive += [f.label.en for r in form.repeats for f in r.fields
                      if f.tier != "public" and f.name in kept.repeat_fields.get(r.name, ())]
        out.append({"form": name, "title": form.title.en, "records": c["records"], "tombstones": c["tombstones"],
                    "sensitive_fields": sensitive})
    return {"forms": out}


def export_bundle(session, folder: Path, recipient: Peer | None = None, profile: str = OBSERVATORY,
                  full: bool = False, record_id: str | None = None,
                  progress: Callable[[int, int], None] | None = None) -> ExportResult:
    require(session.actor, "sync", "export")
    if profile not in PROFILES:
        raise UsalamaError(_("Unknown profile {name}. Profiles: {names}.").format(name=profile,
                                                                                 names=", ".join(PROFILES)))
    folder = Path(folder)
    if not folder.is_dir():
        raise UsalamaError(_("The folder {folder} does not exist. Plug in the USB stick or choose another folder.")
                           .format(folder=folder))
    peer = recipient or default_recipient(session)
    if peer.revoked:
        raise UsalamaError(_("The card of {agency} was revoked; nothing can be sent to it.").format(
            agency=peer.agency_name))
    plan = _plan(session, peer, profile, full, record_id)
    db = session.db
    ident = load_identity(db)
    me = local_card(session)
    bundle_id = uuid7()
    now = clock.now_iso()
    with db.transaction():
        channel = db.one("SELECT next_seq, last_bundle_id, skipped FROM sync_channels WHERE recipient = ?",
                         (peer.installation_id,))
        if channel is None:
            seq, previous, skipped = 1, None, []
            db.execute("INSERT INTO sync_channels(recipient, next_seq) VALUES (?, 2)", (peer.installation_id,))
        else:
            seq, previous, skipped = int(channel[0]), channel[1], json.loads(channel[2])
            db.execute("UPDATE sync_channels SET next_seq = ? WHERE recipient = ?", (seq + 1, peer.installation_id))
        name = bundle_name(session.agency.name, peer.agency_name, seq)
        if (folder / name).exists():
            name = name.replace(BUNDLE_SUFFIX, f"-{bundle_id[-8:]}{BUNDLE_SUFFIX}")
        db.execute("INSERT INTO sync_outgoing(bundle_id, recipient, seq, profile, full, status, file_name, created_at, "
                   "created_by) VALUES (?,?,?,?,?, 'writing', ?,?,?)",
                   (bundle_id, peer.installation_id, seq, profile, int(full), name, now, session.username))
    high = int(get_meta(db, "change_seq", "0") or 0)
    head = db.one("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
    checkpoint = {"seq": int(head[0]) if head else 0, "hash": head[1] if head else audit.GENESIS, "at": now}
    final = folder / name
    tmp = temp_path(final)
    lines = _Lines(session, plan, profile, high, progress)
    try:
        with collection_paused():  # see bulkwork.py
            manifest, data, size = write_bundle(
                tmp, ident, party(me), [(party(peer), peer.age_recipient)], seq, previous, skipped, profile, full,
                iter(lines), lines.counts, checkpoint, bundle_id=bundle_id, created_at=now)
        os.replace(tmp, final)
        fsync_dir(folder)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        _mark_failed(session, bundle_id, peer, seq)
        if isinstance(exc, OSError):
            raise UsalamaError(_("The bundle could not be written to {folder} ({problem}). Check the USB stick and "
                                 "its free space, then export again.").format(folder=folder,
                                                                              problem=exc.strerror or "error")) from exc
        raise
    try:
        verify_written(final, data, ident, manifest["members"][PAYLOAD]["sha256"])
    except (BundleRejected, OSError) as exc:
        _mark_failed(session, bundle_id, peer, seq)
        with contextlib.suppress(OSError):
            final.unlink()
        raise UsalamaError(_("Write verification failed: the bundle read back from {folder} differs from what was "
                             "written. The USB stick may be faulty; use another one and export again. Nothing was "
                             "marked as sent.").format(folder=folder)) from exc
    import hashlib

    manifest_sha = hashlib.sha256(data).hexdigest()
    with db.transaction():
        db.execute("UPDATE sync_outgoing SET status = 'done', records = ?, tombstones = ?, manifest_sha256 = ?, "
                   "summary = ? WHERE bundle_id = ?",
                   (manifest["total_records"], sum(c["tombstones"] for c in manifest["counts"].values()),
                    manifest_sha, json.dumps(_summary(manifest["counts"], profile)), bundle_id))
        db.execute("UPDATE sync_channels SET last_bundle_id = ?, skipped = '[]' WHERE recipient = ?",
                   (bundle_id, peer.installation_id))
        for form, _mark in plan.forms:
            db.execute("INSERT INTO sync_watermarks(recipient, profile, form, change_seq) VALUES (?,?,?,?) "
                       "ON CONFLICT(recipient, profile, form) DO UPDATE SET change_seq = excluded.change_seq",
                       (peer.installation_id, profile, form.name, high))
        set_meta(db, "audit_checkpoint", json.dumps({"seq": checkpoint["seq"], "hash": checkpoint["hash"]}))
        session.audit("bundle.export", "sync", bundle_id,
                      {"recipient": peer.installation_id, "sequence": seq, "profile": profile, "full": full,
                       "records": manifest["total_records"], "audit_checkpoint": checkpoint["seq"]})
    return ExportResult(final, bundle_id, seq, profile, full, peer, session.agency.name, me["fingerprint"], now,
                        manifest["counts"], manifest_sha, size, sorted(skipped))


def _mark_failed(session, bundle_id: str, peer: Peer, seq: int) -> None:
    db = session.db
    with db.transaction():
        db.execute("UPDATE sync_outgoing SET status = 'failed' WHERE bundle_id = ?", (bundle_id,))
        row = db.one("SELECT skipped FROM sync_channels WHERE recipient = ?", (peer.installation_id,))
        skipped = sorted(set(json.loads(row[0]) if row else []) | {seq})
        db.execute("UPDATE sync_channels SET skipped = ? WHERE recipient = ?", (json.dumps(skipped),
                                                                                 peer.installation_id))
        session.audit("bundle.export_failed", "sync", bundle_id, {"recipient": peer.installation_id, "sequence": seq})


def outgoing(session, limit: int = 200) -> list[dict[str, Any]]:
    require(session.actor, "sync", "export")
    rows = session.db.query(
        "SELECT o.bundle_id, o.seq, o.profile, o.full, o.status, o.file_name, o.records, o.created_at, o.created_by, "
        "coalesce(p.agency_name, o.recipient) FROM sync_outgoing o LEFT JOIN sync_peers p ON p.installation_id = "
        "o.recipient AND p.revoked_at IS NULL ORDER BY o.created_at DESC LIMIT ?", (limit,))
    keys = ("bundle_id", "sequence", "profile", "full", "status", "file_name", "records", "created_at", "created_by",
            "recipient")
    return [dict(zip(keys, tuple(r), strict=True)) for r in rows]


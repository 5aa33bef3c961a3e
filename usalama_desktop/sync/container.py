"""The bundle file: a zip archive with three STORED members in a fixed, canonical layout.

We write every header field to a fixed value (no timestamps, no extra fields, no comment), so the reader can rebuild
each header it expects and compare byte for byte. Any flipped byte therefore lands in a header that no longer matches,
in a member whose CRC-32 no longer matches, or in the signed manifest or payload whose signature or SHA-256 no longer
matches. Standard zip tools still open the file.

The reader never extracts anything: it checks sizes and counts from the end record before reading the directory,
accepts only the three allow-listed names, refuses links, folders, devices, compression, encryption, overlapping or
lying sizes, and reads members as byte ranges of the file with streaming counters (THREATS 29-33).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import struct
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..i18n import _
from .limits import (
    MAX_BUNDLE_BYTES,
    MAX_MANIFEST_BYTES,
    MAX_SIGNATURE_BYTES,
    MAX_ZIP_ENTRIES,
    BundleRejected,
    safe_name,
)

PAYLOAD, MANIFEST, SIGNATURE = "payload.age", "manifest.json", "manifest.json.minisig"
MEMBERS = (PAYLOAD, MANIFEST, SIGNATURE)
MEMBER_LIMITS = {PAYLOAD: MAX_BUNDLE_BYTES, MANIFEST: MAX_MANIFEST_BYTES, SIGNATURE: MAX_SIGNATURE_BYTES}

_LOCAL = struct.Struct("<IHHHHHIIIHH")  # 30 bytes
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")  # 46 bytes
_END = struct.Struct("<IHHHHIIH")  # 22 bytes
LOCAL_SIG, CENTRAL_SIG, END_SIG = 0x04034B50, 0x02014B50, 0x06054B50
VERSION_NEEDED = 20
VERSION_MADE_BY = (3 << 8) | 20  # Unix, zip 2.0
DOS_TIME, DOS_DATE = 0, (0 << 9) | (1 << 5) | 1  # 1980-01-01 00:00
EXTERNAL_ATTR = (0o100644 << 16)
CHUNK = 1 << 16

_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.I)


def _local_header(name: bytes, crc: int, size: int) -> bytes:
    return _LOCAL.pack(LOCAL_SIG, VERSION_NEEDED, 0, 0, DOS_TIME, DOS_DATE, crc, size, size, len(name), 0) + name


def _central_header(name: bytes, crc: int, size: int, offset: int) -> bytes:
    return _CENTRAL.pack(CENTRAL_SIG, VERSION_MADE_BY, VERSION_NEEDED, 0, 0, DOS_TIME, DOS_DATE, crc, size, size,
                         len(name), 0, 0, 0, 0, EXTERNAL_ATTR, offset) + name


def _end_record(count: int, cd_size: int, cd_offset: int) -> bytes:
    return _END.pack(END_SIG, 0, 0, count, count, cd_size, cd_offset, 0)


@dataclass(frozen=True)
class Written:
    size: int
    crc: int
    sha256: str


class MemberSink:
    def __init__(self, writer: BundleWriter, name: str):
        self.writer = writer
        self.name = name
        self.raw = name.encode("ascii")
        self.offset = writer.f.tell()
        writer.f.write(_local_header(self.raw, 0, 0))
        self.crc, self.size, self.sha = 0, 0, hashlib.sha256()

    def write(self, chunk: bytes) -> int:
        chunk = bytes(chunk)
        self.crc = zlib.crc32(chunk, self.crc)
        self.size += len(chunk)
        if self.size > MEMBER_LIMITS[self.name]:
            raise BundleRejected("too_large", _("The bundle would be larger than {limit} MB. Export fewer records "
                                                "at a time (an incremental export).").format(
                limit=MAX_BUNDLE_BYTES // (1024 * 1024)))
        self.sha.update(chunk)
        self.writer.f.write(chunk)
        return len(chunk)

    def flush(self) -> None:
        pass

    def close(self) -> Written:
        f = self.writer.f
        end = f.tell()
        f.seek(self.offset)
        f.write(_local_header(self.raw, self.crc, self.size))
        f.seek(end)
        self.writer.entries.append((self.raw, self.crc, self.size, self.offset))
        return Written(self.size, self.crc, self.sha.hexdigest())


class BundleWriter:
    """Writes the canonical layout to a seekable binary file, one member at a time, streamed."""

    def __init__(self, f: BinaryIO):
        self.f = f
        self.entries: list[tuple[bytes, int, int, int]] = []
        self.names: list[str] = []

    def open_member(self, name: str) -> MemberSink:
        """A sink with ``write()``, for producers that push (the age encryptor); ``close()`` fixes the header."""
        if len(self.names) >= len(MEMBERS) or MEMBERS[len(self.names)] != name:
            raise ValueError("members are written in the canonical order")
        self.names.append(name)
        return MemberSink(self, name)

    def add(self, name: str, chunks: Iterable[bytes]) -> Written:
        sink = self.open_member(name)
        for chunk in chunks:
            sink.write(chunk)
        return sink.close()

    def finish(self) -> None:
        if tuple(self.names) != MEMBERS:
            raise ValueError("a bundle has exactly three members")
        cd_offset = self.f.tell()
        for raw, crc, size, offset in self.entries:
            self.f.write(_central_header(raw, crc, size, offset))
        cd_size = self.f.tell() - cd_offset
        self.f.write(_end_record(len(self.entries), cd_size, cd_offset))


# --- reading ---------------------------------------------------------------------------------------------------


def incomplete() -> BundleRejected:
    return BundleRejected("incomplete", _("The bundle is incomplete (the file ends early or was cut short). Copy it "
                                          "again from the sender's USB stick; nothing was imported."))


def damaged(what: str) -> BundleRejected:
    return BundleRejected("damaged", _("The bundle is damaged ({what}). Copy it again from the sender's USB stick; "
                                       "nothing was imported.").format(what=what))


def not_a_bundle() -> BundleRejected:
    return BundleRejected("not_bundle", _("This file is not a Usalama exchange bundle; nothing was imported."))


def unsafe_name(name: str) -> bool:
    """Names that could escape a folder or mean a device on Windows (we never extract, but say why we refuse)."""
    parts = re.split(r"[\\/]", name)
    return (name.startswith(("/", "\\")) or bool(re.match(r"^[A-Za-z]:", name)) or ".." in parts
            or "\\" in name or any(p != p.rstrip(". ") for p in parts if p)
            or any(_WINDOWS_RESERVED.match(p) for p in parts) or "\x00" in name)


@dataclass(frozen=True)
class Member:
    name: str
    offset: int  # of the data
    size: int
    crc: int


class BundleReader:
    """Checks the container's structure on open; members are then read as byte ranges of the file."""

    def __init__(self, source: Path | bytes | BinaryIO):
        if isinstance(source, bytes | bytearray):
            self.f: BinaryIO = io.BytesIO(bytes(source))
            self.size = len(source)
            self._own = True
        elif isinstance(source, str | os.PathLike):
            try:
                self.f = open(source, "rb")  # noqa: SIM115 - closed by close()
            except OSError:
                raise BundleRejected("unreadable", _("The bundle {name} could not be read from the disk.").format(
                    name=safe_name(Path(source).name))) from None
            self.size = os.fstat(self.f.fileno()).st_size
            self._own = True
        else:
            self.f = source
            self.f.seek(0, os.SEEK_END)
            self.size = self.f.tell()
            self._own = False
        try:
            self.members = self._check()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._own:
            self.f.close()

    def __enter__(self) -> BundleReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _read_at(self, offset: int, size: int) -> bytes:
        self.f.seek(offset)
        data = self.f.read(size)
        if len(data) != size:
            raise incomplete()
        return data

    def _check(self) -> dict[str, Member]:
        if self.size > MAX_BUNDLE_BYTES + 64 * 1024:
            raise BundleRejected("too_large", _("The bundle is too large ({size} MB; the limit is {limit} MB). It was "
                                                "refused unread.").format(size=self.size // (1024 * 1024),
                                                                          limit=MAX_BUNDLE_BYTES // (1024 * 1024)))
        head = self._read_at(0, min(4, self.size))
        if head != b"PK\x03\x04":
            # A file cut short before its first four bytes is still a bundle that ends early.
            raise incomplete() if b"PK\x03\x04".startswith(head) else not_a_bundle()
        if self.size < _END.size:
            raise incomplete()
        end = self._read_at(self.size - _END.size, _END.size)
        sig, disk, cd_disk, on_disk, total, cd_size, cd_offset, comment_len = _END.unpack(end)
        if sig != END_SIG:
            raise incomplete()
        if total > MAX_ZIP_ENTRIES or on_disk > MAX_ZIP_ENTRIES:
            raise BundleRejected("members", _("The bundle has {n} members; a bundle has exactly three. It was refused "
                                              "unread.").format(n=total))
        if disk or cd_disk or on_disk != total or comment_len:
            raise damaged(_("archive end record"))
        if cd_offset + cd_size != self.size - _END.size:
            raise incomplete() if cd_offset + cd_size > self.size - _END.size else damaged(_("archive directory"))
        if cd_size > total * (_CENTRAL.size + 300):
            raise damaged(_("archive directory"))
        directory = self._read_at(cd_offset, cd_size)
        entries, pos = [], 0
        for _i in range(total):
            if pos + _CENTRAL.size > len(directory):
                raise damaged(_("archive directory"))
            fields = _CENTRAL.unpack_from(directory, pos)
            (sig, made_by, _needed, flags, method, _t, _d, crc, csize, usize, name_len, extra_len, comment_len,
             _disk, _internal, external, offset) = fields
            if sig != CENTRAL_SIG:
                raise damaged(_("archive directory"))
            start = pos + _CENTRAL.size
            raw_name = directory[start:start + name_len]
            pos = start + name_len + extra_len + comment_len
            if pos > len(directory):
                raise damaged(_("archive directory"))
            entries.append((raw_name, made_by, flags, method, crc, csize, usize, external, offset, extra_len,
                            comment_len, directory[pos - (name_len + extra_len + comment_len) - _CENTRAL.size:pos]))
        if pos != len(directory):
            raise damaged(_("archive directory"))
        seen: set[str] = set()
        for raw_name, made_by, flags, method, _crc, csize, usize, external, _offset, *_rest in entries:
            name = raw_name.decode("ascii", "replace")
            shown = safe_name(raw_name.decode("utf-8", "replace"))
            if name not in MEMBERS:
                if unsafe_name(raw_name.decode("utf-8", "replace")):
                    raise BundleRejected("member_name", _("The bundle contains a member with an unsafe name ({name}); "
                                                          "it was refused and nothing was written.").format(name=shown))
                raise BundleRejected("member_name", _("The bundle contains a member it should not ({name}); it was "
                                                      "refused.").format(name=shown))
            if name in seen:
                raise BundleRejected("duplicate", _("The bundle contains {name} twice; it was refused.").format(
                    name=shown))
            seen.add(name)
            mode = external >> 16
            host = made_by >> 8
            is_dir = bool(external & 0x10) or name.endswith("/")
            if is_dir or (host == 3 and (mode & 0o170000) not in (0, 0o100000)):
                raise BundleRejected("member_type", _("The bundle contains a link, folder or device instead of a file "
                                                      "({name}); it was refused.").format(name=shown))
            if method != 0 or flags & 0x0001:
                raise BundleRejected("compressed", _("The bundle contains a compressed or encrypted member ({name}). "
                                                     "Bundles are never made that way, so it was refused unread.")
                                     .format(name=shown))
            if csize != usize or usize > MEMBER_LIMITS[name]:
                raise BundleRejected("member_size", _("The member {name} of the bundle is larger than allowed; it was "
                                                      "refused unread.").format(name=shown))
        if seen != set(MEMBERS):
            missing = ", ".join(m for m in MEMBERS if m not in seen)
            raise BundleRejected("members", _("The bundle lacks {names}; it was refused.").format(names=missing))
        # Exactly the canonical layout: members in order, back to back, every header field as we write it.
        members: dict[str, Member] = {}
        expected_offset = 0
        for i, (raw_name, _made_by, _flags, _method, crc, csize, _usize, _external, offset, *_rest,
                central) in enumerate(entries):
            name = raw_name.decode("ascii")
            if name != MEMBERS[i] or offset != expected_offset:
                raise damaged(_("member order"))
            if central != _central_header(raw_name, crc, csize, offset):
                raise damaged(_("archive directory"))
            local = self._read_at(offset, _LOCAL.size + len(raw_name))
            if local != _local_header(raw_name, crc, csize):
                raise damaged(_("member header of {name}").format(name=name))
            data_offset = offset + _LOCAL.size + len(raw_name)
            members[name] = Member(name, data_offset, csize, crc)
            expected_offset = data_offset + csize
        if expected_offset != cd_offset:
            raise damaged(_("archive layout"))
        return members

    def iter_member(self, name: str, chunk: int = CHUNK) -> Iterator[bytes]:
        """The member's bytes in chunks, CRC-32 checked at the end (a damaged copy raises before the last chunk
        is handed over)."""
        m = self.members[name]
        crc, left, pos = 0, m.size, m.offset
        while left:
            n = min(chunk, left)
            self.f.seek(pos)
            data = self.f.read(n)
            if len(data) != n:
                raise incomplete()
            pos += n
            left -= n
            crc = zlib.crc32(data, crc)
            if not left and crc != m.crc:
                raise damaged(_("checksum of {name}").format(name=name))
            yield data

    def read_member(self, name: str) -> bytes:
        return b"".join(self.iter_member(name))

    def head(self, name: str, size: int) -> bytes:
        m = self.members[name]
        return self._read_at(m.offset, min(size, m.size))

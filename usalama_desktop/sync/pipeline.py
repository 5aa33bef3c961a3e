"""Checking a bundle's records on the second core while this one merges them.

Decoding and checking a record (strict JSON, its spine, every field against its form) and preparing its table row
cost about as much as SQLite's writing of it. For a large bundle the importer hands batches of plaintext lines to a
helper process that does the first part and sends the checked versions back, while this process merges and writes
the batches already returned, so the two overlap on two cores. Two threads here send the batches and take the
replies off the pipe, so neither process waits for the other to be free. Small bundles are checked inline: starting
the helper costs more than it saves.

What the helper is given: the bundle's profile, the forms this installation refuses, its agency id, today's date,
the clock and the language. Never a key, never the database. Lines travel through an anonymous pipe in memory, never
a file, and the helper logs nothing; a fault of ours in it sends back only the exception's type. It checks in the
same order as the inline path, and versions before a bad record reach the merge before the refusal does, so a bad
record is refused with the same words either way (an origin error at record 3 is still reported before a bad field at
record 7). Only a bundle broken in two ways at once may be refused for the other fault, since the helper reads a
few batches ahead. The helper ends when the import ends, however it ends: its pipes close and it is stopped.
(On Linux and macOS the first helper also starts multiprocessing's small resource tracker, which stays until the
program ends.)
"""

from __future__ import annotations

import gc
import marshal
import multiprocessing
import os
import pickle
import queue
import sys
import threading
from collections import deque
from collections.abc import Iterator
from typing import Any

from .. import clock, i18n
from ..errors import UsalamaError
from ..forms import registry
from ..i18n import _
from .codec import RecordChecker, Version
from .limits import BundleRejected
from .merge import new_row
from .profiles import carried

PIPELINE_MIN_RECORDS = 5000  # below this a bundle is checked inline (the helper takes ~0.3 s to start)
LINES_PER_BATCH = 500
IN_FLIGHT = 3  # batches sent and not yet returned: enough to keep both cores busy, little memory held
STOP_SECONDS = 5.0


class HelperFailed(UsalamaError):
    """The helper process stopped or failed: nothing was imported (the caller's transaction rolls back)."""


def _message() -> str:
    return _("The bundle could not be checked because a helper program stopped unexpectedly. Nothing was "
             "imported. Try again; if it happens again, restart Usalama Desktop.")


class InlineChecker:
    """Decodes each line as it comes, on this thread."""

    def __init__(self, checker: RecordChecker):
        self.checker = checker

    def feed(self, line: bytes, n: int) -> Iterator[Version]:
        yield self.checker.decode(line, n)

    def finish(self) -> Iterator[Version]:
        return iter(())

    def close(self) -> None:
        pass


def _pack(v: Version, local_agency: str) -> tuple:
    """A checked version as it travels back: its values packed apart (``Version.packed_values``)."""
    return v.form.name, v.spine, marshal.dumps(v.values), v.provenance, new_row(v, local_agency)


def _next(conn) -> bytes:
    """The next message on ``conn``, or b"" once it is closed."""
    try:
        return conn.recv_bytes()
    except (EOFError, OSError):
        return b""


def pipe_inbox(conn, name: str) -> tuple[queue.SimpleQueue[bytes], threading.Thread]:
    """Messages taken off ``conn`` as they come, by a thread of their own (b"" once the pipe closes), so the other
    side never waits for this one to be free. Two processes each blocked sending to the other (a message larger than
    a pipe holds each way) would otherwise never read again."""
    inbox: queue.SimpleQueue[bytes] = queue.SimpleQueue()

    def read() -> None:
        while message := _next(conn):
            inbox.put(message)
        inbox.put(b"")

    thread = threading.Thread(target=read, daemon=True, name=name)
    thread.start()
    return inbox, thread


class HelperProcess:
    """A helper started fresh ("spawn") as ``target(from_parent, to_parent, settings)``, with a pipe each way; the
    settings carry this process's language and clock. Its replies are taken off the pipe as they come, by a thread
    (``pipe_inbox``), into ``replies``. ``close`` ends it however the work ended."""

    def __init__(self, target, settings: dict[str, Any], name: str):
        settings = {**settings, "language": i18n.current_language(), "clock_offset_ms": clock.offset_ms()}
        ctx = multiprocessing.get_context("spawn")
        helper_in, self.to_helper = ctx.Pipe(duplex=False)
        self.from_helper, helper_out = ctx.Pipe(duplex=False)
        self.process = ctx.Process(target=target, args=(helper_in, helper_out, settings), daemon=True, name=name)
        try:
            self.process.start()
        finally:
            helper_in.close()
            helper_out.close()
        self.finished = False  # set when the work is done: the helper then ends by itself
        self.replies, self.reader = pipe_inbox(self.from_helper, f"{name}-replies")

    def end_input(self) -> None:
        """Nothing more will be asked: the helper does what it was given, then ends by itself (its pipe in closes),
        so it tidies up and exits while this process finishes its own part rather than after."""
        self.to_helper.close()

    def close(self) -> None:
        """After the whole work the helper ends by itself once its pipe closes; after a refusal, a cancel or a
        failure it is stopped at once (what it was still doing is of no use). Its end of the reply pipe closes with
        it, which ends a thread reading that pipe."""
        try:
            self.to_helper.close()
        finally:
            if self.finished:
                self.process.join(STOP_SECONDS)
            if self.process.is_alive():
                self.process.kill()
            self.process.join()
            self.reader.join(STOP_SECONDS)
            self.from_helper.close()


def quiet_helper(settings: dict[str, Any]) -> None:
    """What a helper process does first: nothing it meets may print, and it keeps the clock and language given. Its
    cyclic garbage collection stays off: it only decodes and encodes records, which make no cycles, and it ends with
    the work (see bulkwork.py)."""
    gc.disable()
    sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 (no traceback may print a record's values)
    clock.reset()
    clock.shift(settings["clock_offset_ms"])
    i18n.set_language(settings["language"])


def _work(inbox_conn, replies, settings: dict[str, Any]) -> None:
    """The helper: checks each batch of lines it receives and sends back the versions (or the first refusal). It
    reads and writes its pipes directly, on its one thread: the importer has a thread at each end that waits for it
    (a thread here would wait for this one's interpreter lock for each 64 KiB of a batch, holding up the sender)."""
    quiet_helper(settings)
    forms = {name: f for name, f in registry.declared_forms().items() if name in settings["forms"]}
    checker = RecordChecker(forms, settings["profile"], frozenset(settings["refuse_modules"]))
    checker.today, checker.now_ms = settings["today"], settings["now_ms"]
    local = settings["local_agency"]
    while True:
        message = _next(inbox_conn)
        if not message:
            return
        first, blob = pickle.loads(message)
        out: list[tuple] = []
        try:
            for i, line in enumerate(blob.split(b"\n")):
                out.append(_pack(checker.decode(line, first + i), local))
        except BundleRejected as exc:
            reply: tuple = ("refused", out, exc.code, str(exc))
        except Exception as exc:  # a fault of ours: only its type travels, never a value from the bundle
            reply = ("failed", out, type(exc).__name__)
        else:
            reply = ("ok", out)
        try:
            replies.send_bytes(pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:
            return
        if reply[0] != "ok":
            # Keep taking batches (and dropping them) until the pipe closes: were the helper to end now, the
            # importer could not send its next batch before it has read this refusal, and the user would be told
            # the helper stopped instead of what is wrong with the bundle.
            while _next(inbox_conn):
                pass
            return


class HelperChecker(HelperProcess):
    """Sends lines to the helper in batches and gives back checked versions, in bundle order."""

    def __init__(self, checker: RecordChecker, local_agency: str):
        self.profile = checker.profile
        self.forms = checker.forms
        super().__init__(_work, {"profile": checker.profile, "refuse_modules": sorted(checker.refuse_modules),
                                 "forms": sorted(set(checker.forms) & set(registry.declared_forms())),
                                 "today": checker.today, "now_ms": checker.now_ms, "local_agency": local_agency},
                         "usalama-bundle-check")
        self.lines: list[bytes] = []
        self.first = 1
        self.in_flight: deque[int] = deque()
        self.broken = False  # a batch could not be sent: the import cannot finish
        # Batches go out through a thread of their own while this one merges (replies come in through another:
        # HelperProcess), so neither process waits for the other to be free (see _work).
        self.outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self.sender = threading.Thread(target=self._sending, daemon=True, name="usalama-bundle-sender")
        self.sender.start()

    def feed(self, line: bytes, n: int) -> Iterator[Version]:
        if not self.lines:
            self.first = n
        self.lines.append(line)
        if len(self.lines) >= LINES_PER_BATCH:
            self._send()
            while len(self.in_flight) >= IN_FLIGHT or (self.broken and self.in_flight):
                yield from self._receive()
            if self.broken:
                raise HelperFailed(_message())

    def finish(self) -> Iterator[Version]:
        if self.lines:
            self._send()
        while self.in_flight:
            yield from self._receive()
        if self.broken:
            raise HelperFailed(_message())
        self.finished = True

    def _send(self) -> None:
        lines, self.lines = self.lines, []
        if self.broken:
            return
        self.outbox.put(pickle.dumps((self.first, b"\n".join(lines)), protocol=pickle.HIGHEST_PROTOCOL))
        self.in_flight.append(self.first)

    def _sending(self) -> None:
        """The sender thread. If the helper cannot take a batch it has ended: the replies it sent before are still
        read (one may be the refusal that ended it, which is what the user must be told), then its closed pipe."""
        while (blob := self.outbox.get()) is not None:
            try:
                self.to_helper.send_bytes(blob)
            except OSError:
                self.broken = True
                return

    def close(self) -> None:
        """Stop the sender first: after a refusal, a cancel or a failure the helper is stopped, so a batch the
        sender is still writing fails at once rather than wait for a reader."""
        self.outbox.put(None)
        if not self.finished and self.process.is_alive():
            self.process.kill()
        self.sender.join(STOP_SECONDS)
        super().close()

    def _receive(self) -> Iterator[Version]:
        self.in_flight.popleft()
        message = self.replies.get()
        if not message:  # the pipe closed: the helper ended
            raise HelperFailed(_message())
        reply = pickle.loads(message)
        for name, spine, values, provenance, change in reply[1]:
            form = self.forms[name]
            yield Version(form, spine, values, carried(form, self.profile), self.profile, provenance, change)
        if reply[0] == "refused":
            raise BundleRejected(reply[2], reply[3])
        if reply[0] == "failed":
            raise HelperFailed(_message() + f" ({reply[2]})")


def record_checker(checker: RecordChecker, local_agency: str, counts: dict[str, dict[str, int]]
                   ) -> InlineChecker | HelperChecker:
    """The helper for a large bundle, else the inline path. ``counts`` is the signed manifest's per-form count; the
    helper knows the forms FORM_MODULES declare, so a bundle naming any other form (a test's) is checked inline."""
    declared = registry.declared_forms()
    if (sum(c["records"] for c in counts.values()) >= PIPELINE_MIN_RECORDS
            and all(checker.forms.get(name) is declared.get(name, checker) for name in counts)):
        return HelperChecker(checker, local_agency)
    return InlineChecker(checker)


def round_trip() -> None:
    """Start a helper, have it check one record (a tombstone) and stop it. The self-check runs this, so a frozen
    build that cannot start its helpers fails its build test rather than a coordinator's import."""
    from ..store.ids import uuid7
    from .codec import encode
    from .profiles import OBSERVATORY

    form = registry.declared_forms()["incident"]
    inst, agency, at = uuid7(), uuid7(), clock.now_iso()
    spine = {"id": uuid7(), "agency_id": agency, "installation_id": inst, "hlc": f"{clock.now_ms():015d}-00000-{inst}",
             "vclock": {inst: 1}, "revision": 1, "created_by": "self-check", "created_at": at,
             "updated_by": "self-check", "updated_at": at, "deleted": True, "deleted_reason": "self-check"}
    helper = HelperChecker(RecordChecker({form.name: form}, OBSERVATORY), agency)
    try:
        versions = [*helper.feed(encode(form, spine, {}, OBSERVATORY).rstrip(b"\n"), 1), *helper.finish()]
    finally:
        helper.close()
    if [v.id for v in versions] != [spine["id"]] or versions[0].prepared is None:
        raise RuntimeError("the bundle-checking helper process gave a wrong answer")

"""The pilot communities' mobile platform: its CSV export of text messages into police ratings and complaints.

The sender's phone number never reaches the database, a log or a report: on import it becomes a keyed hash
(HMAC-SHA256 with a secret made once per installation and kept in the encrypted database), which still lets the
forum see that several messages came from one phone. Numbers written inside a message's text are masked too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ImportRejected, PermissionDenied
from ..forms.definition import Form, Problems
from ..forms.registry import get_form, ref
from ..i18n import _
from ..permissions import allowed
from ..services.installation import Session
from ..services.records import Checked, RecordService
from ..store.db import Database
from ..store.schema import get_meta, set_meta
from .importer import CellReader, Source, field_message
from .layout import assemble
from .mapping import ColumnRule, Mapping, fold, load_saved, resolve, save
from .tabular import all_blank, cell_text, is_blank, read_book

PHONE_KEY_META = "sms_phone_hmac_key"
_DIGITS = re.compile(r"\D+")
# A phone number written inside a message: +254 7xx xxx xxx, 07xx xxx xxx, 01xx-xxx-xxx and the like.
_PHONE_IN_TEXT = re.compile(r"(?<!\d)(?:\+?254[\s-]?|0)[17]\d{2}[\s-]?\d{3}[\s-]?\d{3}(?!\d)")
PHONE_MASK = "[phone]"


def phone_key(db: Database) -> bytes:
    """This installation's secret for phone hashes, made on first use. A hash from another installation will not
    match: that is intended, so a leaked export cannot be joined across forums."""
    existing = get_meta(db, PHONE_KEY_META)
    if existing:
        return bytes.fromhex(existing)
    key = os.urandom(32)
    with db.transaction():
        existing = get_meta(db, PHONE_KEY_META)
        if existing:
            return bytes.fromhex(existing)
        set_meta(db, PHONE_KEY_META, key.hex())
    return key


def normalise_phone(raw: object) -> str | None:
    """A phone number in one shape (+2547XXXXXXXX for Kenyan numbers), or None when it is not one."""
    if raw is None:
        return None
    text = str(raw).strip()
    if text.lower().startswith("tel:"):
        text = text[4:]
    if isinstance(raw, float) and raw.is_integer():
        text = str(int(raw))
    plus = text.startswith("+")
    digits = _DIGITS.sub("", text)
    if len(digits) == 9 and digits[0] in "17":
        return "+254" + digits
    if len(digits) == 10 and digits[0] == "0" and digits[1] in "17":
        return "+254" + digits[1:]
    if len(digits) == 12 and digits.startswith("254"):
        return "+" + digits
    if plus and 8 <= len(digits) <= 15:
        return "+" + digits
    return None


def hash_phone(raw: object, key: bytes) -> str | None:
    """The keyed hash of a phone number (64 hex characters), or None when ``raw`` is not a phone number."""
    phone = normalise_phone(raw)
    if phone is None:
        return None
    return hmac.new(key, phone.encode("ascii"), hashlib.sha256).hexdigest()


def mask_phones(text: str | None) -> str | None:
    """Message text with any phone number in it replaced, so the number is not kept by way of the message."""
    if not text:
        return text
    return _PHONE_IN_TEXT.sub(PHONE_MASK, text)


# --- the import ---------------------------------------------------------------------------------------------------

RATINGS_FORM, COMPLAINTS_FORM = "police_rating", "police_complaint"
RATINGS_MAPPING, COMPLAINTS_MAPPING = "sms-ratings", "sms-complaints"
KEY_PREFIX = "sms:"


@dataclass(frozen=True)
class SmsColumns:
    """The platform's own columns, which no mapping reads: the message id, the sender and the keyword that says
    whether a message is a rating or a complaint."""

    message_id: str = "Message ID"
    sender: str = "Sender"
    keyword: str = "Keyword"
    rating_words: tuple[str, ...] = ("rate", "rating", "tathmini", "huduma")
    complaint_words: tuple[str, ...] = ("complaint", "complain", "malalamiko", "lalamiko")

    def kind_of(self, keyword: object) -> str | None:
        word = fold(cell_text(keyword)).split(" ")[0] if not is_blank(keyword) else ""
        if word in self.rating_words:
            return RATINGS_FORM
        if word in self.complaint_words:
            return COMPLAINTS_FORM
        return None


def default_mappings() -> dict[str, Mapping]:
    """How the pilot platform's export maps onto the two forms; saved under these names on the first import, after
    which the saved copies (which an administrator may edit in the import window) are used."""
    yes_no = {"y": "yes", "n": "no", "ndiyo": "yes", "ndio": "yes", "hapana": "no", "?": "unknown"}
    services = {"report": "report_crime", "ob": "ob_abstract", "abstract": "ob_abstract", "p3": "p3", "bail": "bail",
                "bond": "bail", "visit": "visit", "call": "call", "other": "other"}
    kinds = {"bribe": "bribery", "hongo": "bribery", "force": "force", "beat": "force", "arrest": "unlawful_arrest",
             "refused ob": "refused_report", "no ob": "refused_report", "rude": "rudeness", "matusi": "rudeness",
             "delay": "neglect", "property": "property", "threat": "threats", "harass": "sexual_harassment",
             "other": "other"}
    rate, complain = RATINGS_FORM, COMPLAINTS_FORM
    rating_columns = [
        ColumnRule("Received", ref(rate, "visit_date")),
        ColumnRule("Station", ref(rate, "station")),
        ColumnRule("Service", ref(rate, "service"), values=services),
        ColumnRule("Wait (min)", ref(rate, "waiting_minutes")),
        *(ColumnRule(header, ref(rate, name)) for header, name in (
            ("Timeliness", "timeliness"), ("Respect", "respect"), ("Fairness", "fairness"),
            ("Kept informed", "kept_informed"), ("Overall", "overall"), ("Conduct", "conduct"))),
        ColumnRule("Bribe", ref(rate, "asked_bribe"), values=yes_no),
        ColumnRule("Message", ref(rate, "comment")),
    ]
    complaint_columns = [
        ColumnRule("Received", ref(complain, "received_on")),
        ColumnRule("Station", ref(complain, "station")),
        ColumnRule("Category", ref(complain, "complaint_type"), values=kinds, default="other"),
        ColumnRule("Message", ref(complain, "what_happened")),
    ]
    ratings = Mapping(rate, rating_columns, {ref(rate, "channel"): "sms"}, name=RATINGS_MAPPING,
                      description="Pilot mobile platform, rating messages")
    complaints = Mapping(complain, complaint_columns,
                         {ref(complain, "channel"): "sms", ref(complain, "status"): "received"},
                         name=COMPLAINTS_MAPPING, description="Pilot mobile platform, complaint messages")
    return {RATINGS_FORM: ratings, COMPLAINTS_FORM: complaints}


@dataclass
class RowOutcome:
    row: int  # the row number as a spreadsheet shows it (the header is row 1)
    form: str | None
    status: str  # imported, already imported, rejected, not kept here, not a rating or complaint
    record_id: str | None = None
    problems: list[str] = field(default_factory=list)


IMPORTED, ALREADY, REJECTED, NOT_HERE, UNKNOWN_KIND = (
    "imported", "already imported", "rejected", "not kept here", "not a rating or complaint")


@dataclass
class SmsImportReport:
    file: str
    rows: list[RowOutcome]
    dry_run: bool
    notes: list[str] = field(default_factory=list)

    def count(self, status: str, form: str | None = None) -> int:
        return sum(r.status == status and (form is None or r.form == form) for r in self.rows)

    def summary(self) -> str:
        return _("{ratings} ratings and {complaints} complaints imported; {already} already imported; {rejected} "
                 "rejected; {other} not imported (not a rating or complaint, or not kept at this agency).").format(
            ratings=self.count(IMPORTED, RATINGS_FORM), complaints=self.count(IMPORTED, COMPLAINTS_FORM),
            already=self.count(ALREADY), rejected=self.count(REJECTED),
            other=self.count(UNKNOWN_KIND) + self.count(NOT_HERE))


def mapping_for(session: Session, form_name: str, spec: str | None = None) -> tuple[Mapping, bool]:
    """The mapping named ``spec`` (a file or a saved name), else the saved default; and whether it is the default
    not saved yet (the import saves it with its first records)."""
    unsaved = False
    if spec:
        found = resolve(session, spec)
    else:
        default = default_mappings()[form_name]
        found = load_saved(session, default.name)
        if found is None:
            found, unsaved = default, True
    if found.form != form_name:
        raise ImportRejected(_("The mapping {name} is for {form}, not for {wanted}.").format(
            name=found.name or spec, form=found.form, wanted=form_name))
    return found, unsaved


def _header_positions(header: list[Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for i, cell in enumerate(header):
        out.setdefault(fold(cell_text(cell)), i)
    return out


def refusals(form: Form, problems: Problems, parsing: bool) -> list[str]:
    """Why a row was refused, field by field, never repeating a cell's value: a value that could not be read says
    what was expected instead (the generic import's wording); the form's rules speak for themselves."""
    out = []
    for where, messages in problems.errors.items():
        name = re.sub(r"\[\d+\]", "", where)
        try:
            f = form.field(name)
        except KeyError:
            f = None
        label = form.label_of(name.split(".")[0])
        if parsing and f is not None:
            out.append(f"{label}: {field_message(f)}")
        else:
            out.extend(f"{label}: {m}" for m in messages)
    return out


def _content_hash(values: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode("utf-8")).hexdigest()


class Pending:
    """Rows of one form that read cleanly, waiting for the form's rules (checked together, uniqueness looked up in
    batches) and then for one bulk write with their import keys. The Kobo import uses it too."""

    def __init__(self, service: RecordService, agency: str):
        self.service, self.agency = service, agency
        self.rows: list[tuple[Any, dict[str, Any], str, str]] = []  # (outcome, values, import key, content hash)
        self.checked: list[tuple[Any, Checked, str, str]] = []

    def add(self, outcome: Any, values: dict[str, Any], import_key: str, content_hash: str) -> None:
        self.rows.append((outcome, values, import_key, content_hash))

    def check(self) -> None:
        """Each row's outcome: imported (when written) or rejected with the form's reasons."""
        prepared = self.service.prepare_many([values for _o, values, _k, _h in self.rows], self.agency)
        for (outcome, _values, key, digest), (cleaned, problems) in zip(self.rows, prepared, strict=True):
            if problems.ok:
                outcome.status = IMPORTED
                self.checked.append((outcome, self.service.seal(cleaned, problems, self.agency), key, digest))
            else:
                outcome.status = REJECTED
                outcome.problems = refusals(self.service.form, problems, parsing=False)

    def write(self, session: Session, action: str, target: str, file_rows: int) -> None:
        """Inside the caller's transaction: the records, their import keys and one audit entry (counts only)."""
        if not self.checked:
            return
        ids = self.service.create_many([checked for _o, checked, _k, _h in self.checked])
        form = self.service.form.name
        session.db.executemany(
            "INSERT INTO import_keys(form, agency_id, key, record_id, content_hash) VALUES (?,?,?,?,?)",
            [(form, self.agency, k, rid, h) for (_o, _c, k, h), rid in zip(self.checked, ids, strict=True)])
        for (outcome, _c, _k, _h), rid in zip(self.checked, ids, strict=True):
            outcome.record_id = rid
        session.audit(action, self.service.form.module, target, {"file_rows": file_rows, "imported": len(ids)})


def data_rows(rows: list[list[Any]], progress: Callable[[int, int], None] | None) -> Iterator[tuple[int, list[Any]]]:
    """(row number as the spreadsheet shows it, cells) of each data row that is not blank, with progress."""
    data = rows[1:]
    for i, row in enumerate(data):
        if progress:
            progress(i, len(data))
        if not all_blank(row):
            yield i + 2, row
    if progress:
        progress(len(data), len(data))


def known_key(session: Session, form: str, agency: str, import_key: str) -> bool:
    return session.db.scalar("SELECT 1 FROM import_keys WHERE form = ? AND agency_id = ? AND key = ?",
                             (form, agency, import_key)) is not None


class _Target:
    """One form the messages go into: its service (None when this user may not import it here) and mapping."""

    def __init__(self, session: Session, form_name: str, spec: str | None, positions: dict[str, int]):
        self.form = get_form(form_name)
        self.service: RecordService | None = None
        self.mapping: Mapping | None = None
        self.pending: Pending | None = None
        if not allowed(session.actor, self.form.module, "import"):
            return
        self.service = RecordService(session, self.form)
        self.pending = Pending(self.service, session.user.agency_id)
        self.mapping, self.unsaved = mapping_for(session, form_name, spec)
        self.reader = CellReader()
        self.sources: list[Source] = []
        for rule in self.mapping.columns:
            position = positions.get(fold(rule.source))
            if position is None:
                raise ImportRejected(_("The file has no column {column}, which the mapping {name} reads. Check that "
                                       "this is the platform's export, or change the mapping.").format(
                    column=rule.source, name=self.mapping.name))
            self.sources.append(Source(position, rule.target, rule, rule.source))

    def flat(self, cells: list[Any]) -> dict[str, Any]:
        """The mapped cells of one row (value maps applied, blanks left out) and the mapping's fixed values."""
        out: dict[str, Any] = {}
        for source in self.sources:
            value = self.reader.value(source, cells[source.index])
            if not is_blank(value):
                out[source.key] = value
        out.update(self.mapping.constants)
        return out


def import_sms(session: Session, path: Path, ratings_mapping: str | None = None,
               complaints_mapping: str | None = None, columns: SmsColumns = SmsColumns(), dry_run: bool = False,
               progress: Callable[[int, int], None] | None = None) -> SmsImportReport:
    """Import the platform's CSV (or workbook) export: each row becomes a rating or a complaint, or is accounted for
    as already imported, rejected (with the reasons), or not kept here. Rows that pass are written together in one
    transaction; a file-level problem refuses the whole file and writes nothing."""
    targets_allowed = [f for f in (RATINGS_FORM, COMPLAINTS_FORM) if allowed(session.actor, get_form(f).module,
                                                                                "import")]
    if not targets_allowed:
        raise PermissionDenied(_("Your role may not import police ratings or complaints."))
    book = read_book(path)
    sheet = book.sheets[0]
    if not sheet.rows:
        raise ImportRejected(_("The file is empty."))
    positions = _header_positions(sheet.rows[0])
    own = {}
    for name in ("message_id", "sender", "keyword"):
        position = positions.get(fold(getattr(columns, name)))
        if position is None:
            raise ImportRejected(_("The file has no column {column}. Check that this is the platform's export.")
                                 .format(column=getattr(columns, name)))
        own[name] = position
    targets = {RATINGS_FORM: _Target(session, RATINGS_FORM, ratings_mapping, positions),
               COMPLAINTS_FORM: _Target(session, COMPLAINTS_FORM, complaints_mapping, positions)}
    for target in targets.values():
        if target.mapping is not None and any(src.index == own["sender"] for src in target.sources):
            raise ImportRejected(_("The mapping {name} reads the sender's phone number into a field. Phone numbers "
                                   "are never stored; remove that column from the mapping.").format(
                name=target.mapping.name))
    key = phone_key(session.db)
    agency = session.user.agency_id
    report = SmsImportReport(Path(path).name, [], dry_run, list(book.notes))
    seen: set[str] = set()
    for number, row in data_rows(sheet.rows, progress):
        cells = list(row) + [None] * (len(sheet.rows[0]) - len(row))
        outcome = RowOutcome(number, columns.kind_of(cells[own["keyword"]]), REJECTED)
        report.rows.append(outcome)
        if outcome.form is None:
            outcome.status = UNKNOWN_KIND
            continue
        target = targets[outcome.form]
        if target.service is None:
            outcome.status = NOT_HERE
            continue
        message_id = cell_text(cells[own["message_id"]])
        if not message_id:
            outcome.problems.append(_("The message has no message id."))
            continue
        import_key = KEY_PREFIX + message_id
        if import_key in seen or known_key(session, target.form.name, agency, import_key):
            outcome.status = ALREADY
            continue
        flat = target.flat(cells)
        raw = assemble(target.form, flat)
        for name, value in raw.items():
            if isinstance(value, str):
                raw[name] = mask_phones(value)
        raw[ref(target.form.name, "sms_id")] = message_id
        raw[ref(target.form.name, "phone_hash")] = hash_phone(cells[own["sender"]], key)
        values, problems = target.form.parse(raw)
        if not problems.ok:
            outcome.problems = refusals(target.form, problems, parsing=True)
            continue
        seen.add(import_key)
        target.pending.add(outcome, values, import_key, _content_hash(flat))
    live = [t for t in targets.values() if t.pending is not None]
    for target in live:
        target.pending.check()
    if not dry_run:
        with session.db.transaction(savepoints=False):  # the records, their keys and the default mappings, or nothing
            for target in live:
                if target.unsaved:
                    save(session, target.mapping)
                target.pending.write(session, "import.sms", target.form.name, len(report.rows))
    return report

"""A KoboToolbox / ODK export (XLSX or CSV) of the community safety audit, read with its XLSForm.

The XLSForm's survey sheet names each question and its type; its choices sheet lists each list's codes and labels.
Questions are matched onto the standard instrument (the ``survey_response`` form) by name, by a known alias (gender,
enumerator, safe_dark...) or by label in either language, and any match can be set by hand. Each list's codes are
matched onto our choices by code or label, again with hand-set exceptions. An age in years becomes an age band.

Every row of the export is accounted for: imported, already imported (same submission id), or rejected with its
reasons. Rows that pass are written together in one transaction; a problem with the files themselves refuses the
whole import and writes nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ImportRejected, NotFound, UsalamaError
from ..forms.definition import Form
from ..forms.fields import CHOICE, MULTI, PLACE, PLACE_PARTS, YESNO, Field, FieldError
from ..forms.registry import get_form, ref
from ..i18n import _
from ..services.installation import Session
from ..services.records import RecordService
from .mapping import fold
from .sms import Pending, data_rows, known_key, refusals
from .tabular import Book, Sheet, cell_text, is_blank, read_book

FORM = "survey_response"
ROUND_FORM = "survey_round"
KEY_PREFIX = "kobo:"
ROUND_ID = ref(FORM, "round_id")
SOURCE_ID = ref(FORM, "source_id")
PLACE_FIELD = ref(FORM, "place")
AGE_BAND = ref(FORM, "age_band")
INTERVIEW_DATE = ref(FORM, "interview_date")
ROUND_AREA = ref(ROUND_FORM, "area")

# Our instrument's targets that an import must fill; the rest are optional.
REQUIRED_TARGETS = (INTERVIEW_DATE, ref(FORM, "consent"), f"{PLACE_FIELD}_ward", ref(FORM, "hh_victim"),
                    ref(FORM, "p_victim"), ref(FORM, "safe_after_dark"))
# Question names often used for our targets, folded; exact names and labels are tried first.
ALIASES: dict[str, tuple[str, ...]] = {
    ref(FORM, "sex"): ("gender", "respondent_sex", "sex_respondent", "jinsia"),
    AGE_BAND: ("age", "age_years", "respondent_age", "age_group", "umri"),
    ref(FORM, "household_size"): ("hh_members", "hh_size", "household_members", "hhsize"),
    ref(FORM, "interviewer"): ("enumerator", "enumerator_code", "enumerator_id", "interviewer_code"),
    INTERVIEW_DATE: ("interview_date", "date_of_interview", "today", "date"),
    ref(FORM, "respondent_code"): ("respondent_id", "respondent_no", "respondent_number"),
    ref(FORM, "consent"): ("informed_consent", "agree", "ridhaa"),
    f"{PLACE_FIELD}_county": ("county", "kaunti"),
    f"{PLACE_FIELD}_subcounty": ("subcounty", "sub_county"),
    f"{PLACE_FIELD}_ward": ("ward", "wadi", "ward_name"),
    f"{PLACE_FIELD}_village": ("village", "estate", "kijiji", "village_estate"),
    ref(FORM, "hh_victim"): ("household_victim", "hh_victimised"),
    ref(FORM, "p_victim"): ("personal_victim", "p_victimised"),
    ref(FORM, "safe_after_dark"): ("safe_dark", "feel_safe", "safety_after_dark", "safe_walking", "sdg_1614"),
    ref(FORM, "trust_police"): ("police_trust",),
    ref(FORM, "trust_local_justice"): ("trust_justice", "trust_local_courts", "justice_trust"),
    ref(FORM, "comments"): ("comment", "other_comments", "anything_else"),
}
# Survey wording our lists spell differently: a folded label -> our value, used when the list has that value.
SYNONYMS = {"don't know": "unknown", "dont know": "unknown", "do not know": "unknown", "sijui": "unknown",
            "dk": "unknown", "not sure": "unknown"}
UUID_COLUMNS = ("_uuid", "meta/instanceid", "instanceid", "key")
SUBMITTED_COLUMNS = ("_submission_time", "submissiondate")
GROUP_BEGIN = ("begin_group", "begin group")
GROUP_END = ("end_group", "end group")
REPEAT_BEGIN = ("begin_repeat", "begin repeat")
REPEAT_END = ("end_repeat", "end repeat")
META_TYPES = ("start", "end", "today", "deviceid", "subscriberid", "simserial", "phonenumber", "username", "audit",
              "note", "calculate", "hidden", "start-geopoint", "background-audio")


# --- the XLSForm -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    name: str
    type: str  # select_one, select_multiple, integer, text, date, today, ...
    list_name: str | None
    labels: tuple[str, ...]  # every language's label
    path: tuple[str, ...]  # the groups it sits in
    in_repeat: bool = False


@dataclass
class XLSForm:
    title: str
    form_id: str
    questions: list[Question]
    choices: dict[str, list[tuple[str, tuple[str, ...]]]]  # list name -> (code, labels)

    def question(self, name: str) -> Question | None:
        return next((q for q in self.questions if q.name == name), None)


def _sheet(book: Book, name: str, what: str) -> Sheet:
    sheet = book.sheet(name)
    if sheet is None or not sheet.rows:
        raise ImportRejected(_("The XLSForm has no {sheet} sheet. Choose the form's .xlsx file as downloaded from "
                               "KoboToolbox.").format(sheet=what))
    return sheet


def _columns(sheet: Sheet) -> dict[str, int]:
    return {fold(cell_text(c)): i for i, c in enumerate(sheet.rows[0]) if not is_blank(c)}


def _label_columns(columns: dict[str, int]) -> list[int]:
    return [i for name, i in columns.items() if name == "label" or name.startswith("label::")]


def _cell(row: list[Any], index: int | None) -> str:
    return cell_text(row[index]) if index is not None and index < len(row) else ""


def read_xlsform(path: Path) -> XLSForm:
    """The questions and choice lists of an XLSForm workbook."""
    book = read_book(path)
    if book.kind != "workbook":
        raise ImportRejected(_("The XLSForm must be the form's .xlsx workbook, with its survey and choices sheets."))
    survey, choices = _sheet(book, "survey", "survey"), _sheet(book, "choices", "choices")
    cols = _columns(survey)
    if "type" not in cols or "name" not in cols:
        raise ImportRejected(_("The survey sheet of the XLSForm needs a type and a name column."))
    labels = _label_columns(cols)
    questions: list[Question] = []
    groups: list[tuple[str, bool]] = []
    for row in survey.rows[1:]:
        kind = fold(_cell(row, cols["type"]))
        name = _cell(row, cols["name"])
        if not kind:
            continue
        if kind.startswith(GROUP_BEGIN) or kind.startswith(REPEAT_BEGIN):
            groups.append((name, kind.startswith(REPEAT_BEGIN)))
            continue
        if kind.startswith(GROUP_END) or kind.startswith(REPEAT_END):
            if groups:
                groups.pop()
            continue
        parts = kind.split()
        base = parts[0]
        list_name = parts[1] if base in ("select_one", "select_multiple") and len(parts) > 1 else None
        if name:
            questions.append(Question(name, base, list_name, tuple(t for t in (_cell(row, i) for i in labels) if t),
                                      tuple(g for g, _r in groups), any(r for _g, r in groups)))
    ccols = _columns(choices)
    if "list_name" not in ccols or "name" not in ccols:
        raise ImportRejected(_("The choices sheet of the XLSForm needs a list_name and a name column."))
    clabels = _label_columns(ccols)
    lists: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for row in choices.rows[1:]:
        list_name, code = _cell(row, ccols["list_name"]), _cell(row, ccols["name"])
        if list_name and code:
            lists.setdefault(list_name, []).append((code, tuple(t for t in (_cell(row, i) for i in clabels) if t)))
    title, form_id = "", ""
    settings = book.sheet("settings")
    if settings is not None and len(settings.rows) > 1:
        scols = _columns(settings)
        title = _cell(settings.rows[1], scols.get("form_title"))
        form_id = _cell(settings.rows[1], scols.get("form_id"))
    if not questions:
        raise ImportRejected(_("The XLSForm lists no questions."))
    return XLSForm(title or Path(path).stem, form_id or Path(path).stem, questions, lists)


# --- matching questions and choices onto the instrument ----------------------------------------------------------


@dataclass(frozen=True)
class Target:
    key: str  # a field name, or place_<part>
    field: Field
    part: str | None = None


def instrument_targets() -> dict[str, Target]:
    """What an export may fill: the respondent form's fields other than the round and the submission id."""
    form = get_form(FORM)
    out: dict[str, Target] = {}
    for f in form.fields:
        if f.name in (ROUND_ID, SOURCE_ID) or f.derive is not None:
            continue
        if f.kind == PLACE:
            for part, _label in PLACE_PARTS:
                out[f"{f.name}_{part}"] = Target(f"{f.name}_{part}", f, part)
        else:
            out[f.name] = Target(f.name, f)
    return out


@dataclass
class KoboMapping:
    questions: dict[str, str]  # our target -> the export's question name
    choices: dict[str, dict[str, str]]  # question -> its code -> our value ("" leaves the answer blank)
    unmatched_choices: dict[str, list[str]]  # question -> codes with no value of ours
    unused: list[str]  # questions of the form that fill nothing
    missing: list[str]  # required targets no question fills

    @property
    def complete(self) -> bool:
        return not self.missing and not any(self.unmatched_choices.values())

    def problems(self) -> list[str]:
        out = [_("No question gives {target}; name one with --map {target}=QUESTION.").format(target=t)
               for t in self.missing]
        for question, codes in self.unmatched_choices.items():
            if codes:
                out.append(_("The answers {codes} of {question} match none of our choices; set them with "
                             "--map-choice {question}.CODE=VALUE.").format(codes=", ".join(codes), question=question))
        return out


def _age_band(years: int) -> str:
    for low, high, band in ((0, 4, "0-4"), (5, 9, "5-9"), (10, 14, "10-14"), (15, 17, "15-17"), (18, 24, "18-24"),
                            (25, 34, "25-34"), (35, 49, "35-49"), (50, 59, "50-59")):
        if low <= years <= high:
            return band
    return "60+"


def _our_choice(target: Target, code: str, labels: tuple[str, ...]) -> str | None:
    """Our value for one of the form's answers, by its code or any of its labels."""
    f = target.field
    if f.kind == YESNO:
        for text in (code, *labels):
            try:
                return "yes" if f.parse(text) else "no"
            except FieldError:
                continue
        return None
    if target.part == "county":
        counties = get_form(FORM).by_name[PLACE_FIELD]
        for text in (code, *labels):
            try:
                return counties.parse({"county": text})["county"]
            except FieldError:
                continue
        return None
    if target.part is not None:
        return labels[0] if labels else code  # a ward or village: its name as the form shows it
    if f.choice_list is None:
        return None
    for text in (code, *labels):
        found = f.choice_list.find(text)
        if found is None and SYNONYMS.get(fold(text)) in f.choice_list:
            found = SYNONYMS[fold(text)]
        if found is not None:
            return found
    return None


def _coded(target: Target) -> bool:
    return target.field.kind in (CHOICE, MULTI, YESNO) or target.part is not None


def propose_mapping(xlsform: XLSForm, overrides: Mapping[str, str] | None = None,
                    choice_overrides: Mapping[str, str] | None = None) -> KoboMapping:
    """Match the form's questions onto our targets. ``overrides``: target -> question name;
    ``choice_overrides``: "question.code" -> our value (or "" to leave that answer blank)."""
    targets = instrument_targets()
    usable = [q for q in xlsform.questions if not q.in_repeat and (q.type not in META_TYPES or q.type == "today")]
    by_name = {fold(q.name): q for q in usable}
    chosen: dict[str, str] = {}
    for target, question in (overrides or {}).items():
        if target not in targets:
            raise UsalamaError(_("The survey has no field {target}. Fields: {names}.").format(
                target=target, names=", ".join(sorted(targets))))
        if xlsform.question(question) is None:
            raise UsalamaError(_("The XLSForm has no question {question}.").format(question=question))
        chosen[target] = question
    taken = set(chosen.values())
    for key, target in targets.items():
        if key in chosen:
            continue
        candidates = [by_name.get(fold(key))] + [by_name.get(fold(a)) for a in ALIASES.get(key, ())]
        own_labels = {fold(target.field.label.en), fold(target.field.label.sw)} if target.part is None else set()
        candidates += [q for q in usable if own_labels & {fold(t) for t in q.labels}]
        for q in candidates:
            if q is not None and q.name not in taken:
                chosen[key] = q.name
                taken.add(q.name)
                break
    choices: dict[str, dict[str, str]] = {}
    unmatched: dict[str, list[str]] = {}
    extra = {}
    for spec, value in (choice_overrides or {}).items():
        question, _sep, code = spec.partition(".")
        if not code or xlsform.question(question) is None:
            raise UsalamaError(_("Write a choice as QUESTION.CODE=VALUE; {spec} names no question of the form.")
                               .format(spec=spec))
        extra.setdefault(question, {})[code] = value
    for key, question_name in chosen.items():
        target, q = targets[key], xlsform.question(question_name)
        if not q.list_name or not _coded(target):
            continue
        codes: dict[str, str] = {}
        missing_codes = []
        for code, labels in xlsform.choices.get(q.list_name, []):
            value = extra.get(q.name, {}).get(code)
            if value is None:
                value = _our_choice(target, code, labels)
            elif value and target.field.choice_list and target.field.kind != YESNO and target.part is None:
                if target.field.choice_list.find(value) is None:
                    raise UsalamaError(_("{value} is not one of the choices for {target}.").format(
                        value=value, target=key))
                value = target.field.choice_list.find(value)
            if value is None:
                missing_codes.append(code)
            else:
                codes[code] = value
        choices[q.name] = codes
        unmatched[q.name] = missing_codes
    unused = [q.name for q in usable if q.name not in taken and q.type not in META_TYPES]
    # Without a date question the submission time stands in (checked against the export itself).
    missing = [t for t in REQUIRED_TARGETS if t not in chosen and t != INTERVIEW_DATE]
    return KoboMapping(chosen, choices, unmatched, unused, missing)


# --- the export's rows --------------------------------------------------------------------------------------------


def _data_sheet(book: Book) -> Sheet:
    """The export's main sheet: the first visible one (repeat groups follow on later sheets)."""
    for sheet in book.sheets:
        if sheet.visible and sheet.rows:
            return sheet
    raise ImportRejected(_("The export has no rows."))


class _Columns:
    """Where each question's answer sits in the export: by name, by group path or by label."""

    def __init__(self, header: list[Any], xlsform: XLSForm):
        self.index: dict[str, int] = {}
        for i, cell in enumerate(header):
            text = fold(cell_text(cell))
            if text:
                self.index.setdefault(text, i)
                self.index.setdefault(text.rsplit("/", 1)[-1], i)
        self.header = [fold(cell_text(c)) for c in header]
        self.xlsform = xlsform

    def of(self, q: Question) -> int | None:
        for key in ("/".join((*q.path, q.name)), q.name, *q.labels):
            found = self.index.get(fold(key))
            if found is not None:
                return found
        return None

    def split_columns(self, q: Question) -> dict[str, int]:
        """A select_multiple's one-column-per-answer layout (``group/question/code``), code -> column."""
        prefixes = (fold("/".join((*q.path, q.name))) + "/", fold(q.name) + "/")
        out = {}
        for i, text in enumerate(self.header):
            for prefix in prefixes:
                if text.startswith(prefix) and "/" not in text[len(prefix):]:
                    out.setdefault(text[len(prefix):], i)
        return out

    def first(self, names: tuple[str, ...]) -> int | None:
        return next((self.index[n] for n in names if n in self.index), None)


@dataclass
class RowOutcome:
    row: int  # as the spreadsheet shows it (the header is row 1)
    status: str  # imported, already imported, rejected
    record_id: str | None = None
    problems: list[str] = field(default_factory=list)


IMPORTED, ALREADY, REJECTED = "imported", "already imported", "rejected"


@dataclass
class KoboImportReport:
    file: str
    round_code: str
    mapping: KoboMapping
    rows: list[RowOutcome]
    dry_run: bool
    notes: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.rows)

    def summary(self) -> str:
        return _("{imported} interviews imported, {already} already imported, {rejected} rejected.").format(
            imported=self.count(IMPORTED), already=self.count(ALREADY), rejected=self.count(REJECTED))


@dataclass(frozen=True)
class _Located:
    """One mapped question: what it fills, where its answers are, and how its codes and labels read."""

    target: Target
    question: Question
    position: int | None
    split: dict[str, int]  # a select_multiple's one-column-per-code layout
    codes: dict[str, str]  # its code -> our value
    by_label: dict[str, str]  # folded label -> its code (exports "with labels")

    def code_of(self, text: str) -> str | None:
        return text if text in self.codes else self.by_label.get(fold(text))

    def answer(self, row: list[Any]) -> tuple[Any, str | None]:
        """(the raw value for our form, a problem) for this question in one row."""
        cell = row[self.position] if self.position is not None and self.position < len(row) else None
        q, target = self.question, self.target
        if q.type == "select_multiple" and target.field.kind == MULTI:
            if is_blank(cell):
                picked = [code for code, i in self.split.items() if i < len(row) and cell_text(row[i]) in ("1", "TRUE")]
            else:
                picked = cell_text(cell).split()
            values = []
            for text in picked:
                code = self.code_of(text)
                if code is None:
                    return None, self._not_listed()
                if self.codes[code]:
                    values.append(self.codes[code])
            return values or None, None
        if is_blank(cell):
            return None, None
        if q.list_name and _coded(target):
            code = self.code_of(cell_text(cell))
            if code is None:
                return None, self._not_listed()
            return self.codes[code] or None, None
        if target.key == AGE_BAND and q.type in ("integer", "decimal"):
            try:
                return _age_band(int(float(cell_text(cell)))), None
            except ValueError:
                return None, _("{question}: the age is not a number.").format(question=q.name)
        return cell, None

    def _not_listed(self) -> str:
        return _("{question}: an answer is not in the form's list.").format(question=self.question.name)


def _round(session: Session, round_id: str) -> dict[str, Any]:
    try:
        return RecordService(session, ROUND_FORM).get(round_id)["values"]
    except NotFound:
        raise ImportRejected(_("That survey round does not exist on this computer. Create the round first, then "
                               "import its interviews.")) from None


def _content_hash(row: list[Any]) -> str:
    return hashlib.sha256(json.dumps([cell_text(c) for c in row]).encode("utf-8")).hexdigest()


def import_kobo(session: Session, export_path: Path, xlsform_path: Path, round_id: str,
                overrides: Mapping[str, str] | None = None, choice_overrides: Mapping[str, str] | None = None,
                dry_run: bool = False, progress: Callable[[int, int], None] | None = None) -> KoboImportReport:
    """Import the interviews of one survey round from a KoboToolbox export and its XLSForm."""
    service = RecordService(session, FORM)
    service.require("import")
    service.require("create")
    round_values = _round(session, round_id)
    xlsform = read_xlsform(xlsform_path)
    mapping = propose_mapping(xlsform, overrides, choice_overrides)
    if not mapping.complete:
        raise ImportRejected(_("The XLSForm does not fit the safety audit questions yet: {problems}").format(
            problems=" ".join(mapping.problems())))
    book = read_book(export_path)
    sheet = _data_sheet(book)
    columns = _Columns(sheet.rows[0], xlsform)
    targets = instrument_targets()
    located: list[_Located] = []
    for key, question_name in mapping.questions.items():
        q = xlsform.question(question_name)
        position = columns.of(q)
        split = columns.split_columns(q) if q.type == "select_multiple" else {}
        if position is None and not split:
            if key in REQUIRED_TARGETS:
                raise ImportRejected(_("The export has no column for the question {question}. Export the data "
                                       "with XML values and headers, or check that it is this form's export.").format(
                    question=question_name))
            continue
        by_label = {fold(label): code for code, labels in xlsform.choices.get(q.list_name or "", [])
                    for label in labels}
        located.append(_Located(targets[key], q, position, split, mapping.choices.get(q.name, {}), by_label))
    uuid_col = columns.first(UUID_COLUMNS)
    submitted_col = columns.first(SUBMITTED_COLUMNS)
    date_found = any(loc.target.key == INTERVIEW_DATE for loc in located)
    if not date_found and submitted_col is None:
        raise ImportRejected(_("No question gives {target}; name one with --map {target}=QUESTION.").format(
            target=INTERVIEW_DATE))
    area = round_values.get(ROUND_AREA) or {}
    form: Form = service.form
    agency = session.user.agency_id
    report = KoboImportReport(Path(export_path).name, round_values.get(ref(ROUND_FORM, "round_code")) or "", mapping,
                              [], dry_run, list(book.notes))
    if mapping.unused:
        report.notes.append(_("Questions not imported: {names}.").format(names=", ".join(mapping.unused)))
    pending = Pending(service, agency)
    seen: set[str] = set()
    for number, row in data_rows(sheet.rows, progress):
        outcome = RowOutcome(number, REJECTED)
        report.rows.append(outcome)
        source = _cell(row, uuid_col).removeprefix("uuid:") or _content_hash(row)
        key = KEY_PREFIX + source
        if key in seen or known_key(session, FORM, agency, key):
            outcome.status = ALREADY
            continue
        flat: dict[str, Any] = {f"{PLACE_FIELD}_{p}": area.get(p) for p in ("county", "subcounty")}
        if not date_found:
            flat[INTERVIEW_DATE] = row[submitted_col] if submitted_col < len(row) else None
        for loc in located:
            value, problem = loc.answer(row)
            if problem:
                outcome.problems.append(problem)
            elif value is not None or loc.target.key not in flat:
                flat[loc.target.key] = value
        if outcome.problems:
            continue
        raw: dict[str, Any] = {k: v for k, v in flat.items() if not k.startswith(f"{PLACE_FIELD}_")}
        parts = {p: flat.get(f"{PLACE_FIELD}_{p}") for p, _label in PLACE_PARTS}
        raw[PLACE_FIELD] = {p: (cell_text(v) if v is not None else None) for p, v in parts.items()}
        raw[ROUND_ID] = round_id
        raw[SOURCE_ID] = source
        values, problems = form.parse(raw)
        if not problems.ok:
            outcome.problems = refusals(form, problems, parsing=True)
            continue
        seen.add(key)
        pending.add(outcome, values, key, _content_hash(row))
    pending.check()
    if not dry_run:
        with session.db.transaction(savepoints=False):  # all or nothing
            pending.write(session, "import.kobo", round_id, len(report.rows))
    return report

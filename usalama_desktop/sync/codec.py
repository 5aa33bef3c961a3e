"""One record in a bundle: encoded from a row for a profile, and decoded with strict checks of the spine and the
same form rules as a local save. A record that fails any check refuses the whole bundle."""

from __future__ import annotations

import datetime as dt
import json
import marshal
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from .. import clock
from ..forms.definition import Form
from ..forms.fields import (
    CHOICE,
    DATE,
    DECIMAL,
    INTEGER,
    LONGTEXT,
    MONTH,
    MULTI,
    PLACE,
    PLACE_PARTS,
    REFERENCE,
    TEXT,
    TIME,
    YESNO,
)
from ..i18n import _
from ..store.hlc import MAX_DRIFT_MS, Stamp
from . import safejson
from .keys import UUID
from .limits import BAD_TEXT, CLOCK_AHEAD_DAYS, MAX_JSON_DEPTH, MAX_RECORD_BYTES, BundleRejected, safe_name
from .profiles import REFERRAL, Carried, carried, consent_given

_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?Z$")
DOC_KEYS = frozenset({"form", "spine", "values"})
SPINE_ORDER = ("id", "agency_id", "installation_id", "hlc", "vclock", "revision", "created_by", "created_at",
               "updated_by", "updated_at", "deleted", "deleted_reason")
SPINE_KEYS = frozenset(SPINE_ORDER)
PROVENANCE_KEYS = frozenset({"installation_id", "agency_id", "bundle_id"})
MAX_VCLOCK = 64
MAX_REVISION = 10**9


@dataclass
class Version:
    """A version of a record as a bundle carries it. ``values`` holds every field of the form; fields the profile
    does not carry are None (and must not be read as "emptied").

    A version checked by the import's helper process comes with ``prepared`` (what a new record writes) and its
    values still packed by ``marshal`` (plain JSON types only), unpacked the first time they are read: a new record
    is written from ``prepared`` alone, so the merge does not unpack what it never reads."""

    form: Form
    spine: dict[str, Any]  # the travelling spine; vclock as a dict
    packed_values: dict[str, Any] | bytes
    carried: Carried
    profile: str
    provenance: dict[str, str] | None = None
    prepared: tuple | None = None  # what it writes if its record is new here (merge.new_row), made ahead

    @property
    def values(self) -> dict[str, Any]:
        if isinstance(self.packed_values, bytes):
            self.packed_values = marshal.loads(self.packed_values)
        return self.packed_values

    @property
    def id(self) -> str:
        return self.spine["id"]

    @property
    def stamp(self) -> tuple[str, str]:
        return self.spine["hlc"], self.spine["installation_id"]

    @property
    def vclock(self) -> dict[str, int]:
        return self.spine["vclock"]

    @property
    def deleted(self) -> bool:
        return bool(self.spine["deleted"])


def restrict(form: Form, values: Mapping[str, Any], keep: Carried, drop_empty: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in keep.fields:
        v = values.get(name)
        if v is not None or not drop_empty:
            out[name] = v
    for group, subs in keep.repeat_fields.items():
        rows = values.get(group) or []
        if rows or not drop_empty:
            out[group] = [{k: row.get(k) for k in subs if row.get(k) is not None or not drop_empty} for row in rows]
    return out


_TEXT_KINDS = frozenset({TEXT, LONGTEXT, REFERENCE, DATE, MONTH, TIME, CHOICE})


def _type_of(f, value: Any) -> str | None:
    """The JSON type a field's value must have, checked before any form rule sees it."""
    if value is None:
        return None
    if f.kind in _TEXT_KINDS:
        return None if isinstance(value, str) else "expected text"
    if f.kind == INTEGER:
        return None if type(value) is int else "expected a whole number"
    if f.kind == DECIMAL:
        return None if type(value) in (int, float) else "expected a number"
    if f.kind == YESNO:
        return None if type(value) is bool else "expected yes or no"
    if f.kind == MULTI:
        return None if isinstance(value, list) and all(isinstance(v, str) for v in value) else "expected choices"
    if f.kind == PLACE:
        return None if isinstance(value, dict) and all(isinstance(v, str) or v is None for v in value.values()) \
            else "expected a place"
    return "unknown kind"


def _type_problems(form: Form, values: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for f in form.fields:
        problem = _type_of(f, values.get(f.name))
        if problem:
            yield f.name, problem
    for r in form.repeats:
        for i, row in enumerate(values.get(r.name) or []):
            for f in r.fields:
                problem = _type_of(f, row.get(f.name))
                if problem:
                    yield f"{r.name}[{i}].{f.name}", problem


def dominates(a: Mapping[str, int], b: Mapping[str, int]) -> bool:
    """True when the version with clock ``a`` has seen everything the one with ``b`` has, and more."""
    if a == b:
        return False
    return all(a.get(k, 0) >= n for k, n in b.items())


# --- encoding -----------------------------------------------------------------------------------------------------

def _doc(form_name: str, spine: dict[str, Any], values: dict[str, Any], provenance: Mapping[str, str] | None
         ) -> bytes:
    """One NDJSON line, written by orjson at about ten times the standard encoder's speed (numbers may be spelt
    differently, 1e16 for 1e+16, and read back the same). A value it cannot write (an integer past 64 bits, a lone
    surrogate) raises orjson's TypeError: the export fails plainly rather than send what the reader would refuse."""
    doc: dict[str, Any] = {"form": form_name, "spine": spine, "values": values}
    if provenance:
        doc["provenance"] = dict(provenance)
    return orjson.dumps(doc, option=orjson.OPT_APPEND_NEWLINE)


def encode(form: Form, spine_row: Mapping[str, Any], values: Mapping[str, Any], profile: str,
           provenance: Mapping[str, str] | None = None) -> bytes:
    """One NDJSON line from form values. A tombstone carries no values: what was deleted need not travel."""
    spine = {k: spine_row[k] for k in SPINE_ORDER}
    spine["vclock"] = json.loads(spine["vclock"]) if isinstance(spine["vclock"], str) else spine["vclock"]
    spine["deleted"] = bool(spine["deleted"])
    return _doc(form.name, spine, {} if spine["deleted"] else restrict(form, values, carried(form, profile)),
                provenance)


def columns_read(fields) -> list[str]:
    """The table columns that hold ``fields``."""
    return [f"{f.name}_{part}" for f in fields if f.kind == PLACE for part, _label in PLACE_PARTS] + \
        [f.name for f in fields if f.kind != PLACE]


def _read_statements(fields, index: Mapping[str, int], row: str, out: str) -> list[str]:
    """Python statements that copy ``fields`` from the row tuple named ``row`` (columns by ``index``) into the dict
    named ``out``, leaving out empty ones and reading each kind as ``Field.from_sql`` does: plain columns as they are,
    yes/no (stored 0 or 1) as true or false, a place as its parts (empty when every part is), several choices from
    their stored JSON list. Plain fields come first, then places and several choices, each in form order."""
    src = []
    for f in fields:
        if f.kind not in (PLACE, MULTI):
            value = "(True if x else False)" if f.kind == YESNO else "x"
            src += [f"x = {row}[{index[f.name]}]", f"if x is not None: {out}[{f.name!r}] = {value}"]
    for f in fields:
        if f.kind == PLACE:
            parts = [(f"p{k}", part, index[f"{f.name}_{part}"]) for k, (part, _label) in enumerate(PLACE_PARTS)]
            src += [f"({', '.join(n for n, _p, _i in parts)},) = ({', '.join(f'{row}[{i}]' for _n, _p, i in parts)},)",
                    f"if {' or '.join(n for n, _p, _i in parts)}: "
                    f"{out}[{f.name!r}] = {{{', '.join(f'{p!r}: {n}' for n, p, _i in parts)}}}"]
        elif f.kind == MULTI:
            src += [f"x = {row}[{index[f.name]}]", f"if x is not None: {out}[{f.name!r}] = loads(x)"]
    return src


def _indent(lines: list[str], depth: int) -> list[str]:
    return ["    " * depth + line for line in lines] or ["    " * depth + "pass"]


class RowEncoder:
    """Encodes table rows of one form for one profile: only carried fields are read, empty ones left out (a missing
    field and a null one mean the same to the reader). ``columns`` names the row's columns: any that hold the
    spine and the carried fields (``RowEncoder.needs`` lists them).

    The export's hot path, so the encoder is one function written for the form and profile when the encoder is made
    (as ``collections.namedtuple`` and ``dataclasses`` write theirs): a straight run of column reads by position,
    with no loop over field names for each record. Its text is built only from the form definition, every name in
    it a quoted literal (``repr``) and every position a number; no value from a row or a bundle ever reaches it."""

    def __init__(self, form: Form, profile: str, columns: list[str], child_columns: Mapping[str, list[str]]):
        keep = carried(form, profile)
        index = {c: i for i, c in enumerate(columns)}
        spine = ", ".join(f"{k!r}: row[{index[k]}]" for k in SPINE_ORDER if k not in ("vclock", "deleted"))
        src = []
        groups = []
        for k, r in enumerate(form.repeats):
            subs = keep.repeat_fields.get(r.name)
            if subs:
                cindex = {c: i for i, c in enumerate(child_columns[r.name])}
                reader = f"read_{k}"
                src += [f"def {reader}(c):", "    v = {}",
                        *_indent(_read_statements([f for f in r.fields if f.name in subs], cindex, "c", "v"), 1),
                        "    return v"]
                groups += [f"rows = children.get({r.name!r})",
                           f"if rows: values[{r.name!r}] = [{reader}(c) for c in rows]"]
        src += [
            "def encode(row, children, provenance):",
            f"    deleted = True if row[{index['deleted']}] else False",
            # The vector clock is this installation's own canonical JSON text (vclock_text): spliced in as stored.
            f"    spine = {{{spine}, 'deleted': deleted, 'vclock': Fragment(row[{index['vclock']}])}}",
            "    values = {}",
            "    if not deleted:",
            *_indent(_read_statements([f for f in form.fields if f.name in keep.fields], index, "row", "values")
                     + groups, 2),
            f"    return line({form.name!r}, spine, values, provenance)",
        ]
        namespace = {"Fragment": orjson.Fragment, "loads": orjson.loads, "line": _doc}
        exec(compile("\n".join(src), f"<bundle encoder for {form.name}, {profile}>", "exec"), namespace)
        self.encode: Callable[[tuple, Mapping[str, list[tuple]], Mapping[str, str] | None], bytes] = \
            namespace["encode"]

    @staticmethod
    def needs(form: Form, profile: str) -> tuple[list[str], dict[str, list[str]]]:
        """The columns of the form's table, and of each repeat group's, that encoding a row for ``profile`` reads."""
        keep = carried(form, profile)
        main = [*SPINE_ORDER, *columns_read([f for f in form.fields if f.name in keep.fields])]
        children = {r.name: columns_read([f for f in r.fields if f.name in keep.repeat_fields.get(r.name, ())])
                    for r in form.repeats}
        return main, children

    def __call__(self, row: tuple, children: Mapping[str, list[tuple]], provenance: Mapping[str, str] | None
                 ) -> bytes:
        return self.encode(row, children, provenance)


# --- decoding -----------------------------------------------------------------------------------------------------


class RecordChecker:
    """Checks records of one bundle: the profile, the forms this receiver knows, the date tolerance."""

    def __init__(self, forms: Mapping[str, Form], profile: str, refuse_modules: frozenset[str] = frozenset()):
        self.forms = forms
        self.profile = profile
        self.refuse_modules = refuse_modules
        self.today = clock.today() + dt.timedelta(days=CLOCK_AHEAD_DAYS)
        self.now_ms = clock.now_ms()
        self._plans: dict[tuple[int, int], tuple[frozenset[str], tuple]] = {}

    def refuse(self, n: int, reason: str) -> BundleRejected:
        return BundleRejected("invalid_record", _("Record {n} of the bundle is not valid ({reason}). The whole bundle "
                                                  "was refused; nothing was imported.").format(n=n, reason=reason))

    def decode(self, line: bytes, n: int) -> Version:
        try:
            doc = safejson.loads(line, MAX_RECORD_BYTES, MAX_JSON_DEPTH)
        except safejson.JSONRefused as exc:
            raise self.refuse(n, str(exc)) from None
        if not isinstance(doc, dict) or not DOC_KEYS <= set(doc) or set(doc) - DOC_KEYS - {"provenance"}:
            raise self.refuse(n, "unexpected shape")
        form = self.forms.get(doc["form"]) if isinstance(doc["form"], str) else None
        if form is None:
            raise self.refuse(n, "unknown form " + safe_name(doc["form"], 40) + "; update Usalama Desktop")
        if form.module in self.refuse_modules:
            raise BundleRejected("module", _("The bundle carries {module} records, which this installation may not "
                                             "hold. It was refused; nothing was imported.").format(module=form.module))
        spine = self.spine(doc["spine"], n)
        provenance = doc.get("provenance")
        if provenance is not None:
            if (not isinstance(provenance, dict) or set(provenance) != PROVENANCE_KEYS
                    or not all(isinstance(v, str) and UUID.match(v) for v in provenance.values())):
                raise self.refuse(n, "provenance")
        keep = carried(form, self.profile)
        raw = doc["values"]
        if not isinstance(raw, dict):
            raise self.refuse(n, "values")
        if spine["deleted"]:
            if raw:
                raise self.refuse(n, "a deleted record carries values")
            return Version(form, spine, {**{f.name: None for f in form.fields}, **{r.name: [] for r in form.repeats}},
                           keep, self.profile, provenance)
        values = self.values(form, keep, raw, n)
        if self.profile == REFERRAL and not consent_given(form, values):
            raise self.refuse(n, "sent as a referral without consent recorded")
        return Version(form, spine, values, keep, self.profile, provenance)

    def spine(self, spine: Any, n: int) -> dict[str, Any]:
        if not isinstance(spine, dict) or set(spine) != SPINE_KEYS:
            raise self.refuse(n, "record header")
        for k in ("id", "agency_id", "installation_id"):
            if not isinstance(spine[k], str) or not UUID.match(spine[k]):
                raise self.refuse(n, k)
        try:
            stamp = Stamp.parse(spine["hlc"]) if isinstance(spine["hlc"], str) else None
        except ValueError:
            stamp = None
        if stamp is None or stamp.node != spine["installation_id"] or stamp.ms > self.now_ms + MAX_DRIFT_MS:
            raise self.refuse(n, "clock stamp")
        vc = spine["vclock"]
        if (not isinstance(vc, dict) or not 1 <= len(vc) <= MAX_VCLOCK
                or not all(UUID.match(k) and type(v) is int and 1 <= v <= MAX_REVISION for k, v in vc.items())
                or spine["installation_id"] not in vc):
            raise self.refuse(n, "version clock")
        if type(spine["revision"]) is not int or not 1 <= spine["revision"] <= MAX_REVISION:
            raise self.refuse(n, "revision")
        for k in ("created_by", "updated_by"):
            v = spine[k]
            if not isinstance(v, str) or not 1 <= len(v) <= 64 or BAD_TEXT.search(v):
                raise self.refuse(n, k)
        for k in ("created_at", "updated_at"):
            if not self._timestamp(spine[k]):
                raise self.refuse(n, k)
        if type(spine["deleted"]) is not bool:
            raise self.refuse(n, "deleted")
        reason = spine["deleted_reason"]
        if reason is not None and (not spine["deleted"] or not isinstance(reason, str) or len(reason) > 500
                                   or BAD_TEXT.search(reason)):
            raise self.refuse(n, "deleted_reason")
        return spine

    def _timestamp(self, text: Any) -> bool:
        if not isinstance(text, str):
            return False
        m = _ISO.match(text)
        if not m:
            return False
        try:
            when = dt.datetime(int(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5]), int(m[6]), tzinfo=dt.UTC)
        except ValueError:
            return False
        return 2000 <= when.year and when.timestamp() * 1000 <= self.now_ms + MAX_DRIFT_MS

    def values(self, form: Form, keep: Carried, raw: dict[str, Any], n: int) -> dict[str, Any]:
        allowed, answered = self._plan(form, keep)
        if not raw.keys() <= allowed:
            for name in raw:
                if not keep.has(name):
                    if form.declares(name):
                        raise self.refuse(n, "field " + safe_name(name, 40) + " is not allowed in this profile")
                    raise self.refuse(n, "unknown field " + safe_name(name, 40))
        values: dict[str, Any] = {f.name: raw.get(f.name) for f in form.fields}
        for r in form.repeats:
            rows = raw.get(r.name, [])
            if not isinstance(rows, list) or len(rows) > r.max_rows or not all(isinstance(x, dict) for x in rows):
                raise self.refuse(n, "group " + r.name)
            subs = keep.repeat_fields.get(r.name, frozenset())
            for row in rows:
                if not row.keys() <= subs:
                    k = next(k for k in row if k not in subs)
                    raise self.refuse(n, f"field {r.name}.{safe_name(k, 40)} is not allowed in this profile")
            values[r.name] = [{f.name: row.get(f.name) for f in r.fields} for row in rows]
        for name, problem in _type_problems(form, values):
            raise self.refuse(n, f"field {safe_name(name, 40)}: {problem}")
        problems = form.validate(values, self.today)
        errors = [where for where in problems.errors if self._carried_error(where, keep)]
        if errors:
            raise self.refuse(n, "fields: " + ", ".join(safe_name(e, 40) for e in sorted(errors)[:5]))
        cleaned = form.clean(values)
        for f in answered:
            if cleaned[f.name] != values[f.name] and self._judgeable(form, f, keep):
                raise self.refuse(n, f"field {f.name} answers a question that does not apply")
        return values

    def _plan(self, form: Form, keep: Carried) -> tuple[frozenset[str], tuple]:
        """For one form and profile, made once: the names a record's values may hold, and the carried fields a
        record answers itself (not derived), in name order (the first one wrong is the one reported)."""
        key = (id(form), id(keep))
        plan = self._plans.get(key)
        if plan is None:
            allowed = keep.fields | frozenset(keep.repeat_fields)  # what Carried.has admits
            answered = tuple(form.by_name[name] for name in sorted(keep.fields) if form.by_name[name].derive is None)
            plan = self._plans[key] = (allowed, answered)
        return plan

    @staticmethod
    def _carried_error(where: str, keep: Carried) -> bool:
        base, _sep, rest = where.partition("[")
        if base in keep.fields:
            return True
        subs = keep.repeat_fields.get(base)
        if subs is None:
            return False
        sub = rest.partition("].")[2]
        return not sub or sub in subs

    @staticmethod
    def _judgeable(form: Form, f, keep: Carried) -> bool:
        """Skip logic can be checked here only when every field it depends on travels in this profile."""
        used: set[str] = set()
        if f.relevant is not None:
            used |= f.relevant.fields()
        section = form.section_of(f.name)
        if section is not None and section.relevant is not None:
            used |= section.relevant.fields()
        return used <= keep.fields

"""Field kinds: how each stores itself in typed columns, reads from a spreadsheet cell, checks and displays."""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import clock
from ..i18n import L, Label, _
from ..store.spine import Column
from . import choices as choice_lists
from .conditions import Cond

TEXT, LONGTEXT, INTEGER, DECIMAL, YESNO = "text", "longtext", "integer", "decimal", "yesno"
DATE, TIME, MONTH, CHOICE, MULTI, PLACE, REFERENCE = "date", "time", "month", "choice", "multi", "place", "reference"
KINDS = (TEXT, LONGTEXT, INTEGER, DECIMAL, YESNO, DATE, TIME, MONTH, CHOICE, MULTI, PLACE, REFERENCE)
TIERS = ("public", "identifying", "narrative")

PLACE_PARTS: tuple[tuple[str, Label], ...] = (
    ("county", L("County", "Kaunti")),
    ("subcounty", L("Sub-county", "Kaunti ndogo")),
    ("ward", L("Ward", "Wadi")),
    ("village", L("Village / landmark", "Kijiji / alama")),
)

_BAD_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069\ufeff]")
_BAD_CHARS_LINE = re.compile(r"[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069\ufeff]")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DMY_DATE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_MY_MONTH = re.compile(r"^(\d{1,2})[/.\-](\d{4})$")
_TIME = re.compile(r"^(\d{1,2})[:.h](\d{2})(?::\d{2})?$")
_CLOCK_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
_FREE_TEXT = frozenset({TEXT, LONGTEXT, REFERENCE})
_SAME_VALUE_SAME_VERDICT = frozenset({INTEGER, DECIMAL, YESNO, DATE, MONTH, TIME, CHOICE})
_UNREAD = object()
_CHOICES_JSON = json.JSONEncoder(ensure_ascii=False)  # several-choice answers as stored: json.dumps's defaults
_YES = {"yes", "y", "true", "1", "ndiyo", "ndio", "x"}
_NO = {"no", "n", "false", "0", "hapana"}
_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f"\\]')


def choices_json(items: list) -> str:
    """Several-choice answers as stored, exactly as ``_CHOICES_JSON`` writes them. Choice codes are plain words, which
    JSON writes as they are: those are joined directly (imports store one list per row); anything else is encoded."""
    if all(item.__class__ is str for item in items) and not _NEEDS_ESCAPE.search("".join(items)):
        return '["' + '", "'.join(items) + '"]' if items else "[]"
    return _CHOICES_JSON.encode(items)


class FieldError(ValueError):
    """A value that cannot be read as this field; the message is for a clerk."""


def _empty(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip()) or (isinstance(raw, float) and math.isnan(raw))


def _valid_date(y: int, m: int, d: int) -> str:
    try:
        return dt.date(y, m, d).isoformat()
    except ValueError:
        raise FieldError(_("{value} is not a real date.").format(value=f"{y:04d}-{m:02d}-{d:02d}")) from None


def parse_date(raw: Any, precision: str = "day") -> str:
    """Day precision: YYYY-MM-DD. Month precision: YYYY-MM. Kenyan dd/mm/yyyy is read day first."""
    if isinstance(raw, dt.datetime):
        raw = raw.date()
    if isinstance(raw, dt.date):
        if precision == "month":
            return f"{raw.year:04d}-{raw.month:02d}"
        return raw.isoformat()
    text = str(raw).strip()
    if "T" in text or " " in text:
        text = re.split(r"[T ]", text, maxsplit=1)[0]
    m = _ISO_DATE.match(text)
    if m:
        value = _valid_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        return value[:7] if precision == "month" else value
    m = _DMY_DATE.match(text)
    if m:
        value = _valid_date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        return value[:7] if precision == "month" else value
    if precision in ("month", "either"):
        m = _MONTH.match(text) or _MY_MONTH.match(text)
        if m:
            y, mo = (int(m.group(1)), int(m.group(2))) if _MONTH.match(text) else (int(m.group(2)), int(m.group(1)))
            if not 1 <= mo <= 12:
                raise FieldError(_("{value} is not a real month.").format(value=text))
            return f"{y:04d}-{mo:02d}"
        raise FieldError(_("Write the date as YYYY-MM-DD or dd/mm/yyyy, or the month as YYYY-MM."))
    raise FieldError(_("Write the date as YYYY-MM-DD or dd/mm/yyyy."))


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    label: Label
    help: Label | None = None
    required: bool = False
    choices: str | None = None
    relevant: Cond | None = None
    tier: str = "public"
    local_only: bool = False  # never leaves this installation, in any bundle profile
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    pattern: str | None = None  # a soft check: a warning, never a refusal
    pattern_hint: Label | None = None
    precision: str = "day"  # dates: day, month or either
    allow_future: bool = False
    dimension: bool = False  # reports may group by it
    searchable: bool | None = None
    derive: Callable[[Mapping[str, Any]], Any] | None = field(default=None, compare=False)
    target: str | None = None  # reference: the form it points at
    default: Any = None
    unique: bool = False  # unique per agency among live records
    read_only: bool = False

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: unknown kind {self.kind}")
        if self.tier not in TIERS:
            raise ValueError(f"{self.name}: unknown tier {self.tier}")
        if self.kind in (CHOICE, MULTI) and not self.choices:
            raise ValueError(f"{self.name}: a choice field needs a list")

    # --- shape ----------------------------------------------------------------------------------------------

    @functools.cached_property
    def choice_list(self) -> choice_lists.ChoiceList | None:
        if self.choices:
            return choice_lists.get(self.choices)
        if self.kind == TIME:
            return choice_lists.get("time_of_day")
        return None

    @property
    def is_searchable(self) -> bool:
        if self.searchable is not None:
            return self.searchable
        return self.kind in (TEXT, LONGTEXT, PLACE)

    @property
    def limit(self) -> int:
        return self.max_length or (10000 if self.kind == LONGTEXT else 300)

    def columns(self) -> list[Column]:
        if self.kind == PLACE:
            return [Column(f"{self.name}_{part}", "TEXT") for part, _ in PLACE_PARTS]
        sqltype = {INTEGER: "INTEGER", YESNO: "INTEGER", DECIMAL: "REAL"}.get(self.kind, "TEXT")
        return [Column(self.name, sqltype)]

    def parts(self) -> list[tuple[str, Label]]:
        """Flat sub-columns for spreadsheets: a place is four columns, everything else one."""
        if self.kind == PLACE:
            return [(f"{self.name}_{part}", L(f"{self.label.en}: {lab.en}", f"{self.label.sw or self.label.en}: "
                                                                         f"{lab.sw}")) for part, lab in PLACE_PARTS]
        return [(self.name, self.label)]

    # --- storage --------------------------------------------------------------------------------------------

    def to_sql(self, value: Any) -> dict[str, Any]:
        if self.kind == PLACE:
            v = value or {}
            return {f"{self.name}_{p}": (v.get(p) or None) for p, _ in PLACE_PARTS}
        if value is None:
            return {self.name: None}
        if self.kind == YESNO:
            return {self.name: 1 if value else 0}
        if self.kind == MULTI:
            return {self.name: choices_json(list(value)) if value else None}
        return {self.name: value}

    def from_sql(self, row: Mapping[str, Any]) -> Any:
        if self.kind == PLACE:
            v = {p: row.get(f"{self.name}_{p}") for p, _ in PLACE_PARTS}
            return v if any(v.values()) else None
        raw = row.get(self.name)
        if raw is None:
            return None
        if self.kind == YESNO:
            return bool(raw)
        if self.kind == MULTI:
            return json.loads(raw)
        return raw

    # --- reading what people typed or imported ----------------------------------------------------------------

    def parse(self, raw: Any) -> Any:
        """Turn a typed, pasted or imported value into this field's value. Raises FieldError with a clear reason."""
        if raw.__class__ is str:
            # Imports read the same few texts (a category, a date, "yes") thousands of times: each text is read once
            # per field and remembered; free text is only tidied.
            kind = self.kind
            if kind in _FREE_TEXT:
                text = raw.strip()
                if not text:
                    return None
                return " ".join(text.split()) if kind == TEXT else text
            seen = self._texts_read
            found = seen.get(raw, _UNREAD)
            if found is _UNREAD:
                found = self._parse(raw)
                if len(seen) > 4096:  # endless distinct junk must not grow it without end
                    seen.clear()
                seen[raw] = tuple(found) if found.__class__ is list else found
                return found
            return list(found) if found.__class__ is tuple else found
        if raw is None:
            return None
        return self._parse(raw)

    @functools.cached_property
    def _texts_read(self) -> dict[str, Any]:
        return {}

    def _parse(self, raw: Any) -> Any:
        k = self.kind
        if k == PLACE:
            if _empty(raw):
                return None
            if isinstance(raw, Mapping):
                out = {p: (str(raw.get(p)).strip() if not _empty(raw.get(p)) else None) for p, _ in PLACE_PARTS}
                if out["county"]:
                    county = choice_lists.get("counties").find(out["county"]) or choice_lists.get("counties").find(
                        str(out["county"]).zfill(3))
                    if county is None:
                        raise FieldError(_("{value} is not a Kenyan county.").format(value=out["county"]))
                    out["county"] = county
                return out if any(out.values()) else None
            raise FieldError(_("A place has a county, sub-county, ward and village or landmark."))
        if _empty(raw):
            return None
        if k in (TEXT, LONGTEXT, REFERENCE):
            if isinstance(raw, float) and raw.is_integer():
                raw = int(raw)
            text = str(raw).strip()
            if k == TEXT:
                text = re.sub(r"\s+", " ", text)
            return text
        if k == INTEGER:
            if isinstance(raw, bool):
                raise FieldError(_("Write a whole number."))
            if isinstance(raw, int):
                return raw
            if isinstance(raw, float):
                if raw.is_integer():
                    return int(raw)
                raise FieldError(_("Write a whole number."))
            text = str(raw).strip().replace(",", "")
            if re.fullmatch(r"[+-]?\d{1,15}(\.0+)?", text):
                return int(float(text))
            raise FieldError(_("Write a whole number."))
        if k == DECIMAL:
            if isinstance(raw, bool):
                raise FieldError(_("Write a number."))
            if isinstance(raw, int | float):
                value = float(raw)
            else:
                text = str(raw).strip().replace(",", "")
                if not re.fullmatch(r"[+-]?(\d{1,15}(\.\d*)?|\.\d+)", text):
                    raise FieldError(_("Write a number."))
                value = float(text)
            if not math.isfinite(value):
                raise FieldError(_("Write a number."))
            return value
        if k == YESNO:
            if isinstance(raw, bool):
                return raw
            if isinstance(raw, int | float) and raw in (0, 1):
                return bool(raw)
            text = str(raw).strip().lower()
            if text in _YES:
                return True
            if text in _NO:
                return False
            raise FieldError(_("Answer yes or no."))
        if k == DATE:
            return parse_date(raw, self.precision)
        if k == MONTH:
            return parse_date(raw, "month")
        if k == TIME:
            if isinstance(raw, dt.datetime):
                raw = raw.time()
            if isinstance(raw, dt.time):
                return f"{raw.hour:02d}:{raw.minute:02d}"
            if isinstance(raw, float) and 0 <= raw < 1:  # a spreadsheet time is a fraction of a day
                minutes = round(raw * 24 * 60) % (24 * 60)
                return f"{minutes // 60:02d}:{minutes % 60:02d}"
            text = str(raw).strip()
            m = _TIME.match(text)
            if m:
                h, mi = int(m.group(1)), int(m.group(2))
                if h < 24 and mi < 60:
                    return f"{h:02d}:{mi:02d}"
                raise FieldError(_("{value} is not a time of day.").format(value=text))
            found = choice_lists.get("time_of_day").find(text)
            if found:
                return found
            raise FieldError(_("Write the time as HH:MM, or morning, afternoon, evening, night or unknown."))
        if k == CHOICE:
            found = self.choice_list.find(raw if not isinstance(raw, float) or not raw.is_integer() else int(raw))
            if found is None:
                raise FieldError(_("{value} is not one of the choices for {field}.").format(
                    value=str(raw)[:40], field=self.label.text()))
            return found
        if k == MULTI:
            items = raw if isinstance(raw, list | tuple) else re.split(r"[;\n|]", str(raw))
            out = []
            cl = self.choice_list
            for item in items:
                if _empty(item):
                    continue
                found = cl.find(item)
                if found is None:
                    raise FieldError(_("{value} is not one of the choices for {field}.").format(
                        value=str(item)[:40], field=self.label.text()))
                if found not in out:
                    out.append(found)
            order = {v: i for i, v in enumerate(cl.values)}
            return sorted(out, key=lambda v: order[v]) or None
        raise FieldError(f"unsupported kind {k}")  # pragma: no cover

    # --- checks ---------------------------------------------------------------------------------------------

    def check(self, value: Any, today: dt.date | None = None) -> list[str]:
        """Errors that refuse a save; empty when the value is acceptable (required-ness is checked by the form)."""
        if value is None:
            return []
        if self.kind not in _SAME_VALUE_SAME_VERDICT:
            return self._check(value, today)
        # Imports check the same few values (a category, a date) thousands of times: a value found acceptable is
        # remembered (by type too: True, 1 and 1.0 are one dict key but not one answer). Dates are judged against
        # a given day, so the day is part of what is remembered.
        if today is None and self.kind in (DATE, MONTH):
            today = clock.today()
        key = (value.__class__, value, today)
        accepted = self._accepted
        try:
            if key in accepted:
                return []
        except TypeError:  # a list or dict where one value belongs: checked, never remembered
            return self._check(value, today)
        errors = self._check(value, today)
        if not errors:
            if len(accepted) > 4096:
                accepted.clear()
            accepted.add(key)
        return errors

    @functools.cached_property
    def _accepted(self) -> set[tuple]:
        return set()

    def _check(self, value: Any, today: dt.date | None) -> list[str]:
        k = self.kind
        errors: list[str] = []
        if k in (TEXT, LONGTEXT, REFERENCE):
            if not isinstance(value, str):
                return [_("Expected text.")]
            if len(value) > self.limit:
                errors.append(_("Too long: at most {n} characters.").format(n=self.limit))
            if (_BAD_CHARS if k == LONGTEXT else _BAD_CHARS_LINE).search(value):
                errors.append(_("Contains hidden control characters; type the text again."))
        elif k in (INTEGER, DECIMAL):
            if isinstance(value, bool) or not isinstance(value, int | float) or (k == INTEGER and not isinstance(value, int)):
                return [_("Expected a number.")]
            if isinstance(value, float) and not math.isfinite(value):
                return [_("Expected a number.")]
            if self.minimum is not None and value < self.minimum:
                errors.append(_("Must be at least {n}.").format(n=_num(self.minimum)))
            if self.maximum is not None and value > self.maximum:
                errors.append(_("Must be at most {n}.").format(n=_num(self.maximum)))
        elif k == YESNO:
            if not isinstance(value, bool):
                return [_("Answer yes or no.")]
        elif k in (DATE, MONTH):
            try:
                canonical = (self.parse(value) if value.__class__ is str
                             else parse_date(value, "month" if k == MONTH else self.precision))
            except FieldError as exc:
                return [str(exc)]
            if canonical != value:
                return [_("Write the date as YYYY-MM-DD.")]
            if not self.allow_future:
                today = today or clock.today()
                limit = today.isoformat()[: len(value)]
                if value > limit:
                    errors.append(_("This date is in the future."))
            if value < "1900":
                errors.append(_("This date is too long ago."))
        elif k == TIME:
            if not isinstance(value, str) or not (_CLOCK_TIME.fullmatch(value)
                                                  or value in choice_lists.get("time_of_day")):
                return [_("Write the time as HH:MM, or morning, afternoon, evening, night or unknown.")]
        elif k == CHOICE:
            if value not in self.choice_list:
                return [_("Not one of the choices.")]
        elif k == MULTI:
            if not isinstance(value, list) or any(v not in self.choice_list for v in value):
                return [_("Not one of the choices.")]
        elif k == PLACE:
            if not isinstance(value, Mapping) or set(value) - {p for p, _ in PLACE_PARTS}:
                return [_("A place has a county, sub-county, ward and village or landmark.")]
            county = value.get("county")
            if county is not None and county not in choice_lists.get("counties"):
                errors.append(_("Not a Kenyan county."))
            for p, _lab in PLACE_PARTS:
                v = value.get(p)
                if v is not None and (not isinstance(v, str) or len(v) > 120 or _BAD_CHARS_LINE.search(v)):
                    errors.append(_("A place name is too long or contains hidden characters."))
                    break
        return errors

    @functools.cached_property
    def _pattern(self) -> re.Pattern:
        return re.compile(self.pattern)

    def soft_check(self, value: Any) -> list[str]:
        if self.pattern and isinstance(value, str) and not self._pattern.fullmatch(value):
            hint = self.pattern_hint.text() if self.pattern_hint else self.pattern
            return [_("Unusual form; expected something like {hint}. Saved as typed.").format(hint=hint)]
        return []

    # --- display ---------------------------------------------------------------------------------------------

    def display(self, value: Any, lang: str | None = None) -> str:
        if value is None:
            return ""
        k = self.kind
        if k == YESNO:
            return _("Yes") if value else _("No")
        if k == CHOICE:
            return self.choice_list.label(value, lang)
        if k == MULTI:
            return "; ".join(self.choice_list.label(v, lang) for v in value)
        if k == TIME:
            cl = choice_lists.get("time_of_day")
            return cl.label(value, lang) if value in cl else value
        if k == PLACE:
            parts = []
            for p, _lab in PLACE_PARTS:
                v = value.get(p)
                if v:
                    parts.append(choice_lists.get("counties").label(v, lang) if p == "county" else v)
            return ", ".join(reversed(parts))
        if k == DECIMAL:
            return _num(value)
        return str(value)

    def search_text(self, value: Any) -> str:
        if value is None:
            return ""
        if self.kind in (CHOICE, MULTI):
            cl = self.choice_list
            words = cl.search_words
            vals = value if isinstance(value, list) else [value]
            return " ".join(words[v] if v in words else f"{cl.label(v, 'en')} {cl.label(v, 'sw')}" for v in vals)
        return self.display(value, "en")


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"

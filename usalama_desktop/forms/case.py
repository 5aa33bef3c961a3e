"""The longitudinal case, declared once: a case opens, gathers sessions (or hearings) and referrals with their results,
closes with an outcome and may reopen with a reason.

A form says which of its fields play these parts by attaching a ``CaseWorkflow`` (``Form(case=...)``). The workflow
also builds the standard fields, repeat groups and cross-field rules, so the three case modules share one set of
names and one set of rules, and ``services/cases.py`` drives any of them the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..i18n import L, Label
from .choices import C, define
from .conditions import Cond, Eq, Filled, In
from .definition import Custom, NotBefore, Repeat, RowRule, Rule, Section, not_before
from .fields import CHOICE, DATE, LONGTEXT, Field

OPEN, REOPENED, CLOSED = "open", "reopened", "closed"

define(
    "case_status",
    C(OPEN, "Open", "Wazi"),
    C(REOPENED, "Reopened", "Imefunguliwa upya"),
    C(CLOSED, "Closed", "Imefungwa"),
)
define(
    "referral_result",
    C("pending", "Waiting for the result", "Inasubiri matokeo"),
    C("received", "Service received", "Huduma imepokelewa"),
    C("declined", "Declined by the person", "Imekataliwa na mhusika"),
    C("unavailable", "Service unavailable", "Huduma haipatikani"),
    C("not_reached", "Did not go / lost contact", "Hakwenda / mawasiliano yamepotea"),
)
OPENED_LABEL = L("Date the case was opened", "Tarehe kesi ilipofunguliwa")
NEXT_LABEL = L("Next session planned for", "Kikao kijacho kimepangwa")
OUTCOME_LABEL = L("Outcome", "Matokeo")


@dataclass(frozen=True)
class Deadline:
    """A date in the record that is a follow-up while the case is open, until ``done`` holds (a compliance date)."""

    field: str
    label: Label
    done: Cond | None = None


@dataclass(frozen=True)
class Step:
    """A module's own step (file for court adoption, record the court's result): set ``fields`` when ``when`` holds."""

    key: str
    label: Label
    fields: tuple[str, ...]
    when: Cond | None = None
    required: tuple[str, ...] = ()


@dataclass(frozen=True)
class CaseWorkflow:
    """Which fields of a form hold a case's state, and the words the module uses for its sessions. ``warnings``
    gives a warning the case panel shows for the values (a dispute that belongs in the formal system)."""

    outcome_choices: str
    session_label: Label = L("Sessions", "Vikao")
    session_item: Label = L("Session", "Kikao")
    add_session_label: Label = L("Add a session", "Ongeza kikao")
    referral_targets: str = ""
    status_field: str = "status"
    opened_field: str = "opened_on"
    closed_field: str = "closed_on"
    outcome_field: str = "outcome"
    reopened_field: str = "reopened_on"
    reopen_reason_field: str = "reopen_reason"
    sessions: str = "sessions"
    session_date: str = "held_on"
    session_next: str = "next_on"
    referrals: str = "referrals"
    referral_date: str = "referred_on"
    referral_to: str = "referred_to"
    referral_result: str = "result"
    referral_result_date: str = "result_on"
    referral_wait_days: int = 14  # a referral without a result becomes a follow-up after this many days
    close_fields: tuple[str, ...] = ()  # more fields asked when closing (a closure reason)
    deadlines: tuple[Deadline, ...] = ()
    steps: tuple[Step, ...] = ()
    open_statuses: tuple[str, ...] = field(default=(OPEN, REOPENED))
    warnings: Callable[[Mapping[str, Any]], str | None] | None = field(default=None, compare=False)

    # --- the standard fields ------------------------------------------------------------------------------------

    def opened(self, label: Label = OPENED_LABEL) -> Field:
        return Field(self.opened_field, DATE, label, required=True)

    def sessions_repeat(self, *fields: Field, next_label: Label = NEXT_LABEL) -> Repeat:
        """The sessions (or hearings) group: its date first, the module's fields, then the next planned date."""
        return Repeat(self.sessions, self.session_label, item_label=self.session_item, max_rows=500, fields=(
            Field(self.session_date, DATE, L("Date", "Tarehe"), required=True),
            *fields,
            Field(self.session_next, DATE, next_label, allow_future=True),
        ))

    def referrals_repeat(self, *fields: Field) -> Repeat:
        return Repeat(self.referrals, L("Referrals", "Rufaa"), item_label=L("Referral", "Rufaa"), fields=(
            Field(self.referral_date, DATE, L("Date referred", "Tarehe ya rufaa"), required=True),
            Field(self.referral_to, CHOICE, L("Referred to", "Imepelekwa kwa"), choices=self.referral_targets,
                  required=True, dimension=True),
            *fields,
            Field(self.referral_result, CHOICE, L("Result", "Matokeo"), choices="referral_result", default="pending",
                  dimension=True),
            Field(self.referral_result_date, DATE, L("Date of the result", "Tarehe ya matokeo"),
                  relevant=In(self.referral_result, ("received", "declined", "unavailable", "not_reached"))),
        ))

    def status_section(self, outcome_label: Label = OUTCOME_LABEL, *extra: Field) -> Section:
        """Status, closing and reopening: changed by the case steps, so read-only in the form."""
        closed = Eq(self.status_field, CLOSED)
        return Section(L("Case status", "Hali ya kesi"), (
            Field(self.status_field, CHOICE, L("Case status", "Hali ya kesi"), choices="case_status", required=True,
                  default=OPEN, dimension=True, read_only=True, derive=self._status),
            Field(self.outcome_field, CHOICE, outcome_label, choices=self.outcome_choices, relevant=closed,
                  dimension=True, read_only=True, searchable=True),
            *extra,
            Field(self.closed_field, DATE, L("Date closed", "Tarehe ya kufungwa"), relevant=closed, read_only=True),
            Field(self.reopened_field, DATE, L("Last reopened on", "Ilifunguliwa upya mara ya mwisho"),
                  read_only=True),
            Field(self.reopen_reason_field, LONGTEXT, L("Why it was reopened", "Sababu ya kufunguliwa upya"),
                  tier="narrative", max_length=1000, relevant=Filled(self.reopened_field), read_only=True),
        ))

    def _status(self, values: Mapping[str, Any]) -> str:
        """A case entered or imported without a status is open."""
        return values.get(self.status_field) or OPEN

    # --- the rules every case keeps ---------------------------------------------------------------------------

    def rules(self) -> tuple[Rule, ...]:
        s, o, c = self.status_field, self.opened_field, self.closed_field
        return (
            Custom((self.outcome_field, s), L("A closed case needs its outcome.",
                                              "Kesi iliyofungwa inahitaji matokeo yake."),
                   ok=lambda v: v.get(s) != CLOSED or bool(v.get(self.outcome_field))),
            Custom((c, s), L("A closed case needs the date it was closed.",
                             "Kesi iliyofungwa inahitaji tarehe ilipofungwa."),
                   ok=lambda v: v.get(s) != CLOSED or bool(v.get(c))),
            NotBefore((c, o), L("The case is closed before it was opened.",
                                "Kesi imefungwa kabla ya kufunguliwa.")),
            NotBefore((self.reopened_field, o), L("The case is reopened before it was opened.",
                                                  "Kesi imefunguliwa upya kabla ya kufunguliwa.")),
            Custom((self.reopen_reason_field, s), L("Say why the case was reopened.",
                                                    "Eleza kwa nini kesi ilifunguliwa upya."),
                   ok=lambda v: v.get(s) != REOPENED or bool(v.get(self.reopen_reason_field))),
            RowRule((self.sessions, self.session_date), L("This is before the case was opened.",
                                                          "Hii ni kabla ya kesi kufunguliwa."),
                    ok=lambda row, v: not_before(row.get(self.session_date), v.get(o)), at=self.session_date),
            RowRule((self.referrals, self.referral_date), L("This is before the case was opened.",
                                                            "Hii ni kabla ya kesi kufunguliwa."),
                    ok=lambda row, v: not_before(row.get(self.referral_date), v.get(o)), at=self.referral_date),
            RowRule((self.referrals, self.referral_result_date), L("The result is dated before the referral.",
                                                                   "Matokeo yana tarehe kabla ya rufaa."),
                    ok=lambda row, v: not_before(row.get(self.referral_result_date), row.get(self.referral_date)),
                    at=self.referral_result_date),
        )

    # --- reading a case's state from its values ---------------------------------------------------------------

    def is_open(self, values) -> bool:
        return values.get(self.status_field) in self.open_statuses

    def pending_referrals(self, values) -> list[int]:
        return [i for i, row in enumerate(values.get(self.referrals) or [])
                if row.get(self.referral_result) in (None, "pending")]

    def step(self, key: str) -> Step | None:
        return next((s for s in self.steps if s.key == key), None)


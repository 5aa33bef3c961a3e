"""Monthly team meetings (Observatory, Access to Justice, Police Service Delivery): who came from which agency,
what data was reviewed, lessons, decisions, and action points followed until done."""

from __future__ import annotations

from ..i18n import L
from .choices import C, define
from .conditions import Eq
from .definition import Form, Repeat, RowRule, Section, not_before
from .fields import CHOICE, DATE, INTEGER, LONGTEXT, MULTI, TEXT, Field

define(
    "meeting_team",
    C("observatory", "Observatory Team", "Timu ya Uchunguzi wa Uhalifu", aliases="crime observatory"),
    C("access_to_justice", "Access to Justice Team", "Timu ya Upatikanaji wa Haki", aliases="a2j|justice"),
    C("police_service", "Police Service Delivery Team", "Timu ya Utoaji wa Huduma za Polisi",
      aliases="police service delivery|policing"),
)
define(
    "meeting_data",
    C("observatory", "Crime Observatory data", "Takwimu za uchunguzi wa uhalifu"),
    C("feedback", "Users' feedback scores", "Alama za maoni ya watumiaji"),
    C("police_ratings", "Police service ratings", "Tathmini za huduma za polisi"),
    C("complaints", "Complaints register", "Rejista ya malalamiko"),
    C("safety_audit", "Safety audit results", "Matokeo ya ukaguzi wa usalama"),
    C("groups", "At-risk group reports", "Ripoti za vikundi"),
    C("cases", "Case registers (counselling, family, elders)", "Rejista za kesi (ushauri, familia, wazee)"),
    C("other", "Other", "Nyingine"),
)
ACTION_STATUS = "action_status"
define(
    ACTION_STATUS,
    C("open", "Open", "Wazi"),
    C("in_progress", "In progress", "Inaendelea"),
    C("done", "Done", "Imekamilika"),
    C("dropped", "Dropped", "Imeachwa"),
)
OPEN_ACTIONS = ("open", "in_progress")


def _present_total(values) -> int | None:
    numbers = [r.get("number") for r in values.get("present") or [] if isinstance(r.get("number"), int)]
    return sum(numbers) if numbers else None


TEAM_MEETING = Form(
    name="team_meeting",
    module="meetings",
    title=L("Team meeting", "Mkutano wa timu"),
    description=L("A monthly meeting of one of the forum's teams, with its action points.",
                  "Mkutano wa kila mwezi wa moja ya timu za jukwaa, pamoja na hatua za kuchukua."),
    date_field="meeting_date",
    category_field="team",
    title_fields=("team", "meeting_date"),
    list_columns=("meeting_date", "team", "venue", "members_present"),
    sections=(
        Section(L("Meeting", "Mkutano"), (
            Field("team", CHOICE, L("Team", "Timu"), choices="meeting_team", required=True, dimension=True,
                  searchable=True),
            Field("meeting_date", DATE, L("Date", "Tarehe"), required=True),
            Field("venue", TEXT, L("Venue", "Mahali"), max_length=120),
            Repeat("present", L("Members present, by agency", "Wanachama waliohudhuria, kwa taasisi"),
                   item_label=L("Agency", "Taasisi"), max_rows=40, fields=(
                       Field("agency_type", CHOICE, L("Kind of agency", "Aina ya taasisi"), choices="agency_types",
                             required=True, dimension=True),
                       Field("agency_name", TEXT, L("Agency", "Taasisi"), max_length=120),
                       Field("number", INTEGER, L("People present", "Waliohudhuria"), required=True, minimum=1,
                             maximum=200),
                   )),
            Field("members_present", INTEGER, L("Members present in all", "Wanachama wote waliohudhuria"),
                  derive=_present_total, read_only=True),
        )),
        Section(L("Discussion", "Majadiliano"), (
            Field("data_reviewed", MULTI, L("Data reviewed", "Takwimu zilizopitiwa"), choices="meeting_data",
                  dimension=True),
            Field("data_notes", LONGTEXT, L("What the data showed", "Takwimu zilionyesha nini"), max_length=4000),
            Field("lessons", LONGTEXT, L("Lessons on sharing data", "Mafunzo kuhusu kushiriki takwimu"),
                  max_length=4000),
            Field("decisions", LONGTEXT, L("Decisions", "Maamuzi"), max_length=4000),
        )),
        Section(L("Action points", "Hatua za kuchukua"), (
            Repeat("action_points", L("Action points", "Hatua za kuchukua"), item_label=L("Action", "Hatua"),
                   max_rows=50, fields=(
                       Field("action", TEXT, L("Action", "Hatua"), required=True, max_length=300),
                       Field("owner", TEXT, L("Who does it", "Anayehusika"), required=True, max_length=120),
                       Field("due_on", DATE, L("Due by", "Tarehe ya mwisho"), required=True, allow_future=True),
                       Field("status", CHOICE, L("Status", "Hali"), choices=ACTION_STATUS, required=True,
                             dimension=True),
                       Field("done_on", DATE, L("Done on", "Ilikamilika tarehe"), relevant=Eq("status", "done")),
                   )),
            Field("next_meeting", DATE, L("Next meeting", "Mkutano ujao"), allow_future=True),
        )),
    ),
    rules=(
        RowRule(("action_points", "due_on", "meeting_date"), L("Due before the meeting that set it.",
                                                               "Tarehe ya mwisho iko kabla ya mkutano."),
                ok=lambda row, v: not_before(row.get("due_on"), v.get("meeting_date")), at="due_on"),
        RowRule(("action_points", "done_on", "meeting_date"), L("Done before the meeting that set it.",
                                                                "Ilikamilika kabla ya mkutano."),
                ok=lambda row, v: not_before(row.get("done_on"), v.get("meeting_date")), at="done_on"),
    ),
)

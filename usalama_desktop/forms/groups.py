"""At-risk groups (boda boda, car wash, bar maids, sports clubs, matatu crews): the registry of each group with its
members and the rules it adopted, and dated activity entries (savings, trainings, meetings with police, incidents)
that show its progress over time."""

from __future__ import annotations

from ..i18n import L
from .choices import C, define
from .conditions import Eq, Filled
from .definition import Form, Repeat, RowRule, Section, not_before
from .fields import CHOICE, DATE, DECIMAL, INTEGER, LONGTEXT, PLACE, REFERENCE, TEXT, YESNO, Field

define(
    "at_risk_group_type",
    C("boda_boda", "Boda boda group", "Kikundi cha boda boda", aliases="boda|bodaboda|motorbike taxi"),
    C("car_wash", "Car wash group", "Kikundi cha kuosha magari", aliases="carwash"),
    C("bar_maids", "Bar maids", "Wahudumu wa baa", aliases="barmaids|bar attendants"),
    C("sports_club", "Sports club", "Klabu ya michezo", aliases="football club|sports"),
    C("matatu_crew", "Matatu crew", "Wahudumu wa matatu", aliases="matatu|touts"),
    C("other", "Other", "Nyingine"),
)
define(
    "group_registration",
    C("social_services", "Registered with Social Services", "Kimesajiliwa na Huduma za Jamii"),
    C("county", "Registered with the county", "Kimesajiliwa na kaunti"),
    C("sacco", "Registered as a SACCO", "Kimesajiliwa kama SACCO"),
    C("not_registered", "Not registered", "Hakijasajiliwa"),
    C("unknown", "Unknown", "Haijulikani"),
)
define(
    "group_status",
    C("active", "Active", "Hai"), C("dormant", "Dormant", "Kimesinzia"), C("dissolved", "Dissolved", "Kimevunjwa"),
)
define(
    "group_activity_kind",
    C("savings", "Savings or venture report", "Ripoti ya akiba au mradi", aliases="savings|venture"),
    C("training", "Training", "Mafunzo"),
    C("police_meeting", "Joint meeting with police", "Mkutano wa pamoja na polisi", aliases="meeting with police"),
    C("incident", "Incident or conflict reported", "Tukio au mgogoro ulioripotiwa", aliases="incident|conflict"),
    C("other", "Other activity", "Shughuli nyingine"),
)
define(
    "group_training_topic",
    C("finance", "Savings and money management", "Akiba na usimamizi wa pesa"),
    C("road_safety", "Road safety", "Usalama barabarani"),
    C("drugs", "Drugs and alcohol", "Dawa za kulevya na pombe"),
    C("conflict", "Resolving conflicts", "Kutatua migogoro"),
    C("rights", "Rights, duties and the police", "Haki, wajibu na polisi"),
    C("leadership", "Leadership and group rules", "Uongozi na kanuni za kikundi"),
    C("business", "Running a business", "Kuendesha biashara"),
    C("other", "Other", "Nyingine"),
)
define(
    "group_incident_type",
    C("internal", "Conflict inside the group", "Mgogoro ndani ya kikundi"),
    C("clients", "Conflict with clients", "Mgogoro na wateja"),
    C("other_group", "Conflict with another group", "Mgogoro na kikundi kingine"),
    C("police", "Conflict with police or county officers", "Mgogoro na polisi au maafisa wa kaunti"),
    C("crash", "Road crash", "Ajali ya barabarani"),
    C("theft", "Theft or robbery", "Wizi au unyang'anyi"),
    C("violence", "Fight or assault", "Vita au shambulio"),
    C("drugs", "Drugs or alcohol", "Dawa za kulevya au pombe"),
    C("other", "Other", "Nyingine"),
)


def _member_total(values) -> int | None:
    rows = values.get("members") or []
    numbers = [r.get("number") for r in rows if isinstance(r.get("number"), int)]
    return sum(numbers) if numbers else None


RISK_GROUP = Form(
    name="risk_group",
    module="groups",
    title=L("At-risk group", "Kikundi cha vijana walio hatarini"),
    description=L("A boda boda, car wash, bar maids', sports or matatu crew group working with the forum: who they "
                  "are, where they are based and the rules they adopted.",
                  "Kikundi cha boda boda, kuosha magari, wahudumu wa baa, michezo au matatu kinachofanya kazi na "
                  "jukwaa: ni akina nani, wako wapi na kanuni walizokubali."),
    date_field="joined_on",
    category_field="group_type",
    status_field="status",
    place_field="base",
    title_fields=("group_name", "group_type"),
    list_columns=("group_name", "group_type", "base", "member_total", "joined_on", "status"),
    sections=(
        Section(L("Group", "Kikundi"), (
            Field("group_name", TEXT, L("Group name", "Jina la kikundi"), required=True, unique=True, max_length=120,
                  searchable=True),
            Field("group_type", CHOICE, L("Kind of group", "Aina ya kikundi"), choices="at_risk_group_type",
                  required=True, dimension=True, searchable=True),
            Field("type_other", TEXT, L("Other kind", "Aina nyingine"), max_length=120,
                  relevant=Eq("group_type", "other"), required=True),
            Field("base", PLACE, L("Base (stage, car wash, bar, field)", "Makao (stendi, mahali pa kuosha magari, "
                                                                          "baa, uwanja)"),
                  required=True, dimension=True),
            Field("joined_on", DATE, L("Joined the programme", "Kilijiunga na mpango"), required=True,
                  precision="either"),
            Field("registration", CHOICE, L("Registration", "Usajili"), choices="group_registration",
                  dimension=True),
            Field("status", CHOICE, L("Status", "Hali"), choices="group_status", required=True, default="active",
                  dimension=True),
        )),
        Section(L("Members", "Wanachama"), (
            Repeat("members", L("Members by sex and age band", "Wanachama kwa jinsia na umri"),
                   item_label=L("Members", "Wanachama"), max_rows=30, fields=(
                       Field("sex", CHOICE, L("Sex", "Jinsia"), choices="sex", required=True, dimension=True),
                       Field("age_band", CHOICE, L("Age band", "Kundi la umri"), choices="age_band", required=True,
                             dimension=True),
                       Field("number", INTEGER, L("Number", "Idadi"), required=True, minimum=1, maximum=5000),
                   )),
            Field("member_total", INTEGER, L("Members in all", "Wanachama wote"), derive=_member_total,
                  read_only=True),
        )),
        Section(L("Leaders' contacts", "Mawasiliano ya viongozi"), (
            Field("contacts_consent", YESNO, L("The leaders agreed to have their contacts kept",
                                               "Viongozi wamekubali mawasiliano yao yahifadhiwe"), default=False,
                  help=L("Without their agreement no names or numbers are kept.",
                         "Bila idhini yao hakuna majina wala nambari zinazohifadhiwa.")),
            Field("consent_date", DATE, L("Date they agreed", "Tarehe walipokubali"),
                  relevant=Filled("contacts_consent"), required=True),
            Field("leader_contacts", LONGTEXT, L("Leaders' names, roles and phone numbers",
                                                 "Majina, nafasi na nambari za simu za viongozi"),
                  tier="identifying", max_length=2000, relevant=Filled("contacts_consent")),
        )),
        Section(L("Rules", "Kanuni"), (
            Repeat("rules", L("Rules the group adopted", "Kanuni ambazo kikundi kilikubali"),
                   item_label=L("Rule", "Kanuni"), max_rows=50, fields=(
                       Field("rule", TEXT, L("Rule", "Kanuni"), required=True, max_length=300),
                       Field("adopted_on", DATE, L("Adopted on", "Ilikubaliwa tarehe"), precision="either"),
                       Field("shared_with_police", YESNO, L("Shared with the police", "Imeshirikishwa polisi")),
                       Field("shared_on", DATE, L("Shared on", "Ilishirikishwa tarehe"), precision="either",
                             relevant=Filled("shared_with_police")),
                   )),
            Field("notes", LONGTEXT, L("Notes", "Maelezo"), max_length=4000),
        )),
    ),
    rules=(
        RowRule(("rules", "shared_on", "adopted_on"), L("Shared with the police before the rule was adopted.",
                                                        "Ilishirikishwa polisi kabla ya kukubaliwa."),
                ok=lambda row, v: not_before(row.get("shared_on"), row.get("adopted_on")), at="shared_on"),
    ),
)


GROUP_ACTIVITY = Form(
    name="group_activity",
    module="groups",
    title=L("At-risk group activity", "Shughuli ya kikundi"),
    description=L("Something a group did or reported on a given day: savings, a training, a meeting with police, "
                  "an incident or conflict.",
                  "Jambo kikundi kilifanya au kuripoti siku fulani: akiba, mafunzo, mkutano na polisi, tukio au "
                  "mgogoro."),
    date_field="activity_date",
    category_field="kind",
    title_fields=("kind", "activity_date"),
    list_columns=("activity_date", "kind", "title", "participants_female", "participants_male"),
    indexes=(("group_id", "activity_date"),),
    sections=(
        Section(L("Activity", "Shughuli"), (
            Field("group_id", REFERENCE, L("Group", "Kikundi"), target="risk_group", required=True,
                  searchable=False),
            Field("activity_date", DATE, L("Date", "Tarehe"), required=True),
            Field("kind", CHOICE, L("Kind of activity", "Aina ya shughuli"), choices="group_activity_kind",
                  required=True, dimension=True, searchable=True),
            Field("title", TEXT, L("Short description", "Maelezo mafupi"), max_length=200),
            Field("participants_female", INTEGER, L("Women taking part", "Wanawake walioshiriki"), minimum=0,
                  maximum=5000),
            Field("participants_male", INTEGER, L("Men taking part", "Wanaume walioshiriki"), minimum=0,
                  maximum=5000),
        )),
        Section(L("Savings and ventures", "Akiba na miradi"), (
            Field("members_saving", INTEGER, L("Members saving", "Wanachama wanaoweka akiba"), minimum=0,
                  maximum=5000),
            Field("savings_total_kes", DECIMAL, L("Group savings so far (KES)", "Akiba ya kikundi hadi sasa (KES)"),
                  minimum=0, maximum=1e9),
            Field("venture", TEXT, L("Venture started or running", "Mradi ulioanzishwa au unaoendelea"),
                  max_length=200),
            Field("venture_income_kes", DECIMAL, L("Venture income this period (KES)", "Mapato ya mradi (KES)"),
                  minimum=0, maximum=1e9),
        ), relevant=Eq("kind", "savings")),
        Section(L("Training", "Mafunzo"), (
            Field("topic", CHOICE, L("Topic", "Mada"), choices="group_training_topic", dimension=True,
                  required=True),
            Field("trainer", TEXT, L("Given by", "Yalitolewa na"), max_length=120),
        ), relevant=Eq("kind", "training")),
        Section(L("Meeting with police", "Mkutano na polisi"), (
            Field("station", TEXT, L("Police station or post", "Kituo cha polisi"), max_length=120, required=True),
            Field("rules_discussed", YESNO, L("The group's rules were discussed", "Kanuni za kikundi zilijadiliwa")),
            Field("issues", TEXT, L("Issues raised", "Masuala yaliyoibuliwa"), max_length=500),
        ), relevant=Eq("kind", "police_meeting")),
        Section(L("Incident or conflict", "Tukio au mgogoro"), (
            Field("incident_type", CHOICE, L("Kind of incident", "Aina ya tukio"), choices="group_incident_type",
                  required=True, dimension=True),
            Field("reported_to_police", CHOICE, L("Reported to the police", "Liliripotiwa kwa polisi"),
                  choices="yes_no_unknown", dimension=True),
            Field("resolved", CHOICE, L("Resolved", "Limetatuliwa"), choices="yes_no_unknown", dimension=True),
            Field("resolution", TEXT, L("How it was resolved", "Jinsi lilivyotatuliwa"), max_length=500,
                  relevant=Eq("resolved", "yes")),
        ), relevant=Eq("kind", "incident")),
    ),
)

"""Family-violence prevention programme: a participant (a woman experiencing abuse or violence, at risk of it, or
herself abusive or violent in the family), the incidents recorded the GBVIMS way, sessions, safety plan, referrals,
outcome indicators over time, and exit.

Participants appear only as codes. Each incident gets exactly one GBVIMS core type, chosen by the act alone; the case
context (domestic violence, intimate partner violence...) is recorded apart, never as a type.
"""

from __future__ import annotations

from ..i18n import L
from . import observatory as _observatory  # noqa: F401  (declares the shared gbv_context list)
from .case import CaseWorkflow
from .choices import C, define
from .conditions import Filled
from .definition import Form, Repeat, RowRule, Section, not_before
from .fields import CHOICE, DATE, INTEGER, LONGTEXT, MULTI, PLACE, TEXT, YESNO, Field

define(
    "family_situation",
    C("experiencing", "Experiencing abuse or violence", "Anapitia unyanyasaji au ukatili"),
    C("at_risk", "At risk of abuse or violence", "Yuko hatarini kunyanyaswa au kudhulumiwa"),
    C("perpetrating", "Abusive or violent in the family", "Ananyanyasa au ni mkatili katika familia"),
)
define(
    "referred_from",
    C("self", "Self", "Mwenyewe"), C("police", "Police", "Polisi"), C("health", "Health facility", "Kituo cha afya"),
    C("chief", "Chief", "Chifu"), C("community", "Community member or group", "Mwanajamii au kikundi"),
    C("school", "School", "Shule"), C("children_office", "Children's office", "Ofisi ya watoto"),
    C("other", "Other", "Nyingine"),
)
define(
    "marital_status",
    C("single", "Single", "Hajaolewa / hajaoa"), C("married", "Married", "Ameolewa / ameoa"),
    C("cohabiting", "Living together", "Wanaishi pamoja"), C("separated", "Separated or divorced", "Wametengana"),
    C("widowed", "Widowed", "Mjane"), C("unknown", "Unknown", "Haijulikani"),
)
define(
    "displacement",
    C("resident", "Resident", "Mkazi"), C("idp", "Internally displaced", "Mkimbizi wa ndani"),
    C("refugee", "Refugee", "Mkimbizi"), C("returnee", "Returnee", "Aliyerejea"), C("unknown", "Unknown", "Haijulikani"),
)
define(
    "gbv_location",
    C("home", "Home", "Nyumbani"), C("street", "Street", "Barabarani"), C("school", "School", "Shuleni"),
    C("work", "Work place", "Mahali pa kazi"), C("other", "Other", "Kwingine"),
)
define(
    "harmful_practice",
    C("none", "None", "Hakuna"), C("fgm", "Female genital mutilation", "Ukeketaji"),
    C("child_marriage", "Child or forced marriage", "Ndoa ya utotoni au ya lazima"),
    C("wife_inheritance", "Wife inheritance", "Urithi wa mjane"),
    C("denial_of_education", "Denial of education for girls", "Kunyimwa elimu kwa wasichana"),
    C("other", "Other", "Nyingine"),
)
define(
    "abduction",
    C("none", "None", "Hakuna"), C("trafficked", "Trafficked", "Alisafirishwa kiharamu"),
    C("forced_conscription", "Forced conscription", "Aliandikishwa kwa lazima"), C("other", "Other", "Nyingine"),
)
define(
    "perpetrator_count",
    C("1", "1", "1"), C("2", "2", "2"), C("3", "3", "3"), C("more", "More than 3", "Zaidi ya 3", aliases=">3|4"),
    C("unknown", "Unknown", "Haijulikani"),
)
define(
    "perpetrator_sex",
    C("M", "Male", "Mwanamume", aliases="male|m"), C("F", "Female", "Mwanamke", aliases="female|f"),
    C("MF", "Male and female", "Wanaume na wanawake", aliases="m and f|both"), C("unknown", "Unknown", "Haijulikani"),
)
define(
    "perpetrator_age",
    C("0-11", "0-11", "0-11"), C("12-17", "12-17", "12-17"), C("18-25", "18-25", "18-25"),
    C("26-40", "26-40", "26-40"), C("41-60", "41-60", "41-60"), C("61+", "61 and older", "61 na zaidi"),
    C("unknown", "Unknown", "Haijulikani"),
)
define(
    "perpetrator_occupation",
    C("unemployed", "Unemployed", "Hana kazi"), C("farmer", "Farmer", "Mkulima"), C("trader", "Trader", "Mfanyabiashara"),
    C("casual", "Casual labourer", "Kibarua"), C("transport", "Boda boda or matatu", "Boda boda au matatu"),
    C("civil_servant", "Civil servant", "Mtumishi wa umma"), C("security", "Security forces", "Vikosi vya usalama"),
    C("teacher", "Teacher", "Mwalimu"), C("religious", "Religious leader", "Kiongozi wa dini"),
    C("student", "Student", "Mwanafunzi"), C("other", "Other", "Nyingine"), C("unknown", "Unknown", "Haijulikani"),
)
define(
    "yes_no_undecided",
    C("yes", "Yes", "Ndiyo"), C("no", "No", "Hapana"), C("undecided", "Undecided", "Bado hajaamua"),
)
define(
    "family_session_type",
    C("individual", "Individual", "Binafsi"), C("couple", "Couple", "Wanandoa"), C("family", "Family", "Familia"),
    C("group", "Group", "Kikundi"),
)
define(
    "family_referral",
    C("health", "Health", "Afya"), C("police", "Police", "Polisi"), C("rescue_centre", "Rescue centre", "Kituo cha uokoaji"),
    C("legal_aid", "Legal aid", "Msaada wa kisheria"), C("psychosocial", "Psychosocial support", "Msaada wa kisaikolojia"),
    C("livelihoods", "Livelihoods", "Riziki"), C("child_protection", "Child protection or education",
                                                   "Ulinzi wa mtoto au elimu"),
    C("other", "Other", "Nyingine"),
)
define(
    "feels_safe",
    C("safe", "Safe", "Salama"), C("somewhat", "Somewhat safe", "Salama kiasi"), C("unsafe", "Unsafe", "Si salama"),
)
define(
    "better_same_worse",
    C("better", "Better", "Bora zaidi"), C("same", "The same", "Vilevile"), C("worse", "Worse", "Mbaya zaidi"),
)
define(
    "family_exit",
    C("goals_met", "Goals met", "Malengo yametimizwa"), C("improved", "Improved", "Imeimarika"),
    C("no_change", "No change", "Hakuna mabadiliko"), C("moved", "Moved away", "Amehama"),
    C("dropped_out", "Dropped out", "Ameacha"), C("referred", "Referred on", "Amepelekwa kwingine"),
    C("other", "Other", "Nyingine"),
)

CASE = CaseWorkflow(outcome_choices="family_exit", referral_targets="family_referral")


FAMILY_CASE = Form(
    name="family_case",
    module="family",
    title=L("Family-violence programme participant", "Mshiriki wa mpango wa kuzuia ukatili wa familia"),
    description=L("A participant of the family-violence prevention programme, her incidents, sessions, safety plan, "
                  "referrals and progress.",
                  "Mshiriki wa mpango wa kuzuia ukatili wa familia, matukio yake, vikao, mpango wa usalama, rufaa na "
                  "maendeleo."),
    reference_field="case_no",
    date_field="opened_on",
    category_field="risk_level",
    status_field="status",
    place_field="place",
    title_fields=("case_no", "risk_level", "opened_on"),
    list_columns=("opened_on", "case_no", "participant_code", "situation", "risk_level", "place", "status"),
    referral_consent_field="share_consent",
    case=CASE,
    sections=(
        Section(L("Case", "Kesi"), (
            Field("case_no", TEXT, L("Case number", "Nambari ya kesi"), max_length=40, unique=True, searchable=True,
                  help=L("The programme's own number, e.g. FV/2024/012.", "Nambari ya mpango, k.m. FV/2024/012.")),
            CASE.opened(L("Date enrolled", "Tarehe ya kujiunga")),
            Field("referred_from", CHOICE, L("Referred from", "Ametoka kwa"), choices="referred_from",
                  dimension=True),
            Field("caseworker_code", TEXT, L("Caseworker code", "Nambari ya mhudumu"), max_length=20,
                  help=L("A code, never a name: it goes into the GBVIMS export.",
                         "Nambari, si jina: huingia kwenye ripoti ya GBVIMS.")),
        )),
        Section(L("Participant", "Mshiriki"), (
            Field("participant_code", TEXT, L("Participant code", "Nambari ya mshiriki"), tier="identifying",
                  required=True, max_length=40, searchable=True,
                  help=L("A code the programme gives; never the name.", "Nambari inayotolewa na mpango; si jina.")),
            Field("household_code", TEXT, L("Household code", "Nambari ya kaya"), tier="identifying", max_length=40),
            Field("situation", MULTI, L("Which of these applies", "Lipi kati ya haya linahusu"),
                  choices="family_situation", required=True, dimension=True),
            Field("sex", CHOICE, L("Sex", "Jinsia"), choices="sex", required=True, dimension=True, default="female"),
            Field("age_band", CHOICE, L("Age band", "Kundi la umri"), choices="age_band", required=True,
                  dimension=True),
            Field("marital_status", CHOICE, L("Marital status", "Hali ya ndoa"), choices="marital_status",
                  dimension=True),
            Field("disability", YESNO, L("Person with disability", "Mtu mwenye ulemavu"), dimension=True),
            Field("displacement", CHOICE, L("Displacement status", "Hali ya kuhama makazi"), choices="displacement",
                  dimension=True, default="resident"),
            Field("household_size", INTEGER, L("People in the household", "Watu katika kaya"), minimum=1,
                  maximum=40),
            Field("children_in_household", INTEGER, L("Children in the household", "Watoto katika kaya"), minimum=0,
                  maximum=30),
            Field("place", PLACE, L("Where the household lives", "Mahali kaya inapoishi"), required=True,
                  dimension=True),
            Field("risk_level", CHOICE, L("Risk level", "Kiwango cha hatari"), choices="risk_level", required=True,
                  dimension=True),
        )),
        Section(L("Incidents", "Matukio"), (
            Repeat("incidents", L("Incidents (GBVIMS)", "Matukio (GBVIMS)"), item_label=L("Incident", "Tukio"),
                   help=L("One core type per incident, chosen by the act alone; the context goes apart.",
                          "Aina kuu moja kwa kila tukio, huchaguliwa kwa kitendo pekee; muktadha huwekwa kando."),
                   fields=(
                       Field("incident_on", DATE, L("Date of the incident", "Tarehe ya tukio"), required=True,
                             precision="either"),
                       Field("interviewed_on", DATE, L("Date of the interview", "Tarehe ya mahojiano"),
                             required=True),
                       Field("gbv_type", CHOICE, L("GBVIMS core type", "Aina kuu ya GBVIMS"), choices="gbvims_types",
                             required=True, dimension=True),
                       Field("context", CHOICE, L("Case context", "Muktadha wa kesi"), choices="gbv_context",
                             dimension=True),
                       Field("time_of_day", CHOICE, L("Time of day", "Wakati wa siku"), choices="time_of_day",
                             dimension=True),
                       Field("location", CHOICE, L("Where it happened", "Mahali lilipotokea"), choices="gbv_location",
                             dimension=True),
                       Field("harmful_practice", CHOICE, L("Harmful traditional practice", "Desturi yenye madhara"),
                             choices="harmful_practice", dimension=True),
                       Field("money_exchanged", YESNO, L("Money, goods or benefits exchanged",
                                                         "Pesa, bidhaa au manufaa yalibadilishwa")),
                       Field("abduction", CHOICE, L("Type of abduction", "Aina ya utekaji"), choices="abduction"),
                       Field("previously_reported", YESNO, L("Reported elsewhere before", "Iliripotiwa kwingine awali")),
                       Field("previous_incidents", YESNO, L("Earlier incidents of GBV", "Matukio ya awali ya ukatili")),
                       Field("perpetrator_count", CHOICE, L("Number of alleged perpetrators",
                                                            "Idadi ya washukiwa"), choices="perpetrator_count"),
                       Field("perpetrator_sex", CHOICE, L("Perpetrator sex", "Jinsia ya mshukiwa"),
                             choices="perpetrator_sex", dimension=True),
                       Field("same_perpetrator_before", YESNO, L("Earlier incident with this perpetrator",
                                                                 "Tukio la awali na mshukiwa huyu")),
                       Field("perpetrator_age", CHOICE, L("Perpetrator age group", "Kundi la umri la mshukiwa"),
                             choices="perpetrator_age", dimension=True),
                       Field("relationship", CHOICE, L("Perpetrator's relationship to her",
                                                       "Uhusiano wa mshukiwa naye"),
                             choices="perpetrator_relationship", dimension=True),
                       Field("perpetrator_occupation", CHOICE, L("Perpetrator occupation", "Kazi ya mshukiwa"),
                             choices="perpetrator_occupation"),
                       Field("wants_legal_action", CHOICE, L("Wants legal action", "Anataka hatua za kisheria"),
                             choices="yes_no_undecided"),
                       Field("consent_share", YESNO, L("Consents to share the de-identified incident data",
                                                       "Ameridhia data ya tukio isiyo na utambulisho ishirikiwe")),
                   )),
        )),
        Section(L("Sessions", "Vikao"), (
            CASE.sessions_repeat(
                Field("session_type", CHOICE, L("Type of session", "Aina ya kikao"), choices="family_session_type",
                      required=True, dimension=True),
                Field("notes", LONGTEXT, L("Session notes (stay on this computer)",
                                           "Maelezo ya kikao (hubaki kwenye kompyuta hii)"),
                      tier="narrative", local_only=True, max_length=6000),
            ),
        )),
        Section(L("Safety plan", "Mpango wa usalama"), (
            Field("safety_plan", YESNO, L("Safety plan made", "Mpango wa usalama umewekwa"), dimension=True),
            Field("safety_plan_on", DATE, L("Date of the safety plan", "Tarehe ya mpango wa usalama"),
                  relevant=Filled("safety_plan"), required=True),
            Field("safety_plan_reviewed_on", DATE, L("Last reviewed on", "Ulipitiwa mara ya mwisho"),
                  relevant=Filled("safety_plan")),
            Field("safety_plan_notes", LONGTEXT, L("Safety plan (stays on this computer)",
                                                   "Mpango wa usalama (hubaki kwenye kompyuta hii)"),
                  tier="narrative", local_only=True, max_length=4000, relevant=Filled("safety_plan")),
        )),
        Section(L("Referrals", "Rufaa"), (
            CASE.referrals_repeat(),
            Field("share_consent", YESNO, L("Consent to share the case with the agency it is referred to",
                                            "Ridhaa ya kushiriki kesi na taasisi inayopelekwa")),
        )),
        Section(L("Progress", "Maendeleo"), (
            Repeat("indicators", L("Family outcome indicators", "Viashiria vya matokeo ya familia"),
                   item_label=L("Check", "Tathmini"), max_rows=200, fields=(
                       Field("checked_on", DATE, L("Date", "Tarehe"), required=True),
                       Field("violence_since_last", CHOICE, L("Violence since the last check",
                                                              "Ukatili tangu tathmini iliyopita"),
                             choices="yes_no_unknown", required=True, dimension=True),
                       Field("feels_safe", CHOICE, L("Feels safe at home", "Anajisikia salama nyumbani"),
                             choices="feels_safe", dimension=True),
                       Field("communication", CHOICE, L("Family communication", "Mawasiliano ya familia"),
                             choices="better_same_worse", dimension=True),
                       Field("children_in_school", CHOICE, L("Children attending school",
                                                             "Watoto wanahudhuria shule"),
                             choices="yes_no_unknown", dimension=True),
                   )),
        )),
        CASE.status_section(L("Exit", "Kuondoka")),
    ),
    rules=(
        *CASE.rules(),
        RowRule(("incidents", "interviewed_on", "incident_on"),
                L("The interview is dated before the incident.", "Mahojiano yana tarehe kabla ya tukio."),
                ok=lambda row, v: not_before(row.get("interviewed_on"), row.get("incident_on")), at="interviewed_on"),
        RowRule(("indicators", "checked_on"), L("This is before the participant enrolled.",
                                                "Hii ni kabla ya mshiriki kujiunga."),
                ok=lambda row, v: not_before(row.get("checked_on"), v.get("opened_on")), at="checked_on"),
    ),
)

__all__ = ["FAMILY_CASE"]

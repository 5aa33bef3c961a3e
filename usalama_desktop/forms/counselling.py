"""School guidance and counselling: a learner's case, its sessions, referrals and outcome.

Only the school's counsellors and the administrator see who the learner is; the school's summary counts travel
de-identified (class, sex, age band, concern, risk, outcome). A child's case needs the guardian informed and
consenting, or a written best-interest reason (Data Protection Act 2019 s.33).
"""

from __future__ import annotations

from ..i18n import L
from .case import CaseWorkflow
from .choices import AGE_BANDS, C, define, get
from .conditions import Any_, Eq, Filled, In, Not
from .definition import Custom, Form, Section
from .fields import CHOICE, INTEGER, LONGTEXT, MULTI, TEXT, YESNO, Field

# CPIMS codes kept where a concern maps to a Department of Children's Services category.
define(
    "counselling_concern",
    C("bullying_victim", "Victim of bullying", "Mwathiriwa wa uonevu", cpims="CSNG"),
    C("bullying_perpetrator", "Perpetrator of bullying", "Mwonevu", cpims="CORP"),
    C("drugs", "Drugs and substance use", "Matumizi ya dawa za kulevya", cpims="CSDS"),
    C("home_violence", "Violence at home", "Vurugu nyumbani", cpims="CSNG"),
    C("neglect", "Neglect", "Kutelekezwa", cpims="CSIC"),
    C("emotional_abuse", "Emotional abuse", "Unyanyasaji wa kihisia", cpims="CCEA"),
    C("sexual_abuse", "Sexual abuse", "Unyanyasaji wa kingono", cpims="CSRC"),
    C("pregnancy", "Pregnancy", "Mimba", cpims="CSHV"),
    C("truancy", "Truancy", "Utoro", cpims="CCCT"),
    C("other", "Other", "Nyingine"),
)
define(
    "cpims_drug",
    C("alcohol", "Alcohol", "Pombe"), C("cigarettes", "Cigarettes", "Sigara"), C("cocaine", "Cocaine", "Kokeini"),
    C("heroin", "Heroin", "Heroini"), C("marijuana", "Marijuana (bhang)", "Bangi", aliases="bhang"),
    C("miraa", "Miraa / khat", "Miraa", aliases="khat"), C("muguka", "Muguka", "Muguka"),
    C("other_tobacco", "Other tobacco (mbake)", "Tumbaku nyingine (mbake)", aliases="mbake"),
    C("sedatives", "Tranquilizers / sedatives", "Dawa za kutuliza"),
    C("inhalants", "Volatile inhalants (petrol, glue)", "Vitu vya kunusa (petroli, gundi)", aliases="glue"),
    C("other", "Other", "Nyingine"),
)
define(
    "cpims_neglect",
    C("basic_services", "Denial of basic services (food, shelter, water)",
      "Kunyimwa huduma za msingi (chakula, makazi, maji)"),
    C("education", "Denial of education", "Kunyimwa elimu"),
    C("movement", "Denial of freedom of movement", "Kunyimwa uhuru wa kutembea"),
    C("health", "Denial of health services", "Kunyimwa huduma za afya"),
    C("love", "Denial of love and attention", "Kunyimwa upendo na uangalizi"),
    C("participation", "Denial of participation", "Kunyimwa ushiriki"),
    C("worship", "Denial of place of worship", "Kunyimwa mahali pa ibada"),
    C("other", "Other", "Nyingine"),
)
define(
    "cpims_emotional_abuse",
    C("corrupting", "Corrupting", "Kupotosha"), C("exploiting", "Exploiting", "Kunyonya"),
    C("ignoring", "Ignoring", "Kupuuza"), C("isolating", "Isolating", "Kutenga"),
    C("rejecting", "Rejecting", "Kukataa"),
    C("terrorizing", "Terrorizing (incl. witnessing domestic violence)",
      "Kutisha (pamoja na kushuhudia ukatili wa nyumbani)"),
)
define(
    "school_class",
    C("pp1", "PP1", "PP1"), C("pp2", "PP2", "PP2"),
    *[C(f"grade_{n}", f"Grade {n}", f"Gredi {n}", aliases=f"g{n}|std {n}|standard {n}|class {n}")
      for n in range(1, 13)],
    *[C(f"form_{n}", f"Form {n}", f"Kidato cha {n}", aliases=f"f{n}") for n in range(1, 5)],
)
define(
    "case_reporter",
    C("self", "The learner", "Mwanafunzi mwenyewe"), C("teacher", "Teacher", "Mwalimu"),
    C("parent", "Parent or guardian", "Mzazi au mlezi"), C("peer", "Fellow learner", "Mwanafunzi mwenzake"),
    C("staff", "Other school staff", "Mfanyakazi mwingine wa shule"), C("helpline", "Helpline 116", "Simu 116"),
    C("chief", "Chief", "Chifu"), C("police", "Police", "Polisi"), C("other", "Other", "Nyingine"),
)
define("case_nature", C("one_off", "One-off event", "Tukio la mara moja"),
       C("chronic", "Chronic / on-going", "Sugu / linaloendelea"))
define(
    "counselling_session_type",
    C("individual", "Individual", "Binafsi"), C("group", "Group", "Kikundi"),
    C("with_guardian", "With parent or guardian", "Pamoja na mzazi au mlezi"),
    C("with_teacher", "With class teacher", "Pamoja na mwalimu wa darasa"),
    C("home_visit", "Home visit", "Ziara ya nyumbani"),
)
define(
    "counselling_referral",
    C("children_officer", "Children's officer", "Afisa wa watoto"),
    C("health", "Health facility", "Kituo cha afya"), C("police", "Police", "Polisi"),
    C("parents", "Parents or guardian", "Wazazi au mlezi"), C("other", "Other", "Nyingine"),
)
define(
    "counselling_outcome",
    C("improved", "Improved", "Imeimarika"), C("stable", "Stable", "Imetulia"), C("worse", "Worse", "Imezorota"),
    C("referred", "Referred", "Imepelekwa kwingine"), C("closed", "Concern resolved", "Tatizo limetatuliwa"),
)
define(
    "counselling_closure",
    C("concern_resolved", "Concern resolved", "Tatizo limetatuliwa"),
    C("reintegrated", "Reintegrated into education", "Amerudishwa shuleni"),
    C("removed", "Removed from exploitative situation", "Ameondolewa kwenye hali ya unyonyaji"),
    C("transferred", "Transferred", "Amehamishwa"), C("lost_contact", "Lost contact", "Mawasiliano yamepotea"),
    C("other", "Other", "Nyingine"),
)

CASE = CaseWorkflow(
    outcome_choices="counselling_outcome",
    referral_targets="counselling_referral",
    close_fields=("closure_reason",),
)


def _age_band(values):
    age = values.get("age")
    if not isinstance(age, int):
        return None
    for band in AGE_BANDS.values:
        low, _sep, high = band.partition("-")
        if band == "60+" and age >= 60:
            return band
        if high and low.isdigit() and int(low) <= age <= int(high):
            return band
    return None


def _cpims_codes(values):
    chosen = [values.get("main_concern"), *(values.get("other_concerns") or [])]
    concerns = get("counselling_concern")
    codes = []
    for value in chosen:
        choice = concerns.by_value.get(value) if value else None
        code = choice.get("cpims") if choice else ""
        if code and code not in codes:
            codes.append(code)
    order = get("cpims_categories").values
    return sorted(codes, key=order.index) or None


def _concern(value: str) -> Any_:
    """The main concern or one of the other concerns."""
    return Any_((Eq("main_concern", value), Eq("other_concerns", value)))


def is_child(values) -> bool:
    """A learner of unknown age is treated as a child: the safe side of the consent rule."""
    age = values.get("age")
    return not isinstance(age, int) or age < 18


def child_consent_ok(values) -> bool:
    if not is_child(values):
        return True
    if values.get("guardian_informed") and values.get("guardian_consent"):
        return True
    return bool((values.get("best_interest_reason") or "").strip())


COUNSELLING_CASE = Form(
    name="counselling_case",
    module="counselling",
    title=L("Guidance and counselling case", "Kesi ya ushauri nasaha"),
    description=L("A learner in difficulty: concerns, sessions, referrals and outcome, kept by the school's counsellor.",
                  "Mwanafunzi mwenye shida: matatizo, vikao, rufaa na matokeo, hutunzwa na mwalimu wa ushauri."),
    reference_field="case_no",
    date_field="opened_on",
    category_field="main_concern",
    status_field="status",
    title_fields=("case_no", "main_concern", "opened_on"),
    list_columns=("opened_on", "case_no", "learner_code", "school_class", "sex", "main_concern", "risk_level",
                  "status"),
    referral_consent_field="share_consent",
    case=CASE,
    sections=(
        Section(L("Case", "Kesi"), (
            Field("case_no", TEXT, L("Case number", "Nambari ya kesi"), max_length=40, unique=True, searchable=True,
                  help=L("The number in the school's guidance register, e.g. GC/2024/017.",
                         "Nambari kwenye rejista ya ushauri ya shule, k.m. GC/2024/017.")),
            CASE.opened(),
            Field("reported_by", CHOICE, L("How it came to notice", "Lilivyojulikana"), choices="case_reporter",
                  required=True, dimension=True),
        )),
        Section(L("Learner", "Mwanafunzi"), (
            Field("learner_code", TEXT, L("Admission number or pseudonym", "Nambari ya usajili au jina bandia"),
                  tier="identifying", required=True, max_length=40,
                  help=L("Seen only by the school's counsellors.", "Huonekana na walimu wa ushauri wa shule pekee.")),
            Field("learner_name", TEXT, L("Learner's name (optional, never exported)",
                                          "Jina la mwanafunzi (si lazima, halitolewi kamwe)"),
                  tier="identifying", local_only=True, max_length=120),
            Field("school_class", CHOICE, L("Class", "Darasa"), choices="school_class", required=True,
                  dimension=True),
            Field("sex", CHOICE, L("Sex", "Jinsia"), choices="sex", required=True, dimension=True),
            Field("age", INTEGER, L("Age in years", "Umri kwa miaka"), required=True, minimum=3, maximum=30),
            Field("age_band", CHOICE, L("Age band", "Kundi la umri"), choices="age_band", derive=_age_band,
                  read_only=True, dimension=True),
        )),
        Section(L("Concern", "Tatizo"), (
            Field("main_concern", CHOICE, L("Main concern", "Tatizo kuu"), choices="counselling_concern",
                  required=True, dimension=True, searchable=True),
            Field("other_concerns", MULTI, L("Other concerns", "Matatizo mengine"), choices="counselling_concern",
                  dimension=True),
            Field("concern_other", TEXT, L("Other concern, in a few words", "Tatizo jingine, kwa maneno machache"),
                  relevant=In("main_concern", ("other",)), max_length=120),
            Field("drugs", MULTI, L("Drugs or substances used", "Dawa au vitu vinavyotumiwa"), choices="cpims_drug",
                  relevant=_concern("drugs"), dimension=True),
            Field("neglect_kind", MULTI, L("Kind of neglect", "Aina ya kutelekezwa"), choices="cpims_neglect",
                  relevant=_concern("neglect"), dimension=True),
            Field("emotional_abuse_kind", MULTI, L("Kind of emotional abuse", "Aina ya unyanyasaji wa kihisia"),
                  choices="cpims_emotional_abuse", relevant=_concern("emotional_abuse"), dimension=True),
            Field("cpims_codes", MULTI, L("CPIMS categories", "Makundi ya CPIMS"), choices="cpims_categories",
                  derive=_cpims_codes, read_only=True, dimension=True),
            Field("case_nature", CHOICE, L("Nature of the case", "Asili ya kesi"), choices="case_nature",
                  dimension=True),
            Field("risk_level", CHOICE, L("Risk level", "Kiwango cha hatari"), choices="risk_level", required=True,
                  dimension=True),
            Field("background", LONGTEXT, L("Background (stays on this computer)",
                                            "Historia (hubaki kwenye kompyuta hii)"),
                  tier="narrative", local_only=True, max_length=6000),
        )),
        Section(L("Guardian and consent", "Mlezi na ridhaa"), (
            Field("guardian_informed", YESNO, L("Parent or guardian informed", "Mzazi au mlezi amejulishwa")),
            Field("guardian_consent", YESNO, L("Parent or guardian consents", "Mzazi au mlezi ameridhia"),
                  relevant=Filled("guardian_informed")),
            Field("best_interest_reason", LONGTEXT,
                  L("Why going ahead without the guardian's consent is in the child's best interest",
                    "Kwa nini kuendelea bila ridhaa ya mlezi ni kwa maslahi bora ya mtoto"),
                  tier="narrative", max_length=2000,
                  relevant=Not(Filled("guardian_consent")),
                  help=L("For example: the guardian is the suspected abuser. Required for a child when the "
                         "guardian is not informed or does not consent.",
                         "Kwa mfano: mlezi ndiye mshukiwa. Inahitajika kwa mtoto iwapo mlezi hajajulishwa au "
                         "hajaridhia.")),
            Field("share_consent", YESNO, L("Consent to share the case with the agency it is referred to",
                                            "Ridhaa ya kushiriki kesi na taasisi inayopelekwa")),
        )),
        Section(L("Sessions", "Vikao"), (
            CASE.sessions_repeat(
                Field("session_type", CHOICE, L("Type of session", "Aina ya kikao"),
                      choices="counselling_session_type", required=True, dimension=True),
                Field("notes", LONGTEXT, L("Session notes (stay on this computer)",
                                           "Maelezo ya kikao (hubaki kwenye kompyuta hii)"),
                      tier="narrative", local_only=True, max_length=6000),
                Field("agreed_actions", LONGTEXT, L("Actions agreed", "Hatua zilizokubaliwa"), tier="narrative",
                      max_length=2000),
            ),
        )),
        Section(L("Referrals", "Rufaa"), (
            CASE.referrals_repeat(
                Field("referral_note", TEXT, L("Why referred", "Sababu ya rufaa"), tier="narrative",
                      max_length=300),
            ),
        )),
        CASE.status_section(
            L("Outcome", "Matokeo"),
            Field("closure_reason", CHOICE, L("Closure", "Kufungwa"), choices="counselling_closure",
                  relevant=Eq("status", "closed"), dimension=True, read_only=True),
        ),
    ),
    rules=(
        *CASE.rules(),
        Custom(("best_interest_reason", "guardian_informed", "guardian_consent", "age"),
               L("A child's case needs the parent or guardian informed and consenting, or a written reason why "
                 "going ahead without them is in the child's best interest.",
                 "Kesi ya mtoto inahitaji mzazi au mlezi kujulishwa na kuridhia, au sababu iliyoandikwa kwa nini "
                 "kuendelea bila wao ni kwa maslahi bora ya mtoto."),
               ok=child_consent_ok),
        Custom(("concern_other", "main_concern"), L("Say what the other concern is.", "Eleza tatizo hilo jingine."),
               ok=lambda v: v.get("main_concern") != "other" or bool(v.get("concern_other"))),
        Custom(("other_concerns", "main_concern"), L("The main concern is also listed among the other concerns.",
                                                     "Tatizo kuu limeorodheshwa pia kati ya matatizo mengine."),
               ok=lambda v: v.get("main_concern") not in (v.get("other_concerns") or [])),
    ),
)

__all__ = ["COUNSELLING_CASE", "child_consent_ok", "is_child"]

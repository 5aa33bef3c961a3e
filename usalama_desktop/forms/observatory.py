"""The Crime Observatory template: one incident or case of crime or violence as an agency's register holds it."""

from __future__ import annotations

from ..i18n import L
from .choices import AGE_BANDS, C, define, get
from .conditions import Eq, Filled, In
from .definition import Custom, Form, NotBefore, Repeat, RowRule, Section
from .fields import (
    CHOICE,
    DATE,
    INTEGER,
    LONGTEXT,
    MULTI,
    PLACE,
    TEXT,
    TIME,
    YESNO,
    Field,
)

define(
    "weapon",
    C("none", "No weapon", "Hakuna silaha"), C("firearm", "Firearm", "Bunduki"),
    C("sharp", "Knife, panga or sharp object", "Kisu, panga au kitu chenye makali"),
    C("blunt", "Blunt object (stick, stone, club)", "Kitu butu (fimbo, jiwe, rungu)"),
    C("body", "Hands, feet or body", "Mikono, miguu au mwili"), C("other", "Other", "Nyingine"),
    C("unknown", "Unknown", "Haijulikani"),
)
define(
    "gbv_context",
    C("domestic_violence", "Domestic violence", "Ukatili wa nyumbani"),
    C("intimate_partner", "Intimate partner violence", "Ukatili wa mwenzi wa karibu"),
    C("child_sexual_abuse", "Child sexual abuse", "Unyanyasaji wa kingono wa mtoto"),
    C("sexual_exploitation", "Sexual exploitation", "Unyonyaji wa kingono"),
    C("none", "None of these", "Hakuna kati ya haya"),
)
define(
    "incident_action",
    C("recorded", "Recorded only", "Imerekodiwa tu"),
    C("investigation", "Investigation opened", "Uchunguzi umeanzishwa"),
    C("arrest", "Suspect arrested", "Mshukiwa amekamatwa"),
    C("p3", "P3 form issued", "Fomu ya P3 imetolewa"),
    C("medical", "Medical care given", "Matibabu yametolewa"),
    C("counselling", "Counselling given", "Ushauri nasaha umetolewa"),
    C("mediation", "Mediation or reconciliation", "Upatanishi au maridhiano"),
    C("shelter", "Safe shelter given", "Makazi salama yametolewa"),
    C("other", "Other", "Nyingine"),
)
define(
    "incident_referral",
    C("police", "Police", "Polisi"), C("health", "Health facility", "Kituo cha afya"),
    C("children_office", "Children's office", "Ofisi ya watoto"), C("rescue_centre", "Rescue centre", "Kituo cha uokoaji"),
    C("paralegal", "Paralegal", "Msaidizi wa kisheria"), C("court", "Court", "Mahakama"),
)
define(
    "incident_status",
    C("open", "Open", "Wazi"), C("investigation", "Under investigation", "Inachunguzwa"),
    C("in_court", "Pending in court", "Iko mahakamani"), C("referred", "Referred elsewhere", "Imepelekwa kwingine"),
    C("closed", "Closed", "Imefungwa"),
)
define(
    "incident_outcome",
    C("no_further_action", "No further action", "Hakuna hatua zaidi"),
    C("no_suspect", "No suspect identified", "Hakuna mshukiwa aliyetambuliwa"),
    C("charged", "Suspect charged", "Mshukiwa ameshtakiwa"), C("convicted", "Convicted", "Amehukumiwa"),
    C("acquitted", "Acquitted", "Ameachiliwa huru"), C("withdrawn", "Complaint withdrawn", "Malalamiko yameondolewa"),
    C("resolved_locally", "Resolved out of court", "Imesuluhishwa nje ya mahakama"),
    C("referred", "Referred to another agency", "Imepelekwa kwa taasisi nyingine"),
    C("unknown", "Unknown", "Haijulikani"),
)


def _iccs(values):
    category = values.get("offence_category")
    if not category:
        return None
    choice = get("police_categories").by_value.get(category)
    return choice.get("iccs") or None if choice else None


def _minor_consistent(row, values) -> bool:
    band, minor = row.get("age_band"), row.get("minor")
    if band is None or minor is None or band == "unknown":
        return True
    return (AGE_BANDS.by_value[band].get("minor") == "1") == bool(minor)


def _victim_count_ok(values) -> bool:
    count = values.get("victim_count")
    return count is None or count >= len(values.get("victims") or [])


INCIDENT = Form(
    name="incident",
    module="observatory",
    title=L("Incident", "Tukio"),
    description=L("One incident or case of crime or violence, as the agency's register holds it.",
                  "Tukio moja la uhalifu au vurugu, kama lilivyo kwenye rejista ya taasisi."),
    reference_field="agency_ref",
    date_field="occurred_on",
    category_field="offence_category",
    status_field="status",
    place_field="place",
    title_fields=("agency_ref", "offence_category", "occurred_on"),
    list_columns=("occurred_on", "agency_ref", "offence_category", "place", "status", "victim_count"),
    # The analysis module's figures (analysis/core.py, "counting without sorting"): each index starts with the
    # tombstone flag and the grouped columns, then the date, then the dashboard's filters, so a figure searches the
    # period's slice once per value and never sorts rows (a sort costs ~2.5 us a row under SQLCipher's memory
    # protection: 0.9 s for a year of a million incidents). Category by month; agency by category; time of day;
    # ward and village.
    indexes=(
        ("deleted", "offence_category", "occurred_on", "agency_id", "place_ward"),
        ("deleted", "agency_id", "offence_category", "occurred_on", "place_ward"),
        ("deleted", "occurred_time", "occurred_on", "agency_id", "offence_category", "place_ward"),
        ("deleted", "place_ward", "place_village", "occurred_on", "agency_id", "offence_category"),
    ),
    sections=(
        Section(L("Report", "Ripoti"), (
            Field("agency_ref", TEXT, L("Agency reference (OB, register or file number)",
                                        "Nambari ya taasisi (OB, rejista au faili)"),
                  help=L("As written in your register, e.g. OB 12/05/03/2024.",
                         "Kama ilivyoandikwa kwenye rejista yako, k.m. OB 12/05/03/2024."),
                  pattern=r"(?i)(OB\s*)?[A-Z0-9]{1,8}([/\-. ][A-Z0-9]{1,8}){0,5}",
                  pattern_hint=L("OB 12/05/03/2024", "OB 12/05/03/2024"), max_length=60, unique=True,
                  searchable=True),
            Field("occurred_on", DATE, L("Date it happened", "Tarehe lilipotokea"), required=True, precision="either",
                  help=L("The day, or only the month (YYYY-MM) if the day is not known.",
                         "Siku, au mwezi tu (YYYY-MM) kama siku haijulikani.")),
            Field("occurred_time", TIME, L("Time it happened", "Saa lilipotokea"),
                  help=L("HH:MM, or morning / afternoon / evening / night, or unknown.",
                         "HH:MM, au asubuhi / mchana / jioni / usiku, au haijulikani.")),
            Field("reported_on", DATE, L("Date reported", "Tarehe lilipoaripotiwa"), required=True),
        )),
        Section(L("Place", "Mahali"), (
            Field("place", PLACE, L("Where it happened", "Mahali lilipotokea"), required=True, dimension=True),
        )),
        Section(L("Offence", "Kosa"), (
            Field("offence_category", CHOICE, L("Offence category", "Aina ya kosa"), choices="police_categories",
                  required=True, dimension=True, searchable=True),
            Field("iccs_section", CHOICE, L("ICCS section", "Sehemu ya ICCS"), choices="iccs_sections",
                  derive=_iccs, read_only=True, dimension=True),
            Field("offence_subtype", TEXT, L("Sub-type", "Aina ndogo"), max_length=120,
                  help=L("For example: robbery with violence, defilement.", "Kwa mfano: unyang'anyi wa kutumia nguvu.")),
            Field("gbv", YESNO, L("Gender-based violence", "Ukatili wa kijinsia"), default=False),
            Field("gbvims_type", CHOICE, L("GBVIMS core type", "Aina kuu ya GBVIMS"), choices="gbvims_types",
                  relevant=Filled("gbv"), required=True, dimension=True,
                  help=L("Chosen by the act of violence alone.", "Huchaguliwa kwa kitendo cha ukatili pekee.")),
            Field("gbv_context", CHOICE, L("Case context", "Muktadha wa kesi"), choices="gbv_context",
                  relevant=Filled("gbv"), dimension=True,
                  help=L("Recorded apart from the type, as GBVIMS requires.",
                         "Hurekodiwa kando na aina, kama GBVIMS inavyotaka.")),
            Field("weapon", CHOICE, L("Weapon", "Silaha"), choices="weapon", dimension=True),
            Field("alcohol_drugs", CHOICE, L("Alcohol or drugs involved", "Pombe au dawa za kulevya zilihusika"),
                  choices="yes_no_unknown", dimension=True),
        )),
        Section(L("People", "Watu"), (
            Field("victim_count", INTEGER, L("Number of victims", "Idadi ya waathiriwa"), minimum=0, maximum=500),
            Repeat("victims", L("Victims", "Waathiriwa"), item_label=L("Victim", "Mwathiriwa"), fields=(
                Field("sex", CHOICE, L("Sex", "Jinsia"), choices="sex", required=True, dimension=True),
                Field("age_band", CHOICE, L("Age band", "Kundi la umri"), choices="age_band", required=True,
                      dimension=True),
                Field("disability", YESNO, L("Person with disability", "Mtu mwenye ulemavu"), dimension=True),
                Field("minor", YESNO, L("Minor (under 18)", "Mtoto (chini ya miaka 18)"), dimension=True),
            )),
            Repeat("perpetrators", L("Suspected perpetrators", "Washukiwa"), item_label=L("Suspect", "Mshukiwa"),
                   fields=(
                       Field("sex", CHOICE, L("Sex", "Jinsia"), choices="sex", dimension=True),
                       Field("age_band", CHOICE, L("Age band", "Kundi la umri"), choices="age_band", dimension=True),
                       Field("relationship", CHOICE, L("Relationship to victim", "Uhusiano na mwathiriwa"),
                             choices="perpetrator_relationship", dimension=True),
                   )),
        )),
        Section(L("Action", "Hatua"), (
            Field("action_taken", MULTI, L("Action taken", "Hatua zilizochukuliwa"), choices="incident_action",
                  dimension=True),
            Field("referrals", MULTI, L("Referred to", "Imepelekwa kwa"), choices="incident_referral", dimension=True),
            Field("status", CHOICE, L("Status", "Hali"), choices="incident_status", required=True, default="open",
                  dimension=True),
            Field("outcome", CHOICE, L("Outcome", "Matokeo"), choices="incident_outcome", dimension=True,
                  relevant=In("status", ("closed", "referred", "in_court"))),
        )),
        Section(L("Narrative", "Maelezo"), (
            Field("narrative", LONGTEXT, L("What happened (stays on this computer)",
                                           "Kilichotokea (hubaki kwenye kompyuta hii)"),
                  tier="narrative", local_only=True, max_length=8000,
                  help=L("Never sent in any bundle or report.", "Hayatumwi kamwe kwenye kifurushi wala ripoti.")),
        )),
    ),
    rules=(
        NotBefore(("reported_on", "occurred_on"), L("The report date is before the date it happened.",
                                                     "Tarehe ya ripoti iko kabla ya tarehe ya tukio.")),
        RowRule(("victims", "age_band", "minor"), L("The age band and 'minor' do not agree.",
                                                    "Kundi la umri na 'mtoto' havikubaliani."),
                ok=_minor_consistent, at="minor"),
        Custom(("victim_count", "victims"), L("The number of victims is smaller than the victims described.",
                                              "Idadi ya waathiriwa ni ndogo kuliko waathiriwa walioelezwa."),
               ok=_victim_count_ok),
        Custom(("gbvims_type", "gbv"), L("A GBVIMS type is given but gender-based violence is not ticked.",
                                         "Aina ya GBVIMS imetolewa lakini ukatili wa kijinsia haujachaguliwa."),
               ok=lambda v: not v.get("gbvims_type") or bool(v.get("gbv"))),
    ),
)

__all__ = ["INCIDENT", "Eq"]

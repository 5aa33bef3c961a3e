"""The community safety audit: a yearly victimisation and perception survey. A round (year, area, sample) and one
record per respondent with a short standard instrument, so results by ward can sit beside the recorded data."""

from __future__ import annotations

from ..i18n import L, Label
from .choices import C, define
from .conditions import Eq
from .definition import Custom, Form, NotBefore, Section
from .fields import CHOICE, DATE, INTEGER, LONGTEXT, MULTI, PLACE, REFERENCE, TEXT, YESNO, Field

define(
    "sampling_method",
    C("household_random", "Households, random walk", "Kaya, matembezi ya nasibu"),
    C("household_list", "Households, from a list", "Kaya, kutoka orodha"),
    C("intercept", "People met in public places", "Watu waliokutana nao hadharani"),
    C("other", "Other", "Nyingine"),
)
define(
    "survey_round_status",
    C("planned", "Planned", "Imepangwa"),
    C("fieldwork", "Fieldwork under way", "Ukusanyaji unaendelea"),
    C("analysis", "Being analysed", "Inachambuliwa"),
    C("published", "Results shared", "Matokeo yametolewa"),
)
define(
    "household_crime",
    C("burglary", "Burglary or house breaking", "Uvunjaji wa nyumba", aliases="house breaking|breaking"),
    C("livestock", "Theft of livestock", "Wizi wa mifugo", aliases="stock theft"),
    C("crops", "Theft of crops or produce", "Wizi wa mazao"),
    C("vehicle", "Theft of a vehicle, motorbike or bicycle", "Wizi wa gari, pikipiki au baiskeli",
      aliases="motorbike|boda"),
    C("property_damage", "Deliberate damage to property", "Uharibifu wa mali kwa makusudi", aliases="vandalism"),
    C("other", "Other household crime", "Uhalifu mwingine wa kaya"),
)
define(
    "personal_crime",
    C("robbery", "Robbery (with force or threat)", "Unyang'anyi (kwa nguvu au vitisho)"),
    C("theft", "Theft of personal property (phone, money)", "Wizi wa mali binafsi (simu, pesa)",
      aliases="phone theft"),
    C("assault", "Physical assault", "Shambulio la kimwili"),
    C("threat", "Threats or intimidation", "Vitisho"),
    C("sexual", "Sexual assault or harassment", "Shambulio au unyanyasaji wa kingono"),
    C("fraud", "Fraud or being conned", "Ulaghai au kutapeliwa", aliases="con"),
    C("bribe", "Asked for a bribe by an official", "Kuombwa hongo na afisa", aliases="corruption"),
    C("other", "Other personal crime", "Uhalifu mwingine binafsi"),
)
define(
    "not_reported_reason",
    C("not_serious", "Not serious enough", "Si jambo zito"),
    C("no_use", "Police would not do anything", "Polisi hawangefanya chochote"),
    C("bribe", "Police would ask for money", "Polisi wangeomba pesa"),
    C("fear", "Fear of the offender or of reprisal", "Hofu ya mhalifu au kulipizwa kisasi"),
    C("fear_police", "Fear or dislike of the police", "Hofu au kutopenda polisi"),
    C("solved", "Solved it ourselves or with elders", "Tulitatua wenyewe au na wazee"),
    C("other_authority", "Reported to the chief or another authority", "Liliripotiwa kwa chifu au mamlaka nyingine"),
    C("too_far", "Station too far or no time", "Kituo kiko mbali au hakuna muda"),
    C("other", "Other reason", "Sababu nyingine"),
    C("dont_know", "Don't know", "Sijui"),
)
# The SDG indicator 16.1.4 answer scale, in the survey's order.
SAFETY_SCALE = "safety_after_dark"
define(
    SAFETY_SCALE,
    C("very_safe", "Very safe", "Salama sana"),
    C("fairly_safe", "Fairly safe", "Salama kiasi"),
    C("bit_unsafe", "A bit unsafe", "Si salama kidogo", aliases="a bit unsafe"),
    C("very_unsafe", "Very unsafe", "Si salama kabisa"),
    C("never_alone", "I never walk alone after dark", "Sitembei peke yangu kamwe baada ya giza",
      aliases="never walk alone after dark|never walk alone"),
    C("dont_know", "Don't know", "Sijui", aliases="do not know|dk"),
)
SAFE_ANSWERS = ("very_safe", "fairly_safe")
UNSAFE_ANSWERS = ("bit_unsafe", "very_unsafe")
define(
    "trust_level",
    C("great_deal", "A great deal", "Kwa kiasi kikubwa"),
    C("quite_a_lot", "Quite a lot", "Kiasi"),
    C("not_much", "Not very much", "Si sana"),
    C("none", "None at all", "Hata kidogo"),
    C("dont_know", "Don't know", "Sijui", aliases="do not know|dk"),
)
TRUSTING_ANSWERS = ("great_deal", "quite_a_lot")

SURVEY_ROUND = Form(
    name="survey_round",
    module="safety_audit",
    title=L("Safety audit round", "Awamu ya ukaguzi wa usalama"),
    description=L("One year's community safety audit in one area: the plan, the sample and the fieldwork dates.",
                  "Ukaguzi wa usalama wa jamii wa mwaka mmoja katika eneo moja: mpango, sampuli na tarehe za "
                  "ukusanyaji."),
    reference_field="round_code",
    date_field="fieldwork_start",
    status_field="status",
    place_field="area",
    title_fields=("round_code", "year"),
    list_columns=("year", "round_code", "area", "sample_planned", "fieldwork_start", "status"),
    sections=(
        Section(L("Round", "Awamu"), (
            Field("round_code", TEXT, L("Round code", "Msimbo wa awamu"), required=True, unique=True, max_length=40,
                  searchable=True, help=L("For example: CSA-2024-KILIMANI.", "Kwa mfano: CSA-2024-KILIMANI.")),
            Field("year", INTEGER, L("Year", "Mwaka"), required=True, minimum=2000, maximum=2100, dimension=True),
            Field("area", PLACE, L("Area covered", "Eneo lililohusika"), required=True, dimension=True),
            Field("area_note", TEXT, L("Wards or villages covered", "Wadi au vijiji vilivyohusika"), max_length=300),
            Field("sample_planned", INTEGER, L("Planned sample (respondents)", "Sampuli iliyopangwa (wahojiwa)"),
                  minimum=1, maximum=100000),
            Field("sampling", CHOICE, L("How respondents were chosen", "Jinsi wahojiwa walivyochaguliwa"),
                  choices="sampling_method"),
            Field("fieldwork_start", DATE, L("Fieldwork from", "Ukusanyaji kuanzia"), allow_future=True),
            Field("fieldwork_end", DATE, L("Fieldwork until", "Ukusanyaji hadi"), allow_future=True),
            Field("partners", TEXT, L("Partners", "Washirika"), max_length=300),
            Field("status", CHOICE, L("Status", "Hali"), choices="survey_round_status", required=True,
                  default="planned", dimension=True),
            Field("notes", LONGTEXT, L("Notes", "Maelezo"), max_length=4000),
        )),
    ),
    rules=(
        NotBefore(("fieldwork_end", "fieldwork_start"), L("Fieldwork ends before it starts.",
                                                          "Ukusanyaji unaisha kabla ya kuanza.")),
    ),
)


def victimisation(prefix: str, title: Label, question: Label, crimes: str) -> Section:
    """The same four questions for household and for personal crime: victim?, which crimes, reported?, why not."""
    victim, reported = f"{prefix}_victim", f"{prefix}_reported"
    return Section(title, (
        Field(victim, CHOICE, question, choices="yes_no_unknown", required=True, dimension=True),
        Field(f"{prefix}_crimes", MULTI, L("Which crimes", "Uhalifu upi"), choices=crimes, required=True,
              relevant=Eq(victim, "yes"), dimension=True),
        Field(reported, CHOICE, L("Was the most recent one reported to the police?",
                                  "Je, wa hivi karibuni uliripotiwa kwa polisi?"),
              choices="yes_no_unknown", relevant=Eq(victim, "yes"), dimension=True),
        Field(f"{prefix}_why_not", MULTI, L("Why not", "Kwa nini hapana"), choices="not_reported_reason",
              relevant=Eq(reported, "no"), dimension=True),
    ))


def _ward_given(values) -> bool:
    place = values.get("place") or {}
    return bool(place.get("ward"))


SURVEY_RESPONSE = Form(
    name="survey_response",
    module="safety_audit",
    title=L("Safety audit interview", "Mahojiano ya ukaguzi wa usalama"),
    description=L("One respondent's answers to the standard safety audit questions.",
                  "Majibu ya mhojiwa mmoja kwa maswali ya kawaida ya ukaguzi wa usalama."),
    date_field="interview_date",
    category_field="safe_after_dark",
    place_field="place",
    title_fields=("respondent_code", "interview_date"),
    list_columns=("interview_date", "respondent_code", "place", "hh_victim", "p_victim", "safe_after_dark"),
    indexes=(("round_id",), ("agency_id", "source_id")),
    sections=(
        Section(L("Interview", "Mahojiano"), (
            Field("round_id", REFERENCE, L("Survey round", "Awamu ya utafiti"), target="survey_round", required=True,
                  searchable=False),
            Field("respondent_code", TEXT, L("Respondent number", "Nambari ya mhojiwa"), max_length=40,
                  searchable=True),
            Field("interview_date", DATE, L("Date of interview", "Tarehe ya mahojiano"), required=True),
            Field("interviewer", TEXT, L("Interviewer code", "Msimbo wa mhoji"), max_length=40),
            Field("consent", YESNO, L("The respondent agreed to be interviewed", "Mhojiwa alikubali kuhojiwa"),
                  required=True),
            Field("place", PLACE, L("Where the respondent lives", "Mahali mhojiwa anapoishi"), required=True,
                  dimension=True),
            Field("sex", CHOICE, L("Sex", "Jinsia"), choices="sex", dimension=True),
            Field("age_band", CHOICE, L("Age band", "Kundi la umri"), choices="age_band", dimension=True),
            Field("household_size", INTEGER, L("People in the household", "Watu katika kaya"), minimum=1, maximum=60),
            Field("source_id", TEXT, L("Imported submission id", "Kitambulisho cha fomu iliyoingizwa"),
                  read_only=True, unique=True, searchable=False, max_length=80),
        )),
        victimisation("hh", L("Household crime in the last 12 months",
                              "Uhalifu dhidi ya kaya katika miezi 12 iliyopita"),
                      L("In the last 12 months, was your household a victim of a crime?",
                        "Katika miezi 12 iliyopita, je, kaya yako ilikumbwa na uhalifu?"), "household_crime"),
        victimisation("p", L("Personal crime in the last 12 months", "Uhalifu dhidi yako katika miezi 12 iliyopita"),
                      L("In the last 12 months, were you personally a victim of a crime?",
                        "Katika miezi 12 iliyopita, je, wewe binafsi ulikumbwa na uhalifu?"), "personal_crime"),
        Section(L("Safety and trust", "Usalama na imani"), (
            Field("safe_after_dark", CHOICE, L("How safe do you feel walking alone around the area where you live "
                                               "after dark?",
                                               "Unajisikia salama kiasi gani ukitembea peke yako katika eneo "
                                               "unaloishi baada ya giza?"),
                  choices=SAFETY_SCALE, required=True, dimension=True,
                  help=L("SDG indicator 16.1.4. Read the answers out in this order.",
                         "Kiashiria cha SDG 16.1.4. Soma majibu kwa mpangilio huu.")),
            Field("trust_police", CHOICE, L("How much do you trust the police?", "Unawaamini polisi kiasi gani?"),
                  choices="trust_level", dimension=True),
            Field("trust_local_justice", CHOICE, L("How much do you trust local justice (chiefs, elders, courts)?",
                                                   "Unaamini haki ya eneo lako (machifu, wazee, mahakama) kiasi "
                                                   "gani?"),
                  choices="trust_level", dimension=True),
            Field("comments", LONGTEXT, L("Comments (stay on this computer)", "Maoni (hubaki kwenye kompyuta hii)"),
                  tier="narrative", local_only=True, max_length=4000),
        )),
    ),
    rules=(
        Custom(("consent",), L("An interview without the respondent's consent cannot be recorded.",
                               "Mahojiano bila ridhaa ya mhojiwa hayawezi kurekodiwa."),
               ok=lambda v: v.get("consent") is not False),
        Custom(("place",), L("Give the ward where the respondent lives: results are counted by ward.",
                             "Taja wadi anayoishi mhojiwa: matokeo huhesabiwa kwa wadi."), ok=_ward_given),
    ),
)

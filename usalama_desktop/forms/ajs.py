"""Alternative justice: the dispute and decision register of an elders' council, chief, peace committee, religious or
civil-society body (AJS Baseline Policy 2020, Article 159(2)(c) of the Constitution).

Parties are named only with their consent. Gender-based violence and sexual offences belong in the formal system: the
record may hold them, with a referral to the police or a court, but never an AJS decision. Before a decision is
filed for a court's adoption it passes the Article 159(3) screening.
"""

from __future__ import annotations

from ..i18n import L
from .case import CaseWorkflow, Deadline, Step
from .choices import C, define
from .conditions import All, Eq, Filled, In, Not
from .definition import Custom, Form, NotBefore, Repeat, Section
from .fields import CHOICE, DATE, DECIMAL, INTEGER, LONGTEXT, MULTI, PLACE, TEXT, YESNO, Field

define(
    "ajs_mechanism",
    C("elders_council", "Council of elders", "Baraza la wazee"), C("chief", "Chief or assistant chief", "Chifu"),
    C("peace_committee", "Peace committee", "Kamati ya amani"),
    C("religious", "Religious body", "Taasisi ya kidini"), C("civil_society", "Civil-society body", "Shirika la kiraia"),
    C("other", "Other", "Nyingine"),
)
define(
    "ajs_mode",
    C("autonomous", "Autonomous", "Huru"),
    C("court_referred", "Court-referred (third party)", "Imepelekwa na mahakama"),
    C("court_annexed", "Court-annexed", "Chini ya mahakama"),
)
FORMAL_ONLY = ("gbv", "sexual_offence")
define(
    "ajs_category",
    C("land", "Land", "Ardhi"), C("boundary", "Boundary", "Mpaka"),
    C("family_succession", "Family / succession", "Familia / urithi"), C("marriage", "Marriage", "Ndoa"),
    C("debt_contract", "Debt / contract", "Deni / mkataba"), C("livestock", "Livestock", "Mifugo"),
    C("assault", "Assault", "Shambulio"), C("theft", "Theft", "Wizi"),
    C("gbv", "Gender-based violence (formal system)", "Ukatili wa kijinsia (mfumo rasmi)"),
    C("sexual_offence", "Sexual offence (formal system)", "Kosa la kingono (mfumo rasmi)"),
    C("other", "Other", "Nyingine"),
)
define(
    "ajs_party_role",
    C("claimant", "Claimant", "Mlalamikaji"), C("respondent", "Respondent", "Mlalamikiwa"),
    C("interested", "Interested party", "Mhusika mwenye maslahi"), C("witness", "Witness", "Shahidi"),
)
define(
    "ajs_panel_role",
    C("chair", "Chair", "Mwenyekiti"), C("member", "Member", "Mjumbe"), C("secretary", "Secretary", "Katibu"),
)
define(
    "ajs_attendance",
    C("all", "All parties present", "Wahusika wote walihudhuria"),
    C("claimant_only", "Claimant only", "Mlalamikaji pekee"),
    C("respondent_only", "Respondent only", "Mlalamikiwa pekee"),
    C("none", "No party present (adjourned)", "Hakuna mhusika (kuahirishwa)"),
)
define(
    "ajs_referral",
    C("police", "Police", "Polisi"), C("court", "Court", "Mahakama"),
    C("children_office", "Children's office", "Ofisi ya watoto"),
    C("health", "Health facility / GBV recovery centre", "Kituo cha afya / kituo cha waathiriwa wa ukatili"),
    C("legal_aid", "Legal aid", "Msaada wa kisheria"), C("other", "Other", "Nyingine"),
)
define(
    "ajs_remedy",
    C("apology", "Apology", "Kuomba msamaha"), C("compensation", "Compensation", "Fidia"),
    C("restitution", "Return of property", "Kurudisha mali"), C("reconciliation", "Reconciliation", "Maridhiano"),
    C("boundary_fixed", "Boundary fixed", "Mpaka umewekwa"), C("property_shared", "Property shared", "Mali imegawanywa"),
    C("payment_plan", "Payment plan", "Mpango wa malipo"), C("community_work", "Community work", "Kazi ya jamii"),
    C("other", "Other", "Nyingine"),
)
define(
    "ajs_compliance",
    C("not_due", "Not yet due", "Bado muda haujafika"), C("complied", "Complied", "Imetekelezwa"),
    C("partly", "Partly complied", "Imetekelezwa kwa sehemu"), C("not_complied", "Not complied", "Haijatekelezwa"),
)
define(
    "ajs_appeal_to",
    C("higher_council", "Higher council of elders", "Baraza la juu la wazee"),
    C("administration", "Chief / assistant county commissioner", "Chifu / naibu kamishna wa kaunti"),
    C("court", "Court", "Mahakama"), C("other", "Other", "Nyingine"),
)
define(
    "ajs_appeal_outcome",
    C("pending", "Pending", "Inasubiri"), C("upheld", "Decision upheld", "Uamuzi umethibitishwa"),
    C("varied", "Decision varied", "Uamuzi umebadilishwa"), C("overturned", "Decision overturned", "Uamuzi umetenguliwa"),
)
define(
    "court_result",
    C("pending", "Pending", "Inasubiri"), C("adopted", "Adopted", "Umekubaliwa"),
    C("varied", "Varied", "Umebadilishwa"), C("set_aside", "Set aside", "Umetupiliwa mbali"),
)
define(
    "ajs_outcome",
    C("settled", "Decided by the panel", "Imeamuliwa na jopo"),
    C("reconciled", "Parties reconciled", "Wahusika wamepatana"),
    C("withdrawn", "Withdrawn", "Imeondolewa"),
    C("referred_formal", "Referred to the formal system", "Imepelekwa kwenye mfumo rasmi"),
    C("no_agreement", "No agreement", "Hakuna makubaliano"), C("other", "Other", "Nyingine"),
)

FORMAL_SYSTEM_WARNING = L(
    "Gender-based violence and sexual offences belong in the formal justice system. Refer the case to the police or "
    "a court and record that referral; without it no decision can be recorded.",
    "Ukatili wa kijinsia na makosa ya kingono ni ya mfumo rasmi wa haki. Peleka kesi kwa polisi au mahakama na "
    "urekodi rufaa hiyo; bila rufaa hiyo hakuna uamuzi unaoweza kurekodiwa.",
)
SCREENING = ("screen_bill_of_rights", "screen_justice_morality", "screen_written_law", "screen_voluntary",
             "screen_not_excluded")
FILING = ("filing_court", "filing_file_no", "filed_on")


def needs_formal_system(values) -> bool:
    """Gender-based violence or a sexual offence, by category or by the yes/no question."""
    return values.get("dispute_category") in FORMAL_ONLY or bool(values.get("gbv_or_sexual"))


def formal_referral_recorded(values) -> bool:
    return any(row.get("referred_to") in ("police", "court") for row in values.get("referrals") or [])


def formal_system_warning(values) -> str | None:
    """The warning the case panel shows for a GBV or sexual-offence dispute (None for any other dispute)."""
    return FORMAL_SYSTEM_WARNING.text() if needs_formal_system(values) else None


DECIDED = Filled("decided_on")
CASE = CaseWorkflow(
    outcome_choices="ajs_outcome",
    referral_targets="ajs_referral",
    warnings=formal_system_warning,
    sessions="hearings",
    session_label=L("Hearings", "Vikao vya kusikiliza"),
    session_item=L("Hearing", "Usikilizaji"),
    add_session_label=L("Add a hearing", "Ongeza usikilizaji"),
    deadlines=(Deadline("compliance_due", L("Deadline to comply with the decision", "Muda wa kutekeleza uamuzi"),
                        done=In("compliance", ("complied",))),),
    steps=(
        Step("record_decision", L("Record the decision", "Rekodi uamuzi"),
             ("decided_on", "decision_text", "remedies", "compensation", "compensation_kes", "compliance_due"),
             when=Not(DECIDED), required=("decided_on", "decision_text")),
        Step("record_compliance", L("Record compliance", "Rekodi utekelezaji"),
             ("compliance", "compliance_checked_on"), when=DECIDED, required=("compliance",)),
        Step("file_for_adoption", L("File for court adoption", "Wasilisha mahakamani ili ukubaliwe"),
             (*SCREENING, "screened_on", *FILING), when=All((DECIDED, Not(Filled("filed_on")))),
             required=("filing_court", "filed_on")),
        Step("record_court_result", L("Record the court's result", "Rekodi matokeo ya mahakama"),
             ("court_result", "court_result_on"), when=Filled("filed_on"), required=("court_result",)),
    ),
)


def _decision_allowed(values) -> bool:
    decided = values.get("decided_on") or values.get("decision_text")
    return not decided or not needs_formal_system(values) or formal_referral_recorded(values)


def _filing(values) -> bool:
    return any(values.get(name) for name in FILING)


def _panel_count(sex: str):
    return lambda values: sum(1 for row in values.get("panel") or [] if row.get("sex") == sex)


def _yes(question: str, help_en: str, help_sw: str, en: str, sw: str) -> Field:
    return Field(question, YESNO, L(en, sw), help=L(help_en, help_sw), relevant=DECIDED)


AJS_CASE = Form(
    name="ajs_case",
    module="ajs",
    title=L("AJS dispute and decision", "Mgogoro na uamuzi wa AJS"),
    description=L("A dispute brought to an alternative justice mechanism: parties, hearings, decision, compliance, "
                  "appeal and court adoption.",
                  "Mgogoro uliofikishwa kwa mfumo mbadala wa haki: wahusika, vikao, uamuzi, utekelezaji, rufaa na "
                  "kukubaliwa na mahakama."),
    reference_field="register_no",
    date_field="opened_on",
    category_field="dispute_category",
    status_field="status",
    place_field="place",
    title_fields=("register_no", "dispute_category", "opened_on"),
    list_columns=("opened_on", "register_no", "mechanism", "dispute_category", "place", "status", "outcome",
                  "court_result"),
    referral_consent_field="share_consent",
    case=CASE,
    sections=(
        Section(L("Register", "Rejista"), (
            Field("register_no", TEXT, L("Register number", "Nambari ya rejista"), max_length=40, unique=True,
                  searchable=True, help=L("As in the council's case register, e.g. KEC/2024/031.",
                                          "Kama kwenye rejista ya baraza, k.m. KEC/2024/031.")),
            CASE.opened(L("Date registered", "Tarehe ya kusajiliwa")),
            Field("mechanism", CHOICE, L("Mechanism", "Mfumo"), choices="ajs_mechanism", required=True,
                  dimension=True),
            Field("mode", CHOICE, L("Mode", "Namna"), choices="ajs_mode", required=True, dimension=True,
                  default="autonomous"),
            Field("court_reference", TEXT, L("Court's reference", "Kumbukumbu ya mahakama"), required=True,
                  max_length=60, searchable=True, relevant=In("mode", ("court_referred", "court_annexed"))),
            Field("place", PLACE, L("Where the dispute arose", "Mahali mgogoro ulipotokea"), required=True,
                  dimension=True),
        )),
        Section(L("Dispute", "Mgogoro"), (
            Field("dispute_category", CHOICE, L("Dispute category", "Aina ya mgogoro"), choices="ajs_category",
                  required=True, dimension=True, searchable=True),
            Field("gbv_or_sexual", YESNO, L("Does it involve gender-based violence or a sexual offence?",
                                            "Je, unahusu ukatili wa kijinsia au kosa la kingono?"), default=False,
                  dimension=True, help=FORMAL_SYSTEM_WARNING),
            Field("issues", LONGTEXT, L("Issues in dispute", "Masuala ya mgogoro"), tier="narrative",
                  max_length=4000),
            Field("claim_value", DECIMAL, L("Value in dispute (KES)", "Thamani ya mgogoro (KES)"), minimum=0),
        )),
        Section(L("Parties", "Wahusika"), (
            Repeat("parties", L("Parties", "Wahusika"), item_label=L("Party", "Mhusika"), min_rows=1, fields=(
                Field("party_role", CHOICE, L("Role", "Jukumu"), choices="ajs_party_role", required=True,
                      dimension=True),
                Field("sex", CHOICE, L("Sex", "Jinsia"), choices="sex", required=True, dimension=True),
                Field("age_band", CHOICE, L("Age band", "Kundi la umri"), choices="age_band", dimension=True),
                Field("consent_named", YESNO, L("Consents to be named in the record",
                                                "Ameridhia kutajwa kwa jina kwenye kumbukumbu"), default=False),
                Field("name", TEXT, L("Name", "Jina"), tier="identifying", max_length=120,
                      relevant=Filled("consent_named"),
                      help=L("Only with the party's consent; otherwise the record says 'name withheld'.",
                             "Kwa ridhaa ya mhusika tu; vinginevyo kumbukumbu itasema 'jina limefichwa'.")),
            )),
        )),
        Section(L("Panel", "Jopo"), (
            Repeat("panel", L("Panel members", "Wajumbe wa jopo"), item_label=L("Member", "Mjumbe"), fields=(
                Field("member_name", TEXT, L("Name", "Jina"), tier="identifying", required=True, max_length=120),
                Field("sex", CHOICE, L("Sex", "Jinsia"), choices="sex", required=True, dimension=True),
                Field("panel_role", CHOICE, L("Role on the panel", "Jukumu kwenye jopo"), choices="ajs_panel_role",
                      dimension=True),
            )),
            Field("panel_women", INTEGER, L("Women on the panel", "Wanawake kwenye jopo"), derive=_panel_count("female"),
                  read_only=True, dimension=True),
            Field("panel_men", INTEGER, L("Men on the panel", "Wanaume kwenye jopo"), derive=_panel_count("male"),
                  read_only=True, dimension=True),
        )),
        Section(L("Hearings", "Vikao vya kusikiliza"), (
            CASE.sessions_repeat(
                Field("venue", TEXT, L("Venue", "Mahali"), max_length=120),
                Field("panel_present", INTEGER, L("Panel members present", "Wajumbe wa jopo waliohudhuria"),
                      minimum=0, maximum=50),
                Field("attendance", CHOICE, L("Parties present", "Wahusika waliohudhuria"), choices="ajs_attendance",
                      dimension=True),
                Field("summary", LONGTEXT, L("Summary of the hearing", "Muhtasari wa kikao"), tier="narrative",
                      max_length=6000),
                next_label=L("Next hearing on", "Kikao kijacho tarehe"),
            ),
        )),
        Section(L("Referral to the formal system", "Rufaa kwa mfumo rasmi"), (
            CASE.referrals_repeat(
                Field("referral_note", TEXT, L("Why referred", "Sababu ya rufaa"), tier="narrative", max_length=300),
            ),
        )),
        Section(L("Decision", "Uamuzi"), (
            Field("decided_on", DATE, L("Date of the decision", "Tarehe ya uamuzi")),
            Field("decided", YESNO, L("A decision is recorded", "Uamuzi umerekodiwa"),
                  derive=lambda v: bool(v.get("decided_on")), read_only=True, dimension=True),
            Field("decision_text", LONGTEXT, L("The decision", "Uamuzi"), tier="narrative", max_length=10000,
                  help=L("In full, as read to the parties. Printed in the decision record for the court.",
                         "Kwa ukamilifu, kama ulivyosomewa wahusika. Huchapishwa kwenye kumbukumbu ya uamuzi.")),
            Field("remedies", MULTI, L("Remedies", "Suluhu"), choices="ajs_remedy", dimension=True, searchable=True),
            Field("compensation", TEXT, L("Compensation (what, how much, to whom)",
                                          "Fidia (nini, kiasi gani, kwa nani)"), tier="narrative", max_length=500,
                  relevant=Eq("remedies", "compensation")),
            Field("compensation_kes", DECIMAL, L("Compensation value (KES)", "Thamani ya fidia (KES)"), minimum=0,
                  relevant=Eq("remedies", "compensation")),
            Field("compliance_due", DATE, L("Deadline to comply", "Muda wa kutekeleza"), allow_future=True,
                  relevant=DECIDED),
        )),
        Section(L("Compliance and appeal", "Utekelezaji na rufaa"), (
            Field("compliance", CHOICE, L("Compliance", "Utekelezaji"), choices="ajs_compliance", dimension=True,
                  relevant=DECIDED),
            Field("compliance_checked_on", DATE, L("Compliance checked on", "Utekelezaji ulikaguliwa tarehe"),
                  relevant=Filled("compliance")),
            Field("appealed", YESNO, L("Appealed", "Imekatiwa rufaa"), relevant=DECIDED, dimension=True),
            Field("appeal_to", CHOICE, L("Appealed to", "Rufaa kwa"), choices="ajs_appeal_to", dimension=True,
                  relevant=Filled("appealed"), required=True),
            Field("appeal_outcome", CHOICE, L("Outcome of the appeal", "Matokeo ya rufaa"),
                  choices="ajs_appeal_outcome", dimension=True, relevant=Filled("appealed")),
        )),
        Section(L("Court verification (Article 159(3))", "Uthibitisho wa mahakama (Ibara 159(3))"), (
            _yes("screen_bill_of_rights", "Equality, dignity, no discrimination against women, children or persons "
                 "with disabilities, no cruel or degrading punishment.",
                 "Usawa, utu, hakuna ubaguzi dhidi ya wanawake, watoto au watu wenye ulemavu, hakuna adhabu ya "
                 "kikatili au ya kudhalilisha.",
                 "The process and decision respect the Bill of Rights",
                 "Utaratibu na uamuzi vinaheshimu Haki za Binadamu"),
            _yes("screen_justice_morality", "Neither how the matter was heard nor what was decided.",
                 "Wala jinsi shauri lilivyosikilizwa wala kilichoamuliwa.",
                 "Not repugnant to justice and morality, nor leading to such a result",
                 "Haupingani na haki na maadili, wala haulengi matokeo kama hayo"),
            _yes("screen_written_law", "For example land, succession and children's law.",
                 "Kwa mfano sheria za ardhi, urithi na watoto.",
                 "Consistent with the Constitution and written law",
                 "Unaendana na Katiba na sheria zilizoandikwa"),
            _yes("screen_voluntary", "Nobody was forced to come or to agree; each side spoke.",
                 "Hakuna aliyelazimishwa kuja wala kukubali; kila upande ulisikilizwa.",
                 "All parties took part freely and were heard",
                 "Wahusika wote walishiriki kwa hiari na walisikilizwa"),
            _yes("screen_not_excluded", "Gender-based violence, sexual offences and serious crimes go to the "
                 "formal system.",
                 "Ukatili wa kijinsia, makosa ya kingono na uhalifu mkubwa huenda kwenye mfumo rasmi.",
                 "Not gender-based violence, a sexual offence or another serious crime",
                 "Si ukatili wa kijinsia, kosa la kingono wala uhalifu mwingine mkubwa"),
            Field("screened_on", DATE, L("Screened on", "Tarehe ya uchunguzi"), relevant=DECIDED),
            Field("filing_court", TEXT, L("Court filed in", "Mahakama iliyowasilishwa"), max_length=120,
                  relevant=DECIDED, searchable=True),
            Field("filing_file_no", TEXT, L("Court file number", "Nambari ya faili la mahakama"), max_length=60,
                  relevant=DECIDED, searchable=True),
            Field("filed_on", DATE, L("Date filed", "Tarehe ya kuwasilisha"), relevant=DECIDED),
            Field("court_result", CHOICE, L("Court's result", "Matokeo ya mahakama"), choices="court_result",
                  relevant=Filled("filed_on"), dimension=True, searchable=True),
            Field("court_result_on", DATE, L("Date of the court's result", "Tarehe ya matokeo ya mahakama"),
                  relevant=In("court_result", ("adopted", "varied", "set_aside"))),
            Field("share_consent", YESNO, L("Parties consent to share this record with the agency it is referred to",
                                            "Wahusika wameridhia kumbukumbu hii kushirikiwa na taasisi inayopelekwa")),
        )),
        CASE.status_section(L("How the case ended", "Jinsi kesi ilivyoisha")),
    ),
    rules=(
        *CASE.rules(),
        Custom(("decided_on", "dispute_category", "gbv_or_sexual", "referrals"), FORMAL_SYSTEM_WARNING,
               ok=_decision_allowed),
        Custom(("filed_on", "dispute_category", "gbv_or_sexual"),
               L("Gender-based violence and sexual offences cannot be filed for adoption as an AJS decision.",
                 "Ukatili wa kijinsia na makosa ya kingono hayawezi kuwasilishwa ili kukubaliwa kama uamuzi wa AJS."),
               ok=lambda v: not _filing(v) or not needs_formal_system(v)),
        Custom(("decided_on", "decision_text"), L("Give the date of the decision.", "Weka tarehe ya uamuzi."),
               ok=lambda v: not v.get("decision_text") or bool(v.get("decided_on"))),
        Custom(("decision_text", "decided_on"), L("Write the decision.", "Andika uamuzi."),
               ok=lambda v: not v.get("decided_on") or bool((v.get("decision_text") or "").strip())),
        Custom(("decided_on", "hearings"), L("Record at least one hearing before the decision.",
                                             "Rekodi angalau kikao kimoja kabla ya uamuzi."),
               ok=lambda v: not v.get("decided_on") or bool(v.get("hearings"))),
        Custom(("filed_on", *SCREENING),
               L("Answer every Article 159(3) screening question before filing the decision for adoption.",
                 "Jibu kila swali la uchunguzi wa Ibara 159(3) kabla ya kuwasilisha uamuzi ili ukubaliwe."),
               ok=lambda v: not _filing(v) or all(v.get(q) is not None for q in SCREENING)),
        Custom(("filed_on", *SCREENING),
               L("The decision does not pass the Article 159(3) screening, so it cannot be filed for adoption. "
                 "Review it with the parties first.",
                 "Uamuzi haujapita uchunguzi wa Ibara 159(3), kwa hiyo hauwezi kuwasilishwa ili ukubaliwe. "
                 "Upitie upya pamoja na wahusika kwanza."),
               ok=lambda v: not _filing(v) or all(v.get(q) is not False for q in SCREENING)),
        Custom(("filed_on", "filing_court"), L("Give the court and the date of filing.",
                                               "Weka mahakama na tarehe ya kuwasilisha."),
               ok=lambda v: not _filing(v) or bool(v.get("filing_court") and v.get("filed_on"))),
        NotBefore(("decided_on", "opened_on"), L("The decision is dated before the case was registered.",
                                                 "Uamuzi una tarehe kabla ya kesi kusajiliwa.")),
        NotBefore(("filed_on", "decided_on"), L("Filed in court before the decision was made.",
                                                "Imewasilishwa mahakamani kabla ya uamuzi.")),
        NotBefore(("court_result_on", "filed_on"), L("The court's result is dated before the filing.",
                                                     "Matokeo ya mahakama yana tarehe kabla ya kuwasilishwa.")),
    ),
)

__all__ = ["AJS_CASE", "FORMAL_SYSTEM_WARNING", "formal_system_warning", "needs_formal_system"]

"""Users' feedback on justice agencies: how a court, station, chief or elders' council treated a complainant or an
accused person. Anonymous unless the person chooses otherwise; the ratings feed the scores per agency and month."""

from __future__ import annotations

from ..i18n import L, Label
from .choices import C, define
from .conditions import Eq
from .definition import Form, Section
from .fields import CHOICE, DATE, LONGTEXT, PLACE, TEXT, YESNO, Field

# The 1-5 scale every rating in the community forms uses; services/scores.py finds rating fields by this list.
RATING_SCALE = "rating_1_5"
define(
    RATING_SCALE,
    C("1", "1 - Very poor", "1 - Mbaya sana", aliases="very poor|mbaya sana"),
    C("2", "2 - Poor", "2 - Mbaya", aliases="poor|mbaya"),
    C("3", "3 - Fair", "3 - Wastani", aliases="fair|average|wastani"),
    C("4", "4 - Good", "4 - Nzuri", aliases="good|nzuri"),
    C("5", "5 - Very good", "5 - Nzuri sana", aliases="very good|excellent|nzuri sana"),
)
define(
    "feedback_agency",
    C("court", "Court", "Mahakama"),
    C("police_station", "Police station or post", "Kituo cha polisi", aliases="police"),
    C("chief", "Chief or assistant chief", "Chifu au chifu msaidizi", aliases="chief's office"),
    C("elders_council", "Elders' council", "Baraza la wazee", aliases="elders"),
    C("peace_committee", "Peace committee", "Kamati ya amani"),
    C("paralegal", "Paralegal", "Msaidizi wa kisheria"),
    C("children_office", "Children's office", "Ofisi ya watoto"),
    C("other", "Other", "Nyingine"),
)
define(
    "justice_user_role",
    C("complainant", "Complainant or victim", "Mlalamikaji au mwathiriwa"),
    C("accused", "Accused or suspect", "Mshtakiwa au mshukiwa"),
    C("witness", "Witness", "Shahidi"),
    C("party", "Party to a civil, land or family matter", "Mhusika wa kesi ya madai, ardhi au familia"),
    C("relative", "Relative or supporter", "Jamaa au msaidizi"),
    C("other", "Other", "Nyingine"),
)
define(
    "justice_matter",
    C("criminal", "Criminal matter", "Kesi ya jinai"),
    C("gbv", "Gender-based violence", "Ukatili wa kijinsia"),
    C("land", "Land or property", "Ardhi au mali"),
    C("family", "Family, marriage or children", "Familia, ndoa au watoto"),
    C("debt", "Debt or business", "Deni au biashara"),
    C("other", "Other", "Nyingine"),
)
define(
    "feedback_channel",
    C("form", "Paper feedback form", "Fomu ya maoni"),
    C("box", "Suggestion box", "Sanduku la maoni"),
    C("meeting", "Forum or team meeting", "Mkutano wa jukwaa au timu"),
    C("in_person", "In person at the forum desk", "Ana kwa ana kwenye dawati la jukwaa"),
    C("phone", "Phone call or text message", "Simu au ujumbe mfupi", aliases="sms"),
)
define(
    "feedback_status",
    C("new", "New", "Mpya"),
    C("discussed", "Discussed by the team", "Imejadiliwa na timu"),
    C("shared", "Shared with the agency", "Imepelekwa kwa taasisi"),
    C("responded", "Agency responded", "Taasisi imejibu"),
)

RATINGS: tuple[tuple[str, Label], ...] = (
    ("timeliness", L("Timeliness", "Kwa wakati")),
    ("respect", L("Respect shown", "Heshima")),
    ("fairness", L("Fairness", "Haki")),
    ("kept_informed", L("Kept informed", "Kujulishwa kinachoendelea")),
    ("overall", L("Overall", "Kwa jumla")),
)
RATING_HELP = L("1 very poor, 2 poor, 3 fair, 4 good, 5 very good. Leave empty if not asked.",
                "1 mbaya sana, 2 mbaya, 3 wastani, 4 nzuri, 5 nzuri sana. Acha wazi kama haikuulizwa.")


def rating_fields(*extra: tuple[str, Label]) -> tuple[Field, ...]:
    """The five standard ratings (and any extra ones) on the shared 1-5 scale; 'overall' is required."""
    return tuple(Field(name, CHOICE, label, choices=RATING_SCALE, help=RATING_HELP, required=name == "overall")
                 for name, label in (*RATINGS, *extra))


def respondent_fields(prefix: str = "") -> tuple[Field, ...]:
    """Sex and age band of the person giving feedback: public, for breakdowns, never enough to identify."""
    return (
        Field(f"{prefix}sex", CHOICE, L("Sex", "Jinsia"), choices="sex", dimension=True),
        Field(f"{prefix}age_band", CHOICE, L("Age band", "Kundi la umri"), choices="age_band", dimension=True),
    )


FEEDBACK = Form(
    name="feedback",
    module="feedback",
    title=L("User feedback", "Maoni ya watumiaji"),
    description=L("How a justice agency treated a complainant or an accused person. Anonymous unless the person "
                  "chooses to give a name.",
                  "Jinsi taasisi ya haki ilivyomhudumia mlalamikaji au mshtakiwa. Bila jina isipokuwa mtu "
                  "akichagua kutoa jina."),
    date_field="contact_date",
    category_field="agency_type",
    status_field="status",
    place_field="place",
    title_fields=("agency_name", "agency_type", "contact_date"),
    list_columns=("contact_date", "agency_type", "agency_name", "user_role", "overall", "asked_money", "status"),
    indexes=(("agency_type", "agency_name", "contact_date"),),  # scores per agency and month
    sections=(
        Section(L("The agency", "Taasisi"), (
            Field("agency_type", CHOICE, L("Kind of agency", "Aina ya taasisi"), choices="feedback_agency",
                  required=True, dimension=True, searchable=True),
            Field("agency_other", TEXT, L("Other kind of agency", "Aina nyingine ya taasisi"), max_length=120,
                  relevant=Eq("agency_type", "other"), required=True),
            Field("agency_name", TEXT, L("Name of the agency or office", "Jina la taasisi au ofisi"), max_length=120,
                  dimension=True,
                  help=L("For example: Kibera Law Courts, Kilimani Police Station.",
                         "Kwa mfano: Mahakama ya Kibera, Kituo cha Polisi cha Kilimani.")),
            Field("place", PLACE, L("Where the agency is", "Mahali taasisi ilipo"), dimension=True),
            Field("contact_date", DATE, L("When you dealt with them", "Ulipohudumiwa"), required=True,
                  precision="either",
                  help=L("The day, or only the month (YYYY-MM).", "Siku, au mwezi tu (YYYY-MM).")),
            Field("user_role", CHOICE, L("Your part in the matter", "Nafasi yako katika shauri"),
                  choices="justice_user_role", dimension=True),
            Field("matter", CHOICE, L("Kind of matter", "Aina ya shauri"), choices="justice_matter", dimension=True),
        )),
        Section(L("Ratings", "Tathmini"), (
            *rating_fields(),
            Field("asked_money", CHOICE, L("Were you asked for money other than official fees?",
                                           "Uliombwa pesa zaidi ya ada rasmi?"),
                  choices="yes_no_unknown", dimension=True),
            Field("paid_money", CHOICE, L("Did you pay it?", "Ulilipa?"), choices="yes_no_unknown", dimension=True,
                  relevant=Eq("asked_money", "yes")),
            Field("improve", LONGTEXT, L("What should improve (stays on this computer)",
                                         "Nini kiboreshwe (hubaki kwenye kompyuta hii)"),
                  tier="narrative", local_only=True, max_length=4000),
        )),
        Section(L("About the person", "Kuhusu mtoa maoni"), (
            # Not answered counts as anonymous: an import or a form that leaves it out keeps no name.
            Field("anonymous", YESNO, L("Anonymous", "Bila jina"), default=True,
                  derive=lambda v: v.get("anonymous") is not False,
                  help=L("Untick only if the person wants to give a name or phone number.",
                         "Ondoa alama tu kama mtu anataka kutoa jina au nambari ya simu.")),
            Field("name", TEXT, L("Name", "Jina"), tier="identifying", max_length=120,
                  relevant=Eq("anonymous", False)),
            Field("phone", TEXT, L("Phone number", "Nambari ya simu"), tier="identifying", max_length=30,
                  relevant=Eq("anonymous", False), searchable=False),
            Field("may_contact", YESNO, L("Agrees to be contacted about this feedback",
                                          "Amekubali kuwasiliana kuhusu maoni haya"),
                  relevant=Eq("anonymous", False)),
            *respondent_fields(),
        )),
        Section(L("Follow-up", "Ufuatiliaji"), (
            Field("channel", CHOICE, L("How the feedback came", "Jinsi maoni yalivyopokelewa"),
                  choices="feedback_channel", dimension=True),
            Field("status", CHOICE, L("Status", "Hali"), choices="feedback_status", required=True, default="new",
                  dimension=True),
        )),
    ),
)

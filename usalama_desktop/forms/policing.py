"""Police service delivery: ratings of a named station's services, and the register of complaints about officers'
conduct kept for redress. Complaints live in their own module, which police-agency installations never see."""

from __future__ import annotations

from ..i18n import L
from .choices import C, define
from .conditions import Eq, In
from .definition import Custom, Form, NotBefore, Repeat, RowRule, Section, not_before
from .feedback import rating_fields, respondent_fields
from .fields import CHOICE, DATE, INTEGER, LONGTEXT, PLACE, TEXT, TIME, YESNO, Field

define(
    "police_facility",
    C("police_station", "Police station", "Kituo cha polisi"),
    C("ap_post", "Administration Police post", "Kituo cha Polisi wa Utawala", aliases="ap post|ap camp"),
    C("police_post", "Police post or patrol base", "Kituo kidogo cha polisi au kambi ya doria"),
    C("other", "Other", "Nyingine"),
)
define(
    "police_service",
    C("report_crime", "Reporting a crime", "Kuripoti uhalifu", aliases="report|ripoti"),
    C("ob_abstract", "OB number or police abstract", "Nambari ya OB au abstrakti ya polisi",
      aliases="ob|abstract|abstrakti"),
    C("p3", "P3 form", "Fomu ya P3", aliases="p3 form"),
    C("bail", "Bail or bond", "Dhamana", aliases="bond|cash bail"),
    C("visit", "Visit or enquiry at the station", "Kutembelea au kuuliza kituoni", aliases="enquiry|ziara"),
    C("call", "Phone call to the station or 999/112", "Kupiga simu kituoni au 999/112",
      aliases="phone|999|112|simu"),
    C("other", "Other", "Nyingine"),
)
define(
    "rating_channel",
    C("sms", "Text message (mobile platform)", "Ujumbe mfupi (jukwaa la simu)", aliases="text|ujumbe"),
    C("form", "Paper form", "Fomu ya karatasi"),
    C("in_person", "In person", "Ana kwa ana"),
    C("meeting", "Forum or team meeting", "Mkutano wa jukwaa au timu"),
    C("phone", "Phone call", "Simu"),
)
define(
    "police_complaint_type",
    C("bribery", "Bribe demanded or extortion", "Kuombwa hongo au unyang'anyi", aliases="bribe|hongo"),
    C("force", "Assault or excessive force", "Shambulio au nguvu kupita kiasi", aliases="assault"),
    C("unlawful_arrest", "Unlawful arrest or detention", "Kukamatwa au kuzuiliwa kinyume cha sheria",
      aliases="arrest"),
    C("refused_report", "Refused to record a report or give an OB number",
      "Kukataa kurekodi ripoti au kutoa nambari ya OB", aliases="refused"),
    C("rudeness", "Rudeness, insults or abuse", "Ukali, matusi au dhuluma", aliases="rude"),
    C("neglect", "Delay or neglect of duty", "Kuchelewesha au kupuuza kazi", aliases="delay"),
    C("property", "Property lost or not returned", "Mali kupotea au kutorudishwa"),
    C("sexual_harassment", "Sexual harassment", "Unyanyasaji wa kingono"),
    C("threats", "Threats or intimidation", "Vitisho"),
    C("other", "Other", "Nyingine"),
)
define(
    "complaint_channel",
    C("in_person", "In person", "Ana kwa ana"),
    C("sms", "Text message (mobile platform)", "Ujumbe mfupi (jukwaa la simu)", aliases="text|ujumbe"),
    C("phone", "Phone call", "Simu"),
    C("letter", "Letter or written statement", "Barua au taarifa ya maandishi"),
    C("meeting", "Forum or team meeting", "Mkutano wa jukwaa au timu"),
    C("referred", "Referred by another agency", "Imeletwa na taasisi nyingine"),
)
define(
    "complaint_forwarded_to",
    C("ocs", "Station commander (OCS)", "Mkuu wa kituo (OCS)", aliases="station commander|ocs"),
    C("iau", "Internal Affairs Unit (IAU)", "Kitengo cha Masuala ya Ndani (IAU)", aliases="internal affairs|iau"),
    C("ipoa", "Independent Policing Oversight Authority (IPOA)",
      "Mamlaka Huru ya Kusimamia Polisi (IPOA)", aliases="ipoa"),
    C("other", "Other", "Nyingine"),
)
define(
    "complaint_status",
    C("received", "Received", "Imepokelewa"),
    C("forwarded", "Forwarded", "Imepelekwa"),
    C("under_investigation", "Under investigation", "Inachunguzwa", aliases="investigation"),
    C("resolved", "Resolved", "Imetatuliwa"),
    C("closed_no_action", "Closed without action", "Imefungwa bila hatua", aliases="closed"),
)
define(
    "complaint_outcome",
    C("apology", "Apology or explanation given", "Msamaha au maelezo yametolewa"),
    C("disciplined", "Officer disciplined", "Afisa amechukuliwa hatua za kinidhamu"),
    C("transferred", "Officer transferred", "Afisa amehamishwa"),
    C("charged", "Officer charged in court", "Afisa ameshtakiwa mahakamani"),
    C("returned", "Money or property returned", "Pesa au mali imerudishwa"),
    C("service_given", "The service was then given", "Huduma ilitolewa baadaye"),
    C("not_upheld", "Complaint not upheld", "Malalamiko hayakuthibitishwa"),
    C("withdrawn", "Withdrawn by the complainant", "Yameondolewa na mlalamikaji"),
    C("no_contact", "Complainant could not be reached", "Mlalamikaji hakupatikana"),
    C("other", "Other", "Nyingine"),
)

OPEN_COMPLAINT = ("received", "forwarded", "under_investigation")
CLOSED_COMPLAINT = ("resolved", "closed_no_action")

IMPORTED_HELP = L("Filled in by the text-message import; the phone number itself is never kept.",
                  "Hujazwa na uingizaji wa ujumbe mfupi; nambari ya simu yenyewe haihifadhiwi.")


def imported_fields() -> tuple[Field, ...]:
    """Where an imported text message came from: its platform id and the keyed hash of the sender's number."""
    return (
        Field("sms_id", TEXT, L("Message number on the platform", "Nambari ya ujumbe kwenye jukwaa"),
              tier="identifying", read_only=True, searchable=False, max_length=80, unique=True, help=IMPORTED_HELP),
        Field("phone_hash", TEXT, L("Sender code (from the phone number)",
                                    "Msimbo wa mtumaji (kutoka nambari ya simu)"),
              tier="identifying", read_only=True, searchable=False, max_length=64, help=IMPORTED_HELP),
    )


POLICE_RATING = Form(
    name="police_rating",
    module="police_ratings",
    title=L("Police service rating", "Tathmini ya huduma ya polisi"),
    description=L("How a named station or post served someone: the service, the wait, the ratings and whether a "
                  "bribe was asked.",
                  "Jinsi kituo au kituo kidogo kilivyomhudumia mtu: huduma, muda wa kusubiri, tathmini na kama "
                  "aliombwa hongo."),
    date_field="visit_date",
    category_field="service",
    place_field="place",
    title_fields=("station", "service", "visit_date"),
    list_columns=("visit_date", "station", "service", "waiting_minutes", "overall", "conduct", "asked_bribe"),
    indexes=(("station", "visit_date"), ("agency_id", "sms_id")),  # scores per station and period; import checks
    sections=(
        Section(L("The visit", "Ziara"), (
            Field("station", TEXT, L("Police station or post", "Kituo cha polisi"), required=True, max_length=120,
                  dimension=True, help=L("For example: Kilimani Police Station.",
                                         "Kwa mfano: Kituo cha Polisi cha Kilimani.")),
            Field("station_type", CHOICE, L("Kind of station", "Aina ya kituo"), choices="police_facility",
                  dimension=True),
            Field("place", PLACE, L("Where the station is", "Mahali kituo kilipo"), dimension=True),
            Field("visit_date", DATE, L("Date of the visit or call", "Tarehe ya ziara au simu"), required=True,
                  precision="either"),
            Field("visit_time", TIME, L("Time", "Saa")),
            Field("service", CHOICE, L("Service sought", "Huduma iliyotafutwa"), choices="police_service",
                  required=True, dimension=True, searchable=True),
            Field("service_other", TEXT, L("Other service", "Huduma nyingine"), max_length=120,
                  relevant=Eq("service", "other")),
            Field("waiting_minutes", INTEGER, L("Waiting time (minutes)", "Muda wa kusubiri (dakika)"), minimum=0,
                  maximum=7 * 24 * 60, help=L("From arriving or calling until someone attended.",
                                              "Kuanzia kufika au kupiga simu hadi kuhudumiwa.")),
            Field("got_ob_number", YESNO, L("Given an OB number", "Alipewa nambari ya OB"),
                  relevant=In("service", ("report_crime", "ob_abstract"))),
        )),
        Section(L("Ratings", "Tathmini"), (
            *rating_fields(("conduct", L("Officers' professional conduct", "Mwenendo wa kitaaluma wa maafisa"))),
            Field("asked_bribe", CHOICE, L("Asked for a bribe", "Aliombwa hongo"), choices="yes_no_unknown",
                  dimension=True),
            Field("paid_bribe", CHOICE, L("Paid it", "Alilipa"), choices="yes_no_unknown", dimension=True,
                  relevant=Eq("asked_bribe", "yes")),
            Field("comment", LONGTEXT, L("Comment (stays on this computer)", "Maoni (hubaki kwenye kompyuta hii)"),
                  tier="narrative", local_only=True, max_length=4000),
        )),
        Section(L("About the person", "Kuhusu mtoa tathmini"), (
            *respondent_fields(),
            Field("channel", CHOICE, L("How the rating came", "Jinsi tathmini ilivyopokelewa"),
                  choices="rating_channel", dimension=True),
            *imported_fields(),
        )),
    ),
)


def _forwarded_when_status_says(values) -> bool:
    if values.get("status") in ("forwarded", "under_investigation"):
        return bool(values.get("forwarded"))
    return True


POLICE_COMPLAINT = Form(
    name="police_complaint",
    module="complaints",
    title=L("Complaint about police conduct", "Malalamiko kuhusu mwenendo wa polisi"),
    description=L("A complaint about officers' conduct, followed until it is resolved. Never shown at a police "
                  "station or post.",
                  "Malalamiko kuhusu mwenendo wa maafisa, hufuatiliwa hadi yatatuliwe. Hayaonyeshwi kamwe kwenye "
                  "kituo cha polisi."),
    reference_field="complaint_ref",
    date_field="received_on",
    category_field="complaint_type",
    status_field="status",
    place_field="place",
    title_fields=("complaint_ref", "complaint_type", "received_on"),
    list_columns=("received_on", "complaint_ref", "station", "complaint_type", "status", "closed_on"),
    indexes=(("station",), ("agency_id", "sms_id")),
    sections=(
        Section(L("The complaint", "Malalamiko"), (
            Field("complaint_ref", TEXT, L("Complaint number", "Nambari ya malalamiko"), max_length=40, unique=True,
                  searchable=True, help=L("Your register's number, e.g. CMP 14/2024.",
                                          "Nambari ya rejista yako, k.m. CMP 14/2024.")),
            Field("received_on", DATE, L("Date received", "Tarehe ilipopokelewa"), required=True),
            Field("channel", CHOICE, L("How it came", "Jinsi yalivyopokelewa"), choices="complaint_channel",
                  dimension=True),
            Field("complaint_type", CHOICE, L("What the complaint is about", "Malalamiko yanahusu nini"),
                  choices="police_complaint_type", required=True, dimension=True, searchable=True),
            Field("what_happened", LONGTEXT, L("What happened (stays on this computer)",
                                               "Kilichotokea (hubaki kwenye kompyuta hii)"),
                  tier="narrative", local_only=True, max_length=8000),
        )),
        Section(L("When and where", "Lini na wapi"), (
            Field("station", TEXT, L("Police station or post concerned", "Kituo cha polisi kinachohusika"),
                  required=True, max_length=120, dimension=True),
            Field("occurred_on", DATE, L("Date it happened", "Tarehe lilipotokea"), precision="either"),
            Field("occurred_time", TIME, L("Time it happened", "Saa lilipotokea")),
            Field("place", PLACE, L("Where it happened", "Mahali lilipotokea"), dimension=True),
        )),
        Section(L("Officers and complainant", "Maafisa na mlalamikaji"), (
            Field("officers_known", CHOICE, L("Officers can be identified", "Maafisa wanaweza kutambuliwa"),
                  choices="yes_no_unknown"),
            Field("officer_details", TEXT, L("Officer identifiers (service number, name, rank, description)",
                                             "Utambulisho wa maafisa (nambari ya kazi, jina, cheo, maelezo)"),
                  tier="identifying", max_length=500, relevant=Eq("officers_known", "yes")),
            Field("complainant_name", TEXT, L("Complainant's name", "Jina la mlalamikaji"), tier="identifying",
                  max_length=120),
            Field("complainant_contact", TEXT, L("Complainant's phone or contact",
                                                 "Simu au mawasiliano ya mlalamikaji"),
                  tier="identifying", max_length=120, searchable=False),
            *respondent_fields("complainant_"),
            *imported_fields(),
        )),
        Section(L("Redress", "Hatua za kurekebisha"), (
            Repeat("forwarded", L("Forwarded to", "Imepelekwa kwa"), item_label=L("Forwarded", "Imepelekwa"),
                   max_rows=10, fields=(
                       Field("to", CHOICE, L("To", "Kwa"), choices="complaint_forwarded_to", required=True,
                             dimension=True),
                       Field("to_other", TEXT, L("Other office", "Ofisi nyingine"), max_length=120,
                             relevant=Eq("to", "other"), required=True),
                       Field("forwarded_on", DATE, L("Date forwarded", "Tarehe ilipopelekwa"), required=True),
                       Field("their_ref", TEXT, L("Their reference", "Nambari yao"), max_length=60),
                       Field("response_on", DATE, L("Date they responded", "Tarehe walipojibu")),
                   )),
            Field("status", CHOICE, L("Status", "Hali"), choices="complaint_status", required=True,
                  default="received", dimension=True),
            Field("outcome", CHOICE, L("Outcome", "Matokeo"), choices="complaint_outcome", dimension=True,
                  relevant=In("status", CLOSED_COMPLAINT), required=True),
            Field("closed_on", DATE, L("Date resolved or closed", "Tarehe ilipotatuliwa au kufungwa"),
                  relevant=In("status", CLOSED_COMPLAINT), required=True),
            Field("resolution", LONGTEXT, L("Resolution: what was done", "Utatuzi: kilichofanyika"),
                  tier="narrative", max_length=4000, relevant=In("status", CLOSED_COMPLAINT)),
        )),
    ),
    rules=(
        NotBefore(("received_on", "occurred_on"), L("The complaint was received before the date it happened.",
                                                    "Malalamiko yalipokelewa kabla ya tarehe ya tukio.")),
        NotBefore(("closed_on", "received_on"), L("The closing date is before the date the complaint was received.",
                                                  "Tarehe ya kufunga iko kabla ya tarehe ya kupokea malalamiko.")),
        RowRule(("forwarded", "forwarded_on", "received_on"),
                L("Forwarded before the complaint was received.", "Yalipelekwa kabla ya kupokelewa."),
                ok=lambda row, v: not_before(row.get("forwarded_on"), v.get("received_on")), at="forwarded_on"),
        RowRule(("forwarded", "response_on", "forwarded_on"),
                L("The response date is before the date it was forwarded.",
                  "Tarehe ya jibu iko kabla ya tarehe ya kupeleka."),
                ok=lambda row, v: not_before(row.get("response_on"), row.get("forwarded_on")), at="response_on"),
        Custom(("status", "forwarded"), L("Say where the complaint was forwarded, and when.",
                                          "Sema malalamiko yalipelekwa wapi, na lini."),
               ok=_forwarded_when_status_says),
    ),
)

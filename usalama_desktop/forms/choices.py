"""Choice lists: the shipped reference lists and the small lists forms share, each value with en/sw labels."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from ..i18n import L
from ..reference import AGENCY_TYPES, Choice, counties
from ..resources import read_csv


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", str(text).strip().lower().replace("’", "'"))


@dataclass(frozen=True)
class ChoiceList:
    name: str
    choices: tuple[Choice, ...]

    @functools.cached_property
    def values(self) -> tuple[str, ...]:
        return tuple(c.value for c in self.choices)

    @functools.cached_property
    def _lookup(self) -> dict[str, str]:
        """Value, English label and Kiswahili label all find the value (case and spacing ignored)."""
        out: dict[str, str] = {}
        for c in self.choices:
            for alias in c.get("aliases").split("|"):
                if alias:
                    out[_fold(alias)] = c.value
        for c in self.choices:
            for key in (c.label.sw, c.label.en, c.value):
                if key:
                    out[_fold(key)] = c.value
        return out

    def find(self, text: object) -> str | None:
        if text is None:
            return None
        seen, key = self._found, (type(text), text)  # 1, 1.0 and True are one dict key but fold apart
        try:
            return seen[key]
        except KeyError:
            pass
        except TypeError:  # not hashable: look it up, do not remember it
            return self._lookup.get(_fold(text))
        if len(seen) > 4096:  # an import of endless distinct junk must not grow it without end
            seen.clear()
        found = seen[key] = self._lookup.get(_fold(text))
        return found

    @functools.cached_property
    def _found(self) -> dict[object, str | None]:
        """What each text already looked up found: imports ask the same few texts thousands of times."""
        return {}

    @functools.cached_property
    def search_words(self) -> dict[str, str]:
        """What the search index holds for each value: its English and Kiswahili labels."""
        return {c.value: f"{c.label.text('en')} {c.label.text('sw')}" for c in self.choices}

    def label(self, value: str | None, lang: str | None = None) -> str:
        if value is None:
            return ""
        c = self.by_value.get(value)
        return c.label.text(lang) if c else str(value)

    @functools.cached_property
    def by_value(self) -> dict[str, Choice]:
        return {c.value: c for c in self.choices}

    def __contains__(self, value: object) -> bool:
        try:
            return value in self.by_value
        except TypeError:  # a list or dict where one choice belongs (a bad import): simply not a choice
            return False


def C(value: str, en: str, sw: str, **extra: str) -> Choice:
    return Choice(value, L(en, sw), tuple(sorted(extra.items())))


_POLICE_SW = {
    "Homicide": "Mauaji",
    "Offences against Morality": "Makosa dhidi ya maadili",
    "Other offences against persons": "Makosa mengine dhidi ya watu",
    "Robbery": "Unyang'anyi",
    "Breakings": "Uvunjaji",
    "Theft of Stock": "Wizi wa mifugo",
    "Stealing": "Wizi",
    "Theft by Servant": "Wizi wa mfanyakazi",
    "Theft of Vehicles and Parts": "Wizi wa magari na vipuri",
    "Dangerous Drugs": "Dawa za kulevya",
    "Traffic Offences": "Makosa ya barabarani",
    "Criminal Damage": "Uharibifu wa mali",
    "Economic Crimes": "Uhalifu wa kiuchumi",
    "Corruption": "Ufisadi",
    "Offences involving Police Officers": "Makosa yanayohusu maafisa wa polisi",
    "Offences involving Tourists": "Makosa yanayohusu watalii",
    "Other Penal Code Offences": "Makosa mengine ya Kanuni ya Adhabu",
}

_ICCS_SW = {
    "01": "Vitendo vinavyosababisha au kunuia kusababisha kifo",
    "02": "Vitendo vinavyosababisha au kunuia kusababisha madhara kwa mtu",
    "03": "Vitendo vya madhara ya kingono",
    "04": "Vitendo dhidi ya mali vyenye vurugu au tishio kwa mtu",
    "05": "Vitendo dhidi ya mali pekee",
    "06": "Vitendo vinavyohusu dawa za kulevya zinazodhibitiwa",
    "07": "Vitendo vya ulaghai, udanganyifu au ufisadi",
    "08": "Vitendo dhidi ya utaratibu wa umma na mamlaka ya Serikali",
    "09": "Vitendo dhidi ya usalama wa umma na wa taifa",
    "10": "Vitendo dhidi ya mazingira asilia",
    "11": "Vitendo vingine vya uhalifu visivyoainishwa kwingineko",
}

_GBV_SW = {
    "1": "Ubakaji",
    "2": "Shambulio la kingono",
    "3": "Shambulio la kimwili",
    "4": "Ndoa ya lazima",
    "5": "Kunyimwa rasilimali, fursa au huduma",
    "6": "Unyanyasaji wa kisaikolojia / kihisia",
}

_CPIMS_SW = {
    "CDIS": "Aliyetelekezwa", "CDSA": "Utekaji nyara", "CLAB": "Mtoto aliyeathiriwa na VVU/UKIMWI",
    "CORP": "Utovu wa nidhamu wa mtoto", "COSR": "Familia inayoongozwa na mtoto", "CTRF": "Ajira ya watoto",
    "CCCM": "Ndoa ya utotoni", "SCCI": "Mtoto wa mzazi aliyefungwa", "CSAB": "Mtoto mkosaji",
    "CSAD": "Mtoto asiyeenda shule", "CSHV": "Mimba ya utotoni", "CSDQ": "Mtoto aliyeingizwa katika itikadi kali",
    "CCCT": "Utoro wa mtoto", "CSCL": "Mtoto mwenye ulemavu", "CCIP": "Watoto wa mitaani",
    "CCCP": "Ulezi", "CCDF": "Unajisi", "CSCT": "Ubaba unaobishaniwa", "CSDS": "Matumizi ya dawa za kulevya",
    "CCEA": "Unyanyasaji wa kihisia", "CSCS": "Ukeketaji", "CSCU": "Desturi ya kitamaduni yenye madhara",
    "CSDF": "Kujamiiana kwa maharimu", "CSDP": "Urithi", "CFGM": "Mtoto aliyehamishwa makazi ndani ya nchi",
    "CHCP": "Watoto waliopotea na kupatikana", "CSIC": "Kutelekezwa", "CIDC": "Mtoto yatima",
    "CLFC": "Utekaji wa mtoto na mzazi", "CSNG": "Unyanyasaji wa kimwili / vurugu", "CPCA": "Watoto wakimbizi",
    "CPAV": "Usajili", "CSRC": "Shambulio la kingono", "CSRG": "Unyonyaji na unyanyasaji wa kingono",
    "CSSA": "Mtoto mgonjwa (ugonjwa sugu)", "CSSO": "Ulawiti", "CSTC": "Mtoto aliyesafirishwa kiharamu",
    "CSUC": "Kufungiwa kinyume cha sheria",
}


@functools.cache
def _reference_lists() -> dict[str, ChoiceList]:
    police = tuple(
        C(slug(r["category"]), r["category"], _POLICE_SW.get(r["category"], r["category"]),
          iccs=r["suggested_iccs_section"], examples=r["examples_from_published_reports"])
        for r in read_csv("reference", "kenya_police_crime_categories.csv")
    )
    iccs = tuple(C(r["code"], f"{r['code']} {r['section']}", f"{r['code']} {_ICCS_SW.get(r['code'], r['section'])}")
                 for r in read_csv("reference", "iccs_level1.csv"))
    gbv = tuple(C(r["code"], r["type"], _GBV_SW.get(r["code"], r["type"]))
                for r in read_csv("reference", "gbvims_core_types.csv"))
    cpims = tuple(C(r["code"], r["category"], _CPIMS_SW.get(r["code"], r["category"]))
                  for r in read_csv("reference", "cpims_case_categories.csv"))
    return {
        "police_categories": ChoiceList("police_categories", police),
        "iccs_sections": ChoiceList("iccs_sections", iccs),
        "gbvims_types": ChoiceList("gbvims_types", gbv),
        "cpims_categories": ChoiceList("cpims_categories", cpims),
        "counties": ChoiceList("counties", counties()),
        "agency_types": ChoiceList("agency_types", AGENCY_TYPES),
    }


_LISTS: dict[str, ChoiceList] = {}


def define(name: str, *choices: Choice) -> ChoiceList:
    """Declare a shared list once; forms refer to it by name."""
    if name in _LISTS:
        raise ValueError(f"choice list {name} declared twice")
    cl = ChoiceList(name, tuple(choices))
    _LISTS[name] = cl
    return cl


def get(name: str) -> ChoiceList:
    if name in _LISTS:
        return _LISTS[name]
    ref = _reference_lists()
    if name in ref:
        return ref[name]
    raise KeyError(f"no choice list called {name}")


def all_lists() -> dict[str, ChoiceList]:
    return {**_reference_lists(), **_LISTS}


# --- lists shared by several forms -----------------------------------------------------------------------------

SEX = define(
    "sex",
    C("female", "Female", "Mwanamke", aliases="f|woman|girl|kike|mke"),
    C("male", "Male", "Mwanamume", aliases="m|man|boy|kiume|mume"),
    C("intersex", "Intersex", "Mwenye jinsia mbili"),
    C("unknown", "Unknown", "Haijulikani", aliases="u|?|not known|hajulikani"),
)
AGE_BANDS = define(
    "age_band",
    C("0-4", "0-4 years", "Miaka 0-4", minor="1"), C("5-9", "5-9 years", "Miaka 5-9", minor="1"),
    C("10-14", "10-14 years", "Miaka 10-14", minor="1"), C("15-17", "15-17 years", "Miaka 15-17", minor="1"),
    C("18-24", "18-24 years", "Miaka 18-24", minor="0"), C("25-34", "25-34 years", "Miaka 25-34", minor="0"),
    C("35-49", "35-49 years", "Miaka 35-49", minor="0"), C("50-59", "50-59 years", "Miaka 50-59", minor="0"),
    C("60+", "60 years and older", "Miaka 60 na zaidi", minor="0"), C("unknown", "Unknown", "Haijulikani"),
)
TIME_OF_DAY = define(
    "time_of_day",
    C("morning", "Morning (06:00-11:59)", "Asubuhi (06:00-11:59)"),
    C("afternoon", "Afternoon (12:00-17:59)", "Mchana (12:00-17:59)"),
    C("evening", "Evening (18:00-21:59)", "Jioni (18:00-21:59)"),
    C("night", "Night (22:00-05:59)", "Usiku (22:00-05:59)"),
    C("unknown", "Time unknown", "Saa haijulikani"),
)
YES_NO_UNKNOWN = define(
    "yes_no_unknown", C("yes", "Yes", "Ndiyo", aliases="y|true|1|ndio"), C("no", "No", "Hapana", aliases="n|false|0"),
    C("unknown", "Unknown", "Haijulikani", aliases="u|?|not known"),
)
RISK_LEVEL = define(
    "risk_level", C("low", "Low", "Chini"), C("medium", "Medium", "Wastani"), C("high", "High", "Juu"),
)
RELATIONSHIP = define(
    "perpetrator_relationship",
    C("intimate_partner", "Intimate partner / former partner", "Mwenzi wa karibu / wa zamani"),
    C("primary_caregiver", "Primary caregiver", "Mlezi mkuu"),
    C("family_other", "Family other than spouse or caregiver", "Familia nyingine (si mwenzi wala mlezi)"),
    C("employer", "Supervisor / employer", "Msimamizi / mwajiri"),
    C("schoolmate", "Schoolmate", "Mwanafunzi mwenzake"),
    C("teacher", "Teacher / school official", "Mwalimu / afisa wa shule"),
    C("service_provider", "Service provider", "Mtoa huduma"),
    C("housemate", "Cotenant / housemate", "Mpangaji mwenzake / mkaaji mwenzake"),
    C("neighbour", "Family friend / neighbour", "Rafiki wa familia / jirani"),
    C("community_member", "Other resident community member", "Mkazi mwingine wa jamii"),
    C("other", "Other", "Nyingine"),
    C("no_relation", "No relation", "Hakuna uhusiano"),
    C("unknown", "Unknown", "Haijulikani"),
)

"""Community safety audit results by ward, beside what the agencies recorded in the same ward and year.

How each figure is counted (respondents, not weights: the audit's samples are small and unweighted):

- victimisation rate: respondents whose household or who personally suffered any crime in the last 12 months, over
  respondents who answered both questions yes or no (or either one yes); "don't know" to both leaves them out;
- reporting rate: victimisations whose most recent case was reported to the police, over those where the answer
  was yes or no (household and personal cases counted separately);
- feeling safe (SDG 16.1.4): "very safe" or "fairly safe" over everyone who said how safe they feel (the four
  feelings). "I never walk alone after dark" and "don't know" are left out of that share and shown as counts of
  their own; ``safe_share_all`` keeps them in the denominator for readers who want the stricter figure;
- trust: "a great deal" or "quite a lot" over those who did not answer "don't know".

A ward with fewer than ``min_n`` respondents shows its counts but no rates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import NotFound, UsalamaError
from ..forms.registry import get_form, ref
from ..forms.safety_audit import SAFE_ANSWERS, TRUSTING_ANSWERS, UNSAFE_ANSWERS
from ..i18n import _
from ..permissions import allowed
from .installation import Session
from .records import Query, RecordService
from .scores import Merged, fold_text

MIN_N = 5
ROUND_ID = ref("survey_response", "round_id")
COUNTY = ref("survey_response", "place_county")
WARD = ref("survey_response", "place_ward")
HH = ref("survey_response", "hh_victim")
HH_REPORTED = ref("survey_response", "hh_reported")
P = ref("survey_response", "p_victim")
P_REPORTED = ref("survey_response", "p_reported")
SAFE = ref("survey_response", "safe_after_dark")
TRUST_POLICE = ref("survey_response", "trust_police")
TRUST_JUSTICE = ref("survey_response", "trust_local_justice")
YEAR = ref("survey_round", "year")
ROUND_CODE = ref("survey_round", "round_code")
INC_DATE = ref("incident", "occurred_on")
INC_COUNTY = ref("incident", "place_county")
INC_WARD = ref("incident", "place_ward")
INC_CATEGORY = ref("incident", "offence_category")


@dataclass
class WardResult:
    county: str | None
    ward: str | None  # as most often spelt; wards are matched without regard to case or spacing
    respondents: int
    victims: int
    victim_answered: int
    reported: int
    report_answered: int
    safe: int
    unsafe: int
    never_alone: int
    dont_know: int
    trust_police: int
    trust_police_answered: int
    trust_justice: int
    trust_justice_answered: int
    recorded_incidents: int | None = None  # None when this user may not count observatory records
    recorded_top_category: str | None = None
    suppressed: bool = False

    @staticmethod
    def _share(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    def _rate(self, part: int, whole: int) -> float | None:
        return None if self.suppressed else self._share(part, whole)

    @property
    def victimisation_rate(self) -> float | None:
        return self._rate(self.victims, self.victim_answered)

    @property
    def reporting_rate(self) -> float | None:
        return self._rate(self.reported, self.report_answered)

    @property
    def safe_share(self) -> float | None:
        return self._rate(self.safe, self.safe + self.unsafe)

    @property
    def safe_share_all(self) -> float | None:
        return self._rate(self.safe, self.safe + self.unsafe + self.never_alone + self.dont_know)

    @property
    def trust_police_share(self) -> float | None:
        return self._rate(self.trust_police, self.trust_police_answered)

    @property
    def trust_justice_share(self) -> float | None:
        return self._rate(self.trust_justice, self.trust_justice_answered)


@dataclass
class SurveyResults:
    year: int
    rounds: list[str]  # round codes counted
    wards: list[WardResult]
    total: WardResult
    observatory_visible: bool
    notes: list[str] = field(default_factory=list)


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


_COUNTS = f"""
    count(*),
    sum("{HH}" = 'yes' OR "{P}" = 'yes'),
    sum("{HH}" = 'yes' OR "{P}" = 'yes' OR ("{HH}" = 'no' AND "{P}" = 'no')),
    coalesce(sum("{HH}" = 'yes' AND "{HH_REPORTED}" = 'yes'), 0)
        + coalesce(sum("{P}" = 'yes' AND "{P_REPORTED}" = 'yes'), 0),
    coalesce(sum("{HH}" = 'yes' AND "{HH_REPORTED}" IN ('yes', 'no')), 0)
        + coalesce(sum("{P}" = 'yes' AND "{P_REPORTED}" IN ('yes', 'no')), 0),
    sum("{SAFE}" IN {_in(SAFE_ANSWERS)}), sum("{SAFE}" IN {_in(UNSAFE_ANSWERS)}),
    sum("{SAFE}" = 'never_alone'), sum("{SAFE}" = 'dont_know'),
    sum("{TRUST_POLICE}" IN {_in(TRUSTING_ANSWERS)}),
    sum("{TRUST_POLICE}" IS NOT NULL AND "{TRUST_POLICE}" != 'dont_know'),
    sum("{TRUST_JUSTICE}" IN {_in(TRUSTING_ANSWERS)}),
    sum("{TRUST_JUSTICE}" IS NOT NULL AND "{TRUST_JUSTICE}" != 'dont_know')"""


def rounds_of_year(session: Session, year: int) -> list[tuple[str, str]]:
    """(id, round code) of the live survey rounds of ``year`` this user may see."""
    rounds = RecordService(session, "survey_round")
    where, params = rounds.filter_sql(Query(equals={YEAR: year}))
    return [(r[0], r[1]) for r in session.db.query(
        f'SELECT id, "{ROUND_CODE}" FROM "{rounds.spec.name}" WHERE {" AND ".join(where)} ORDER BY "{ROUND_CODE}"',
        params)]


def ward_results(session: Session, year: int | None = None, round_id: str | None = None,
                 min_n: int = MIN_N) -> SurveyResults:
    """Results by ward for every round of ``year`` (or for one round), with the observatory's recorded incidents
    of the same ward and calendar year beside them."""
    responses = RecordService(session, "survey_response")
    responses.require("report")
    if round_id:
        try:
            found = RecordService(session, "survey_round").get(round_id)
        except NotFound:
            raise NotFound(_("That survey round does not exist on this computer.")) from None
        year = found["values"][YEAR]
        rounds = [(round_id, found["values"][ROUND_CODE])]
    elif year is None:
        raise UsalamaError(_("Say which year or which survey round."))
    else:
        rounds = rounds_of_year(session, year)
    results = SurveyResults(int(year), [code for _id, code in rounds], [], _empty_total(), False)
    if not rounds:
        results.notes.append(_("No survey round for this year."))
        return results
    where, params = responses.filter_sql(Query())
    where.append(f'"{ROUND_ID}" IN ({", ".join("?" * len(rounds))})')
    params.extend(rid for rid, _code in rounds)
    table = responses.spec.name
    # Grouped by the wards as stored, then folded here (see scores.Merged): no function runs per row.
    sql = (f'SELECT "{COUNTY}", "{WARD}", {_COUNTS} FROM "{table}" WHERE {" AND ".join(where)} '
           f'GROUP BY "{COUNTY}", "{WARD}"')
    merged: dict[tuple[str, Any], Merged] = {}
    for r in session.db.query(sql, params):
        values = tuple(r)
        ward = values[1].strip() if isinstance(values[1], str) else values[1]
        merged.setdefault((values[0], fold_text(ward)), Merged(13)).add(int(values[2] or 0), values[2:], (ward,))
    keys: dict[tuple[str, Any], WardResult] = {}
    for key, sums in sorted(merged.items(), key=lambda kv: (str(kv[0][0] or ""), str(kv[0][1] or ""))):
        counts = [int(x) for x in sums.totals]
        ward = WardResult(key[0], sums.shown()[0] or None, *counts, suppressed=counts[0] < min_n)
        results.wards.append(ward)
        keys[key] = ward
    total = session.db.one(f'SELECT {_COUNTS} FROM "{table}" WHERE {" AND ".join(where)}', params)
    results.total = WardResult(None, None, *[int(x or 0) for x in tuple(total)], suppressed=int(total[0] or 0) < min_n)
    results.observatory_visible = allowed(session.actor, "observatory", "count")
    if results.observatory_visible:
        _add_recorded(session, results, keys)
    else:
        results.notes.append(_("Recorded incidents are not shown: your role may not count observatory records."))
    return results


def _empty_total() -> WardResult:
    return WardResult(None, None, *([0] * 13))


def _add_recorded(session: Session, results: SurveyResults, wards: dict[tuple[str, str], WardResult]) -> None:
    """Incidents recorded in each ward during the survey's year (by the date they happened)."""
    incidents = RecordService(session, "incident")
    where, params = incidents.filter_sql(Query(date_from=f"{results.year}-01-01", date_to=f"{results.year}-12-31"))
    sql = (f'SELECT "{INC_COUNTY}", "{INC_WARD}", "{INC_CATEGORY}", count(*) FROM "{incidents.spec.name}" '
           f'WHERE {" AND ".join(where)} GROUP BY "{INC_COUNTY}", "{INC_WARD}", "{INC_CATEGORY}"')
    totals: dict[tuple, int] = {}
    by_category: dict[tuple, dict[str, int]] = {}
    for county, ward, category, n in session.db.query(sql, params):
        k = (county, fold_text(ward))
        totals[k] = totals.get(k, 0) + n
        if category:
            counts = by_category.setdefault(k, {})
            counts[category] = counts.get(category, 0) + n
    top = {k: max(counts.items(), key=lambda kv: (kv[1], kv[0]))[::-1] for k, counts in by_category.items()}
    categories = get_form("incident").by_name[INC_CATEGORY]
    for k, ward in wards.items():
        ward.recorded_incidents = totals.get(k, 0)
        ward.recorded_top_category = categories.display(top[k][1]) if k in top else None
    results.total.recorded_incidents = sum(totals.get(k, 0) for k in wards)

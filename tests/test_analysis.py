"""The analysis module's figures against counts computed here, independently, from the values the test inserted
through the record service; permissions, row scope, tombstones, month-only dates and the field allow-list."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections import Counter

import pytest

from usalama_desktop import clock
from usalama_desktop.analysis import Analysis, Filter, core, month_label, preset_period
from usalama_desktop.analysis.observatory import (
    ALL,
    APPROXIMATE,
    crime_chart,
    crime_clock,
    crime_graph,
    dashboard,
    headline,
    incidents,
    top_places,
    who_is_affected,
)
from usalama_desktop.demo_data.observatory import incident_values
from usalama_desktop.errors import PermissionDenied, UsalamaError
from usalama_desktop.forms.fields import CHOICE, DATE, MONTH, MULTI, PLACE, TIME, YESNO
from usalama_desktop.forms.registry import get_form
from usalama_desktop.i18n import language
from usalama_desktop.services.records import RecordService
from usalama_desktop.store.ids import uuid7

FORM = get_form("incident")
OTHER = "Kawangware Police Station (TEST)"


def _month(v: dict) -> str:
    return v["occurred_on"][:7]


def _day(v: dict) -> str:
    """The rule the record lists document: a month-only date counts as the first day of its month."""
    d = v["occurred_on"]
    return d + "-01" if len(d) == 7 else d


def _in(v: dict, flt: Filter) -> bool:
    def full(text, end):
        if text is None or len(text) == 10:
            return text
        return core.month_end(text) if end else text + "-01"

    lo, hi = full(flt.date_from, False), full(flt.date_to, True)
    return ((lo is None or _day(v) >= lo) and (hi is None or _day(v) <= hi)
            and (not flt.agency_ids or v["_agency"] in flt.agency_ids)
            and (not flt.categories or v["offence_category"] in flt.categories)
            and (not flt.ward or v["place"]["ward"] == flt.ward))


def _months(first: str, last: str) -> list[str]:
    out = []
    y, m = int(first[:4]), int(first[5:7])
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _seed(session, other_id: str, n: int = 420, seed: int = 7) -> list[dict]:
    """Incidents from 2024-01 to 2025-06 for two agencies, with month-only dates, blank, unknown and part-of-day
    times; inserted through the validating service. Returns the cleaned values, each tagged with its agency."""
    rng = random.Random(seed)
    svc = RecordService(session, "incident")
    start = dt.date(2024, 1, 1)
    per_agency: dict[str, list[dict]] = {session.agency.id: [], other_id: []}
    for i in range(n):
        agency = session.agency.id if rng.random() < 0.6 else other_id
        day = start + dt.timedelta(days=rng.randrange(0, 547))
        values = incident_values(rng, "police_station" if agency == session.agency.id else "health_facility", day, i)
        r = rng.random()
        if r < 0.06:
            values["occurred_on"] = values["occurred_on"][:7]
        elif r < 0.12:
            values["occurred_time"] = None
        elif r < 0.18:
            values["occurred_time"] = "night"
        per_agency[agency].append(values)
    out = []
    for agency, rows in per_agency.items():
        svc.create_many(rows, agency_id=agency)
        for values in rows:
            out.append({**FORM.clean(values), "_agency": agency})
    return out


def add_agency(session, name: str = OTHER) -> str:
    """Another member agency of the forum (as a bundle from it would add), for records keyed in at the forum."""
    agency_id = uuid7()
    session.db.execute("INSERT INTO agencies(id, name, type, county, is_local, created_at) VALUES (?,?,?,?,0,?)",
                       (agency_id, name, "police_station", "047", clock.now_iso()))
    return agency_id


@pytest.fixture
def seeded(env):
    admin = env.login("admin")
    other = add_agency(admin)
    values = _seed(admin, other)
    return env, admin, other, values


def _expected_clock(rows):
    hours, approx, unknown, blank = [0] * 24, Counter(), 0, 0
    for v in rows:
        t = v["occurred_time"]
        if t is None:
            blank += 1
        elif t == "unknown":
            unknown += 1
        elif t in APPROXIMATE:
            approx[t] += 1
        else:
            hours[int(t.split(":")[0])] += 1
    return hours, {k: approx[k] for k in APPROXIMATE}, unknown, blank


def test_every_dashboard_figure_matches_counts_from_the_inserted_values(seeded):
    env, admin, other, values = seeded
    flt = Filter("2025-01-01", "2025-06-30")
    rows = [v for v in values if _in(v, flt)]
    assert len(rows) > 100
    d = dashboard(admin, flt)

    hours, approx, unknown, blank = _expected_clock(rows)
    assert d.clock.hours == hours
    assert d.clock.approximate == approx and approx["night"] > 0
    assert (d.clock.unknown, d.clock.blank) == (unknown, blank) and blank > 0
    assert d.clock.total == len(rows)

    months = _months("2025-01", "2025-06")
    assert d.chart.months == months and list(d.chart.by_month.columns) == months
    by_cat_month = Counter((v["offence_category"], _month(v)) for v in rows)
    for (cat, month), n in by_cat_month.items():
        assert d.chart.by_month.loc[cat, month] == n
    assert d.chart.total == len(rows)
    totals = list(d.chart.totals)
    assert totals == sorted(totals, reverse=True)
    by_cat_agency = Counter((v["offence_category"], v["_agency"]) for v in rows)
    assert int(d.chart.by_agency.to_numpy().sum()) == len(rows)
    for (cat, agency), n in by_cat_agency.items():
        assert d.chart.by_agency.loc[cat, agency] == n
    assert d.chart.agency_names[other] == OTHER

    # The graph: the 12 months to June 2025, each beside the same month of 2024 (and, for July-Dec 2024, 2023).
    graph_months = _months("2024-07", "2025-06")
    assert d.graph.months == graph_months
    per_month = Counter(_month(v) for v in values)
    per_cat_month = Counter((v["offence_category"], _month(v)) for v in values)
    for m in graph_months:
        assert d.graph.current.loc[m, ALL] == per_month[m]
        last = f"{int(m[:4]) - 1}{m[4:]}"
        assert d.graph.last_year.loc[m, ALL] == per_month[last]
        for cat in d.graph.categories:
            assert d.graph.current.loc[m, cat] == per_cat_month[(cat, m)]
            assert d.graph.last_year.loc[m, cat] == per_cat_month[(cat, last)]
    year_cats = Counter(v["offence_category"] for v in values if _month(v) in graph_months)
    chosen = [year_cats[c] for c in d.graph.categories]
    assert len(chosen) == 5 and chosen == sorted(chosen, reverse=True)
    assert min(chosen) >= max(n for c, n in year_cats.items() if c not in d.graph.categories)

    june = Counter(v["offence_category"] for v in values if _month(v) == "2025-06")
    assert (d.headline.month, d.headline.this_month, d.headline.last_month, d.headline.same_month_last_year) == (
        "2025-06", per_month["2025-06"], per_month["2025-05"], per_month["2024-06"])
    assert [n for _c, n in d.headline.top_categories] == sorted(june.values(), reverse=True)[:3]
    assert all(june[c] == n for c, n in d.headline.top_categories)
    assert d.headline.change_from_last_year == per_month["2025-06"] - per_month["2024-06"]

    wards = Counter(v["place"]["ward"] for v in rows)
    got_wards = dict(zip(d.places.by_ward["place_ward"], d.places.by_ward["count"], strict=True))
    assert got_wards == dict(wards.most_common(10))
    villages = Counter((v["place"]["ward"], v["place"]["village"]) for v in rows)
    top = list(zip(d.places.by_village["place_ward"], d.places.by_village["place_village"],
                   d.places.by_village["count"], strict=True))
    assert [n for *_k, n in top] == sorted(villages.values(), reverse=True)[:10]
    assert all(villages[(w, vil)] == n for w, vil, n in top)


def test_each_figure_alone_gives_the_dashboards_numbers(seeded):
    _env, admin, _other, _values = seeded
    flt = Filter("2024-10-01", "2025-03-31")
    d = dashboard(admin, flt)
    an = incidents(admin)
    assert crime_clock(an, flt) == d.clock
    assert crime_chart(an, flt).by_month.equals(d.chart.by_month)
    assert crime_graph(an, flt).current.equals(d.graph.current)
    assert crime_graph(an, flt).last_year.equals(d.graph.last_year)
    assert headline(an, flt) == d.headline
    assert top_places(an, flt).by_village.equals(d.places.by_village)


def test_who_is_affected_matches_the_victims_and_perpetrators_inserted(seeded):
    _env, admin, _other, values = seeded
    flt = Filter("2024-01", "2025-06")
    rows = [v for v in values if _in(v, flt)]
    assert len(rows) == len(values)
    a = who_is_affected(incidents(admin), flt)
    victims = [x for v in rows for x in v["victims"]]
    assert a.victims == len(victims)
    for (sex, band), n in Counter((x["sex"], x["age_band"]) for x in victims).items():
        assert a.victims_by_sex_age.loc[band, sex] == n
    assert int(a.victims_by_sex_age.to_numpy().sum()) == len(victims)
    assert a.minors == {"yes": sum(bool(x["minor"]) for x in victims),
                        "no": sum(x["minor"] is False for x in victims), "blank": 0}
    assert a.disability["yes"] == sum(bool(x["disability"]) for x in victims)
    children = Counter(v["offence_category"] for v in rows for x in v["victims"] if x["minor"])
    assert dict(a.children_by_category) == dict(children)
    assert dict(a.relationship) == dict(Counter(p["relationship"] for v in rows for p in v["perpetrators"]))
    gbv = [v for v in rows if v["gbv"]]
    assert a.gbv_incidents == len(gbv) > 0
    assert dict(a.gbv_by_type) == dict(Counter(v["gbvims_type"] for v in gbv))
    assert dict(a.gbv_by_context) == dict(Counter(v["gbv_context"] for v in gbv))
    assert dict(a.by_iccs) == dict(Counter(v["iccs_section"] for v in rows))


def test_a_month_with_no_data_gives_zeros_not_errors(seeded):
    _env, admin, _other, _values = seeded
    flt = Filter("2023-03-01", "2023-03-31")
    d = dashboard(admin, flt)
    assert d.clock.total == 0 and d.clock.hours == [0] * 24 and d.clock.busiest_hour is None
    assert d.chart.months == ["2023-03"] and d.chart.total == 0 and d.chart.by_month.empty
    assert d.headline.this_month == 0 and d.headline.top_categories == []
    assert d.graph.months[-1] == "2023-03" and int(d.graph.current.to_numpy().sum()) == 0
    assert d.places.by_ward.empty and d.places.by_village.empty
    a = who_is_affected(incidents(admin), flt)
    assert a.victims == 0 and a.gbv_incidents == 0 and a.minors == {"yes": 0, "no": 0, "blank": 0}


def test_one_agency_only(seeded):
    _env, admin, other, values = seeded
    flt = Filter("2024-01-01", "2025-06-30", agency_ids=(other,))
    rows = [v for v in values if v["_agency"] == other]
    d = dashboard(admin, flt)
    assert d.clock.total == len(rows) and d.chart.total == len(rows)
    assert d.clock.hours == _expected_clock(rows)[0]
    assert list(d.chart.by_agency.columns) == [other]
    per_month = Counter(_month(v) for v in rows)
    assert d.headline.this_month == per_month["2025-06"]


def test_category_and_ward_filters(seeded):
    _env, admin, _other, values = seeded
    flt = Filter("2024-01-01", "2025-06-30", categories=("stealing",), ward="Kawangware")
    rows = [v for v in values if _in(v, flt)]
    assert rows and all(v["offence_category"] == "stealing" for v in rows)
    d = dashboard(admin, flt)
    assert d.chart.total == len(rows) and list(d.chart.by_month.index) == ["stealing"]
    assert d.graph.categories == ["stealing"]
    assert list(d.places.by_ward["place_ward"]) == ["Kawangware"]


def test_month_only_dates_count_in_their_month_and_follow_the_list_rules(seeded):
    _env, admin, _other, values = seeded
    svc = RecordService(admin, "incident")
    base = incident_values(random.Random(3), "police_station", dt.date(2023, 5, 20), 9999)
    svc.create_many([{**base, "occurred_on": "2023-05", "occurred_time": "21:40", "agency_ref": f"OB {i}/05/2023"}
                     for i in range(3)])
    an = incidents(admin)
    assert crime_clock(an, Filter("2023-05-01", "2023-05-31")).hours[21] == 3
    assert crime_chart(an, Filter("2023-05-01", "2023-05-31")).by_month.loc[base["offence_category"], "2023-05"] == 3
    assert crime_clock(an, Filter("2023-05", "2023-05")).total == 3
    # As in the record lists, a month-only date counts as the 1st: in a period from the 1st or up to any later day,
    # not in one that starts later in the month.
    assert crime_clock(an, Filter("2023-04-10", "2023-05-02")).total == 3
    assert crime_clock(an, Filter("2023-05-02", "2023-05-31")).total == 0
    assert crime_clock(an, Filter("2023-04-01", "2023-04-30")).total == 0
    month_only = [v for v in values if len(v["occurred_on"]) == 7 and v["occurred_on"] >= "2025-01"]
    assert month_only
    flt = Filter("2025-01-01", "2025-06-30")
    assert dashboard(admin, flt).chart.total == sum(1 for v in values if _in(v, flt))


def test_tombstoned_records_are_not_counted(seeded):
    _env, admin, _other, values = seeded
    flt = Filter("2025-06-01", "2025-06-30")
    svc = RecordService(admin, "incident")
    an = incidents(admin)
    before = crime_clock(an, flt).total
    page = svc.page(dataclasses.replace(flt.query(), agency_ids=[admin.agency.id]), limit=2)
    for row in page.rows:
        svc.delete(row["id"], "entered twice")
    assert crime_clock(an, flt).total == before - 2
    assert dashboard(admin, flt).headline.this_month == before - 2
    assert an.total(flt) == before - 2


def test_a_clerk_sees_only_their_own_agency(seeded):
    env, admin, other, values = seeded
    clerk = env.login("clerk")
    flt = Filter("2024-01-01", "2025-06-30")
    own = [v for v in values if v["_agency"] == admin.agency.id]
    d = dashboard(clerk, flt)
    assert d.chart.total == len(own) < len(values)
    assert list(d.chart.by_agency.columns) == [admin.agency.id]
    assert d.clock.hours == _expected_clock(own)[0]
    # Asking for the other agency gives nothing rather than its records.
    assert dashboard(clerk, Filter("2024-01-01", "2025-06-30", agency_ids=(other,))).chart.total == 0
    coord = env.login("coordinator")
    assert dashboard(coord, flt).chart.total == len(values)


def test_a_counsellor_is_refused_and_a_viewer_sees_aggregates(seeded):
    env, _admin, _other, values = seeded
    with pytest.raises(PermissionDenied):
        incidents(env.login("counsellor"))
    with pytest.raises(PermissionDenied):
        dashboard(env.login("counsellor"), Filter("2024-01-01", "2025-06-30"))
    assert dashboard(env.login("viewer"), Filter("2024-01-01", "2025-06-30")).chart.total == len(values)


def _every_field_name(form):
    for f in form.fields:
        if f.kind == PLACE:
            yield from ((f"{f.name}_{p}", f) for p in ("county", "subcounty", "ward", "village"))
        else:
            yield f.name, f
    for r in form.repeats:
        for f in r.fields:
            yield f"{r.name}.{f.name}", f


def test_no_identifying_narrative_or_free_text_field_can_be_counted(seeded):
    _env, admin, _other, _values = seeded
    an = incidents(admin)
    flt = Filter("2025-01-01", "2025-06-30")
    coded = {CHOICE, MULTI, YESNO, DATE, MONTH, TIME, PLACE}
    refused = [name for name, f in _every_field_name(FORM) if f.tier != "public" or f.kind not in coded]
    assert {"narrative", "agency_ref", "offence_subtype", "victim_count"} <= set(refused)
    for name in [*refused, "id", "created_by", "updated_by", "deleted_reason", "rid", 'p."narrative"',
                 "narrative) AS d0, count(*) FROM incident --", "victims.name", "incident_search.narrative"]:
        with pytest.raises(PermissionDenied):
            an.counts(flt, [name])
        with pytest.raises(PermissionDenied):
            core.resolve(FORM, name) if name not in core.ALLOW_LISTS["incident"] else an.dimension(name)
    # Every allowed dimension is a public, coded field (or the agency / month of the spine).
    for name in core.ALLOW_LISTS["incident"]:
        d = core.resolve(FORM, name)
        assert d.field is None or (d.field.tier == "public" and not d.field.local_only and d.field.kind in coded)
        an.counts(flt, [name])


def test_the_allow_list_is_checked_against_the_definition_at_every_query():
    """A field that became identifying or local-only is refused even though the allow-list still names it."""
    fields = {"offence_category": dict(tier="identifying"), "weapon": dict(local_only=True)}
    for name, change in fields.items():
        sections = tuple(dataclasses.replace(s, items=tuple(
            dataclasses.replace(i, **change) if getattr(i, "name", None) == name else i for i in s.items))
            for s in FORM.sections)
        changed = dataclasses.replace(FORM, sections=sections)
        core.resolve(FORM, name)
        with pytest.raises(PermissionDenied):
            core.resolve(changed, name)
    with pytest.raises(PermissionDenied):
        core.allow("incident", ["narrative"])
    assert "narrative" not in core.ALLOW_LISTS["incident"]


def test_no_free_text_reaches_any_figure(env):
    """Markers in every free-text field never appear in any output of the module."""
    admin = env.login("admin")
    base = incident_values(random.Random(5), "police_station", dt.date(2025, 2, 3), 1)
    markers = {"agency_ref": "OB MARKERREF1", "offence_subtype": "MARKERSUBTYPE", "narrative": "MARKERNARRATIVE"}
    RecordService(admin, "incident").create_many([{**base, **markers}])
    flt = Filter("2025-01-01", "2025-03-31")
    an = incidents(admin)
    text = repr(dashboard(admin, flt)) + repr(who_is_affected(an, flt))
    for frame in (dashboard(admin, flt).chart.by_month, dashboard(admin, flt).places.by_village):
        text += frame.to_csv()
    assert "MARKER" not in text
    assert dashboard(admin, flt).chart.total == 1


def test_filters_refuse_bad_periods_with_a_clear_message():
    with pytest.raises(UsalamaError, match="YYYY-MM-DD"):
        Filter("2025-13-01", "2025-12-31")
    with pytest.raises(UsalamaError, match="YYYY-MM-DD"):
        Filter("last year")
    with pytest.raises(UsalamaError, match="ends before it starts"):
        Filter("2025-06-01", "2025-05-31")
    assert Filter("2025-05", "2025-05").months() == ["2025-05"]


def test_presets_and_labels():
    today = dt.date(2025, 3, 14)
    assert preset_period("this_month", today) == ("2025-03-01", "2025-03-14")
    assert preset_period("last_3_months", today) == ("2025-01-01", "2025-03-14")
    assert preset_period("this_year", today) == ("2025-01-01", "2025-03-14")
    assert preset_period("last_12_months", today) == ("2024-04-01", "2025-03-14")
    assert month_label("2025-03") == "Mar 2025"
    with language("sw"):
        assert month_label("2025-08") == "Ago 2025"


def test_labels_for_readers(seeded):
    _env, admin, other, _values = seeded
    an = Analysis(admin, "incident")
    assert an.label("offence_category", "stealing") == "Stealing"
    assert an.label("offence_category", "stealing", "sw") == "Wizi"
    assert an.label("occurred_time", "07") == "07:00"
    assert an.label("occurred_time", "night").startswith("Night")
    assert an.label("agency", other) == OTHER
    assert an.label("month", "2024-12") == "Dec 2024"
    assert an.label("place_ward", None) == "Not recorded"


def _with_blank_places(admin, n=5):
    base = incident_values(random.Random(9), "police_station", dt.date(2025, 3, 9), 1)
    rows = []
    for i in range(n):
        place = {"county": "047", "ward": None if i % 2 else "Kilimani", "village": None if i < 3 else "Yaya Centre"}
        rows.append({**base, "place": place, "agency_ref": f"OB {900 + i}/03/2025",
                     "occurred_time": None if i == 0 else base["occurred_time"]})
    RecordService(admin, "incident").create_many(rows)


@pytest.mark.parametrize("role", ["admin", "clerk"])
def test_counting_without_sorting_agrees_with_a_plain_group_by(seeded, role):
    env, admin, other, _values = seeded
    _with_blank_places(admin)
    an = incidents(env.login(role) if role != "admin" else admin)
    filters = [Filter("2024-01-01", "2025-06-30"), Filter("2025-03-05", "2025-05-20"), Filter(),
               Filter("2024-06", "2025-01", agency_ids=(other,)), Filter("2024-01-01", "2025-06-30", ward="Kilimani"),
               Filter("2024-01-01", "2025-06-30", categories=("stealing", "robbery"))]
    for flt in filters:
        for by in (["offence_category"], ["agency", "offence_category"], ["occurred_time"],
                   ["place_ward", "place_village"]):
            fast = an.seek_rows(flt, by)
            plain = an._plain_rows(flt, tuple(an.column(n) for n in by))
            key = lambda r: tuple("" if x is None else str(x) for x in r)  # noqa: E731
            assert sorted(fast, key=key) == sorted(plain, key=key), (flt, by)
    assert any(r[0] is None for r in an.seek_rows(filters[0], ["place_ward", "place_village"]))


def test_the_dashboard_never_sorts_rows_or_reads_the_table(seeded):
    """Every query behind the dashboard's figures reads a covering index and groups in index order."""
    _env, admin, other, _values = seeded
    statements: list[str] = []
    admin.db.conn.set_trace_callback(statements.append)
    try:
        dashboard(admin, Filter("2024-07-01", "2025-06-30"))
        dashboard(admin, Filter("2024-07-01", "2025-06-30", agency_ids=(other,), ward="Kilimani"))
    finally:
        admin.db.conn.set_trace_callback(None)
    selects = [s for s in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))
               and "incident" in s and "sqlite_master" not in s]
    assert len(selects) > 20
    for sql in selects:
        plan = " | ".join(r[3] for r in admin.db.query("EXPLAIN QUERY PLAN " + sql))
        assert "TEMP B-TREE" not in plan, (sql, plan)
        assert "SCAN incident" not in plan or "COVERING INDEX" in plan, (sql, plan)
        assert "SEARCH incident USING INDEX" not in plan, (sql, plan)  # an index that is not covering

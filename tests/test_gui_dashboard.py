"""The observatory dashboard through real widgets: filters, the working state, and figures that show exactly what
the analysis module computes."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from usalama_desktop import clock
from usalama_desktop.analysis import Filter
from usalama_desktop.analysis.observatory import crime_chart, crime_clock, dashboard, incidents
from usalama_desktop.demo_data.observatory import incident_values
from usalama_desktop.services.records import RecordService
from usalama_desktop.ui.qt import QDate

from .test_analysis import add_agency
from .test_gui_shell import login_through_dialog, shell  # noqa: F401 (fixture)

pytestmark = pytest.mark.gui
OTHER = "Kawangware Police Station (TEST)"


@pytest.fixture
def data(env):
    """About 400 incidents over the last 16 months for this station and one other agency."""
    admin = env.login("admin")
    other = add_agency(admin, OTHER)
    rng = random.Random(11)
    today = clock.today()
    rows = {admin.agency.id: [], other: []}
    for i in range(400):
        agency = admin.agency.id if i % 3 else other
        day = today - dt.timedelta(days=rng.randrange(0, 480))
        values = incident_values(rng, "police_station", day, i)
        if i % 17 == 0:
            values["occurred_time"] = None
        rows[agency].append(values)
    svc = RecordService(admin, "incident")
    for agency, values in rows.items():
        svc.create_many(values, agency_id=agency)
    return admin, other


def open_dashboard(qtbot, shell, env, user="admin"):  # noqa: F811
    sh = shell(env.folder)
    sh.start()
    login_through_dialog(qtbot, sh, user=user)
    qtbot.waitUntil(lambda: sh.window is not None, timeout=10000)
    page = sh.window.show_page("dashboard")
    qtbot.waitUntil(lambda: page.figures is not None and not page.busy, timeout=20000)
    return sh, page


def settle(qtbot, page, change):
    with qtbot.waitSignal(page.updated, timeout=20000):
        change()
    qtbot.waitUntil(lambda: not page.busy, timeout=20000)


def _cell(table, row, col) -> str:
    return table.item(row, col).text()


def test_the_dashboard_shows_the_analysis_modules_figures_and_follows_the_filters(
        qtbot, shell, env, data, tmp_path):  # noqa: F811
    admin, other = data
    sh, page = open_dashboard(qtbot, shell, env)
    an = incidents(admin)
    flt = page.current_filter()
    assert page.period.currentData() == "this_year" and flt.date_from.endswith("-01-01")
    assert page.clock.hours == crime_clock(an, flt).hours

    settle(qtbot, page, lambda: page.period.setCurrentIndex(page.period.findData("last_12_months")))
    flt = page.current_filter()
    expected = dashboard(admin, flt)
    assert sum(expected.clock.hours) > 100
    assert page.clock.hours == expected.clock.hours
    assert page.unknown.text().endswith(f"{expected.clock.unknown:,}")
    assert page.blank.text().endswith(f"{expected.clock.blank:,}") and expected.clock.blank > 0
    assert [v for _l, v in page.approximate.rows] == [expected.clock.approximate[k] for k in
                                                      ("morning", "afternoon", "evening", "night")]
    table = page.chart_table
    assert table.rowCount() == len(expected.chart.by_month) + 1
    assert _cell(table, table.rowCount() - 1, table.columnCount() - 1) == f"{expected.chart.total:,}"
    first = expected.chart.by_month.index[0]
    assert _cell(table, 0, 1) == f"{expected.chart.by_month.loc[first].iloc[0]:,}"
    assert [v for _l, v in page.bars.rows] == [int(v) for v in expected.chart.totals]
    assert page.cards["this_month"].value.text() == f"{expected.headline.this_month:,}"
    assert page.cards["last_year"].value.text() == f"{expected.headline.same_month_last_year:,}"
    assert page.trends[0].lines[0].values == tuple(int(v) for v in expected.graph.current["all"])
    assert page.trends[0].lines[1].values == tuple(int(v) for v in expected.graph.last_year["all"])
    assert page.trends[0].lines[1].dashed and not page.trends[0].lines[0].dashed
    assert _cell(page.wards_table, 0, 1) == f"{int(expected.places.by_ward['count'][0]):,}"

    # One agency only.
    settle(qtbot, page, lambda: page.agency.setCurrentIndex(page.agency.findData(other)))
    flt = page.current_filter()
    assert flt.agency_ids == (other,)
    assert page.clock.hours == crime_clock(an, flt).hours
    assert page.figures.chart.total == crime_chart(an, flt).total < expected.chart.total

    # A ward chosen from those the figures named.
    ward = page.ward.itemData(1)
    settle(qtbot, page, lambda: page.ward.setCurrentIndex(1))
    assert page.current_filter().ward == ward
    assert {_cell(page.wards_table, r, 0) for r in range(page.wards_table.rowCount())} == {ward}

    # While computing, the page says so and the figures are greyed out; the filters stay usable.
    page.refresh()
    assert page.busy and page.status.text() == "Working…" and not page.body.isEnabled()
    assert page.period.isEnabled()
    qtbot.waitUntil(lambda: not page.busy, timeout=20000)
    assert page.body.isEnabled()

    # A custom period with nothing in it.
    def custom():
        page.period.setCurrentIndex(page.period.findData("custom"))
        page.date_from.setDate(QDate(2001, 1, 1))
        page.date_to.setDate(QDate(2001, 3, 31))

    settle(qtbot, page, custom)
    assert page.current_filter() == Filter("2001-01-01", "2001-03-31", agency_ids=(other,), ward=ward)
    assert page.clock.hours == [0] * 24 and page.figures.chart.total == 0
    assert page.cards["this_month"].value.text() == "0"

    # An impossible period is refused inline, and nothing is computed.
    page.date_to.setDate(QDate(2000, 12, 31))
    qtbot.waitUntil(lambda: page.error.isVisible(), timeout=5000)
    assert "ends before it starts" in page.error.text() and not page.busy

    page.period.setCurrentIndex(page.period.findData("last_12_months"))
    page.agency.setCurrentIndex(0)
    settle(qtbot, page, lambda: page.ward.setCurrentIndex(0))
    sh.window.resize(1280, 860)
    for i in range(page.tabs.count()):
        page.tabs.setCurrentIndex(i)
        qtbot.wait(50)
        shot = tmp_path / f"dashboard-{i}.png"
        assert sh.window.grab().save(str(shot))
        assert shot.stat().st_size > 10_000


def test_a_clerk_sees_only_their_agency(qtbot, shell, env, data):  # noqa: F811
    admin, other = data
    _sh, page = open_dashboard(qtbot, shell, env, user="clerk")
    assert not page.agency.isEnabled() and page.agency.currentData() == admin.agency.id
    assert page.agency.findData(other) == -1
    settle(qtbot, page, lambda: page.period.setCurrentIndex(page.period.findData("last_12_months")))
    mine = page.current_filter()
    assert page.figures.chart.total == crime_chart(incidents(admin), mine).total
    assert list(page.figures.chart.by_agency.columns) == [admin.agency.id]


def test_a_counsellor_has_no_dashboard(qtbot, shell, env):  # noqa: F811
    sh = shell(env.folder)
    sh.start()
    login_through_dialog(qtbot, sh, user="couns")
    qtbot.waitUntil(lambda: sh.window is not None, timeout=10000)
    assert "dashboard" not in sh.window.page_keys()


def test_the_clock_dial_puts_midnight_at_the_top_and_runs_clockwise(qtbot):
    from usalama_desktop.ui.charts import ClockDial, nice_ticks

    dial = ClockDial()
    qtbot.addWidget(dial)
    dial.resize(400, 400)
    dial.set_data(list(range(24)))
    centre, outer, inner = dial._geometry()
    mid = (outer + inner) / 2
    cx, cy = centre.x(), centre.y()
    assert dial.hour_at(cx + 1, cy - mid) == 0
    assert dial.hour_at(cx + mid, cy + 1) == 6
    assert dial.hour_at(cx - 1, cy + mid) == 12
    assert dial.hour_at(cx - mid, cy - 1) == 18
    assert dial.hour_at(cx, cy) is None
    assert nice_ticks(37) == [0, 10, 20, 30, 40] and nice_ticks(0) == [0, 1]
    with pytest.raises(ValueError):
        dial.set_data([1, 2, 3])

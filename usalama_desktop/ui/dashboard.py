"""The observatory dashboard: the station's crime clock, crime chart and crime graph for any period, agency,
category and ward, with the month's headline figures and the places with most incidents.

Every number comes from ``analysis.observatory.dashboard`` (the same computation as the monthly report), run on
the database worker; the page shows that it is working and stays usable meanwhile. A change of filter while a
computation runs starts another, and only the newest answer is shown.
"""

from __future__ import annotations

from .. import clock
from ..analysis import Filter, month_label, preset_period
from ..analysis.core import agency_names, shift_month
from ..analysis.observatory import ALL, APPROXIMATE, VILLAGE, WARD, Dashboard, dashboard
from ..errors import DatabaseClosed, UsalamaError
from ..forms.choices import get
from ..i18n import _
from ..permissions import own_agency_only
from .charts import COMPARISON, CURRENT, BarChart, ClockDial, Line, TrendChart
from .qt import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QDate,
    QDateEdit,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QRadioButton,
    QStackedWidget,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from .tasks import report_error
from .widgets import Card, ErrorLabel, heading

GRAPH_PANELS = 6  # "all incidents" and the five busiest categories


def _category_label(value) -> str:
    return get("police_categories").label(value) if value else _("Not recorded")


def _percent(now: int, before: int) -> str:
    if before == 0:
        return _("nothing the month before") if now else ""
    change = round(100 * (now - before) / before)
    return f"{'▲' if change > 0 else '▼' if change < 0 else '='} {abs(change)}%"


def _table(headers: list[str], rows: list[list], numeric_from: int = 1) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.verticalHeader().setVisible(False)
    fill_table(table, headers, rows, numeric_from)
    return table


def fill_table(table: QTableWidget, headers: list[str], rows: list[list], numeric_from: int = 1) -> None:
    """Labels left, counts right-aligned with thousands separators; the last row bold when it is a total."""
    table.clear()
    table.setColumnCount(len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            item = QTableWidgetItem(f"{value:,}" if isinstance(value, int) else str(value))
            if c >= numeric_from:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)
    table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    if headers and len(headers) < 4:
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    elif headers:  # a wide table: the label column gives way to the counts (its full text is in the tooltip)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        table.setColumnWidth(0, min(table.sizeHintForColumn(0), 190))
        for r in range(table.rowCount()):
            item = table.item(r, 0)
            if item is not None:
                item.setToolTip(item.text())


class DashboardPage(QWidget):
    updated = Signal()

    def __init__(self, window):
        super().__init__()
        self.window = window
        self.figures: Dashboard | None = None
        self.busy = False
        self._request = 0
        self._loaded = False
        self._wards: set[str] = set()
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(150)
        self._debounce.timeout.connect(self.refresh)

        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(heading(_("Observatory dashboard")))
        top.addStretch(1)
        self.status = QLabel("")
        self.status.setObjectName("dashboard_status")
        top.addWidget(self.status)
        layout.addLayout(top)
        layout.addLayout(self._filters())
        self.error = ErrorLabel()
        layout.addWidget(self.error)
        self.body = QWidget()
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.addLayout(self._cards())
        self.tabs = QTabWidget()
        self.tabs.setObjectName("dashboard_tabs")
        self.tabs.addTab(self._clock_tab(), _("Crime clock"))
        self.tabs.addTab(self._chart_tab(), _("Crime chart"))
        self.tabs.addTab(self._graph_tab(), _("Crime graph"))
        self.tabs.addTab(self._places_tab(), _("Places"))
        body.addWidget(self.tabs, 1)
        layout.addWidget(self.body, 1)

    @property
    def session(self):
        """The window's current session (a new one after the window was locked and opened again)."""
        return self.window.session

    # --- building ----------------------------------------------------------------------------------------------

    def _filters(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.period = QComboBox()
        self.period.setObjectName("period")
        for key, text in (("this_month", _("This month")), ("last_3_months", _("Last 3 months")),
                          ("this_year", _("This year")), ("last_12_months", _("Last 12 months")),
                          ("custom", _("Custom period"))):
            self.period.addItem(text, key)
        self.period.setCurrentIndex(self.period.findData("this_year"))
        self.date_from, self.date_to = QDateEdit(), QDateEdit()
        for edit, name in ((self.date_from, "date_from"), (self.date_to, "date_to")):
            edit.setObjectName(name)
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.dateChanged.connect(self._changed)
        self.agency = QComboBox()
        self.agency.setObjectName("agency")
        self.agency.addItem(_("All agencies"), None)
        self.category = QComboBox()
        self.category.setObjectName("category")
        self.category.addItem(_("All categories"), None)
        for c in get("police_categories").choices:
            self.category.addItem(str(c.label), c.value)
        self.ward = QComboBox()
        self.ward.setObjectName("ward")
        self.ward.addItem(_("All wards"), None)
        self._set_dates(*preset_period("this_year"))
        self.period.currentIndexChanged.connect(self._period_changed)
        for combo in (self.agency, self.category, self.ward):
            combo.currentIndexChanged.connect(self._changed)
        for label, widget in ((_("Period"), self.period), (_("From"), self.date_from), (_("To"), self.date_to),
                              (_("Agency"), self.agency), (_("Category"), self.category), (_("Ward"), self.ward)):
            text = QLabel(label)
            text.setBuddy(widget)
            row.addWidget(text)
            row.addWidget(widget)
        row.addStretch(1)
        self._period_changed()
        return row

    def _cards(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.cards: dict[str, Card] = {}
        for key, title in (("this_month", _("This month")), ("last_month", _("Last month")),
                           ("last_year", _("Same month last year")), ("top", _("Top categories"))):
            card = Card(title)
            card.setObjectName(f"card:{key}")
            card.detail = QLabel("")
            card.detail.setWordWrap(True)
            card.layout().addWidget(card.detail)
            self.cards[key] = card
            row.addWidget(card, 2 if key == "top" else 1)
        return row

    def _clock_tab(self) -> QWidget:
        tab = QWidget()
        row = QHBoxLayout(tab)
        self.clock = ClockDial()
        self.clock.setObjectName("crime_clock")
        row.addWidget(self.clock, 3)
        side = QVBoxLayout()
        side.addWidget(QLabel("<b>{}</b>".format(_("Time of day only"))))
        self.approximate = BarChart(colour=COMPARISON)
        self.approximate.setObjectName("approximate_times")
        side.addWidget(self.approximate)
        self.unknown = QLabel("")
        self.unknown.setObjectName("unknown_times")
        self.blank = QLabel("")
        self.blank.setObjectName("blank_times")
        self.busiest = QLabel("")
        self.busiest.setWordWrap(True)
        for w in (self.unknown, self.blank, self.busiest):
            side.addWidget(w)
        note = QLabel(_("The dial counts incidents with an exact time; those known only as morning, afternoon, "
                        "evening or night, or with no time, are counted here instead."))
        note.setWordWrap(True)
        note.setStyleSheet("color: #6b6b6b;")
        side.addWidget(note)
        side.addStretch(1)
        row.addLayout(side, 2)
        return tab

    def _chart_tab(self) -> QWidget:
        tab = QWidget()
        layout = QHBoxLayout(tab)
        left = QVBoxLayout()
        switch = QHBoxLayout()
        self.by_month_button = QRadioButton(_("By month"))
        self.by_agency_button = QRadioButton(_("By agency"))
        self.by_month_button.setChecked(True)
        group = QButtonGroup(tab)
        group.addButton(self.by_month_button)
        group.addButton(self.by_agency_button)
        switch.addWidget(self.by_month_button)
        switch.addWidget(self.by_agency_button)
        switch.addStretch(1)
        left.addLayout(switch)
        self.chart_stack = QStackedWidget()
        self.chart_table = _table([], [])
        self.chart_table.setObjectName("chart_by_month")
        self.agency_table = _table([], [])
        self.agency_table.setObjectName("chart_by_agency")
        self.chart_stack.addWidget(self.chart_table)
        self.chart_stack.addWidget(self.agency_table)
        self.by_agency_button.toggled.connect(lambda on: self.chart_stack.setCurrentIndex(1 if on else 0))
        left.addWidget(self.chart_stack)
        layout.addLayout(left, 3)
        right = QVBoxLayout()
        right.addWidget(QLabel("<b>{}</b>".format(_("Incidents in the period, by category"))))
        self.bars = BarChart()
        self.bars.setObjectName("chart_bars")
        self.bars.setMaximumWidth(340)
        right.addWidget(self.bars)
        right.addStretch(1)
        layout.addLayout(right, 1)
        return tab

    def _graph_tab(self) -> QWidget:
        tab = QWidget()
        grid = QGridLayout(tab)
        self.trends: list[TrendChart] = []
        for i in range(GRAPH_PANELS):
            chart = TrendChart()
            chart.setObjectName(f"trend:{i}")
            self.trends.append(chart)
            grid.addWidget(chart, i // 3, i % 3)
        return tab

    def _places_tab(self) -> QWidget:
        tab = QWidget()
        row = QHBoxLayout(tab)
        self.wards_table = _table([], [])
        self.wards_table.setObjectName("places_wards")
        self.villages_table = _table([], [])
        self.villages_table.setObjectName("places_villages")
        self.ward_bars = BarChart()
        self.ward_bars.setObjectName("places_bars")
        for title, widgets in ((_("Wards with most incidents"), (self.wards_table, self.ward_bars)),
                               (_("Villages and landmarks with most incidents"), (self.villages_table,))):
            col = QVBoxLayout()
            col.addWidget(QLabel(f"<b>{title}</b>"))
            for w in widgets:
                col.addWidget(w, 1)
            row.addLayout(col)
        return tab

    # --- filters ------------------------------------------------------------------------------------------------

    def _set_dates(self, first: str, last: str) -> None:
        for edit, text in ((self.date_from, first), (self.date_to, last)):
            edit.blockSignals(True)
            edit.setDate(QDate.fromString(text, "yyyy-MM-dd"))
            edit.blockSignals(False)

    def _period_changed(self, *_args) -> None:
        key = self.period.currentData()
        custom = key == "custom"
        self.date_from.setEnabled(custom)
        self.date_to.setEnabled(custom)
        if not custom:
            self._set_dates(*preset_period(key))
        self._changed()

    def _changed(self, *_args) -> None:
        if self._loaded:
            self._debounce.start()

    def current_filter(self) -> Filter:
        """The filter the widgets describe (UsalamaError for an impossible period)."""
        if self.period.currentData() == "custom":
            first = self.date_from.date().toString("yyyy-MM-dd")
            last = self.date_to.date().toString("yyyy-MM-dd")
        else:
            first, last = preset_period(self.period.currentData(), clock.today())
        agency = self.agency.currentData()
        category = self.category.currentData()
        return Filter(first, last, agency_ids=(agency,) if agency else (), categories=(category,) if category else (),
                      ward=self.ward.currentData() or None)

    # --- computing ----------------------------------------------------------------------------------------------

    def activated(self) -> None:
        if not self._loaded:
            session = self.session

            def options():
                names = agency_names(session)
                if own_agency_only(session.actor):
                    names = {k: v for k, v in names.items() if k == session.user.agency_id}
                return sorted(names.items(), key=lambda kv: kv[1].lower())

            self.window.tasks.run(options, self._show_agencies, self._failed)
        else:
            self.refresh()

    def _show_agencies(self, agencies) -> None:
        self.agency.blockSignals(True)
        for agency_id, name in agencies:
            self.agency.addItem(name, agency_id)
        if own_agency_only(self.session.actor) and agencies:
            self.agency.setCurrentIndex(1)
            self.agency.setEnabled(False)
        self.agency.blockSignals(False)
        self._loaded = True
        self.refresh()

    def refresh(self) -> None:
        try:
            flt = self.current_filter()
        except UsalamaError as exc:
            self.error.show_message(str(exc))
            return
        self.error.show_message(None)
        self._request += 1
        request = self._request
        self.busy = True
        self.body.setEnabled(False)
        self.status.setText(_("Working…"))
        session = self.session
        self.window.tasks.run(lambda: dashboard(session, flt), lambda result: self._show(request, result),
                              lambda error: self._failed(error, request))

    def _failed(self, error: BaseException, request: int | None = None) -> None:
        if request is not None and request != self._request:
            return
        self.busy = False
        self.body.setEnabled(True)
        self.status.setText("")
        if isinstance(error, DatabaseClosed):
            return  # the window locked while computing; the figures come again on the next visit
        if isinstance(error, UsalamaError):
            self.error.show_message(str(error))
        else:
            report_error(error)

    # --- showing ------------------------------------------------------------------------------------------------

    def _show(self, request: int, figures: Dashboard) -> None:
        if request != self._request:
            return  # a newer filter is being computed; this answer is stale
        self.figures = figures
        self._show_headline(figures)
        self._show_clock(figures)
        self._show_chart(figures)
        self._show_graph(figures)
        self._show_places(figures)
        self.busy = False
        self.body.setEnabled(True)
        f = figures.filter
        self.status.setText(_("Figures for {first} to {last}").format(first=f.date_from, last=f.date_to))
        self.updated.emit()

    def _show_headline(self, d: Dashboard) -> None:
        h = d.headline
        for key, month, value, detail in (
                ("this_month", h.month, h.this_month, _("so far") if h.month == clock.today().isoformat()[:7]
                 else ""),
                ("last_month", shift_month(h.month, -1), h.last_month, _("this month: {change}").format(
                    change=_percent(h.this_month, h.last_month)) if h.last_month else ""),
                ("last_year", shift_month(h.month, -12), h.same_month_last_year, _("this month: {change}").format(
                    change=_percent(h.this_month, h.same_month_last_year)) if h.same_month_last_year else "")):
            card = self.cards[key]
            card.value.setText(f"{value:,}")
            card.detail.setText(" · ".join(x for x in (month_label(month), detail) if x))
        top = self.cards["top"]
        if h.top_categories:
            top.value.setText(_category_label(h.top_categories[0][0]))
            top.detail.setText(" · ".join(f"{_category_label(c)}: {n:,}" for c, n in h.top_categories))
        else:
            top.value.setText("—")
            top.detail.setText(_("Nothing recorded in {month}").format(month=month_label(h.month)))

    def _show_clock(self, d: Dashboard) -> None:
        c = d.clock
        self.clock.set_data(c.hours, _("with an exact time"))
        words = get("time_of_day")
        self.approximate.set_data([(words.label(k), c.approximate[k]) for k in APPROXIMATE])
        self.unknown.setText(_("Time recorded as unknown: {n}").format(n=f"{c.unknown:,}"))
        self.blank.setText(_("Time not recorded: {n}").format(n=f"{c.blank:,}"))
        self.busiest.setText(_("Busiest hour: {start}:00-{start}:59 ({n} incidents)").format(
            start=f"{c.busiest_hour:02d}", n=f"{c.hours[c.busiest_hour]:,}") if c.busiest_hour is not None else "")

    def _show_chart(self, d: Dashboard) -> None:
        chart = d.chart
        months = [month_label(m).replace(" ", "\n") for m in chart.months]  # two lines keep a year on screen
        rows = [[_category_label(cat), *[int(v) for v in chart.by_month.loc[cat]], int(chart.by_month.loc[cat].sum())]
                for cat in chart.by_month.index]
        rows.append([_("Total"), *[int(chart.by_month[m].sum()) for m in chart.months], chart.total])
        fill_table(self.chart_table, [_("Category"), *months, _("Total")], rows)
        agencies = list(chart.by_agency.columns)
        rows = [[_category_label(cat), *[int(v) for v in chart.by_agency.loc[cat]], int(chart.by_agency.loc[cat].sum())]
                for cat in chart.by_agency.index]
        rows.append([_("Total"), *[int(chart.by_agency[a].sum()) for a in agencies], chart.total])
        fill_table(self.agency_table, [_("Category"), *[chart.agency_names.get(a, a) for a in agencies], _("Total")],
                   rows)
        self.bars.set_data([(_category_label(cat), int(n)) for cat, n in chart.totals.items()])

    def _show_graph(self, d: Dashboard) -> None:
        g = d.graph
        labels = [month_label(m) for m in g.months]
        columns = [ALL, *g.categories][:GRAPH_PANELS]
        for i, chart in enumerate(self.trends):
            if i >= len(columns):
                chart.set_data("", [], [])
                chart.hide()
                continue
            col = columns[i]
            title = _("All incidents") if col == ALL else _category_label(col)
            chart.set_data(title, labels, [
                Line(_("12 months to {month}").format(month=labels[-1]), tuple(int(v) for v in g.current[col]),
                     CURRENT),
                Line(_("a year before"), tuple(int(v) for v in g.last_year[col]), COMPARISON, dashed=True)])
            chart.show()

    def _show_places(self, d: Dashboard) -> None:
        p = d.places
        fill_table(self.wards_table, [_("Ward"), _("Incidents")],
                   [[w or _("Not recorded"), int(n)] for w, n in zip(p.by_ward[WARD], p.by_ward["count"],
                                                                     strict=True)])
        fill_table(self.villages_table, [_("Ward"), _("Village or landmark"), _("Incidents")],
                   [[w or _("Not recorded"), v or _("Not recorded"), int(n)] for w, v, n in
                    zip(p.by_village[WARD], p.by_village[VILLAGE], p.by_village["count"], strict=True)],
                   numeric_from=2)
        self.ward_bars.set_data([(w or _("Not recorded"), int(n)) for w, n in zip(p.by_ward[WARD], p.by_ward["count"],
                                                                                  strict=True)])
        new = set(p.wards) - self._wards
        if new:
            self._wards |= new
            current = self.ward.currentData()
            self.ward.blockSignals(True)
            while self.ward.count() > 1:
                self.ward.removeItem(1)
            for w in sorted(self._wards, key=str.lower):
                self.ward.addItem(w, w)
            self.ward.setCurrentIndex(max(0, self.ward.findData(current)) if current else 0)
            self.ward.blockSignals(False)


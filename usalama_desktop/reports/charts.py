"""Vector charts for printed reports (reportlab.graphics): horizontal bars, month lines and the 24-hour crime clock.

Each takes plain numbers (None where a figure is hidden: it is simply not drawn) and returns a ``Drawing`` that a
platypus story can hold. Colours are few and dark enough to photocopy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

PALETTE = ("#1f4e79", "#c55a11", "#548235", "#7030a0", "#bf9000", "#2e75b6", "#843c0c")


def _colour(i: int):
    from reportlab.lib import colors

    return colors.HexColor(PALETTE[i % len(PALETTE)])


def _short(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def bar_chart(labels: Sequence[str], values: Sequence[float | None], width: float, title: str = ""):
    """One horizontal bar per label, longest first as given; hidden values leave their bar out."""
    from reportlab.graphics.charts.barcharts import HorizontalBarChart
    from reportlab.graphics.shapes import Drawing, String

    labels = list(labels)[:15]
    data = [float(v) if v is not None else 0.0 for v in list(values)[:15]]
    row = 14
    height = 30 + row * max(len(labels), 1)
    d = Drawing(width, height)
    chart = HorizontalBarChart()
    chart.x, chart.y = 150, 10
    chart.width, chart.height = width - 170, row * max(len(labels), 1)
    chart.data = [list(reversed(data))]
    chart.categoryAxis.categoryNames = [_short(x) for x in reversed(labels)]
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = max([*data, 1.0]) * 1.1
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.labelTextFormat = lambda v: f"{v:,.0f}"
    chart.bars[0].fillColor = _colour(0)
    chart.bars.strokeWidth = 0
    d.add(chart)
    if title:
        d.add(String(0, height - 10, title, fontName="Helvetica-Bold", fontSize=9))
    return d


def line_chart(xlabels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], width: float,
               title: str = ""):
    """A line per series over the months; a legend under the plot."""
    from reportlab.graphics.charts.linecharts import HorizontalLineChart
    from reportlab.graphics.shapes import Drawing, Line, String

    series = list(series)[:7]
    legend_rows = math.ceil(len(series) / 3)
    height = 190 + 12 * legend_rows
    d = Drawing(width, height)
    chart = HorizontalLineChart()
    chart.x, chart.y = 35, 30 + 12 * legend_rows
    chart.width, chart.height = width - 50, 130
    chart.data = [[None if v is None else float(v) for v in values] for _name, values in series]
    chart.categoryAxis.categoryNames = list(xlabels)
    chart.categoryAxis.labels.fontSize = 6
    chart.categoryAxis.labels.angle = 30
    chart.categoryAxis.labels.boxAnchor = "ne"
    numbers = [v for _n, values in series for v in values if v is not None]
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = max([*numbers, 1.0]) * 1.1
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.labelTextFormat = lambda v: f"{v:,.0f}"
    for i in range(len(series)):
        chart.lines[i].strokeColor = _colour(i)
        chart.lines[i].strokeWidth = 1.6 if i == 0 else 1
        if i == len(series) - 1 and len(series) > 1:
            chart.lines[i].strokeDashArray = (3, 2)
    d.add(chart)
    for i, (name, _values) in enumerate(series):
        x = 35 + (i % 3) * (width - 50) / 3
        y = 4 + 12 * (legend_rows - 1 - i // 3)
        d.add(Line(x, y + 3, x + 14, y + 3, strokeColor=_colour(i), strokeWidth=2))
        d.add(String(x + 18, y, _short(name, 30), fontSize=7))
    if title:
        d.add(String(0, height - 10, title, fontName="Helvetica-Bold", fontSize=9))
    return d


def clock_dial(hours: Sequence[float | None], size: float, title: str = ""):
    """The crime clock: 24 wedges around a dial, midnight at the top, each as long as its hour's count."""
    from reportlab.graphics.shapes import Circle, Drawing, Line, String, Wedge
    from reportlab.lib import colors

    values = [float(v) if v is not None else 0.0 for v in hours]
    top = max([*values, 1.0])
    d = Drawing(size, size + 16)
    cx, cy, radius = size / 2, size / 2, size / 2 - 18
    d.add(Circle(cx, cy, radius, strokeColor=colors.grey, fillColor=None, strokeWidth=0.5))
    d.add(Circle(cx, cy, radius / 2, strokeColor=colors.lightgrey, fillColor=None, strokeWidth=0.4))
    for h, v in enumerate(values):
        # Clockwise from the top: hour h spans the angles (90 - 15h) down to (90 - 15(h+1)) degrees.
        start, end = 90 - 15 * (h + 1), 90 - 15 * h
        if v > 0:
            d.add(Wedge(cx, cy, radius * v / top, start, end, fillColor=_colour(1), strokeColor=colors.white,
                        strokeWidth=0.5))
        if h % 3 == 0:
            angle = math.radians(90 - 15 * h)
            d.add(Line(cx + radius * math.cos(angle), cy + radius * math.sin(angle),
                       cx + (radius + 4) * math.cos(angle), cy + (radius + 4) * math.sin(angle),
                       strokeColor=colors.grey))
            d.add(String(cx + (radius + 11) * math.cos(angle), cy + (radius + 11) * math.sin(angle) - 3,
                         f"{h:02d}", fontSize=7, textAnchor="middle"))
    if title:
        d.add(String(0, size + 6, title, fontName="Helvetica-Bold", fontSize=9))
    return d


__all__ = ["bar_chart", "clock_dial", "line_chart"]

"""Charts drawn with QPainter, so the app needs no chart library: the crime clock's 24-hour dial, horizontal bars
and monthly trend lines. Each widget takes plain numbers (``set_data``) and keeps them, so tests can read back what
is drawn.

Colours are the Okabe-Ito palette, which readers with the common colour-vision deficiencies can tell apart; a
comparison line is also dashed and has no markers, so it never depends on colour alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ..i18n import _
from .qt import (
    QColor,
    QFont,
    QFontMetrics,
    QPainter,
    QPainterPath,
    QPen,
    QPointF,
    QRectF,
    QSize,
    QSizePolicy,
    Qt,
    QToolTip,
    QWidget,
)

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
CURRENT, COMPARISON = PALETTE[0], PALETTE[1]
GRID = QColor("#d9d9d9")
TEXT = QColor("#303030")
MUTED = QColor("#6b6b6b")


def nice_ticks(top: float, count: int = 4) -> list[int]:
    """Round axis steps (1, 2, 5 x 10^n) from 0 to at least ``top``."""
    if top <= 0:
        return [0, 1]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(1, int(step))
    ticks = [0]
    while ticks[-1] < top:
        ticks.append(ticks[-1] + step)
    return ticks


def _font(widget: QWidget, scale: float = 1.0, bold: bool = False) -> QFont:
    f = QFont(widget.font())
    f.setPointSizeF(f.pointSizeF() * scale)
    f.setBold(bold)
    return f


class ClockDial(QWidget):
    """The crime clock: a 24-hour dial, midnight at the top, one wedge per hour whose length shows the count.
    Evening and night (18:00-05:59) sit on a darker half so the reader finds them at a glance."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.hours: list[int] = [0] * 24
        self.caption = ""
        self.setMinimumSize(280, 280)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)

    def set_data(self, hours: Sequence[int], caption: str = "") -> None:
        if len(hours) != 24:
            raise ValueError("a clock has 24 hours")
        self.hours = [int(h) for h in hours]
        self.caption = caption
        self.setToolTip("")
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(380, 380)

    def _geometry(self) -> tuple[QPointF, float, float]:
        side = min(self.width(), self.height())
        outer = side / 2 - QFontMetrics(self.font()).height() * 1.6
        return QPointF(self.width() / 2, self.height() / 2), max(outer, 20.0), max(outer, 20.0) * 0.3

    @staticmethod
    def _angle(hour: float) -> float:
        """Qt's degrees (0 at three o'clock, counter-clockwise) for a time of day, midnight at the top."""
        return 90.0 - hour * 15.0

    def hour_at(self, x: float, y: float) -> int | None:
        centre, outer, inner = self._geometry()
        dx, dy = x - centre.x(), centre.y() - y
        r = math.hypot(dx, dy)
        if r < inner or r > outer:
            return None
        clockwise = (90.0 - math.degrees(math.atan2(dy, dx))) % 360.0
        return int(clockwise // 15) % 24

    def mouseMoveEvent(self, event):  # noqa: N802
        pos = event.position()
        hour = self.hour_at(pos.x(), pos.y())
        if hour is None:
            QToolTip.hideText()
        else:
            QToolTip.showText(event.globalPosition().toPoint(), _("{start}:00-{start}:59: {n} incidents").format(
                start=f"{hour:02d}", n=f"{self.hours[hour]:,}"), self)
        super().mouseMoveEvent(event)

    def paintEvent(self, _event):  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        centre, outer, inner = self._geometry()
        top = max(self.hours) or 1
        ticks = nice_ticks(top, 3)
        scale_max = ticks[-1]

        def radius(value: float) -> float:
            return inner + (outer - inner) * value / scale_max

        def ring(r: float) -> QRectF:
            return QRectF(centre.x() - r, centre.y() - r, 2 * r, 2 * r)

        # Day and night backgrounds.
        for first, last, colour in ((6, 18, "#fbf6e9"), (18, 30, "#e9eef6")):
            path = QPainterPath()
            path.moveTo(centre)
            path.arcTo(ring(outer), self._angle(first), -15.0 * (last - first))
            path.closeSubpath()
            p.fillPath(path, QColor(colour))
        # Grid circles with their counts.
        p.setFont(_font(self, 0.75))
        for t in ticks[1:]:
            p.setPen(QPen(GRID, 1))
            p.drawEllipse(ring(radius(t)))
            p.setPen(MUTED)
            p.drawText(QPointF(centre.x() + 3, centre.y() - radius(t) + 11), f"{t:,}")
        # Wedges.
        p.setPen(QPen(QColor("white"), 1))
        for hour, value in enumerate(self.hours):
            if value <= 0:
                continue
            r = radius(value)
            path = QPainterPath()
            path.arcMoveTo(ring(inner), self._angle(hour) - 0.6)
            path.arcTo(ring(r), self._angle(hour) - 0.6, -13.8)
            path.arcTo(ring(inner), self._angle(hour + 1) + 0.6, 13.8)
            path.closeSubpath()
            p.setBrush(QColor(CURRENT))
            p.drawPath(path)
        # Hour labels round the outside.
        p.setPen(TEXT)
        metrics = QFontMetrics(_font(self, 0.8))
        p.setFont(_font(self, 0.8))
        label_r = outer + metrics.height() * 0.8
        for hour in range(24):
            a = math.radians(self._angle(hour + 0.5))
            x, y = centre.x() + math.cos(a) * label_r, centre.y() - math.sin(a) * label_r
            text = f"{hour:02d}"
            p.drawText(QRectF(x - 20, y - metrics.height() / 2, 40, metrics.height()),
                       Qt.AlignmentFlag.AlignCenter, text)
        # The centre: how many incidents the dial holds.
        p.setPen(QPen(GRID, 1))
        p.setBrush(QColor("white"))
        p.drawEllipse(ring(inner))
        p.setPen(TEXT)
        p.setFont(_font(self, 1.3, bold=True))
        total = sum(self.hours)
        box = ring(inner * 0.95)
        p.drawText(QRectF(box.x(), box.y(), box.width(), box.height() * 0.6), Qt.AlignmentFlag.AlignHCenter
                   | Qt.AlignmentFlag.AlignBottom, f"{total:,}")
        p.setFont(_font(self, 0.75))
        p.setPen(MUTED)
        p.drawText(QRectF(box.x(), box.y() + box.height() * 0.6, box.width(), box.height() * 0.4),
                   Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, self.caption or _("with a time"))
        p.end()


class BarChart(QWidget):
    """Horizontal bars with their labels and values: readable however long a category's name is."""

    ROW = 24

    def __init__(self, parent=None, colour: str = CURRENT):
        super().__init__(parent)
        self.rows: list[tuple[str, int]] = []
        self.colour = colour
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def set_data(self, rows: Sequence[tuple[str, int]]) -> None:
        self.rows = [(str(label), int(value)) for label, value in rows]
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(420, max(1, len(self.rows)) * self.ROW + 8)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(240, max(1, len(self.rows)) * self.ROW + 8)

    def paintEvent(self, _event):  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        metrics = QFontMetrics(self.font())
        if not self.rows:
            p.setPen(MUTED)
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, _("Nothing recorded"))
            p.end()
            return
        label_w = min(max(metrics.horizontalAdvance(label) for label, _v in self.rows) + 10, self.width() * 0.45)
        value_w = metrics.horizontalAdvance(f"{max(v for _l, v in self.rows):,}") + 10
        span = max(self.width() - label_w - value_w - 8, 10)
        top = max(v for _l, v in self.rows) or 1
        for i, (label, value) in enumerate(self.rows):
            y = 4 + i * self.ROW
            p.setPen(TEXT)
            text = metrics.elidedText(label, Qt.TextElideMode.ElideRight, int(label_w - 10))
            p.drawText(QRectF(0, y, label_w - 8, self.ROW), Qt.AlignmentFlag.AlignVCenter
                       | Qt.AlignmentFlag.AlignRight, text)
            w = span * value / top
            p.fillRect(QRectF(label_w, y + 4, w, self.ROW - 8), QColor(self.colour))
            p.drawText(QRectF(label_w + w + 4, y, value_w, self.ROW), Qt.AlignmentFlag.AlignVCenter, f"{value:,}")
        p.end()


@dataclass(frozen=True)
class Line:
    """One line of a trend chart: ``values`` per x position; a dashed line has no markers."""

    label: str
    values: tuple[int, ...]
    colour: str = CURRENT
    dashed: bool = False


class TrendChart(QWidget):
    """Monthly lines on shared axes, with a legend: this year's months solid, the same months a year before
    dashed."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.title = ""
        self.x_labels: list[str] = []
        self.lines: list[Line] = []
        self.setMinimumSize(260, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_data(self, title: str, x_labels: Sequence[str], lines: Sequence[Line]) -> None:
        for line in lines:
            if len(line.values) != len(x_labels):
                raise ValueError("each line needs one value per month")
        self.title, self.x_labels, self.lines = title, list(x_labels), list(lines)
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(360, 220)

    def paintEvent(self, _event):  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        small = _font(self, 0.8)
        metrics = QFontMetrics(small)
        line_h = metrics.height()
        title_font = _font(self, 1.0, bold=True)
        title_h = QFontMetrics(title_font).height()
        p.setFont(title_font)
        p.setPen(TEXT)
        p.drawText(QRectF(4, 2, self.width() - 8, title_h), Qt.AlignmentFlag.AlignLeft,
                   QFontMetrics(title_font).elidedText(self.title, Qt.TextElideMode.ElideRight, self.width() - 8))
        p.setFont(small)
        # The legend on its own line under the title: a sample of each line's stroke, then its label.
        x, y = 6.0, 4 + title_h + line_h * 0.5
        for line in self.lines:
            self._stroke(p, line)
            p.drawLine(QPointF(x, y), QPointF(x + 22, y))
            if not line.dashed:
                p.setBrush(QColor(line.colour))
                p.drawEllipse(QPointF(x + 11, y), 3.0, 3.0)
            p.setPen(TEXT)
            p.drawText(QPointF(x + 28, y + metrics.ascent() / 2 - 1), line.label)
            x += 28 + metrics.horizontalAdvance(line.label) + 16
        top = max([max(line.values, default=0) for line in self.lines] + [0])
        ticks = nice_ticks(top or 1, 4)
        left = metrics.horizontalAdvance(f"{ticks[-1]:,}") + 10
        plot = QRectF(left, title_h + line_h + 14, self.width() - left - 12,
                      self.height() - title_h - line_h * 3 - 18)
        if plot.width() < 20 or plot.height() < 20 or not self.x_labels:
            p.end()
            return

        def y_of(v: float) -> float:
            return plot.bottom() - plot.height() * v / ticks[-1]

        def x_of(i: int) -> float:
            n = len(self.x_labels)
            return plot.left() + (plot.width() * (i + 0.5) / n)

        for t in ticks:
            p.setPen(QPen(GRID, 1))
            p.drawLine(QPointF(plot.left(), y_of(t)), QPointF(plot.right(), y_of(t)))
            p.setPen(MUTED)
            p.drawText(QRectF(0, y_of(t) - line_h / 2, left - 6, line_h),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, f"{t:,}")
        step = max(1, math.ceil(len(self.x_labels) * metrics.horizontalAdvance("Sep 00") / plot.width()))
        shown_year = None
        for i, label in enumerate(self.x_labels):
            if i % step:
                continue
            month, _sep, year = label.partition(" ")
            p.setPen(MUTED)
            p.drawText(QRectF(x_of(i) - 30, plot.bottom() + 2, 60, line_h), Qt.AlignmentFlag.AlignHCenter, month)
            if year and year != shown_year:  # the year under the first month shown of each year
                shown_year = year
                p.drawText(QRectF(x_of(i) - 30, plot.bottom() + 2 + line_h, 60, line_h),
                           Qt.AlignmentFlag.AlignHCenter, year)
        for line in self.lines:
            path = QPainterPath()
            for i, v in enumerate(line.values):
                point = QPointF(x_of(i), y_of(v))
                path.lineTo(point) if i else path.moveTo(point)
            self._stroke(p, line)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawPath(path)
            if not line.dashed:
                p.setBrush(QColor(line.colour))
                for i, v in enumerate(line.values):
                    p.drawEllipse(QPointF(x_of(i), y_of(v)), 3.0, 3.0)
        p.end()

    @staticmethod
    def _stroke(p: QPainter, line: Line) -> None:
        pen = QPen(QColor(line.colour), 2.0)
        if line.dashed:
            pen.setStyle(Qt.PenStyle.DashLine)
        p.setPen(pen)

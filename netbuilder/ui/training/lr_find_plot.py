"""The learning-rate range test's plot: loss against the rate on a log axis, each step's loss faint and the
smoothed loss over it, with the suggested rate and the optimizer's current one marked by labelled vertical
lines. Its curves and lines are made once; new values go in with setData and setPos."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QVBoxLayout, QWidget

from netbuilder.ui.theme import CATEGORY_COLOURS
from netbuilder.ui.training.plot_parts import GrowingSeries, TickGrid, compact_number
from netbuilder.ui.widgets.colors import mix

TOP_MARGIN = 1.15  # the loss axis ends this far above the highest smoothed loss: a blow-up's raw spikes are cut


class LogRateAxis(pg.AxisItem):
    """A log axis of rates labelled 1e-4, 3e-3, 0.01, 1 (pyqtgraph's own writes 10 with a superscript, whose
    labels do not fit under one another's ticks)."""

    def logTickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [compact_number(10.0**value * scale) for value in values]


class LrFindPlot(QWidget):
    """Loss against rate. `add_steps` draws steps as the test takes them; `show_result` the whole test (raw
    and smoothed loss) and the suggestion; `set_current` marks the optimizer's rate now."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = pg.PlotWidget(axisItems={"bottom": LogRateAxis("bottom")})
        self.view.setMinimumSize(420, 260)
        plot = self.plot = self.view.getPlotItem()
        plot.setLogMode(x=True, y=False)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setMouseEnabled(x=False, y=False)  # the ranges are chosen to show the fall; dragging loses it
        plot.setContentsMargins(2, 8, 8, 2)  # room for the top and right tick labels
        self.grid = TickGrid(plot)
        plot.addItem(self.grid, ignoreBounds=True)
        for side in ("left", "bottom"):
            plot.getAxis(side).setStyle(tickTextOffset=3, tickLength=-4)
        plot.setLabel("bottom", "learning rate")
        plot.setLabel("left", "loss")
        self.raw_curve = plot.plot(connect="finite")
        self.smooth_curve = plot.plot(connect="finite")
        self.suggestion_line = self._line(0.92)
        self.current_line = self._line(0.08)
        self.raw = GrowingSeries(256)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self._apply_palette()

    def _line(self, label_at: float) -> pg.InfiniteLine:
        """A vertical line (hidden until placed), its label near the top or the bottom of the plot."""
        line = pg.InfiniteLine(angle=90, movable=False, label="", labelOpts={"position": label_at})
        line.setZValue(10)
        line.hide()
        self.plot.addItem(line, ignoreBounds=True)
        return line

    # ---- colours from the palette ------------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
        super().changeEvent(event)

    def _apply_palette(self) -> None:
        palette = self.palette()
        base, text = palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Text)
        smooth = QColor(palette.color(QPalette.ColorRole.Highlight))
        raw = QColor(smooth)
        raw.setAlpha(90)
        suggested = QColor(CATEGORY_COLOURS["Normalization"])  # orange, as validation in the training plots
        if base.lightness() < 128:
            suggested = suggested.lighter(135)
        muted = mix(text, base, 0.45)
        self.view.setBackground(base)
        self.grid.set_colour(mix(text, base, 0.85))
        for side in ("left", "bottom"):
            axis = self.plot.getAxis(side)
            axis.setPen(pg.mkPen(muted))
            axis.setTextPen(pg.mkPen(text))
        self.raw_curve.setPen(pg.mkPen(raw, width=1))
        self.smooth_curve.setPen(pg.mkPen(smooth, width=2))
        for line, colour, style in (
            (self.suggestion_line, suggested, Qt.PenStyle.SolidLine),
            (self.current_line, muted, Qt.PenStyle.DashLine),
        ):
            line.setPen(pg.mkPen(colour, width=2 if line is self.suggestion_line else 1, style=style))
            line.label.setColor(colour)
            line.label.fill = pg.mkBrush(base)  # the label stays readable over the curves it crosses

    # ---- feeding -----------------------------------------------------------------------------------------

    def begin(self, start: float, end: float) -> None:
        """Empty the curves and hide the suggestion, for a test from `start` to `end`."""
        self.raw.clear()
        self.raw_curve.setData([], [])
        self.smooth_curve.setData([], [])
        self.suggestion_line.hide()
        self.plot.setXRange(math.log10(start), math.log10(end), padding=0.02)
        self.plot.enableAutoRange(y=True)

    def add_steps(self, rates: Sequence[float], losses: Sequence[float]) -> None:
        """Steps just taken: their losses, drawn as they come."""
        self.raw.extend(rates, losses)
        self.raw_curve.setData(self.raw.x, self.raw.y)

    def show_result(
        self, rates: Sequence[float], losses: Sequence[float], smoothed: Sequence[float], suggestion: float | None
    ) -> None:
        """The whole test: every step's loss (faint), the smoothed loss, and the suggested rate marked (when
        there is one); the loss axis spans the smoothed loss, so a blow-up at the end does not flatten it."""
        self.raw.clear()
        self.raw.extend(rates, losses)
        self.raw_curve.setData(self.raw.x, self.raw.y)
        self.smooth_curve.setData(np.asarray(rates, dtype=float), np.asarray(smoothed, dtype=float))
        if smoothed:
            low = min(min(smoothed), min(losses))
            high = max(smoothed) * TOP_MARGIN
            self.plot.setYRange(max(0.0, low - 0.05 * (high - low)) if low >= 0 else low, high, padding=0)
        self._place(self.suggestion_line, suggestion, "suggested")

    def set_current(self, rate: float | None) -> None:
        """Mark the optimizer's rate now (None: hide the mark)."""
        self._place(self.current_line, rate, "now")

    def _place(self, line: pg.InfiniteLine, rate: float | None, word: str) -> None:
        if rate is None or rate <= 0:
            line.hide()
            return
        line.show()  # first: a hidden line's label does not take new text
        line.setPos(math.log10(rate))  # a log axis places items at the logarithm of their value
        line.label.setFormat(f"{word} {compact_number(rate)}")

    @property
    def suggestion_shown(self) -> float | None:
        """The rate the suggestion line marks, or None while it is hidden."""
        return 10.0 ** self.suggestion_line.value() if self.suggestion_line.isVisible() else None

"""The pieces the training plots are made of: numpy buffers that grow by doubling, an axis of whole epochs, a
cheap grid at the major ticks, and round axis limits."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QLineF, QRectF
from PySide6.QtGui import QColor, QPainter, QPen


class GrowingSeries:
    """x and y values in numpy arrays that double in size when full: appending is amortised O(1), and the
    views handed to setData never copy."""

    def __init__(self, capacity: int = 256) -> None:
        self._x = np.empty(capacity)
        self._y = np.empty(capacity)
        self.n = 0

    def extend(self, xs: Sequence[float], ys: Sequence[float]) -> None:
        count = len(xs)
        if self.n + count > len(self._x):
            size = len(self._x)
            while size < self.n + count:
                size *= 2
            self._x = np.resize(self._x, size)
            self._y = np.resize(self._y, size)
        self._x[self.n : self.n + count] = xs
        self._y[self.n : self.n + count] = ys
        self.n += count

    def clear(self) -> None:
        self.n = 0

    @property
    def x(self) -> np.ndarray:
        return self._x[: self.n]

    @property
    def y(self) -> np.ndarray:
        return self._y[: self.n]


def finite_value(record: dict[str, Any], key: str, scale: float = 1.0) -> float:
    """record[key] times `scale`, or NaN when it is missing or not finite (a gap in the curve)."""
    value = record.get(key)
    return float(value) * scale if isinstance(value, int | float) and math.isfinite(value) else math.nan


class EpochAxis(pg.AxisItem):
    """An axis of whole epochs: no tick at epoch 2.5."""

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list:
        if maxVal - minVal > 20:  # pyqtgraph's levels, whole epochs only
            return [
                (spacing, [v for v in values if float(v).is_integer()])
                for spacing, values in super().tickValues(minVal, maxVal, size)
                if spacing >= 1
            ]
        # one level, so every tick is labelled: each epoch, or every 2nd or 5th where labels (about 24 px
        # each) would not fit
        step = next((s for s in (1, 2, 5) if (maxVal - minVal) / s * 24 <= size), 10)
        first = math.ceil(minVal / step) * step
        return [(float(step), [float(v) for v in range(first, math.floor(maxVal) + 1, step)])]


class RateAxis(pg.AxisItem):
    """An axis of small positive values (a learning rate): 2e-4 rather than 0.0002, so that the labels of
    Adam's default 0.001 fit the plots' narrow axis (pyqtgraph drops a label too wide for it, leaving "0")."""

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [compact_number(value * scale) for value in values]


def compact_number(value: float) -> str:
    """At most about six characters: 0.05, 2.5, 1200 as they are; 2e-4, 1.5e-3 and 3e5 in powers of ten."""
    if value == 0 or 0.01 <= abs(value) < 10_000:
        return f"{value:.4g}"
    mantissa, exponent = f"{value:.2e}".split("e")
    return f"{float(mantissa):g}e{int(exponent)}"


class TickGrid(pg.GraphicsObject):
    """Faint lines at the major ticks of a plot's axes, drawn in the view.

    pyqtgraph's own axis grid costs about 5 ms a paint per plot (the axis picture then spans the whole
    view); this costs about 0.2 ms, which keeps a frame of the Training panel well inside 16 ms."""

    def __init__(self, plot: pg.PlotItem) -> None:
        super().__init__()
        self.plot = plot
        self.pen = QPen()
        self.setZValue(-100)

    def set_colour(self, colour: QColor) -> None:
        self.pen = pg.mkPen(colour, width=1)
        self.update()

    def viewRangeChanged(self) -> None:
        self.prepareGeometryChange()
        self.update()

    def boundingRect(self) -> QRectF:
        rect = self.viewRect()
        return QRectF() if rect is None else rect

    def _major_ticks(self, side: str, low: float, high: float) -> list[float]:
        axis = self.plot.getAxis(side)
        length = axis.geometry().width() if side == "bottom" else axis.geometry().height()
        levels = axis.tickValues(low, high, max(1.0, length)) if high > low else []
        return [float(v) for v in levels[0][1]] if levels else []

    def paint(self, painter: QPainter, *_: Any) -> None:
        rect = self.viewRect()
        if rect is None or rect.isEmpty():
            return
        painter.setPen(self.pen)
        left, right, top, bottom = rect.left(), rect.right(), rect.top(), rect.bottom()
        lines = [QLineF(x, top, x, bottom) for x in self._major_ticks("bottom", left, right)]
        lines += [QLineF(left, y, right, y) for y in self._major_ticks("left", top, bottom)]
        painter.drawLines(lines)


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5 and 5 times a power of ten that is at least `value` (> 0)."""
    scale = 10.0 ** math.floor(math.log10(value))
    return next(m * scale for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * scale >= value * (1 - 1e-12))

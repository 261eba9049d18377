"""A regression run's predicted values against the true ones on the validation samples: a scatter with the line
y = x (a perfect fit lies on it), one output column or all of them, and the MAE, RMSE and R² of those values.

The figures are `fit_figures`, train.py's `errors` in numpy (the window has no torch), so for every output they
are the validation figures the run's last epoch reported for the same weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QSignalBlocker, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from netbuilder.ui.training.plot_parts import TickGrid
from netbuilder.ui.training.prediction_words import number_text
from netbuilder.ui.widgets.colors import mix

EVERY_OUTPUT = "every output"
MAX_POINTS = 10_000  # drawn at most (chosen at random, the same each time): 10,000 take about 0.1 s to draw
FIGURES_TIP = (
    "The validation figures of the run's network, over every value of the output chosen (drawn or not): mean "
    "absolute error, root mean square error, and R², the share of the true values' variance that the "
    "predictions explain (1 is a perfect fit, 0 no better than always predicting the mean). Over every output "
    "they are the figures the run reported for its last epoch."
)


@dataclass(frozen=True)
class FitFigures:
    """How far predicted values are from true ones: mean absolute error, root mean square error and R²."""

    mae: float
    rmse: float
    r2: float


def fit_figures(predicted: np.ndarray, true: np.ndarray) -> FitFigures:
    """train.py's `errors` in numpy: MAE, RMSE and R² of (n, k) predictions against (n, k) true values, all
    columns together; R² sums the squared distances from each column's mean, and is NaN where they are all 0."""
    predicted = np.asarray(predicted, dtype=np.float64).reshape(len(predicted), -1)
    true = np.asarray(true, dtype=np.float64).reshape(len(true), -1)
    error = predicted - true
    spread = float(np.square(true - true.mean(axis=0)).sum())
    return FitFigures(
        mae=float(np.abs(error).mean()),
        rmse=float(np.sqrt(np.square(error).mean())),
        r2=1.0 - float(np.square(error).sum()) / spread if spread > 0 else math.nan,
    )


class FitView(QWidget):
    """The scatter of one output column (or all), its chooser when there are several, and its figures. `show`
    takes the Predictions of a regression run."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.predictions = None
        self.column: int | None = None  # the output shown; None: every output
        self.figures: FitFigures | None = None

        self.chooser_label = QLabel("Output")
        self.chooser = QComboBox()
        self.chooser.setToolTip("The network's output whose values are drawn, or all of them at once")
        self.chooser.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.chooser.currentIndexChanged.connect(self._chosen)
        self.chooser_label.setBuddy(self.chooser)
        self.figures_label = QLabel()
        self.figures_label.setToolTip(FIGURES_TIP)
        self.basis = QLabel()
        self.basis.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.basis.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # cut, not widened
        tools = QHBoxLayout()
        tools.setContentsMargins(6, 4, 6, 0)
        tools.setSpacing(6)
        tools.addWidget(self.chooser_label)
        tools.addWidget(self.chooser)
        tools.addSpacing(8)
        tools.addWidget(self.figures_label)
        tools.addSpacing(8)
        tools.addWidget(self.basis, 1)

        self.view = pg.PlotWidget()
        self.view.setMinimumWidth(120)  # no minimum height: the dock opens low, and the other tabs share it
        self.view.setToolTip("Each validation sample's predicted value against its true one; on the dashed line, y = x")
        self.plot = plot = self.view.getPlotItem()
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(False, False)
        plot.hideButtons()
        self.grid = TickGrid(plot)
        plot.addItem(self.grid, ignoreBounds=True)
        for side, label in (("bottom", "true"), ("left", "predicted")):
            axis = plot.getAxis(side)
            axis.setStyle(tickTextOffset=3, tickLength=-4)
            axis.setLabel(label)
        plot.disableAutoRange()  # the ranges are set with the points
        self.identity = plot.plot()
        # a scatter item of its own: as a PlotDataItem's, its points were laid out again at every range change
        self.points = pg.ScatterPlotItem(size=4, pen=None)
        plot.addItem(self.points)
        self.drawn = 0  # how many points are drawn

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(tools)
        layout.addWidget(self.view, 1)
        self._apply_palette()

    # ---- what it shows -----------------------------------------------------------------------------------

    def set_predictions(self, predictions) -> None:
        """Show a regression run's Predictions: every output at first (the one output, when there is one), or
        the output chosen before when their number is the same."""
        outputs = predictions.predicted.reshape(len(predictions), -1).shape[1]
        same = self.predictions is not None and self.chooser.count() == (outputs + 1 if outputs > 1 else 0)
        self.predictions = predictions
        several = outputs > 1
        self.chooser_label.setVisible(several)
        self.chooser.setVisible(several)
        if not same:
            with QSignalBlocker(self.chooser):
                self.chooser.clear()
                if several:
                    self.chooser.addItems([EVERY_OUTPUT, *(f"output {i + 1}" for i in range(outputs))])
                    self.chooser.setCurrentIndex(0)
            self.column = None
        self.show_output(self.column)

    def show_output(self, column: int | None) -> None:
        """Draw output `column` (from 0), or every output with None."""
        predictions = self.predictions
        if predictions is None:
            return
        index = 0 if column is None else column + 1
        if self.chooser.count() and self.chooser.currentIndex() != index:
            with QSignalBlocker(self.chooser):
                self.chooser.setCurrentIndex(index)
        self.column = column
        n = len(predictions)
        predicted = predictions.predicted.reshape(n, -1)
        true = predictions.true.reshape(n, -1)
        if column is not None:
            predicted, true = predicted[:, column : column + 1], true[:, column : column + 1]
        self.figures = figures = fit_figures(predicted, true)
        x, y = true.reshape(-1), predicted.reshape(-1)
        finite = np.concatenate([x[np.isfinite(x)], y[np.isfinite(y)]])
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        if high <= low:
            low, high = low - 1.0, high + 1.0
        # both axes span the same values: the line y = x runs corner to corner, whatever the view's shape
        self.plot.setXRange(low, high, padding=0.04)
        self.plot.setYRange(low, high, padding=0.04)
        self.identity.setData([low, high], [low, high])
        shown = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
        if len(shown) > MAX_POINTS:
            shown = np.sort(np.random.default_rng(0).choice(shown, MAX_POINTS, replace=False))
        self.drawn = len(shown)
        self.points.setData(x=x[shown], y=y[shown])
        self.figures_label.setText(
            " · ".join(
                f"{name} {number_text(value) if math.isfinite(value) else '–'}"
                for name, value in (("MAE", figures.mae), ("RMSE", figures.rmse), ("R²", figures.r2))
            )
        )
        read = (
            f"the first {n:,} of {predictions.part_size:,} validation samples (a folder is read from disk)"
            if predictions.part_size > n
            else f"{n:,} validation samples"
        )
        output = "" if column is None or not self.chooser.count() else f", output {column + 1}"
        some = f" · {self.drawn:,} of {x.size:,} values drawn, at random" if self.drawn < x.size else ""
        self.basis.setText(f"Over {read}{output}{some}")
        self.basis.setToolTip(self.basis.text())

    def _chosen(self, index: int) -> None:
        if index >= 0:
            self.show_output(None if index == 0 else index - 1)

    # ---- colours from the palette ------------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange and "points" in self.__dict__:  # not while being made
            self._apply_palette()
        super().changeEvent(event)

    def _apply_palette(self) -> None:
        """The window's colours, as the Curves tab takes them, in any theme."""
        palette = self.palette()
        base, text = palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Text)
        self.view.setBackground(base)
        self.grid.set_colour(mix(text, base, 0.85))
        for side in ("left", "bottom"):
            axis = self.plot.getAxis(side)
            axis.setPen(pg.mkPen(mix(text, base, 0.45)))
            axis.setTextPen(pg.mkPen(text))
        point = QColor(palette.color(QPalette.ColorRole.Highlight))
        point.setAlpha(150)  # where points pile up, the pile shows darker
        self.points.setBrush(pg.mkBrush(point))
        self.identity.setPen(pg.mkPen(mix(text, base, 0.5), width=1, style=Qt.PenStyle.DashLine))
        self.plot.setTitle("predicted against true (dashed: equal)", size="9pt", color=text.name())

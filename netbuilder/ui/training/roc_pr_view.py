"""A classifier's ROC and precision-recall curves on the validation samples, side by side: for a binary task the
positive class's, for more classes one class against the rest, chosen in a list.

The curves and their areas (ROC AUC, average precision) are `netbuilder.training.curves.one_vs_rest` of the
class probabilities the Predict tab loaded (numpy only: no torch in the window), never worked out here.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QSignalBlocker, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from netbuilder.training.curves import ClassCurves, one_vs_rest
from netbuilder.ui.training.plot_parts import TickGrid
from netbuilder.ui.training.prediction_words import class_name
from netbuilder.ui.widgets.colors import mix

ROC_TIP = (
    "Receiver operating characteristic: as the threshold on the class's probability falls, the share of its "
    "samples found (true positive rate) against the share of the other samples taken for it (false positive "
    "rate). The area under it (AUC) is the chance that a sample of the class scores above one that is not; "
    "the diagonal is guessing (0.5)."
)
PR_TIP = (
    "As the threshold on the class's probability falls, the share of its samples found (recall) against the "
    "share of those taken for it that are of it (precision). Average precision (AP) sums the precision at each "
    "threshold, weighted by the recall it adds; the dashed line is guessing: the class's share of the samples."
)
POINT_AT = "Point at a curve to read a threshold: what it finds and what it takes for the class."
REACH_PX = 24  # how near the pointer must come to a curve's point to read it


def default_class(probabilities: np.ndarray, true: np.ndarray) -> int:
    """The class whose curves are shown first: the positive class of a binary task (the second), else the one
    with the most validation samples (the first of those that tie)."""
    classes = probabilities.shape[1]
    if classes == 2:
        return 1
    return int(np.argmax(np.bincount(np.asarray(true, dtype=np.int64).reshape(-1), minlength=classes)[:classes]))


def steps_after(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A curve's points as steps, each y held until the next x: the precision-recall curve drawn so that the
    area under it is the average precision."""
    if len(x) < 2:
        return x, y
    return np.repeat(x, 2)[1:], np.repeat(y, 2)[:-1]


class ShareAxis(pg.AxisItem):
    """An axis of shares from 0 to 1: 0, 0.5 and 1 always (pyqtgraph's own ticks left out 1), and the quarters
    where their labels fit (the dock opens low); the grid (TickGrid) follows the first level."""

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list:
        return [(0.5, [0.0, 0.5, 1.0]), (0.25, [0.25, 0.75])]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [f"{value * scale:g}" for value in values]


class RocPrView(QWidget):
    """The two curves of one class, its chooser and a line saying how many samples they rest on. `show` takes
    the Predictions of a classification run."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.predictions = None
        self.curves: ClassCurves | None = None  # of the class shown
        self.chosen: int | None = None

        self.chooser_label = QLabel()
        self.chooser = QComboBox()
        self.chooser.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.chooser.currentIndexChanged.connect(self._chosen)
        self.chooser_label.setBuddy(self.chooser)
        self.basis = QLabel()
        self.basis.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.basis.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # cut, not widened
        tools = QHBoxLayout()
        tools.setContentsMargins(6, 4, 6, 0)
        tools.setSpacing(6)
        tools.addWidget(self.chooser_label)
        tools.addWidget(self.chooser)
        tools.addSpacing(8)
        tools.addWidget(self.basis, 1)

        self.roc_view, self.roc_plot, self.roc_grid = self._plot("false positive rate", "true positive rate")
        self.pr_view, self.pr_plot, self.pr_grid = self._plot("recall", "precision")
        # what a curve means, on its title (a tooltip on the view would hide the readout as the pointer rests)
        self.roc_plot.titleLabel.setToolTip(ROC_TIP)
        self.pr_plot.titleLabel.setToolTip(PR_TIP)
        self.roc_chance = self.roc_plot.plot([0.0, 1.0], [0.0, 1.0])
        self.pr_chance = self.pr_plot.plot([0.0, 1.0], [0.5, 0.5])
        self.roc_curve = self.roc_plot.plot()
        self.pr_curve = self.pr_plot.plot()
        # the point read, on both curves: one threshold is a point of each
        self.roc_marker = pg.ScatterPlotItem(size=9)
        self.pr_marker = pg.ScatterPlotItem(size=9)
        self.roc_plot.addItem(self.roc_marker)
        self.pr_plot.addItem(self.pr_marker)
        self.read_index: int | None = None  # the ROC point read (0: above every score), or None
        self.readout = QLabel(POINT_AT)
        self.readout.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.readout.setIndent(8)
        for view in (self.roc_view, self.pr_view):
            view.scene().sigMouseMoved.connect(lambda pos, view=view: self._hovered(view, pos))

        plots = QHBoxLayout()
        plots.setContentsMargins(2, 2, 2, 2)
        plots.setSpacing(4)
        plots.addWidget(self.roc_view, 1)
        plots.addWidget(self.pr_view, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(tools)
        layout.addLayout(plots, 1)
        layout.addWidget(self.readout)
        self._apply_palette()

    def _plot(self, bottom: str, left: str) -> tuple[pg.PlotWidget, pg.PlotItem, TickGrid]:
        view = pg.PlotWidget(axisItems={"bottom": ShareAxis("bottom"), "left": ShareAxis("left")})
        view.setMinimumWidth(120)  # no minimum height: the dock opens low, and the other tabs share it
        plot = view.getPlotItem()
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(False, False)
        plot.hideButtons()
        plot.setXRange(0, 1, padding=0.04)  # room for the labels at 1 and for a curve along the edge
        plot.setYRange(0, 1, padding=0.04)
        grid = TickGrid(plot)
        plot.addItem(grid, ignoreBounds=True)
        for side, label in (("bottom", bottom), ("left", left)):
            axis = plot.getAxis(side)
            axis.setStyle(tickTextOffset=3, tickLength=-4)
            axis.setLabel(label)
        return view, plot, grid

    # ---- what it shows -----------------------------------------------------------------------------------

    def set_predictions(self, predictions) -> None:
        """Show the curves of a classification run's Predictions: the classes in the chooser, the default one
        chosen (or the one chosen before, when the classes are the same)."""
        classes = predictions.probabilities.shape[1]
        names = [class_name(predictions, c) for c in range(classes)]
        same = self.predictions is not None and [self.chooser.itemText(i) for i in range(self.chooser.count())] == names
        self.predictions = predictions
        binary = classes == 2
        self.chooser_label.setText("Positive class" if binary else "Class against the rest")
        self.chooser.setToolTip(
            "The class taken as positive: its probability ranks the samples"
            if binary
            else "The class whose curves are shown: its samples against all the others, ranked by its probability"
        )
        with QSignalBlocker(self.chooser):
            if not same:
                self.chooser.clear()
                self.chooser.addItems(names)
            chosen = (
                self.chosen
                if same and self.chosen is not None
                else default_class(predictions.probabilities, predictions.true)
            )
            self.chooser.setCurrentIndex(chosen)
        self.show_class(chosen)

    def show_class(self, cls: int) -> None:
        """Draw class `cls`'s curves against the rest."""
        predictions = self.predictions
        if predictions is None:
            return
        if self.chooser.currentIndex() != cls:
            with QSignalBlocker(self.chooser):
                self.chooser.setCurrentIndex(cls)
        self.chosen = cls
        self.curves = curves = one_vs_rest(predictions.probabilities, predictions.true, cls)
        total = curves.positives + curves.negatives
        if curves.positives and curves.negatives:
            self.roc_curve.setData(curves.roc.x, curves.roc.y)
            self.pr_curve.setData(*steps_after(curves.pr.x, curves.pr.y))
        else:  # nothing to rank: a class with no validation sample, or the only one
            self.roc_curve.setData([], [])
            self.pr_curve.setData([], [])
        share = curves.positives / total if total else 0.0
        self.pr_chance.setData([0.0, 1.0], [share, share])
        self._set_titles()
        self.basis.setText(self._basis_words())
        self.basis.setToolTip(self.basis.text())
        self.read_point(None)

    # ---- reading a threshold ----------------------------------------------------------------------------

    def read_point(self, index: int | None) -> None:
        """Mark the ROC curve's point `index` (0: a threshold above every score) and the precision-recall
        point of the same threshold, and say in words what that threshold does; None clears the mark."""
        curves = self.curves
        if index is None or curves is None or not (curves.positives and curves.negatives):
            self.read_index = None
            self.roc_marker.setData([], [])
            self.pr_marker.setData([], [])
            self.readout.setText(POINT_AT)
            return
        self.read_index = index
        roc, pr = curves.roc, curves.pr
        at = len(pr.thresholds) - index  # the precision-recall point of the same threshold
        self.roc_marker.setData([roc.x[index]], [roc.y[index]])
        self.pr_marker.setData([pr.x[at]], [pr.y[at]])
        name = class_name(self.predictions, self.chosen)
        if index == 0:
            self.readout.setText(f"Above every score: no sample is taken for class {name}.")
            return
        taken = curves.positives * roc.y[index] + curves.negatives * roc.x[index]
        self.readout.setText(
            f"Probability of {name} at least {roc.thresholds[index]:.3g}: {roc.y[index]:.1%} of its samples found "
            f"(recall), {roc.x[index]:.1%} of the others taken for it; {pr.y[at]:.1%} of the {taken:,.0f} taken "
            "are of it (precision)."
        )

    def _hovered(self, view: pg.PlotWidget, scene_pos: QPointF) -> None:
        """The pointer near a curve's point reads it; away from both curves, the mark goes."""
        self.read_point(self.point_near(view, scene_pos))

    def point_near(self, view: pg.PlotWidget, scene_pos: QPointF) -> int | None:
        """The ROC point (by its index) nearest to this point of `view`'s scene, within REACH_PX pixels."""
        curves = self.curves
        box = view.getPlotItem().vb
        if curves is None or not (curves.positives and curves.negatives):
            return None
        if not box.sceneBoundingRect().contains(scene_pos):
            return None
        if view is self.roc_view:
            x, y = curves.roc.x, curves.roc.y
        else:  # read backwards: the precision-recall points run from the lowest threshold up
            x, y = curves.pr.x[::-1], curves.pr.y[::-1]
        pointer = box.mapSceneToView(scene_pos)
        pixel_x, pixel_y = box.viewPixelSize()
        distances = np.hypot((x - pointer.x()) / pixel_x, (y - pointer.y()) / pixel_y)
        nearest = int(np.argmin(distances))
        return nearest if distances[nearest] <= REACH_PX else None

    def _chosen(self, index: int) -> None:
        if index >= 0:
            self.show_class(index)

    def _basis_words(self) -> str:
        predictions, curves = self.predictions, self.curves
        name = class_name(predictions, self.chosen)
        n = len(predictions)
        read = (
            f"the first {n:,} of {predictions.part_size:,} validation samples (a folder is read from disk)"
            if predictions.part_size > n
            else f"{n:,} validation samples"
        )
        if not curves.positives:
            return f"None of {read} is of class {name}: there is nothing to rank."
        if not curves.negatives:
            return f"All of {read} are of class {name}: there is nothing to rank."
        if predictions.probabilities.shape[1] == 2:
            rest = f"{curves.negatives:,} of class {class_name(predictions, 1 - self.chosen)}"
        else:
            rest = f"{curves.negatives:,} of the other classes"
        return f"Over {read}: {curves.positives:,} of class {name}, {rest}."

    def area_texts(self) -> tuple[str, str]:
        """The areas as the titles show them: ('AUC 0.973', 'AP 0.951'), or a dash where there is none."""
        if self.curves is None:
            return "", ""
        return tuple(
            f"{label} {area:.3f}" if math.isfinite(area) else f"{label} –"
            for label, area in (("AUC", self.curves.roc.area), ("AP", self.curves.pr.area))
        )

    # ---- colours from the palette ------------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange and "pr_curve" in self.__dict__:  # not while being made
            self._apply_palette()
        super().changeEvent(event)

    def _colours(self) -> dict[str, QColor]:
        palette = self.palette()
        base, text = palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Text)
        return {
            "base": base,
            "text": text,
            "curve": palette.color(QPalette.ColorRole.Highlight),
            "chance": mix(text, base, 0.5),
            "axis": mix(text, base, 0.45),
            "grid": mix(text, base, 0.85),
        }

    def _apply_palette(self) -> None:
        """The window's colours, as the Curves tab takes them, in any theme."""
        c = self._colours()
        for view, plot, grid in (
            (self.roc_view, self.roc_plot, self.roc_grid),
            (self.pr_view, self.pr_plot, self.pr_grid),
        ):
            view.setBackground(c["base"])
            grid.set_colour(c["grid"])
            for side in ("left", "bottom"):
                axis = plot.getAxis(side)
                axis.setPen(pg.mkPen(c["axis"]))
                axis.setTextPen(pg.mkPen(c["text"]))
        for item in (self.roc_curve, self.pr_curve):
            item.setPen(pg.mkPen(c["curve"], width=2))
        for item in (self.roc_chance, self.pr_chance):
            item.setPen(pg.mkPen(c["chance"], width=1, style=Qt.PenStyle.DashLine))
        for item in (self.roc_marker, self.pr_marker):
            item.setPen(pg.mkPen(c["text"], width=1.5))
            item.setBrush(pg.mkBrush(c["base"]))
        self._set_titles()

    def _set_titles(self) -> None:
        c = self._colours()
        roc, pr = self.area_texts()
        size, colour = "9pt", c["text"].name()
        self.roc_plot.setTitle(f"ROC · {roc}" if roc else "ROC", size=size, color=colour)
        self.pr_plot.setTitle(f"precision-recall · {pr}" if pr else "precision-recall", size=size, color=colour)

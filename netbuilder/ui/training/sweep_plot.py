"""The runs of one sweep against the metric that judges them: with one swept value, a scatter of that value
against the metric, the points joined in value order; with several, parallel coordinates (a vertical axis per
swept value and one for the metric, a line per run coloured by its metric), or the scatter of any one value.

Each axis is laid out by a `SweptScale` (sweep_scales.py): numbers evenly, or by their logarithm where the
values tried are log-spaced, words and booleans evenly, each labelled with the values themselves. Which run is
best, and which way a metric is better, is `project/run_comparison`'s rule, never worked out here; a run
without the metric (it failed) is listed, not drawn. Pointing at a line or a point names its run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QSignalBlocker, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from netbuilder.project.run_comparison import best_run, final_value, higher_is_better
from netbuilder.project.run_history import RunRecord
from netbuilder.ui.training.sweep_scales import SweptScale, metric_name, metric_scale_of, metric_text, values_text
from netbuilder.ui.widgets.colors import mix

PARALLEL = "every value (parallel coordinates)"
POINT_AT = "Point at a line or a point to name its run."
REACH_PX = 10  # how near the pointer must come to a run's line or point to name it
# the part of viridis the runs are coloured from: its ends are too close to white or black backgrounds
COLOUR_RANGE = (0.08, 0.88)
VIEW_TIP = (
    "Each run of the sweep: the values it tried and its final {metric}. Colour: the better the run's place "
    "among the others, the stronger its colour; the best run is drawn thick. A dashed line (a hollow point) is "
    "a run that successive halving stopped early."
)


def _ranks(values: Sequence[float], higher_better: bool) -> list[float]:
    """Each value's place from the worst (0) to the best (1), equal values sharing one: a colour per place, so
    one run far behind the others does not leave them all the same colour."""
    distinct = sorted(set(values), reverse=not higher_better)  # worst first
    if len(distinct) == 1:
        return [1.0] * len(values)
    place = {value: i / (len(distinct) - 1) for i, value in enumerate(distinct)}
    return [place[value] for value in values]


class SweepPlot(QWidget):
    """One sweep's runs drawn against a metric. `show_sweep(records, metric)` draws them; the host (the Runs view,
    the sweep dialog) calls it again as runs finish. Items are made once and reused, never cleared."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.records: list[RunRecord] = []  # the sweep's runs, in the order they ran
        self.chosen_metric = ""
        self.targets: list[str] = []  # the swept values' names, in the sweep's order
        self.drawn: list[RunRecord] = []  # the runs with the metric, as drawn
        self.missing: list[RunRecord] = []  # the runs without it (failed, or stopped before validating)
        self.best: RunRecord | None = None
        self.scales: list[SweptScale] = []  # the axes drawn: one per swept value and the metric's, or x and y
        self.scatter_of: str | None = None  # the swept value on x in the scatter; None: parallel coordinates
        self.pointed: RunRecord | None = None
        self._xy = np.zeros((0, 0, 2))  # the drawn runs' points, in view coordinates: (runs, axes, x|y)
        self._colour_map = pg.colormap.get("viridis")

        self.chooser_label = QLabel("Show")
        self.chooser = QComboBox()
        self.chooser.setToolTip("Every swept value at once, or one of them against the metric")
        self.chooser.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.chooser.currentIndexChanged.connect(self._chosen)
        self.chooser_label.setBuddy(self.chooser)
        for widget in (self.chooser_label, self.chooser):  # until two or more values are swept
            widget.hide()
        self.best_label = QLabel()
        self.best_label.setTextFormat(Qt.TextFormat.PlainText)
        self.best_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        tools = QHBoxLayout()
        tools.setContentsMargins(6, 4, 6, 0)
        tools.setSpacing(6)
        tools.addWidget(self.chooser_label)
        tools.addWidget(self.chooser)
        tools.addSpacing(8)
        tools.addWidget(self.best_label, 1)

        self.view = pg.PlotWidget()
        self.view.setMinimumWidth(160)
        self.plot = plot = self.view.getPlotItem()
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(False, False)
        plot.hideButtons()
        plot.disableAutoRange()
        for side in ("left", "bottom"):
            plot.getAxis(side).setStyle(tickTextOffset=3, tickLength=-4)
        plot.getAxis("bottom").setHeight(34)  # the axes' names, or a value's ticks and its name: never cut
        self.view.scene().sigMouseMoved.connect(self._hovered)
        # made on first need and reused: a line per run, a vertical line and a label per tick per axis
        self.lines: list[pg.PlotDataItem] = []
        self.axis_lines: list[pg.PlotDataItem] = []
        self.tick_labels: list[pg.TextItem] = []
        self.joining = plot.plot()  # the scatter's points joined in value order
        self.joining.setZValue(-5)
        self.points = pg.ScatterPlotItem(size=9)
        plot.addItem(self.points)
        self.best_mark = pg.ScatterPlotItem(size=17, brush=None)  # a ring round the best point
        self.best_mark.setZValue(20)
        plot.addItem(self.best_mark)
        self.pointed_mark = pg.ScatterPlotItem(size=13, brush=None)
        self.pointed_mark.setZValue(21)
        plot.addItem(self.pointed_mark)

        self.readout = QLabel(POINT_AT)
        self.readout.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.readout.setTextFormat(Qt.TextFormat.PlainText)
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.readout.setIndent(8)
        self.missing_label = QLabel()
        self.missing_label.setTextFormat(Qt.TextFormat.PlainText)
        self.missing_label.setWordWrap(True)
        self.missing_label.setIndent(8)
        self.missing_label.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(tools)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.readout)
        layout.addWidget(self.missing_label)
        self._apply_palette()

    # ---- what it shows -----------------------------------------------------------------------------------

    def show_sweep(self, records: Sequence[RunRecord], metric: str) -> None:
        """Draw the runs of one sweep (each record's `sweep["values"]`) against `metric` (a history key such as
        val_accuracy): the scatter for one swept value, parallel coordinates for more (or the scatter of the
        value chosen before, when the same values were swept)."""
        records = sorted(records, key=lambda r: (r.sweep or {}).get("index", 0) if r.sweep else 0)
        targets = list(dict.fromkeys(t for r in records for t in ((r.sweep or {}).get("values") or {})))
        self.records, self.chosen_metric = list(records), metric
        if targets != self.targets:
            self.targets = targets
            with QSignalBlocker(self.chooser):
                self.chooser.clear()
                if len(targets) > 1:
                    self.chooser.addItems([PARALLEL, *(f"{t} against {metric_name(metric)}" for t in targets)])
            self.scatter_of = targets[0] if len(targets) == 1 else None
        several = len(targets) > 1
        self.chooser_label.setVisible(several)
        self.chooser.setVisible(several)
        if several:
            with QSignalBlocker(self.chooser):
                self.chooser.setItemText(0, PARALLEL)
                for i, target in enumerate(targets, start=1):
                    self.chooser.setItemText(i, f"{target} against {metric_name(metric)}")
        self.view.setToolTip(VIEW_TIP.format(metric=metric_name(metric)))
        self._draw()

    def show_scatter(self, target: str | None) -> None:
        """Draw `target` (a swept value) against the metric, or every value in parallel coordinates with None
        (when more than one was swept)."""
        if target is None and len(self.targets) == 1:
            target = self.targets[0]
        self.scatter_of = target
        index = 0 if target is None or len(self.targets) < 2 else self.targets.index(target) + 1
        if self.chooser.count() and self.chooser.currentIndex() != index:
            with QSignalBlocker(self.chooser):
                self.chooser.setCurrentIndex(index)
        self._draw()

    def _chosen(self, index: int) -> None:
        if index >= 0:
            self.show_scatter(None if index == 0 else self.targets[index - 1])

    def _draw(self) -> None:
        metric = self.chosen_metric
        scored = [(r, final_value(r, metric)) for r in self.records]
        self.drawn = [r for r, v in scored if v is not None]
        self.missing = [r for r, v in scored if v is None]
        metric_values = [v for _, v in scored if v is not None]
        self.best = best_run(self.drawn, metric) if metric else None
        self.pointed = None
        self.pointed_mark.setData([], [])
        self.readout.setText(POINT_AT)
        self._say_best()
        self._say_missing()
        if not self.drawn:
            self.scales = []
            self._xy = np.zeros((0, 0, 2))
            self._draw_parallel([], [])
            self._draw_scatter(None, [], [])
            self.plot.getAxis("bottom").setTicks([[]])
            self.plot.getAxis("left").setTicks([[]])
            self.plot.getAxis("bottom").showLabel(False)
            self.plot.showAxis("left", False)
            return
        metric_scale = metric_scale_of(metric, metric_values)
        value_scales = [SweptScale.of(t, [self._value(r, t) for r in self.drawn]) for t in self.targets]
        goodness = _ranks(metric_values, higher_is_better(metric))
        if self.scatter_of is None:
            self.scales = [*value_scales, metric_scale]
            self._draw_scatter(None, [], [])
            self._draw_parallel(metric_values, goodness)
        else:
            scale = value_scales[self.targets.index(self.scatter_of)]
            self.scales = [scale, metric_scale]
            self._draw_parallel([], [])
            self._draw_scatter(scale, metric_values, goodness)

    @staticmethod
    def _value(record: RunRecord, target: str) -> Any:
        return ((record.sweep or {}).get("values") or {}).get(target)

    # ---- parallel coordinates ------------------------------------------------------------------------------

    def _draw_parallel(self, metric_values: Sequence[float], goodness: Sequence[float]) -> None:
        """A vertical axis per scale at x = 0, 1, 2 …, its values labelled beside it; a line per run through its
        places on them, coloured by how good it is; the best thick and on top."""
        axes = len(self.scales) if metric_values else 0
        runs = self.drawn if metric_values else []
        xy = np.full((len(runs), axes, 2), np.nan)
        for i, (record, value) in enumerate(zip(runs, metric_values, strict=True)):
            ys = [scale.position(self._value(record, scale.name)) for scale in self.scales[:-1]]
            ys.append(self.scales[-1].position(value))
            xy[i, :, 0] = np.arange(axes)
            xy[i, :, 1] = ys
        self._xy = xy
        colours = self._colours()
        for i in range(max(len(runs), len(self.lines))):
            line = self._line(i)
            if i >= len(runs):
                line.setData([], [])
                continue
            best = runs[i] is self.best
            halted = (runs[i].sweep or {}).get("halted_at") is not None
            style = Qt.PenStyle.DashLine if halted else Qt.PenStyle.SolidLine
            line.setPen(pg.mkPen(self._run_colour(goodness[i]), width=3.5 if best else 1.5, style=style))
            line.setZValue(10 if best else goodness[i])
            line.setData(xy[i, :, 0], xy[i, :, 1])
        ticks = [scale.ticks() for scale in self.scales] if axes else []
        labels = [(x, y, text) for x, pairs in enumerate(ticks) for y, text in pairs]
        for i in range(max(axes, len(self.axis_lines))):
            item = self._axis_line(i)
            item.setData([i, i] if i < axes else [], [0.0, 1.0] if i < axes else [])
        for i in range(max(len(labels), len(self.tick_labels))):
            label = self._tick_label(i)
            label.setVisible(i < len(labels))
            if i < len(labels):
                x, y, text = labels[i]
                label.setText(text, colours["text"])
                label.setPos(x, y)
        if axes:
            names = [
                (i, scale.name if i < axes - 1 else metric_name(scale.name)) for i, scale in enumerate(self.scales)
            ]
            self.plot.getAxis("bottom").setTicks([names])
            self.plot.showAxis("left", False)
            self.plot.getAxis("bottom").showLabel(False)
            self.plot.setXRange(-0.15, axes - 1 + 0.55, padding=0)
            self.plot.setYRange(-0.06, 1.06, padding=0)

    def _line(self, index: int) -> pg.PlotDataItem:
        while len(self.lines) <= index:
            self.lines.append(self.plot.plot(connect="finite"))
        return self.lines[index]

    def _axis_line(self, index: int) -> pg.PlotDataItem:
        while len(self.axis_lines) <= index:
            item = self.plot.plot(pen=pg.mkPen(self._colours()["axis"], width=1))
            item.setZValue(-10)
            self.axis_lines.append(item)
        return self.axis_lines[index]

    def _tick_label(self, index: int) -> pg.TextItem:
        while len(self.tick_labels) <= index:
            label = pg.TextItem(anchor=(0, 0.5), fill=self._label_fill())
            label.setZValue(30)
            self.plot.addItem(label, ignoreBounds=True)
            self.tick_labels.append(label)
        return self.tick_labels[index]

    # ---- scatter ---------------------------------------------------------------------------------------------

    def _draw_scatter(self, scale: SweptScale | None, metric_values: Sequence[float], goodness: Sequence[float]):
        """One value against the metric: a point per run, coloured as its line would be, joined in value order
        (for words, in the order of their places); the best ringed."""
        if scale is None:
            self.points.setData([], [])
            self.joining.setData([], [])
            self.best_mark.setData([], [])
            return
        metric_scale = self.scales[-1]
        xs = np.array([scale.position(self._value(r, scale.name)) for r in self.drawn])
        ys = np.array([metric_scale.position(v) for v in metric_values])
        self._xy = np.stack([xs, ys], axis=1)[:, None, :]
        # a run successive halving stopped: hollow, in its colour
        halted = [(r.sweep or {}).get("halted_at") is not None for r in self.drawn]
        colours = [self._run_colour(g) for g in goodness]
        base = self._colours()["base"]
        brushes = [pg.mkBrush(base if stopped else colour) for colour, stopped in zip(colours, halted, strict=True)]
        pens = [
            pg.mkPen(colour if stopped else base, width=1.5) for colour, stopped in zip(colours, halted, strict=True)
        ]
        self.points.setData(xs, ys, brush=brushes, pen=pens)
        self.joining.setData(*self._best_at_each_x(xs, ys, goodness))
        best = [i for i, r in enumerate(self.drawn) if r is self.best]
        self.best_mark.setData(xs[best], ys[best])
        self.plot.showAxis("left", True)
        self.plot.getAxis("bottom").setTicks([scale.ticks()])
        self.plot.getAxis("left").setTicks([metric_scale.ticks()])
        self.plot.setLabel("bottom", scale.name)
        self.plot.setLabel("left", metric_name(metric_scale.name))
        self.plot.setXRange(-0.06, 1.06, padding=0)
        self.plot.setYRange(-0.08, 1.08, padding=0)

    @staticmethod
    def _best_at_each_x(xs: np.ndarray, ys: np.ndarray, goodness: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
        """The line through the best point at each value, in value order: with one run a value, every point;
        where other values were swept too, what the best of them reached at this one."""
        best: dict[float, int] = {}
        for i, x in enumerate(xs):
            if math.isfinite(x) and (x not in best or goodness[i] > goodness[best[x]]):
                best[float(x)] = i
        order = [best[x] for x in sorted(best)]
        return xs[order], ys[order]

    # ---- words -----------------------------------------------------------------------------------------------

    def _say_best(self) -> None:
        best = self.best
        if best is None:
            self.best_label.setText("")
            self.best_label.setToolTip("")
            return
        value = final_value(best, self.chosen_metric)
        values = values_text(((best.sweep or {}).get("values")) or {})
        text = f"Best: {values} — {metric_name(self.chosen_metric)} {metric_text(self.chosen_metric, value)}"
        self.best_label.setText(text)
        self.best_label.setToolTip(f"{text} (run {best.title})")

    def _say_missing(self) -> None:
        if not self.missing:
            self.missing_label.hide()
            return
        runs = "; ".join(f"{values_text((r.sweep or {}).get('values') or {})} ({r.status})" for r in self.missing)
        count = len(self.missing)
        self.missing_label.setText(
            f"Not drawn, {count} run{'s' if count != 1 else ''} without {metric_name(self.chosen_metric)}: {runs}"
        )
        self.missing_label.show()

    def run_words(self, record: RunRecord) -> str:
        """A run as the readout names it: its title, values and metric, and where halving stopped it."""
        value = final_value(record, self.chosen_metric)
        metric = (
            f" — {metric_name(self.chosen_metric)} {metric_text(self.chosen_metric, value)}"
            if value is not None
            else ""
        )
        halted = (record.sweep or {}).get("halted_at")
        stopped = f" · stopped by halving after epoch {halted}" if halted is not None else ""
        best = " · best" if record is self.best else ""
        return f"{record.title}: {values_text((record.sweep or {}).get('values') or {})}{metric}{stopped}{best}"

    # ---- pointing ---------------------------------------------------------------------------------------------

    def _hovered(self, scene_pos: QPointF) -> None:
        self.point_at(self.run_near(scene_pos))

    def point_at(self, record: RunRecord | None) -> None:
        """Name `record` in the readout and mark it (its point, or its place on each axis); None clears it."""
        self.pointed = record
        if record is None or record not in self.drawn:
            self.pointed = None
            self.pointed_mark.setData([], [])
            self.readout.setText(POINT_AT)
            return
        xy = self._xy[self.drawn.index(record)]
        self.pointed_mark.setData(xy[:, 0], xy[:, 1])
        self.readout.setText(self.run_words(record))

    def run_near(self, scene_pos: QPointF) -> RunRecord | None:
        """The drawn run whose line (or point) passes within REACH_PX pixels of this point of the view's scene,
        the nearest one."""
        box = self.plot.vb
        if not self.drawn or not box.sceneBoundingRect().contains(scene_pos) or self._xy.size == 0:
            return None
        pointer = box.mapSceneToView(scene_pos)
        pixel_x, pixel_y = box.viewPixelSize()
        scale = np.array([pixel_x, pixel_y])
        xy = self._xy / scale  # (runs, points, 2) in pixels
        p = np.array([pointer.x(), pointer.y()]) / scale
        if xy.shape[1] == 1:
            distances = np.hypot(*(xy[:, 0, :] - p).T)
        else:  # the nearest of each line's segments
            a, b = xy[:, :-1, :], xy[:, 1:, :]
            ab = b - a
            length = np.maximum((ab**2).sum(axis=2), 1e-12)
            t = np.clip(((p - a) * ab).sum(axis=2) / length, 0.0, 1.0)
            nearest = a + t[..., None] * ab
            distances = np.nanmin(np.hypot(*(nearest - p).transpose(2, 0, 1)), axis=1)
        distances = np.where(np.isfinite(distances), distances, np.inf)
        index = int(np.argmin(distances))
        return self.drawn[index] if distances[index] <= REACH_PX else None

    # ---- colours from the palette ------------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange and "missing_label" in self.__dict__:  # not while being made
            self._apply_palette()
            self._draw()
        super().changeEvent(event)

    def _colours(self) -> dict[str, QColor]:
        palette = self.palette()
        base, text = palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Text)
        return {"base": base, "text": text, "axis": mix(text, base, 0.45), "joining": mix(text, base, 0.6)}

    def _label_fill(self) -> Any:
        """Behind an axis's labels, so the lines crossing there do not hide them."""
        base = QColor(self._colours()["base"])
        base.setAlpha(210)
        return pg.mkBrush(base)

    def _run_colour(self, goodness: float) -> QColor:
        """viridis, the better run the stronger against the background: dark on a light one, bright on a dark."""
        low, high = COLOUR_RANGE
        dark = self._colours()["base"].lightness() < 128
        t = low + (high - low) * goodness if dark else high - (high - low) * goodness
        return self._colour_map.map(float(np.clip(t, 0.0, 1.0)), mode="qcolor")

    def _apply_palette(self) -> None:
        """The window's colours, as the Curves tab takes them, in any theme."""
        c = self._colours()
        self.view.setBackground(c["base"])
        for side in ("left", "bottom"):
            axis = self.plot.getAxis(side)
            axis.setPen(pg.mkPen(c["axis"]))
            axis.setTextPen(pg.mkPen(c["text"]))
        for item in self.axis_lines:
            item.setPen(pg.mkPen(c["axis"], width=1))
        for label in self.tick_labels:
            label.fill = self._label_fill()
        self.joining.setPen(pg.mkPen(c["joining"], width=1))
        self.best_mark.setPen(pg.mkPen(c["text"], width=2))
        self.pointed_mark.setPen(pg.mkPen(c["text"], width=1.5))
        self.pointed_mark.setBrush(pg.mkBrush(c["base"]))

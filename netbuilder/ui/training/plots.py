"""Live training plots (pyqtgraph): loss per step (raw and smoothed), loss per epoch (train and validation),
accuracy or validation error per epoch, learning rate per epoch; and on a page of their own (the Classes tab)
the confusion matrix of a classification run with its per-class figures. Earlier runs of the project are drawn
faintly behind the current one.

Every curve is a PlotDataItem made once; new values go into numpy buffers that double when full, and a
timer hands them to setData about ten times a second, whatever the rate of training.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QHBoxLayout, QWidget

from netbuilder.project.run_history import RunRecord
from netbuilder.project.run_recorder import LossSmoother
from netbuilder.ui.theme import CATEGORY_COLOURS
from netbuilder.ui.training.class_figures import ClassFiguresPage
from netbuilder.ui.training.plot_parts import (
    EpochAxis,
    GrowingSeries,
    RateAxis,
    TickGrid,
    finite_value,
    nice_ceiling,
)
from netbuilder.ui.widgets.colors import mix

REFRESH_MS = 100
PAST_CURVES = 10  # earlier runs drawn faintly behind the current one: more would hide it


class TrainingPlots(QWidget):
    """The plots of the Training panel. Call `begin_run` when a run starts, then `add_losses`, `add_epoch`,
    and `set_confusion` at the end; `show_past` draws earlier runs faintly."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.classification = True
        # one view per plot: a view repaints only when its own plot changes, so between epochs only the
        # loss-per-step plot is drawn again (one shared view repainted all four, ~45 ms a frame)
        self.views: list[pg.PlotWidget] = []
        self.grids: list[TickGrid] = []
        self.step_plot = self._plot()
        self.loss_plot = self._plot(per_epoch=True)
        self.metric_plot = self._plot(per_epoch=True)
        self.lr_plot = self._plot(per_epoch=True, left=RateAxis("left"))

        # the current run: each curve made once, fed by setData
        self.raw_curve = self.step_plot.plot(connect="finite")
        self.smooth_curve = self.step_plot.plot(connect="finite")
        self.train_loss_curve = self._epoch_curve(self.loss_plot)
        self.val_loss_curve = self._epoch_curve(self.loss_plot)
        self.train_metric_curve = self._epoch_curve(self.metric_plot)
        self.val_metric_curve = self._epoch_curve(self.metric_plot)
        self.lr_curve = self._epoch_curve(self.lr_plot)
        self.current_items = [
            self.raw_curve,
            self.smooth_curve,
            self.train_loss_curve,
            self.val_loss_curve,
            self.train_metric_curve,
            self.val_metric_curve,
            self.lr_curve,
        ]
        # earlier runs: PAST_CURVES faint curves per plot, made on first need, behind the current ones
        self.past_items: dict[str, list[pg.PlotDataItem]] = {
            "step": [],
            "train_loss": [],
            "val_loss": [],
            "metric": [],
            "lr": [],
        }

        self.raw = GrowingSeries(1024)
        self.smooth = GrowingSeries(1024)
        self.epochs: dict[str, GrowingSeries] = {
            name: GrowingSeries(64) for name in ("train_loss", "val_loss", "train_metric", "val_metric", "lr")
        }
        self._smoother = LossSmoother()  # the run record's own smoothing, so the two curves agree
        self._loss_range = (math.inf, -math.inf)  # of the current run's finite step losses
        self._loss_axis = (0.0, 0.0)  # the loss-per-step plot's y range as last set
        self._drawn: dict[str, int] = {}  # points each series had when last handed to its curve
        self._epoch_turn = 0  # the epoch plot whose turn it is to be drawn
        self._dirty = False

        self.classes_page = ClassFiguresPage()  # the panel shows it as a tab of its own, beside Curves
        self.confusion_view = self.classes_page.confusion_view

        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(4)
        for view in self.views:
            layout.addWidget(view, 1)

        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self._apply_palette()

    # ---- building ----------------------------------------------------------------------------------------

    def _plot(self, *, per_epoch: bool = False, left: pg.AxisItem | None = None) -> pg.PlotItem:
        axes = {"bottom": EpochAxis("bottom")} if per_epoch else {}
        if left is not None:
            axes["left"] = left
        view = pg.PlotWidget(axisItems=axes or None)
        view.setMinimumWidth(120)
        self.views.append(view)
        plot = view.getPlotItem()
        plot.setClipToView(True)
        plot.setDownsampling(auto=True, mode="peak")
        grid = TickGrid(plot)
        plot.addItem(grid, ignoreBounds=True)
        self.grids.append(grid)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        for side in ("left", "bottom"):
            axis = plot.getAxis(side)
            axis.setStyle(tickTextOffset=3, tickLength=-4)
        plot.getAxis("left").setWidth(42)
        return plot

    def _epoch_curve(self, plot: pg.PlotItem) -> pg.PlotDataItem:
        return plot.plot(connect="finite", symbol="o", symbolSize=5)

    def _past_curve(self, key: str, index: int) -> pg.PlotDataItem:
        items = self.past_items[key]
        while len(items) <= index:
            plot = {
                "step": self.step_plot,
                "train_loss": self.loss_plot,
                "val_loss": self.loss_plot,
                "metric": self.metric_plot,
                "lr": self.lr_plot,
            }[key]
            item = plot.plot(connect="finite")
            item.setZValue(-10)
            item.setPen(self._muted_pen(key))
            items.append(item)
        return items[index]

    # ---- colours from the palette ------------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
        super().changeEvent(event)

    def _colours(self) -> dict[str, QColor]:
        palette = self.palette()
        base = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.Text)
        dark = base.lightness() < 128
        train = QColor(palette.color(QPalette.ColorRole.Highlight))
        val = QColor(CATEGORY_COLOURS["Normalization"])  # orange: apart from the highlight in both themes
        if dark:
            val = val.lighter(135)
        raw = QColor(train)
        raw.setAlpha(90)
        muted = mix(text, base, 0.6)
        return {"base": base, "text": text, "train": train, "val": val, "raw": raw, "muted": muted}

    def _muted_pen(self, key: str) -> Any:
        colour = self._colours()["muted"]
        style = Qt.PenStyle.DashLine if key == "val_loss" else Qt.PenStyle.SolidLine
        return pg.mkPen(colour, width=1, style=style)

    def _apply_palette(self) -> None:
        c = self._colours()
        for view in self.views:
            view.setBackground(c["base"])
        self.confusion_view.set_colours(c)
        for grid in self.grids:
            grid.set_colour(mix(c["text"], c["base"], 0.85))
        for plot in (self.step_plot, self.loss_plot, self.metric_plot, self.lr_plot, self.confusion_view.plot):
            for side in ("left", "bottom"):
                axis = plot.getAxis(side)
                axis.setPen(pg.mkPen(mix(c["text"], c["base"], 0.45)))
                axis.setTextPen(pg.mkPen(c["text"]))
        self.raw_curve.setPen(pg.mkPen(c["raw"], width=1))
        self.smooth_curve.setPen(pg.mkPen(c["train"], width=2))
        for item, key in (
            (self.train_loss_curve, "train"),
            (self.val_loss_curve, "val"),
            (self.train_metric_curve, "train"),
            (self.val_metric_curve, "val"),
            (self.lr_curve, "train"),
        ):
            item.setPen(pg.mkPen(c[key], width=2))
            item.setSymbolPen(pg.mkPen(c[key]))
            item.setSymbolBrush(pg.mkBrush(c[key]))
        for key, items in self.past_items.items():
            for item in items:
                item.setPen(self._muted_pen(key))
        self._set_titles()

    def _set_titles(self) -> None:
        c = self._colours()

        def word(text: str, key: str) -> str:
            return f"<span style='color:{c[key].name()}'>{text}</span>"

        size = "9pt"
        colour = c["text"].name()
        # short titles: pyqtgraph will not let a plot be narrower than its title
        self.step_plot.setTitle("loss per step", size=size, color=colour)
        loss = f"loss: {word('train', 'train')} · {word('validation', 'val')}"
        self.loss_plot.setTitle(loss, size=size, color=colour)
        if self.classification:
            metric = f"accuracy %: {word('train', 'train')} · {word('val', 'val')}"
        else:
            metric = f"mean abs error ({word('validation', 'val')})"
        self.metric_plot.setTitle(metric, size=size, color=colour)
        self.lr_plot.setTitle("learning rate", size=size, color=colour)
        self.confusion_view.plot.setTitle("validation: true × predicted", size=size, color=colour)

    # ---- feeding ------------------------------------------------------------------------------------------

    def begin_run(
        self,
        classification: bool,
        past: Sequence[RunRecord] = (),
        history: Sequence[dict] = (),
        *,
        steps: int = 0,
        epochs: int = 0,
    ) -> None:
        """Empty the current curves (keeping the items), draw `past` runs faintly, and start from `history`
        (epochs already done when going on from a checkpoint). `steps` and `epochs` are the run's length:
        the x axes span it from the start, so they do not change (and repaint) while the run goes on."""
        self.classification = classification
        self.raw.clear()
        self.smooth.clear()
        self._smoother = LossSmoother()
        self._loss_range = (math.inf, -math.inf)
        self._drawn = {}
        for series in self.epochs.values():
            series.clear()
        self.classes_page.clear()
        self._set_titles()
        self.show_past(past)
        self._set_x_ranges(steps, epochs)
        for record in history:
            self.add_epoch(record)
        self._dirty = True
        self.refresh(everything=True)

    def _set_x_ranges(self, steps: int, epochs: int) -> None:
        past = [item.xData for item in self.past_items["step"] if item.xData is not None and len(item.xData)]
        steps = max([steps, *(float(x[-1]) for x in past)])
        past_epochs = [item.xData for item in self.past_items["train_loss"] if item.xData is not None]
        epochs = max([epochs, *(float(x.max()) for x in past_epochs if len(x))])
        if steps > 0:
            self.step_plot.setXRange(0, steps, padding=0.02)
        else:
            self.step_plot.enableAutoRange(x=True)
        for plot in (self.loss_plot, self.metric_plot, self.lr_plot):
            if epochs > 0:
                plot.setXRange(0.5, epochs + 0.5, padding=0)
            else:
                plot.enableAutoRange(x=True)

    def show_past(self, past: Sequence[RunRecord]) -> None:
        """Draw up to PAST_CURVES earlier runs faintly behind the current one."""
        past = list(past)[-PAST_CURVES:]
        metric_key = "val_accuracy" if self.classification else "val_mae"
        scale = 100.0 if self.classification else 1.0
        for key in self.past_items:
            for index in range(max(len(past), len(self.past_items[key]))):
                item = self._past_curve(key, index)
                if index >= len(past):
                    item.setData([], [])
                    continue
                record = past[index]
                if key == "step":
                    xs = [s for s, _ in record.steps]
                    ys = [v for _, v in record.steps]
                else:
                    field = {"train_loss": "train_loss", "val_loss": "val_loss", "metric": metric_key, "lr": ""}[key]
                    field = field or "learning_rate"
                    xs = [e.get("epoch", i + 1) for i, e in enumerate(record.history)]
                    ys = [finite_value(e, field, scale if key == "metric" else 1.0) for e in record.history]
                item.setData(np.asarray(xs, dtype=float), np.asarray(ys, dtype=float))
        self._range_learning_rate()

    def add_losses(self, last_step: int, losses: Sequence[float]) -> None:
        """The losses of the steps ending at global step `last_step` (1-based)."""
        if not losses:
            return
        first = last_step - len(losses) + 1
        smooth = [self._smoother.add(value) for value in losses]
        xs = np.arange(first, last_step + 1, dtype=float)
        finite = [value for value in losses if math.isfinite(value)]
        if finite:
            low, high = self._loss_range
            self._loss_range = (min(low, *finite), max(high, *finite))
        self.raw.extend(xs, losses)
        self.smooth.extend(xs, smooth)
        self._mark_dirty()

    def add_epoch(self, record: dict[str, Any]) -> None:
        """One epoch's record (the engine's history entry, or an EpochEnd turned into one)."""
        epoch = float(record["epoch"])
        metric_scale = 100.0 if self.classification else 1.0
        values = {
            "train_loss": finite_value(record, "train_loss"),
            "val_loss": finite_value(record, "val_loss"),
            "train_metric": finite_value(record, "train_accuracy", 100.0) if self.classification else math.nan,
            "val_metric": finite_value(record, "val_accuracy" if self.classification else "val_mae", metric_scale),
            "lr": finite_value(record, "learning_rate"),
        }
        for name, value in values.items():
            self.epochs[name].extend([epoch], [value])
        self._mark_dirty()

    def set_confusion(
        self, matrix: Sequence[Sequence[int]], class_names: Sequence[str], top5: float | None = None
    ) -> None:
        """Show a confusion matrix of the run (rows: true class; columns: predicted), its per-class figures and
        the same evaluation's top-5 accuracy (None: not known, or 5 classes or fewer)."""
        self.classes_page.set_matrix(matrix, class_names, top5)

    @property
    def confusion_matrix(self) -> np.ndarray | None:
        """The counts shown (or to be shown when the Classes tab is looked at), or None before any."""
        return self.classes_page.matrix

    def _mark_dirty(self) -> None:
        self._dirty = True
        if not self.timer.isActive():
            self.timer.start()

    def refresh(self, *, everything: bool = False) -> None:
        """Hand new values to the curves: the timer calls this ten times a second while data comes, and
        the panel with `everything` when a run ends.

        Only curves with new points get data, so a view repaints only when its plot changed; all views that
        changed are painted in one frame, so the epoch plots take turns, one per refresh (when epochs are
        quick, three at once would take longer than a frame). The loss-per-step range grows in round steps
        rather than with every point, so its axis is drawn again only now and then."""
        if not self._dirty:
            self.timer.stop()
            return
        self._dirty = False
        if self._drawn.get("raw") != self.raw.n:
            self._drawn["raw"] = self.raw.n
            self.raw_curve.setData(self.raw.x, self.raw.y)
            self.smooth_curve.setData(self.smooth.x, self.smooth.y)
            self._range_losses()
        plots = self._epoch_plots()
        turn = [(index + self._epoch_turn) % len(plots) for index in range(len(plots))]
        changed = [i for i in turn if any(self._drawn.get(name) != self.epochs[name].n for _, name in plots[i])]
        for index in changed if everything else changed[:1]:
            self._draw_epochs(plots[index])
            self._epoch_turn = index + 1
        if len(changed) > 1 and not everything:
            self._dirty = True  # the other plots' turns come next

    def _epoch_plots(self) -> tuple[tuple[tuple[pg.PlotDataItem, str], ...], ...]:
        """The curves of each epoch plot, with the name of their series."""
        return (
            ((self.train_loss_curve, "train_loss"), (self.val_loss_curve, "val_loss")),
            ((self.train_metric_curve, "train_metric"), (self.val_metric_curve, "val_metric")),
            ((self.lr_curve, "lr"),),
        )

    def _draw_epochs(self, curves: tuple[tuple[pg.PlotDataItem, str], ...]) -> None:
        for item, name in curves:
            series = self.epochs[name]
            self._drawn[name] = series.n
            if np.isfinite(series.y).any():
                item.setData(series.x, series.y)
            else:  # no such value in this run (no validation set; no accuracy for values)
                item.setData([], [])
            if name == "lr":
                self._range_learning_rate()

    def _range_losses(self) -> None:
        """From 0 (or a round number below a negative loss) to a round number above the largest loss."""
        low, high = self._loss_range
        for item in self.past_items["step"]:
            if item.yData is not None and len(item.yData):
                finite = item.yData[np.isfinite(item.yData)]
                if finite.size:
                    low, high = min(low, float(finite.min())), max(high, float(finite.max()))
        if not math.isfinite(high):
            return
        top = nice_ceiling(high) if high > 0 else 1.0
        bottom = 0.0 if low >= 0 else -nice_ceiling(-low)
        if (bottom, top) != self._loss_axis:
            self._loss_axis = (bottom, top)
            self.step_plot.setYRange(bottom, top, padding=0.02)

    def _range_learning_rate(self) -> None:
        """From zero to a little above the largest rate: a constant rate is a flat line at its height, not
        a line in the middle of a range around it."""
        values = [self.epochs["lr"].y]
        values += [item.yData for item in self.past_items["lr"] if item.yData is not None and len(item.yData)]
        finite = np.concatenate(values) if values else np.empty(0)
        finite = finite[np.isfinite(finite)]
        if finite.size:
            top = float(finite.max()) or 1.0
            self.lr_plot.enableAutoRange(y=False)
            self.lr_plot.setYRange(0, top * 1.15, padding=0)

    # ---- what a finished run keeps ------------------------------------------------------------------------

    def point_counts(self) -> dict[str, int]:
        """How many points each current curve holds (what a person sees drawn)."""
        names = ("raw", "smooth", "train_loss", "val_loss", "train_metric", "val_metric", "lr")
        return {
            name: len(item.xData) if item.xData is not None else 0
            for name, item in zip(names, self.current_items, strict=True)
        }

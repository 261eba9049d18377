"""The sweep plot: a scatter for one swept value, parallel coordinates for more, each axis laid out as its values
ask (log for log-spaced numbers, words evenly), the best run marked, failed runs listed, and a run named when
pointed at."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from netbuilder.project.run_history import RunRecord
from netbuilder.ui.training.sweep_plot import PARALLEL, SweepPlot
from netbuilder.ui.training.sweep_scales import SweptScale, log_spaced, round_ticks


def run(index: int, values: dict, accuracy: float | None, *, status: str = "completed", **sweep) -> RunRecord:
    """A sweep's run that reached `accuracy` (None: it failed before validating)."""
    history = [] if accuracy is None else [{"epoch": 1, "val_accuracy": accuracy, "val_loss": 1.0 - accuracy}]
    return RunRecord(
        run_id=f"2026-01-01_10-00-{index:02}",
        status=status,
        history=history,
        sweep={"id": "sweep-1", "values": values, "index": index, "of": 9, **sweep},
    )


def grid() -> list[RunRecord]:
    """3 rates x 2 widths; the best: rate 1e-3 with width 128; one run failed."""
    records = []
    for i, (lr, width) in enumerate([(lr, w) for lr in (1e-4, 1e-3, 1e-2) for w in (64, 128)]):
        accuracy = 0.9 - abs(math.log10(lr) + 3) * 0.05 + (0.02 if width == 128 else 0.0)
        records.append(run(i, {"optimizer.lr": lr, "fc1.out_features": width}, accuracy))
    records.append(run(6, {"optimizer.lr": 0.1, "fc1.out_features": 64}, None, status="failed"))
    return records


@pytest.fixture
def plot(qtbot) -> SweepPlot:
    widget = SweepPlot()
    qtbot.addWidget(widget)
    widget.resize(800, 400)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def drawn_lines(plot: SweepPlot) -> list:
    return [line for line in plot.lines if line.xData is not None and len(line.xData)]


def test_several_values_draw_a_line_per_run_through_every_axis_the_best_thick(plot) -> None:
    records = grid()
    plot.show_sweep(records, "val_accuracy")
    assert plot.chooser.isVisible() and plot.chooser.currentText() == PARALLEL
    lines = drawn_lines(plot)
    assert len(lines) == 6  # the failed run is not drawn
    assert all(len(line.xData) == 3 for line in lines)  # rate, width, metric
    best = records[3]
    assert plot.best is best
    best_line = plot.lines[plot.drawn.index(best)]
    assert best_line.opts["pen"].widthF() > max(line.opts["pen"].widthF() for line in lines if line is not best_line)
    assert best_line.zValue() > max(line.zValue() for line in lines if line is not best_line)
    assert plot.best_label.text() == "Best: optimizer.lr 1e-3, fc1.out_features 128 — val accuracy 92.0%"
    names = [text for _, text in plot.plot.getAxis("bottom")._tickLevels[0]]
    assert names == ["optimizer.lr", "fc1.out_features", "val accuracy"]


def test_a_better_run_is_coloured_further_along_the_map_than_a_worse_one(plot) -> None:
    records = grid()
    plot.show_sweep(records, "val_accuracy")
    colours = {r.run_id: plot.lines[i].opts["pen"].color() for i, r in enumerate(plot.drawn)}
    # light theme: the better, the darker
    assert colours[records[3].run_id].lightness() < colours[records[0].run_id].lightness()


def test_failed_runs_are_listed_not_drawn(plot) -> None:
    plot.show_sweep(grid(), "val_accuracy")
    assert not plot.missing_label.isHidden()
    assert "1 run without val accuracy" in plot.missing_label.text()
    assert "optimizer.lr 0.1, fc1.out_features 64 (failed)" in plot.missing_label.text()
    assert [r.status for r in plot.missing] == ["failed"]


def test_log_spaced_values_get_a_log_axis_and_even_ones_a_plain_one(plot) -> None:
    plot.show_sweep(grid(), "val_accuracy")
    rate, width, metric = plot.scales
    assert (rate.kind, width.kind, metric.kind) == ("log", "lin", "lin")  # two widths: plain
    assert rate.position(1e-3) == pytest.approx(0.5)  # halfway in decades, not near the bottom
    assert log_spaced([64, 128, 256]) and log_spaced([1e-4, 3e-3, 0.1])
    assert not log_spaced([0.1, 0.2, 0.3]) and not log_spaced([0.0, 0.5]) and not log_spaced([16, 32])
    plain = SweptScale.of("dropout.p", [0.0, 0.25, 0.5])
    assert plain.kind == "lin" and plain.position(0.25) == pytest.approx(0.5)


def test_words_sit_evenly_on_their_axis_each_labelled(plot) -> None:
    records = [
        run(i, {"relu1.kind": kind, "optimizer.lr": 0.01}, accuracy)
        for i, (kind, accuracy) in enumerate([("relu", 0.9), ("gelu", 0.93), ("tanh", 0.85)])
    ]
    plot.show_sweep(records, "val_accuracy")
    kind_scale = plot.scales[0]
    assert kind_scale.kind == "choice"
    assert kind_scale.ticks() == [(0.0, "relu"), (0.5, "gelu"), (1.0, "tanh")]
    shown = {label.textItem.toPlainText().strip() for label in plot.tick_labels if label.isVisible()}
    assert {"relu", "gelu", "tanh", "0.01"} <= shown
    assert SweptScale.of("bias", [True, False]).choices == ("false", "true")


def test_one_swept_value_is_a_scatter_joined_in_value_order_the_best_ringed(plot) -> None:
    records = [run(i, {"batch_size": size}, None) for i, size in enumerate([256, 32, 128, 64])]
    for record, loss in zip(records, (0.5, 0.4, 0.35, 0.3), strict=True):  # a regression's runs: val_loss only
        record.history = [{"epoch": 1, "val_loss": loss}]
    plot.show_sweep(records, "val_loss")
    assert plot.chooser.isHidden()
    assert not drawn_lines(plot)
    assert len(plot.points.data) == 4
    assert list(plot.joining.xData) == sorted(plot.joining.xData)
    assert len(plot.joining.xData) == 4
    assert plot.best is records[3]  # lower loss is better
    ring = plot.best_mark.data
    assert len(ring) == 1 and ring[0]["x"] == pytest.approx(plot.scales[0].position(64))
    assert [text for _, text in plot.plot.getAxis("bottom")._tickLevels[0]] == ["32", "64", "128", "256"]
    assert plot.best_label.text() == "Best: batch_size 64 — val loss 0.3"


def test_the_chooser_shows_one_value_against_the_metric(plot) -> None:
    plot.show_sweep(grid(), "val_accuracy")
    plot.chooser.setCurrentIndex(2)  # fc1.out_features against val accuracy
    assert plot.scatter_of == "fc1.out_features"
    assert not drawn_lines(plot)
    assert len(plot.points.data) == 6
    assert len(plot.joining.xData) == 2  # the best at each width
    assert not any(label.isVisible() for label in plot.tick_labels)
    plot.chooser.setCurrentIndex(0)
    assert len(drawn_lines(plot)) == 6 and len(plot.points.data) == 0


def test_pointing_at_a_line_names_its_run(plot, qtbot) -> None:
    records = grid()
    plot.show_sweep(records, "val_accuracy")
    box = plot.plot.vb
    best_index = plot.drawn.index(records[3])
    x, y = plot.lines[best_index].xData, plot.lines[best_index].yData
    # halfway along its segment between the width and metric axes
    middle = box.mapViewToScene(QPointF((x[1] + x[2]) / 2, (y[1] + y[2]) / 2))
    assert plot.run_near(middle) is records[3]
    plot._hovered(middle)
    assert plot.readout.text().startswith(records[3].title + ": optimizer.lr 1e-3, fc1.out_features 128")
    assert plot.readout.text().endswith("· best")
    corner = box.mapViewToScene(QPointF(0.5, 1.05))
    assert plot.run_near(corner) is None


def test_a_run_stopped_by_halving_is_dashed_and_says_so(plot) -> None:
    records = grid()[:2]
    records[0].sweep["halted_at"] = 1
    plot.show_sweep(records, "val_accuracy")
    assert plot.lines[plot.drawn.index(records[0])].opts["pen"].style() == Qt.PenStyle.DashLine
    assert "stopped by halving after epoch 1" in plot.run_words(records[0])


def test_runs_added_later_reuse_the_items(plot) -> None:
    records = grid()
    plot.show_sweep(records[:2], "val_accuracy")
    plot.show_sweep(records, "val_accuracy")
    first = list(plot.lines)
    plot.show_sweep(records[:3], "val_accuracy")
    assert plot.lines == first and len(drawn_lines(plot)) == 3


def test_no_run_with_the_metric_draws_nothing_and_says_why(plot) -> None:
    plot.show_sweep([run(0, {"optimizer.lr": 0.1}, None, status="failed")], "val_accuracy")
    assert plot.best is None and plot.best_label.text() == ""
    assert not drawn_lines(plot) and len(plot.points.data) == 0
    assert "1 run without val accuracy" in plot.missing_label.text()


def test_round_ticks_are_round() -> None:
    assert round_ticks(0.87, 0.945) == pytest.approx([0.88, 0.9, 0.92, 0.94])
    assert round_ticks(3, 61, integer=True) == [20, 40, 60]
    assert np.allclose(round_ticks(1.0, 1.0), [1.0])


def test_the_metric_axis_names_the_best_and_worst_values_and_colours_follow_the_runs_places(plot) -> None:
    records = [run(i, {"optimizer.lr": lr}, a) for i, (lr, a) in enumerate([(1.0, 0.2), (0.1, 0.9), (0.01, 0.95)])]
    records.append(run(3, {"optimizer.lr": 0.001}, 0.91))
    plot.show_sweep(records, "val_accuracy")
    labels = [text for _, text in plot.scales[-1].ticks()]
    assert labels[:2] == ["20.0%", "95.0%"] and "40%" in labels
    plot.show_scatter(None)
    lightness = [plot.points.data[i]["brush"].color().lightness() for i in range(4)]
    # light theme, the better the darker: one run far behind leaves the others apart, in their order
    assert lightness[0] > lightness[1] > lightness[3] > lightness[2]


def test_values_that_fall_close_together_are_not_labelled_over_one_another(plot) -> None:
    rates = [5.98e-4, 1.64e-3, 1.83e-3, 3.42e-3, 0.0188, 0.0341]  # drawn at random: two a hair apart
    records = [run(i, {"optimizer.lr": lr}, 0.5 + i / 20) for i, lr in enumerate(rates)]
    records[1].sweep["halted_at"] = 1
    plot.show_sweep(records, "val_accuracy")
    positions = [p for p, _ in plot.scales[0].ticks()]
    assert len(positions) == 5 and min(np.diff(positions)) >= 0.08
    assert [text for _, text in plot.scales[0].ticks()][-1] == "0.0341"
    hollow = plot.points.data[1]
    assert hollow["brush"].color() == plot.palette().color(plot.palette().ColorRole.Base)  # stopped by halving

"""The Training panel's plots draw only what changed: the rules that keep the window smooth while a run goes
on (each plot its own view, axes that hold still, epoch plots taking turns), and the garbage collector kept
away from full collections during a run."""

from __future__ import annotations

import gc

import pytest
from PySide6.QtGui import QImage, QPainter

from netbuilder.ui.main_thread_gc import MainThreadGarbageCollector
from netbuilder.ui.training.plot_parts import compact_number, nice_ceiling
from netbuilder.ui.training.plots import TrainingPlots


def epoch(n: int) -> dict:
    return {
        "epoch": n,
        "train_loss": 1.0 / n,
        "val_loss": 1.2 / n,
        "train_accuracy": 0.5 + n / 100,
        "val_accuracy": 0.5 + n / 120,
        "learning_rate": 0.01,
    }


@pytest.fixture
def plots(qtbot):
    widget = TrainingPlots()
    qtbot.addWidget(widget)
    widget.resize(1000, 240)
    widget.show()
    widget.begin_run(classification=True, steps=1000, epochs=10)
    return widget


def count_set_data(monkeypatch, plots: TrainingPlots) -> dict[str, int]:
    """How often each current curve is handed data from now on."""
    names = ("raw", "smooth", "train_loss", "val_loss", "train_metric", "val_metric", "lr")
    calls = dict.fromkeys(names, 0)
    for name, item in zip(names, plots.current_items, strict=True):
        original = item.setData

        def counted(*args, _name=name, _original=original, **kwargs):
            calls[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(item, "setData", counted)
    return calls


def test_each_plot_has_a_view_of_its_own(plots):
    assert len(plots.views) == 4
    assert {view.getPlotItem() for view in plots.views} == {
        plots.step_plot,
        plots.loss_plot,
        plots.metric_plot,
        plots.lr_plot,
    }


def test_between_epochs_only_the_loss_per_step_curves_get_new_data(plots, monkeypatch):
    plots.add_epoch(epoch(1))
    plots.refresh(everything=True)
    calls = count_set_data(monkeypatch, plots)
    for step in range(1, 6):
        plots.add_losses(step * 10, [0.5] * 10)
        plots.refresh()
    assert calls["raw"] == calls["smooth"] == 5
    assert calls["train_loss"] == calls["val_loss"] == calls["train_metric"] == calls["lr"] == 0


def test_epoch_plots_take_turns_one_per_refresh_and_a_run_end_draws_them_all(plots, monkeypatch):
    calls = count_set_data(monkeypatch, plots)
    plots.add_epoch(epoch(1))
    plots.refresh()
    drawn_first = {name for name, n in calls.items() if n}
    assert drawn_first == {"train_loss", "val_loss"}  # one plot: the loss per epoch
    plots.refresh()
    plots.refresh()
    assert all(calls[name] == 1 for name in ("train_loss", "train_metric", "val_metric", "lr"))
    plots.add_epoch(epoch(2))
    plots.refresh(everything=True)
    assert all(calls[name] == 2 for name in ("train_loss", "val_loss", "train_metric", "val_metric", "lr"))
    assert plots.point_counts()["train_loss"] == 2


def test_the_x_axes_span_the_whole_run_from_its_start(plots):
    low, high = plots.step_plot.viewRange()[0]
    assert low <= 0 and 1000 <= high < 1050
    low, high = plots.loss_plot.viewRange()[0]
    assert low == pytest.approx(0.5) and high == pytest.approx(10.5)
    plots.add_losses(500, [1.0] * 500)
    plots.refresh()
    assert 1000 <= plots.step_plot.viewRange()[0][1] < 1050  # unchanged by the points


def test_the_loss_range_grows_in_round_steps_not_with_every_point(plots):
    plots.add_losses(10, [2.3, 2.1, 1.9, 1.7, 1.6, 1.5, 1.4, 1.3, 1.2, 1.1])
    plots.refresh()
    first = plots.step_plot.viewRange()[1]
    assert first[0] <= 0 and 2.5 <= first[1] < 2.7  # 0 to 2.5: the round number above 2.3
    plots.add_losses(20, [1.0, 0.9, 0.8, 2.4, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2])
    plots.refresh()
    assert plots.step_plot.viewRange()[1] == first  # nothing above 2.5: the axis holds still
    plots.add_losses(21, [3.1])
    plots.refresh()
    assert 5.0 <= plots.step_plot.viewRange()[1][1] < 5.3


@pytest.mark.parametrize(
    ("value", "expected"),
    [(2.3, 2.5), (0.07, 0.1), (1.0, 1.0), (4.2, 5.0), (5.1, 10.0), (130.0, 200.0), (0.0012, 0.002)],
)
def test_nice_ceiling_is_the_next_round_number(value, expected):
    assert nice_ceiling(value) == pytest.approx(expected)


def test_the_grid_lines_sit_on_the_axis_ticks(plots):
    plots.add_losses(1000, [0.5] * 1000)
    plots.refresh(everything=True)
    grid = plots.grids[0]
    low, high = plots.step_plot.viewRange()[0]
    ticks = grid._major_ticks("bottom", low, high)
    axis = plots.step_plot.getAxis("bottom")
    assert ticks and ticks == [float(v) for v in axis.tickValues(low, high, axis.geometry().width())[0][1]]


def test_no_full_collection_while_a_thread_is_held_nor_when_it_ends(qtbot, monkeypatch):
    collector = MainThreadGarbageCollector()
    collected: list[int] = []
    monkeypatch.setattr(gc, "collect", lambda generation=2: collected.append(generation) or 0)
    monkeypatch.setattr(gc, "get_count", lambda: (10_000, 10_000, 10_000))
    was_enabled = gc.isenabled()
    collector.hold()
    try:
        assert not gc.isenabled()  # no automatic collection on a worker thread
        collector.collect()
        assert collected == [1]  # the oldest generation is due, yet left alone during the run
    finally:
        collector.release()
    assert collected == [1]  # no forced full collection when the run ends either: Python's rule takes over
    assert gc.isenabled() == was_enabled


def test_epoch_ticks_are_whole_and_thin_out_where_labels_would_not_fit(plots):
    axis = plots.loss_plot.getAxis("bottom")
    wide = axis.tickValues(0.5, 12.5, 600)
    assert wide[0][1] == [float(e) for e in range(1, 13)]
    narrow = axis.tickValues(0.5, 12.5, 150)
    assert narrow[0][0] > 1 and all(v.is_integer() for v in narrow[0][1])


def drawn_labels(axis) -> list[str]:
    """The tick labels the axis draws (pyqtgraph leaves out a label too wide for the axis)."""
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [text for _, _, text in specs[2]] if specs else []


@pytest.mark.parametrize("rate", [0.001, 3e-4, 0.0015, 0.1])
def test_the_learning_rate_axis_labels_small_rates_readably(plots, qtbot, rate):
    for n in range(1, 4):
        plots.add_epoch({**epoch(n), "learning_rate": rate})
    plots.refresh(everything=True)
    qtbot.waitUntil(lambda: plots.lr_plot.getAxis("left").geometry().height() > 50)
    labels = drawn_labels(plots.lr_plot.getAxis("left"))
    nonzero = [label for label in labels if label != "0"]
    assert len(nonzero) >= 2, labels  # at Adam's default the axis once showed only "0"
    assert len(set(labels)) == len(labels)
    assert all(float(label) > 0 for label in nonzero)


@pytest.mark.parametrize(
    ("value", "text"), [(0.0, "0"), (0.001, "1e-3"), (0.00025, "2.5e-4"), (0.05, "0.05"), (2.5, "2.5"), (3e5, "3e5")]
)
def test_compact_numbers_stay_short(value, text):
    assert compact_number(value) == text

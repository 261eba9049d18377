"""What drawing a regression run's predicted-against-true scatter (the Fit tab) and a classifier's ROC and
precision-recall curves (the ROC · PR tab) cost the window's event loop, once the predictions are loaded.

The Fit tab draws its points with one ScatterPlotItem, at most MAX_POINTS of them (picked at random; the figures
count all). The baseline, measured in the same run, is the first way it was written: every value as a symbol of
a PlotDataItem, whose points are laid out again at each change of the plot's range. Each figure is the median of
a few rounds, from handing over the predictions until the view has been painted. The ROC · PR line is the time to
choose a class (its curves from `training/curves.one_vs_rest`, drawn in both plots) for a validation part the
size of MNIST's (12,000 samples, 10 classes).
Run: `.venv/bin/python benchmarks/bench_fit_view.py`.
"""

from __future__ import annotations

import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QApplication

from netbuilder.training.predict import Predictions
from netbuilder.ui.training.fit_view import FitView
from netbuilder.ui.training.roc_pr_view import RocPrView

ROUNDS = 5
# each round another run's values, on another scale: the plot's range changes, as it does for a new run
SCALES = [1.0 + 0.25 * round_ for round_ in range(ROUNDS)]
SIZES = ((12_000, 1), (359, 64), (2_000, 64))  # (samples, outputs): MNIST-sized; the digits autoencoder; larger


def median_ms(app: QApplication, draw, widget) -> float:
    times = []
    for round_ in range(ROUNDS):
        start = time.perf_counter()
        draw(round_)
        app.processEvents()
        widget.grab()  # painted
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def baseline_scatter(item: pg.PlotDataItem, true: np.ndarray, predicted: np.ndarray) -> None:
    """Every value as a symbol of a PlotDataItem made once, the ranges set after the data (as first written)."""
    x, y = true.reshape(-1), predicted.reshape(-1)
    item.setData(x, y)
    low, high = float(min(x.min(), y.min())), float(max(x.max(), y.max()))
    plot = item.getViewBox()
    plot.setXRange(low, high, padding=0.04)
    plot.setYRange(low, high, padding=0.04)


def main() -> None:
    app = QApplication.instance() or QApplication([])
    rng = np.random.default_rng(0)
    baseline_view = pg.PlotWidget()
    baseline_item = baseline_view.getPlotItem().plot(pen=None, symbol="o", symbolSize=4, symbolPen=None)
    fit = FitView()
    for widget in (baseline_view, fit):
        widget.resize(900, 360)
        widget.show()
    app.processEvents()
    for samples, outputs in SIZES:
        true = rng.normal(size=(samples, outputs))
        predicted = true + rng.normal(size=true.shape) * 0.3
        before = median_ms(
            app,
            lambda r, true=true, predicted=predicted: baseline_scatter(
                baseline_item, true * SCALES[r], predicted * SCALES[r]
            ),
            baseline_view,
        )

        def draw_fit(r: int, true: np.ndarray = true, predicted: np.ndarray = predicted) -> None:
            fit.predictions = None  # drawn afresh, as a new run's predictions are
            fit.set_predictions(
                Predictions(
                    np.arange(len(true)),
                    "regression",
                    (),
                    predicted=predicted * SCALES[r],
                    true=true * SCALES[r],
                    part_size=len(true),
                )
            )

        now = median_ms(app, draw_fit, fit)
        print(
            f"{samples:>6,} samples x {outputs:>2} outputs ({true.size:>7,} values): every value as a PlotDataItem "
            f"{before:7.1f} ms (baseline), the Fit tab ({fit.drawn:,} drawn) {now:6.1f} ms (ratio {now / before:.3f})"
        )

    samples, classes = 12_000, 10
    true = rng.integers(0, classes, samples)
    scores = rng.random((samples, classes)) + np.eye(classes)[true] * rng.random((samples, 1))
    probabilities = scores / scores.sum(axis=1, keepdims=True)
    roc_pr = RocPrView()
    roc_pr.resize(900, 360)
    roc_pr.show()
    roc_pr.set_predictions(
        Predictions(
            np.arange(samples),
            "classification",
            (),
            predicted=probabilities.argmax(axis=1),
            true=true,
            probabilities=probabilities,
            part_size=samples,
        )
    )
    app.processEvents()
    chosen = iter(range(10 * ROUNDS))
    ms = median_ms(app, lambda _: roc_pr.show_class(next(chosen) % classes), roc_pr)
    print(f"ROC · PR: choosing one of {classes} classes over {samples:,} samples {ms:.1f} ms")


if __name__ == "__main__":
    main()

"""What each epoch's confusion matrix costs the window's event loop while a classification run trains.

The Classes tab gets a matrix after every epoch. Drawn at once (the matrix's image, its cell texts, the per-class
table and a repaint) it takes tens of milliseconds of the event loop; a matrix that comes while the tab is not in
view (the Curves tab is looked at during a run) waits until the tab is shown. Measured in the same run: the tab in
view (drawing every epoch, the baseline) against the tab out of view, for 10 and for 100 classes, medians of
the time from `set_confusion` through the events it causes.
Run: `.venv/bin/python benchmarks/bench_class_figures.py`.
"""

from __future__ import annotations

import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtWidgets import QApplication

from netbuilder.ui.training.plots import TrainingPlots

EPOCHS = 30


def per_epoch_ms(app: QApplication, plots: TrainingPlots, classes: int, seed: int) -> float:
    """Median milliseconds of one epoch's matrix, from set_confusion until its events are handled."""
    rng = np.random.default_rng(seed)
    names = [f"class {i}" for i in range(classes)]
    times = []
    for _ in range(EPOCHS):
        matrix = rng.integers(0, 40, (classes, classes)).tolist()
        start = time.perf_counter()
        plots.set_confusion(matrix, names)
        app.processEvents()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    app = QApplication.instance() or QApplication([])
    plots = TrainingPlots()
    plots.resize(900, 220)
    plots.show()
    page = plots.classes_page
    page.resize(900, 220)
    for classes in (10, 100):
        page.show()  # the tab in view: drawn every epoch (the baseline)
        app.processEvents()
        shown = per_epoch_ms(app, plots, classes, seed=classes)
        page.hide()  # the Curves tab in view: kept until the Classes tab is looked at
        app.processEvents()
        hidden = per_epoch_ms(app, plots, classes, seed=classes)
        print(
            f"{classes:>3} classes: in view {shown:7.2f} ms an epoch (baseline), out of view {hidden:6.3f} ms "
            f"(ratio {hidden / shown:.4f})"
        )


if __name__ == "__main__":
    main()

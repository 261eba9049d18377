"""A click on a confusion-matrix cell (true A, predicted B) opens the Predict tab showing only those samples, with a
chip that says so and clears it; the cell says what it counts under the pointer."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from tests.ui.conftest import forget_changes
from tests.ui.test_predict_panel import DIGITS_VALIDATION, wait_for_predictions
from tests.ui.test_training_dock import set_up, train, wait_until_done

pytestmark = pytest.mark.usefixtures("no_thread_left_running")

LEFT = Qt.MouseButton.LeftButton


def show_classes_tab(qtbot, panel) -> None:
    """Click the Classes tab, as a person would."""
    tabs = panel.plot_tabs
    bar = tabs.tabBar()
    qtbot.mouseClick(bar, LEFT, pos=bar.tabRect(tabs.indexOf(panel.plots.classes_page)).center())
    assert tabs.currentWidget() is panel.plots.classes_page


def test_a_cell_click_filters_the_predict_tab_to_its_samples_until_the_chip_is_cleared(window, qtbot):
    set_up(window, epochs=1)
    heard = train(qtbot, window)
    wait_until_done(qtbot, window, heard)
    panel = window.training
    tabs = panel.plot_tabs
    show_classes_tab(qtbot, panel)
    view = panel.plots.confusion_view
    qtbot.waitUntil(lambda: view.isVisible() and view.plot.vb.sceneBoundingRect().width() > 50)

    matrix = panel.plots.confusion_matrix
    off_diagonal = matrix - np.diag(np.diag(matrix))
    true, predicted = (int(i) for i in np.unravel_index(off_diagonal.argmax(), matrix.shape))
    count = int(matrix[true, predicted])
    assert count > 0, "one epoch leaves some digits wrong"
    centre = view.plot.vb.mapViewToScene(QPointF(predicted + 0.5, true + 0.5))
    assert view.cell_at(centre) == (true, predicted)
    samples = "1 sample" if count == 1 else f"{count} samples"
    assert view.cell_words(true, predicted).startswith(f"True {true}, predicted {predicted}: {samples}.")

    qtbot.mouseClick(view.viewport(), LEFT, pos=view.mapFromScene(centre))
    predict = panel.predict_panel
    assert tabs.currentWidget() is predict
    wait_for_predictions(qtbot, predict)
    rows = predict.model.rows
    assert len(rows) == count  # the samples the matrix counted, each of them true A, predicted B
    assert all(int(predict.predictions.true[s]) == true for s in rows)
    assert all(int(predict.predictions.predicted[s]) == predicted for s in rows)
    assert predict.cell_chip.isVisible()
    assert predict.cell_chip.text.text() == f"true {true}, predicted {predicted} · {samples}"
    assert predict.current_sample == rows[0] and f"(1 of {count})" in predict.position.text()

    qtbot.mouseClick(predict.cell_chip.clear_button, LEFT)
    assert not predict.cell_chip.isVisible()
    assert predict.model.rowCount() == DIGITS_VALIDATION

    # "Only wrong ones" and a cell do not combine: the latest wins
    panel.show_cell_samples(true, true)
    assert predict.cell_chip.isVisible() and predict.model.rowCount() == int(matrix[true, true])
    qtbot.mouseClick(predict.wrong_only, LEFT)
    assert not predict.cell_chip.isVisible()
    assert predict.model.rowCount() == int((~predict.predictions.correct).sum())


def test_a_project_opened_again_shows_its_last_runs_matrix_and_figures(window, qtbot, project_path):
    set_up(window, epochs=1)
    train(qtbot, window)
    wait_until_done(qtbot, window)
    matrix = window.training.plots.confusion_matrix.copy()
    forget_changes(window)
    assert window.open_path(project_path)
    window.training_dock.raise_()
    panel = window.training
    qtbot.waitUntil(lambda: panel.plots is not None)
    assert (panel.plots.confusion_matrix == matrix).all()
    page = panel.plots.classes_page
    assert page.currentWidget() is page.content
    show_classes_tab(qtbot, panel)  # drawn when looked at
    assert page.table.report["support"] == int(matrix.sum()) and len(page.table.shown_rows()) == 10 + 2

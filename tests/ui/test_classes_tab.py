"""The Classes tab follows the run: each epoch's confusion matrix and per-class figures while it trains, and a
stopped run's last ones once it has stopped (the issue: pressing Stop showed no matrix)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from netbuilder.ui.training.class_figures import ClassFiguresPage
from tests.ui.test_confusion_cell import show_classes_tab
from tests.ui.test_predict_panel import DIGITS_VALIDATION
from tests.ui.test_training_dock import TIMEOUT_MS, set_up, train, wait_until_done

pytestmark = pytest.mark.usefixtures("no_thread_left_running")


def test_the_matrix_and_figures_follow_each_epoch_and_stop_keeps_the_last(window, qtbot):
    set_up(window, epochs=200)
    panel = window.training
    heard = train(qtbot, window)
    page = panel.plots.classes_page
    assert page.currentWidget() is page.message  # a new run: nothing until its first epoch is evaluated
    show_classes_tab(qtbot, panel)  # looked at while it trains
    qtbot.waitUntil(lambda: len(heard.epochs) >= 2, timeout=TIMEOUT_MS)
    assert panel.is_running
    assert page.currentWidget() is page.content
    assert (panel.plots.confusion_matrix == np.array(heard.epochs[-1].confusion)).all()
    assert page.table.report["support"] == DIGITS_VALIDATION
    assert page.table.report == heard.epochs[-1].report  # the engine's figures are the window's
    top5 = heard.epochs[-1].val_metrics["top5_accuracy"]  # ten digits: more than 5 classes
    assert f"(top-5 {top5:.1%})" in page.table.accuracy.text()

    qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    wait_until_done(qtbot, window, heard)
    end = heard.finished[0]
    assert end.status == "stopped" and end.confusion == heard.epochs[-1].confusion
    assert page.currentWidget() is page.content
    assert (panel.plots.confusion_matrix == np.array(end.confusion)).all()
    assert f"(top-5 {heard.epochs[-1].val_metrics['top5_accuracy']:.1%})" in page.table.accuracy.text()
    assert panel.history.records[-1].confusion == end.confusion


def test_a_matrix_that_comes_while_the_tab_is_not_looked_at_is_drawn_when_it_is(qtbot):
    page = ClassFiguresPage()
    qtbot.addWidget(page)
    page.set_matrix([[3, 1], [0, 4]], ("no", "yes"))  # hidden: kept for later, not drawn
    assert page.confusion_view.matrix is None and page.table.report is None
    assert page.matrix.tolist() == [[3, 1], [0, 4]]
    page.resize(600, 220)
    page.show()
    qtbot.waitExposed(page)
    assert page.confusion_view.matrix.tolist() == [[3, 1], [0, 4]]
    assert page.table.report["accuracy"] == 7 / 8


@pytest.mark.parametrize("classes", [2, 10, 100])
def test_the_averages_are_in_view_without_scrolling_at_the_docks_default_height(window, qtbot, classes):
    """Ten digits at the dock's first height used to push the averages below the fold; now they stay in a
    footer under the classes, which scroll when there are more than fit, and with few classes sit under them."""
    panel = window.training
    show_classes_tab(qtbot, panel)
    page = panel.plots.classes_page
    rng = np.random.default_rng(0)
    matrix = rng.integers(0, 5, (classes, classes)) + np.diag(rng.integers(20, 40, classes))
    page.set_matrix(matrix.tolist(), tuple(f"class {i}" for i in range(classes)))
    qtbot.waitUntil(lambda: page.table.report is not None)
    table = page.table
    assert window.training_dock.height() <= 300  # the dock as it first opens (TRAINING_DOCK_HEIGHT)

    def in_view(widget) -> bool:
        corners = (widget.rect().topLeft(), widget.rect().bottomRight())
        return widget.isVisible() and all(page.rect().contains(widget.mapTo(page, c)) for c in corners)

    qtbot.waitUntil(lambda: in_view(table.averages))  # once the layout has settled
    assert in_view(table.accuracy) and in_view(table.view)
    for row in range(2):  # each average's row whole inside its table, with no scrolling
        rect = table.averages.visualRect(table.averages_proxy.index(row, 0))
        assert table.averages.viewport().rect().contains(rect)
    assert [row[0] for row in table.shown_rows()[-2:]] == ["macro average", "weighted average"]
    view = table.view
    header, footer = view.geometry(), table.averages.geometry()
    assert footer.top() >= header.bottom()  # under the classes, never over them
    last = view.visualRect(table.proxy.index(classes - 1, 0))
    if classes == 2:  # few classes: all in view, the averages right under them
        assert view.viewport().rect().contains(last) and footer.top() - header.bottom() <= 2
    else:  # many: the classes scroll, the last reached by scrolling
        assert view.verticalScrollBar().maximum() > 0

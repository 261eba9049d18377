"""The Classes tab's table: each class's precision, recall, F1 and support from the matrix shown (the figures of
classification_report), sortable by any column with the averages kept at the bottom, and the accuracy above."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt

from netbuilder.codegen.class_report import classification_report
from netbuilder.ui.training.class_figures import ClassFiguresPage, ClassFiguresTable

MATRIX = [
    [5, 1, 0],  # cat: recall 5/6
    [2, 7, 1],  # dog: recall 7/10
    [0, 0, 4],  # fox: recall 1, precision 4/5
]
NAMES = ("cat", "dog", "fox")


@pytest.fixture
def table(qtbot):
    widget = ClassFiguresTable()
    qtbot.addWidget(widget)
    widget.resize(420, 240)
    widget.show()
    widget.set_matrix(MATRIX, NAMES)
    return widget


def click_header(qtbot, table: ClassFiguresTable, column: int) -> None:
    header = table.view.horizontalHeader()
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, 5))


def test_the_table_shows_the_reports_figures_for_each_named_class_and_the_averages_below(table):
    report = classification_report(MATRIX)
    rows = table.shown_rows()
    assert [row[0] for row in rows] == ["cat", "dog", "fox", "macro average", "weighted average"]
    for row, figures in zip(rows, report["classes"], strict=False):
        assert row[1:] == (
            f"{figures['precision']:.3f}",
            f"{figures['recall']:.3f}",
            f"{figures['f1']:.3f}",
            str(figures["support"]),
        )
    assert rows[1][2] == "0.700" and rows[2][1] == "0.800"
    assert rows[3][1:4] == tuple(f"{report['macro'][k]:.3f}" for k in ("precision", "recall", "f1"))
    assert rows[4][1:4] == tuple(f"{report['weighted'][k]:.3f}" for k in ("precision", "recall", "f1"))
    assert rows[3][4] == rows[4][4] == "20"
    assert table.accuracy.text() == "Validation accuracy 80.0% of 20 samples"


def test_sorting_by_a_column_either_way_keeps_the_averages_at_the_bottom(table, qtbot):
    click_header(qtbot, table, 2)  # recall, ascending
    assert [row[0] for row in table.shown_rows()] == ["dog", "cat", "fox", "macro average", "weighted average"]
    click_header(qtbot, table, 2)  # recall, descending
    assert [row[0] for row in table.shown_rows()] == ["fox", "cat", "dog", "macro average", "weighted average"]
    click_header(qtbot, table, 4)  # support
    assert [row[0] for row in table.shown_rows()][:3] == ["fox", "cat", "dog"]
    click_header(qtbot, table, 0)  # back to the classes' own order
    assert [row[0] for row in table.shown_rows()][:3] == ["cat", "dog", "fox"]


def test_a_new_matrix_replaces_the_figures_and_a_new_run_clears_them(qtbot):
    page = ClassFiguresPage()
    qtbot.addWidget(page)
    page.resize(700, 240)
    page.show()
    assert page.currentWidget() is page.message
    page.set_matrix(MATRIX, NAMES)
    assert page.currentWidget() is page.content
    page.set_matrix([[3, 0], [0, 1]], ("no", "yes"))
    assert [row[0] for row in page.table.shown_rows()] == ["no", "yes", "macro average", "weighted average"]
    assert page.table.accuracy.text() == "Validation accuracy 100.0% of 4 samples"
    page.set_matrix(MATRIX, NAMES, top5=0.95)  # told by the evaluation where there are more than 5 classes
    assert page.table.accuracy.text() == "Validation accuracy 80.0% (top-5 95.0%) of 20 samples"
    page.clear()
    assert page.currentWidget() is page.message and page.table.shown_rows() == []


def test_the_next_epochs_figures_keep_the_order_chosen_and_sort_again(table, qtbot):
    click_header(qtbot, table, 2)  # recall, ascending: dog 0.7, cat 0.83, fox 1
    table.set_matrix([[2, 4, 0], [0, 10, 0], [0, 1, 3]], NAMES)  # now cat 1/3, fox 3/4, dog 1
    assert [row[0] for row in table.shown_rows()] == ["cat", "fox", "dog", "macro average", "weighted average"]
    assert table.shown_rows()[0][2] == "0.333"


def test_widening_the_class_column_widens_the_averages_under_it(table):
    header = table.view.horizontalHeader()
    header.resizeSection(0, header.sectionSize(0) + 40)  # as a drag on the header's edge does
    assert table.averages.columnWidth(0) == header.sectionSize(0)
    assert table.averages.width() == table.view.width()

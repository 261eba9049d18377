"""The Training dock's Classes tab: the confusion matrix and beside it a sortable table of each class's precision,
recall, F1 and support, the macro and weighted averages in a footer under it that stays in view whatever the order
and however many classes scroll above it, and the accuracy above it.

The figures are `classification_report` of the matrix the dock shows (the one function train.py carries too), so
the table and the exported script never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QStackedWidget,
    QStyle,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from netbuilder.codegen.class_report import classification_report
from netbuilder.ui.training.confusion_view import ConfusionView

COLUMNS = ("class", "precision", "recall", "F1", "support")
FIGURES = ("precision", "recall", "f1")
ROW_PADDING = 2  # pixels of a row beyond the font's height: ten classes and the averages fit the dock's height
ACCURACY_GAP = 2  # pixels between the accuracy line and the table
MAX_NAME_WIDTH = 160  # a longer class name is cut short (whole in its tooltip)
MIN_MATRIX_WIDTH = 120  # the matrix gives way to the table down to this
SORT_ROLE = Qt.ItemDataRole.UserRole  # the value a column sorts by: the class's number, or the figure itself
COLUMN_TIPS = (
    "The class, as the dataset names it",
    "Of the samples predicted as this class, the share that are",
    "Of the samples of this class, the share predicted as it",
    "The harmonic mean of precision and recall",
    "How many validation samples are of this class",
)


class ClassFiguresModel(QAbstractTableModel):
    """One row per class (name, precision, recall, F1, support), then the macro and the weighted average."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[tuple[str, float, float, float, int]] = []
        self.classes = 0  # the rows before this are classes; the rest are the averages

    def set_report(self, report: dict | None, class_names: Sequence[str]) -> bool:
        """Show `classification_report`'s figures (None: none). True when the rows are the same classes as
        before, whose figures alone changed (each epoch's): the rows stay, so the view keeps its layout."""
        rows = []
        if report is not None:
            classes = report["classes"]
            names = list(class_names) if len(class_names) == len(classes) else [str(i) for i in range(len(classes))]
            for name, row in zip(names, classes, strict=True):
                rows.append((name, *(row[key] for key in FIGURES), row["support"]))
            for label, key in (("macro average", "macro"), ("weighted average", "weighted")):
                rows.append((label, *(report[key][f] for f in FIGURES), report["support"]))
        same = bool(rows) and [row[0] for row in rows] == [row[0] for row in self.rows]
        if same:
            self.rows = rows
            self.dataChanged.emit(self.index(0, 1), self.index(len(rows) - 1, len(COLUMNS) - 1))
            return True
        self.beginResetModel()
        self.rows = rows
        self.classes = len(rows) - 2 if rows else 0
        self.endResetModel()
        return False

    def is_average(self, row: int) -> bool:
        return row >= self.classes

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMN_TIPS[section] + (" (click to sort)" if section else " (click to sort in class order)")
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        values = self.rows[row]
        if role == Qt.ItemDataRole.DisplayRole:
            value = values[column]
            return value if column == 0 else f"{value:,}" if column == 4 else f"{value:.3f}"
        if role == SORT_ROLE:
            return row if column == 0 else values[column]
        if role == Qt.ItemDataRole.TextAlignmentRole and column:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and self.is_average(row):
            font = QFont()
            font.setItalic(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole and column == 0:
            return values[0]  # a long class name is cut short in its column
        return None


class RowsProxy(QSortFilterProxyModel):
    """The classes' rows, sorted by the column clicked, or (`averages`) the two averages alone, in their order."""

    def __init__(self, *, averages: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.averages = averages

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        return self.sourceModel().is_average(source_row) == self.averages


class ClassFiguresTable(QWidget):
    """The accuracy, the sortable per-class table of one confusion matrix and under it, always in view, its
    averages; `set_matrix` shows one, `clear` none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.report: dict | None = None
        self.accuracy = QLabel()
        self.accuracy.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.accuracy.setForegroundRole(QPalette.ColorRole.Text)
        self.model = ClassFiguresModel(self)
        self.proxy = RowsProxy(averages=False, parent=self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.view = self._table(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.view.setAlternatingRowColors(True)
        header = self.view.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)  # a long class name can be widened
        header.sectionResized.connect(self._follow_column)
        # the averages: a table of their own under the classes' rows, its columns those of the table above,
        # so that however many classes scroll there, the averages stay in view
        self.averages_proxy = RowsProxy(averages=True, parent=self)
        self.averages_proxy.setSourceModel(self.model)
        self.averages = self._table(self.averages_proxy)
        self.averages.horizontalHeader().hide()
        self.averages.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.averages.setToolTip("The classes' figures averaged: each class alike (macro), or by its support")

        self.accuracy.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.accuracy)
        layout.addSpacing(ACCURACY_GAP)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.averages)

    def _table(self, model: RowsProxy) -> QTableView:
        """A table of the figures, its rows as tight as the font allows, its columns sized by `_fit_columns`."""
        view = QTableView()
        view.setModel(model)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        view.verticalHeader().hide()
        view.verticalHeader().setMinimumSectionSize(1)
        view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + ROW_PADDING)
        view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        view.horizontalHeader().setStretchLastSection(False)
        return view

    def _fit_columns(self) -> None:
        """Each column as wide as its widest text among the classes, the averages and the header (a class's
        name up to MAX_NAME_WIDTH); the table as wide as its columns, so a wide dock leaves room beside it
        rather than a stretched gap between a class's name and its figures."""
        header = self.view.horizontalHeader()
        for column in range(len(COLUMNS)):
            width = max(
                self.view.sizeHintForColumn(column),
                self.averages.sizeHintForColumn(column),
                header.sectionSizeHint(column),
            )
            header.resizeSection(column, min(MAX_NAME_WIDTH, width) if column == 0 else width)
        self._fit_heights()

    def _follow_column(self, column: int, _old: int, new: int) -> None:
        """A column widened or narrowed (by hand too) widens or narrows the averages' column under it."""
        self.averages.setColumnWidth(column, new)
        scrollbar = self.view.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        width = self.view.horizontalHeader().length() + 2 * self.view.frameWidth() + scrollbar + 2
        self.view.setFixedWidth(width)
        self.averages.setFixedWidth(width)
        self.setMinimumWidth(width)

    def _fit_heights(self) -> None:
        """The averages' height is theirs; the classes' table shrinks to its rows when they are few (the
        averages follow right under them, the height left stays below) and scrolls when they are many, never
        below a couple of rows."""
        row = self.view.verticalHeader().defaultSectionSize()
        frame = 2 * self.view.frameWidth()
        self.averages.setFixedHeight(self.averages_proxy.rowCount() * row + frame)
        header = self.view.horizontalHeader().sizeHint().height()
        self.view.setMinimumHeight(header + min(2, self.proxy.rowCount()) * row + frame)
        self.view.setMaximumHeight(header + self.proxy.rowCount() * row + frame)
        # the whole no taller than its parts at their tallest (a box layout would spread the height left
        # between them): the page puts it at the top
        parts = self.accuracy.sizeHint().height() + ACCURACY_GAP + self.view.maximumHeight() + self.averages.height()
        self.setMaximumHeight(parts)

    def set_matrix(
        self, matrix: Sequence[Sequence[int]], class_names: Sequence[str], top5: float | None = None
    ) -> None:
        """The figures of this confusion matrix (rows: true class; columns: predicted), and the top-5 accuracy
        of the same evaluation where there are more than 5 classes (the matrix cannot tell it)."""
        self.report = classification_report([[int(count) for count in row] for row in matrix])
        if not self.model.set_report(self.report, class_names):  # new classes: the columns fitted to them
            self._fit_columns()
        top = f" (top-5 {top5:.1%})" if top5 is not None else ""
        self.accuracy.setText(
            f"Validation accuracy {self.report['accuracy']:.1%}{top} of {self.report['support']:,} samples"
        )

    def clear(self) -> None:
        self.report = None
        self.model.set_report(None, ())
        self._fit_heights()
        self.accuracy.setText("")

    def shown_rows(self) -> list[tuple[str, str, str, str, str]]:
        """The table's text, top to bottom, as a person reads it: the classes, then the averages."""
        return [
            tuple(proxy.index(r, c).data() for c in range(len(COLUMNS)))
            for proxy in (self.proxy, self.averages_proxy)
            for r in range(proxy.rowCount())
        ]


NO_MATRIX = (
    "The confusion matrix and each class's precision, recall and F1 appear here after the first epoch of a "
    "classification run with a validation part."
)


class ClassFiguresPage(QStackedWidget):
    """The matrix, square and as tall as the page, with the table beside it; words until there is a matrix.

    A matrix that comes while the page is not in view (each epoch's, while the Curves tab is looked at) waits
    until it is: drawing one costs tens of milliseconds the window's event loop cannot spare during a run."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message = QLabel(NO_MATRIX)
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setMargin(12)
        self.confusion_view = ConfusionView()
        self.table = ClassFiguresTable()
        content = QWidget()
        layout = QHBoxLayout(content)
        layout.setContentsMargins(2, 2, 6, 2)
        layout.setSpacing(8)
        layout.addWidget(self.confusion_view)
        # at the top, as tall as the page or as its rows when they are fewer (it expands up to its maximum)
        self.table.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        layout.addWidget(self.table, 0, Qt.AlignmentFlag.AlignTop)
        layout.addStretch(1)
        self.content = content
        self.addWidget(self.message)
        self.addWidget(content)
        self._waiting: tuple[Sequence[Sequence[int]], Sequence[str], float | None] | None = None

    def set_matrix(
        self, matrix: Sequence[Sequence[int]], class_names: Sequence[str], top5: float | None = None
    ) -> None:
        """Show this confusion matrix and its figures (rows: true class; columns: predicted), now if the page
        is in view, else when it comes into view."""
        shape = np.shape(matrix)
        if len(shape) != 2 or shape[0] != shape[1] or shape[0] == 0:
            return
        self._waiting = (matrix, class_names, top5)
        self.setCurrentWidget(self.content)
        if self.isVisible():
            self._draw_waiting()

    def clear(self) -> None:
        """A new run: no matrix until its first epoch has been evaluated."""
        self._waiting = None
        self.confusion_view.clear_matrix()
        self.table.clear()
        self.setCurrentWidget(self.message)

    @property
    def matrix(self) -> np.ndarray | None:
        """The counts shown, or to be shown when the page comes into view; None before any."""
        if self._waiting is not None:
            return np.asarray(self._waiting[0], dtype=float)
        return self.confusion_view.matrix

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._draw_waiting()

    def _draw_waiting(self) -> None:
        if self._waiting is None:
            return
        matrix, class_names, top5 = self._waiting
        self._waiting = None
        self.confusion_view.set_matrix(matrix, class_names)
        self.table.set_matrix(matrix, class_names, top5)
        self._share_width()  # the table's columns may have widened

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._share_width()

    def _share_width(self) -> None:
        """The matrix is square, as wide as it is tall (plus its axis), but leaves the table its columns' width
        (down to MIN_MATRIX_WIDTH): in a narrow dock the matrix gives way rather than the table's figures."""
        margins = self.content.layout().contentsMargins()
        room = self.width() - self.table.minimumWidth() - self.content.layout().spacing()
        room -= margins.left() + margins.right()
        self.confusion_view.setFixedWidth(max(MIN_MATRIX_WIDTH, min(self.height() + 24, room)))

"""The Training dock's Classes tab: the confusion matrix and beside it a sortable table of each class's precision,
recall, F1 and support, the macro and weighted averages kept at the bottom whatever the order, and the accuracy
above it.

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
MAX_NAME_WIDTH = 160  # a longer class name is cut short (whole in its tooltip)
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


class AveragesLastProxy(QSortFilterProxyModel):
    """Sorts the classes by the column clicked and keeps the averages below them, in their own order, whichever
    way the sort runs (Qt sorts descending by reading lessThan backwards, so the rule turns with it)."""

    def lessThan(self, left: QModelIndex | QPersistentModelIndex, right: QModelIndex | QPersistentModelIndex) -> bool:
        model: ClassFiguresModel = self.sourceModel()
        left_average, right_average = model.is_average(left.row()), model.is_average(right.row())
        descending = self.sortOrder() == Qt.SortOrder.DescendingOrder
        if left_average or right_average:
            if left_average and right_average:
                first = left.row() < right.row()
            else:
                first = right_average  # the class comes first
            return first != descending
        return super().lessThan(left, right)


class ClassFiguresTable(QWidget):
    """The accuracy and the sortable per-class table of one confusion matrix; `set_matrix` shows one, `clear`
    none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.report: dict | None = None
        self.accuracy = QLabel()
        self.accuracy.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.model = ClassFiguresModel(self)
        self.proxy = AveragesLastProxy(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 4)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)  # fitted in set_matrix, up to a limit
        header.setStretchLastSection(False)
        header.setHighlightSections(False)
        header.sectionResized.connect(self._fit_width)
        self.accuracy.setForegroundRole(QPalette.ColorRole.Text)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.accuracy)
        layout.addWidget(self.view, 1)

    def _fit_width(self, *_: object) -> None:
        """As wide as its columns (class names up to MAX_NAME_WIDTH): a wide dock leaves room beside it
        rather than a stretched gap between a class's name and its figures."""
        header = self.view.horizontalHeader()
        scrollbar = self.view.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        self.view.setFixedWidth(header.length() + 2 * self.view.frameWidth() + scrollbar + 2)

    def set_matrix(
        self, matrix: Sequence[Sequence[int]], class_names: Sequence[str], top5: float | None = None
    ) -> None:
        """The figures of this confusion matrix (rows: true class; columns: predicted), and the top-5 accuracy
        of the same evaluation where there are more than 5 classes (the matrix cannot tell it)."""
        self.report = classification_report([[int(count) for count in row] for row in matrix])
        if not self.model.set_report(self.report, class_names):  # new classes: their names' column fitted
            self.view.resizeColumnToContents(0)
            header = self.view.horizontalHeader()
            header.resizeSection(0, min(MAX_NAME_WIDTH, header.sectionSize(0)))
            self._fit_width()
        top = f" (top-5 {top5:.1%})" if top5 is not None else ""
        self.accuracy.setText(
            f"Validation accuracy {self.report['accuracy']:.1%}{top} of {self.report['support']:,} samples"
        )

    def clear(self) -> None:
        self.report = None
        self.model.set_report(None, ())
        self.accuracy.setText("")

    def shown_rows(self) -> list[tuple[str, str, str, str, str]]:
        """The table's text, top to bottom, as a person reads it."""
        return [tuple(self.proxy.index(r, c).data() for c in range(len(COLUMNS))) for r in range(self.proxy.rowCount())]


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
        layout.addWidget(self.table)
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

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        # the matrix is square: as wide as it is tall (plus its axis), the table takes the rest
        self.confusion_view.setFixedWidth(max(160, min(self.height() + 24, self.width() // 2)))

"""The sweep dialog's table of finished runs: a row per run with the values it tried, its metric and its
status, the best starred and bold; sorted by any column as numbers (RunItem), the best first once a sweep ends."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

from netbuilder.project.run_comparison import best_run, final_value, higher_is_better
from netbuilder.project.run_history import RunRecord
from netbuilder.ui.training.sweep_scales import metric_name, metric_text, value_text


class RunsTable(QTreeWidget):
    """One sweep's finished runs; `targets` are what the sweep sets, in its order: the table's columns."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.targets: list[str] = []
        self.setRootIsDecorated(False)
        self.setAlternatingRowColors(True)
        self.setUniformRowHeights(True)
        self.setSortingEnabled(True)  # by any column, numbers as numbers (RunItem)
        self.setToolTip("Each finished run of this sweep: its values, its metric; ★ marks the best")

    def set_columns(self, targets: list[str], metric_key: str) -> None:
        """A column for the run, each of `targets`, the metric and the status."""
        self.targets = targets
        self.setColumnCount(len(targets) + 3)
        self.setHeaderLabels(["run", *targets, metric_name(metric_key) or "metric", "status"])
        header = self.header()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)

    def show_records(self, records: list[RunRecord], metric_key: str) -> None:
        """The runs so far, the best by `metric_key` marked."""
        best = best_run(records, metric_key) if metric_key else None
        self.setSortingEnabled(False)  # while filling: each item would be sorted in as it comes
        self.clear()
        for record in sorted(records, key=lambda r: (r.sweep or {}).get("index", 0)):
            values = (record.sweep or {}).get("values") or {}
            value = final_value(record, metric_key) if metric_key else None
            halted = (record.sweep or {}).get("halted_at")
            status = f"stopped by halving after epoch {halted}" if halted is not None else record.status
            index = (record.sweep or {}).get("index", 0)
            item = RunItem(
                [
                    f"{'★ ' if record is best else ''}{index + 1}",
                    *(value_text(values.get(t, "")) for t in self.targets),
                    metric_text(metric_key, value) if value is not None else "–",
                    status,
                ]
            )
            keys = [index, *(values.get(t) for t in self.targets), value, status]
            for column, key in enumerate(keys):
                item.setData(column, Qt.ItemDataRole.UserRole, key)
            item.setToolTip(0, record.title)
            for column in range(1, item.columnCount() - 1):
                item.setTextAlignment(column, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if record is best:
                font = item.font(0)
                font.setBold(True)
                for column in range(item.columnCount()):
                    item.setFont(column, font)
                item.setToolTip(0, f"{record.title}: the best run of the sweep by {metric_name(metric_key)}")
            self.addTopLevelItem(item)
        self.setSortingEnabled(True)

    def sort_best_first(self, metric_key: str) -> None:
        """The table by the metric, the best run at the top (once a sweep has ended)."""
        if metric_key:
            order = Qt.SortOrder.DescendingOrder if higher_is_better(metric_key) else Qt.SortOrder.AscendingOrder
            self.sortItems(len(self.targets) + 1, order)


class RunItem(QTreeWidgetItem):
    """A row of the runs table, sorted by the numbers it shows (its UserRole data), not their text; a run
    without the value (a failed one) last."""

    def __lt__(self, other: QTreeWidgetItem) -> bool:
        column = self.treeWidget().sortColumn() if self.treeWidget() is not None else 0
        mine, theirs = self.data(column, Qt.ItemDataRole.UserRole), other.data(column, Qt.ItemDataRole.UserRole)
        if isinstance(mine, int | float) and isinstance(theirs, int | float):
            return mine < theirs
        if (mine is None) != (theirs is None):  # missing values sort after any value, in either order
            ascending = (
                self.treeWidget() is None
                or self.treeWidget().header().sortIndicatorOrder() == Qt.SortOrder.AscendingOrder
            )
            return (mine is not None) == ascending
        return str(mine) < str(theirs)

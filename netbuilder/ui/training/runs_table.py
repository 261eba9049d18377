"""The Runs view's table: one row per run of the project (its star, name, start, status, length, device, key
settings, what its graph differs in from the current one, its final and best figure of the chosen metric, and
its sweep), with a filter over the words a person looks for and sorting by any column, numbers as numbers.

Rows follow `RunHistory.records`; renaming and starring write the record through `RunHistory.update`. The
changes from the current graph are `run_comparison.changes` of the run's project and the project now; the
model is told the current project's dict (`set_current`), once per edit at most, by the view.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QFont

from netbuilder.project.run_comparison import best_run, best_value, changes, final_value, higher_is_better
from netbuilder.project.run_history import RunHistory, RunRecord

SORT_ROLE = Qt.ItemDataRole.UserRole + 1  # the value a column sorts by: numbers as numbers
PLAIN_ROLE = Qt.ItemDataRole.UserRole + 2  # the value the CSV export writes: plain numbers, no units
SEARCH_ROLE = Qt.ItemDataRole.UserRole + 3  # the words the filter box searches (row-wide, on column 0)

# the figures a person compares first stand beside the name; the run's particulars follow
STAR, NAME, STARTED, STATUS, FINAL, BEST, CHANGES, SWEEP, EPOCHS, DURATION, DEVICE, SETTINGS = range(12)
COLUMNS = SETTINGS + 1
HEADERS = {
    STAR: "★",
    NAME: "Name",
    STARTED: "Started",
    STATUS: "Status",
    CHANGES: "Changes from now",
    SWEEP: "Sweep",
    EPOCHS: "Epochs",
    DURATION: "Duration",
    DEVICE: "Device",
    SETTINGS: "Settings",
}
HEADER_TIPS = {
    STAR: "Starred runs keep their weights and checkpoints however many runs follow (click, or Space)",
    NAME: "The run's name (F2 or double-click to rename); its id until it has one",
    SETTINGS: "The run's batch size and seed (the tooltip lists every setting)",
    CHANGES: "What the graph or the settings the run trained differ in from the project now",
    SWEEP: "The sweep the run belongs to and the values it tried; the sweep's best run is marked",
}
SAME_AS_NOW = "same as now"
SHOWN_CHANGES = 2  # changes written in the cell; the tooltip lists them all


def metric_words(metric: str) -> str:
    """A history key as a column title says it: "val_accuracy" -> "val accuracy"."""
    return metric.replace("_", " ").replace("r2", "R²").replace("top5", "top-5")


def metric_text(metric: str, value: float | None) -> str:
    """A metric's value as a cell shows it: accuracies as percentages, the rest in 4 significant digits."""
    if value is None:
        return ""
    if metric.endswith("accuracy"):
        return f"{value:.1%}"
    return f"{value:.4g}"


def duration_words(seconds: float) -> str:
    """'42 s', '3 min 05 s', '1 h 12 min'."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def sweep_words(sweep: dict[str, Any] | None) -> str:
    """'lr=0.01, fc1.out_features=128' (the values the run tried), or '' for a run of no sweep."""
    if not sweep:
        return ""
    return ", ".join(f"{target}={_value_words(value)}" for target, value in sweep.get("values", {}).items())


def _value_words(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


@dataclass
class _Row:
    """A record and what its row shows that costs something to work out: its changes from now, worked out when
    first asked for (the rows in view; a sort or filter by them asks for all) and kept until the current project
    changes."""

    record: RunRecord
    changes: list[str] | None = None
    best_of_sweep: bool = False


class RunsTableModel(QAbstractTableModel):
    """The runs of `history`, oldest first (the proxy sorts them). `refresh()` after the history changed;
    `set_current(project_dict)` when the current project changed; `set_metric` for the metric columns."""

    failed = Signal(str)  # a rename or a star could not be written: the reason, for the status bar

    def __init__(self, history: RunHistory, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.history = history
        self.metric = "val_loss"
        self._current: dict[str, Any] | None = None
        self._rows: list[_Row] = []
        self.refresh()

    # ---- what the model follows ------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the history's records again (a run ended, one was deleted)."""
        self.beginResetModel()
        self._rows = [_Row(record) for record in self.history.records]
        self._mark_best()
        self.endResetModel()

    def set_current(self, project: dict[str, Any] | None) -> None:
        """The project as its file would hold it now: each row's changes are worked out against it again, when
        asked for."""
        self._current = project
        for row in self._rows:
            row.changes = None
        self._changed_column(CHANGES)

    def set_metric(self, metric: str) -> None:
        """The metric the final and best columns show, and by which a sweep's best run is marked."""
        self.metric = metric
        self._mark_best()
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, FINAL, BEST)
        for column in (FINAL, BEST, SWEEP, NAME):
            self._changed_column(column)

    def record(self, row: int) -> RunRecord:
        return self._rows[row].record

    def records(self) -> list[RunRecord]:
        return [row.record for row in self._rows]

    def row_of(self, run_id: str) -> int:
        return next((i for i, row in enumerate(self._rows) if row.record.run_id == run_id), -1)

    def changes_of(self, row: int) -> list[str]:
        return self._changes(self._rows[row])

    def _changes(self, row: _Row) -> list[str]:
        if row.changes is None:
            project = row.record.project
            found = [] if project is None or self._current is None else changes(project, self._current)
            row.changes = [change.words() for change in found]
        return row.changes

    def _mark_best(self) -> None:
        sweeps: dict[str, list[_Row]] = {}
        for row in self._rows:
            row.best_of_sweep = False
            if row.record.sweep:
                sweeps.setdefault(row.record.sweep["id"], []).append(row)
        for rows in sweeps.values():
            best = best_run([row.record for row in rows], self.metric)
            for row in rows:
                row.best_of_sweep = row.record is best

    def _changed_column(self, column: int) -> None:
        if self._rows:
            self.dataChanged.emit(self.index(0, column), self.index(len(self._rows) - 1, column))

    # ---- Qt's model --------------------------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else COLUMNS

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            if section in (FINAL, BEST):
                return f"{'Final' if section == FINAL else 'Best'} {metric_words(self.metric)}"
            return HEADERS.get(section)
        if role == Qt.ItemDataRole.ToolTipRole:
            better = "higher" if higher_is_better(self.metric) else "lower"
            return HEADER_TIPS.get(section) or {
                FINAL: f"The last validation's {metric_words(self.metric)} ({better} is better)",
                BEST: f"The best {metric_words(self.metric)} of any epoch ({better} is better)",
            }.get(section)
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        flags = super().flags(index)
        return flags | Qt.ItemFlag.ItemIsEditable if index.column() == NAME else flags

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, column)
        if role == Qt.ItemDataRole.EditRole:
            return row.record.name if column == NAME else self._text(row, column)
        if role == SORT_ROLE:
            return self._sort_value(row, column)
        if role == PLAIN_ROLE:
            return self._plain(row, column)
        if role == SEARCH_ROLE:
            record = row.record
            words = (
                record.name,
                record.run_id,
                record.status,
                *self._changes(row),
                _sweep_id(record),
                sweep_words(record.sweep),
            )
            return " ".join(words).lower()
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tip(row, column)
        if role == Qt.ItemDataRole.FontRole and column in (NAME, SWEEP) and row.best_of_sweep:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (EPOCHS, DURATION, FINAL, BEST):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.TextAlignmentRole and column == STAR:
            return int(Qt.AlignmentFlag.AlignCenter)
        return None

    def setData(
        self, index: QModelIndex | QPersistentModelIndex, value: Any, role: int = Qt.ItemDataRole.EditRole
    ) -> bool:
        if not index.isValid() or index.column() != NAME or role != Qt.ItemDataRole.EditRole:
            return False
        record = self._rows[index.row()].record
        name = str(value).strip()
        return name != record.name and self._update(index.row(), replace(record, name=name))

    def toggle_star(self, row: int) -> bool:
        """Star or unstar a run (a starred run keeps its files); False when it could not be written."""
        record = self._rows[row].record
        return self._update(row, replace(record, starred=not record.starred))

    def _update(self, row: int, record: RunRecord) -> bool:
        try:
            self.history.update(record)
        except OSError as err:
            self.failed.emit(f"The run could not be changed beside the project: {err.strerror or err}")
            return False
        kept = next(r for r in self.history.records if r.run_id == record.run_id)  # the name as update cut it
        self._rows[row].record = kept
        self.dataChanged.emit(self.index(row, 0), self.index(row, COLUMNS - 1))
        return True

    # ---- what each cell says -----------------------------------------------------------------------------

    def _text(self, row: _Row, column: int) -> str:
        record = row.record
        if column == STAR:
            return "★" if record.starred else "☆"
        if column == NAME:
            return record.title
        if column == STARTED:
            return time.strftime("%Y-%m-%d %H:%M", time.localtime(record.started)) if record.started else ""
        if column == STATUS:
            return record.status
        if column == EPOCHS:
            planned = record.settings.get("epochs")
            return (
                f"{record.epochs_done}/{planned}"
                if planned and planned != record.epochs_done
                else str(record.epochs_done)
            )
        if column == DURATION:
            return duration_words(record.seconds)
        if column == DEVICE:
            return record.device
        if column == SETTINGS:
            return _settings_words(record.settings)
        if column == CHANGES:
            if record.project is None:
                return "not recorded"
            found = self._changes(row)
            if not found:
                return SAME_AS_NOW
            more = len(found) - SHOWN_CHANGES
            return "; ".join(found[:SHOWN_CHANGES]) + (f" (+{more} more)" if more > 0 else "")
        if column in (FINAL, BEST):
            return metric_text(self.metric, self._metric_value(record, column))
        if column == SWEEP:
            if not record.sweep:
                return ""
            return ("best · " if row.best_of_sweep else "") + sweep_words(record.sweep)
        return ""

    def _metric_value(self, record: RunRecord, column: int) -> float | None:
        return (final_value if column == FINAL else best_value)(record, self.metric)

    def _sort_value(self, row: _Row, column: int) -> Any:
        record = row.record
        if column == STAR:
            return int(record.starred)
        if column == STARTED:
            return record.started
        if column == EPOCHS:
            return record.epochs_done
        if column == DURATION:
            return record.seconds
        if column in (FINAL, BEST):
            value = self._metric_value(record, column)
            return -math.inf if value is None else value  # runs without the figure sort together, at one end
        if column == CHANGES:
            return len(self._changes(row))
        if column == SWEEP:
            return (_sweep_id(record), sweep_words(record.sweep))
        return self._text(row, column).lower()

    def _plain(self, row: _Row, column: int) -> Any:
        record = row.record
        if column == STAR:
            return int(record.starred)
        if column == NAME:
            return record.name or record.run_id
        if column == STARTED:
            return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.started)) if record.started else ""
        if column == EPOCHS:
            return record.epochs_done
        if column == DURATION:
            return round(record.seconds, 3)
        if column in (FINAL, BEST):
            value = self._metric_value(record, column)
            return "" if value is None else value
        if column == CHANGES:
            found = self._changes(row)
            return "; ".join(found) if found or record.project is None else SAME_AS_NOW
        if column == SWEEP:
            return f"{_sweep_id(record)}: {sweep_words(record.sweep)}" if record.sweep else ""
        return self._text(row, column)

    def _tip(self, row: _Row, column: int) -> str | None:
        record = row.record
        if column == NAME:
            return f"{record.title}\nrun {record.run_id}" + (f"\n{record.message}" if record.message else "")
        if column == STATUS and record.message:
            return record.message
        if column == SETTINGS:
            return "\n".join(f"{key}: {value}" for key, value in record.settings.items()) or None
        if column == CHANGES:
            if record.project is None:
                return "This run was recorded before runs kept their graph"
            found = self._changes(row)
            return "\n".join(found) if found else "The run trained the graph and settings as they are now"
        if column == SWEEP and record.sweep:
            best = "\nthe best run of its sweep by " + metric_words(self.metric) if row.best_of_sweep else ""
            return (
                f"sweep {_sweep_id(record)}\n"
                + "\n".join(f"{target} = {_value_words(value)}" for target, value in record.sweep["values"].items())
                + best
            )
        if column == STAR:
            return HEADER_TIPS[STAR]
        return None


def _settings_words(settings: dict[str, Any]) -> str:
    parts = []
    if "batch_size" in settings:
        parts.append(f"batch {settings['batch_size']}")
    if "seed" in settings:
        parts.append(f"seed {settings['seed']}")
    return " · ".join(parts)


def _sweep_id(record: RunRecord) -> str:
    return str(record.sweep.get("id", "")) if record.sweep else ""


class RunsFilter(QSortFilterProxyModel):
    """Sorts by SORT_ROLE (numbers as numbers) and keeps the rows whose name, id, status, changes or sweep
    hold every word of the filter text (any case)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self._words: list[str] = []

    def set_text(self, text: str) -> None:
        self.beginFilterChange()
        self._words = text.lower().split()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        if not self._words:
            return True
        searched = self.sourceModel().index(source_row, 0, source_parent).data(SEARCH_ROLE) or ""
        return all(word in searched for word in self._words)

    def lessThan(self, left: QModelIndex | QPersistentModelIndex, right: QModelIndex | QPersistentModelIndex) -> bool:
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        try:
            return a < b
        except TypeError:  # values of two kinds (never expected): compare their words
            return str(a) < str(b)


def shown_records(proxy: RunsFilter, rows: Sequence[int]) -> list[RunRecord]:
    """The records of the proxy's `rows`, in that order."""
    model: RunsTableModel = proxy.sourceModel()
    return [model.record(proxy.mapToSource(proxy.index(row, 0)).row()) for row in rows]

"""Training > Compress… (and "Compress…" on a run in the Runs view): a run's network pruned and quantized as
`netbuilder compress` does it, in a BackgroundTask, with its progress, the time left and Stop; then the table of
every network measured against the float one, the pruned network to open as a new document, and its folder.

torch loads on the task's thread (in `Compression.run`), never while the window opens or the dialog is made."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QBrush, QDesktopServices, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from netbuilder.project import Project, ProjectError, copy_project, load_project
from netbuilder.project.run_history import RunHistory, RunRecord
from netbuilder.time_words import duration
from netbuilder.training.control import Control
from netbuilder.ui.background import BackgroundTask
from netbuilder.ui.training.compress_form import CompressForm
from netbuilder.ui.training.sample_painting import wrong_colour
from netbuilder.ui.training.worker import training_threads
from netbuilder.ui.widgets.text import sentence

CTRL = Qt.KeyboardModifier.ControlModifier
WORSE_POINTS = 2.0  # an accuracy this many points below the float network's is coloured


def last_run_with_weights(history: RunHistory) -> tuple[RunRecord, Path] | None:
    """The newest run that still has its weights, and their file; None when no run has."""
    for record in reversed(history.records):
        path = history.file_path(record, record.weights)
        if path is not None:
            return record, path
    return None


class Compression(QObject):
    """One compression of a snapshot of `project` from the run weights `weights`: `run` is a BackgroundTask's
    work and returns the CompressionReport; `progress` says the step in words and the share of the plan done.
    `stop` (from any thread) ends it after its current step (the rows measured so far are reported)."""

    progress = Signal(str, float)

    def __init__(self, project: Project, record: RunRecord | None, weights: Path, plan: dict[str, Any], out: Path):
        super().__init__()
        self.project = copy_project(project)  # the window may change the graph while it runs
        self.record, self.weights, self.plan, self.out = record, weights, plan, out
        self.control = Control()

    def stop(self) -> None:
        self.control.stop()

    @property
    def stopping(self) -> bool:
        return self.control.stopped

    def run(self) -> Any:
        import torch

        from netbuilder.cli.evaluate_command import with_run_split  # the split and device the run had
        from netbuilder.training.compression.compress import CompressionPlan, compress

        torch.set_num_threads(training_threads())
        return compress(
            with_run_split(self.project, self.record),
            self.weights,
            CompressionPlan(**self.plan),
            self.out,
            progress=self.progress.emit,
            control=self.control,
        )


class CompressDialog(QDialog):
    """Compress the network of `project` trained into `weights` (by the run `record`, whose split and device it
    is measured with). Run (Ctrl+Enter) starts; Stop ends after the current step; Esc closes when nothing runs.
    `open_project_requested` carries the pruned project for the window to open as a new document."""

    open_project_requested = Signal(object)  # Project

    def __init__(
        self, project: Project, record: RunRecord | None, weights: Path, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.project, self.record, self.weights = project, record, weights
        self.compression: Compression | None = None
        self.task: BackgroundTask | None = None
        self.report = None  # the last CompressionReport
        self.folder: Path | None = None  # where the last compression wrote
        self._started = 0.0
        run = f" of run “{record.title}”" if record is not None else ""
        self.setWindowTitle(f"Compress {project.name}")
        self.setMinimumWidth(760)

        source = QLabel(f"The network{run}, from {weights}")
        source.setEnabled(False)
        source.setWordWrap(True)
        self.form = CompressForm(project.path)
        self.form.changed.connect(self._update_buttons)
        self.run_button = QPushButton("Run")
        self.run_button.clicked.connect(self.start)
        self.progress = QProgressBar()
        self.progress.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("End after this step: the networks measured so far are reported")
        self.stop_button.clicked.connect(self.stop)
        running = QHBoxLayout()
        running.addWidget(self.run_button)
        running.addWidget(self.progress, 1)
        running.addWidget(self.stop_button)
        self.words = QLabel()
        self.words.setWordWrap(True)
        self.words.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = QTableWidget()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.open_button = self.buttons.addButton("Open pruned network", QDialogButtonBox.ButtonRole.ActionRole)
        self.open_button.setToolTip("Open the pruned version of the project (smaller layers) as a new document")
        self.open_button.clicked.connect(self.open_pruned)
        self.folder_button = self.buttons.addButton("Show folder", QDialogButtonBox.ButtonRole.ActionRole)
        self.folder_button.setToolTip("Show the folder of the networks and the table (compression.md, .json)")
        self.folder_button.clicked.connect(self.show_folder)
        for button in self.buttons.buttons():
            button.setAutoDefault(False)
        self.stop_button.setAutoDefault(False)
        self.run_button.setDefault(True)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(source)
        layout.addWidget(self.form)
        layout.addLayout(running)
        layout.addWidget(self.words)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.buttons)
        self._update_buttons()

    # ---- running -------------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.task is not None

    def start(self) -> bool:
        """Compress as the form says; False while one runs or the form does not make a plan (it says why)."""
        if self.running or self.form.why_not():
            return False
        self.report, self.folder = None, self.form.folder
        self.table.clear()
        self.table.setRowCount(0)
        self.table.setColumnCount(0)
        self.compression = Compression(self.project, self.record, self.weights, self.form.plan_arguments(), self.folder)
        self.compression.progress.connect(self._on_progress)
        self.task = BackgroundTask(self.compression.run, "netbuilder compress")
        self.task.succeeded.connect(self._on_finished)
        self.task.failed.connect(self._on_failed)
        self._started = time.monotonic()
        self.progress.setValue(0)
        self.progress.setFormat("loading the network…")
        self.words.setText(f"Compressing into {self.folder}…")
        self.task.start()
        self._update_buttons()
        return True

    def stop(self) -> None:
        """End after the current step."""
        if self.compression is not None and self.task is not None:
            self.compression.stop()
            self.progress.setFormat("stopping after this step…")
            self._update_buttons()

    def _on_progress(self, what: str, done: float) -> None:
        if self.compression is None or self.sender() is not self.compression or self.compression.stopping:
            return
        elapsed = time.monotonic() - self._started
        left = f" · about {duration(elapsed / done * (1 - done))} left" if 0 < done < 1 else ""
        self.progress.setValue(round(done * 1000))
        self.progress.setFormat(f"{what} · {done:.0%}{left}")

    def _end(self) -> Compression | None:
        compression, self.compression, self.task = self.compression, None, None
        if compression is not None:
            compression.progress.disconnect(self._on_progress)
        return compression

    def _on_finished(self, report: Any) -> None:
        if self.sender() is not self.task:
            return
        compression = self._end()
        self.report = report
        self.progress.setValue(1000)
        stopped = compression is not None and compression.stopping
        self.progress.setFormat(f"{'stopped' if stopped else 'done'} in {duration(time.monotonic() - self._started)}")
        self._show_table(report.rows)
        pruned = " The pruned network is a new version of the project: open it to export it or train it further."
        self.words.setText(
            f"{len(report.rows)} networks measured on the validation split, written into {self.folder}."
            + (pruned if report.project_file is not None else "")
        )
        self._update_buttons()

    def _on_failed(self, error: Exception) -> None:
        if self.sender() is not self.task:
            return
        self._end()
        self.progress.setValue(0)
        self.progress.setFormat("failed")
        self.words.setText(self._error_words(error))
        self._update_buttons()

    def _error_words(self, error: Exception) -> str:
        """One line: what went wrong and what to do."""
        from netbuilder.training.compression.compress import CompressionError  # loaded by the run already

        if isinstance(error, CompressionError):
            return sentence(f"cannot compress: {str(error).strip().splitlines()[0]}")
        if isinstance(error, OSError):
            return f"Cannot write into {self.folder}: {error.strerror or error}. Choose another folder."
        if isinstance(error, ValueError):  # the plan refused (CompressionPlan says which value)
            return sentence(f"{str(error).strip().splitlines()[0]}: change it and run again")
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return sentence(f"compression failed: {first}. Try fewer steps (one quantization at a time) to find which")

    def _show_table(self, rows: list[Any]) -> None:
        """The report's rows, the float network first; an accuracy more than WORSE_POINTS below the float
        network's in the theme's error colour."""
        from netbuilder.training.compression.report import headline_metric, report_rows

        header, cells = report_rows(rows)
        self.table.setColumnCount(len(header))
        self.table.setHorizontalHeaderLabels(header)
        self.table.setRowCount(len(cells))
        metric = headline_metric(rows)
        column = header.index(metric)
        base = rows[0].metrics.get(metric) if rows else None
        worse = QBrush(wrong_colour(self.palette()))
        for r, (row, line) in enumerate(zip(rows, cells, strict=True)):
            for c, text in enumerate(line):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(r, c, item)
            value = row.metrics.get(metric)
            if metric == "accuracy" and None not in (value, base) and (base - value) * 100 > WORSE_POINTS:
                cell = self.table.item(r, column)
                cell.setForeground(worse)
                cell.setToolTip(f"More than {WORSE_POINTS:g} points below the float network's accuracy")

    def _update_buttons(self, *_: object) -> None:
        running = self.running
        why_not = self.form.why_not()
        self.run_button.setEnabled(not running and not why_not)
        self.run_button.setToolTip(why_not or "Prune and quantize as chosen, each network measured (Ctrl+Enter)")
        self.form.set_enabled(not running)
        self.stop_button.setEnabled(running and not self.compression.stopping)
        self.open_button.setEnabled(not running and self.report is not None and self.report.project_file is not None)
        self.folder_button.setEnabled(not running and self.folder is not None and self.folder.is_dir())

    # ---- the result ----------------------------------------------------------------------------------------

    def open_pruned(self) -> bool:
        """The pruned project, for the window to open as a new document."""
        if self.report is None or self.report.project_file is None:
            return False
        try:
            project = load_project(self.report.project_file)
        except (OSError, ProjectError) as err:
            self.words.setText(f"The pruned network cannot be opened: {err}. Open {self.report.project_file} by hand.")
            return False
        self.open_project_requested.emit(project)
        return True

    def show_folder(self) -> None:
        if self.folder is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.folder)))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Ctrl+Enter runs (from any field: they pass it on); Esc closes only when nothing runs (Stop or Close
        end a compression)."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and event.modifiers() & CTRL:
            self.start()
            return
        if event.key() == Qt.Key.Key_Escape and self.running:
            return
        super().keyPressEvent(event)

    def shutdown(self) -> None:
        """Stop a compression still running and wait for its thread (the window is closing), then close."""
        if self.task is not None:
            self.compression.stop()
            self.task.join()
            self._end()
        self.done(QDialog.DialogCode.Rejected)

    def done(self, result: int) -> None:
        """Closing while it runs stops it: it ends after its step, unheard, and its thread is joined then."""
        if self.task is not None:
            self.compression.stop()
            self.task.cancel()
            self._end()
        super().done(result)

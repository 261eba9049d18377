"""The sweep dialog (Training > Sweep…): the form that plans the sweep (SweepForm: its rows, options, live line
and command); Start and Stop with the progress over the whole sweep; and the finished runs, listed with their
metric, the best marked (RunsTable), and drawn by the SweepPlot.

The sweep runs in a SweepWorker on a BackgroundTask (torch on that thread only) and keeps its runs in the
Training dock's run history, so each shows there and in the Runs view as it ends. It is not modal: closing it
hides it while the sweep goes on (the Training dock says so); the window stops and joins it when the document
goes (`shutdown`). The rows of a project's last sweep come back when the dialog opens (QSettings).
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QCloseEvent, QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from netbuilder.project.run_comparison import final_value
from netbuilder.project.run_history import RunRecord
from netbuilder.project.sweep_plan import SweepError, SweepPlan
from netbuilder.time_words import duration
from netbuilder.ui.background import BackgroundTask
from netbuilder.ui.training.sweep_form import SweepForm
from netbuilder.ui.training.sweep_plot import SweepPlot
from netbuilder.ui.training.sweep_results import RunsTable
from netbuilder.ui.training.sweep_scales import metric_name, metric_text, values_text
from netbuilder.ui.training.sweep_worker import SweepWorker
from netbuilder.ui.widgets.text import sentence

PROGRESS_STEPS = 1000


class SweepDialog(QDialog):
    """The sweep of the project of `panel` (the Training dock's TrainingPanel, whose run history the runs join
    and whose Train is off while a sweep runs). `settings` keeps each project's last rows."""

    def __init__(self, panel: Any, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.panel = panel
        self.document = panel.document
        self.settings = settings
        self.worker: SweepWorker | None = None
        self.task: BackgroundTask | None = None
        self.records: list[RunRecord] = []  # this sweep's finished runs, in the order they ran
        self.metric_key = ""
        self._trials: dict[int, Any] = {}  # by trial: the TrialStart of each run going on
        self._trained: dict[int, float] = {}  # by trial going on: the epochs it has trained since it started
        self._epochs = (0, 1)  # epochs trained by the runs that ended, and by all the sweep's runs together
        self._began = 0.0
        self.setWindowTitle("Sweep")
        self.setModal(False)
        self.resize(920, 720)

        self.form = form = SweepForm(panel, settings)
        # the form's rows and fields under the dialog's own names, as its callers know them
        self.rows = form.rows
        self.add_button = form.add_button
        self.search_box, self.budget_field, self.epochs_field = form.search_box, form.budget_field, form.epochs_field
        self.halving_box, self.metric_box, self.at_once_field = form.halving_box, form.metric_box, form.at_once_field
        self.plan_line, self.command_line = form.plan_line, form.command_line

        self.progress = QProgressBar()
        self.progress.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.progress.setRange(0, PROGRESS_STEPS)
        self.progress.setValue(0)
        self.progress.setFormat("ready")
        self.start_button = QPushButton("Start")
        self.start_button.clicked.connect(self.start)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("End the run going on after its current step, and start no more")
        self.stop_button.clicked.connect(self.stop)
        running = QHBoxLayout()
        running.addWidget(self.progress, 1)
        running.addWidget(self.start_button)
        running.addWidget(self.stop_button)
        self.status_line = QLabel()
        self.status_line.setWordWrap(True)

        self.results = RunsTable()
        self.plot = SweepPlot()
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.results)
        splitter.addWidget(self.plot)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)
        self.results_area = splitter
        self.empty_note = QLabel(
            "The runs appear here as they end, with a plot of the values they tried against the metric."
        )
        self.empty_note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_note.setForegroundRole(QPalette.ColorRole.PlaceholderText)  # a hint, not news

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        for button in (buttons.button(QDialogButtonBox.StandardButton.Close), self.stop_button, self.add_button):
            button.setAutoDefault(False)
        self.start_button.setDefault(True)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Cancel), self, self.close)

        layout = QVBoxLayout(self)
        layout.addWidget(form)
        layout.addLayout(running)
        layout.addWidget(self.status_line)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.empty_note, 1)
        layout.addWidget(buttons)

        form.changed.connect(self._update)
        panel.running_changed.connect(self._update)
        self.document.analysis_changed.connect(self._update)
        self.document.path_changed.connect(self._update)
        self.refresh()

    def refresh(self) -> None:
        """Fill the form for the project as it is now (SweepForm.refresh) and show its last sweep's runs."""
        self.form.refresh()
        self._show_last_sweep()
        self._update()

    def _show_last_sweep(self) -> None:
        """The runs of the project's last sweep, from its run history (the rows may have changed since)."""
        history = self.panel.history.records
        last = next((r.sweep for r in reversed(history) if r.sweep), None)
        self.records = [r for r in history if last is not None and (r.sweep or {}).get("id") == last["id"]]
        self.metric_key = str(last.get("metric") or "") if last is not None else ""
        if self.records:
            self.results.set_columns(
                list(dict.fromkeys(t for r in self.records for t in r.sweep["values"])), self.metric_key
            )
            self._show_records()
            self.results.sort_best_first(self.metric_key)
        self.results_area.setVisible(bool(self.records))
        self.empty_note.setVisible(not self.records)

    def plan(self) -> SweepPlan:
        """The sweep the form describes (SweepForm.plan)."""
        return self.form.plan()

    def runs_at_once(self) -> int:
        """How many runs the sweep trains at once (SweepForm.runs_at_once)."""
        return self.form.runs_at_once()

    def _update(self, *_: object) -> None:
        """The live line, the command, and whether Start may be pressed."""
        running = self.task is not None
        words, ready = self.form.show_plan()
        why = "" if running else self._why_not_start()
        can = ready and not why and not running
        self.start_button.setEnabled(can)
        at_once = self.runs_at_once()
        doing = f"Train these runs, {at_once} at once" if at_once > 1 else "Train these runs one after another"
        self.start_button.setToolTip(why or (doing if ready else words))
        if why and not running:
            self.status_line.setText(why)
        elif not running and self.status_line.text() and not self.records:
            self.status_line.setText("")
        self.stop_button.setEnabled(running and self.worker is not None and not self.worker.stopping)
        self.form.set_running(running)

    def _why_not_start(self) -> str:
        if self.document.path is None:
            return "Save the project first: a sweep keeps its runs and their weights beside the project file."
        why = self.panel.why_not_sweep()
        return sentence(why) if why else ""

    # ---- running ----------------------------------------------------------------------------------------------

    @property
    def is_running(self) -> bool:
        return self.task is not None

    def start(self) -> bool:
        """Start the sweep the form describes; False when it cannot (the dialog says why)."""
        if self.task is not None or self._why_not_start():
            return False
        try:
            plan = self.plan()
            plan.trials(self.document.project)
        except SweepError:
            return False
        self.form.remember()
        self.metric_key = plan.metric or ""
        self.records = []
        self.results.clear()
        self.results.set_columns([axis.target for axis in plan.axes], self.metric_key)
        self.results.sortItems(0, Qt.SortOrder.AscendingOrder)  # in the order they run, until the sweep ends
        self.plot.show_sweep([], self.metric_key)
        self.results_area.show()
        self.empty_note.hide()
        self.worker = worker = SweepWorker(self.document.project, plan, self.panel.history, self.runs_at_once())
        worker.sweep_started.connect(self._on_sweep_started)
        worker.trial_started.connect(self._on_trial_started)
        worker.progress.connect(self._on_progress)
        worker.trial_ended.connect(self._on_trial_ended)
        self.task = BackgroundTask(worker.run, "netbuilder sweep")
        self.task.succeeded.connect(self._on_finished)
        self.task.failed.connect(self._on_failed)
        self._began = time.time()
        self.progress.setValue(0)
        self.progress.setFormat("starting…")
        self.status_line.setText("Loading the data and building the first run's model…")
        self.panel.set_sweeping(True)
        self.task.start()
        self._update()
        return True

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.progress.setFormat("stopping…")
            self._update()

    def shutdown(self) -> None:
        """Stop the sweep and join its thread, now (the document is going, or the window is closing)."""
        task, worker = self.task, self.worker
        if task is None:
            return
        worker.stop()
        task.join()
        self._end()

    def _on_sweep_started(self, event: Any) -> None:
        if self.sender() is self.worker:
            self._epochs = (0, max(1, event.epochs))

    def _on_trial_started(self, event: Any) -> None:
        if self.sender() is not self.worker:
            return
        self._trials[event.index] = event
        self._trained[event.index] = 0.0
        self._show_progress(f"run {event.index + 1} of {event.total}")
        if len(self._trials) == 1:
            self.status_line.setText(f"Run {event.index + 1} of {event.total}: {values_text(event.values)}")
        else:
            runs = ", ".join(str(index + 1) for index in sorted(self._trials))
            self.status_line.setText(f"{len(self._trials)} runs at once: {runs} of {event.total}")

    def _on_progress(self, event: Any) -> None:
        trial = self._trials.get(event.index)
        if self.sender() is not self.worker or trial is None:
            return
        progress = event.event
        trained = progress.epoch - 1 - trial.done + progress.step / max(1, progress.steps_per_epoch)
        self._trained[event.index] = max(0.0, trained)
        words = f"run {trial.index + 1} of {trial.total} · epoch {progress.epoch}/{progress.epochs}"
        if len(self._trials) > 1:
            words = f"{len(self._trials)} runs at once · {words}"
        self._show_progress(words)

    def _show_progress(self, words: str) -> None:
        """The bar over the whole sweep, in epochs: those of the runs that ended and the part of those going
        on; the time left from the time so far."""
        done, total = self._epochs
        share = min(1.0, (done + sum(self._trained.values())) / total)
        self.progress.setValue(round(share * PROGRESS_STEPS))
        elapsed = time.time() - self._began
        left = f" · {duration(elapsed / share * (1 - share))} left" if share > 0.02 else ""
        stopping = "stopping… " if self.worker is not None and self.worker.stopping else ""
        self.progress.setFormat(f"{stopping}{words}{left}")

    def _on_trial_ended(self, event: Any) -> None:
        if self.sender() is not self.worker:
            return
        record = event.record
        trial = self._trials.pop(event.index, None)
        self._trained.pop(event.index, None)
        if trial is not None:  # a run trained (halving's halt trains none)
            done, total = self._epochs
            self._epochs = (done + max(0, record.epochs_done - trial.done), total)
        self.records = [r for r in self.records if r.run_id != record.run_id] + [record]
        self._show_records()
        self.panel.runs_changed.emit()  # the Runs view reads the history again

    def _on_finished(self, result: Any) -> None:
        if self.sender() is not self.task:
            return
        stopped = result.stopped
        self._end()
        best = result.best if result is not None else None
        if best is not None and self.metric_key:
            value = final_value(best, self.metric_key)
            said = f"best: {values_text((best.sweep or {}).get('values') or {})} — {metric_name(self.metric_key)} "
            said += metric_text(self.metric_key, value) if value is not None else "–"
        else:
            said = f"no run has {metric_name(self.metric_key)}"
        n = len(self.records)
        what = "Stopped" if stopped else "Done"
        self.status_line.setText(
            f"{what}: {n} run{'s' if n != 1 else ''} in {duration(time.time() - self._began)}; {said}."
        )
        self.progress.setFormat(f"{what.lower()} · {n} run{'s' if n != 1 else ''}")
        self.results.sort_best_first(self.metric_key)
        if not stopped:
            self.progress.setValue(PROGRESS_STEPS)

    def _on_failed(self, error: Exception) -> None:
        if self.sender() is not self.task:
            return
        self._end()
        self.progress.setFormat("did not finish")
        self.status_line.setText(
            sentence(str(error).strip().splitlines()[0] if str(error).strip() else "the sweep failed")
        )

    def _end(self) -> None:
        worker = self.worker
        if worker is not None:
            worker.sweep_started.disconnect(self._on_sweep_started)
            worker.trial_started.disconnect(self._on_trial_started)
            worker.progress.disconnect(self._on_progress)
            worker.trial_ended.disconnect(self._on_trial_ended)
        self.worker = self.task = None
        self.panel.set_sweeping(False)
        self.panel.runs_changed.emit()
        self._update()

    def _show_records(self) -> None:
        """The table and the plot, with the runs so far; the best marked in both."""
        self.results.show_records(self.records, self.metric_key)
        self.plot.show_sweep(self.records, self.metric_key)

    # ---- closing ------------------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing hides the dialog; a sweep goes on (the Training dock says so, and the menu shows it again)."""
        self.form.remember()
        super().closeEvent(event)

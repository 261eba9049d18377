"""The sweep dialog (Training > Sweep…): what to sweep, a row per value (sweep_axis_row), grid or random search,
a budget of runs, epochs, successive halving and the metric that judges the runs; a line saying how many runs
that makes (or what is wrong); the same sweep as `netbuilder sweep` would take it; Start and Stop with the
progress over the whole sweep; and the finished runs, listed with their metric, the best marked, and drawn by
the SweepPlot.

The sweep runs in a SweepWorker on a BackgroundTask (torch on that thread only) and keeps its runs in the
Training dock's run history, so each shows there and in the Runs view as it ends. It is not modal: closing it
hides it while the sweep goes on (the Training dock says so); the window stops and joins it when the document
goes (`shutdown`). The rows of a project's last sweep come back when the dialog opens (QSettings).
"""

from __future__ import annotations

import json
import shlex
import time
from typing import Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QCloseEvent, QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from netbuilder.project.run_comparison import best_run, final_value, higher_is_better
from netbuilder.project.run_history import RunRecord
from netbuilder.project.settings import MAX_EPOCHS
from netbuilder.project.sweep_plan import MAX_TRIALS, METRICS, Axis, SweepError, SweepPlan, sweep_targets
from netbuilder.ui.background import BackgroundTask
from netbuilder.ui.training.run_words import duration
from netbuilder.ui.training.sweep_axis_row import AxisRow
from netbuilder.ui.training.sweep_plot import SweepPlot, metric_name, metric_text, value_text, values_text
from netbuilder.ui.training.sweep_worker import SweepWorker
from netbuilder.ui.widgets.inputs import ComboBox, SpinBox
from netbuilder.ui.widgets.text import sentence

HALVING_TIP = (
    "Successive halving: every run first trains a few epochs; the better half by the metric goes on for twice "
    "as many, and so on up to the epochs set, so poor settings stop early and the time goes to the promising ones"
)
SEARCH_TIP = "Grid: every combination of the values (at most the budget, picked at random). Random: the budget's "
SEARCH_TIP += "number of runs, each value drawn at random (ranges marked random give a fresh draw for each run)"
CLASSIFIER_METRICS = ("val_accuracy", "val_loss", "train_loss")
VALUE_METRICS = ("val_r2", "val_mae", "val_rmse", "val_loss", "train_loss")
SETTINGS_KEY = "sweep/last"  # + "/" + the project file's path: the rows of its last sweep
PROGRESS_STEPS = 1000
MAX_AT_ONCE = 8  # runs at once the form offers (netbuilder sweep --parallel takes any number)
AT_ONCE_TIP = (
    "Runs that train at the same time on the GPU, each in a process of its own: small models leave most of "
    "the GPU idle, so several at once can finish sooner (each starts its own process first)"
)
NO_GPU_AT_ONCE = "Several runs at once need a CUDA GPU and the project's device set to cuda or auto"


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
        self.targets: list[str] = []  # what this sweep sets, in its order: the table's columns
        self.metric_key = ""
        self._trials: dict[int, Any] = {}  # by trial: the TrialStart of each run going on
        self._trained: dict[int, float] = {}  # by trial going on: the epochs it has trained since it started
        self._epochs = (0, 1)  # epochs trained by the runs that ended, and by all the sweep's runs together
        self._began = 0.0
        self.setWindowTitle("Sweep")
        self.setModal(False)
        self.resize(920, 720)

        self.rows: list[AxisRow] = []
        self.rows_area = QVBoxLayout()
        self.rows_area.setSpacing(4)
        self.add_button = QPushButton("Add a Value to Sweep")
        self.add_button.setToolTip("Sweep one more block parameter or training setting (each run tries a combination)")
        self.add_button.clicked.connect(lambda: self.add_row())

        self.search_box = ComboBox()
        self.search_box.addItems(["grid", "random"])
        self.search_box.setToolTip(SEARCH_TIP)
        self.budget_field = SpinBox(0, MAX_TRIALS)
        self.budget_field.setSpecialValueText("all")
        self.budget_field.setToolTip("At most this many runs (all: every combination of a grid)")
        self.epochs_field = SpinBox(0, MAX_EPOCHS)
        self.epochs_field.setToolTip("Epochs each run trains (the project's: as the Training dock says)")
        self.halving_box = QCheckBox("Successive halving")
        self.halving_box.setToolTip(HALVING_TIP)
        self.metric_box = ComboBox()
        self.metric_box.setToolTip("What judges the runs: the best run has the best final value of it")
        self.at_once_field = SpinBox(1, MAX_AT_ONCE)
        self.at_once_field.setToolTip(AT_ONCE_TIP)
        options = QHBoxLayout()
        options.setSpacing(6)
        for text, field in (
            ("Search", self.search_box),
            ("Budget", self.budget_field),
            ("Epochs", self.epochs_field),
            ("Metric", self.metric_box),
            ("Runs at once", self.at_once_field),
        ):
            label = QLabel(text)
            label.setBuddy(field)
            label.setToolTip(field.toolTip())
            options.addWidget(label)
            options.addWidget(field)
            options.addSpacing(6)
        options.addWidget(self.halving_box)
        options.addStretch(1)

        self.plan_line = QLabel()
        self.plan_line.setWordWrap(True)
        self.command_line = QLabel()
        self.command_line.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.command_line.setToolTip("The same sweep from a terminal (the runs land in the same history)")
        self.command_line.setWordWrap(True)
        self.command_line.setForegroundRole(QPalette.ColorRole.PlaceholderText)  # quieter: for those who want it

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

        self.results = QTreeWidget()
        self.results.setRootIsDecorated(False)
        self.results.setAlternatingRowColors(True)
        self.results.setUniformRowHeights(True)
        self.results.setSortingEnabled(True)  # by any column, numbers as numbers (RunItem)
        self.results.setToolTip("Each finished run of this sweep: its values, its metric; ★ marks the best")
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
        layout.addLayout(self.rows_area)
        add_line = QHBoxLayout()
        add_line.addWidget(self.add_button)
        add_line.addStretch(1)
        layout.addLayout(add_line)
        layout.addLayout(options)
        layout.addWidget(self.plan_line)
        layout.addWidget(self.command_line)
        layout.addLayout(running)
        layout.addWidget(self.status_line)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.empty_note, 1)
        layout.addWidget(buttons)

        for signal in (
            self.search_box.currentIndexChanged,
            self.budget_field.valueChanged,
            self.epochs_field.valueChanged,
            self.halving_box.toggled,
            self.metric_box.currentIndexChanged,
            self.at_once_field.valueChanged,
        ):
            signal.connect(self._update)
        panel.running_changed.connect(self._update)
        self.document.analysis_changed.connect(self._update)
        self.document.path_changed.connect(self._update)
        self.refresh()

    # ---- the form ------------------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Fill the form for the project as it is now: the targets it has, the metrics of its task, the
        project's epochs, and the rows of its last sweep (else one row, its learning rate where it has one)."""
        project = self.document.project
        task = self.document.analysis.training_task
        metrics = METRICS if task is None else CLASSIFIER_METRICS if task.classification else VALUE_METRICS
        chosen = self.metric_box.currentData()
        self.metric_box.blockSignals(True)
        self.metric_box.clear()
        for metric in metrics:
            self.metric_box.addItem(metric_name(metric), metric)
        self.metric_box.setCurrentIndex(max(0, self.metric_box.findData(chosen)))
        self.metric_box.blockSignals(False)
        self.epochs_field.setSpecialValueText(f"the project's ({project.training.epochs})")
        for row in list(self.rows):
            self.remove_row(row)
        if not self._restore():
            targets = [t.target for t in self._targets()]
            lr = next((t for t in targets if t.endswith(".lr")), None)
            self.add_row(lr)
        self._show_last_sweep()
        self._update()

    def _show_last_sweep(self) -> None:
        """The runs of the project's last sweep, from its run history (the rows may have changed since)."""
        history = self.panel.history.records
        last = next((r.sweep for r in reversed(history) if r.sweep), None)
        self.records = [r for r in history if last is not None and (r.sweep or {}).get("id") == last["id"]]
        self.metric_key = str(last.get("metric") or "") if last is not None else ""
        if self.records:
            self._set_columns(list(dict.fromkeys(t for r in self.records for t in r.sweep["values"])))
            self._show_records()
            self.sort_best_first()
        self.results_area.setVisible(bool(self.records))
        self.empty_note.setVisible(not self.records)

    def _targets(self) -> list:
        return sweep_targets(self.document.project)

    def add_row(self, target: str | None = None) -> AxisRow:
        """A new row, for `target` (a target name) or the first target not yet swept."""
        targets = self._targets()
        row = AxisRow(targets)
        taken = {r.target() for r in self.rows}
        # else a size of the network first (a layer's width), a rate or a fraction, then a training setting
        order = sorted(targets, key=lambda t: ("." not in t.target, _size_or_number(t)))
        wanted = target or next((t.target for t in order if t.target not in taken), None)
        index = row.target_box.findData(wanted) if wanted else -1
        if index >= 0:
            row.target_box.setCurrentIndex(index)
        row.changed.connect(self._update)
        row.remove_requested.connect(lambda row=row: self.remove_row(row))
        self.rows.append(row)
        self.rows_area.addWidget(row)
        self._update()
        return row

    def remove_row(self, row: AxisRow) -> None:
        if row in self.rows:
            self.rows.remove(row)
            self.rows_area.removeWidget(row)
            row.deleteLater()
            self._update()

    def plan(self) -> SweepPlan:
        """The sweep the form describes; SweepError (one line) when it is not one."""
        axes = tuple(row.axis() for row in self.rows)
        return SweepPlan(
            axes,
            search=self.search_box.currentText(),
            budget=self.budget_field.value() or None,
            epochs=self.epochs_field.value() or None,
            halving=self.halving_box.isChecked(),
            metric=self.metric_box.currentData(),
        )

    def command(self) -> str:
        """The form as `netbuilder sweep` takes it."""
        path = self.document.path
        words = ["netbuilder", "sweep", path.name if path is not None else "PROJECT.nbproj"]
        for row in self.rows:
            words += ["--set", row.text()]
        if self.search_box.currentText() != "grid":
            words += ["--search", self.search_box.currentText()]
        if self.budget_field.value():
            words += ["--budget", str(self.budget_field.value())]
        if self.epochs_field.value():
            words += ["--epochs", str(self.epochs_field.value())]
        if self.halving_box.isChecked():
            words.append("--halving")
        if self.metric_box.currentData():
            words += ["--metric", str(self.metric_box.currentData())]
        if self.runs_at_once() > 1:
            words += ["--parallel", str(self.runs_at_once())]
        return shlex.join(words)

    def on_gpu(self) -> bool:
        """Whether the project trains on a CUDA GPU that is here (the Training dock's probe found one)."""
        device = self.document.project.training.device
        return bool(self.panel.cuda_names) and (device == "auto" or device.startswith("cuda"))

    def runs_at_once(self) -> int:
        """How many runs the sweep trains at once: the form's on a GPU, one at a time on the CPU."""
        return self.at_once_field.value() if self.on_gpu() else 1

    def plan_words(self) -> tuple[str, bool]:
        """The live line: how many runs of how many epochs, or what is wrong and what to write (and whether
        the sweep can start)."""
        try:
            plan = self.plan()
            trials = plan.trials(self.document.project)
        except SweepError as err:
            return self._refusal(str(err)), False
        n = len(trials)
        runs = f"{n} run{'s' if n != 1 else ''}"
        epochs = plan.epochs or self.document.project.training.epochs
        swept_epochs = any(axis.target == "epochs" for axis in plan.axes)
        in_turn = f"{self.runs_at_once()} at once" if self.runs_at_once() > 1 and n > 1 else "one after another"
        if swept_epochs:
            words = f"{runs}, {in_turn}."
        elif plan.halving and len(rungs := plan.rungs(n, epochs)) > 1:
            (first_epochs, first_runs), *later = rungs
            steps = ", ".join(f"the better {kept} on to {until}" for until, kept in later)
            words = f"{runs}, halving: all {first_runs} for {first_epochs} epoch{'s' if first_epochs != 1 else ''}"
            words += f", {steps} (by {metric_name(plan.metric or '')})."
        else:
            words = f"{runs} of {epochs} epoch{'s' if epochs != 1 else ''}, {in_turn}."
        return words, n > 0

    def _refusal(self, text: str) -> str:
        """The plan's refusal as a sentence; one that starts with a target keeps its case (fc1.out_features=0:
        …, epochs: …), since that is the name to type."""
        first = text.split(" ", 1)[0].split("=", 1)[0].rstrip(":")
        named = "." in first or first in {t.target for t in self._targets()}
        return sentence(text, capital=not named)

    def _update(self, *_: object) -> None:
        """The live line, the command, and whether Start may be pressed."""
        if "start_button" not in self.__dict__:
            return
        running = self.task is not None
        words, ready = self.plan_words()
        why = "" if running else self._why_not_start()
        self.plan_line.setText(words)
        self.command_line.setText(self.command())
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
        for widget in (self.add_button, self.search_box, self.budget_field, self.epochs_field, self.halving_box):
            widget.setEnabled(not running)
        self.metric_box.setEnabled(not running)
        self.at_once_field.setEnabled(not running and self.on_gpu())
        self.at_once_field.setToolTip(AT_ONCE_TIP if self.on_gpu() else NO_GPU_AT_ONCE)
        for row in self.rows:
            row.setEnabled(not running)

    def _why_not_start(self) -> str:
        if self.document.path is None:
            return "Save the project first: a sweep keeps its runs and their weights beside the project file."
        why = self.panel.why_not_sweep()
        return sentence(why) if why else ""

    # ---- remembering the rows --------------------------------------------------------------------------------

    def _settings_key(self) -> str | None:
        path = self.document.path
        return f"{SETTINGS_KEY}/{path.resolve().as_posix()}" if path is not None else None

    def _remember(self) -> None:
        key = self._settings_key()
        if key is None:
            return
        form = {
            "axes": [row.text() for row in self.rows],
            "search": self.search_box.currentText(),
            "budget": self.budget_field.value(),
            "epochs": self.epochs_field.value(),
            "halving": self.halving_box.isChecked(),
            "metric": self.metric_box.currentData(),
        }
        self.settings.setValue(key, json.dumps(form))

    def _restore(self) -> bool:
        """The rows and options of the project's last sweep; False when there are none (or they no longer
        read: a node was renamed, say)."""
        key = self._settings_key()
        saved = self.settings.value(key) if key is not None else None
        try:
            form = json.loads(saved) if isinstance(saved, str) else None
            axes = [Axis.parse(text) for text in form["axes"]] if isinstance(form, dict) else []
        except (ValueError, KeyError, TypeError):
            return False
        if not axes:
            return False
        for axis in axes:
            self.add_row(axis.target).set_axis(axis)
        self.search_box.setCurrentText(str(form.get("search", "grid")))
        self.budget_field.setValue(int(form.get("budget") or 0))
        self.epochs_field.setValue(int(form.get("epochs") or 0))
        self.halving_box.setChecked(bool(form.get("halving")))
        found = self.metric_box.findData(form.get("metric"))
        if found >= 0:
            self.metric_box.setCurrentIndex(found)
        return True

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
        self._remember()
        self.metric_key = plan.metric or ""
        self.records = []
        self.results.clear()
        self._set_columns([axis.target for axis in plan.axes])
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
        self.sort_best_first()
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

    # ---- the finished runs ----------------------------------------------------------------------------------

    def _set_columns(self, targets: list[str]) -> None:
        self.targets = targets
        self.results.setColumnCount(len(targets) + 3)
        self.results.setHeaderLabels(["run", *targets, metric_name(self.metric_key) or "metric", "status"])
        header = self.results.header()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)

    def _show_records(self) -> None:
        """The table and the plot, with the runs so far; the best marked in both."""
        best = best_run(self.records, self.metric_key) if self.metric_key else None
        self.results.setSortingEnabled(False)  # while filling: each item would be sorted in as it comes
        self.results.clear()
        for record in sorted(self.records, key=lambda r: (r.sweep or {}).get("index", 0)):
            values = (record.sweep or {}).get("values") or {}
            value = final_value(record, self.metric_key) if self.metric_key else None
            halted = (record.sweep or {}).get("halted_at")
            status = f"stopped by halving after epoch {halted}" if halted is not None else record.status
            index = (record.sweep or {}).get("index", 0)
            item = RunItem(
                [
                    f"{'★ ' if record is best else ''}{index + 1}",
                    *(value_text(values.get(t, "")) for t in self.targets),
                    metric_text(self.metric_key, value) if value is not None else "–",
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
                item.setToolTip(0, f"{record.title}: the best run of the sweep by {metric_name(self.metric_key)}")
            self.results.addTopLevelItem(item)
        self.results.setSortingEnabled(True)
        self.plot.show_sweep(self.records, self.metric_key)

    def sort_best_first(self) -> None:
        """The table by the metric, the best run at the top (once a sweep has ended)."""
        if self.metric_key:
            order = Qt.SortOrder.DescendingOrder if higher_is_better(self.metric_key) else Qt.SortOrder.AscendingOrder
            self.results.sortItems(len(self.targets) + 1, order)

    # ---- closing ------------------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing hides the dialog; a sweep goes on (the Training dock says so, and the menu shows it again)."""
        self._remember()
        super().closeEvent(event)


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


def _size_or_number(target: Any) -> int:
    """0 for a whole number above 1 (a width, a count), 1 for a positive number (a rate), 2 for the rest: the
    order in which a new row offers what to sweep."""
    current = target.current
    if not isinstance(current, int | float) or isinstance(current, bool):
        return 2
    if target.kind == "integer":
        return 0 if current > 1 else 2
    return 1 if current > 0 else 2

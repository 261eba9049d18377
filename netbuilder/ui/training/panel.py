"""The Training panel: the project's training settings (and the starting weights, which can be forgotten), Train /
Pause / Resume / Stop, progress with time left, the metrics in words, live plots, and how the run ended, calmly,
with what to do next.

A run trains a snapshot of the project in a TrainingWorker, the work of a BackgroundTask; this panel only
listens to the worker's signals and the task's outcome. torch and pyqtgraph load when they are first needed
(the plots when the panel is first shown, torch in a background task then, or when Train is pressed), never
while the window opens.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QIcon, QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QStyle,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from netbuilder.project import Project, TrainingSettings
from netbuilder.project.import_gaps import gaps_headline
from netbuilder.project.run_events import RunStart
from netbuilder.project.run_history import TENSORBOARD_FOLDER, RunHistory
from netbuilder.project.run_recorder import epoch_entry
from netbuilder.project.settings import RunContext
from netbuilder.runtime.machine_memory import ModelTooLarge, training_memory_warning
from netbuilder.ui.background import BackgroundTask
from netbuilder.ui.editor.controller import EditorController
from netbuilder.ui.main_thread_gc import main_thread_collector
from netbuilder.ui.training.batch_size_finder import BatchSizeFinder
from netbuilder.ui.training.devices import list_devices_loading_torch
from netbuilder.ui.training.gradients_tab import GradientsTab
from netbuilder.ui.training.predict_panel import PredictPanel
from netbuilder.ui.training.run_controls import FIND_RATE_TIP, RunControls
from netbuilder.ui.training.run_words import duration, epoch_in_words, idle_words, outcome_words
from netbuilder.ui.training.settings_form import SettingsForm
from netbuilder.ui.training.starting_weights_line import StartingWeightsLine
from netbuilder.ui.training.worker import RunEnd, TrainingWorker
from netbuilder.ui.widgets.banner import Banner
from netbuilder.ui.widgets.text import sentence

TENSORBOARD_KEY = "training/tensorboard"  # the user's choice: whether runs write TensorBoard logs


@dataclass
class _Run:
    """The run going on: its id, worker and task, and what the panel has heard of it."""

    run_id: str
    worker: TrainingWorker
    task: BackgroundTask
    began: float
    start: RunStart | None = None
    last_epoch: dict[str, Any] | None = None
    speed: str = ""


class TrainingPanel(QWidget):
    """The Training dock's contents for one document. The window calls `shutdown()` before it lets the
    document go (stops the run and joins its task), and locks editing while `running_changed` says True."""

    running_changed = Signal(bool)  # True when a run starts; False once it has ended and its thread is joined
    message = Signal(str)  # a line for the status bar: how a run ended
    runs_changed = Signal()  # `history` gained a run (the Runs view reads it again)

    def __init__(
        self, editor: EditorController, parent: QWidget | None = None, *, settings: QSettings | None = None
    ) -> None:
        super().__init__(parent)
        self.editor = editor  # every settings change is pushed through it, onto its undo stack
        self.document = document = editor.document
        self.history = RunHistory(document.path)
        self.plots = None  # TrainingPlots, made when the panel is first shown (pyqtgraph loads then)
        self.evaluation_tab = None  # EvaluationTab (ROC · PR, or Fit), made with the plots
        self.run: _Run | None = None
        self.sweeping = False  # the sweep dialog's runs are training: no run of the panel's own meanwhile
        self.cuda_names: list[str] | None = None  # None until torch has been asked
        self._probe: BackgroundTask | None = None
        self._shown_once = False
        self._in_view = False

        self.form = SettingsForm()
        self.form.edited.connect(self._edited)
        self.fields = self.form.fields
        self.starting_row = StartingWeightsLine()
        self.starting_label, self.forget_button = self.starting_row.label, self.starting_row.forget_button
        self.forget_button.clicked.connect(self.forget_starting_weights)
        self.controls = RunControls()
        self.progress = self.controls.progress
        self.train_button, self.continue_button = self.controls.train_button, self.controls.continue_button
        self.pause_button, self.resume_button = self.controls.pause_button, self.controls.resume_button
        self.stop_button = self.controls.stop_button
        self.train_button.clicked.connect(self.start)
        self.continue_button.clicked.connect(self.continue_last)
        self.pause_button.clicked.connect(self.pause)
        self.resume_button.clicked.connect(self.resume)
        self.stop_button.clicked.connect(self.stop)
        # TensorBoard logs of every run, on or off per user (the window's settings): PROJECT.runs/tensorboard/RUN
        self.user_settings = settings if settings is not None else QSettings()
        self.tensorboard_box = self.controls.tensorboard_box
        self.tensorboard_box.setChecked(self.user_settings.value(TENSORBOARD_KEY, False, type=bool))
        self.tensorboard_box.toggled.connect(lambda on: self.user_settings.setValue(TENSORBOARD_KEY, on))
        self.controls.show_tensorboard_folder(self._tensorboard_folder())
        # the learning-rate range test: this button and the window's Training menu (the action) open it
        self.find_rate_action = QAction("Find &Learning Rate…", self)
        self.find_rate_action.triggered.connect(self.find_learning_rate)
        self.find_rate_button = self.controls.find_rate_button
        self.find_rate_button.clicked.connect(self.find_learning_rate)
        self.lr_dialog = None  # the range test's dialog, made when first asked for (pyqtgraph loads then)
        self.batch_finder = BatchSizeFinder(editor, self.controls.find_batch_button)  # no run while it searches
        self.batch_finder.busy_changed.connect(self._update_buttons)
        self.batch_finder.busy_changed.connect(lambda busy: busy or self._show_idle())
        self.batch_finder.message.connect(self.message)

        self.metrics_label = QLabel()
        self.metrics_label.setWordWrap(True)
        self.metrics_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.metrics_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.banner = Banner()
        self.banner_icon, self.banner_text = self.banner.icon, self.banner.text

        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(6, 2, 6, 2)
        side_layout.setSpacing(3)
        for widget in (self.form, self.starting_row, self.controls, self.batch_finder, self.metrics_label, self.banner):
            side_layout.addWidget(widget)
        side_layout.addStretch(1)
        self.side = QScrollArea()
        self.side.setWidget(side)
        self.side.setWidgetResizable(True)
        self.side.setFrameShape(QFrame.Shape.NoFrame)
        self.side.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scrollbar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        self.side.setFixedWidth(self.form.sizeHint().width() + 12 + scrollbar + 2)

        self.plot_area = QWidget()
        self.plot_layout = QVBoxLayout(self.plot_area)
        self.plot_layout.setContentsMargins(0, 0, 0, 0)
        self.predict_panel = PredictPanel(document, self.history)
        self.running_changed.connect(self.predict_panel.set_running)
        self.plot_tabs = QTabWidget()
        self.plot_tabs.setDocumentMode(True)
        self.plot_tabs.addTab(self.plot_area, "Curves")
        self.plot_tabs.addTab(self.predict_panel, "Predict")
        self.plot_tabs.setTabToolTip(1, "What the trained network predicts for each validation sample")
        self.gradients_tab = GradientsTab(editor)
        self.running_changed.connect(self.gradients_tab.set_running)
        self.gradients_tab.warned.connect(self._gradient_warning)
        self.gradients_tab.message.connect(self.message)
        self.plot_tabs.addTab(self.gradients_tab, "Gradients")
        self._gradient_warning(False)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.side)
        layout.addWidget(self.plot_tabs, 1)

        self.form.context = RunContext().with_network(document.graph, document.analysis.model_nodes)
        self.form.fill_devices(self.cuda_names, document.project.training)
        self._show_settings()
        self.editor.undo_stack.indexChanged.connect(self._show_settings)
        document.analysis_changed.connect(self._update_buttons)
        document.analysis_changed.connect(self._network_changed)
        self.editor.undo_stack.indexChanged.connect(self._update_buttons)  # the import's gaps dismissed or filled
        document.path_changed.connect(self._path_changed)
        app = QCoreApplication.instance()
        if app is not None:  # the window normally shuts the panel down; this covers a quit without closing
            app.aboutToQuit.connect(self.shutdown)
        self._update_buttons()
        self._show_idle()

    # ---- the settings and the starting weights -----------------------------------------------------------

    def _show_settings(self, *_: object) -> None:
        self.form.show_settings(self.document.project.training)
        self._show_starting()
        if self.run is None:
            self._show_idle()

    def _network_changed(self, analysis: Any) -> None:  # batch norm drawn or taken away: what the settings change
        self.form.context = self.form.context.with_network(self.document.graph, analysis.model_nodes)
        self.form.show_settings(self.document.project.training)

    def _show_starting(self) -> None:
        """The starting weights' line: their file, or while a run goes the note of what it loaded."""
        note = self.run.start.starting if self.run is not None and self.run.start is not None else ""
        self.starting_row.show_weights(self.document.project.weights, note)

    def forget_starting_weights(self) -> bool:
        """Train from the seed from now on, undoably; False while a run goes or when there are none."""
        return self.run is None and self.editor.forget_starting_weights()

    def _edited(self, name: str, value: Any) -> None:
        if self.run is not None or value == getattr(self.document.project.training, name):
            return
        if not self.editor.set_setting(name, value):  # refused, and the editor said why
            self._show_settings()

    # ---- lazily loaded parts -----------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.on_shown(True)

    def on_shown(self, visible: bool) -> None:
        """The panel came into view or went out of it (shown, or its dock's tab chosen or left). The first
        time it stays in view, build the plots and ask torch for GPUs: checked on the next turn of the event
        loop, so a glimpse while the window arranges its docks loads nothing."""
        self._in_view = visible
        if visible and not self._shown_once:
            QTimer.singleShot(0, self._first_shown)

    def _first_shown(self) -> None:
        if self._shown_once or not self._in_view or not self.isVisible():
            return
        self._shown_once = True
        self.ensure_plots()
        self.probe_devices()

    def ensure_plots(self):
        """The plots (pyqtgraph is imported here, the first time)."""
        if self.plots is None:
            from netbuilder.ui.training.plots import TrainingPlots

            self.plots = TrainingPlots()
            self.plot_layout.addWidget(self.plots)
            self.plot_tabs.insertTab(1, self.plots.classes_page, "Classes")
            self.plot_tabs.setTabToolTip(1, "The confusion matrix and each class's precision, recall and F1")
            from netbuilder.ui.training.evaluation_tab import EvaluationTab

            self.evaluation_tab = EvaluationTab(self.predict_panel, self.document)
            self.plot_tabs.insertTab(2, self.evaluation_tab, self.evaluation_tab.title)
            self.plot_tabs.setTabToolTip(2, self.evaluation_tab.tip)
            self.evaluation_tab.title_changed.connect(self._name_evaluation_tab)
            self.plots.confusion_view.cell_clicked.connect(self.show_cell_samples)
            self.plots.show_past(self.history.records)
            last = self.history.records[-1] if self.history.records else None
            if last is not None and last.confusion:  # the project's last run, until the next one's first epoch
                self.plots.set_confusion(last.confusion, last.class_names, last.final.get("val_top5_accuracy"))
        return self.plots

    def _name_evaluation_tab(self, title: str, tip: str) -> None:
        index = self.plot_tabs.indexOf(self.evaluation_tab)
        self.plot_tabs.setTabText(index, title)
        self.plot_tabs.setTabToolTip(index, tip)

    def show_cell_samples(self, true: int, predicted: int) -> None:
        """A confusion-matrix cell was clicked: the Predict tab, showing only the samples it counts."""
        self.predict_panel.show_cell(true, predicted)
        self.plot_tabs.setCurrentWidget(self.predict_panel)

    def probe_devices(self) -> None:
        """Ask torch for CUDA GPUs in a task of its own (this also loads torch before Train is pressed)."""
        if self._probe is not None or self.cuda_names is not None:
            return
        self._probe = BackgroundTask(list_devices_loading_torch, "netbuilder device probe")
        self._probe.succeeded.connect(self._devices_found)
        self._probe.start()

    def _devices_found(self, names: list[str]) -> None:
        self._probe = None
        main_thread_collector().freeze_imports()  # torch is loaded now: keep it out of later collections
        self.cuda_names = list(names)
        self.form.fill_devices(self.cuda_names, self.document.project.training)
        self._show_settings()

    # ---- running -----------------------------------------------------------------------------------------

    @property
    def is_running(self) -> bool:
        return self.run is not None

    def start(self, *, resume_from: Path | None = None, settings: TrainingSettings | None = None) -> bool:
        """Train a snapshot of the project in a background task; False when a run is going or cannot start."""
        if self.run is not None or self._why_not_train():
            return False
        project = self.document.project
        if settings is not None:
            project = replace(project, training=settings)
        run_id = self.history.new_id()
        logs = self._tensorboard_folder() if self.tensorboard_box.isChecked() else None
        worker = TrainingWorker(
            project,
            run_id=run_id,
            run_dir=self.history.run_dir(run_id),
            resume_from=resume_from,
            tensorboard=logs / run_id if logs is not None else None,
        )
        worker.started.connect(self._on_started)
        worker.progress.connect(self._on_progress)
        worker.epoch_ended.connect(self._on_epoch)
        worker.gradients.connect(self.gradients_tab.add_report)
        self.gradients_tab.begin_run(project)
        task = BackgroundTask(worker.run, "netbuilder training")
        task.succeeded.connect(self._on_finished)
        self.run = _Run(run_id, worker, task, time.time())
        self.ensure_plots()
        self.plot_tabs.setCurrentWidget(self.plot_area)  # the curves move while it trains
        self._warn_about_memory(project)
        self.progress.setRange(0, 0)  # busy until the first step: loading torch and the data
        self.progress.setFormat("starting…")
        self.metrics_label.setText(
            "Continuing from the checkpoint…" if resume_from else "Loading the data and building the model…"
        )
        self._update_buttons()
        task.start()
        self.running_changed.emit(True)
        return True

    def _warn_about_memory(self, project: Project) -> None:
        """The banner says when the run may not fit in its device's memory (an estimate: it still starts);
        a network whose parameters alone do not fit is refused by the run itself, in the same words."""
        try:
            warning = training_memory_warning(self.document.analysis, project.training)
        except ModelTooLarge:
            warning = None
        self.banner_text.setText(warning or "")
        self.banner.setVisible(warning is not None)

    def continue_last(self) -> bool:
        """Go on from the checkpoint of the last run, if it was stopped; with its batch size, split and seed
        (so the data and the batch order are the ones it had), and the epochs now set."""
        found = self.history.continuable()
        if found is None:
            return False
        record, checkpoint = found
        current = self.document.project.training
        kept = {k: record.settings[k] for k in ("batch_size", "val_fraction", "seed") if k in record.settings}
        return self.start(resume_from=checkpoint, settings=replace(current, **kept))

    def pause(self) -> None:
        if self.run is not None:
            self.run.worker.pause()
            self.progress.setFormat("paused · " + self.progress.format().removeprefix("paused · "))
            self._update_buttons()

    def resume(self) -> None:
        if self.run is not None:
            self.run.worker.resume()
            self.progress.setFormat(self.progress.format().removeprefix("paused · "))
            self._update_buttons()

    def stop(self) -> None:
        """Ask the run to end after its current step; the task's outcome then ends it here."""
        if self.run is not None:
            self.run.worker.stop()
            self.progress.setFormat("stopping…")
            self._update_buttons()

    def find_learning_rate(self) -> QWidget | None:
        """Open the learning-rate range test for this project (window-modal; it starts at once) and return its
        dialog; None when it cannot run now (the status bar says why)."""
        why = self._why_not_find_rate()
        if why:
            self.message.emit(why)
            return None
        from netbuilder.ui.training.lr_find_dialog import LrFindDialog  # pyqtgraph loads here

        if self.lr_dialog is not None:
            self.lr_dialog.deleteLater()
        optimizer = self.document.analysis.training_task.optimizer_node
        self.lr_dialog = LrFindDialog(self.editor, optimizer, self.window())
        self.lr_dialog.open()
        self.lr_dialog.start()
        return self.lr_dialog

    def _why_not_find_rate(self) -> str:
        """Why the range test cannot run now ("" when it can)."""
        if self.run is not None:
            return "A run is training: find a learning rate once it has ended"
        why = self._why_not_train()
        if not why and self.document.analysis.training_task is None:
            why = "The network needs a dataset, a loss and an optimizer to train"
        return why

    def set_sweeping(self, sweeping: bool) -> None:
        """The sweep dialog's runs train (or have ended): Train, Continue and the range test wait for them."""
        self.sweeping = sweeping
        self._update_buttons()
        if not sweeping and self.run is None:
            self._show_idle()

    def why_not_sweep(self) -> str:
        """Why a sweep cannot start now ("" when it can): a run is training, or the project cannot train."""
        if self.run is not None:
            return "A run is training: start the sweep once it has ended"
        return self._why_not_train()

    def shutdown(self) -> None:
        """Stop any run and join every task of this panel, now (the window is closing or the document
        is being let go). The stopped run is kept in the history, with its checkpoint."""
        run = self.run
        if run is not None:
            run.worker.stop()
            run.task.join()
            self._end(run, run.task.result or RunEnd("stopped", "stopped when the window closed"))
        if self._probe is not None:
            self._probe.join()
            self._probe = None
        if self.lr_dialog is not None:
            self.lr_dialog.shutdown()
        self.batch_finder.shutdown()
        self.predict_panel.shutdown()
        if self.plots is not None:
            self.plots.timer.stop()

    def _on_started(self, start: RunStart) -> None:
        if self.run is None or self.sender() is not self.run.worker:
            return
        self.run.start = start
        total = start.epochs * start.steps_per_epoch
        self.plots.begin_run(
            start.classification, self.history.records, start.history, steps=total, epochs=start.epochs
        )
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(min(total, start.global_step))
        epoch = min(start.epochs, len(start.history) + 1)
        self._set_progress_text(f"epoch {epoch}/{start.epochs} · step 0/{start.steps_per_epoch}")
        self.metrics_label.setText(f"Training on {start.device}.")
        self._show_starting()

    def _on_progress(self, progress: Any) -> None:
        if self.run is None or self.sender() is not self.run.worker:
            return
        self.plots.add_losses(progress.global_step, progress.losses)
        done = (progress.epoch - 1) * progress.steps_per_epoch + progress.step
        self.progress.setValue(min(self.progress.maximum(), done))
        self._set_progress_text(
            f"epoch {progress.epoch}/{progress.epochs} · step {progress.step}/{progress.steps_per_epoch}"
            f" · {duration(progress.seconds_left)} left"
        )
        device = self.run.start.device if self.run.start else ""
        if progress.note:  # compiling the step, and how long it took
            self.metrics_label.setText(f"Training on {device}: {progress.note}")
            return
        self.run.speed = f"{progress.samples_per_second:,.0f} samples/s"
        if self.run.last_epoch is None and progress.losses:  # after the first epoch: the epoch's words
            self.metrics_label.setText(f"Training on {device}: step loss {progress.losses[-1]:.3g} · {self.run.speed}")

    def _on_epoch(self, event: Any) -> None:
        if self.run is None or self.sender() is not self.run.worker:
            return
        record = epoch_entry(event)
        self.run.last_epoch = record
        self.plots.add_epoch(record)
        if event.confusion and self.run.start is not None:  # the matrix and its figures follow each epoch
            self.plots.set_confusion(event.confusion, self.run.start.class_names, record.get("val_top5_accuracy"))
        if self.run.start is not None:
            self.progress.setValue(min(self.progress.maximum(), event.epoch * self.run.start.steps_per_epoch))
        self.metrics_label.setText(epoch_in_words(record) + (f" · {self.run.speed}" if self.run.speed else ""))

    def _on_finished(self, end: RunEnd) -> None:
        run = self.run
        if run is None or self.sender() is not run.task:
            return  # a run already ended by shutdown()
        self._end(run, end)

    def _end(self, run: _Run, end: RunEnd) -> None:
        """The run is over and its task joined: keep it in the history, say how it went, unlock."""
        self.run = None
        run.worker.started.disconnect(self._on_started)
        run.worker.progress.disconnect(self._on_progress)
        run.worker.epoch_ended.disconnect(self._on_epoch)
        run.worker.gradients.disconnect(self.gradients_tab.add_report)
        if self.plots is not None:
            self.plots.refresh(everything=True)
            if end.confusion:  # the last epoch's, whatever ended the run: a stopped run shows it too
                self.plots.set_confusion(end.confusion, end.class_names, end.val_metrics.get("val_top5_accuracy"))
        record = None
        if end.started:
            record = run.worker.recorder.record(  # made from the engine's events, never from the plots
                weights=self.history.relative(end.weights), checkpoint=self.history.relative(end.checkpoint)
            )
            try:
                self.history.add(record)
            except OSError as err:
                self.message.emit(f"The run could not be kept beside the project: {err}")
            self.predict_panel.set_run(record)
            self.runs_changed.emit()
        self._show_outcome(end, time.time() - run.began)
        self._show_starting()
        self._update_buttons()
        self.running_changed.emit(False)

    def _gradient_warning(self, shown: bool) -> None:
        """The Gradients tab's title carries a warning sign while its warning shows."""
        index = self.plot_tabs.indexOf(self.gradients_tab)
        icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning) if shown else QIcon()
        self.plot_tabs.setTabIcon(index, icon)
        self.plot_tabs.setTabToolTip(
            index,
            "The gradients explode or vanish: see why and what to change"
            if shown
            else "Each layer's gradient norm over the run, and a warning when gradients explode or vanish",
        )

    # ---- what the panel says -----------------------------------------------------------------------------

    def _set_progress_text(self, text: str) -> None:
        paused = self.run is not None and self.run.worker.paused
        self.progress.setFormat(("paused · " if paused else "") + text)

    def _show_idle(self) -> None:
        if self.sweeping:  # not what Train would do: it waits for the sweep
            self.metrics_label.setText(self._why_not_train())
            return
        self.metrics_label.setText(idle_words(self.document.project.training, self.history.records))

    def _show_outcome(self, end: RunEnd, seconds: float) -> None:
        self.metrics_label.setToolTip(str(end.weights) if end.weights is not None else "")
        said = outcome_words(end, seconds, saved=self.document.path is not None)
        self.progress.setRange(0, 1)
        self.progress.setValue(said.progress_value)
        self.progress.setFormat(said.progress)
        self._show_text(said.text, banner=end.status == "failed")
        self.message.emit(said.status_line)

    def _show_text(self, text: str, banner: bool) -> None:
        if banner:
            self.banner_text.setText(text)
            self.banner.show()
            self.metrics_label.setText("")
            self.metrics_label.hide()
        else:
            self.banner.hide()
            self.metrics_label.setText(text)
            self.metrics_label.show()

    def outcome_text(self) -> str:
        """What the panel says about the last run (the banner when it failed)."""
        return self.banner_text.text() if self.banner.isVisible() else self.metrics_label.text()

    def _why_not_train(self) -> str:
        """Why the project cannot train now ("" when it can)."""
        if self.sweeping:
            return "A sweep is training: Train is back once it ends (Training > Sweep… shows it, and stops it)"
        if self.batch_finder.busy:
            return "Finding the batch size: Train is back once the search ends (Stop ends it)"
        errors = [d for d in self.document.analysis.problems(training=True) if d.is_error]
        if errors:
            return f"Fix the problems first (see the Problems tab): {errors[0].message}"
        gaps = self.document.project.import_gaps
        if gaps:  # a call missing at the very end of forward() leaves no error: the model would stop before it
            return (
                f"{sentence(gaps_headline(len(gaps)))} (the banner above the canvas lists them): add what they "
                "computed, or dismiss them, before training"
            )
        return ""

    def _update_buttons(self, *_: object) -> None:
        running = self.run is not None
        why = self._why_not_train()
        continuable = None if running else self.history.continuable()
        self.controls.set_state(
            running=running,
            paused=running and self.run.worker.paused,
            stopping=running and self.run.worker.stopping,
            why_not=why,
            continuable=continuable[0] if continuable is not None else None,
        )
        self.form.setEnabled(not running)
        self.forget_button.setEnabled(not running)
        why_not_rate = self._why_not_find_rate()
        self.find_rate_action.setEnabled(not why_not_rate)
        self.find_rate_button.setEnabled(not why_not_rate)
        rate_tip = why_not_rate or FIND_RATE_TIP
        self.find_rate_action.setStatusTip(rate_tip)
        self.find_rate_button.setToolTip(rate_tip)
        self.batch_finder.set_blocked(why_not_rate.replace("find a learning rate", "find the batch size"))
        if not running and why and not self.banner.isVisible():
            self.metrics_label.setText(why)
        elif not running and not why and self.metrics_label.text().startswith("Fix the problems"):
            self._show_idle()

    def _path_changed(self, path: Path | None) -> None:
        self._show_starting()  # a first save copied the weights beside the project, under its name
        try:
            self.history.set_project_path(path)
        except OSError as err:
            self.message.emit(f"The runs could not be written beside the project: {err}")
        self.controls.show_tensorboard_folder(self._tensorboard_folder())

    def _tensorboard_folder(self) -> Path | None:
        """Where runs write their TensorBoard logs, one folder each: beside the project's runs (None unsaved)."""
        return self.history.folder / TENSORBOARD_FOLDER if self.history.folder is not None else None

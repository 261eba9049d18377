"""The Training panel: the project's training settings (and the starting weights, which can be forgotten), Train /
Pause / Resume / Stop, progress with time left, the metrics in words, live plots, and how the run ended, calmly,
with what to do next.

A run trains a snapshot of the project in a TrainingWorker on a QThread; this panel only listens to the
worker's signals. torch and pyqtgraph load when they are first needed (the plots when the panel is first
shown, torch in a background thread then, or when Train is pressed), never while the window opens.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QSignalBlocker, Qt, QThread, QTimer, Signal
from PySide6.QtGui import QPalette, QShowEvent, QUndoCommand
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStyle,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from netbuilder.project import TrainingSettings
from netbuilder.project.run_history import RunHistory, RunRecord, coarsen
from netbuilder.ui.editor.controller import EditorController
from netbuilder.ui.editor.document import Document
from netbuilder.ui.main_thread_gc import main_thread_collector
from netbuilder.ui.predict_panel import PredictPanel
from netbuilder.ui.training_worker import DeviceProbe, RunEnd, RunStart, TrainingWorker
from netbuilder.ui.widgets.banner import Banner
from netbuilder.ui.widgets.colors import contrast, readable_on
from netbuilder.ui.widgets.inputs import DoubleSpinBox, SpinBox

# what each setting is called on screen, in the order of the form
LABELS = {
    "epochs": "Epochs",
    "batch_size": "Batch size",
    "val_fraction": "Validation",
    "seed": "Seed",
    "device": "Device",
    "precision": "Precision",
    "grad_clip": "Clip gradients",
    "early_stopping": "Early stop",
}
TIPS = {
    "epochs": "How many times training goes through the whole training set",
    "batch_size": "Samples per step; smaller batches use less memory, larger ones run faster on a GPU",
    "val_fraction": "The share of the data held out to check the network on data it did not learn from",
    "seed": "Fixes the data split, the first weights and the batch order: the same seed, the same run",
    "device": "Where training runs; auto takes the GPU when there is one",
    "precision": "bf16 / fp16 train in mixed precision on a CUDA GPU (faster, less memory); the CPU uses fp32",
    "grad_clip": "Largest gradient norm allowed in a step (off = no clipping); helps when the loss jumps",
    "early_stopping": "End the run when the validation loss has not improved for this many epochs",
}
_COMMAND_ID = 0x4E42  # settings edits of one field in a row merge into one undo step


class SetTrainingSettingCommand(QUndoCommand):
    """Change one training setting, undoably. The settings are not part of the graph, so this is the one edit
    that does not record graph events; it marks the document modified like any other command."""

    def __init__(self, document: Document, name: str, value: Any) -> None:
        super().__init__()
        self.document = document
        self.name = name
        self.old = getattr(document.project.training, name)
        self.new = value
        self._describe()

    def _describe(self) -> None:
        self.setText(f"Set {LABELS[self.name].lower()} to {_shown(self.name, self.new)}")

    def id(self) -> int:
        return _COMMAND_ID + list(LABELS).index(self.name)

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetTrainingSettingCommand) or other.name != self.name:
            return False
        self.new = other.new
        self._describe()
        self.setObsolete(self.new == self.old)
        return True

    def redo(self) -> None:
        self._set(self.new)

    def undo(self) -> None:
        self._set(self.old)

    def _set(self, value: Any) -> None:
        project = self.document.project
        project.training = replace(project.training, **{self.name: value})
        self.document.reanalyze()  # the code tab shows train.py, which holds these settings


class ForgetStartingWeightsCommand(QUndoCommand):
    """Train from the seed again: the project stops pointing at its starting weights. The file itself stays
    where it is, so Undo brings them back."""

    def __init__(self, document: Document) -> None:
        super().__init__("Forget the starting weights")
        self.document = document
        self.weights = document.project.weights

    def redo(self) -> None:
        self._set(None)

    def undo(self) -> None:
        self._set(self.weights)

    def _set(self, weights: Path | None) -> None:
        self.document.project.weights = weights
        self.document.reanalyze()  # the code tab shows train.py, which loads them or not


def _shown(name: str, value: Any) -> str:
    if name == "val_fraction":
        return f"{value:.0%}"
    if name in ("grad_clip", "early_stopping") and not value:
        return "off"
    return str(value)


def duration(seconds: float) -> str:
    """1:05, or 1:02:03 past an hour."""
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


def metrics_in_words(record: dict[str, Any]) -> str:
    """'validation accuracy 97.2%, loss 0.0912' from an epoch record (or the final metrics of a run)."""
    parts = []
    if isinstance(record.get("val_accuracy"), float):
        parts.append(f"accuracy {record['val_accuracy']:.1%}")
    for key, name in (("val_mae", "mean abs error"), ("val_r2", "R²")):
        if isinstance(record.get(key), float):
            parts.append(f"{name} {record[key]:.4g}")
    if isinstance(record.get("val_loss"), float):
        parts.append(f"loss {record['val_loss']:.3g}")
    if parts:
        return "validation " + ", ".join(parts)
    if isinstance(record.get("train_loss"), float):
        return f"training loss {record['train_loss']:.4g}"
    return ""


def _epoch_record(event: Any) -> dict[str, Any]:
    """An engine EpochEnd as the engine's own history entry."""
    return {
        "epoch": event.epoch,
        "train_loss": event.train_loss,
        "train_accuracy": event.train_accuracy,
        "val_loss": event.val_loss,
        **{f"val_{k}": v for k, v in event.val_metrics.items()},
        "learning_rate": event.learning_rate,
    }


@dataclass
class _Run:
    """The run going on: its id, worker and thread, and what the panel has heard of it."""

    run_id: str
    worker: TrainingWorker
    thread: QThread
    settings: TrainingSettings
    began: float
    start: RunStart | None = None
    last_epoch: dict[str, Any] | None = None
    speed: str = ""


class TrainingPanel(QWidget):
    """The Training dock's contents for one document. The window calls `shutdown()` before it lets the
    document go (stops the run and joins its thread), and locks editing while `running_changed` says True."""

    running_changed = Signal(bool)  # True when a run starts; False once it has ended and its thread is joined
    message = Signal(str)  # a line for the status bar: how a run ended

    def __init__(self, editor: EditorController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = editor  # every settings change is pushed through it, onto its undo stack
        self.document = document = editor.document
        self.history = RunHistory(document.path)
        self.plots = None  # TrainingPlots, made when the panel is first shown (pyqtgraph loads then)
        self.run: _Run | None = None
        self.cuda_names: list[str] | None = None  # None until torch has been asked
        self._probe: tuple[DeviceProbe, QThread] | None = None
        self._shown_once = False
        self._in_view = False

        self.fields: dict[str, QWidget] = {}
        form = QGridLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.setHorizontalSpacing(6)
        form.setVerticalSpacing(3)
        for index, name in enumerate(LABELS):
            editor = self._make_field(name)
            editor.setMaximumWidth(110)
            label = QLabel(LABELS[name])
            label.setBuddy(editor)
            label.setToolTip(TIPS[name])
            editor.setToolTip(TIPS[name])
            row, column = divmod(index, 2)
            form.addWidget(label, row, column * 2)
            form.addWidget(editor, row, column * 2 + 1)
            self.fields[name] = editor
        form.setColumnStretch(1, 1)
        form.setColumnStretch(3, 1)
        self.form = QWidget()
        self.form.setLayout(form)

        self.starting_label = QLabel()
        self.starting_label.setWordWrap(True)
        self.starting_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.forget_button = QPushButton("Forget")
        self.forget_button.setToolTip("Train from the seed instead of these weights (Undo brings them back)")
        self.forget_button.clicked.connect(self.forget_starting_weights)
        self.starting_row = QWidget()
        starting = QHBoxLayout(self.starting_row)
        starting.setContentsMargins(0, 0, 0, 0)
        starting.addWidget(self.starting_label, 1)
        starting.addWidget(self.forget_button, 0, Qt.AlignmentFlag.AlignTop)

        self.train_button = QPushButton("Train")
        self.train_button.setToolTip("Train the network with these settings (the graph is locked meanwhile)")
        self.train_button.clicked.connect(self.start)
        self.continue_button = QPushButton("Continue")
        self.continue_button.clicked.connect(self.continue_last)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setToolTip("Pause between two steps")
        self.pause_button.clicked.connect(self.pause)
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Go on from the step where the run paused")
        self.resume_button.clicked.connect(self.resume)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("End the run after the current step; it keeps a checkpoint to continue from")
        self.stop_button.clicked.connect(self.stop)
        style = self.style()
        for button, icon in (
            (self.train_button, QStyle.StandardPixmap.SP_MediaPlay),
            (self.pause_button, QStyle.StandardPixmap.SP_MediaPause),
            (self.resume_button, QStyle.StandardPixmap.SP_MediaPlay),
            (self.stop_button, QStyle.StandardPixmap.SP_MediaStop),
            (self.continue_button, QStyle.StandardPixmap.SP_MediaSeekForward),
        ):
            button.setIcon(style.standardIcon(icon))
        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        for button in (self.train_button, self.continue_button, self.pause_button, self.resume_button):
            buttons.addWidget(button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)

        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("ready")
        self.progress.setAlignment(Qt.AlignmentFlag.AlignCenter)

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
        side_layout.addWidget(self.form)
        side_layout.addWidget(self.starting_row)
        side_layout.addLayout(buttons)
        side_layout.addWidget(self.progress)
        side_layout.addWidget(self.metrics_label)
        side_layout.addWidget(self.banner)
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

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.side)
        layout.addWidget(self.plot_tabs, 1)

        self._fill_devices()
        self._show_settings()
        self._apply_palette()
        self.editor.undo_stack.indexChanged.connect(self._show_settings)
        document.analysis_changed.connect(self._update_buttons)
        document.path_changed.connect(self._path_changed)
        app = QCoreApplication.instance()
        if app is not None:  # the window normally shuts the panel down; this covers a quit without closing
            app.aboutToQuit.connect(self.shutdown)
        self._update_buttons()
        self._show_idle()

    # ---- the settings form -------------------------------------------------------------------------------

    def _make_field(self, name: str) -> QWidget:
        if name in ("epochs", "batch_size"):
            editor = SpinBox(1, 1_000_000)
        elif name == "seed":
            editor = SpinBox(0, 2**31 - 1)
        elif name == "early_stopping":
            editor = SpinBox(0, 100_000)
            editor.setSpecialValueText("off")
        elif name == "val_fraction":
            editor = DoubleSpinBox(0.0, 90.0, 0, 5.0)
            editor.setSuffix(" %")
        elif name == "grad_clip":
            editor = DoubleSpinBox(0.0, 1e6, 2, 0.5)
            editor.setSpecialValueText("off")
        else:
            editor = QComboBox()
            editor.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            editor.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            editor.setMinimumContentsLength(5)
            if name == "precision":
                for value in ("fp32", "bf16", "fp16"):
                    editor.addItem(value, value)
            editor.currentIndexChanged.connect(lambda _i, n=name, e=editor: self._edited(n, e.currentData()))
            return editor
        if isinstance(editor, QAbstractSpinBox):
            editor.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.UpDownArrows)
        if name == "val_fraction":
            editor.valueChanged.connect(lambda value: self._edited("val_fraction", round(value / 100, 4)))
        else:
            editor.valueChanged.connect(lambda value, n=name: self._edited(n, value))
        return editor

    def _fill_devices(self) -> None:
        """auto, cpu, and cuda: <GPU name> only where torch found one (asked when the panel is first shown)."""
        combo: QComboBox = self.fields["device"]
        with QSignalBlocker(combo):
            combo.clear()
            combo.addItem("auto", "auto")
            combo.addItem("cpu", "cpu")
            if self.cuda_names:
                combo.addItem(f"cuda: {self.cuda_names[0]}", "cuda")
            elif self.document.project.training.device == "cuda":  # keep what the file says, and say why
                combo.addItem("cuda" if self.cuda_names is None else "cuda (no GPU here)", "cuda")
        self._show_settings()

    def _show_settings(self, *_: object) -> None:
        settings = self.document.project.training
        for name, editor in self.fields.items():
            value = getattr(settings, name)
            with QSignalBlocker(editor):
                if isinstance(editor, QComboBox):
                    editor.setCurrentIndex(max(0, editor.findData(value)))
                elif name == "val_fraction":
                    editor.setValue(value * 100)
                else:
                    editor.setValue(value)
        self._show_starting()
        if self.run is None:
            self._show_idle()

    def _show_starting(self) -> None:
        """The starting weights' line, when the project has them: their file, or while a run goes the note
        of what it loaded (and which layers start from the seed)."""
        weights = self.document.project.weights
        self.starting_row.setVisible(weights is not None)
        if weights is None:
            return
        note = self.run.start.starting if self.run is not None and self.run.start is not None else ""
        self.starting_label.setText(note[:1].upper() + note[1:] if note else f"Starts from {weights.name}")
        self.starting_label.setToolTip(
            f"{weights}\nTraining starts from these weights; layers whose shape changed since start from the seed"
        )

    def forget_starting_weights(self) -> bool:
        """Train from the seed from now on, undoably; False while a run goes or when there are none."""
        if self.run is not None or self.document.project.weights is None:
            return False
        self.editor.push(ForgetStartingWeightsCommand(self.document))
        return True

    def _edited(self, name: str, value: Any) -> None:
        if self.run is not None or value == getattr(self.document.project.training, name):
            return
        try:
            replace(self.document.project.training, **{name: value})  # refused values never reach the stack
        except ValueError as err:
            self.message.emit(str(err))
            self._show_settings()
            return
        self.editor.push(SetTrainingSettingCommand(self.document, name, value))

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
            from netbuilder.ui.training_plots import TrainingPlots

            self.plots = TrainingPlots()
            self.plot_layout.addWidget(self.plots)
            self.plots.show_past(self.history.records)
        return self.plots

    def probe_devices(self) -> None:
        """Ask torch for CUDA GPUs on a thread of its own (this also loads torch before Train is pressed)."""
        if self._probe is not None or self.cuda_names is not None:
            return
        probe, thread = DeviceProbe(), QThread()
        thread.setObjectName("netbuilder device probe")
        probe.moveToThread(thread)
        thread.started.connect(probe.run)
        probe.found.connect(self._devices_found)
        self._probe = (probe, thread)
        main_thread_collector().hold()
        thread.start()

    def _devices_found(self, names: list[str]) -> None:
        self._join_probe()
        main_thread_collector().freeze_imports()  # torch is loaded now: keep it out of later collections
        self.cuda_names = list(names)
        self._fill_devices()

    def _join_probe(self) -> None:
        if self._probe is not None:
            _probe, thread = self._probe
            thread.quit()
            thread.wait()
            self._probe = None
            main_thread_collector().release()

    # ---- running -----------------------------------------------------------------------------------------

    @property
    def is_running(self) -> bool:
        return self.run is not None

    def start(self, *, resume_from: Path | None = None, settings: TrainingSettings | None = None) -> bool:
        """Train a snapshot of the project in a worker thread; False when a run is going or cannot start."""
        if self.run is not None or not self._can_train()[0]:
            return False
        project = self.document.project
        if settings is not None:
            project = replace(project, training=settings)
        run_id = self.history.new_id()
        worker = TrainingWorker(project, run_dir=self.history.run_dir(run_id), resume_from=resume_from)
        thread = QThread()
        thread.setObjectName("netbuilder training")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.started.connect(self._on_started)
        worker.progress.connect(self._on_progress)
        worker.epoch_ended.connect(self._on_epoch)
        worker.finished.connect(self._on_finished)
        self.run = _Run(run_id, worker, thread, worker.project.training, time.time())
        self.ensure_plots()
        self.plot_tabs.setCurrentWidget(self.plot_area)  # the curves move while it trains
        self.banner.hide()
        self.progress.setRange(0, 0)  # busy until the first step: loading torch and the data
        self.progress.setFormat("starting…")
        self.metrics_label.setText(
            "Continuing from the checkpoint…" if resume_from else "Loading the data and building the model…"
        )
        self._update_buttons()
        main_thread_collector().hold()
        thread.start()
        self.running_changed.emit(True)
        return True

    def continue_last(self) -> bool:
        """Go on from the checkpoint of the last run, if it was stopped; with its batch size, split and seed
        (so the data and the batch order are the ones it had), and the epochs now set."""
        found = self._continuable()
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
        """Ask the run to end after its current step; `finished` then joins the thread."""
        if self.run is not None:
            self.run.worker.stop()
            self.progress.setFormat("stopping…")
            self._update_buttons()

    def shutdown(self) -> None:
        """Stop any run and join every thread of this panel, now (the window is closing or the document
        is being let go). The stopped run is kept in the history, with its checkpoint."""
        run = self.run
        if run is not None:
            run.worker.stop()
            run.thread.quit()
            run.thread.wait()
            self._end(run, run.worker.result or RunEnd("stopped", "stopped when the window closed"))
        self._join_probe()
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
        self.run.speed = f"{progress.samples_per_second:,.0f} samples/s"
        if self.run.last_epoch is None and progress.losses:  # after the first epoch: the epoch's words
            device = self.run.start.device if self.run.start else ""
            self.metrics_label.setText(f"Training on {device}: step loss {progress.losses[-1]:.3g} · {self.run.speed}")

    def _on_epoch(self, event: Any) -> None:
        if self.run is None or self.sender() is not self.run.worker:
            return
        record = _epoch_record(event)
        self.run.last_epoch = record
        self.plots.add_epoch(record)
        if self.run.start is not None:
            self.progress.setValue(min(self.progress.maximum(), event.epoch * self.run.start.steps_per_epoch))
        self.metrics_label.setText(self._epoch_words(record) + (f" · {self.run.speed}" if self.run.speed else ""))

    def _epoch_words(self, record: dict[str, Any]) -> str:
        train = f"train loss {record['train_loss']:.3g}"
        if isinstance(record.get("train_accuracy"), float):
            train += f", accuracy {record['train_accuracy']:.1%}"
        validation = metrics_in_words(record)
        return f"Epoch {record['epoch']}: {train}" + (f"; {validation}" if validation.startswith("validation") else "")

    def _on_finished(self, end: RunEnd) -> None:
        run = self.run
        if run is None or self.sender() is not run.worker:
            return  # a run already ended by shutdown()
        run.thread.quit()
        run.thread.wait()
        self._end(run, end)

    def _end(self, run: _Run, end: RunEnd) -> None:
        """The run is over and its thread joined: keep it in the history, say how it went, unlock."""
        self.run = None
        main_thread_collector().release()
        run.worker.started.disconnect(self._on_started)
        run.worker.progress.disconnect(self._on_progress)
        run.worker.epoch_ended.disconnect(self._on_epoch)
        run.worker.finished.disconnect(self._on_finished)
        if self.plots is not None:
            self.plots.refresh(everything=True)
            if end.confusion:
                self.plots.set_confusion(end.confusion, end.class_names)
        record = None
        if end.started:
            record = self._record(run, end)
            try:
                self.history.add(record)
            except OSError as err:
                self.message.emit(f"The run could not be kept beside the project: {err}")
            self.predict_panel.set_run(record)
        self._show_outcome(end, record, time.time() - run.began)
        self._show_starting()
        self._update_buttons()
        self.running_changed.emit(False)

    def _record(self, run: _Run, end: RunEnd) -> RunRecord:
        steps, losses = self.plots.smoothed_steps() if self.plots is not None else ([], [])
        folder = self.history.folder

        def relative(path: Path | None) -> str | None:
            if path is None or folder is None or not path.is_relative_to(folder):
                return None  # (saved elsewhere during the run: the record cannot point to it)
            return path.relative_to(folder).as_posix()

        return RunRecord(
            run_id=run.run_id,
            status=end.status,
            message=end.message,
            started=run.began,
            seconds=time.time() - run.began,
            device=run.start.device if run.start else "",
            settings=run.settings.to_dict(),
            epochs_done=end.epochs_done,
            global_step=end.global_step,
            history=end.history,
            steps=coarsen(steps, losses),
            final=dict(end.val_metrics),
            confusion=end.confusion,
            class_names=list(end.class_names),
            weights=relative(end.weights),
            checkpoint=relative(end.checkpoint),
        )

    # ---- what the panel says -----------------------------------------------------------------------------

    def _set_progress_text(self, text: str) -> None:
        paused = self.run is not None and self.run.worker.paused
        self.progress.setFormat(("paused · " if paused else "") + text)

    def _show_idle(self) -> None:
        settings = self.document.project.training
        last = self.history.records[-1] if self.history.records else None
        if last is None:
            self.metrics_label.setText(
                f"Press Train to train this network: {settings.epochs} epochs, batches of {settings.batch_size}."
            )
            return
        earlier = len(self.history.records)
        when = time.strftime("%d %b %H:%M", time.localtime(last.started)) if last.started else last.run_id
        result = metrics_in_words(last.final) or last.status
        self.metrics_label.setText(
            f"Last run ({when}): {last.status}, {result}.\n"
            f"{earlier} run{'s' if earlier != 1 else ''} of this project drawn faintly behind the next."
        )

    def _show_outcome(self, end: RunEnd, record: RunRecord | None, seconds: float) -> None:
        result = metrics_in_words(end.val_metrics)
        where = ""
        self.metrics_label.setToolTip(str(end.weights) if end.weights is not None else "")
        if end.weights is not None and self.document.path is not None:
            where = f" Weights saved in {end.weights.parent.parent.name}/."
        elif end.started and self.document.path is None:
            where = " Save the project to keep the weights of its runs."
        self.progress.setRange(0, 1)
        if end.status == "completed":
            self.progress.setValue(1)
            self.progress.setFormat(f"done · {end.epochs_done} epochs in {duration(seconds)}")
            text = f"Done: {result}." if result else "Done."
            self._show_text(text + where, banner=False)
            self.message.emit(f"Training done: {result}" if result else "Training done")
        elif end.status == "early-stopped":
            self.progress.setValue(1)
            self.progress.setFormat(f"stopped early · epoch {end.epochs_done}")
            self._show_text(f"Stopped early after {end.epochs_done} epochs: {end.message}. {result}.{where}", False)
            self.message.emit(f"Training stopped early after {end.epochs_done} epochs")
        elif end.status == "stopped":
            self.progress.setValue(0)
            self.progress.setFormat(f"stopped · epoch {end.epochs_done + 1}, step {end.global_step}")
            more = " Continue goes on from where it stopped." if end.checkpoint is not None else ""
            done = f" After {end.epochs_done} epochs: {result}." if result and end.epochs_done else ""
            self._show_text(f"Stopped.{done}{more}{where if end.weights else ''}", banner=False)
            self.message.emit("Training stopped")
        else:
            self.progress.setValue(0)
            self.progress.setFormat("did not finish")
            self._show_text(_failure_advice(end.message), banner=True)
            self.message.emit("Training did not finish: see the Training panel")

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

    def _can_train(self) -> tuple[bool, str]:
        errors = [d for d in self.document.analysis.problems(training=True) if d.is_error]
        if errors:
            return False, f"Fix the problems first (see the Problems tab): {errors[0].message}"
        return True, ""

    def _continuable(self) -> tuple[RunRecord, Path] | None:
        if not self.history.records:
            return None
        last = self.history.records[-1]
        if last.status != "stopped":
            return None
        checkpoint = self.history.file_path(last, last.checkpoint)
        return (last, checkpoint) if checkpoint is not None else None

    def _update_buttons(self, *_: object) -> None:
        running = self.run is not None
        paused = running and self.run.worker.paused
        stopping = running and self.run.worker.stopping
        can, why = self._can_train()
        self.train_button.setEnabled(not running and can)
        self.train_button.setToolTip(why or "Train the network with these settings (the graph is locked meanwhile)")
        continuable = None if running else self._continuable()
        self.continue_button.setVisible(continuable is not None)
        self.continue_button.setEnabled(continuable is not None and can)
        if continuable is not None:
            record = continuable[0]
            self.continue_button.setToolTip(
                f"Go on from where the run of {record.run_id} stopped (epoch {record.epochs_done + 1}, "
                f"step {record.global_step}), with its batch size, split and seed"
            )
        self.pause_button.setVisible(not paused)
        self.pause_button.setEnabled(running and not stopping)
        self.resume_button.setVisible(paused)
        self.resume_button.setEnabled(paused and not stopping)
        self.stop_button.setEnabled(running and not stopping)
        self.form.setEnabled(not running)
        self.forget_button.setEnabled(not running)
        if not running and not can and not self.banner.isVisible():
            self.metrics_label.setText(why)
        elif not running and can and self.metrics_label.text().startswith("Fix the problems"):
            self._show_idle()

    def _path_changed(self, path: Path | None) -> None:
        self._show_starting()  # a first save copied the weights beside the project, under its name
        try:
            self.history.set_project_path(path)
        except OSError as err:
            self.message.emit(f"The runs could not be written beside the project: {err}")

    # ---- palette -----------------------------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()

    def _apply_palette(self) -> None:
        palette = self.palette()
        # the text over the bar's filled part: the palette's own unless it is hard to read there
        bar = QPalette(palette)
        fill = palette.color(QPalette.ColorRole.Highlight)
        own = palette.color(QPalette.ColorRole.HighlightedText)
        if contrast(own, fill) < 3.0:
            candidates = (own, palette.color(QPalette.ColorRole.Text), palette.color(QPalette.ColorRole.Base))
            bar.setColor(QPalette.ColorRole.HighlightedText, readable_on(fill, *candidates))
        self.progress.setPalette(bar)


def _failure_advice(message: str) -> str:
    """The engine's message, with what to do next when it does not say so itself."""
    text = message.strip() or "training stopped with an error"
    text = text[0].upper() + text[1:]
    if not text.endswith((".", "!", "?")):
        text += "."
    lower = message.lower()
    if lower.startswith("fix the problems first"):
        return text + " The Problems tab lists them."
    if "ran out of memory" in lower or "the loss became" in lower or "no cuda gpu" in lower:
        return text  # these messages already say what to try
    if ") failed:" in message:
        return text + " Check that block's settings in the inspector, then press Train again."
    return text + " Check the settings and the graph, then press Train again."

"""The learning-rate range test in the window: a dialog that runs netbuilder.training.lr_finder on a snapshot of
the project in a BackgroundTask, shows its progress and time left, plots loss against rate with the suggested
rate, and sets that rate as the optimizer's `lr` in one undoable edit.

torch is imported on the task's thread (in `RangeTest.run`), pyqtgraph when the dialog is made: never while
the window opens. The test trains a copy of the model: the project's weights are not touched.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QDoubleValidator
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from netbuilder.project import Project, copy_project
from netbuilder.time_words import duration
from netbuilder.ui.background import BackgroundTask
from netbuilder.ui.editor.controller import EditorController
from netbuilder.ui.training.lr_find_plot import LrFindPlot
from netbuilder.ui.training.plot_parts import compact_number
from netbuilder.ui.training.worker import THROTTLE_SECONDS, training_threads
from netbuilder.ui.widgets.inputs import SpinBox
from netbuilder.ui.widgets.text import sentence

START, END, STEPS = 1e-7, 10.0, 200  # as `netbuilder lr-find`
LOWEST, HIGHEST = 1e-8, 100.0  # the rates the fields take (an optimizer's lr is at least 1e-8)
WEIGHTS_NOTE = "The test trains a copy of the model: the network's weights stay as they are."


class RangeTest(QObject):
    """One range test of a snapshot of `project`: `run` is the work of a BackgroundTask and returns the
    LrFindResult; `progress` reports the steps taken, at most every THROTTLE_SECONDS. `stop` (from any thread)
    ends the test after its current step, with the steps taken so far."""

    progress = Signal(object)  # list of (step, steps, rate, loss) since the previous signal

    def __init__(self, project: Project, start: float, end: float, steps: int) -> None:
        super().__init__()
        self.project = copy_project(project)  # the window may change the graph while the test runs
        self.start, self.end, self.steps = start, end, steps
        self._stop = threading.Event()
        self._pending: list[tuple[int, int, float, float]] = []
        self._last_sent = 0.0

    def stop(self) -> None:
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self) -> Any:
        import torch

        from netbuilder.training.lr_finder import find_learning_rate

        torch.set_num_threads(training_threads())
        try:
            return find_learning_rate(
                self.project,
                start=self.start,
                end=self.end,
                steps=self.steps,
                progress=self._on_step,
                should_stop=self._stop.is_set,
            )
        finally:
            self._flush()

    def _on_step(self, step: int, steps: int, rate: float, loss: float) -> None:
        self._pending.append((step, steps, rate, loss))
        if time.perf_counter() - self._last_sent >= THROTTLE_SECONDS:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            pending, self._pending = self._pending, []
            self._last_sent = time.perf_counter()
            self.progress.emit(pending)


class LrFindDialog(QDialog):
    """Find a learning rate for the project of `editor`: the test starts when the dialog opens; Stop ends it
    early (what it measured is shown); "Use" sets the suggested rate as the optimizer's lr (one undoable
    edit) and closes; closing while it runs stops it."""

    def __init__(self, editor: EditorController, optimizer_node: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = editor
        self.optimizer_node = optimizer_node
        self.test: RangeTest | None = None
        self.task: BackgroundTask | None = None
        self.result = None  # the last test's LrFindResult
        self._began = (0.0, 0)  # when the first steps were reported, and how many, for the time left
        self.setWindowTitle("Find a Learning Rate")
        self.setMinimumWidth(640)

        self.start_field = self._rate_field(START, "The first rate tried (the loss should not yet move there)")
        self.end_field = self._rate_field(END, "The last rate tried (the test stops earlier if the loss blows up)")
        self.steps_field = SpinBox(10, 10_000)
        self.steps_field.setValue(STEPS)
        self.steps_field.setToolTip("Training steps, one batch each; the rate grows by the same factor every step")
        self.run_button = QPushButton("Run")
        self.run_button.setToolTip("Run the test again with these rates and steps")
        self.run_button.clicked.connect(self.start)
        for field in (self.start_field, self.end_field):
            field.textChanged.connect(self._update_buttons)
        settings = QHBoxLayout()
        for text, field in (("From", self.start_field), ("to", self.end_field), ("in", self.steps_field)):
            label = QLabel(text)
            label.setBuddy(field)
            settings.addWidget(label)
            settings.addWidget(field)
        settings.addWidget(QLabel("steps"))
        settings.addStretch(1)
        settings.addWidget(self.run_button)

        self.plot = LrFindPlot()
        self.progress = QProgressBar()
        self.progress.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("End the test after this step and show what it measured")
        self.stop_button.clicked.connect(self.stop)
        running = QHBoxLayout()
        running.addWidget(self.progress, 1)
        running.addWidget(self.stop_button)
        self.words = QLabel()
        self.words.setWordWrap(True)
        self.words.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        note = QLabel(WEIGHTS_NOTE)
        note.setEnabled(False)  # a quieter grey: a reassurance, not news

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.use_button = self.buttons.addButton("Use", QDialogButtonBox.ButtonRole.AcceptRole)
        self.use_button.clicked.connect(self.use_suggestion)
        for button in (self.use_button, self.buttons.button(QDialogButtonBox.StandardButton.Close), self.stop_button):
            button.setAutoDefault(False)
        self.run_button.setDefault(True)  # Enter in a field runs the test with what it says
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(settings)
        layout.addWidget(self.plot, 1)
        layout.addLayout(running)
        layout.addWidget(self.words)
        layout.addWidget(note)
        layout.addWidget(self.buttons)
        self.plot.set_current(self.current_rate)
        self._update_buttons()

    def _rate_field(self, value: float, tip: str) -> QLineEdit:
        field = QLineEdit(compact_number(value))
        validator = QDoubleValidator(LOWEST, HIGHEST, 12, field)
        validator.setNotation(QDoubleValidator.Notation.ScientificNotation)
        field.setValidator(validator)
        field.setMaximumWidth(80)
        field.setToolTip(f"{tip}; {compact_number(LOWEST)} to {compact_number(HIGHEST)}")
        return field

    # ---- what the fields say -------------------------------------------------------------------------------

    @property
    def current_rate(self) -> float | None:
        node = self.editor.document.project.graph.nodes.get(self.optimizer_node)
        value = node.params.get("lr") if node is not None else None
        return float(value) if isinstance(value, int | float) else None

    @property
    def optimizer_label(self) -> str:
        node = self.editor.document.project.graph.nodes.get(self.optimizer_node)
        return node.label if node is not None else "the optimizer"

    def _rates(self) -> tuple[float, float] | None:
        """The start and end rates entered, or None when they are not two growing rates in range."""
        try:
            start, end = float(self.start_field.text()), float(self.end_field.text())
        except ValueError:
            return None
        return (start, end) if LOWEST <= start < end <= HIGHEST else None

    @property
    def suggestion(self) -> float | None:
        """The suggested rate as it is offered: two significant digits, as a person would type it."""
        found = self.result.suggestion if self.result is not None else None
        return float(f"{found:.2g}") if found is not None else None

    # ---- running -------------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.task is not None

    def start(self) -> bool:
        """Run the test with the rates and steps entered; False while one runs or they do not make a test."""
        rates = self._rates()
        if self.running or rates is None:
            return False
        start, end = rates
        steps = self.steps_field.value()
        self.result = None
        self.test = RangeTest(self.editor.document.project, start, end, steps)
        self.test.progress.connect(self._on_progress)
        self.task = BackgroundTask(self.test.run, "netbuilder learning-rate test")
        self.task.succeeded.connect(self._on_finished)
        self.task.failed.connect(self._on_failed)
        self.plot.begin(start, end)
        self.plot.set_current(self.current_rate)
        self._began = (0.0, 0)
        self.progress.setRange(0, steps)
        self.progress.setValue(0)
        self.progress.setFormat("loading the data and building the model…")
        self.words.setText(f"Training from {compact_number(start)} to {compact_number(end)} in {steps} steps…")
        self.task.start()
        self._update_buttons()
        return True

    def stop(self) -> None:
        """End the test after its current step; what it measured is shown when it has."""
        if self.test is not None and self.task is not None:
            self.test.stop()
            self.progress.setFormat("stopping…")
            self._update_buttons()

    def _on_progress(self, steps: list[tuple[int, int, float, float]]) -> None:
        if self.test is None or self.sender() is not self.test:
            return
        now = time.perf_counter()
        step, total, rate, _ = steps[-1]
        if not self._began[0]:  # timed from the first report: loading the data is over by then
            self._began = (now, step)
        self.plot.add_steps([s[2] for s in steps], [s[3] for s in steps])
        self.progress.setRange(0, total)
        self.progress.setValue(step)
        if self.test.stopping:
            return
        began, first = self._began
        left = f" · {duration((total - step) * (now - began) / (step - first))} left" if step > first else ""
        self.progress.setFormat(f"step {step}/{total} · rate {compact_number(rate)}{left}")

    def _end(self) -> RangeTest | None:
        test, self.test, self.task = self.test, None, None
        if test is not None:
            test.progress.disconnect(self._on_progress)
        return test

    def _on_finished(self, result: Any) -> None:
        if self.sender() is not self.task:
            return
        test = self._end()
        self.result = result
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        taken = len(result.rates)
        how = "stopped" if test is not None and test.stopping else "done"
        if result.stopped_early:
            how = f"the loss blew up at {compact_number(result.rates[-1])}"
        self.progress.setFormat(f"{taken} steps · {how}")
        self.plot.show_result(result.rates, result.losses, result.smoothed, self.suggestion)
        self.words.setText(self._result_words())
        self._update_buttons()

    def _result_words(self) -> str:
        current = self.current_rate
        now = f" ({self.optimizer_label}'s lr is {compact_number(current)} now)" if current is not None else ""
        if self.suggestion is None:
            return (
                "Too few steps to suggest a rate: give more steps, or a smaller last rate (where the loss "
                "blew up too soon)." + now
            )
        return f"Suggested: {compact_number(self.suggestion)}, where the smoothed loss falls fastest{now}."

    def _on_failed(self, error: Exception) -> None:
        if self.sender() is not self.task:
            return
        self._end()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("failed")
        self.words.setText(sentence(str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__))
        self._update_buttons()

    def _update_buttons(self, *_: object) -> None:
        running = self.running
        self.stop_button.setEnabled(running and not self.test.stopping)
        rates = self._rates()
        self.run_button.setEnabled(not running and rates is not None)
        self.run_button.setToolTip(
            "Run the test again with these rates and steps"
            if rates is not None
            else f"Give two rates from {compact_number(LOWEST)} to {compact_number(HIGHEST)}, the first smaller"
        )
        for field in (self.start_field, self.end_field, self.steps_field):
            field.setEnabled(not running)
        suggestion = self.suggestion
        self.use_button.setEnabled(not running and suggestion is not None)
        if suggestion is not None:
            self.use_button.setText(f"Use {compact_number(suggestion)}")
            self.use_button.setToolTip(
                f"Set lr of {self.optimizer_label} to {compact_number(suggestion)} and close (Undo puts it back)"
            )
        else:
            self.use_button.setText("Use")
            self.use_button.setToolTip("A rate can be used once the test has suggested one")

    # ---- the answer ----------------------------------------------------------------------------------------

    def use_suggestion(self) -> bool:
        """Set the suggested rate as the optimizer's lr, one undoable edit, and close; False when refused
        (the editor says why) or there is no suggestion."""
        rate = self.suggestion
        if self.running or rate is None:
            return False
        self.editor.open_path(())  # the optimizer is a node of the top graph
        if not self.editor.set_param(self.optimizer_node, "lr", rate):
            return False
        self.editor.message.emit(f"Set lr of {self.optimizer_label} to {compact_number(rate)} (Undo puts it back)")
        self.accept()
        return True

    def shutdown(self) -> None:
        """Stop a test still running and wait for its thread to end (the window is closing), then close."""
        if self.task is not None:
            self.test.stop()
            self.task.join()
            self._end()
        self.done(QDialog.DialogCode.Rejected)

    def done(self, result: int) -> None:
        """Closing (Close, Escape, the title bar's button, Use) stops a test still running: it ends after its
        step, unheard, and its thread is joined then."""
        if self.task is not None:
            self.test.stop()
            self.task.cancel()
            self._end()
        super().done(result)

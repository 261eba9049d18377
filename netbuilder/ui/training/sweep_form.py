"""The sweep dialog's form: what to sweep, a row per value (sweep_axis_row), grid or random search, a budget of
runs, epochs, successive halving, the metric that judges the runs and the runs at once; the live line saying
how many runs that makes (or what is wrong) and the same sweep as `netbuilder sweep` would take it. Each
project's last form comes back (QSettings)."""

from __future__ import annotations

import json
import shlex
from typing import Any

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from netbuilder.project.settings import MAX_EPOCHS
from netbuilder.project.sweep_plan import MAX_TRIALS, METRICS, Axis, SweepError, SweepPlan, sweep_targets
from netbuilder.ui.training.sweep_axis_row import AxisRow
from netbuilder.ui.training.sweep_scales import metric_name
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
MAX_AT_ONCE = 8  # runs at once the form offers (netbuilder sweep --parallel takes any number)
AT_ONCE_TIP = (
    "Runs that train at the same time on the GPU, each in a process of its own: small models leave most of "
    "the GPU idle, so several at once can finish sooner (each starts its own process first)"
)
NO_GPU_AT_ONCE = "Several runs at once need a CUDA GPU and the project's device set to cuda or auto"


class SweepForm(QWidget):
    """The plan of a sweep of the project of `panel` (the Training dock's TrainingPanel, whose GPU probe says
    whether runs at once are offered); `changed` whenever a row or field does. `settings` keeps each
    project's last form."""

    changed = Signal()

    def __init__(self, panel: Any, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.panel = panel
        self.document = panel.document
        self.settings = settings

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

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)  # its lines sit in the dialog's margins, as the dialog's own
        layout.addLayout(self.rows_area)
        add_line = QHBoxLayout()
        add_line.addWidget(self.add_button)
        add_line.addStretch(1)
        layout.addLayout(add_line)
        layout.addLayout(options)
        layout.addWidget(self.plan_line)
        layout.addWidget(self.command_line)

        for signal in (
            self.search_box.currentIndexChanged,
            self.budget_field.valueChanged,
            self.epochs_field.valueChanged,
            self.halving_box.toggled,
            self.metric_box.currentIndexChanged,
            self.at_once_field.valueChanged,
        ):
            signal.connect(self._changed)

    def _changed(self, *_: object) -> None:
        self.changed.emit()

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
        row.changed.connect(self._changed)
        row.remove_requested.connect(lambda row=row: self.remove_row(row))
        self.rows.append(row)
        self.rows_area.addWidget(row)
        self.changed.emit()
        return row

    def remove_row(self, row: AxisRow) -> None:
        if row in self.rows:
            self.rows.remove(row)
            self.rows_area.removeWidget(row)
            row.deleteLater()
            self.changed.emit()

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

    def show_plan(self) -> tuple[str, bool]:
        """The live line and the command as the form is now; the line's words and whether the sweep can start."""
        words, ready = self.plan_words()
        self.plan_line.setText(words)
        self.command_line.setText(self.command())
        return words, ready

    def set_running(self, running: bool) -> None:
        """The form stays as it is while its sweep runs; runs at once are offered only on a GPU."""
        for widget in (self.add_button, self.search_box, self.budget_field, self.epochs_field, self.halving_box):
            widget.setEnabled(not running)
        self.metric_box.setEnabled(not running)
        self.at_once_field.setEnabled(not running and self.on_gpu())
        self.at_once_field.setToolTip(AT_ONCE_TIP if self.on_gpu() else NO_GPU_AT_ONCE)
        for row in self.rows:
            row.setEnabled(not running)

    # ---- remembering the rows --------------------------------------------------------------------------------

    def _settings_key(self) -> str | None:
        path = self.document.path
        return f"{SETTINGS_KEY}/{path.resolve().as_posix()}" if path is not None else None

    def remember(self) -> None:
        """Keep the form as the project's last sweep (a project not yet saved keeps none)."""
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


def _size_or_number(target: Any) -> int:
    """0 for a whole number above 1 (a width, a count), 1 for a positive number (a rate), 2 for the rest: the
    order in which a new row offers what to sweep."""
    current = target.current
    if not isinstance(current, int | float) or isinstance(current, bool):
        return 2
    if target.kind == "integer":
        return 0 if current > 1 else 2
    return 1 if current > 0 else 2

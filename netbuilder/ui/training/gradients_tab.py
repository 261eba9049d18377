"""The Gradients tab of the Training dock: the run's heat strip of per-layer gradient norms and, when the
gradients explode or vanish, a warning in plain words with the remedies that are one change as buttons.

A remedy button is an undoable edit through the editor (a training setting, or a parameter of the optimizer
node), for the next run: while a run trains the graph is locked, so the buttons wait until it has ended.
The strip (pyqtgraph) is made at the first report, so opening the window loads nothing.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QStyle, QVBoxLayout, QWidget

from netbuilder.blocks.catalogue import get as block_spec
from netbuilder.project import Project, TrainingSettings
from netbuilder.project.gradient_health import GradientWarning, GradientWatch, Remedy
from netbuilder.project.gradient_samples import SAMPLE_EVERY, GradientReport
from netbuilder.ui.editor.controller import EditorController
from netbuilder.ui.widgets.banner import Banner

IDLE = (
    f"Each layer's gradient norm, sampled every {SAMPLE_EVERY} steps (fewer when steps are quick), shows here as a "
    "network trains: a row per layer, first layer at the top, bright where the gradients are large."
)


class GradientsTab(QWidget):
    """Fed by the panel: `begin_run` for each run, then `add_report` for each GradientReport it sends."""

    warned = Signal(bool)  # True when a warning shows, False when a new run clears it
    message = Signal(str)  # a line for the status bar: the remedy just applied

    def __init__(self, editor: EditorController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = editor
        self.strip = None  # GradientStrip, made at the first report (pyqtgraph loads then)
        self.watch: GradientWatch | None = None
        self.project: Project | None = None
        self.optimizer_node = ""
        self.running = False
        self.banner = Banner()
        self.banner.set_icon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        self.remedy_row = QWidget()
        self.remedy_layout = QHBoxLayout(self.remedy_row)
        self.remedy_layout.setContentsMargins(0, 0, 0, 0)
        self.remedy_layout.addStretch(1)  # the buttons go before it
        self.remedy_row.hide()
        self.buttons: list[tuple[QPushButton, Remedy]] = []
        self.hint = QLabel(IDLE)
        self.hint.setWordWrap(True)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(4, 4, 4, 4)
        self.layout_.addWidget(self.banner)
        self.layout_.addWidget(self.remedy_row)
        self.layout_.addWidget(self.hint, 1)
        editor.undo_stack.indexChanged.connect(self._update_buttons)  # a remedy undone can be chosen again

    def begin_run(self, project: Project) -> None:
        """A run of `project` starts: clear the strip and the warnings; the remedies will change its values."""
        self.project = project
        task = self.editor.document.analysis.training_task
        self.optimizer_node = task.optimizer_node if task is not None else ""
        self.watch = None
        self.banner.hide()
        self._set_remedies(())
        if self.strip is not None:
            self.strip.begin()
        self.warned.emit(False)

    def add_report(self, report: GradientReport) -> None:
        """Draw the report's samples and check them; the first warning of each kind shows above the strip."""
        if self.strip is None:
            from netbuilder.ui.training.gradient_strip import GradientStrip

            self.strip = GradientStrip()
            self.layout_.addWidget(self.strip, 1)
        self.hint.hide()
        self.strip.show()
        self.strip.add(report)
        if self.watch is None or self.watch.layers != report.layers:
            settings = self.project.training if self.project is not None else TrainingSettings()
            self.watch = GradientWatch(report.layers, settings, self._optimizer_params())
        for sample in report.samples:
            warning = self.watch.add(sample)
            if warning is not None:
                self._show(warning)

    def set_running(self, running: bool) -> None:
        """The graph is locked while a run trains: the remedies wait for its end."""
        self.running = running
        self._update_buttons()

    def warning_text(self) -> str:
        return self.banner.text.text() if self.banner.isVisible() else ""

    def apply(self, remedy: Remedy) -> bool:
        """Make the remedy's change, undoably; False when the editor refused it."""
        if remedy.setting:
            done = self.editor.set_setting(remedy.setting, remedy.value)
        else:
            done = bool(self.optimizer_node) and self.editor.set_param(self.optimizer_node, remedy.param, remedy.value)
        if done:
            self.message.emit(f"Set {remedy.words} for the next run (Undo reverts it)")
        return done

    def _update_buttons(self, *_: object) -> None:
        """A remedy's button is on unless a run locks the graph or the project already has its value (after
        its click, until an undo takes the value away again)."""
        for button, remedy in self.buttons:
            button.setEnabled(not self.running and not self._in_effect(remedy))

    def _in_effect(self, remedy: Remedy) -> bool:
        project = self.editor.document.project
        if remedy.setting:
            return getattr(project.training, remedy.setting) == remedy.value
        node = project.graph.nodes.get(self.optimizer_node)
        return node is not None and node.params.get(remedy.param) == remedy.value

    def _show(self, warning: GradientWarning) -> None:
        """Show this warning, under any already shown (exploding and vanishing may both happen)."""
        said = self.warning_text()
        self.banner.text.setText(f"{said}\n\n{warning.message}" if said else warning.message)
        self.banner.show()
        self._set_remedies(tuple(remedy for _, remedy in self.buttons) + warning.remedies)
        self.warned.emit(True)

    def _set_remedies(self, remedies: tuple[Remedy, ...]) -> None:
        for button, _ in self.buttons:
            self.remedy_layout.removeWidget(button)
            button.deleteLater()
        self.buttons = []
        for remedy in remedies:
            button = QPushButton(remedy.words[:1].upper() + remedy.words[1:])
            button.setToolTip(f"Use {remedy.words} in the next run (an edit: Undo reverts it)")
            button.clicked.connect(lambda _=False, r=remedy: self.apply(r))
            self.remedy_layout.insertWidget(len(self.buttons), button)
            self.buttons.append((button, remedy))
        self.remedy_row.setVisible(bool(remedies))
        self._update_buttons()

    def _optimizer_params(self) -> dict:
        """The optimizer node's parameters, defaults included (what a remedy's value is worked out from)."""
        if self.project is None or self.optimizer_node not in self.project.graph.nodes:
            return {}
        node = self.project.graph.nodes[self.optimizer_node]
        return {p.name: p.default for p in block_spec(node.block).params} | dict(node.params)

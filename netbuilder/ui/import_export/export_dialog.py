"""File > Export: where to write and which files beside the code package, then the export itself off the
window's thread.

The code package (model.py, train.py ...) and the diagrams (the window's own canvas drawn, which Qt allows on
its thread only) are quick and written by the window at once; TorchScript, ONNX,
safetensors and summary.md need torch (and ONNX takes seconds), so `FormatExporter` writes them with
netbuilder.export on a QThread while the status bar shows a busy indicator; so too the project's starting
weights (starting_weights.safetensors, which the package's train.py loads), whatever formats are ticked.
Nothing here imports torch on the window's thread: the format names are listed here rather than read from
netbuilder.export.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Qt, QThread, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from netbuilder.codegen.train_script import STARTING_WEIGHTS_FILE
from netbuilder.project import Project
from netbuilder.ui.canvas.diagram_export import DIAGRAM_FORMATS, diagram_path
from netbuilder.ui.main_thread_gc import main_thread_collector

FORMAT_LABELS = {
    "torchscript": "TorchScript (model.ts)",
    "onnx": "ONNX (model.onnx)",
    "safetensors": "Weights as safetensors (model.safetensors)",
    "summary": "Summary table (summary.md)",
}
"""netbuilder.export.FORMATS, in its order, as the checkboxes name them."""
DIAGRAM_LABELS = {name: f"Diagram as {name.upper()} ({diagram_path(Path(), name)})" for name in DIAGRAM_FORMATS}
SETTINGS_FORMATS = "export/formats"
SETTINGS_WITH_WEIGHTS = "export/with_run_weights"
STARTING_WEIGHTS = "starting_weights"
"""The key of the starting weights' outcome among the formats' results."""


@dataclass(frozen=True)
class ExportChoice:
    """What to export: the folder, the formats beside the code package (netbuilder.export's names), the run
    weights to use (None: freshly initialised with the project's seed), the diagrams (DIAGRAM_FORMATS), and
    whether the package's train.py starts from the project's starting weights (written beside it)."""

    folder: Path
    formats: tuple[str, ...] = ()
    weights: Path | None = None
    diagrams: tuple[str, ...] = ()
    starting_weights: bool = False

    @property
    def needs_thread(self) -> bool:
        """Some of it needs torch, so it is written on the exporter's thread."""
        return bool(self.formats) or self.starting_weights

    @property
    def package_holds_safetensors(self) -> bool:
        """The package's predict.py should load model.safetensors: trained weights are written in that format."""
        return self.weights is not None and "safetensors" in self.formats


class ExportDialog(QDialog):
    """The folder and a checkbox per format (remembered in QSettings); "with the trained weights of run …"
    only when `run_weights` names a run's weights file. After `accepted`, `choice()` gives the ExportChoice."""

    def __init__(
        self,
        settings: QSettings,
        folder: str = "",
        run_weights: tuple[str, Path] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.settings = settings
        self.run_weights = run_weights
        self.folder = QLineEdit(folder)
        self.folder.setPlaceholderText("the folder to write into (made if missing)")
        self.browse = QPushButton("Browse…")
        self.browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(self.browse)

        remembered = _stored_list(settings.value(SETTINGS_FORMATS, [*FORMAT_LABELS, *DIAGRAM_LABELS]))
        package = QLabel("The code package: model.py, train.py, predict.py, config.json, README.md")
        package.setWordWrap(True)
        self.format_boxes: dict[str, QCheckBox] = {}
        form = QFormLayout()
        form.addRow("Folder:", folder_row)
        form.addRow("Always:", package)
        for i, (name, label) in enumerate({**FORMAT_LABELS, **DIAGRAM_LABELS}.items()):
            box = QCheckBox(label)
            box.setChecked(name in remembered)
            if name in DIAGRAM_LABELS:
                box.setToolTip("The canvas as it looks now, in the window's theme, without the grid")
            self.format_boxes[name] = box
            form.addRow("Also:" if i == 0 else "", box)
        if run_weights is not None:
            self.with_weights = QCheckBox(f"With the trained weights of the last run ({run_weights[0]})")
            self.with_weights.setChecked(settings.value(SETTINGS_WITH_WEIGHTS, True, type=bool))
        else:
            self.with_weights = QCheckBox("With the trained weights of the last run (no run has kept weights)")
            self.with_weights.setEnabled(False)
        self.with_weights.setToolTip("Without them, the weights are initialised with the project's seed")
        form.addRow("Weights:", self.with_weights)

        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Export")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(520)
        self.folder.textChanged.connect(self._validate)
        self._validate()

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export into folder", self.folder.text())
        if folder:
            self.folder.setText(folder)

    def _validate(self) -> None:
        text = self.folder.text().strip()
        problem = "" if text else "Choose the folder to export into."
        if text and Path(text).exists() and not Path(text).is_dir():
            problem = f"{text} is a file, not a folder."
        self.problem.setText(problem)
        self.ok_button.setEnabled(not problem)

    def accept(self) -> None:
        """Remember the checkboxes for the next export, then close."""
        self.settings.setValue(SETTINGS_FORMATS, [n for n, box in self.format_boxes.items() if box.isChecked()])
        if self.with_weights.isEnabled():
            self.settings.setValue(SETTINGS_WITH_WEIGHTS, self.with_weights.isChecked())
        super().accept()

    def choice(self) -> ExportChoice:
        checked = [name for name, box in self.format_boxes.items() if box.isChecked()]
        use_weights = self.run_weights is not None and self.with_weights.isChecked()
        weights = self.run_weights[1] if use_weights else None
        return ExportChoice(
            Path(self.folder.text().strip()),
            tuple(name for name in checked if name in FORMAT_LABELS),
            weights,
            tuple(name for name in checked if name in DIAGRAM_LABELS),
        )


def _stored_list(value: object) -> list[str]:
    """QSettings gives a list back as a list, one item as a str, and an empty list as None (INI files)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(item) for item in value]


class _ExportThread(QThread):
    """Writes the formats and the starting weights; keeps {format or STARTING_WEIGHTS: ExportResult}, and why
    no format could be written, for the window."""

    def __init__(self, project: Project, choice: ExportChoice, parent: QObject) -> None:
        super().__init__(parent)
        self.project = project
        self.choice = choice
        self.results: dict = {}  # format -> netbuilder.export.ExportResult
        self.error = ""
        self.setObjectName(f"export {project.name}")

    def run(self) -> None:
        from netbuilder.export import ExportError, export_formats  # torch loads here, on this thread

        if self.choice.formats:
            try:
                self.results = export_formats(
                    self.project, self.choice.folder, self.choice.formats, weights=self.choice.weights
                )
            except ExportError as err:
                self.error = f"No format exported: {err}"
            except OSError as err:
                self.error = f"Could not write to {self.choice.folder}: {err}"
        if self.choice.starting_weights:
            self.results[STARTING_WEIGHTS] = self._write_starting_weights()

    def _write_starting_weights(self):
        """starting_weights.safetensors beside train.py, as an ExportResult whose error says what train.py will
        do without it."""
        from netbuilder.export import ExportError, ExportResult
        from netbuilder.export.weights_file import write_starting_weights_file

        try:
            return ExportResult(STARTING_WEIGHTS, write_starting_weights_file(self.project, self.choice.folder))
        except (ExportError, OSError) as err:
            return ExportResult(
                STARTING_WEIGHTS, error=f"{STARTING_WEIGHTS_FILE}: {err} (the package's train.py needs it)"
            )


class FormatExporter(QObject):
    """One export of the formats at a time, on a QThread; `shutdown()` joins it (the window calls it when it
    closes)."""

    running_changed = Signal(bool)  # True while the formats are being written
    finished = Signal(object, str)  # ({format: ExportResult}, why nothing was written or "")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: _ExportThread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self, project: Project, choice: ExportChoice) -> bool:
        """False (and nothing started) while an export is still running."""
        if self._thread is not None:
            return False
        main_thread_collector().hold()  # no garbage collection on the exporting thread (see main_thread_gc)
        self._thread = _ExportThread(project, choice, self)
        self._thread.finished.connect(self._done)
        self._thread.start()
        self.running_changed.emit(True)
        return True

    def shutdown(self) -> None:
        """Wait for the export still running, if any, without reporting it."""
        thread = self._thread
        if thread is not None:
            thread.finished.disconnect(self._done)
            self._join(thread)

    def _done(self) -> None:
        thread = self._thread
        if thread is None:
            return
        self._join(thread)
        self.finished.emit(thread.results, thread.error)

    def _join(self, thread: _ExportThread) -> None:
        thread.wait()
        self._thread = None
        main_thread_collector().release()
        self.running_changed.emit(False)


class ExportProgress(QWidget):
    """The status bar's busy indicator while the formats are written (ONNX alone takes seconds)."""

    def __init__(self, exporter: FormatExporter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel("Exporting…")
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)  # busy: the exporters report no progress
        self.bar.setMaximumWidth(120)
        self.bar.setMaximumHeight(14)
        self.bar.setTextVisible(False)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar, 0, Qt.AlignmentFlag.AlignVCenter)
        exporter.running_changed.connect(self.setVisible)
        self.hide()

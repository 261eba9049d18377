"""File > Export: where to write, and which files beside the code package.

The code package (model.py, train.py ...) and the diagrams (the window's own canvas drawn, which Qt allows on
its thread only) are quick and written by the window at once; the formats that need torch are written by the
FormatExporter (format_exporter.py) off the window's thread. Nothing here imports torch: the format names are
listed here rather than read from netbuilder.export, and an optional format's packages are looked for, not loaded.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSettings
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
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from netbuilder.ui.canvas.diagram_export import DIAGRAM_FORMATS, diagram_path

FORMAT_LABELS = {
    "torchscript": "TorchScript (model.ts)",
    "pt2": "torch.export program (model.pt2)",
    "onnx": "ONNX (model.onnx)",
    "onnx-int8": "ONNX quantized to int8 (model.int8.onnx)",
    "safetensors": "Weights as safetensors (model.safetensors)",
    "summary": "Summary table (summary.md)",
    "litert": "LiteRT for phones and microcontrollers (model.tflite)",
    "executorch": "ExecuTorch for phones and edge devices (model.pte)",
}
"""netbuilder.export.FORMATS, in its order, as the checkboxes name them."""
DEFAULT_FORMATS = ("torchscript", "onnx", "safetensors", "summary")
"""Ticked until the user's own choice is remembered: the quick ones (int8 calibrates, the others take seconds)."""
OPTIONAL_FORMATS = {"litert": ("litert_torch", "ai_edge_litert"), "executorch": ("executorch",)}
"""Formats of an optional extra (pip install netbuilder[name]), by the packages their exporters import: as
netbuilder.export.formats.EXTRAS, which this module cannot import (it loads torch)."""
DIAGRAM_LABELS = {name: f"Diagram as {name.upper()} ({diagram_path(Path(), name)})" for name in DIAGRAM_FORMATS}
SETTINGS_FORMATS = "export/formats"
SETTINGS_WITH_WEIGHTS = "export/with_run_weights"


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

        remembered = _stored_list(settings.value(SETTINGS_FORMATS, [*DEFAULT_FORMATS, *DIAGRAM_LABELS]))
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
            if name in OPTIONAL_FORMATS and not installed(name):
                box.setChecked(False)
                box.setEnabled(False)
                box.setToolTip(f"pip install netbuilder[{name}]")
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
        checked = [name for name, box in self.format_boxes.items() if box.isChecked() and box.isEnabled()]
        use_weights = self.run_weights is not None and self.with_weights.isChecked()
        weights = self.run_weights[1] if use_weights else None
        return ExportChoice(
            Path(self.folder.text().strip()),
            tuple(name for name in checked if name in FORMAT_LABELS),
            weights,
            tuple(name for name in checked if name in DIAGRAM_LABELS),
        )


def installed(name: str) -> bool:
    """Whether the packages of an optional format's extra are installed; found without importing them (each
    would load torch on the window's thread)."""
    return all(importlib.util.find_spec(package) is not None for package in OPTIONAL_FORMATS[name])


def _stored_list(value: object) -> list[str]:
    """QSettings gives a list back as a list, one item as a str, and an empty list as None (INI files)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(item) for item in value]

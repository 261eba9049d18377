"""The plan of a compression as the Compress dialog asks for it: channel pruning (the share of MACs to keep),
magnitude pruning (the sparsity, over all layers or in each), fine-tuning epochs, the quantizations, whether
static int8 is timed compiled, and the folder to write into. The same choices as `netbuilder compress`'s
options, under the same words; the form gives them as CompressionPlan's arguments (the plan itself is built
where torch may load)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

from netbuilder.ui.widgets.inputs import ComboBox, SpinBox

# quantization.METHODS (names as `netbuilder compress --quantize` takes them), each with what it does
QUANTIZATIONS = {
    "dynamic-int8": (
        "Dynamic int8",
        "Linear, LSTM and GRU layers compute in int8, their activations' ranges measured on each input as it comes: "
        "no calibration, suits fully connected and recurrent networks",
    ),
    "static-int8": (
        "Static int8",
        "Weights and activations in int8, the activations' ranges set beforehand on training samples "
        "(calibration): suits convolutional networks, and needs a convolution",
    ),
    "weight-int8": (
        "Weight-only int8",
        "Only the weights are stored in int8 (a quarter of float32's size), activations stay float: suits large "
        "linear layers, whose time goes to reading their weights",
    ),
}


def default_folder(project_path: Path | None) -> Path | None:
    """Beside the project: <stem>-compressed, as the command's default."""
    return project_path.with_name(f"{project_path.stem}-compressed") if project_path is not None else None


class CompressForm(QWidget):
    """The plan's widgets. `changed` whenever a choice changes; `plan_arguments` gives CompressionPlan's keyword
    arguments, `folder` the output folder, `why_not` one line when the form does not make a plan yet."""

    changed = Signal()

    def __init__(self, project_path: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.channels_box = QCheckBox("Prune channels, keeping")
        self.channels_box.setToolTip(
            "Remove whole channels of convolutions and linear layers (the smallest by L2 norm) until the network's "
            "MACs are at most this share: a new, smaller version of the project"
        )
        self.macs_field = self._percent(50, 1, 99, " % of the MACs")
        self.magnitude_box = QCheckBox("Set weights to zero:")
        self.magnitude_box.setToolTip(
            "Magnitude pruning: the smallest weights become zero (the file and the time stay the same unless "
            "the file is compressed or a sparse kernel runs it)"
        )
        self.sparsity_field = self._percent(50, 1, 99, " % sparsity")
        self.scope_field = ComboBox()
        self.scope_field.addItem("over all layers together", "global")
        self.scope_field.addItem("in each layer", "layer")
        self.scope_field.setToolTip(
            "Global: one threshold for every layer (layers with small weights lose more); "
            "in each layer: every layer loses the same share"
        )
        self.fine_tune_field = SpinBox(0, 1000)
        self.fine_tune_field.setSuffix(" epochs")
        self.fine_tune_field.setToolTip(
            "Train the pruned network this many epochs more with the project's settings, its zeros kept "
            "(0: no fine-tuning)"
        )
        self.quantization_boxes: dict[str, QCheckBox] = {}
        quantizations = QHBoxLayout()
        for name, (text, tip) in QUANTIZATIONS.items():
            box = QCheckBox(text)
            box.setToolTip(f"{name}: {tip}")
            box.toggled.connect(self._update)
            self.quantization_boxes[name] = box
            quantizations.addWidget(box)
        quantizations.addStretch(1)
        self.compiled_box = QCheckBox("Time static int8 compiled")
        self.compiled_box.setToolTip(
            "Time static int8 through torch.compile, which lowers it to int8 kernels (about 15 s of compiling "
            "on a small CPU); without it, its time is that of the unfused network"
        )
        self.folder_field = QLineEdit(str(default_folder(project_path) or ""))
        self.folder_field.setToolTip("The folder the networks and the table (compression.md, .json) are written into")
        self.folder_field.textChanged.connect(self._update)
        browse = QPushButton("Browse…")
        browse.setAutoDefault(False)
        browse.clicked.connect(self._browse)

        for box in (self.channels_box, self.magnitude_box, self.compiled_box):
            box.toggled.connect(self._update)
        for field in (self.macs_field, self.sparsity_field, self.fine_tune_field):
            field.valueChanged.connect(self._update)

        channels = QHBoxLayout()
        channels.addWidget(self.channels_box)
        channels.addWidget(self.macs_field)
        channels.addStretch(1)
        magnitude = QHBoxLayout()
        magnitude.addWidget(self.magnitude_box)
        magnitude.addWidget(self.sparsity_field)
        magnitude.addWidget(self.scope_field)
        magnitude.addStretch(1)
        fine_tune = QHBoxLayout()
        fine_tune.addWidget(self.fine_tune_field)
        fine_tune.addStretch(1)
        folder = QHBoxLayout()
        folder.addWidget(self.folder_field, 1)
        folder.addWidget(browse)
        layout = QFormLayout(self)
        layout.addRow("Channels:", channels)
        layout.addRow("Magnitude:", magnitude)
        layout.addRow("Fine-tune:", fine_tune)
        layout.addRow("Quantize:", quantizations)
        layout.addRow("", self.compiled_box)
        layout.addRow("Write into:", folder)
        self._update()

    @staticmethod
    def _percent(value: int, low: int, high: int, suffix: str) -> SpinBox:
        field = SpinBox(low, high)
        field.setValue(value)
        field.setSuffix(suffix)
        return field

    def _browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Write the compressed networks into", self.folder_field.text())
        if chosen:
            self.folder_field.setText(chosen)

    def _update(self, *_: Any) -> None:
        self._enable_fields()
        self.changed.emit()

    def _enable_fields(self) -> None:
        """Each field on when its choice is made."""
        self.macs_field.setEnabled(self.channels_box.isChecked())
        self.sparsity_field.setEnabled(self.magnitude_box.isChecked())
        self.scope_field.setEnabled(self.magnitude_box.isChecked())
        self.fine_tune_field.setEnabled(self.prunes)
        self.compiled_box.setEnabled(self.quantization_boxes["static-int8"].isChecked())

    @property
    def prunes(self) -> bool:
        return self.channels_box.isChecked() or self.magnitude_box.isChecked()

    @property
    def folder(self) -> Path | None:
        text = self.folder_field.text().strip()
        return Path(text).expanduser() if text else None

    def why_not(self) -> str:
        """One line when the form does not make a plan: what to choose."""
        if not self.prunes and not any(box.isChecked() for box in self.quantization_boxes.values()):
            return "Choose what to do: prune channels, set weights to zero and/or a quantization"
        if self.folder is None:
            return "Give a folder to write into"
        return ""

    def plan_arguments(self) -> dict[str, Any]:
        """CompressionPlan's keyword arguments, as chosen."""
        static = self.quantization_boxes["static-int8"].isChecked()
        return {
            "macs_fraction": self.macs_field.value() / 100 if self.channels_box.isChecked() else None,
            "sparsity": self.sparsity_field.value() / 100 if self.magnitude_box.isChecked() else None,
            "scope": self.scope_field.currentData(),
            "fine_tune_epochs": self.fine_tune_field.value() if self.prunes else 0,
            "quantizations": tuple(name for name, box in self.quantization_boxes.items() if box.isChecked()),
            "compiled": static and self.compiled_box.isChecked(),
        }

    def set_enabled(self, enabled: bool) -> None:
        """Off while a compression runs (its plan is the one it started with)."""
        for child in self.findChildren(QWidget):
            child.setEnabled(enabled)
        if enabled:
            self._enable_fields()

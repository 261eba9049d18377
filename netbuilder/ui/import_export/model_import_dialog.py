"""File > Import Model: pick an existing PyTorch model, an example input and, if wanted, its weights.

The dialog never loads torch (the window must not wait for it: a cold import of torch takes seconds): it
validates as the person types, and lists torchvision's classification builders by reading torchvision's
source rather than importing it. Its `ImportRequest` goes to the ModelImporter (model_importer.py), which
builds and traces the model off the window's thread; weights given with it become the imported project's
starting weights.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from netbuilder.analysis.layout import Orientation
from netbuilder.blocks.input_shape import parse_input_shape

DTYPES = ("float32", "int64")
PYTHON_FILES = "Python files (*.py)"
WEIGHTS_FILES = "State dict files (*.safetensors *.pt *.pth);;All files (*)"
WEIGHTS_TIP = (
    "Optional: the model's trained weights (a state_dict saved as .safetensors, or with torch.save as .pt or "
    ".pth): training starts from them"
)


@dataclass(frozen=True)
class ImportRequest:
    """What to import: `source` as `netbuilder import` names it (FILE.py:Class or torchvision:NAME), an example
    input's shape (batch first) and element type, and the state_dict file to start training from (None: the
    seed's weights)."""

    source: str
    input_shape: tuple[int, ...]
    dtype: str = "float32"
    weights: Path | None = None
    orientation: Orientation = Orientation.LEFT_TO_RIGHT
    """How the imported network is laid out (View > Layout Direction)."""

    @property
    def name(self) -> str:
        return self.source.rpartition(":")[2]


@functools.cache
def torchvision_classifiers() -> tuple[str, ...]:
    """The names `torchvision.models.list_models(module=torchvision.models)` gives, read from torchvision's
    source (each builder is a top-level function decorated with `@register_model()` in models/*.py; detection,
    segmentation and video live in sub-packages): importing torchvision would load torch on the window's
    thread. Empty when torchvision is not installed."""
    spec = importlib.util.find_spec("torchvision")
    if spec is None or spec.origin is None:
        return ()
    names = []
    for path in sorted((Path(spec.origin).parent / "models").glob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, UnicodeDecodeError):
            continue
        names.extend(node.name for node in tree.body if _is_registered_builder(node))
    return tuple(sorted(names))


def _is_registered_builder(node: ast.stmt) -> bool:
    return isinstance(node, ast.FunctionDef) and any(
        isinstance(d, ast.Call) and getattr(d.func, "id", None) == "register_model" for d in node.decorator_list
    )


def module_classes(path: Path) -> list[str]:
    """Classes defined at the top of a Python file that derive from something called Module (nn.Module,
    torch.nn.Module): candidates for the class combo, read without running the file."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return []
    return [
        node.name
        for node in tree.body
        if isinstance(node, ast.ClassDef) and any(ast.unparse(base).endswith("Module") for base in node.bases)
    ]


class ModelImportDialog(QDialog):
    """Where the model comes from (a Python file and class, or a torchvision model) and an example input.

    OK is enabled only while the choice is complete and the shape parses; `problem` says what is missing.
    After `accepted`, `request()` gives the ImportRequest.
    """

    def __init__(self, parent: QWidget | None = None, start_folder: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Import Model")
        self.start_folder = start_folder
        self.from_file = QRadioButton("From a Python file")
        self.from_torchvision = QRadioButton("A torchvision model (untrained)")
        self.from_file.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.from_file)
        group.addButton(self.from_torchvision)

        self.file = QLineEdit()
        self.file.setPlaceholderText("path/to/model.py")
        self.browse = QPushButton("Browse…")
        self.browse.clicked.connect(self._browse)
        self.class_name = QComboBox()
        self.class_name.setEditable(True)
        self.class_name.lineEdit().setPlaceholderText("a class that builds with no arguments")
        file_row = QHBoxLayout()
        file_row.addWidget(self.file, 1)
        file_row.addWidget(self.browse)

        self.torchvision_model = QComboBox()
        self.torchvision_model.addItems(torchvision_classifiers())
        if not torchvision_classifiers():
            self.from_torchvision.setEnabled(False)
            self.from_torchvision.setToolTip("torchvision is not installed")
        elif self.torchvision_model.findText("resnet18") >= 0:
            self.torchvision_model.setCurrentText("resnet18")

        self.shape = QLineEdit("1,3,32,32")
        self.shape.setToolTip("The sizes of one example input, batch first, separated by commas")
        self.dtype = QComboBox()
        self.dtype.addItems(DTYPES)
        self.dtype.setToolTip("float32 for images and features; int64 for token indices that feed an Embedding")
        self.weights = QLineEdit()
        self.weights.setPlaceholderText("none: training starts from the seed")
        self.weights.setToolTip(WEIGHTS_TIP)
        self.browse_weights = QPushButton("Browse…")
        self.browse_weights.setToolTip(WEIGHTS_TIP)
        self.browse_weights.clicked.connect(self._browse_weights)
        weights_row = QHBoxLayout()
        weights_row.addWidget(self.weights, 1)
        weights_row.addWidget(self.browse_weights)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setForegroundRole(QPalette.ColorRole.PlaceholderText)

        form = QFormLayout()
        form.addRow(self.from_file)
        form.addRow("File:", file_row)
        form.addRow("Class:", self.class_name)
        form.addRow(self.from_torchvision)
        form.addRow("Model:", self.torchvision_model)
        form.addRow("Input shape:", self.shape)
        form.addRow("Input type:", self.dtype)
        form.addRow("Weights:", weights_row)
        form.labelForField(weights_row).setToolTip(WEIGHTS_TIP)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Import")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(480)

        self.file.textChanged.connect(self._file_changed)
        for signal in (
            self.from_file.toggled,
            self.class_name.currentTextChanged,
            self.shape.textChanged,
            self.torchvision_model.currentTextChanged,
            self.weights.textChanged,
        ):
            signal.connect(self._validate)
        self._validate()

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Model file", self.file.text() or self.start_folder, PYTHON_FILES)
        if path:
            self.file.setText(path)

    def _browse_weights(self) -> None:
        """Start beside the model's file: weights are usually kept with the code that made them."""
        folder = str(Path(self.file.text()).parent) if self.file.text() else self.start_folder
        path, _ = QFileDialog.getOpenFileName(self, "Weights file", self.weights.text() or folder, WEIGHTS_FILES)
        if path:
            self.weights.setText(path)

    def _file_changed(self, text: str) -> None:
        """Offer the file's nn.Module classes; the last one is usually the whole model."""
        typed = self.class_name.currentText()
        classes = module_classes(Path(text)) if text.endswith(".py") else []
        self.class_name.blockSignals(True)
        self.class_name.clear()
        self.class_name.addItems(classes)
        self.class_name.setCurrentText(typed if typed in classes or not classes else classes[-1])
        self.class_name.blockSignals(False)
        self._validate()

    def _validate(self) -> None:
        by_file = self.from_file.isChecked()
        for widget in (self.file, self.browse, self.class_name):
            widget.setEnabled(by_file)
        self.torchvision_model.setEnabled(not by_file)
        problem = self._problem()
        self.problem.setText(problem)
        self.ok_button.setEnabled(not problem)

    def _problem(self) -> str:
        """Why the choice cannot be imported yet, or ''."""
        try:
            parse_input_shape(self.shape.text())
        except ValueError as err:
            return f"Input shape: {err}."
        weights = self.weights.text().strip()
        if weights and not Path(weights).is_file():
            return f"There is no weights file at {weights} (leave Weights empty to start from the seed)."
        if self.from_torchvision.isChecked():
            return "" if self.torchvision_model.currentText() else "Choose a torchvision model."
        path = self.file.text().strip()
        if not path:
            return "Choose the Python file that defines the model."
        if not Path(path).is_file():
            return f"There is no file at {path}."
        name = self.class_name.currentText().strip()
        if not name.isidentifier():
            return "Name the model's class (it must build with no arguments)."
        return ""

    def request(self) -> ImportRequest:
        """The import the dialog describes (call once OK is enabled)."""
        if self.from_torchvision.isChecked():
            source = f"torchvision:{self.torchvision_model.currentText()}"
        else:
            source = f"{self.file.text().strip()}:{self.class_name.currentText().strip()}"
        weights = self.weights.text().strip()
        return ImportRequest(
            source, parse_input_shape(self.shape.text()), self.dtype.currentText(), Path(weights) if weights else None
        )

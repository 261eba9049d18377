"""File > Import Model: pick an existing PyTorch model, import it through torch.fx off the window's thread.

The dialog itself never loads torch (the window must not wait for it: a cold import of torch takes seconds):
it validates as the person types, and lists torchvision's classification builders by reading torchvision's
source rather than importing it. `ModelImporter` then builds and traces the model on a QThread, shows a busy
indicator with Cancel in the status bar, and hands back netbuilder.importers' ImportResult.

Weights given with the model (a state_dict file) become the imported project's starting weights: the thread
checks them against the generated model and writes them, keyed by node, into a folder the importer owns for
as long as the window lives (the project is unsaved; its first save copies the file beside it).
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtGui import QFontDatabase, QPalette
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
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from netbuilder.project.project_file import WEIGHTS_SUFFIX
from netbuilder.ui.main_thread_gc import main_thread_collector
from netbuilder.ui.widgets.banner import Banner
from netbuilder.ui.widgets.text import sentence

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

    @property
    def name(self) -> str:
        return self.source.rpartition(":")[2]


def parse_input_shape(text: str) -> tuple[int, ...]:
    """'1, 3, 32, 32' -> (1, 3, 32, 32); ValueError with a reason a person can act on otherwise."""
    parts = [part.strip() for part in text.split(",")]
    if not text.strip():
        raise ValueError("give the input's sizes, batch first, e.g. 1,3,32,32")
    if any(not part for part in parts):
        raise ValueError("a size is missing between two commas")
    for part in parts:
        if not part.isdigit() or int(part) < 1:
            raise ValueError(f"{part!r} is not a positive whole number")
    if len(parts) < 2:
        raise ValueError("give the batch size first, then at least one size per sample, e.g. 1,20")
    return tuple(int(part) for part in parts)


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


@dataclass(frozen=True)
class ImportedModel:
    """An import as the window opens it: netbuilder.importers' ImportResult, and what became of the weights
    asked for (at most one of `weights_note` and `weights_problem` is set)."""

    result: object  # netbuilder.importers.ImportResult
    weights_note: str = ""  # "62 tensors loaded from resnet18.pt: training starts from them"
    weights_problem: str = ""  # why the weights were not loaded; the graph opens without them

    @property
    def needs_attention(self) -> bool:
        """Something the person should read before going on: calls that did not map, or weights not loaded."""
        return not self.result.complete or bool(self.weights_problem)

    def report(self) -> str:
        """What was imported, then the calls that did not map and what became of the weights."""
        lines = [self.result.report()]
        if not self.result.complete:
            lines.append(
                "Everything else is in the graph below; a block that took a missing call's output has its input "
                "left unconnected (see Problems)."
            )
        if self.weights_note:
            lines.append(sentence(self.weights_note))
        if self.weights_problem:
            lines.append(
                f"The weights were not loaded: {self.weights_problem}. The graph opened without them: training "
                "starts from the seed."
            )
        return "\n".join(lines) if self.needs_attention else "; ".join(lines)


class _ImportThread(QThread):
    """Builds the model and imports it, then attaches the weights asked for (written to `weights_target`);
    keeps the ImportedModel or the reason nothing was imported for the window."""

    def __init__(self, request: ImportRequest, weights_target: Path | None, parent: QObject) -> None:
        super().__init__(parent)
        self.request = request
        self.weights_target = weights_target
        self.imported: ImportedModel | None = None
        self.error = ""
        self.setObjectName(f"import {request.source}")

    def run(self) -> None:
        from netbuilder.importers import ImportFailure, import_module  # torch loads here, on this thread
        from netbuilder.importers.sources import SourceError, model_from_source

        try:
            module, name = model_from_source(self.request.source)
        except SourceError as err:
            self.error = f"Cannot build {self.request.source}: {err}. Check the file and the class name."
            return
        try:
            result = import_module(module, self.request.input_shape, name, dtype=self.request.dtype)
        except ImportFailure as err:
            self.error = (
                f"Nothing imported: {err}. Check the input shape (batch first) and type; a forward() that "
                "branches on tensor values cannot be traced."
            )
            return
        except Exception as err:  # a model's own code can raise anything; the window must stay up
            self.error = f"Importing {self.request.source} failed: {type(err).__name__}: {err}"
            return
        if self.request.weights is None or self.weights_target is None:
            self.imported = ImportedModel(result)
            return
        try:
            count = _attach_weights(result, self.request.weights, self.weights_target)
        except _WeightsNotLoaded as err:
            self.imported = ImportedModel(result, weights_problem=str(err))
            return
        note = f"{count} tensors loaded from {self.request.weights.name}: training starts from them"
        self.imported = ImportedModel(result, weights_note=note)


class _WeightsNotLoaded(Exception):
    """Why the weights given with an import could not become its starting weights."""


def _attach_weights(result, source: Path, target: Path) -> int:
    """Read the state_dict file `source` and make it `result`'s starting weights, saved at `target`; return how
    many tensors it holds. The project is left without weights when this raises _WeightsNotLoaded."""
    from netbuilder.codegen.model_code import CodegenError
    from netbuilder.importers import WeightsError
    from netbuilder.importers.weights import attach_weights, read_weights_file  # torch, on the import thread

    try:
        return attach_weights(result, read_weights_file(source), target)
    except FileNotFoundError:
        raise _WeightsNotLoaded(f"there is no file at {source}") from None
    except (ValueError, WeightsError) as err:  # ValueError: WeightsFileError, a file that holds no state_dict
        raise _WeightsNotLoaded(str(err)) from None
    except CodegenError as err:
        raise _WeightsNotLoaded(f"they need the whole model imported ({err})") from None
    except OSError as err:
        raise _WeightsNotLoaded(f"they could not be kept: {err}") from None
    except Exception as err:  # torch.load fails on foreign bytes with any kind of exception
        raise _WeightsNotLoaded(f"{source.name} is not a weights file ({type(err).__name__}: {err})") from None


class ModelImporter(QObject):
    """Runs one import at a time on a QThread and reports it; Cancel stops waiting for it at once.

    Tracing cannot be interrupted, so a cancelled import finishes in the background and its result is
    dropped; `shutdown()` joins every thread (the window calls it when it closes).
    """

    running_changed = Signal(bool)  # True while an import is awaited (not after Cancel)
    imported = Signal(object)  # ImportedModel: the awaited import's result, and what became of its weights
    failed = Signal(str)  # why the awaited import failed, and what to do

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._threads: list[_ImportThread] = []
        self._awaited: _ImportThread | None = None
        self._weights_folder: Path | None = None  # holds imported projects' weights until shutdown()

    @property
    def running(self) -> bool:
        return self._awaited is not None

    @property
    def awaited_name(self) -> str:
        return self._awaited.request.name if self._awaited is not None else ""

    def start(self, request: ImportRequest) -> None:
        self.cancel()
        main_thread_collector().hold()  # no garbage collection on the importing thread (see main_thread_gc)
        thread = _ImportThread(request, self._weights_target(request), self)
        thread.finished.connect(self._collect_finished)
        self._threads.append(thread)
        self._awaited = thread
        thread.start()
        self.running_changed.emit(True)

    def cancel(self) -> None:
        if self._awaited is not None:
            self._awaited = None
            self.running_changed.emit(False)

    def shutdown(self) -> None:
        """Stop waiting, join every import thread, and remove the weights of imports never saved (call it once
        the projects that may point at them are closed)."""
        self.cancel()
        for thread in list(self._threads):
            self._join(thread)
        if self._weights_folder is not None:
            shutil.rmtree(self._weights_folder, ignore_errors=True)
            self._weights_folder = None

    def _weights_target(self, request: ImportRequest) -> Path | None:
        """Where this import's starting weights go: a folder of its own (an earlier import's project may still
        be open and point at its file), named as a project's weights file must be."""
        if request.weights is None:
            return None
        if self._weights_folder is None:
            self._weights_folder = Path(tempfile.mkdtemp(prefix="netbuilder-imports-"))
        folder = Path(tempfile.mkdtemp(dir=self._weights_folder))
        return folder / f"{request.name}{WEIGHTS_SUFFIX}"

    def _collect_finished(self) -> None:
        for thread in [t for t in self._threads if t.isFinished()]:
            self._join(thread)
            if thread is self._awaited:
                self._awaited = None
                self.running_changed.emit(False)
                if thread.imported is not None:
                    self.imported.emit(thread.imported)
                else:
                    self.failed.emit(thread.error)

    def _join(self, thread: _ImportThread) -> None:
        if thread in self._threads:
            thread.wait()
            self._threads.remove(thread)
            main_thread_collector().release()


class ImportProgress(QWidget):
    """The status bar's busy indicator while an import runs: what is being imported, and Cancel."""

    def __init__(self, importer: ModelImporter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.importer = importer
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)  # busy: tracing reports no progress
        self.bar.setMaximumWidth(120)
        self.bar.setMaximumHeight(14)
        self.bar.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop waiting for this import (it finishes in the background, unused)")
        self.cancel_button.clicked.connect(importer.cancel)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar, 0, Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.cancel_button)
        importer.running_changed.connect(self._running_changed)
        self.hide()

    def _running_changed(self, running: bool) -> None:
        if running:
            self.label.setText(f"Importing {self.importer.awaited_name}…")
        self.setVisible(running)


class ImportReport(QWidget):
    """A banner above the canvas that stays until closed: the calls an import could not map (the rest of the
    graph is open below it), or why an import failed and what to do. Never modal, so work goes on."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.banner = Banner()
        self.banner.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.hide)
        self.banner.layout().addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.banner.show()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.addWidget(self.banner)
        self.hide()

    @property
    def text(self) -> str:
        return self.banner.text.text()

    def show_report(self, text: str, *, error: bool) -> None:
        self.banner.text.setText(text)
        self.banner.set_icon(
            QStyle.StandardPixmap.SP_MessageBoxCritical if error else QStyle.StandardPixmap.SP_MessageBoxWarning
        )
        self.show()

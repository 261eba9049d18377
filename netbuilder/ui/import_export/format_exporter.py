"""Writing an export's formats off the window's thread: TorchScript, torch.export, ONNX (float and int8),
safetensors and summary.md need torch (and ONNX takes seconds), so netbuilder.export writes them on a
BackgroundTask; so too the project's starting weights (starting_weights.safetensors, which the package's train.py
loads), whatever formats are ticked."""

from __future__ import annotations

import functools

from PySide6.QtCore import QObject, Signal

from netbuilder.codegen.train_script import STARTING_WEIGHTS_FILE
from netbuilder.project import Project
from netbuilder.ui.background import BackgroundTask
from netbuilder.ui.import_export.export_dialog import ExportChoice

STARTING_WEIGHTS = "starting_weights"
"""The key of the starting weights' outcome among the formats' results."""


def write_formats(project: Project, choice: ExportChoice) -> tuple[dict, str, list[str]]:
    """Write `choice`'s formats and, if it asks, the starting weights: ({format or STARTING_WEIGHTS:
    netbuilder.export.ExportResult}, why no format could be written or "", and with a run's weights each model
    file's check on the validation split, a line each, as `netbuilder export --weights` prints them). Runs on
    the export's thread."""
    from netbuilder.export import ExportError, export_formats  # torch loads here, on this thread

    results: dict = {}
    error = ""
    checked: list[str] = []
    if choice.formats:
        try:
            results = export_formats(project, choice.folder, choice.formats, weights=choice.weights)
        except ExportError as err:
            error = f"No format exported: {err}"
        except OSError as err:
            error = f"Could not write to {choice.folder}: {err}"
        if results and choice.weights is not None:
            checked = _checked_on_validation(project, choice, results)
    if choice.starting_weights:
        results[STARTING_WEIGHTS] = _write_starting_weights(project, choice)
    return results, error, checked


def _checked_on_validation(project: Project, choice: ExportChoice, results: dict) -> list[str]:
    """Each written model file run in its consumer on the validation split beside the torch model, a line each;
    or one line saying why the split could not be evaluated; nothing for a network that does not train."""
    from netbuilder.analysis import analyze
    from netbuilder.export.validation_check import check_on_validation
    from netbuilder.training.evaluation import EvaluationError

    if analyze(project.graph).training_task is None:
        return []
    try:
        checks = check_on_validation(project, choice.weights, results)
    except EvaluationError as err:
        return [f"No check on the validation split: {err}"]
    return [check.line(results[check.format].path.name) for check in checks]


def _write_starting_weights(project: Project, choice: ExportChoice):
    """starting_weights.safetensors beside train.py, as an ExportResult whose error says what train.py will do
    without it."""
    from netbuilder.export import ExportError, ExportResult
    from netbuilder.export.weights_file import write_starting_weights_file

    try:
        return ExportResult(STARTING_WEIGHTS, write_starting_weights_file(project, choice.folder))
    except (ExportError, OSError) as err:
        return ExportResult(STARTING_WEIGHTS, error=f"{STARTING_WEIGHTS_FILE}: {err} (the package's train.py needs it)")


class FormatExporter(QObject):
    """One export of the formats at a time, on a BackgroundTask; `shutdown()` joins it (the window calls it when
    it closes)."""

    running_changed = Signal(bool)  # True while the formats are being written
    finished = Signal(object, str, object)  # ({format: ExportResult}, why nothing was written or "", checks)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._task: BackgroundTask | None = None

    @property
    def running(self) -> bool:
        return self._task is not None

    def start(self, project: Project, choice: ExportChoice) -> bool:
        """False (and nothing started) while an export is still running."""
        if self._task is not None:
            return False
        self._task = BackgroundTask(functools.partial(write_formats, project, choice), f"export {project.name}")
        self._task.succeeded.connect(self._succeeded)
        self._task.failed.connect(self._failed)
        self._task.start()
        self.running_changed.emit(True)
        return True

    def shutdown(self) -> None:
        """Wait for the export still running, if any, without reporting it."""
        if self._task is not None:
            self._task.join()
            self._done()

    def _succeeded(self, outcome: tuple[dict, str, list[str]]) -> None:
        self._done()
        self.finished.emit(*outcome)

    def _failed(self, error: Exception) -> None:
        self._done()  # torch or an exporter failing in a way netbuilder.export does not name
        self.finished.emit({}, f"The export failed: {type(error).__name__}: {error}", [])

    def _done(self) -> None:
        self._task = None
        self.running_changed.emit(False)

"""Importing a model off the window's thread: build and trace it with netbuilder.importers, then make the weights
given with it the project's starting weights.

torch loads on the import's own thread (a BackgroundTask), never on the window's. Weights are checked against
the generated model and written, keyed by node, into a folder the importer owns for as long as the window
lives (the project is unsaved; its first save copies the file beside it).
"""

from __future__ import annotations

import functools
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from netbuilder.project.project_file import WEIGHTS_SUFFIX
from netbuilder.ui.background import BackgroundTask
from netbuilder.ui.import_export.model_import_dialog import ImportRequest
from netbuilder.ui.widgets.text import sentence


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
                "Everything else is in the graph below: a block that took a missing call's output has its input "
                "left unconnected (see Problems), and the banner above the canvas keeps the list until the gaps are "
                "filled; the model cannot be trained or exported before."
            )
        if self.weights_note:
            lines.append(sentence(self.weights_note))
        if self.weights_problem:
            lines.append(
                f"The weights were not loaded: {self.weights_problem}. The graph opened without them: training "
                "starts from the seed."
            )
        return "\n".join(lines) if self.needs_attention else "; ".join(lines)


class ImportFailed(Exception):
    """Nothing was imported; the message says why and what to do."""


class _WeightsNotLoaded(Exception):
    """Why the weights given with an import could not become its starting weights."""


def import_model(request: ImportRequest, weights_target: Path | None) -> ImportedModel:
    """Build the model `request` names and import it, then attach the weights asked for (written to
    `weights_target`). Runs on the import's thread: torch loads here. ImportFailed says why nothing came in."""
    from netbuilder.importers import ImportFailure, import_module  # torch loads here, on this thread
    from netbuilder.importers.sources import SourceError, model_from_source

    try:
        module, name = model_from_source(request.source)
    except SourceError as err:
        raise ImportFailed(f"Cannot build {request.source}: {err}. Check the file and the class name.") from None
    try:
        result = import_module(module, request.input_shape, name, dtype=request.dtype, orientation=request.orientation)
    except ImportFailure as err:
        raise ImportFailed(
            f"Nothing imported: {err}. Check the input shape (batch first) and type; a forward() that "
            "branches on tensor values cannot be traced."
        ) from None
    if request.weights is None or weights_target is None:
        return ImportedModel(result)
    try:
        attached = _attach_weights(result, request.weights, weights_target)
    except _WeightsNotLoaded as err:
        return ImportedModel(result, weights_problem=str(err))
    return ImportedModel(result, weights_note=attached.note)


def _attach_weights(result, source: Path, target: Path):
    """Read the state_dict file `source` and make it `result`'s starting weights, saved at `target`; return
    what was kept (importers.weights.AttachedWeights). The project is left without weights when this raises
    _WeightsNotLoaded."""
    from netbuilder.codegen.model_code import CodegenError
    from netbuilder.importers import WeightsError
    from netbuilder.importers.weights import attach_weights, read_weights_file  # torch, on the import thread

    try:
        return attach_weights(result, read_weights_file(source), target, source.name)
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
    """Runs one awaited import at a time, each a BackgroundTask, and reports it; Cancel stops waiting at once.

    Tracing cannot be interrupted, so a cancelled import finishes in the background and its result is
    dropped; `shutdown()` joins every import (the window calls it when it closes).
    """

    running_changed = Signal(bool)  # True while an import is awaited (not after Cancel)
    imported = Signal(object)  # ImportedModel: the awaited import's result, and what became of its weights
    failed = Signal(str)  # why the awaited import failed, and what to do

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks: list[BackgroundTask] = []  # every import not yet joined, cancelled ones too
        self._awaited: tuple[BackgroundTask, ImportRequest] | None = None
        self._weights_folder: Path | None = None  # holds imported projects' weights until shutdown()

    @property
    def running(self) -> bool:
        return self._awaited is not None

    @property
    def awaited_name(self) -> str:
        return self._awaited[1].name if self._awaited is not None else ""

    def start(self, request: ImportRequest) -> None:
        self.cancel()
        work = functools.partial(import_model, request, self._weights_target(request))
        task = BackgroundTask(work, f"import {request.source}")
        task.succeeded.connect(self._succeeded)
        task.failed.connect(self._failed)
        self._tasks = [t for t in self._tasks if t.running]
        self._tasks.append(task)
        self._awaited = (task, request)
        task.start()
        self.running_changed.emit(True)

    def cancel(self) -> None:
        if self._awaited is not None:
            self._awaited[0].cancel()
            self._awaited = None
            self.running_changed.emit(False)

    def shutdown(self) -> None:
        """Stop waiting, join every import, and remove the weights of imports never saved (call it once the
        projects that may point at them are closed)."""
        self.cancel()
        for task in self._tasks:
            task.join()
        self._tasks.clear()
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

    def _succeeded(self, imported: ImportedModel) -> None:
        self._done()
        self.imported.emit(imported)

    def _failed(self, error: Exception) -> None:
        source = self._awaited[1].source if self._awaited is not None else "the model"
        self._done()
        if isinstance(error, ImportFailed):
            self.failed.emit(str(error))
        else:  # a model's own code can raise anything; the window stays up and says what
            self.failed.emit(f"Importing {source} failed: {type(error).__name__}: {error}")

    def _done(self) -> None:
        self._awaited = None
        self.running_changed.emit(False)

"""Find batch size in the window: netbuilder.training.batch_size_search on a snapshot of the project, in a
BackgroundTask, with the size being tried (the try of at most how many, the time so far and about how long is
left: batch_size_progress) and Stop on a line of the Training panel; the size found becomes the
batch size in one undoable edit, and the line says what was found and how.

torch is imported on the task's thread (in `Search.run`), never while the window opens. The search trains a
copy of the model: the project's weights are not touched.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from netbuilder.project import Project, copy_project
from netbuilder.ui.background import BackgroundTask
from netbuilder.ui.editor.controller import EditorController
from netbuilder.ui.training.worker import training_threads
from netbuilder.ui.widgets.text import sentence

FIND_BATCH_TIP = (
    "Find the largest batch that trains in the GPU's memory, by training a copy of the network on batches of "
    "growing size, and set it as the batch size (Undo puts it back). On the CPU nothing is tried: the batch size "
    "is lowered only where half the free memory does not hold it by the network's estimate"
)


class Search(QObject):
    """One search for a snapshot of `project`: `run` is the work of a BackgroundTask and returns the
    BatchSizeFound; `trying` says each size as it is tried. `stop` (from any thread) ends the search after the
    size being tried, with what it found so far."""

    trying = Signal(object)  # batch_size_progress.TryProgress: the size, the try of at most how many, the times

    def __init__(self, project: Project) -> None:
        super().__init__()
        self.project = copy_project(project)  # the window may change the graph while the search runs
        self.began = time.perf_counter()  # asked for now: loading the data counts in the time so far
        self._stop = threading.Event()
        self._control: Any = None

    def stop(self) -> None:
        self._stop.set()
        if self._control is not None:
            self._control.stop()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self) -> Any:
        import torch

        from netbuilder.training.batch_size_progress import SearchClock, gpu_memory
        from netbuilder.training.batch_size_search import find_batch_size
        from netbuilder.training.control import Control
        from netbuilder.training.out_of_memory import is_out_of_memory, out_of_memory_at_start, release_gpu_memory

        torch.set_num_threads(training_threads())
        self._control = control = Control()
        if self._stop.is_set():
            control.stop()
        clock = SearchClock(self.began, memory=gpu_memory)  # sizes are tried on a GPU only
        try:
            return find_batch_size(self.project, control=control, on_try=lambda *t: self.trying.emit(clock.trying(*t)))
        except RuntimeError as err:  # the sizes tried catch their own: this is the data and the network
            if not is_out_of_memory(err):
                raise
        release_gpu_memory()
        raise ValueError(out_of_memory_at_start())


class BatchSizeFinder(QWidget):
    """The line under the run controls while a search runs (the size tried, Stop) and after it (what was found).
    `button` (Find batch size, on the run controls' row) and `action` (the window's Training menu) start it.
    The panel says when it may not start (`set_blocked`), and hears `busy_changed` (no run starts while a
    search holds the GPU) and `message`."""

    busy_changed = Signal(bool)
    message = Signal(str)  # a line for the status bar

    def __init__(self, editor: EditorController, button: QPushButton, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = editor
        self.button = button
        self.button.setToolTip(FIND_BATCH_TIP)
        self.button.clicked.connect(self.start)
        self.action = QAction("Find &Batch Size", self)  # the same, in the window's Training menu
        self.action.setStatusTip(FIND_BATCH_TIP)
        self.action.triggered.connect(self.start)
        self.search: Search | None = None
        self.task: BackgroundTask | None = None
        self.found = None  # the last search's BatchSizeFound
        self.words = QLabel()
        self.words.setWordWrap(True)
        self.words.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("End the search after the size being tried, keeping the largest that fit")
        self.stop_button.clicked.connect(self.stop)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.words, 1)
        layout.addWidget(self.stop_button)
        self.stop_button.hide()
        self.hide()  # until a search has something to say

    @property
    def busy(self) -> bool:
        return self.task is not None

    def set_blocked(self, why: str) -> None:
        """Offer the search when `why` is "" (and none runs); else the button says why not."""
        for offered in (self.button, self.action):
            offered.setEnabled(not why and not self.busy)
        self.button.setToolTip(why or FIND_BATCH_TIP)
        self.action.setStatusTip(why or FIND_BATCH_TIP)

    def start(self) -> bool:
        """Search for the batch size of the project as it is now; False while one runs or it may not start."""
        if self.busy or not self.button.isEnabled():
            return False
        self.found = None
        self.search = Search(self.editor.document.project)
        self.search.trying.connect(self._on_trying)
        self.task = BackgroundTask(self.search.run, "netbuilder batch size search")
        self.task.succeeded.connect(self._on_found)
        self.task.failed.connect(self._on_failed)
        self._say("Finding the batch size: loading the data and building the model…")
        self.stop_button.setEnabled(True)
        self.stop_button.show()
        self.button.setEnabled(False)
        self.action.setEnabled(False)
        self.task.start()
        self.busy_changed.emit(True)
        return True

    def stop(self) -> None:
        """End the search after the size being tried; the largest that fit so far is used."""
        if self.search is not None:
            self.search.stop()
            self.stop_button.setEnabled(False)
            self._say("Stopping after this size…")

    def _on_trying(self, progress: Any) -> None:
        if self.search is None or self.sender() is not self.search or self.search.stopping:
            return
        self._say(f"Trying batch size {progress.size:,} ({progress.words()})…")

    def _end(self) -> None:
        search, self.search, self.task = self.search, None, None
        if search is not None:
            search.trying.disconnect(self._on_trying)
        self.stop_button.hide()
        self.busy_changed.emit(False)

    def _on_found(self, found: Any) -> None:
        if self.sender() is not self.task:
            return
        self._end()
        self.found = found
        summary = sentence(found.summary())
        if found.batch_size == 0:
            self._say(summary)
            self.message.emit(summary)
            return
        if found.batch_size == self.editor.document.project.training.batch_size:
            self._say(f"{summary} It is the batch size already.")
            return
        if not self.editor.set_setting("batch_size", found.batch_size):  # refused: the editor said why
            self._say(summary)
            return
        self._say(f"{summary} Set as the batch size (Undo puts it back).")
        self.message.emit(f"Set the batch size to {found.batch_size:,} (Undo puts it back)")

    def _on_failed(self, error: Exception) -> None:
        if self.sender() is not self.task:
            return
        self._end()
        text = str(error).strip()
        self._say("Finding the batch size failed: " + (text.splitlines()[0] if text else type(error).__name__))

    def _say(self, text: str) -> None:
        self.words.setText(text)
        self.show()

    def shutdown(self) -> None:
        """Stop a search still running and wait for its thread to end (the window is closing)."""
        if self.task is not None:
            self.search.stop()
            self.task.join()
            self._end()

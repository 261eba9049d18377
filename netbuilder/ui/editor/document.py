"""The open project in the window: graph, analysis kept current, undo stack, file path and unsaved state."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoStack

from netbuilder.analysis import Analysis, Analyzer
from netbuilder.graph.events import GraphEvent
from netbuilder.project import Project, save_project


class Document(QObject):
    """One project being edited. Analysis runs once per burst of graph events, on the next turn of the
    event loop, so a command that makes ten changes is checked once."""

    analysis_changed = Signal(object)  # Analysis: fresh shapes, counts and diagnostics
    modified_changed = Signal(bool)  # True while there are unsaved changes
    path_changed = Signal(object)  # Path | None

    def __init__(self, project: Project, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.project = project
        self.graph = project.graph
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._clean_changed)
        self._analyzer = Analyzer(self.graph)
        self.analysis: Analysis = self._analyzer.analysis()
        self._pending = QTimer(self)
        self._pending.setSingleShot(True)
        self._pending.setInterval(0)
        self._pending.timeout.connect(self.reanalyze)
        self._unsubscribe = self.graph.subscribe(self._on_event)

    @property
    def path(self) -> Path | None:
        return self.project.path

    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean()

    @property
    def title(self) -> str:
        return self.project.name

    def _clean_changed(self, clean: bool) -> None:
        self.modified_changed.emit(not clean)

    def _on_event(self, event: GraphEvent) -> None:
        # every change can change what is shown: shapes, diagnostics, or the code (order follows positions)
        self._pending.start()

    def reanalyze(self) -> Analysis:
        """Bring the analysis up to date now (normally the timer does this)."""
        self._pending.stop()
        self.analysis = self._analyzer.analysis()
        self.analysis_changed.emit(self.analysis)
        return self.analysis

    def save(self, path: Path | None = None) -> Path:
        """Save atomically (to `path`, or where the project came from) and mark the undo stack clean."""
        saved = save_project(self.project, path or self.project.path)
        self.undo_stack.setClean()
        self.path_changed.emit(saved)
        return saved

    def close(self) -> None:
        """Stop listening, and delete the commands now, while everything they refer to is alive: left to the
        garbage collector, the stack's C++ side could delete commands whose Python side is already gone."""
        self._pending.stop()
        self._unsubscribe()
        self._analyzer.close()
        self.undo_stack.clear()

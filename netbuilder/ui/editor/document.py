"""The open project in the window: graph, analysis kept current, file path. Its undo stack, and so its unsaved
state, is the editor's (netbuilder.ui.editor.controller)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from netbuilder.analysis import Analysis, Analyzer
from netbuilder.graph.events import GraphEvent
from netbuilder.project import Project, save_project
from netbuilder.project.events import ProjectEvent


class Document(QObject):
    """One project being edited. Analysis runs once per burst of graph events, on the next turn of the
    event loop, so a command that makes ten changes is checked once."""

    analysis_changed = Signal(object)  # Analysis: fresh shapes, counts and diagnostics
    path_changed = Signal(object)  # Path | None

    def __init__(self, project: Project, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.project = project
        self.graph = project.graph
        self._analyzer = Analyzer(self.graph)
        self.analysis: Analysis = self._analyzer.analysis()
        self._pending = QTimer(self)
        self._pending.setSingleShot(True)
        self._pending.setInterval(0)
        self._pending.timeout.connect(self.reanalyze)
        self._unsubscribe = self.graph.subscribe(self._on_event)
        self._unsubscribe_project = project.subscribe(self._on_event)  # train.py holds settings and weights

    @property
    def path(self) -> Path | None:
        return self.project.path

    @property
    def title(self) -> str:
        return self.project.name

    def _on_event(self, event: GraphEvent | ProjectEvent) -> None:
        # every change can change what is shown: shapes, diagnostics, or the code (order follows positions)
        self._pending.start()

    def reanalyze(self) -> Analysis:
        """Bring the analysis up to date now (normally the timer does this)."""
        self._pending.stop()
        self.analysis = self._analyzer.analysis()
        self.analysis_changed.emit(self.analysis)
        return self.analysis

    def save(self, path: Path | None = None) -> Path:
        """Save atomically (to `path`, or where the project came from); the editor marks its stack clean."""
        saved = save_project(self.project, path or self.project.path)
        self.path_changed.emit(saved)
        return saved

    def close(self) -> None:
        """Stop listening to the graph and the project, and stop analysing."""
        self._pending.stop()
        self._unsubscribe()
        self._unsubscribe_project()
        self._analyzer.close()

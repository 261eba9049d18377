"""The Runs dock (part of MainWindow): tabbed with Problems and code and Training at the bottom, it holds the
open document's RunsView, which reads the Training dock's own run history; View > Runs (Ctrl+Shift+R) brings
it forward; a run opened as a copy becomes a new unsaved document after the usual question about unsaved
work, and a run's graph is drawn read-only in a dialog of its own."""

from __future__ import annotations

from PySide6.QtCore import Qt

from netbuilder.project import Project
from netbuilder.project.run_history import RunRecord
from netbuilder.ui.app.run_graph_dialog import RunGraphDialog
from netbuilder.ui.training.runs_view import RunsView

RUNS_DOCK_HEIGHT = 300  # a table of a few runs beside their curves, readable: the bottom docks grow to it once


class RunsDockMixin:
    """`_make_runs_dock` once, with the other docks; `_show_runs` with each document, `_drop_runs` before it
    goes."""

    def _make_runs_dock(self) -> None:
        self.runs: RunsView | None = None
        self.runs_dock = self._dock("Runs", "runs", Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(self.training_dock, self.runs_dock)
        self.runs_dock.visibilityChanged.connect(self._runs_dock_shown)
        self._runs_dock_grown = False

    def _runs_dock_shown(self, visible: bool) -> None:
        if visible and self.runs is not None:
            self.runs.on_shown()  # a tab chosen shows no widget anew: the view is told
        if visible and self.runs is not None and not self._runs_dock_grown:
            self._runs_dock_grown = True
            if self.runs_dock.height() < RUNS_DOCK_HEIGHT:
                self.resizeDocks([self.runs_dock], [RUNS_DOCK_HEIGHT], Qt.Orientation.Vertical)

    def _show_runs(self) -> None:
        """The document's runs, from the Training dock's history (which it keeps up to date)."""
        self.runs = RunsView(self.controller, self.training.history)
        self.training.runs_changed.connect(self.runs.refresh)
        self.training.running_changed.connect(self.runs.set_running)
        self.runs.message.connect(self.show_message)
        self.runs.open_copy_requested.connect(self.open_run_copy)
        self.runs.show_graph_requested.connect(self.show_run_graph)
        training = self.training
        self.runs.training_now = lambda: "the run" if training.is_running else "the sweep" if training.sweeping else ""
        self.runs_dock.setWidget(self.runs)

    def _drop_runs(self) -> None:
        self.runs.shutdown()  # joins a run's weights being read, if any
        self.runs.deleteLater()
        self.runs_dock.setWidget(None)
        self.runs = None

    def show_runs(self) -> None:
        """Bring the Runs dock forward, its table focused."""
        if self.runs is None:
            return
        self.runs_dock.show()
        self.runs_dock.raise_()
        self.runs.table.setFocus()

    def open_run_copy(self, project: Project) -> None:
        """A run's project as a new, unsaved document (once the current one's unsaved work is saved or let go)."""
        if not self._may_discard():
            return
        self._set_project(project, modified=True)
        self.statusBar().showMessage(f"Opened “{project.name}”: save it to keep it", 6000)

    def show_run_graph(self, record: RunRecord, project: Project, changes: list[str]) -> None:
        """A run's graph as it was, read-only, in a window of its own beside what differs from now."""
        RunGraphDialog(record, project, changes, self.theme, self).show()

"""Opening, saving and recovering projects, and the recent files (part of MainWindow)."""

from __future__ import annotations

import itertools
from pathlib import Path

from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QMessageBox

from netbuilder.project import Project, ProjectError, load_project
from netbuilder.project.recovery import Autosave, RecoveredWork
from netbuilder.project.run_history import sweep_interrupted_writes
from netbuilder.ui.app.recovery_dialog import RecoveryDialog, human_time

AUTOSAVE_MS = 60_000
MAX_RECENT = 10
FILTER = "netbuilder projects (*.nbproj)"
_untitled = itertools.count(1)


class ProjectFilesMixin:
    """New, Open (also a .nbproj dropped on the window), Save and Save As, the minute's autosave into the
    recovery folder and the offer to recover after a crash, asking before unsaved work is lost, and the recent
    files (in the settings, the File menu and the start page).

    The open document autosaves into its own recovery entry (a recovered one into the entry it came from),
    which goes only when the document is saved or closed without saving."""

    def new_project(self) -> None:
        if not self._may_discard():
            return
        project = Project.new(f"Untitled {next(_untitled)}", named=False)
        project.graph.add_node("Dataset", label="data", position=(0.0, 0.0))
        self._set_project(project)

    def open_dialog(self) -> None:
        start = str(self.document.path.parent) if self.document and self.document.path else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open project", start, FILTER)
        if path:
            self.open_path(Path(path))

    def open_path(self, path: Path) -> bool:
        """Open a project file; a file that cannot be read is explained and nothing is lost."""
        if not self._may_discard():
            return False
        try:
            project = load_project(path)
        except ProjectError as err:
            QMessageBox.warning(self, "Cannot open project", f"{path}\n\n{err}")
            self._forget_recent(path)
            return False
        self._set_project(project)
        self._remember_recent(path)
        sweep_interrupted_writes(path)  # what saves and runs killed an hour or more ago left behind
        return True

    def save(self) -> bool:
        if self.document is None:
            return False
        if self.document.path is None:
            return self.save_as()
        return self._save_to(self.document.path)

    def save_as(self) -> bool:
        if self.document is None:
            return False
        suggestion = str(self.document.path or Path.home() / f"{self.document.title}.nbproj")
        path, _ = QFileDialog.getSaveFileName(self, "Save project", suggestion, FILTER)
        if not path:
            return False
        path = Path(path) if path.endswith(".nbproj") else Path(path + ".nbproj")
        return self._save_to(path)

    def _save_to(self, path: Path) -> bool:
        try:
            self.controller.save(path)
        except (ProjectError, OSError) as err:
            QMessageBox.critical(self, "Cannot save", f"The project was not saved to {path}:\n\n{err}")
            return False
        self.recovery.discard(self._recovery_entry)  # saved: its autosaves are no longer needed
        self._recovery_entry = self.recovery.new_entry()
        self._remember_recent(path)
        self.statusBar().showMessage(f"Saved {path}", 4000)
        return True

    def autosave(self) -> None:
        """Write unsaved work to the recovery folder (every minute, and never over the real file). A failure is
        explained once in a message box, then only in the status bar until an autosave succeeds again."""
        if self.document is None or not self.controller.modified:
            return
        try:
            self.recovery.save(self._recovery_entry, self.document.project)
        except (ProjectError, OSError) as err:
            reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
            if self._autosave_warned == self._recovery_entry:
                self.statusBar().showMessage(f"Autosave failed: {reason}", 6000)
                return
            self._autosave_warned = self._recovery_entry
            QMessageBox.warning(
                self,
                "Autosave failed",
                f"“{self.document.title}” could not be autosaved, so a crash would lose its unsaved changes: "
                f"{reason}.\n\nSave the project to keep them.",
            )
        else:
            self._autosave_warned = ""

    def offer_recovery(self) -> None:
        """After a crash: the unsaved work kept from earlier sessions, in a window-modal dialog (not exec), to
        open one autosave of it or discard it; what is neither is offered again (the start page keeps a
        button for it)."""
        pending = self._recoverable()
        if not pending:
            return
        if self.recovery_dialog is not None:
            self.recovery_dialog.deleteLater()  # an earlier offer's, closed
        self.recovery_dialog = RecoveryDialog(pending, self)
        self.recovery_dialog.recover_requested.connect(self._recover)
        self.recovery_dialog.discard_requested.connect(self._discard_recovered)
        self.recovery_dialog.open()

    def _recover(self, work: RecoveredWork, autosave: Autosave) -> None:
        """Open an autosave as the document, with its changes unsaved, autosaving on into its entry."""
        if not self._may_discard():
            return
        try:
            project = self.recovery.restore(work, autosave)
        except ProjectError as err:
            QMessageBox.warning(
                self,
                "Cannot recover",
                f"The autosave of “{work.name}” from {human_time(autosave.saved_at)} could not be opened: {err}."
                "\n\nAn earlier autosave may open: Recover… on the start page lists them.",
            )
            return
        self._set_project(project, modified=True, recovery_entry=work.entry)
        self._recoverable()
        if project.path is not None:
            sweep_interrupted_writes(project.path)  # the crash may have cut a save or a run short there

    def _discard_recovered(self, work: RecoveredWork) -> None:
        self.recovery.discard(work.entry)
        self._recoverable()

    def _recoverable(self) -> list[RecoveredWork]:
        """The work kept from other sessions (not the open document's), counted on the start page too."""
        pending = self.recovery.pending()
        self.start_page.set_recoverable(len(pending))
        return pending

    def _may_discard(self) -> bool:
        """True if there are no unsaved changes, or the person saved or chose to discard them."""
        if self.document is None or not self.controller.modified:
            return True
        answer = QMessageBox.question(
            self,
            "Unsaved changes",
            f"“{self.document.title}” has changes that are not saved. Save them first?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def recent_files(self) -> list[Path]:
        value = self.settings.value("recent", [])
        paths = [value] if isinstance(value, str) else list(value or [])
        return [Path(p) for p in paths if p]

    def _remember_recent(self, path: Path) -> None:
        path = path.resolve()
        recent = [path, *(p for p in self.recent_files() if p != path)][:MAX_RECENT]
        self._store_recent(recent)

    def _forget_recent(self, path: Path) -> None:
        self._store_recent([p for p in self.recent_files() if p != path.resolve()])

    def _store_recent(self, recent: list[Path]) -> None:
        self.settings.setValue("recent", [str(p) for p in recent])
        self.start_page.set_recent(recent)
        self._fill_recent_menu()

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for path in self.recent_files():
            action = self.recent_menu.addAction(path.name)
            action.setStatusTip(str(path))
            action.setData(str(path))
        self.recent_menu.setEnabled(bool(self.recent_files()))

    def _open_recent(self, action: QAction) -> None:
        self.open_path(Path(str(action.data())))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(url.toLocalFile().endswith(".nbproj") for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        for url in event.mimeData().urls():
            if url.toLocalFile().endswith(".nbproj"):
                self.open_path(Path(url.toLocalFile()))
                event.acceptProposedAction()
                return

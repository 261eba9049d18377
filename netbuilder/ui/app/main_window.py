"""The main window: canvas in the middle, palette on the left, inspector on the right, Problems and Code
below; menus and a toolbar with the standard shortcuts; autosave, recovery, recent files."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QStyle,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from netbuilder import __version__
from netbuilder.codegen.model_code import CodegenError
from netbuilder.codegen.package import generate_package, write_package
from netbuilder.graph.clipboard import MIME_TYPE
from netbuilder.project import Project, ProjectError, load_project
from netbuilder.project.recovery import Recovery
from netbuilder.ui.app.start_page import StartPage
from netbuilder.ui.canvas.diagram_export import DiagramExportError, export_diagram, export_diagrams
from netbuilder.ui.canvas.palette import PalettePanel
from netbuilder.ui.canvas.quick_add import QuickAddPopup
from netbuilder.ui.canvas.scene import GraphScene
from netbuilder.ui.canvas.view import GraphView
from netbuilder.ui.editor.controller import EditorController
from netbuilder.ui.editor.document import Document
from netbuilder.ui.import_export.export_dialog import ExportChoice, ExportDialog, ExportProgress, FormatExporter
from netbuilder.ui.import_export.model_import_dialog import (
    ImportProgress,
    ImportReport,
    ModelImportDialog,
    ModelImporter,
)
from netbuilder.ui.panels.code_panel import CodePanel
from netbuilder.ui.panels.inspector import InspectorPanel
from netbuilder.ui.panels.problems import ProblemsPanel
from netbuilder.ui.theme import apply_to_application
from netbuilder.ui.training.panel import TrainingPanel
from netbuilder.ui.training.worker import snapshot

AUTOSAVE_MS = 60_000
MAX_RECENT = 10
TRAINING_DOCK_HEIGHT = 280
FILTER = "netbuilder projects (*.nbproj)"
DIAGRAM_FILTER = "SVG drawing (*.svg);;PNG image (*.png)"
_untitled = itertools.count(1)


class MainWindow(QMainWindow):
    """One project at a time; the start page when none is open."""

    def __init__(self, settings: QSettings, recovery: Recovery) -> None:
        super().__init__()
        self.settings = settings
        self.recovery = recovery
        self.theme = apply_to_application(str(settings.value("theme", "system")))
        self.document: Document | None = None
        self.controller: EditorController | None = None
        self.scene: GraphScene | None = None
        self.view: GraphView | None = None
        self.training: TrainingPanel | None = None
        self._locked = False  # while a run trains, the graph is not edited
        self._training_dock_grown = False
        self._recovery_key = ""
        self._quick_add_point = QPointF()
        self.setAcceptDrops(True)
        screen = QGuiApplication.primaryScreen()
        available = screen.availableGeometry() if screen is not None else None
        self.resize(
            min(1366, available.width()) if available else 1366, min(800, available.height()) if available else 800
        )

        self.stack = QStackedWidget()
        self.start_page = StartPage(self.recent_files())
        self.start_page.new_requested.connect(self.new_project)
        self.start_page.open_requested.connect(self.open_dialog)
        self.start_page.path_chosen.connect(self.open_path)
        self.stack.addWidget(self.start_page)
        self.import_report = ImportReport()
        central = QWidget()
        central_layout = QVBoxLayout(central)
        central_layout.setContentsMargins(0, 0, 0, 0)
        central_layout.setSpacing(0)
        central_layout.addWidget(self.import_report)
        central_layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.importer = ModelImporter(self)
        self.importer.imported.connect(self._imported)
        self.importer.failed.connect(self._import_failed)
        self.import_dialog: ModelImportDialog | None = None
        self.exporter = FormatExporter(self)
        self.exporter.finished.connect(self._formats_exported)
        self.export_dialog_box: ExportDialog | None = None
        self._exporting_package: list[Path] = []  # the package and diagrams of the export whose formats are running
        self._export_failures: list[str] = []  # that export's diagrams that failed, reported with its formats

        self.palette_dock = self._dock("Blocks", "palette", Qt.DockWidgetArea.LeftDockWidgetArea)
        self.inspector_dock = self._dock("Inspector", "inspector", Qt.DockWidgetArea.RightDockWidgetArea)
        self.bottom_dock = self._dock("Problems and code", "bottom", Qt.DockWidgetArea.BottomDockWidgetArea)
        self.bottom_tabs = QTabWidget()
        self.bottom_dock.setWidget(self.bottom_tabs)
        self.training_dock = self._dock("Training", "training", Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(self.bottom_dock, self.training_dock)
        self.training_dock.visibilityChanged.connect(self._training_dock_shown)
        self.palette = PalettePanel()
        self.palette.block_activated.connect(self._add_at_centre)
        self.palette_dock.setWidget(self.palette)

        self.zoom_label = QLabel("")
        self.statusBar().addPermanentWidget(self.zoom_label)
        self.import_progress = ImportProgress(self.importer)
        self.statusBar().addPermanentWidget(self.import_progress)
        self.statusBar().addPermanentWidget(ExportProgress(self.exporter))
        self._make_actions()
        self._make_menus()
        self._update_actions()

        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(AUTOSAVE_MS)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()

        geometry = settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = settings.value("window/state")
        if state is None or not self.restoreState(state):
            self.resizeDocks([self.palette_dock, self.inspector_dock], [230, 320], Qt.Orientation.Horizontal)
            self.resizeDocks([self.bottom_dock], [200], Qt.Orientation.Vertical)
        self._show_docks(False)
        self._refresh_title()

    # ---- building ----------------------------------------------------------------------------------------

    def _dock(self, title: str, name: str, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{name}")
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(area, dock)
        return dock

    def _action(self, text: str, slot, shortcut: QKeySequence | str | None = None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        return action

    def _make_actions(self) -> None:
        std = QKeySequence.StandardKey
        self.new_action = self._action("&New", self.new_project, std.New, "Start an empty project")
        self.open_action = self._action("&Open…", self.open_dialog, std.Open, "Open a .nbproj file")
        self.save_action = self._action("&Save", self.save, std.Save, "Save the project")
        self.save_as_action = self._action("Save &As…", self.save_as, std.SaveAs, "Save under a new name")
        self.export_action = self._action(
            "&Export…",
            self.export_dialog,
            "Ctrl+E",
            "Write the code package, and TorchScript, ONNX, safetensors weights or a summary, into a folder",
        )
        self.import_action = self._action(
            "&Import Model…", self.import_model_dialog, None, "Bring in a PyTorch model from a .py file or torchvision"
        )
        self.export_diagram_action = self._action(
            "Export &Diagram…", self.export_diagram_dialog, None, "Save the network diagram as SVG or PNG"
        )
        self.close_action = self._action("&Close Project", self.close_project, std.Close)
        self.quit_action = self._action("&Quit", self.close, std.Quit)
        self.undo_action = self._action("&Undo", self._undo, std.Undo)
        self.redo_action = self._action("&Redo", self._redo, QKeySequence("Ctrl+Shift+Z"))
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.cut_action = self._action("Cu&t", self.cut, std.Cut)
        self.copy_action = self._action("&Copy", self.copy, std.Copy)
        self.paste_action = self._action("&Paste", self.paste, std.Paste)
        self.duplicate_action = self._action("&Duplicate", self.duplicate, "Ctrl+D")
        self.delete_action = self._action("De&lete", self.delete_selection, std.Delete)
        self.delete_action.setShortcuts([QKeySequence(std.Delete), QKeySequence(Qt.Key.Key_Backspace)])
        self.select_all_action = self._action("Select &All", self.select_all, std.SelectAll)
        self.frame_all_action = self._action("Frame &All", self.frame_all, "Home")
        self.frame_selection_action = self._action("&Frame Selection", self.frame_selection, "F")
        self.auto_layout_action = self._action(
            "Auto &Layout", self.auto_layout, "Ctrl+L", "Arrange the graph left to right by layers"
        )
        self.zoom_in_action = self._action("Zoom &In", self.zoom_in, std.ZoomIn)
        self.zoom_out_action = self._action("Zoom &Out", self.zoom_out, std.ZoomOut)
        self.zoom_reset_action = self._action("&Reset Zoom", self.zoom_reset, "Ctrl+0")
        self.snap_action = self._action("Snap to &Grid", self._toggle_snap)
        self.snap_action.setCheckable(True)
        self.snap_action.setChecked(self.settings.value("canvas/snap", False, type=bool))
        self.about_action = self._action("&About netbuilder", self.about)
        self.theme_actions = {}
        for name in ("system", "light", "dark"):
            action = self._action(name.capitalize(), self._theme_chosen)
            action.setData(name)
            action.setCheckable(True)
            action.setChecked(str(self.settings.value("theme", "system")) == name)
            self.theme_actions[name] = action

    def _make_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addActions([self.new_action, self.open_action])
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.triggered.connect(self._open_recent)
        self._fill_recent_menu()
        file_menu.addAction(self.import_action)
        file_menu.addSeparator()
        file_menu.addActions([self.save_action, self.save_as_action, self.export_action, self.export_diagram_action])
        file_menu.addSeparator()
        file_menu.addActions([self.close_action, self.quit_action])
        edit_menu = bar.addMenu("&Edit")
        edit_menu.addActions([self.undo_action, self.redo_action])
        edit_menu.addSeparator()
        edit_menu.addActions(
            [self.cut_action, self.copy_action, self.paste_action, self.duplicate_action, self.delete_action]
        )
        edit_menu.addSeparator()
        edit_menu.addActions([self.select_all_action, self.auto_layout_action])
        view_menu = bar.addMenu("&View")
        view_menu.addActions([self.frame_all_action, self.frame_selection_action])
        view_menu.addSeparator()
        view_menu.addActions([self.zoom_in_action, self.zoom_out_action, self.zoom_reset_action])
        view_menu.addSeparator()
        view_menu.addAction(self.snap_action)
        theme_menu = view_menu.addMenu("&Theme")
        theme_menu.addActions(list(self.theme_actions.values()))
        view_menu.addSeparator()
        for dock in (self.palette_dock, self.inspector_dock, self.bottom_dock, self.training_dock):
            view_menu.addAction(dock.toggleViewAction())
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.about_action)

        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("toolbar_main")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        icons = QStyle.StandardPixmap
        for action, icon in (
            (self.new_action, icons.SP_FileIcon),
            (self.open_action, icons.SP_DialogOpenButton),
            (self.save_action, icons.SP_DialogSaveButton),
            (self.undo_action, icons.SP_ArrowBack),
            (self.redo_action, icons.SP_ArrowForward),
            (self.export_action, icons.SP_DriveFDIcon),
        ):
            action.setIcon(self.style().standardIcon(icon))
        toolbar.addActions([self.new_action, self.open_action, self.save_action])
        toolbar.addSeparator()
        toolbar.addActions([self.undo_action, self.redo_action])
        toolbar.addSeparator()
        toolbar.addActions([self.auto_layout_action, self.frame_all_action, self.export_action])

    # ---- documents ---------------------------------------------------------------------------------------

    def new_project(self) -> None:
        if not self._may_discard():
            return
        project = Project.new(f"Untitled {next(_untitled)}")
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
        return True

    def _set_project(self, project: Project, *, modified: bool = False) -> None:
        self._drop_document(discard_recovery=True)
        self.import_report.hide()  # it spoke of the document before
        self.document = Document(project, self)
        self.controller = EditorController(self.document, self)
        self.controller.message.connect(self.show_message)
        self.scene = GraphScene(self.controller, self.theme)
        self.scene.snap_to_grid = self.snap_action.isChecked()
        self.scene.selectionChanged.connect(self._selection_changed)
        self.scene.node_activated.connect(self._focus_inspector)
        self.view = GraphView(self.scene)
        self.view.zoom_changed.connect(self._zoom_changed)
        self.view.quick_add_requested.connect(self._quick_add)
        self.stack.addWidget(self.view)
        self.stack.setCurrentWidget(self.view)

        self.inspector = InspectorPanel(self.controller)
        self.inspector_dock.setWidget(self.inspector)
        self.problems = ProblemsPanel(self.controller)
        self.problems.node_activated.connect(self.reveal_node)
        self.problems.counts_changed.connect(self._problem_counts)
        self.code = CodePanel(self.controller)
        self.code.export_requested.connect(self.export_dialog)
        self.bottom_tabs.clear()
        self.bottom_tabs.addTab(self.problems, "Problems")
        self.bottom_tabs.addTab(self.code, "Code")
        self.training = TrainingPanel(self.controller)
        self.training.running_changed.connect(self._training_running)
        self.training.message.connect(self.show_message)
        self.training_dock.setWidget(self.training)
        self._show_docks(True)
        self.bottom_dock.raise_()  # showing the docks made Training the current tab; it loads torch when shown

        stack = self.controller.undo_stack
        stack.canUndoChanged.connect(self._update_actions)
        stack.canRedoChanged.connect(self._update_actions)
        stack.undoTextChanged.connect(self._update_actions)
        stack.redoTextChanged.connect(self._update_actions)
        self.controller.modified_changed.connect(self._refresh_title)
        self.document.path_changed.connect(self._refresh_title)
        self._recovery_key = str(project.path) if project.path else f"untitled-{id(self.document)}"
        if modified:
            self.controller.mark_unsaved()
        self._problem_counts(*self._counts())
        self._update_actions()
        self._refresh_title()
        self.view.show()
        QTimer.singleShot(0, self.frame_all)  # once laid out; by then the view may be gone

    def _drop_document(self, *, discard_recovery: bool) -> None:
        if self.document is None:
            return
        self.training.shutdown()  # stops a run and joins its thread before anything it reports to goes
        self.training.running_changed.disconnect(self._training_running)
        self._training_running(False)
        if discard_recovery:
            self.recovery.discard(self._recovery_key)
        self.scene.selectionChanged.disconnect(self._selection_changed)  # it fires while items go away
        self.scene.close()
        self.stack.removeWidget(self.view)
        self.bottom_tabs.clear()
        self.inspector.detach()  # joins its data preview's thread, if one is loading
        for widget in (self.view, self.inspector, self.problems, self.code, self.training):
            widget.deleteLater()
        self.inspector_dock.setWidget(None)
        self.training_dock.setWidget(None)
        self.controller.close()
        self.document = self.controller = self.scene = self.view = self.training = None

    def close_project(self) -> None:
        if not self._may_discard():
            return
        self._drop_document(discard_recovery=True)
        self.stack.setCurrentWidget(self.start_page)
        self._show_docks(False)
        self._update_actions()
        self._refresh_title()

    def _show_docks(self, visible: bool) -> None:
        for dock in (self.palette_dock, self.inspector_dock, self.bottom_dock, self.training_dock):
            dock.setVisible(visible)

    # ---- saving ------------------------------------------------------------------------------------------

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
        old_key = self._recovery_key
        try:
            self.controller.save(path)
        except (ProjectError, OSError) as err:
            QMessageBox.critical(self, "Cannot save", f"The project was not saved to {path}:\n\n{err}")
            return False
        self.recovery.discard(old_key)
        self._recovery_key = str(path)
        self._remember_recent(path)
        self.statusBar().showMessage(f"Saved {path}", 4000)
        return True

    def autosave(self) -> None:
        """Write unsaved work to the recovery folder (every minute, and never over the real file)."""
        if self.document is not None and self.controller.modified:
            try:
                self.recovery.save(self._recovery_key, self.document.project)
            except OSError as err:
                self.statusBar().showMessage(f"Autosave failed: {err}", 6000)

    def offer_recovery(self) -> None:
        """After a crash: offer the newest autosaved work back, once."""
        pending = self.recovery.pending()
        if not pending:
            return
        work = pending[0]
        where = str(work.original) if work.original else "a project that was never saved"
        answer = QMessageBox.question(
            self,
            "Recover unsaved work?",
            f"netbuilder did not close normally. Unsaved changes to “{work.name}” ({where}) were kept.\n\n"
            "Recover them?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Discard,
            QMessageBox.StandardButton.Yes,
        )
        if answer == QMessageBox.StandardButton.Yes:
            try:
                project = self.recovery.restore(work)
            except ProjectError as err:
                QMessageBox.warning(self, "Cannot recover", str(err))
                return
            self._set_project(project, modified=True)
        for leftover in pending:
            self.recovery.forget(leftover)

    def export_dialog(self) -> None:
        """File > Export: the folder and formats in a window-modal dialog (not exec), so the window keeps painting."""
        if self.document is None:
            return
        start = str(self.document.path.parent / f"{self.document.path.stem}_export") if self.document.path else ""
        self.export_dialog_box = ExportDialog(self.settings, start, self.last_run_weights(), self)
        self.export_dialog_box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.export_dialog_box.accepted.connect(self._export_accepted)
        self.export_dialog_box.destroyed.connect(self._export_dialog_gone)
        self.export_dialog_box.open()

    def last_run_weights(self) -> tuple[str, Path] | None:
        """(run id, weights file) of the newest run that kept its weights, as the Predict tab picks it."""
        history = self.training.history if self.training is not None else None
        if history is None:
            return None
        for record in reversed(history.records):
            weights = history.file_path(record, record.weights)
            if weights is not None:
                return record.run_id, weights
        return None

    def _export_accepted(self) -> None:
        choice = self.export_dialog_box.choice()
        self.export_to(choice.folder, choice.formats, choice.weights, choice.diagrams)

    def _export_dialog_gone(self) -> None:
        self.export_dialog_box = None

    def export_to(
        self,
        folder: Path,
        formats: tuple[str, ...] = (),
        weights: Path | None = None,
        diagrams: tuple[str, ...] = (),
    ) -> bool:
        """Write the code package and `diagrams` ("svg", "png": this canvas drawn, on this thread as Qt wants)
        now, then `formats` (netbuilder.export's names) and the project's starting weights, which the package's
        train.py loads, on a thread; the outcome is said in the status bar, and what failed in the banner above
        the canvas. False when nothing was written."""
        project = self.document.project
        if (formats or project.weights is not None) and self.exporter.running:
            self.statusBar().showMessage("An export is still being written; try again when it is done", 6000)
            return False
        choice = ExportChoice(folder, tuple(formats), weights, tuple(diagrams))
        settings = project.training
        analysis = self.document.reanalyze()
        try:
            package = generate_package(
                project.graph,
                analysis,
                name=project.name,
                source=project.path.name if project.path else "",
                **settings.to_dict(),
                weights_format="safetensors" if choice.package_holds_safetensors else "pt",
                starting_weights=project.weights is not None,
            )
            written = write_package(package, folder)
        except CodegenError as err:
            QMessageBox.warning(self, "Nothing exported", f"{err}\n\nThe Problems tab lists what to fix.")
            return False
        except OSError as err:
            QMessageBox.critical(self, "Cannot export", f"Could not write to {folder}:\n\n{err}")
            return False
        drawn = export_diagrams(self.scene, folder, choice.diagrams).values()
        written += [result.path for result in drawn if result.ok]
        failures = [result.error for result in drawn if not result.ok]
        text = f"Wrote {', '.join(p.name for p in written)} to {folder}"
        if package.training_skipped:
            QMessageBox.information(self, "Exported the model", f"{text}.\n\n{package.training_skipped}")
        choice = replace(choice, starting_weights="train.py" in package.files and project.weights is not None)
        if choice.needs_thread:
            self._exporting_package, self._export_failures = written, failures
            self.exporter.start(snapshot(project), choice)  # the graph may be edited meanwhile
            text += "; writing the other formats…" if choice.formats else "; writing the starting weights…"
        elif failures:
            self._report_export_failures(failures)
        self.statusBar().showMessage(text, 6000)
        return True

    def _formats_exported(self, results: dict, error: str) -> None:
        """The formats are written: the files in the status bar, each failure (node and reason) in the banner."""
        written = [*self._exporting_package, *(r.path for r in results.values() if r.ok)]
        failures = [*self._export_failures, *(r.error for r in results.values() if not r.ok)]
        self._exporting_package, self._export_failures = [], []
        folder = written[0].parent if written else None
        self.statusBar().showMessage(f"Wrote {', '.join(p.name for p in written)} to {folder}", 10000)
        if error:
            failures.append(error)
        if failures:
            self._report_export_failures(failures)

    def _report_export_failures(self, failures: list[str]) -> None:
        self.import_report.show_report("Not exported:\n" + "\n".join(failures), error=True)

    def import_model_dialog(self) -> None:
        """File > Import Model: the dialog opens window-modal (not exec), so the window keeps painting."""
        start = str(self.document.path.parent) if self.document and self.document.path else ""
        self.import_dialog = ModelImportDialog(self, start)
        self.import_dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.import_dialog.accepted.connect(self._import_accepted)
        self.import_dialog.destroyed.connect(self._import_dialog_gone)
        self.import_dialog.open()

    def _import_accepted(self) -> None:
        self.import_report.hide()
        self.importer.start(self.import_dialog.request())

    def _import_dialog_gone(self) -> None:
        self.import_dialog = None

    def _imported(self, imported) -> None:
        """An import finished (an ImportedModel): open it as a new, unsaved project; calls that did not map and
        weights that could not be loaded stay in view."""
        project = imported.result.project
        if not self._may_discard():
            self.statusBar().showMessage(f"The import of {project.name} was not opened", 6000)
            return
        self._set_project(project, modified=True)
        if imported.needs_attention:
            self.import_report.show_report(imported.report(), error=False)
        else:
            self.statusBar().showMessage(imported.report(), 8000)

    def _import_failed(self, message: str) -> None:
        self.import_report.show_report(message, error=True)

    def export_diagram_dialog(self) -> None:
        if self.scene is None:
            return
        folder = self.document.path.parent if self.document.path else Path.home()
        path, _ = QFileDialog.getSaveFileName(
            self, "Export diagram", str(folder / f"{self.document.title}.svg"), DIAGRAM_FILTER
        )
        if path:
            self.export_diagram_to(Path(path))

    def export_diagram_to(self, path: Path) -> bool:
        """Write the diagram (SVG or PNG by suffix; none means SVG) and say where it went."""
        if path.suffix.lower() not in (".svg", ".png"):
            path = path.with_name(path.name + ".svg")
        try:
            export_diagram(self.scene, path)
        except DiagramExportError as err:
            self.statusBar().showMessage(f"No diagram written: {err}", 8000)
            return False
        self.statusBar().showMessage(f"Wrote the diagram to {path}", 6000)
        return True

    # ---- asking before losing work -----------------------------------------------------------------------

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

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._may_discard():
            event.ignore()
            return
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.exporter.shutdown()  # joins an export still writing its formats
        self._drop_document(discard_recovery=True)
        self.importer.shutdown()  # joins an import still tracing, then removes unsaved imports' weights
        event.accept()

    # ---- editing -----------------------------------------------------------------------------------------

    def _undo(self) -> None:
        if self.document:
            self.controller.undo_stack.undo()

    def _redo(self) -> None:
        if self.document:
            self.controller.undo_stack.redo()

    def copy(self) -> None:
        if self.scene and self.scene.selected_node_ids():
            data = QMimeData()
            text = self.controller.copy(self.scene.selected_node_ids())
            data.setData(MIME_TYPE, text.encode())
            data.setText(text)
            QGuiApplication.clipboard().setMimeData(data)

    def cut(self) -> None:
        if self.scene and self.scene.selected_node_ids():
            self.copy()
            self.delete_selection()

    def paste(self) -> None:
        data = QGuiApplication.clipboard().mimeData()
        if self.controller is None or data is None or not data.hasFormat(MIME_TYPE):
            return
        new = self.controller.paste(bytes(data.data(MIME_TYPE)).decode())
        self.scene.select_nodes(new)

    def duplicate(self) -> None:
        if self.scene:
            self.scene.select_nodes(self.controller.duplicate(self.scene.selected_node_ids()))

    def delete_selection(self) -> None:
        if self.scene:
            self.controller.delete(self.scene.selected_node_ids(), self.scene.selected_edges())

    def select_all(self) -> None:
        if self.scene:
            for item in self.scene.nodes.values():
                item.setSelected(True)

    def auto_layout(self) -> None:
        if self.controller and self.controller.auto_layout():
            self.view.frame_all()

    def _add_at_centre(self, block: str) -> None:
        if self.view:
            centre = self.view.mapToScene(self.view.viewport().rect().center())
            self.scene.drop_block(block, centre - QPointF(92, 40))

    def _quick_add(self, point: QPointF) -> None:
        if self._locked:
            return
        self._quick_add_point = point
        popup = QuickAddPopup(self)
        popup.chosen.connect(self._quick_add_chosen)
        popup.open_at(self.view.mapToGlobal(self.view.mapFromScene(point)))

    def _quick_add_chosen(self, block: str) -> None:
        if self.scene is not None:
            self.scene.drop_block(block, self._quick_add_point)

    def reveal_node(self, node_id: str) -> None:
        """Select a node and bring it into view (from the Problems tab)."""
        if self.scene and node_id in self.scene.nodes:
            self.scene.select_nodes([node_id])
            self.view.frame_selection()

    def _focus_inspector(self, node_id: str) -> None:
        """A double-click on a node: show it in the inspector, ready to rename."""
        self.inspector_dock.raise_()
        self.inspector.show_node(node_id, selected=1)
        self.inspector.focus_label()

    def _selection_changed(self) -> None:
        self.inspector.show_selection(self.scene.selected_node_ids() if self.scene else [])
        self._update_actions()

    def _toggle_snap(self, checked: bool) -> None:
        self.settings.setValue("canvas/snap", checked)
        if self.scene:
            self.scene.snap_to_grid = checked

    def frame_all(self) -> None:
        if self.view:
            self.view.frame_all()

    def frame_selection(self) -> None:
        if self.view:
            self.view.frame_selection()

    def zoom_in(self) -> None:
        if self.view:
            self.view.zoom_by(1.25)

    def zoom_out(self) -> None:
        if self.view:
            self.view.zoom_by(0.8)

    def zoom_reset(self) -> None:
        if self.view:
            self.view.set_zoom(1.0)

    def _training_dock_shown(self, visible: bool) -> None:
        """The plots need some height: the first time the Training tab shows, the bottom docks grow to it."""
        if self.training is not None:
            self.training.on_shown(visible)
        if visible and self.training_dock.height() < TRAINING_DOCK_HEIGHT and not self._training_dock_grown:
            self._training_dock_grown = True
            self.resizeDocks([self.training_dock], [TRAINING_DOCK_HEIGHT], Qt.Orientation.Vertical)

    def _training_running(self, running: bool) -> None:
        """Lock the graph while a run trains: the canvas takes no edits (it still pans and zooms), the
        palette, inspector and problems (whose fixes edit) are disabled, and so are the editing actions."""
        self._locked = running
        if self.view is not None:
            self.view.setInteractive(not running)
            for panel in (self.palette, self.inspector, self.problems):
                panel.setEnabled(not running)
        self._update_actions()
        if running:
            self.statusBar().showMessage("Training: the graph is locked until the run ends", 4000)

    def show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 6000)

    def _zoom_changed(self, zoom: float) -> None:
        self.zoom_label.setText(f"{zoom:.0%}")

    def _theme_chosen(self) -> None:
        self.set_theme(str(self.sender().data()))

    def _open_recent(self, action: QAction) -> None:
        self.open_path(Path(str(action.data())))

    def set_theme(self, name: str) -> None:
        self.settings.setValue("theme", name)
        for key, action in self.theme_actions.items():
            action.setChecked(key == name)
        self.theme = apply_to_application(name)
        if self.scene is not None:
            self.scene.set_theme(self.theme)

    def about(self) -> None:
        QMessageBox.about(
            self,
            "About netbuilder",
            f"<b>netbuilder {__version__}</b><p>Draw neural networks, see every tensor shape as you "
            "draw, export clean PyTorch, and train it.</p>",
        )

    # ---- state shown in the chrome -----------------------------------------------------------------------

    def _counts(self) -> tuple[int, int]:
        if self.document is None:
            return 0, 0
        found = self.document.analysis.diagnostics
        errors = sum(d.is_error for d in found)
        return errors, len(found) - errors

    def _problem_counts(self, errors: int, warnings: int) -> None:
        total = errors + warnings
        self.bottom_tabs.setTabText(0, f"Problems ({total})" if total else "Problems")

    def _update_actions(self) -> None:
        has_document = self.document is not None
        editable = has_document and not self._locked
        stack = self.controller.undo_stack if editable else None
        self.undo_action.setEnabled(bool(stack and stack.canUndo()))
        self.redo_action.setEnabled(bool(stack and stack.canRedo()))
        self.undo_action.setText(f"&Undo {stack.undoText()}" if stack and stack.canUndo() else "&Undo")
        self.redo_action.setText(f"&Redo {stack.redoText()}" if stack and stack.canRedo() else "&Redo")
        selected = bool(self.scene and self.scene.selected_node_ids())
        self.copy_action.setEnabled(selected)
        for action in (self.cut_action, self.duplicate_action):
            action.setEnabled(selected and editable)
        self.delete_action.setEnabled(bool(editable and self.scene and self.scene.selectedItems()))
        for action in (
            self.save_action,
            self.save_as_action,
            self.export_action,
            self.export_diagram_action,
            self.close_action,
            self.select_all_action,
            self.frame_all_action,
            self.frame_selection_action,
            self.zoom_in_action,
            self.zoom_out_action,
            self.zoom_reset_action,
        ):
            action.setEnabled(has_document)
        for action in (self.paste_action, self.auto_layout_action):
            action.setEnabled(editable)

    def _refresh_title(self, *_: object) -> None:
        if self.document is None:
            self.setWindowTitle("netbuilder")
            self.setWindowModified(False)
            return
        where = f" ({self.document.path.name})" if self.document.path else ""
        self.setWindowTitle(f"{self.document.title}{where}[*] — netbuilder")
        self.setWindowModified(self.controller.modified)

    # ---- recent files and dropped files ------------------------------------------------------------------

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

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(url.toLocalFile().endswith(".nbproj") for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        for url in event.mimeData().urls():
            if url.toLocalFile().endswith(".nbproj"):
                self.open_path(Path(url.toLocalFile()))
                event.acceptProposedAction()
                return

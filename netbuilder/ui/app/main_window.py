"""The main window: canvas in the middle, palette on the left, inspector on the right, Problems and Code
below, Training beside them; it hosts one document's editor at a time, and the start page when none is open.

What the window does is split by concern into mixins, one module each: its actions and menus
(window_actions), files (project_files), import and export (import_and_export) and the editing actions on the
canvas (canvas_editing); this module builds the window and swaps the document's parts in and out.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPointF, QSettings, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from netbuilder import __version__
from netbuilder.project import Project
from netbuilder.project.recovery import Recovery
from netbuilder.ui.app.canvas_editing import CanvasEditingMixin
from netbuilder.ui.app.composite_editing import CompositeEditingMixin
from netbuilder.ui.app.import_and_export import ImportExportMixin
from netbuilder.ui.app.project_files import AUTOSAVE_MS, ProjectFilesMixin
from netbuilder.ui.app.recovery_dialog import RecoveryDialog
from netbuilder.ui.app.runs_dock import RunsDockMixin
from netbuilder.ui.app.start_page import StartPage
from netbuilder.ui.app.window_actions import WindowActionsMixin
from netbuilder.ui.app.window_geometry import WindowGeometry
from netbuilder.ui.background import join_all
from netbuilder.ui.canvas.breadcrumb import BreadcrumbBar
from netbuilder.ui.canvas.find_bar import FindBar
from netbuilder.ui.canvas.minimap import Overview
from netbuilder.ui.canvas.palette import PalettePanel
from netbuilder.ui.canvas.scene import GraphScene
from netbuilder.ui.canvas.view import GraphView
from netbuilder.ui.editor.controller import EditorController
from netbuilder.ui.editor.document import Document
from netbuilder.ui.import_export.busy_indicator import BusyIndicator
from netbuilder.ui.import_export.export_dialog import ExportDialog
from netbuilder.ui.import_export.format_exporter import FormatExporter
from netbuilder.ui.import_export.import_gaps_banner import ImportGapsBanner
from netbuilder.ui.import_export.import_report import ImportReport
from netbuilder.ui.import_export.model_import_dialog import ModelImportDialog
from netbuilder.ui.import_export.model_importer import ModelImporter
from netbuilder.ui.panels.code_panel import CodePanel
from netbuilder.ui.panels.inspector import InspectorPanel
from netbuilder.ui.panels.problems import ProblemsPanel
from netbuilder.ui.theme import apply_to_application
from netbuilder.ui.training.panel import TrainingPanel

TRAINING_DOCK_HEIGHT = 280
BOTTOM_SHARE = 1 / 3  # of the window's height for Problems and Code at a first start: 11 lines of code at 800
IMPORT_CANCEL_TIP = "Stop waiting for this import (it finishes in the background, unused)"


class MainWindow(
    ProjectFilesMixin,
    ImportExportMixin,
    CanvasEditingMixin,
    CompositeEditingMixin,
    RunsDockMixin,
    WindowActionsMixin,
    QMainWindow,
):
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
        self.overview: Overview | None = None  # over the view, and deleted with it
        self.find_bar: FindBar | None = None
        self.breadcrumb: BreadcrumbBar | None = None  # over the view while a block of the project is open
        self.training: TrainingPanel | None = None
        self._locked = False  # while a run trains, the graph is not edited
        self._training_dock_grown = False
        self._recovery_entry = ""  # the open document's entry in the recovery folder
        self._autosave_warned = ""  # the entry whose failing autosave was explained in a message box
        self.recovery_dialog: RecoveryDialog | None = None
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
        self.start_page.recover_requested.connect(self.offer_recovery)
        self.stack.addWidget(self.start_page)
        self.import_report = ImportReport()
        self.import_report.close_button.clicked.connect(lambda: self.import_gaps_banner.set_held(False))
        self.import_gaps_banner = ImportGapsBanner()
        self.import_gaps_banner.dismiss_requested.connect(self.dismiss_import_gaps)
        central = QWidget()
        central_layout = QVBoxLayout(central)
        central_layout.setContentsMargins(0, 0, 0, 0)
        central_layout.setSpacing(0)
        central_layout.addWidget(self.import_report)
        central_layout.addWidget(self.import_gaps_banner)
        central_layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.importer = ModelImporter(self)
        self.importer.imported.connect(self._imported)
        self.importer.failed.connect(self._import_failed)
        self.import_dialog: ModelImportDialog | None = None
        self.exporter = FormatExporter(self)
        self.exporter.finished.connect(self._formats_exported)
        self.export_dialog_box: ExportDialog | None = None
        self.sweep_dialog = None  # the open project's SweepDialog, made when first asked for (pyqtgraph loads then)
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
        self._make_runs_dock()
        self.palette = PalettePanel()
        self.palette.block_activated.connect(self._add_at_centre)
        self.palette.block_file_activated.connect(self._add_block_file_at_centre)
        self.palette.save_block_requested.connect(self.save_block_as)
        self.palette_dock.setWidget(self.palette)

        self.zoom_label = QLabel("")
        self.statusBar().addPermanentWidget(self.zoom_label)
        self.import_progress = BusyIndicator(IMPORT_CANCEL_TIP)
        self.import_progress.cancel_button.clicked.connect(self.importer.cancel)
        self.importer.running_changed.connect(self._import_running)
        self.statusBar().addPermanentWidget(self.import_progress)
        self.export_progress = BusyIndicator()
        self.exporter.running_changed.connect(self._export_running)
        self.statusBar().addPermanentWidget(self.export_progress)
        self._make_actions()
        self._make_menus()
        self._update_actions()

        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(AUTOSAVE_MS)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()

        self.window_geometry = WindowGeometry(self, settings)
        self.window_geometry.restore()
        state = settings.value("window/state")
        self._docks_sized = state is not None and bool(self.restoreState(state))  # else when they first show
        self._show_docks(False)
        self._refresh_title()

    def _dock(self, title: str, name: str, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{name}")
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(area, dock)
        return dock

    def _set_project(self, project: Project, *, modified: bool = False, recovery_entry: str | None = None) -> None:
        self._drop_document()
        self.import_report.hide()  # it spoke of the document before
        self.document = Document(project, self)
        self.controller = EditorController(self.document, self)
        self.controller.orientation = self.layout_orientation()  # where placed nodes go after others
        self.controller.message.connect(self.show_message)
        self.scene = GraphScene(self.controller, self.theme, self.layout_orientation())
        self.scene.snap_to_grid = self.snap_action.isChecked()
        self.scene.selectionChanged.connect(self._selection_changed)
        self.scene.node_activated.connect(self._focus_inspector)
        self.view = GraphView(self.scene)
        self.view.zoom_changed.connect(self._zoom_changed)
        self.view.quick_add_requested.connect(self._quick_add)
        self.overview = Overview(self.view)
        self.overview.set_wanted(self.overview_action.isChecked())
        self.find_bar = FindBar(self.view)
        self.breadcrumb = BreadcrumbBar(self.view, self.controller)
        self.view.addAction(self.open_block_action)  # Return opens the selected block while the canvas has focus
        self.scene.context_menu_requested.connect(self._canvas_menu)
        self.palette.show_project_blocks(project.graph)
        self.import_gaps_banner.follow(project)  # a partial import's missing calls, until they are filled
        self.stack.addWidget(self.view)
        self.stack.setCurrentWidget(self.view)

        self.inspector = InspectorPanel(self.controller)
        self.inspector_dock.setWidget(self.inspector)
        self.problems = ProblemsPanel(self.controller)
        self.problems.node_activated.connect(self.reveal_problem)
        self.problems.counts_changed.connect(self._problem_counts)
        self.code = CodePanel(self.controller)
        self.code.export_requested.connect(self.export_dialog)
        self.bottom_tabs.clear()
        self.bottom_tabs.addTab(self.problems, "Problems")
        self.bottom_tabs.addTab(self.code, "Code")
        self.training = TrainingPanel(self.controller, settings=self.settings)
        self.training.running_changed.connect(self._training_running)
        self.training.message.connect(self.show_message)
        self.training_menu.addAction(self.training.find_rate_action)
        self.training_menu.addAction(self.training.batch_finder.action)
        self.training_dock.setWidget(self.training)
        self._show_runs()
        self._show_docks(True)
        if not self._docks_sized:
            self._size_docks()
        self.bottom_dock.raise_()  # showing the docks made Training the current tab; it loads torch when shown

        self.controller.level_changed.connect(self._level_changed)
        self._shown_path = ()
        stack = self.controller.undo_stack
        stack.canUndoChanged.connect(self._update_actions)
        stack.canRedoChanged.connect(self._update_actions)
        stack.undoTextChanged.connect(self._update_actions)
        stack.redoTextChanged.connect(self._update_actions)
        self.controller.modified_changed.connect(self._refresh_title)
        self.document.path_changed.connect(self._refresh_title)
        self._recovery_entry = recovery_entry or self.recovery.new_entry()
        if modified:
            self.controller.mark_unsaved()
        self._problem_counts(*self._counts())
        self._update_actions()
        self._refresh_title()
        self.view.show()
        QTimer.singleShot(0, self.frame_opened)  # once laid out; by then the view may be gone

    def _drop_document(self) -> None:
        """Close the document (it was saved, or the person chose not to keep it): its autosaves go too."""
        if self.document is None:
            return
        if self.sweep_dialog is not None:  # stops a sweep and joins its thread, before the panel it reports to goes
            self.sweep_dialog.shutdown()
            self.sweep_dialog.deleteLater()
            self.sweep_dialog = None
        self.training.shutdown()  # stops a run and joins its thread before anything it reports to goes
        self.training.running_changed.disconnect(self._training_running)
        self._drop_runs()
        self.training_menu.removeAction(self.training.find_rate_action)
        self.training_menu.removeAction(self.training.batch_finder.action)
        self._training_running(False)
        self.recovery.discard(self._recovery_entry)
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
        self.overview = self.find_bar = self.breadcrumb = None
        self.palette.show_project_blocks(None)
        self.import_gaps_banner.follow(None)

    def close_project(self) -> None:
        if not self._may_discard():
            return
        self._drop_document()
        self.stack.setCurrentWidget(self.start_page)
        self._show_docks(False)
        self._update_actions()
        self._refresh_title()

    def _show_docks(self, visible: bool) -> None:
        for dock in (self.palette_dock, self.inspector_dock, self.bottom_dock, self.training_dock, self.runs_dock):
            dock.setVisible(visible)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._may_discard():
            event.ignore()
            return
        self.window_geometry.save()
        if self._docks_sized:  # docks never shown keep no sizes worth restoring
            self.settings.setValue("window/state", self.saveState())
        self.exporter.shutdown()  # joins an export still writing its formats
        self._drop_document()
        self.importer.shutdown()  # joins an import still tracing, then removes unsaved imports' weights
        join_all()  # and any other work still running off the window's thread
        event.accept()

    def _size_docks(self) -> None:
        """A first start's dock sizes, given when the docks first show, from the window's size by then: the
        palette's and the inspector's widths, and about a third of the height for Problems and Code. A later
        start restores the person's own sizes instead (window/state)."""
        self._docks_sized = True
        self.resizeDocks([self.palette_dock, self.inspector_dock], [230, 320], Qt.Orientation.Horizontal)
        self.resizeDocks([self.bottom_dock], [round(self.height() * BOTTOM_SHARE)], Qt.Orientation.Vertical)

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
            for panel in (self.palette, self.inspector, self.problems, self.import_gaps_banner.dismiss_button):
                panel.setEnabled(not running)
        self._update_actions()
        if running:
            self.statusBar().showMessage("Training: the graph is locked until the run ends", 4000)

    def dismiss_import_gaps(self) -> None:
        """The banner's Dismiss: the project forgets its import's missing calls, as one undoable edit."""
        if self.controller is not None and self.controller.dismiss_import_gaps():
            self.statusBar().showMessage("Dismissed the import's list of missing calls (Undo brings it back)", 6000)

    def show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 6000)

    def _import_running(self, running: bool) -> None:
        self.import_progress.set_running(running, f"Importing {self.importer.awaited_name}…")

    def _export_running(self, running: bool) -> None:
        self.export_progress.set_running(running, "Exporting…")

    def _theme_chosen(self) -> None:
        self.set_theme(str(self.sender().data()))

    def open_sweep(self) -> None:
        """Training > Sweep…: the open project's sweep dialog (not modal; a sweep goes on while it is closed)."""
        if self.training is None:
            return
        if self.sweep_dialog is None:
            from netbuilder.ui.training.sweep_dialog import SweepDialog  # pyqtgraph loads here

            self.sweep_dialog = SweepDialog(self.training, self.settings, self)
        elif not self.sweep_dialog.is_running:
            self.sweep_dialog.refresh()  # the targets and epochs of the project as it is now
        self.sweep_dialog.show()
        self.sweep_dialog.raise_()
        self.sweep_dialog.activateWindow()

    def find_node(self) -> None:
        if self.find_bar is not None:
            self.find_bar.open()

    def _toggle_overview(self, checked: bool) -> None:
        self.settings.setValue("canvas/overview", checked)
        if self.overview is not None:
            self.overview.set_wanted(checked)

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

    def _counts(self) -> tuple[int, int]:
        if self.document is None:
            return 0, 0
        found = self.document.analysis.diagnostics
        errors = sum(d.is_error for d in found)
        return errors, len(found) - errors

    def _problem_counts(self, errors: int, warnings: int) -> None:
        total = errors + warnings
        self.bottom_tabs.setTabText(0, f"Problems ({total})" if total else "Problems")

    def _refresh_title(self, *_: object) -> None:
        if self.document is None:
            self.setWindowTitle("netbuilder")
            self.setWindowModified(False)
            return
        where = f" ({self.document.path.name})" if self.document.path else ""
        self.setWindowTitle(f"{self.document.title}{where}[*] — netbuilder")
        self.setWindowModified(self.controller.modified)

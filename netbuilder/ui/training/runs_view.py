"""The Runs view (the window's Runs dock) for one document: every run of the project in a table (sort, filter,
rename, star, delete), the selected runs' curves overlaid, and per run: open its project as a new document,
show its graph as it was, or train from its weights from now on.

The table reads the Training dock's own RunHistory, so a run that ends appears at once (`refresh`, on the
dock's `runs_changed`). pyqtgraph loads when the view is first shown (the curves), torch only when a run's
weights are made starting weights, on a task of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QItemSelection, QItemSelectionModel, QModelIndex, QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from netbuilder.project import Project, ProjectError
from netbuilder.project.project_file import WEIGHTS_SUFFIX, project_from_dict, project_to_dict
from netbuilder.project.run_comparison import metric_choices
from netbuilder.project.run_history import RunHistory, RunRecord
from netbuilder.ui.background import BackgroundTask
from netbuilder.ui.editor.controller import EditorController
from netbuilder.ui.training.runs_table import (
    CHANGES,
    COLUMNS,
    NAME,
    STAR,
    STARTED,
    RunsFilter,
    RunsTableModel,
    metric_words,
    shown_records,
)

EMPTY_WORDS = (
    "No runs yet.\n\nTrain the network (Training dock, or netbuilder train) and its runs appear here: "
    "compare their curves, rename and star them, open one's graph again or train from its weights."
)
CURRENT_DELAY_MS = 300  # the changes column follows edits once they pause, not at every keystroke
MAX_COLUMN_WIDTH = 320  # a column sized to its contents stops here (the tooltip says the rest)
CHANGES_WIDTH = 300  # the changes column is not sized to its contents: that would work out every run's changes


class RunsView(QWidget):
    """The Runs dock's contents for one document. The window connects the Training dock's `runs_changed` to
    `refresh`, its `running_changed` to `set_running`, `open_copy_requested` to make a new document and
    `show_graph_requested` to draw a run's graph (the canvas is the window's to use, not this room's)."""

    message = Signal(str)  # a line for the status bar: what was done, or why it was not
    open_copy_requested = Signal(object)  # Project: a run's project, named for the run, to open as a new document
    show_graph_requested = Signal(object, object, list)  # RunRecord, its Project, the changes from now in words

    def __init__(self, editor: EditorController, history: RunHistory, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = editor
        self.document = editor.document
        self.history = history
        self.overlay = None  # RunsOverlay, made when the view is first shown (pyqtgraph loads then)
        self.sweep_plot = None  # SweepPlot, made with the overlay
        self.running = False
        self._weights_task: BackgroundTask | None = None
        self._chosen_metric = ""  # the metric the person picked, if any; else the runs' headline one
        self.training_now: Callable[[], str] = lambda: ""  # the window's: "a run" or "a sweep" while one trains
        self._current_stale = True

        self.model = RunsTableModel(history, self)
        self.model.failed.connect(self.message)
        self.proxy = RunsFilter(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(STARTED, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.horizontalHeader().setHighlightSections(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.clicked.connect(self._clicked)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)

        self.filter_box = QLineEdit()
        self.filter_box.setPlaceholderText("Filter: name, id, status, changes, sweep")
        self.filter_box.setClearButtonEnabled(True)
        self.filter_box.setToolTip("Show only the runs whose name, id, status, changes or sweep hold every word")
        self.filter_box.textChanged.connect(self.proxy.set_text)
        self.metric_box = QComboBox()
        self.metric_box.setToolTip("The metric of the Final and Best columns, and by which a sweep's best is marked")
        self.metric_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.metric_box.currentIndexChanged.connect(self._metric_chosen)

        self.delete_action = self._action("&Delete…", self.delete_selected, QKeySequence.StandardKey.Delete)
        self.rename_action = self._action("&Rename", self.rename_current, "F2")
        self.star_action = self._action("&Star", self.toggle_star, "Space")
        self._keyed = (self.delete_action, self.rename_action, self.star_action)
        self.table.installEventFilter(self)
        self.open_copy_action = self._action("&Open as a Copy", self.open_copy)
        self.show_graph_action = self._action("Show &Graph", self.show_graph)
        self.use_weights_action = self._action("&Use Weights as Starting Weights", self.use_weights)
        self.compress_action = self._action("&Compress…", self.compress)
        self.select_sweep_action = self._action("Select This S&weep", self.select_sweep)
        self.export_table_action = self._action("Export the Table as &CSV…", self.export_table)
        self.export_curves_action = self._action("Export the Curves as &PNG or SVG…", self.export_curves)
        self.open_copy_button = self._button(self.open_copy_action, "Open as a copy")
        self.show_graph_button = self._button(self.show_graph_action, "Show graph")
        self.use_weights_button = self._button(self.use_weights_action, "Use weights")
        self.export_button = QToolButton()
        self.export_button.setText("Export")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        export_menu = QMenu(self.export_button)
        export_menu.addActions([self.export_table_action, self.export_curves_action])
        self.export_button.setMenu(export_menu)

        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        bar.addWidget(self.filter_box, 2)
        bar.addWidget(QLabel("Metric:"))
        bar.addWidget(self.metric_box)
        bar.addStretch(1)
        for button in (self.open_copy_button, self.show_graph_button, self.use_weights_button, self.export_button):
            bar.addWidget(button)

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.splitter = QSplitter()
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.tabs)
        self.splitter.setChildrenCollapsible(False)
        runs_page = QWidget()
        runs_layout = QVBoxLayout(runs_page)
        runs_layout.setContentsMargins(0, 0, 0, 0)
        runs_layout.setSpacing(0)
        runs_layout.addLayout(bar)
        runs_layout.addWidget(self.splitter, 1)
        self.empty_label = QLabel(EMPTY_WORDS)
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setContentsMargins(24, 12, 24, 12)
        self.pages = QStackedWidget()
        self.pages.addWidget(runs_page)
        self.pages.addWidget(self.empty_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)

        self._current_timer = QTimer(self)
        self._current_timer.setSingleShot(True)
        self._current_timer.setInterval(CURRENT_DELAY_MS)
        self._current_timer.timeout.connect(self._follow_current)
        editor.undo_stack.indexChanged.connect(self._current_changed)
        self.document.path_changed.connect(self._path_changed)
        self.refresh()

    def _action(self, text: str, slot, shortcut=None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))  # shown in the menu; the table's eventFilter takes the key
        action.triggered.connect(slot)
        return action

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """The table's own keys (Delete, F2, Space, and Ctrl+A for its rows): the window's shortcuts for the same
        keys (Delete and Select All act on the canvas) are overridden while the table has the focus."""
        if watched is self.table and event.type() in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress):
            select_all = event.matches(QKeySequence.StandardKey.SelectAll)
            action = next((a for a in self._keyed if QKeySequence(event.keyCombination()) == a.shortcut()), None)
            if event.key() == Qt.Key.Key_Backspace:
                action = self.delete_action
            if event.type() == QEvent.Type.ShortcutOverride and (action is not None or select_all):
                event.accept()
                return True
            if event.type() == QEvent.Type.KeyPress and action is not None:
                if action.isEnabled():
                    action.trigger()
                return True
        return super().eventFilter(watched, event)

    def _button(self, action: QAction, text: str) -> QPushButton:
        button = QPushButton(text)
        button.clicked.connect(action.trigger)
        return button

    # ---- following the history, the project and the selection -------------------------------------------

    def refresh(self) -> None:
        """Read the runs again (one ended or was removed), keeping the selection by run id."""
        selected = {record.run_id for record in self.selected_records()}
        self._fill_metrics()
        self.model.refresh()
        if self._current_stale or self.isVisible():
            self._follow_current()
        self._size_columns()
        self.pages.setCurrentIndex(0 if self.history.records else 1)
        self.select_runs(selected)
        self._selection_changed()

    def _fill_metrics(self) -> None:
        """The metrics the runs hold, the one the person chose kept while the runs have it, else the headline."""
        chosen = self._chosen_metric
        choices = metric_choices(self.history.records) or ["val_loss"]
        self.metric_box.blockSignals(True)
        self.metric_box.clear()
        for metric in choices:
            self.metric_box.addItem(metric_words(metric), metric)
        self.metric_box.setCurrentIndex(max(0, self.metric_box.findData(chosen)))
        self.metric_box.blockSignals(False)
        self.model.set_metric(self.metric_box.currentData())

    def _metric_chosen(self) -> None:
        self._chosen_metric = self.metric_box.currentData()
        self.model.set_metric(self.metric_box.currentData())
        self._show_sweep(self.selected_records())

    def _size_columns(self) -> None:
        """Each column as wide as its words (up to MAX_COLUMN_WIDTH), but the changes: a fixed width, so that
        only the rows in view work theirs out (a hundred runs of a large graph cost a third of a second)."""
        header = self.table.horizontalHeader()
        for column in range(COLUMNS):
            if column == CHANGES:
                header.resizeSection(column, CHANGES_WIDTH)
                continue
            self.table.resizeColumnToContents(column)
            if header.sectionSize(column) > MAX_COLUMN_WIDTH:
                header.resizeSection(column, MAX_COLUMN_WIDTH)

    def _current_changed(self, *_: object) -> None:
        self._current_stale = True
        self._current_timer.start()

    def _path_changed(self, *_: object) -> None:
        self._current_changed()
        self._selection_changed()  # a first save gives the runs a folder, and their files a place

    def _follow_current(self) -> None:
        """The changes column against the project as it is now: worked out while the view is seen, else when
        it next is."""
        if not self.isVisible() and self.model.rowCount():
            return
        self._current_stale = False
        self.model.set_current(project_to_dict(self.document.project))

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.on_shown()

    def on_shown(self) -> None:
        """The view was shown, or its dock's tab chosen: on the next turn, if it is still in view (not a glimpse
        while the window arranges its docks), build the plots and follow the current graph."""
        QTimer.singleShot(0, self, self._in_view)

    def _in_view(self) -> None:
        """The view is really on screen (not a tab behind another): build the plots the first time, and bring
        the changes column up to date."""
        if not self.isVisible() or self.visibleRegion().isEmpty():
            return
        self.ensure_overlay()
        if self._current_stale:
            self._follow_current()

    def ensure_overlay(self):
        """The Curves tab (pyqtgraph is imported here, the first time) and the Sweep tab."""
        if self.overlay is None:
            from netbuilder.ui.training.runs_overlay import RunsOverlay
            from netbuilder.ui.training.sweep_plot import SweepPlot

            self.overlay = RunsOverlay()
            self.tabs.addTab(self.overlay, "Curves")
            self.tabs.setTabToolTip(0, "The selected runs' curves by epoch, one colour each")
            self.sweep_plot = SweepPlot()
            self.tabs.addTab(self.sweep_plot, "Sweep")
            # the table takes three fifths of the width, the plots the rest (from the first time they exist)
            self.splitter.setSizes([self.width() * 3 // 5, self.width() * 2 // 5])
            self._selection_changed()
        return self.overlay

    def set_running(self, running: bool) -> None:
        """While a run trains, the project is not changed from here (its starting weights included)."""
        self.running = running
        self._selection_changed()

    def selected_records(self) -> list[RunRecord]:
        """The selected runs, in the table's order."""
        rows = sorted(index.row() for index in self.table.selectionModel().selectedRows())
        return shown_records(self.proxy, rows)

    def select_runs(self, run_ids: set[str]) -> None:
        """Select these runs (those shown), in one change of the selection: the curves are drawn once."""
        chosen = QItemSelection()
        for row in range(self.proxy.rowCount()):
            if self.model.record(self.proxy.mapToSource(self.proxy.index(row, 0)).row()).run_id in run_ids:
                chosen.select(self.proxy.index(row, 0), self.proxy.index(row, self.proxy.columnCount() - 1))
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        self.table.selectionModel().select(chosen, flags)

    def _selection_changed(self, *_: object) -> None:
        records = self.selected_records()
        one = records[0] if len(records) == 1 else None
        why_not_copy = "" if one is not None and one.project is not None else self._why_not_one(one, records)
        self._enable(
            self.open_copy_action,
            self.open_copy_button,
            why_not_copy,
            "Open this run's graph and settings as a new, unsaved project (the current one is asked to be saved first)",
        )
        self._enable(
            self.show_graph_action,
            self.show_graph_button,
            why_not_copy,
            "Show the graph this run trained, as it was, and what differs from now",
        )
        self._enable(
            self.use_weights_action,
            self.use_weights_button,
            self._why_not_weights(one, records),
            "Train from this run's weights from now on (Ctrl+Z undoes it)",
        )
        why_not_compress = self._why_not_compress(one, records)
        self.compress_action.setEnabled(not why_not_compress)
        self.compress_action.setStatusTip(why_not_compress or "Prune and quantize this run's network, measured")
        self.delete_action.setEnabled(bool(records))
        self.star_action.setEnabled(bool(records))
        self.star_action.setText("Un&star" if records and all(r.starred for r in records) else "&Star")
        self.rename_action.setEnabled(one is not None)
        self.select_sweep_action.setEnabled(one is not None and one.sweep is not None)
        if self.overlay is not None:
            self.overlay.show_runs(records)
        self._show_sweep(records)

    def _show_sweep(self, records: list[RunRecord]) -> None:
        """The Sweep tab draws the sweep of the selected runs (all of its runs, against the chosen metric) when
        they belong to one sweep; otherwise it is off, and says why."""
        if self.sweep_plot is None:
            return
        sweeps = {record.sweep.get("id") if record.sweep else None for record in records}
        index = self.tabs.indexOf(self.sweep_plot)
        if len(sweeps) != 1 or None in sweeps:
            self.tabs.setTabEnabled(index, False)
            self.tabs.setTabToolTip(index, "Select runs of one sweep to see its values against the metric")
            return
        (sweep_id,) = sweeps
        runs = [r for r in self.model.records() if r.sweep and r.sweep.get("id") == sweep_id]
        self.tabs.setTabEnabled(index, True)
        self.tabs.setTabToolTip(index, f"Sweep {sweep_id}: each run's swept values against the metric, best marked")
        self.sweep_plot.show_sweep(runs, self.metric_box.currentData())

    def _why_not_one(self, one: RunRecord | None, records: list[RunRecord]) -> str:
        if one is None:
            return "Select one run" if records else "Select a run in the table"
        return "This run was recorded before runs kept their graph"

    def _why_not_weights(self, one: RunRecord | None, records: list[RunRecord]) -> str:
        """Why the run's weights cannot become the starting weights now ('' when they can)."""
        if one is not None and one.project is not None and self.running:
            return "Not while a run trains"
        if one is not None and one.project is not None and self.document.path is None:
            return "Save the project first: its runs keep their weights beside it"
        return self._why_not_compress(one, records)

    def _why_not_compress(self, one: RunRecord | None, records: list[RunRecord]) -> str:
        """Why the run's network cannot be compressed ('' when it can): it needs its graph and its weights."""
        if one is None or one.project is None:
            return self._why_not_one(one, records)
        if self.history.file_path(one, one.weights) is None:
            return "This run's weights are gone: only the newest 10 runs and starred ones keep their files"
        return ""

    @staticmethod
    def _enable(action: QAction, button: QPushButton, why_not: str, tip: str) -> None:
        action.setEnabled(not why_not)
        button.setEnabled(not why_not)
        button.setToolTip(why_not or tip)
        action.setStatusTip(why_not or tip)

    def _clicked(self, index: QModelIndex) -> None:
        if index.column() == STAR:
            self.model.toggle_star(self.proxy.mapToSource(index).row())

    def _context_menu(self, point: QPoint) -> None:
        if not self.table.indexAt(point).isValid():
            return
        menu = QMenu(self)
        menu.addActions([self.open_copy_action, self.show_graph_action, self.use_weights_action, self.compress_action])
        menu.addSeparator()
        menu.addActions([self.rename_action, self.star_action, self.select_sweep_action])
        menu.addSeparator()
        menu.addActions([self.export_table_action, self.export_curves_action])
        menu.addSeparator()
        menu.addAction(self.delete_action)
        menu.exec(self.table.viewport().mapToGlobal(point))
        menu.deleteLater()

    # ---- the sweep ----------------------------------------------------------------------------------------

    def select_sweep(self) -> None:
        """Select every run of the selected run's sweep: their curves overlaid, and the sweep's plot."""
        records = self.selected_records()
        if len(records) != 1 or not records[0].sweep:
            return
        sweep_id = records[0].sweep["id"]
        self.select_runs({r.run_id for r in self.model.records() if r.sweep and r.sweep.get("id") == sweep_id})
        if self.sweep_plot is not None:
            self.tabs.setCurrentWidget(self.sweep_plot)

    # ---- each run -------------------------------------------------------------------------------------------

    def rename_current(self) -> None:
        index = self.table.currentIndex()
        if index.isValid():
            self.table.edit(index.siblingAtColumn(NAME))

    def toggle_star(self) -> None:
        """Star the selected runs, or unstar them when all of them are starred."""
        records = self.selected_records()
        starred = all(record.starred for record in records)
        for record in records:
            if record.starred == starred:
                self.model.toggle_star(self.model.row_of(record.run_id))

    def delete_selected(self) -> None:
        """Delete the selected runs and their files, once the person confirms."""
        records = self.selected_records()
        if not records:
            return
        training = self.training_now()
        if training:  # its runs are being written into the history, which a deletion would rewrite under it
            self.message.emit(f"Runs can be deleted once {training} has ended")
            return
        what = f"run “{records[0].title}”" if len(records) == 1 else f"{len(records)} runs"
        answer = QMessageBox.question(
            self,
            "Delete runs",
            f"Delete {what} with its weights and checkpoints? This cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            for record in records:
                self.history.remove(record.run_id)
        except OSError as err:
            self.message.emit(f"A run could not be deleted: {err.strerror or err}")
        self.refresh()
        self.message.emit(f"Deleted {what}")

    def _run_project(self, record: RunRecord) -> Project | None:
        try:
            return project_from_dict(record.project)
        except ProjectError as err:
            self.message.emit(f"The run's graph cannot be read: {err}")
            return None

    def open_copy(self) -> None:
        """The selected run's project as a new unsaved document named for the run."""
        records = self.selected_records()
        if len(records) != 1 or records[0].project is None:
            return
        record = records[0]
        project = self._run_project(record)
        if project is not None:
            project.name, project.named = f"{project.name} (run {record.title})", False
            self.open_copy_requested.emit(project)

    def show_graph(self) -> None:
        """The selected run's graph, read-only, beside what differs from now."""
        records = self.selected_records()
        if len(records) != 1 or records[0].project is None:
            return
        record = records[0]
        project = self._run_project(record)
        if project is None:
            return
        self.show_graph_requested.emit(record, project, self.model.changes_of(self.model.row_of(record.run_id)))

    def compress(self) -> None:
        """The selected run's network (its graph as it trained, from its weights) compressed in a dialog; the
        pruned network opens as a new document, as a run opened as a copy does."""
        from netbuilder.ui.training.compress_dialog import CompressDialog

        records = self.selected_records()
        if len(records) != 1 or self._why_not_compress(records[0], records):
            return
        record = records[0]
        project = self._run_project(record)
        if project is None:
            return
        project.path = self.document.path  # the run's files and data lie beside the project
        dialog = CompressDialog(project, record, self.history.file_path(record, record.weights), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open_project_requested.connect(self.open_copy_requested)
        self.compress_dialog = dialog  # the open one, for tests
        dialog.show()

    def use_weights(self) -> None:
        """Make the selected run's weights the project's starting weights: converted on a task of its own, then
        one undoable command; a network changed since says which layers will start from the seed."""
        records = self.selected_records()
        if len(records) != 1 or self._why_not_weights(records[0], records) or self._weights_task is not None:
            return
        record = records[0]
        trained = self._run_project(record)
        if trained is None:
            return
        weights = self.history.file_path(record, record.weights)
        path = self.document.path
        target = path.with_name(f"{path.stem}.run-{record.run_id}{WEIGHTS_SUFFIX}")
        now = project_from_dict(project_to_dict(self.document.project))  # a copy: the task never sees the document

        def work():
            from netbuilder.runtime.run_weights import starting_weights_from_run

            return starting_weights_from_run(weights, trained, now, target)

        task = BackgroundTask(work, "netbuilder run weights")
        task.succeeded.connect(lambda fitting: self._weights_ready(record, target, fitting))
        task.failed.connect(self._weights_failed)
        self._weights_task = task
        self.use_weights_button.setEnabled(False)
        self.message.emit(f"Reading the weights of run {record.title}…")
        task.start()

    def _weights_ready(self, record: RunRecord, target: Path, fitting) -> None:
        self._weights_task = None
        self._selection_changed()
        if self.running:
            return
        if fitting.fresh:
            answer = QMessageBox.question(
                self,
                "The network changed since this run",
                f"These layers changed shape since run {record.title} and will start from the seed: "
                f"{', '.join(fitting.fresh)}.\n\nTrain from the run's weights for the others?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Yes,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        if self.editor.use_starting_weights(target, f"Use the weights of run {record.title}"):
            self.message.emit(f"Training starts from the weights of run {record.title} (Ctrl+Z undoes it)")

    def _weights_failed(self, error: Exception) -> None:
        self._weights_task = None
        self._selection_changed()
        if isinstance(error, FileNotFoundError):
            self.message.emit("The run's weights are gone: only the newest 10 runs and starred ones keep their files")
        else:
            self.message.emit(f"The run's weights cannot be used: {error}")

    def shutdown(self) -> None:
        """Join the weights' task, if one is going (the document is being let go)."""
        if self._weights_task is not None:
            self._weights_task.join()
            self._weights_task = None

    # ---- exports (run_export.py: asked where, then written) ----------------------------------------------------

    def visible_columns(self) -> list[int]:
        header = self.table.horizontalHeader()
        columns = [header.logicalIndex(visual) for visual in range(header.count())]
        return [column for column in columns if not header.isSectionHidden(column)]

    def export_table(self) -> None:
        """The table as shown (its rows sorted and filtered, its columns) to a CSV file."""
        from netbuilder.ui.training.run_export import export_table

        export_table(self)

    def export_curves(self) -> None:
        """The overlaid curves with their legend, as PNG or SVG."""
        from netbuilder.ui.training.run_export import export_curves

        export_curves(self)

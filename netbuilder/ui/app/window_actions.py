"""The window's actions, menus and toolbar, and which actions are enabled (part of MainWindow)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QStyle

from netbuilder.analysis.layout import Orientation

LAYOUT_SETTING = "canvas/layout"  # the direction Auto Layout lays the graph out in: an Orientation's value


class WindowActionsMixin:
    """Every action with its shortcut and status tip, the File, Edit, View and Help menus, the toolbar, and
    `_update_actions`, which enables each for the document, the selection and the training lock."""

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
        self.load_block_action = self._action(
            "Load &Block…",
            self.load_block_dialog,
            None,
            "Add a block saved in a .nbblock file to This project in the palette (Undo takes it away)",
        )
        self.save_block_action = self._action(
            "Save Bloc&k As…",
            self.save_block_dialog,
            None,
            "Write the selected block of this project (or the open one) to a .nbblock file, for other projects",
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
        self.group_action = self._action(
            "&Group…", self.group_selection, "Ctrl+G", "Make the selected nodes one block of this project"
        )
        self.ungroup_action = self._action(
            "U&ngroup", self.ungroup_selection, "Ctrl+Shift+G", "Put the selected block's inside back in its place"
        )
        self.open_block_action = self._action(
            "&Open Block", self.open_block, "Return", "Show the selected block's inside (edits change every use)"
        )
        self.open_block_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)  # Return on the canvas only
        self.up_level_action = self._action("&Up One Level", self.up_one_level, "Alt+Up", "Close the open block")
        self.make_unique_action = self._action(
            "&Make Unique", self.make_unique_selection, None, "Give this instance a copy of its block to edit alone"
        )
        self.find_action = self._action("&Find…", self.find_node, std.Find, "Find a node by its label or block type")
        # Ctrl+F is the canvas's own while it has the focus (find_bar.py) and the palette's elsewhere: here it is
        # shown in the menu and works while the menu is open, but claims the key nowhere else
        self.find_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.frame_all_action = self._action("Frame &All", self.frame_all, "Home")
        self.frame_selection_action = self._action("&Frame Selection", self.frame_selection, "F")
        self.auto_layout_action = self._action(
            "Auto &Layout", self.auto_layout, "Ctrl+L", "Arrange the graph in layers (View > Layout Direction)"
        )
        chosen = str(self.settings.value(LAYOUT_SETTING, Orientation.LEFT_TO_RIGHT.value))
        self.layout_actions = {}
        directions = QActionGroup(self)  # exclusive: one direction is always checked
        for orientation, text in (
            (Orientation.LEFT_TO_RIGHT, "&Left to Right"),
            (Orientation.TOP_TO_BOTTOM, "&Top to Bottom"),
        ):
            action = self._action(
                text,
                self._layout_chosen,
                None,
                f"Auto Layout lays the graph out {text[1:].lower()}, now and from now on",
            )
            action.setData(orientation.value)
            action.setCheckable(True)
            action.setChecked(orientation.value == chosen)
            directions.addAction(action)
            self.layout_actions[orientation] = action
        if not directions.checkedAction():
            self.layout_actions[Orientation.LEFT_TO_RIGHT].setChecked(True)
        self.zoom_in_action = self._action("Zoom &In", self.zoom_in, std.ZoomIn)
        self.zoom_out_action = self._action("Zoom &Out", self.zoom_out, std.ZoomOut)
        self.zoom_reset_action = self._action("&Reset Zoom", self.zoom_reset, "Ctrl+0")
        self.snap_action = self._action("Snap to &Grid", self._toggle_snap)
        self.snap_action.setCheckable(True)
        self.snap_action.setChecked(self.settings.value("canvas/snap", False, type=bool))
        self.overview_action = self._action(
            "&Overview", self._toggle_overview, None, "A map of the whole network in a corner, when it does not fit"
        )
        self.overview_action.setCheckable(True)
        self.overview_action.setChecked(self.settings.value("canvas/overview", True, type=bool))
        self.runs_action = self._action(
            "&Runs", self.show_runs, "Ctrl+Shift+R", "The project's runs: compare their curves, rename, star, reuse"
        )
        self.sweep_action = self._action(
            "S&weep…",
            self.open_sweep,
            tip="Train the network with several settings, one run after another, and compare the runs",
        )
        self.compress_action = self._action(
            "&Compress…",
            self.open_compress,
            tip="Prune and quantize the last run's network, each result measured against it",
        )
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
        file_menu.addActions([self.load_block_action, self.save_block_action])
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
        edit_menu.addSeparator()
        edit_menu.addActions([self.group_action, self.ungroup_action, self.open_block_action, self.up_level_action])
        edit_menu.addAction(self.make_unique_action)
        edit_menu.addSeparator()
        edit_menu.addAction(self.find_action)
        view_menu = bar.addMenu("&View")
        view_menu.addActions([self.frame_all_action, self.frame_selection_action])
        view_menu.addSeparator()
        view_menu.addActions([self.zoom_in_action, self.zoom_out_action, self.zoom_reset_action])
        view_menu.addSeparator()
        view_menu.addAction(self.snap_action)
        layout_menu = view_menu.addMenu("Layout &Direction")
        layout_menu.addActions(list(self.layout_actions.values()))
        view_menu.addAction(self.overview_action)
        theme_menu = view_menu.addMenu("&Theme")
        theme_menu.addActions(list(self.theme_actions.values()))
        view_menu.addSeparator()
        for dock in (self.palette_dock, self.inspector_dock, self.bottom_dock, self.training_dock):
            view_menu.addAction(dock.toggleViewAction())
        view_menu.addAction(self.runs_action)  # shows and raises the dock, where a toggle would hide it behind a tab
        # the Training dock's own actions go in while a document is open (main_window)
        self.training_menu = bar.addMenu("&Training")
        self.training_menu.addAction(self.sweep_action)
        self.training_menu.addAction(self.compress_action)
        self.training_menu.aboutToShow.connect(self._update_compress_action)
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

    def layout_orientation(self) -> Orientation:
        """The direction chosen in View > Layout Direction, which Auto Layout follows."""
        return next(orientation for orientation, action in self.layout_actions.items() if action.isChecked())

    def _layout_chosen(self) -> None:
        self.settings.setValue(LAYOUT_SETTING, self.layout_orientation().value)
        if self.scene is not None:
            self.scene.orientation = self.layout_orientation()  # the ports move to the sides or the top and bottom
        if self.controller is not None:
            self.controller.orientation = self.layout_orientation()  # new nodes go after others this way
        if self.auto_layout_action.isEnabled():
            self.auto_layout()

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
            self.find_action,
            self.frame_all_action,
            self.frame_selection_action,
            self.zoom_in_action,
            self.zoom_out_action,
            self.zoom_reset_action,
            self.runs_action,
        ):
            action.setEnabled(has_document)
        for action in (self.paste_action, self.auto_layout_action):
            action.setEnabled(editable)
        self.training_menu.menuAction().setEnabled(has_document)
        self._update_compress_action()
        self._update_block_actions(editable)

    def _update_compress_action(self) -> None:
        """Training > Compress… needs a run that kept its weights."""
        from netbuilder.ui.training.compress_dialog import last_run_with_weights

        has_run = self.training is not None and last_run_with_weights(self.training.history) is not None
        self.compress_action.setEnabled(has_run)
        tip = "Prune and quantize the last run's network, each result measured against it"
        self.compress_action.setStatusTip(
            tip if has_run else "Train the network first: compressing needs a run's weights"
        )

    def open_compress(self) -> None:
        """Training > Compress…: the newest run with weights compressed in a dialog of its own; the pruned network
        opens as a new document, as a run opened as a copy does."""
        from netbuilder.ui.training.compress_dialog import CompressDialog, last_run_with_weights

        found = last_run_with_weights(self.training.history) if self.training is not None else None
        if found is None:
            return
        record, weights = found
        dialog = CompressDialog(self.document.project, record, weights, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open_project_requested.connect(self.open_run_copy)
        self.compress_dialog = dialog  # the open one, for tests and screenshots
        dialog.show()

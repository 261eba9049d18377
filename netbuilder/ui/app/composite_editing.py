"""The window's work on blocks of the project (part of MainWindow): the Edit menu's Group, Ungroup, Open Block,
Up One Level and Make Unique, the canvas's context menu that offers them beside the clipboard's actions, and
the File menu's Load Block and Save Block As, which carry a block between projects in a .nbblock file."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, QPointF, QRectF
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QFileDialog, QMenu, QMessageBox

from netbuilder.graph import GraphError
from netbuilder.graph.grouping import check_groupable
from netbuilder.project.block_library import SUFFIX, save_block
from netbuilder.project.errors import ProjectError
from netbuilder.ui.app.block_name_dialog import BlockNameDialog

BLOCK_FILTER = f"Block files (*{SUFFIX})"
BLOCK_FOLDER_SETTING = "blocks/folder"  # where the last block file was loaded from or saved to


class CompositeEditingMixin:
    """What the window's block actions do to the graph being edited, through the controller; a refusal is said
    in the status bar and by the selection, as the canvas says its own."""

    _shown_path: tuple[str, ...] = ()  # the opened path the canvas showed last

    def group_selection(self) -> None:
        if self.scene is None or self._locked:
            return
        node_ids = self.scene.selected_node_ids()
        try:
            check_groupable(self.controller.graph, set(node_ids))
        except GraphError as err:
            self._refuse_here(str(err))
            return
        dialog = BlockNameDialog(self.controller.top, len(node_ids), self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        instance = self.controller.group(node_ids, dialog.name)
        if instance is not None:
            self.scene.select_nodes([instance])

    def ungroup_selection(self) -> None:
        instance = self._selected_instance("select one block of this project to ungroup it")
        if instance is not None:
            self.scene.select_nodes(self.controller.ungroup(instance))

    def open_block(self) -> None:
        instance = self._selected_instance("select one block of this project to open it")
        if instance is not None:
            self.controller.open_instance(instance)

    def up_one_level(self) -> None:
        if self.controller is not None:
            self.controller.close_level()

    def make_unique_selection(self) -> None:
        instance = self._selected_instance("select one block of this project to make it unique")
        if instance is not None:
            name = self.controller.make_unique(instance)
            if name is not None:
                self.scene.select_nodes([instance])  # the same node (its id kept), now an instance of the copy
                self.show_message(f"This instance now uses {name}, a copy of its block of its own")

    def reveal_problem(self, node_id: str) -> None:
        """A row of the Problems tab activated: its node, and for a problem inside a block of the project, that
        block opened down the problem's path to the inner node it is at, selected."""
        self.reveal_node(node_id)
        diagnostic = self.problems.current_diagnostic()
        if diagnostic is None or diagnostic.node != node_id or not diagnostic.path:
            return
        try:
            opened = self.controller.open_instance(node_id)
            for label in diagnostic.path[:-1]:  # the blocks on the way, by their labels
                opened = opened and self.controller.open_instance(self.controller.graph.by_label(label).id)
            if opened:
                self.scene.select_nodes([self.controller.graph.by_label(diagnostic.path[-1]).id])
                self.view.frame_selection()
        except GraphError:
            pass  # renamed or removed since the analysis: the block opened as far as it could be

    # ---- block files: Load Block, Save Block As, the palette's library ---------------------------------------

    def load_block_dialog(self) -> None:
        """File > Load Block: choose a .nbblock file; its block joins This project."""
        if self.controller is None or self._locked:
            return
        path, _ = QFileDialog.getOpenFileName(self, "Load block", self._block_folder(), BLOCK_FILTER)
        if path:
            self.load_block_file(Path(path))

    def load_block_file(self, path: Path) -> str | None:
        """Bring the block of `path` into the project, undoably; its name there, or None when the file cannot
        be loaded (said in a message box: nothing changed)."""
        self.settings.setValue(BLOCK_FOLDER_SETTING, str(path.parent))
        had = {definition.name for definition in self.controller.top.definitions}
        loaded: list[str] = []

        def load() -> bool:
            name = self.controller.load_block(path)
            loaded.extend([name] if name else [])
            return bool(name)

        reason = self.controller.attempt(load)
        if reason is not None:
            QMessageBox.warning(
                self,
                "Cannot load block",
                f"{path.name} was not loaded, nothing changed: {reason}. "
                "Choose another .nbblock file, one saved by Save Block As.",
            )
            return None
        (name,) = loaded
        self.palette.show_block(name)
        if name in had:
            self.show_message(f"This project already has the block of {path.name}: {name}")
        else:
            self.show_message(f"Loaded {name} into This project: drag it from the palette onto the canvas")
        return name

    def save_block_dialog(self) -> None:
        """File > Save Block As: the selected instance's block, else the block open now."""
        if self.controller is None:
            return
        selected = self.scene.selected_node_ids()
        if len(selected) == 1 and (definition := self.controller.graph.definition_of(selected[0])) is not None:
            self.save_block_as(definition.name)
        elif self.controller.graph.owner is not None:
            self.save_block_as(self.controller.graph.owner)
        else:
            self._refuse_here("select one block of this project (or open one) to save it to a file")

    def save_block_as(self, name: str) -> Path | None:
        """Write block `name` of the project (with the blocks it holds) to a .nbblock file the person chooses;
        the file, or None when cancelled or refused (said in a message box)."""
        suggestion = str(Path(self._block_folder()) / f"{name}{SUFFIX}")
        chosen, _ = QFileDialog.getSaveFileName(self, f"Save block {name}", suggestion, BLOCK_FILTER)
        if not chosen:
            return None
        path = Path(chosen) if chosen.endswith(SUFFIX) else Path(chosen + SUFFIX)
        try:
            save_block(self.controller.top.definitions, name, path)
        except ProjectError as err:
            QMessageBox.critical(self, "Cannot save block", f"{name} was not saved to {path}: {err}")
            return None
        self.settings.setValue(BLOCK_FOLDER_SETTING, str(path.parent))
        self.show_message(f"Saved block {name} to {path}: File > Load Block… brings it into another project")
        return path

    def _block_folder(self) -> str:
        """Where block file dialogs start: the folder last used for one, else the project's, else home."""
        if remembered := self.settings.value(BLOCK_FOLDER_SETTING, ""):
            return str(remembered)
        if self.document is not None and self.document.path is not None:
            return str(self.document.path.parent)
        return str(Path.home())

    def _add_block_file_at_centre(self, path: Path) -> None:
        """A library block activated in the palette: loaded, and an instance added in the middle of the canvas."""
        if self.scene is not None and not self._locked:
            self.scene.drop_block_file(path, self._centre_drop_point())

    def _selected_instance(self, hint: str) -> str | None:
        """The one selected node when it is an instance of a block of the project; else None, and `hint`."""
        if self.scene is None or self._locked:
            return None
        selected = self.scene.selected_node_ids()
        if len(selected) == 1 and self.controller.graph.definition_of(selected[0]) is not None:
            return selected[0]
        self._refuse_here(hint)
        return None

    def _refuse_here(self, reason: str) -> None:
        """Say why in the status bar and by the selection (else the middle of the canvas)."""
        self.show_message(reason)
        area = QRectF()
        for node_id in self.scene.selected_node_ids():
            area = area.united(self.scene.nodes[node_id].sceneBoundingRect())
        point = area.center() if not area.isEmpty() else self.view.mapToScene(self.view.viewport().rect().center())
        self.scene.refused.emit(QPointF(point), reason)

    def _level_changed(self) -> None:
        """A block opened or closed: the canvas shows another graph as one just opened (view.frame_opened:
        whole, or readable from its start); back up a level, the instance just closed is selected and in view,
        so one sees where one was."""
        path, left = self.controller.path, self._shown_path
        self._shown_path = path
        if self.overview is not None:
            self.overview.refresh()
        self.inspector.show_selection([])
        closed = None  # the instance just closed, unless an undo took it away with the level
        if len(left) > len(path) and left[: len(path)] == path and left[len(path)] in self.scene.nodes:
            self.scene.select_nodes([left[len(path)]])
            closed = self.scene.nodes[left[len(path)]].sceneBoundingRect()
        self._update_actions()
        self.view.frame_opened(closed)

    def _canvas_menu(self, point: QPoint) -> None:
        """Right-click on the canvas: the clipboard's actions and, for the selection, the block actions."""
        menu = QMenu(self)
        for action in self.canvas_menu_actions():
            if action is None:
                menu.addSeparator()
            else:
                menu.addAction(action)
        menu.exec(point)

    def canvas_menu_actions(self) -> list[QAction | None]:
        """What the canvas's context menu offers now, None for a separator: an instance's own actions only
        when one is selected, Up One Level only inside a block."""
        actions = [self.cut_action, self.copy_action, self.paste_action, self.duplicate_action, self.delete_action]
        actions += [None, self.group_action, self.ungroup_action]
        if self.open_block_action.isEnabled():
            actions += [self.open_block_action, self.make_unique_action, self.save_block_action]
        if self.controller.path:
            actions.append(self.up_level_action)
        return actions

    def _update_block_actions(self, editable: bool) -> None:
        """Enable the block actions for the selection: Group for nodes, the rest for one instance."""
        selected = self.scene.selected_node_ids() if self.scene is not None else []
        instance = len(selected) == 1 and self.controller.graph.definition_of(selected[0]) is not None
        self.group_action.setEnabled(editable and bool(selected))
        self.ungroup_action.setEnabled(editable and instance)
        self.open_block_action.setEnabled(self.scene is not None and instance)
        self.make_unique_action.setEnabled(editable and instance and self._has_siblings(selected[0]))
        self.up_level_action.setEnabled(bool(self.controller and self.controller.path))
        self.load_block_action.setEnabled(editable)
        self.save_block_action.setEnabled(self.scene is not None and (instance or bool(self.controller.path)))

    def _has_siblings(self, node_id: str) -> bool:
        """Whether another instance anywhere in the project uses the same block (Make Unique forks it then)."""
        block = self.controller.graph.nodes[node_id].block
        graphs = [self.controller.top, *(d.graph for d in self.controller.top.definitions)]
        return sum(node.block == block for graph in graphs for node in graph.nodes.values()) > 1

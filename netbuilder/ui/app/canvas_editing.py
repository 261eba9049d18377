"""The Edit and View menus' work on the canvas: undo, the clipboard, selection, layout, adding blocks, framing
and zoom (part of MainWindow)."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPointF
from PySide6.QtGui import QCursor, QGuiApplication
from PySide6.QtWidgets import QApplication

from netbuilder.blocks.spec import BlockSpec
from netbuilder.graph.clipboard import MIME_TYPE
from netbuilder.ui.canvas.quick_add import QuickAddPopup


class CanvasEditingMixin:
    """What the window's editing actions do to the open document, through its controller and canvas; each does
    nothing while no document is open."""

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
        new = self.controller.paste(bytes(data.data(MIME_TYPE)).decode(), self._pointer_on_canvas())
        self.scene.select_nodes(new)

    def _pointer_on_canvas(self) -> tuple[float, float] | None:
        """The canvas point under the pointer, when the pointer is over the canvas (and not over a menu or
        another widget in front of it); else None."""
        viewport = self.view.viewport()
        pointer = QCursor.pos()
        if QApplication.widgetAt(pointer) is not viewport:
            return None
        point = self.view.mapToScene(viewport.mapFromGlobal(pointer))
        return point.x(), point.y()

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
        if self.controller and self.controller.auto_layout(self.layout_orientation()):
            self.view.frame_all()

    def _add_at_centre(self, block: str) -> None:
        if self.view:
            self.scene.drop_block(block, self._centre_drop_point())

    def _centre_drop_point(self) -> QPointF:
        """Where a block added from the palette without a drag goes: about centred in the view."""
        return self.view.mapToScene(self.view.viewport().rect().center()) - QPointF(92, 40)

    def _quick_add(self, point: QPointF) -> None:
        if self._locked:
            return
        self._quick_add_point = point
        popup = QuickAddPopup(self, self._project_blocks)
        popup.chosen.connect(self._quick_add_chosen)
        popup.open_at(self.view.mapToGlobal(self.view.mapFromScene(point)))

    def _project_blocks(self) -> list[BlockSpec]:
        """The open project's own blocks, which quick-add lists with the catalogue's."""
        if self.controller is None:
            return []
        return [definition.spec() for definition in self.controller.top.definitions]

    def _quick_add_chosen(self, block: str) -> None:
        if self.scene is not None:
            self.scene.drop_block(block, self._quick_add_point)

    def reveal_node(self, node_id: str) -> None:
        """Select a node and bring it into view (from the Problems tab, which names the top graph's nodes: the
        canvas comes back up from an opened block first)."""
        if self.controller is not None:
            self.controller.open_path(())
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
        self._show_node_output()

    def _show_node_output(self) -> None:
        """One node selected: the Predict tab shows what it gives for the chosen sample (when it is in view)."""
        selected = self.scene.selected_node_ids() if self.scene else []
        if len(selected) != 1 or self.training is None:
            return
        path = (*self.controller.path, selected[0])
        labels = tuple(self.controller.graph_at(depth).nodes[node].label for depth, node in enumerate(path))
        self.training.predict_panel.feature_map.choose_node(path, labels)

    def _toggle_snap(self, checked: bool) -> None:
        self.settings.setValue("canvas/snap", checked)
        if self.scene:
            self.scene.snap_to_grid = checked

    def frame_all(self) -> None:
        if self.view:
            self.view.frame_all()

    def frame_opened(self) -> None:
        if self.view:
            self.view.frame_opened()

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

    def _zoom_changed(self, zoom: float) -> None:
        self.zoom_label.setText(f"{zoom:.0%}" if zoom >= 0.1 else f"{zoom * 100:.1f}%")  # Frame All goes below 1 %

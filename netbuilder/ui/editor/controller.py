"""Turns what a person does in the window into undoable commands, and says why when an edit is refused."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from netbuilder.analysis import Fix
from netbuilder.analysis.layout import layered_positions
from netbuilder.graph import Edge, GraphError
from netbuilder.graph.clipboard import copy_nodes, paste_nodes
from netbuilder.ui import commands
from netbuilder.ui.commands import RecordedCommand
from netbuilder.ui.document import Document

PASTE_OFFSET = (40.0, 40.0)


class EditorController(QObject):
    """The one way the views change the graph."""

    message = Signal(str)  # plain words for the status bar: a refusal's reason, or what just happened

    def __init__(self, document: Document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.graph = document.graph

    def push(self, command: RecordedCommand) -> bool:
        """Perform and record `command`; False (and a message) if the graph refused it."""
        try:
            command.prepare()
        except (GraphError, ValueError) as err:
            self.message.emit(str(err))
            return False
        if command.isObsolete():
            return True
        self.document.undo_stack.push(command)
        return True

    def add_block(self, block: str, position: tuple[float, float]) -> str | None:
        command = commands.add_node(self.graph, block, position)
        return command.result if self.push(command) else None

    def connect(self, edge: Edge, replacing: Edge | None = None) -> bool:
        return self.push(commands.connect(self.graph, edge, replacing))

    def disconnect(self, edges: list[Edge]) -> bool:
        return bool(edges) and self.push(commands.delete_nodes(self.graph, [], edges))

    def move_nodes(self, positions: dict[str, tuple[float, float]]) -> bool:
        moved = {n: p for n, p in positions.items() if self.graph.nodes[n].position != p}
        return bool(moved) and self.push(commands.move_nodes(self.graph, moved))

    def delete(self, node_ids: list[str], edges: list[Edge] = ()) -> bool:
        if not node_ids and not edges:
            return False
        return self.push(commands.delete_nodes(self.graph, node_ids, list(edges)))

    def set_param(self, node_id: str, name: str, value: object) -> bool:
        return self.push(commands.set_param(self.graph, node_id, name, value))

    def rename(self, node_id: str, label: str) -> bool:
        return self.push(commands.rename(self.graph, node_id, label))

    def apply_fix(self, fix: Fix) -> bool:
        return self.push(commands.apply_fix(self.graph, fix))

    def insert_on_edge(self, edge: Edge, block: str, position: tuple[float, float]) -> str | None:
        command = commands.insert_on_edge(self.graph, edge, block, position)
        return command.result if self.push(command) else None

    def copy(self, node_ids: list[str]) -> str:
        return copy_nodes(self.graph, node_ids)

    def paste(self, text: str, offset: tuple[float, float] = PASTE_OFFSET) -> list[str]:
        command = commands.custom(self.graph, "Paste", lambda g: paste_nodes(g, text, offset))
        return command.result if self.push(command) else []

    def duplicate(self, node_ids: list[str]) -> list[str]:
        if not node_ids:
            return []
        text = copy_nodes(self.graph, node_ids)
        command = commands.custom(self.graph, "Duplicate", lambda g: paste_nodes(g, text, PASTE_OFFSET))
        return command.result if self.push(command) else []

    def auto_layout(self) -> bool:
        moved = {n: p for n, p in layered_positions(self.graph).items() if self.graph.nodes[n].position != p}
        return bool(moved) and self.push(commands.move_nodes(self.graph, moved, "Auto Layout"))

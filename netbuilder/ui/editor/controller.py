"""The editor of one document: turns what a person does in the window into undoable commands, owns the undo
stack they go on (and so the unsaved state), and says why when an edit is refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from netbuilder.analysis import Analysis, Fix
from netbuilder.analysis.layout import Orientation, layered_positions
from netbuilder.analysis.node_check import NodeResult
from netbuilder.graph import Edge, Graph, GraphError
from netbuilder.graph.clipboard import copy_nodes
from netbuilder.graph.events import DefinitionEdited, DefinitionRemoved, GraphEvent, NodeRemoved
from netbuilder.project.errors import ProjectError
from netbuilder.ui.editor import commands, composite_commands
from netbuilder.ui.editor.commands import RecordedCommand
from netbuilder.ui.editor.document import Document


class EditorController(QObject):
    """The one way the views change the document: every edit is a command pushed here, on the undo stack this
    editor owns; the document is unsaved while the stack is away from its clean index."""

    message = Signal(str)  # plain words for the status bar: a refusal's reason, or what just happened
    modified_changed = Signal(bool)  # True while there are unsaved changes
    level_changed = Signal()  # the graph being edited changed: a block of the project opened, or closed

    def __init__(self, document: Document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.top = document.graph
        self.graph = document.graph
        """The graph being edited: the project's top graph, or the inside of the block opened last."""
        self.path: tuple[str, ...] = ()
        """The instances opened, from the top graph down (empty while the top graph is edited)."""
        self.orientation = Orientation.LEFT_TO_RIGHT
        """The way the flow runs (the window's View > Layout Direction): where a node added after or before
        another goes, and which way an insert moves what follows (see analysis.placement)."""
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._clean_changed)
        self._unsubscribe_top = self.top.subscribe(self._follow_top)

    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean()

    def _clean_changed(self, clean: bool) -> None:
        self.modified_changed.emit(not clean)

    def push(self, command: QUndoCommand) -> bool:
        """Perform and record `command`; False (and a message) if the graph refused it. A RecordedCommand is
        performed before it reaches the stack, so a refusal leaves nothing behind."""
        if isinstance(command, RecordedCommand):
            had_errors = bool(self.document.project.import_gaps) and self.document.analysis.has_errors(training=False)
            try:
                command.prepare()
            except (GraphError, ValueError, ProjectError) as err:  # ProjectError: a block file that cannot load
                self.message.emit(str(err))
                return False
            if command.isObsolete():
                return True
            self._drop_filled_import_gaps(command, had_errors)
        self.undo_stack.push(command)
        return True

    def attempt(self, action: Callable[[], bool]) -> str | None:
        """Run one of this editor's calls: None when it went through, else the reason it was refused (which the
        status bar shows too), for a view that says it where the person is looking."""
        said: list[str] = []

        def hear(text: str) -> None:
            said.append(text)

        self.message.connect(hear)
        try:
            done = action()
        finally:
            self.message.disconnect(hear)
        if done:
            return None
        return said[-1] if said else "the change was refused"

    def save(self, path: Path | None = None) -> Path:
        """Save the document (to `path`, or where it came from) and mark this state as the saved one."""
        saved = self.document.save(path)
        self.undo_stack.setClean()
        return saved

    def mark_unsaved(self) -> None:
        """Count the document as changed although nothing was undone or redone (an import, recovered work)."""
        self.undo_stack.resetClean()

    def close(self) -> None:
        """Delete the commands now, while everything they refer to is alive (left to the garbage collector,
        the stack's C++ side could delete commands whose Python side is already gone), then close the
        document."""
        self.undo_stack.clear()
        self._unsubscribe_top()
        self.document.close()

    def _edit(self, build: Callable[[], RecordedCommand]) -> RecordedCommand | None:
        """Build one command and push it; None (and a message) when it is refused, already while it is built
        (a view naming a node that an undo has just taken away)."""
        try:
            command = build()
        except (GraphError, ValueError) as err:
            self.message.emit(str(err))
            return None
        return command if self.push(command) else None

    def add_block(self, block: str, position: tuple[float, float]) -> str | None:
        command = self._edit(lambda: commands.add_node(self.graph, block, position, self.orientation))
        return None if command is None else command.result

    def connect(self, edge: Edge, replacing: Edge | None = None) -> bool:
        return self._edit(lambda: commands.connect(self.graph, edge, replacing)) is not None

    def disconnect(self, edges: list[Edge]) -> bool:
        return bool(edges) and self._edit(lambda: commands.delete_nodes(self.graph, [], edges)) is not None

    def move_nodes(self, positions: dict[str, tuple[float, float]]) -> bool:
        moved = {n: p for n, p in positions.items() if n not in self.graph.nodes or self.graph.nodes[n].position != p}
        return bool(moved) and self._edit(lambda: commands.move_nodes(self.graph, moved)) is not None

    def delete(self, node_ids: list[str], edges: list[Edge] = ()) -> bool:
        if not node_ids and not edges:
            return False
        return self._edit(lambda: commands.delete_nodes(self.graph, node_ids, list(edges))) is not None

    def set_param(self, node_id: str, name: str, value: object) -> bool:
        return self._edit(lambda: commands.set_param(self.graph, node_id, name, value)) is not None

    def rename(self, node_id: str, label: str) -> bool:
        return self._edit(lambda: commands.rename(self.graph, node_id, label)) is not None

    def apply_fix(self, fix: Fix) -> bool:
        return self._edit(lambda: commands.apply_fix(self.graph, fix, self.orientation)) is not None

    def insert_on_edge(self, edge: Edge, block: str, position: tuple[float, float]) -> str | None:
        command = self._edit(lambda: commands.insert_on_edge(self.graph, edge, block, position, self.orientation))
        return None if command is None else command.result

    def copy(self, node_ids: list[str]) -> str:
        return copy_nodes(self.graph, node_ids)

    def paste(self, text: str, at: tuple[float, float] | None = None) -> list[str]:
        """Paste copied nodes in free space: centred on `at` (the pointer on the canvas), else beside the
        nodes they were copied from."""
        command = commands.paste(self.graph, text, at, orientation=self.orientation)
        return command.result if self.push(command) else []

    def duplicate(self, node_ids: list[str]) -> list[str]:
        if not node_ids:
            return []

        def build() -> RecordedCommand:
            return commands.paste(
                self.graph, copy_nodes(self.graph, node_ids), name="Duplicate", orientation=self.orientation
            )

        command = self._edit(build)
        return [] if command is None else command.result

    def set_setting(self, name: str, value: object) -> bool:
        """Change one training setting, undoably (edits of one setting in a row are one step)."""
        return self._edit(lambda: commands.set_setting(self.document.project, name, value)) is not None

    def forget_starting_weights(self) -> bool:
        """Train from the seed from now on, undoably; False when there are no starting weights."""
        return self.document.project.weights is not None and self.push(
            commands.forget_starting_weights(self.document.project)
        )

    def use_starting_weights(self, weights: Path, name: str) -> bool:
        """Train from `weights` from now on (a run's weights), undoably, as one step named `name`."""
        return self.push(commands.use_starting_weights(self.document.project, weights, name))

    def dismiss_import_gaps(self) -> bool:
        """Forget the import's list of calls it could not map, undoably; False when there is none."""
        return bool(self.document.project.import_gaps) and self.push(
            commands.dismiss_import_gaps(self.document.project)
        )

    def _drop_filled_import_gaps(self, command: RecordedCommand, had_errors: bool) -> None:
        """The gaps of a partial import are filled once an edit takes the model from having errors to checking
        clean: the list is dropped as part of that edit (so Undo brings it back, and the next save writes none)
        and the status bar says so. A model that checked clean from the start (the missing call was the last
        one of forward()) keeps its list until the person dismisses it."""
        project = self.document.project
        if not project.import_gaps or not had_errors or self.document.reanalyze().errors(training=False):
            return
        command.record(lambda: project.set_import_gaps(()), project=project)
        self.message.emit(
            "The import is complete: the model checks clean, so its list of missing calls is dropped "
            "(Undo brings it back)"
        )

    def auto_layout(self, orientation: Orientation = Orientation.LEFT_TO_RIGHT) -> bool:
        """Lay the graph out in layers along `orientation`, undoably; False when every node is in place."""
        laid_out = layered_positions(self.graph, orientation)
        moved = {n: p for n, p in laid_out.items() if self.graph.nodes[n].position != p}
        return bool(moved) and self.push(commands.move_nodes(self.graph, moved, "Auto Layout"))

    # ---- blocks of this project: opening one, grouping, ungrouping -----------------------------------------

    def open_path(self, path: tuple[str, ...]) -> None:
        """Edit the inside of the last instance of `path` (instance ids from the top graph down; () is the top
        graph). Where an instance on it is gone (an undo took it away), the deepest level still there opens."""
        graph, kept = self.top, ()
        for node_id in path:
            definition = graph.definition_of(node_id) if node_id in graph.nodes else None
            if definition is None:
                break
            graph, kept = definition.graph, (*kept, node_id)
        if kept != self.path or graph is not self.graph:
            self.path, self.graph = kept, graph
            self.level_changed.emit()

    def open_instance(self, node_id: str) -> bool:
        """Open the inside of instance `node_id` of the graph being edited; False (and why) for another block."""
        if node_id not in self.graph.nodes or self.graph.definition_of(node_id) is None:
            self.message.emit("only a block of this project can be opened: double-click one to see its inside")
            return False
        self.open_path((*self.path, node_id))
        return True

    def close_level(self) -> bool:
        """Go up one level, to the graph that holds the instance open now; False at the top graph."""
        if not self.path:
            return False
        self.open_path(self.path[:-1])
        return True

    def graph_at(self, depth: int) -> Graph:
        """The graph `depth` levels down the opened path (0: the top graph; len(path): the one being edited)."""
        graph = self.top
        for node_id in self.path[:depth]:
            graph = graph.definition_of(node_id).graph
        return graph

    def level_results(self, analysis: Analysis, depth: int | None = None) -> dict[str, NodeResult]:
        """Analysis's results for the graph being edited (or the one `depth` levels down): inside an opened
        instance, those of that very instance (its shapes follow its own inputs and values); empty while the
        instance could not be checked."""
        results = analysis.results
        for node_id in self.path[:depth]:
            result = results.get(node_id)
            if result is None or result.inner is None:
                return {}
            results = result.inner
        return results

    def _follow_top(self, event: GraphEvent) -> None:
        if self.path and isinstance(event, NodeRemoved | DefinitionRemoved | DefinitionEdited):
            self.open_path(self.path)

    def group(self, node_ids: list[str], name: str) -> str | None:
        """Group nodes of the graph being edited into one instance of a new block `name`; its id, or None."""
        command = self._edit(lambda: composite_commands.group_nodes(self.top, self.graph, node_ids, name))
        return None if command is None else command.result

    def ungroup(self, node_id: str) -> list[str]:
        """Put an instance's inside back in its place; the ids of the nodes put back ([] when refused)."""
        command = self._edit(lambda: composite_commands.ungroup_node(self.top, self.graph, node_id))
        return [] if command is None else command.result

    def make_unique(self, node_id: str) -> str | None:
        """Give instance `node_id` a copy of its block of its own; the copy's name, or None when refused."""
        command = self._edit(lambda: composite_commands.make_unique(self.top, self.graph, node_id))
        return None if command is None else command.result

    def expose_parameter(self, node_id: str, param: str) -> str | None:
        """Make an inner parameter of the block open now one of its parameters; its name, or None (and why)."""
        owner = self.graph.owner
        if owner is None:
            self.message.emit("open a block of this project to expose the parameters of its inside")
            return None
        command = self._edit(lambda: composite_commands.expose_parameter(self.top, owner, node_id, param))
        return None if command is None else command.result

    def unexpose_parameter(self, name: str) -> bool:
        """Make parameter `name` of the block open now inner again."""
        owner = self.graph.owner
        return owner is not None and (
            self._edit(lambda: composite_commands.unexpose_parameter(self.top, owner, name)) is not None
        )

    def load_block(self, path: Path) -> str | None:
        """Bring the block of a block file into the project (reused when the project has it already); its name
        there, or None (and why) when the file cannot be loaded."""
        command = self._edit(lambda: composite_commands.load_block_file(self.top, path))
        return None if command is None else command.result

    def add_block_from_file(self, path: Path, position: tuple[float, float]) -> str | None:
        """Load a block file's block and add an instance of it to the graph being edited, as one edit; the
        instance's id, or None (and why)."""
        command = self._edit(
            lambda: composite_commands.add_block_from_file(self.top, self.graph, path, position, self.orientation)
        )
        return None if command is None else command.result

    def rename_block(self, old: str, new: str) -> bool:
        """Rename a block of the project; its instances everywhere follow."""
        return self._edit(lambda: composite_commands.rename_block(self.top, old, new)) is not None

    def rename_port(self, definition: str, old: str, new: str) -> bool:
        """Rename input or output `old` of block `definition`; every instance keeps its connections."""
        return self._edit(lambda: composite_commands.rename_port(self.top, definition, old, new)) is not None

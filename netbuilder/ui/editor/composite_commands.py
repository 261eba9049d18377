"""Undoable edits of composite blocks: Group, Ungroup, Make Unique, Rename (a block, or one of its inputs and
outputs), exposing an inner parameter as one of its block's, and loading a block from a block file (alone, or with
an instance of it).

Each is a RecordedCommand on the project's top graph even when the edit is inside an opened definition: a
definition joins or leaves the project at the top, and the top graph tells every inner edit as DefinitionEdited,
so recording the top graph's events and reverting them in reverse undoes the whole edit at every level at once.
"""

from __future__ import annotations

from pathlib import Path

from netbuilder.analysis.layout import Orientation
from netbuilder.analysis.placement import place_node
from netbuilder.blocks import catalogue
from netbuilder.graph import Graph, GraphError
from netbuilder.graph.definitions import Definition, Exposed
from netbuilder.graph.grouping import group, ungroup
from netbuilder.graph.limits import name_problem
from netbuilder.project.block_library import load_block
from netbuilder.quoting import quoted
from netbuilder.ui.editor.commands import RecordedCommand

NEW_BLOCK_STEM = "Block"


def block_name_problem(top: Graph, name: str) -> str:
    """Why the project cannot have a new block `name` ("" when it can): the graph's own rules, and one word, for
    it names a class in the generated code."""
    if not name.strip():
        return "type a name for the new block"
    problem = name_problem(name, "a block's name")
    if problem:
        return problem
    if not name.isidentifier() or name.startswith("_"):
        return (
            "a block's name is one word of letters, digits and _ starting with a letter: it names a class in the code"
        )
    if name in catalogue.BLOCKS or name in top.definitions:
        return f"a block named {quoted(name)} already exists: choose another name"
    return ""


def group_nodes(top: Graph, graph: Graph, node_ids: list[str], name: str) -> RecordedCommand:
    """Group `node_ids` of `graph` (the top graph or an opened definition's inside) into one instance of a new
    block `name`; the command's result is the instance's id."""
    problem = block_name_problem(top, name)
    if problem:
        raise GraphError(problem)
    return RecordedCommand(top, f"Group {len(node_ids)} nodes as {name}", lambda _: group(graph, node_ids, name))


def ungroup_node(top: Graph, graph: Graph, node_id: str) -> RecordedCommand:
    """Put instance `node_id`'s inside back in its place; the result is the ids of the nodes put back."""
    label = graph.node(node_id).label
    return RecordedCommand(top, f"Ungroup {label}", lambda _: ungroup(graph, node_id))


def make_unique(top: Graph, graph: Graph, node_id: str) -> RecordedCommand:
    """Fork the definition of instance `node_id` into a copy (BasicBlock -> BasicBlock2) that this instance
    alone uses, so editing it leaves the other instances as they are; the result is the new block's name."""
    definition = graph.definition_of(node_id)
    if definition is None:
        raise GraphError(f"{quoted(graph.node(node_id).label)} is not a block of this project: nothing to make unique")
    name = top.free_definition_name(definition.name)

    def perform(_: Graph) -> str:
        top.add_definition(copy_definition(top, definition, name))
        instance = graph.node(node_id)
        feeding = list(graph.inputs_of(node_id).values())
        fed = list(graph.outputs_of(node_id))
        graph.remove_node(node_id)
        graph.add_node(name, label=instance.label, params=instance.params, position=instance.position, node_id=node_id)
        graph.connect_all([*feeding, *fed])
        return name

    return RecordedCommand(top, f"Make {graph.node(node_id).label} unique", perform)


def copy_definition(top: Graph, definition: Definition, name: str) -> Definition:
    """A copy of `definition` named `name`: its inside node for node (same ids, labels, parameters and
    positions), the same ports, exposed parameters and doc."""
    inside = Graph(top.definitions, owner=name)
    source = definition.graph
    for node in source.nodes.values():
        inside.add_node(node.block, label=node.label, params=node.params, position=node.position, node_id=node.id)
    inside.connect_all(list(source.edges))
    return Definition(name, inside, definition.inlets, definition.outlets, definition.exposed, definition.doc)


def expose_parameter(top: Graph, definition: str, node_id: str, param: str) -> RecordedCommand:
    """Make inner parameter `param` of node `node_id` inside block `definition` a parameter of the block, named
    after it (out_channels, else out_channels2 ...): each instance then sets its own value, starting from the
    one inside. The result is the new parameter's name."""
    taken = {p.name for p in top.block_spec(definition).params}
    name, n = param, 1
    while name in taken:
        n += 1
        name = f"{param}{n}"

    def perform(_: Graph) -> str:
        top.expose(definition, Exposed(name, ((node_id, param),)))
        return name

    return RecordedCommand(top, f"Expose {param} as a parameter of {definition}", perform)


def unexpose_parameter(top: Graph, definition: str, name: str) -> RecordedCommand:
    """Make parameter `name` of block `definition` inner again: every instance takes the value inside (undo
    gives each instance its own value back)."""
    return RecordedCommand(top, f"Make {name} of {definition} inner again", lambda _: top.unexpose(definition, name))


def rename_block(top: Graph, old: str, new: str) -> RecordedCommand:
    """Call block `old` `new`: every instance's block follows (and its class in the generated code)."""
    problem = block_name_problem(top, new)
    if problem:
        raise GraphError(problem)
    return RecordedCommand(top, f"Rename block {old} to {new}", lambda _: top.rename_definition(old, new))


def rename_port(top: Graph, definition: str, old: str, new: str) -> RecordedCommand:
    """Call input or output `old` of block `definition` `new`: every instance keeps its connections, now at the
    port under its new name, and a block holding instances passes the new name on. One step, refused (GraphError
    from the graph, with its reason) for a name that is not one word or that the block's side has already."""
    return RecordedCommand(
        top, f"Rename port {old} of {definition} to {new}", lambda _: top.rename_port(definition, old, new)
    )


def load_block_file(top: Graph, path: Path) -> RecordedCommand:
    """Bring the block of file `path` into the project, with the blocks it holds (an identical block already
    there is reused: nothing changes then); the result is its name in the project. A file that cannot be loaded
    raises ProjectError and changes nothing."""

    def perform(_: Graph) -> str:
        name = load_block(top, path)
        command.setText(f"Load block {name}")  # the file's name need not be the block's
        return name

    command = RecordedCommand(top, f"Load block {path.stem}", perform)
    return command


def add_block_from_file(
    top: Graph,
    graph: Graph,
    path: Path,
    position: tuple[float, float],
    orientation: Orientation = Orientation.LEFT_TO_RIGHT,
) -> RecordedCommand:
    """Load the block of file `path` into the project and add an instance of it to `graph` (the top graph or an
    opened block's inside) at `position`, or in the free spot nearest it: one edit, so an undo takes away the
    instance and the blocks the file brought. The result is the instance's id."""

    def perform(_: Graph) -> str:
        name = load_block(top, path)
        command.setText(f"Add {name}")
        new = graph.add_node(name, position=position)
        place_node(graph, new.id, position, orientation)
        return new.id

    command = RecordedCommand(top, f"Add {path.stem}", perform)
    return command

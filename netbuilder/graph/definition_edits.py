"""The project's composite definitions, edited through its top graph: add, remove and rename one, point its ports
elsewhere, expose an inner parameter or make it inner again.

These edits change the project's `Definitions` and every instance of a definition wherever it is placed, so they
are the top graph's (inside a definition they are refused) and each is told as one event that `Graph.replay` and
`Graph.revert` apply forward or back. They live apart from the node and edge edits of graph.py, in a class the
Graph inherits, because they are one idea of their own: what changing a block's definition does to its uses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from netbuilder.blocks import catalogue
from netbuilder.graph.definitions import Definition, Definitions, Exposed, Ports
from netbuilder.graph.errors import GraphError, InvalidLabelError, LabelTakenError, NodeNotFoundError, named
from netbuilder.graph.events import (
    DefinitionAdded,
    DefinitionEdited,
    DefinitionExposed,
    DefinitionPortsChanged,
    DefinitionRemoved,
    DefinitionRenamed,
    DefinitionUnexposed,
    GraphEvent,
)
from netbuilder.graph.limits import MAX_NAME_CHARS, name_problem
from netbuilder.graph.model import Edge, Node
from netbuilder.quoting import cut, quoted


class DefinitionEdits:
    """The Graph's edits of the project's definitions (a mixin: Graph is its only subclass).

    It keeps no state of its own; it uses the Graph's `definitions` (the project's, shared by every graph of
    it), `owner` (None for the top graph, the only one that may make these edits), `nodes`, `_emit` (tells the
    Graph's listeners), and `_inner_listening`, which the Graph starts empty: for each definition, the call that
    stops telling its inside's edits as DefinitionEdited.
    """

    definitions: Definitions
    owner: str | None
    nodes: dict[str, Node]
    _inner_listening: dict[str, Callable[[], None]]
    _emit: Callable[[GraphEvent], None]

    def add_definition(self, definition: Definition, index: int | None = None) -> None:
        """Add a composite definition to the project (the top graph keeps them; its edits are told as
        DefinitionEdited). Refuses a name that a block or another definition has, or that cannot be one."""
        if self.owner is not None:
            raise GraphError("definitions belong to the project: add them to its top graph")
        self._check_definition_name(definition.name)
        if definition.graph.definitions is not self.definitions:
            raise GraphError(f"{quoted(definition.name)} belongs to another project")
        self.definitions.add(definition, index)
        self._listen(definition)
        self._emit(DefinitionAdded(definition, list(d.name for d in self.definitions).index(definition.name)))

    def rename_definition(self, old: str, new: str) -> None:
        """Call definition `old` `new`: its instances everywhere in the project follow (their block is its
        name). Refuses a name that cannot be a block's or that another block has."""
        if self.owner is not None:
            raise GraphError("definitions belong to the project: rename them through its top graph")
        definition = self.definitions.get(old)
        if definition is None:
            raise NodeNotFoundError(f"no block named {quoted(old)}")
        if new == old:
            return
        self._check_definition_name(new)
        self._inner_listening.pop(old)()
        self.definitions.rename(old, new)
        for graph in [self, *(d.graph for d in self.definitions)]:
            for node in graph.nodes.values():
                if node.block == old:
                    node.block = new
            if graph.owner == old:
                graph.owner = new
        self._listen(definition)
        self._emit(DefinitionRenamed(old, new))

    def set_ports(self, name: str, ports: Ports) -> None:
        """Point definition `name`'s inlets, outlets and exposed parameters at other inner ports, under the same
        names (a Group or Ungroup inside it moves what they lead to), told as DefinitionPortsChanged."""
        if self.owner is not None:
            raise GraphError("definitions belong to the project: change them through its top graph")
        definition = self.definitions.get(name)
        if definition is None:
            raise NodeNotFoundError(f"no block named {quoted(name)}")
        old = definition.ports
        if ports == old:
            return
        definition.inlets, definition.outlets, definition.exposed = ports
        definition.forget_spec()
        self._fit_instances(name)
        self._emit(DefinitionPortsChanged(name, old, ports))

    def rename_port(self, name: str, old: str, new: str) -> None:
        """Call input or output `old` of definition `name` `new`; every instance keeps its connections, which
        move to the port under its new name. Refuses a name that is not one word or that another of the block's
        ports has, input or output."""
        definition = self._own_definition(name)
        inlets, outlets, exposed = definition.ports
        ports = [i.name for i in inlets] + [o.name for o in outlets]
        if old not in ports:
            raise GraphError(f"{quoted(name)} has no input or output {quoted(old)}")
        if new == old:
            return
        if not new.isidentifier() or len(new) > MAX_NAME_CHARS:
            raise GraphError(
                f"a port's name is one word of letters, digits and '_', not starting with a digit; got {quoted(new)}"
            )
        if new in ports:  # one name, one port: an input and an output alike would be renamed for each other
            raise GraphError(f"{quoted(name)} already has a port {quoted(new)}: choose another name")
        is_input = old in [i.name for i in inlets]
        moved: list[tuple[Any, Edge]] = []
        for owner, node in list(self._instances_everywhere(name)):
            graph = self if owner is None else self.definitions[owner].graph
            at_port = [graph.inputs_of(node.id)[old]] if is_input and old in graph.inputs_of(node.id) else []
            at_port += [] if is_input else [e for e in graph.outputs_of(node.id) if e.src_port == old]
            for edge in at_port:
                graph.disconnect(edge)
                moved.append((graph, edge))
        renamed = (
            tuple(replace(i, name=new) if i.name == old else i for i in inlets) if is_input else inlets,
            outlets if is_input else tuple(replace(o, name=new) if o.name == old else o for o in outlets),
            exposed,
        )
        self.set_ports(name, renamed)
        for holder in list(self.definitions):  # a block holding instances may pass the port on as its own
            users = set(holder.graph.instances(name))
            if not users:
                continue

            def follow(node_id: str, port: str) -> tuple[str, str]:
                return (node_id, new) if node_id in users and port == old else (node_id, port)  # noqa: B023

            holder_inlets, holder_outlets, holder_exposed = holder.ports
            self.set_ports(
                holder.name,
                (
                    tuple(replace(i, targets=tuple(follow(*t) for t in i.targets)) for i in holder_inlets)
                    if is_input
                    else holder_inlets,
                    holder_outlets
                    if is_input
                    else tuple(replace(o, port=follow(o.node, o.port)[1]) for o in holder_outlets),
                    holder_exposed,
                ),
            )
        for graph, edge in moved:
            graph.connect_all([replace(edge, dst_port=new) if is_input else replace(edge, src_port=new)])

    def expose(self, name: str, exposed: Exposed, index: int | None = None) -> None:
        """Make inner parameters a parameter of definition `name` (at place `index`, else last): every instance
        takes its default, the first target's value inside. Refuses a name that cannot be a parameter's or that
        the block has, and a target that is missing, set by another parameter, or of another kind."""
        definition = self._own_definition(name)
        problem = _exposure_problem(definition, exposed)
        if problem:
            raise GraphError(f"{quoted(name)}: {problem}")
        place = len(definition.exposed) if index is None else index
        definition.exposed = (*definition.exposed[:place], exposed, *definition.exposed[place:])
        definition.forget_spec()
        self._fit_instances(name)
        self._emit(DefinitionExposed(name, exposed, place))

    def unexpose(self, name: str, parameter: str) -> Exposed:
        """Make parameter `parameter` of definition `name` inner again (each instance's value is forgotten; the
        inside keeps the definition's own values)."""
        definition = self._own_definition(name)
        names = [e.name for e in definition.exposed]
        if parameter not in names:
            raise GraphError(f"{quoted(name)} has no parameter {quoted(parameter)}")
        index = names.index(parameter)
        exposed = definition.exposed[index]
        values = tuple(
            (owner, node.id, node.params[parameter])
            for owner, node in self._instances_everywhere(name)
            if parameter in node.params
        )
        definition.exposed = definition.exposed[:index] + definition.exposed[index + 1 :]
        definition.forget_spec()
        self._fit_instances(name)
        self._emit(DefinitionUnexposed(name, exposed, index, values))
        return exposed

    def _own_definition(self, name: str) -> Definition:
        if self.owner is not None:
            raise GraphError("definitions belong to the project: change them through its top graph")
        definition = self.definitions.get(name)
        if definition is None:
            raise NodeNotFoundError(f"no block named {quoted(name)}")
        return definition

    def _instances_everywhere(self, name: str) -> Iterator[tuple[str | None, Node]]:
        """Every instance of definition `name` in the project, with the definition holding it (None: the top)."""
        for graph in [self, *(d.graph for d in self.definitions)]:
            for node in graph.nodes.values():
                if node.block == name:
                    yield graph.owner, node

    def _fit_instances(self, name: str) -> None:
        """After a change of definition `name`'s parameters, give each instance exactly the parameters its spec
        has: the values it had for those it keeps, the defaults for new ones."""
        spec = self.definitions[name].spec()
        defaults = spec.defaults()
        for _, node in self._instances_everywhere(name):
            node.params = {p: node.params.get(p, default) for p, default in defaults.items()}

    def _give_back(self, values: tuple[tuple[str | None, str, Any], ...], parameter: str) -> None:
        for owner, node_id, value in values:
            graph = self if owner is None else self.definitions[owner].graph
            graph.nodes[node_id].params[parameter] = value

    def remove_definition(self, name: str) -> Definition:
        """Remove an unused definition; refuses while an instance of it exists anywhere in the project."""
        definition = self._own_definition(name)
        users = [n.label for n in self.nodes.values() if n.block == name] or [
            d.name for d in self.definitions if d.name != name and name in d.uses()
        ]
        if users:
            raise GraphError(f"{quoted(name)} is still used by {cut(users[0])}: remove its uses first")
        self._inner_listening.pop(name)()
        index = self.definitions.remove(name)
        self._emit(DefinitionRemoved(definition, index))
        return definition

    def free_definition_name(self, stem: str) -> str:
        """A block name no catalogue block and no definition has: `stem` itself, else stem2, stem3 ... (a stem
        that ends in a number counts on from it: BasicBlock2 -> BasicBlock3), cut to fit MAX_NAME_CHARS."""
        base = stem.rstrip("0123456789") or stem
        n = int(stem[len(base) :]) if stem[len(base) :] else 1
        name = stem[:MAX_NAME_CHARS]
        while name in catalogue.BLOCKS or name in self.definitions:
            n += 1
            name = base[: MAX_NAME_CHARS - len(str(n))] + str(n)
        return name

    def _check_definition_name(self, name: str) -> None:
        problem = name_problem(name, "a block's name")
        if not name.strip() or problem:
            raise InvalidLabelError(problem or "a block's name cannot be empty")
        if name in catalogue.BLOCKS or name in self.definitions:
            raise LabelTakenError(f"a block named {quoted(name)} already exists: choose another name")

    def _listen(self, definition: Definition) -> None:
        """Tell this graph's listeners every edit of `definition`'s inside, as DefinitionEdited."""
        self._inner_listening[definition.name] = definition.graph.subscribe(
            lambda event: self._emit(DefinitionEdited(definition.name, event))
        )

    def instances(self, name: str) -> list[str]:
        """The ids of this graph's nodes that are instances of definition `name`."""
        return [node.id for node in self.nodes.values() if node.block == name]


def _exposure_problem(definition: Definition, exposed: Exposed) -> str | None:
    """Why `exposed` cannot be a parameter of `definition`, or None."""
    if not exposed.name.isidentifier() or len(exposed.name) > MAX_NAME_CHARS:
        return f"a parameter's name is a word of letters, digits and '_', got {quoted(exposed.name)}"
    if exposed.name in {p.name for p in definition.spec().params}:
        return f"it already has a parameter {quoted(exposed.name)}"
    if not exposed.targets:
        return "a parameter sets at least one inner parameter"
    taken = {target for e in definition.exposed for target in e.targets}
    kinds = set()
    for node_id, param in exposed.targets:
        node = definition.graph.nodes.get(node_id)
        if node is None or param not in node.params:
            return f"there is no inner parameter {quoted(param)} at {quoted(node_id)}"
        if (node_id, param) in taken:
            return f"{named(node)}.{param} is already set by another of its parameters"
        spec = definition.graph.spec(node_id).param(param)
        if param == definition.graph.spec(node_id).variadic:
            return f"{named(node)}.{param} sets its inputs, which the edges inside use"
        kinds.add((spec.kind, spec.choices))
    if len(kinds) > 1:
        return "the inner parameters it sets take different kinds of values"
    return None

"""The document model: nodes with typed ports, edges, and an event for every change.

Every edit goes through a Graph method, which validates it against the block catalogue and either makes it
(then tells listeners with one event per change) or refuses it with a GraphError that says why. Nothing else
mutates nodes or edges.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Set
from typing import Any

from netbuilder.blocks import catalogue
from netbuilder.blocks.errors import ParamError
from netbuilder.blocks.spec import MODEL, BlockSpec, PortSpec
from netbuilder.graph.definition_edits import DefinitionEdits
from netbuilder.graph.definitions import REPEAT, Definition, Definitions, expanded_size
from netbuilder.graph.errors import (
    CycleError,
    EdgeRefusedError,
    GraphError,
    InvalidIdError,
    InvalidLabelError,
    InvalidParamError,
    LabelTakenError,
    NodeNotFoundError,
    PortInUseError,
    PortKindError,
    PortOccupiedError,
    TooManyNodesError,
    UnknownPortError,
    named,
)
from netbuilder.graph.events import (
    DefinitionAdded,
    DefinitionEdited,
    DefinitionExposed,
    DefinitionPortsChanged,
    DefinitionRemoved,
    DefinitionRenamed,
    DefinitionUnexposed,
    EdgeAdded,
    EdgeRemoved,
    GraphEvent,
    NodeAdded,
    NodeMoved,
    NodeRemoved,
    NodeRenamed,
    ParamChanged,
)
from netbuilder.graph.limits import ID_RULE, MAX_EXPANDED_NODES, MAX_NAME_CHARS, MAX_NODES, is_node_id, name_problem
from netbuilder.graph.model import Edge, Node
from netbuilder.quoting import quoted

Listener = Callable[[GraphEvent], None]

# The ids netbuilder makes (n1, n2 ...); a file's id of this form moves the counter past it. Eighteen digits
# at most, so the counter stays a small number and the next id within the id pattern.
_COUNTED_ID = re.compile(r"n([0-9]{1,18})")


class Graph(DefinitionEdits):
    """Nodes, edges and listeners. See the module docstring; the edits of the project's definitions are
    DefinitionEdits's (graph/definition_edits.py)."""

    def __init__(self, definitions: Definitions | None = None, owner: str | None = None) -> None:
        """A graph; `definitions` are the project's composites (a definition's inside shares its project's),
        `owner` the definition whose inside this is (None for a project's top graph)."""
        if definitions is None:
            definitions = Definitions()
            definitions.top = self
        self.definitions = definitions
        self.owner = owner
        self._inner_listening: dict[str, Callable[[], None]] = {}
        self.nodes: dict[str, Node] = {}
        self._inputs: dict[str, dict[str, Edge]] = {}
        self._outputs: dict[str, list[Edge]] = {}
        self._labels: dict[str, str] = {}
        self._listeners: list[Listener] = []
        self._next_id = 1

    # ---- listening -------------------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` with every event from now on; returns a function that stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _emit(self, event: GraphEvent) -> None:
        for listener in list(self._listeners):
            listener(event)

    # ---- reading ---------------------------------------------------------------------------------------

    def node(self, node_id: str) -> Node:
        try:
            return self.nodes[node_id]
        except KeyError:
            raise NodeNotFoundError(f"no node {quoted(node_id)}") from None

    def spec(self, node_id: str) -> BlockSpec:
        return self.definitions.spec(self.node(node_id).block)

    def block_spec(self, block: str) -> BlockSpec:
        """The spec of a block type: one of the project's composites, else the catalogue's."""
        return self.definitions.spec(block)

    def definition_of(self, node_id: str) -> Definition | None:
        """The definition `node_id` is an instance of, or None for a catalogue block."""
        return self.definitions.get(self.node(node_id).block)

    def by_label(self, label: str) -> Node:
        try:
            return self.nodes[self._labels[label]]
        except KeyError:
            raise NodeNotFoundError(f"no node labelled {quoted(label)}") from None

    @property
    def edges(self) -> Iterator[Edge]:
        for edges in self._outputs.values():
            yield from edges

    def edge_count(self) -> int:
        return sum(len(edges) for edges in self._outputs.values())

    def inputs_of(self, node_id: str) -> Mapping[str, Edge]:
        """The edges into `node_id`, by input port."""
        return self._inputs[node_id]

    def outputs_of(self, node_id: str) -> list[Edge]:
        """The edges out of `node_id`, in the order they were made."""
        return self._outputs[node_id]

    def input_ports(self, node_id: str) -> tuple[PortSpec, ...]:
        node = self.node(node_id)
        return self.block_spec(node.block).input_ports(node.params)

    def unique_label(self, stem: str) -> str:
        """`stem` if free, else stem2, stem3 ...; a stem without a number gets 1 first (conv1, conv2). The
        stem is cut where the number would pass MAX_NAME_CHARS, so a long label can always be duplicated."""
        if stem and stem[-1].isdigit() and stem not in self._labels:
            return stem
        base = stem.rstrip("0123456789") or stem
        n = 1
        while self._numbered(base, n) in self._labels:
            n += 1
        return self._numbered(base, n)

    def has_label(self, label: str) -> bool:
        return label in self._labels

    def free_label(self, wanted: str) -> str:
        """`wanted` itself while no node has it (an imported `relu` stays `relu`), else `unique_label`'s."""
        return wanted if wanted not in self._labels else self.unique_label(wanted)

    @staticmethod
    def _numbered(base: str, n: int) -> str:
        number = str(n)
        return base[: MAX_NAME_CHARS - len(number)] + number

    # ---- nodes -----------------------------------------------------------------------------------------

    def add_node(
        self,
        block: str,
        *,
        label: str | None = None,
        params: Mapping[str, Any] | None = None,
        position: tuple[float, float] = (0.0, 0.0),
        node_id: str | None = None,
    ) -> Node:
        """Place a new node; parameters not given take their defaults. Refuses unknown blocks or values, an
        id outside the id pattern, a label that cannot be one, and a node beyond MAX_NODES."""
        try:
            spec = self.block_spec(block)
        except catalogue.UnknownBlockError as err:
            raise GraphError(str(err)) from None
        if self.owner is not None and block in self.definitions and self.definitions.reaches(block, self.owner):
            raise GraphError(f"{quoted(block)} cannot go inside {quoted(self.owner)}: a block cannot contain itself")
        if self.owner is not None and spec.role != MODEL:
            raise GraphError(f"a {spec.type} cannot go inside a block: only layers can (it stays at the top)")
        if len(self.nodes) >= MAX_NODES:
            raise TooManyNodesError(f"a graph holds at most {MAX_NODES:,} nodes; this one is full")
        node_id = node_id or self._new_id()
        if not is_node_id(node_id):
            raise InvalidIdError(f"a node id is {ID_RULE} characters, got {quoted(node_id)}")
        if node_id in self.nodes:
            raise GraphError(f"a node with id {quoted(node_id)} already exists")
        label = self.unique_label(spec.default_label()) if label is None else label
        self._check_label(label)
        values = spec.defaults()
        for name, value in (params or {}).items():
            values[name] = _validated(spec, node_id, name, value)
        node = Node(node_id, block, label, values, (float(position[0]), float(position[1])))
        self.nodes[node_id] = node
        self._inputs[node_id] = {}
        self._outputs[node_id] = []
        self._labels[label] = node_id
        self._bump_id(node_id)
        self._emit(NodeAdded(node))
        return node

    def remove_node(self, node_id: str) -> list[Edge]:
        """Remove a node and its edges (each edge first, with its own event); returns the edges removed. Inside
        a definition, refuses a node that one of its ports or parameters names (its instances would lose it)."""
        node = self.node(node_id)
        if self.owner is not None:
            self._check_unnamed(node)
        removed = [*self._inputs[node_id].values(), *self._outputs[node_id]]
        for edge in removed:
            self.disconnect(edge)
        index = list(self.nodes).index(node_id)
        del self.nodes[node_id], self._inputs[node_id], self._outputs[node_id], self._labels[node.label]
        self._emit(NodeRemoved(node, index))
        return removed

    def _check_unnamed(self, node: Node) -> None:
        definition = self.definitions.get(self.owner)
        if definition is None:
            return
        ports = [
            *(f"receives the input {i.name}" for i in definition.inlets if any(n == node.id for n, _ in i.targets)),
            *(f"gives the output {o.name}" for o in definition.outlets if o.node == node.id),
        ]
        if ports:
            raise GraphError(f"{named(node)} {ports[0]} of {quoted(definition.name)}: ungroup it to delete this")
        exposed = [e.name for e in definition.exposed if any(n == node.id for n, _ in e.targets)]
        if exposed:
            raise GraphError(
                f"{named(node)} is set by the parameter {exposed[0]} of {quoted(definition.name)}: make it inner first"
            )

    def rename(self, node_id: str, label: str) -> None:
        node = self.node(node_id)
        if label == node.label:
            return
        self._check_label(label)
        old = node.label
        del self._labels[old]
        node.label = label
        self._labels[label] = node_id
        self._emit(NodeRenamed(node_id, old, label))

    def replay(self, event: GraphEvent) -> None:
        """Make the change `event` describes again (an undo stack's redo); it is told like any edit."""
        match event:
            case NodeAdded(node):
                self._restore(node)
            case NodeRemoved(node):
                self.remove_node(node.id)
            case EdgeAdded(edge):
                self.connect(edge.src, edge.src_port, edge.dst, edge.dst_port)
            case EdgeRemoved(edge):
                self.disconnect(edge)
            case ParamChanged(node_id, name, _, new):
                self.set_param(node_id, name, new)
            case NodeRenamed(node_id, _, new):
                self.rename(node_id, new)
            case NodeMoved(node_id, _, new):
                self.move(node_id, new)
            case DefinitionAdded(definition, index):
                self.add_definition(definition, index)
            case DefinitionRemoved(definition):
                self.remove_definition(definition.name)
            case DefinitionRenamed(old, new):
                self.rename_definition(old, new)
            case DefinitionPortsChanged(name, _, new):
                self.set_ports(name, new)
            case DefinitionExposed(name, exposed, index):
                self.expose(name, exposed, index)
            case DefinitionUnexposed(name, exposed):
                self.unexpose(name, exposed.name)
            case DefinitionEdited(name, inner):
                self.definitions[name].graph.replay(inner)

    def revert(self, event: GraphEvent) -> None:
        """Undo the change `event` describes (an undo stack's undo); it is told like any edit."""
        match event:
            case NodeAdded(node):
                self.remove_node(node.id)
            case NodeRemoved(node, index):
                self._restore(node, index)
            case EdgeAdded(edge):
                self.disconnect(edge)
            case EdgeRemoved(edge):
                self.connect(edge.src, edge.src_port, edge.dst, edge.dst_port)
            case ParamChanged(node_id, name, old, _):
                self.set_param(node_id, name, old)
            case NodeRenamed(node_id, old, _):
                self.rename(node_id, old)
            case NodeMoved(node_id, old, _):
                self.move(node_id, old)
            case DefinitionAdded(definition):
                self.remove_definition(definition.name)
            case DefinitionRemoved(definition, index):
                self.add_definition(definition, index)
            case DefinitionRenamed(old, new):
                self.rename_definition(new, old)
            case DefinitionPortsChanged(name, old, _):
                self.set_ports(name, old)
            case DefinitionExposed(name, exposed):
                self.unexpose(name, exposed.name)
            case DefinitionUnexposed(name, exposed, index, values):
                self.expose(name, exposed, index)
                self._give_back(values, exposed.name)
            case DefinitionEdited(name, inner):
                self.definitions[name].graph.revert(inner)

    def _restore(self, node: Node, index: int | None = None) -> None:
        """A node back as it was, under its own id and (given its old `index`) in its old place among the
        nodes, so Delete then Undo leaves the saved file as it was."""
        self.add_node(node.block, label=node.label, params=node.params, position=node.position, node_id=node.id)
        if index is not None:
            for later in list(self.nodes)[index:-1]:  # the nodes after its place move behind it, in order
                self.nodes[later] = self.nodes.pop(later)

    def move(self, node_id: str, position: tuple[float, float]) -> None:
        node = self.node(node_id)
        new = (float(position[0]), float(position[1]))
        if not (math.isfinite(new[0]) and math.isfinite(new[1])):
            raise GraphError(f"a position is two finite numbers, got {new!r}")
        if new == node.position:
            return
        old, node.position = node.position, new
        self._emit(NodeMoved(node_id, old, new))

    def set_param(self, node_id: str, name: str, value: Any) -> None:
        """Change one parameter. A value the block refuses raises InvalidParamError with the reason."""
        node = self.node(node_id)
        spec = self.block_spec(node.block)
        value = _validated(spec, node_id, name, value)
        old = node.params[name]
        if value == old:
            return
        if name == spec.variadic:
            kept = {p.name for p in spec.input_ports({**node.params, name: value})}
            lost = sorted(port for port in self._inputs[node_id] if port not in kept)
            if lost:
                raise PortInUseError(
                    f"{named(node)}: input {', '.join(lost)} is connected; disconnect it before lowering {name}"
                )
        node.params[name] = value
        if name == REPEAT and node.block in self.definitions:
            self._check_expanded_size(node_id, name, old, value)
        self._emit(ParamChanged(node_id, name, old, value))

    def _check_expanded_size(self, node_id: str, name: str, old: Any, value: Any) -> None:
        """Put `name` back and refuse when more copies make the project too big to save or check quickly."""
        size = expanded_size(self.definitions.top or self)
        if size > MAX_EXPANDED_NODES:
            self.nodes[node_id].params[name] = old
            raise GraphError(
                f"{named(self.nodes[node_id])}: {value:,} copies make the network {size:,} nodes once its blocks "
                f"are expanded, and a project holds at most {MAX_EXPANDED_NODES:,}: repeat it fewer times"
            )

    def _check_label(self, label: str) -> None:
        if not label.strip():
            raise InvalidLabelError("a label cannot be empty")
        problem = name_problem(label, "a label")
        if problem:
            raise InvalidLabelError(problem)
        if label in self._labels:
            raise LabelTakenError(f"the label {quoted(label)} is already used by another node")

    def _new_id(self) -> str:
        # A file may hold ids the counter never passed (n0042, or more digits than it counts): skip them.
        while f"n{self._next_id}" in self.nodes:
            self._next_id += 1
        return f"n{self._next_id}"

    def _bump_id(self, node_id: str) -> None:
        # An ASCII pattern, not str.isdigit: '²' is a digit to isdigit and not to int().
        counted = _COUNTED_ID.fullmatch(node_id)
        if counted:
            self._next_id = max(self._next_id, int(counted.group(1)) + 1)

    # ---- edges -----------------------------------------------------------------------------------------

    def connect(self, src: str, src_port: str, dst: str, dst_port: str) -> Edge:
        """Connect an output to an input, or refuse: unknown port, kind mismatch, occupied input, cycle."""
        edge = Edge(src, src_port, dst, dst_port)
        self.check_connection(edge)
        self._link(edge)
        self._emit(EdgeAdded(edge))
        return edge

    def connect_all(self, edges: Sequence[Edge]) -> None:
        """Connect `edges` in order, as one `connect` for each would, but look for cycles once for them all.

        `connect` searches the graph for a cycle at every edge, so a file listing a long chain from its end
        took minutes to load (20,000 nodes); here each edge is checked for everything but cycles as it is
        linked, and the whole graph is sorted once at the end. A refusal raises EdgeRefusedError with the
        index of the edge `connect` would have refused first, and leaves the graph as it was; on success
        each edge is told as an EdgeAdded, in order.
        """
        linked: list[Edge] = []
        try:
            for index, edge in enumerate(edges):
                try:
                    self._check_ports(edge)
                except GraphError as err:
                    # One connect at a time would have stopped at a cycle among the edges before this one.
                    raise self._first_cycle(linked) or EdgeRefusedError(index, err) from None
                self._link(edge)
                linked.append(edge)
            cycle = self._first_cycle(linked)
            if cycle:
                raise cycle
        except BaseException:
            for edge in reversed(linked):
                self._unlink(edge)
            raise
        for edge in linked:
            self._emit(EdgeAdded(edge))

    def _first_cycle(self, linked: list[Edge]) -> EdgeRefusedError | None:
        """With `linked` (the latest edges) in the graph, the refusal of the first of them that closes a
        cycle, or None: found by bisection over how many of them are kept, one sort per step."""
        if not linked or self._acyclic_after(linked):
            return None
        low, high = 0, len(linked)  # acyclic with `low` of them, cyclic with `high`
        while high - low > 1:
            middle = (low + high) // 2
            if self._is_acyclic(linked, middle):
                low = middle
            else:
                high = middle
        edge = linked[high - 1]
        return EdgeRefusedError(high - 1, self._cycle_error(edge))

    def _acyclic_after(self, linked: list[Edge]) -> bool:
        """Whether the graph, acyclic before `linked` were added, still is: a cycle now would pass through one of
        them, so every node on it is downstream of one's destination; sorted over that region alone (an edit's
        new edges reach a small part of a large graph)."""
        return self._sorts(self.downstream(edge.dst for edge in linked), frozenset())

    def _is_acyclic(self, linked: list[Edge], kept: int) -> bool:
        """Whether the graph without linked[kept:] has no cycle."""
        return self._sorts(self.nodes, set(linked[kept:]))

    def _sorts(self, nodes: Iterable[str], left_out: Set[Edge]) -> bool:
        """Kahn's algorithm over `nodes` (every edge out of them leads to one of them) without the edges
        `left_out`: whether they all come out, so no cycle runs among them."""
        waiting = dict.fromkeys(nodes, 0)
        for node_id in waiting:
            for edge in self._outputs[node_id]:
                if not left_out or edge not in left_out:
                    waiting[edge.dst] += 1
        ready = [node_id for node_id, count in waiting.items() if count == 0]
        done = 0
        while ready:
            node_id = ready.pop()
            done += 1
            for edge in self._outputs[node_id]:
                if not left_out or edge not in left_out:
                    waiting[edge.dst] -= 1
                    if waiting[edge.dst] == 0:
                        ready.append(edge.dst)
        return done == len(waiting)

    def check_connection(self, edge: Edge) -> None:
        """Raise the GraphError that `connect(edge)` would raise, without connecting (for live previews)."""
        self._check_ports(edge)
        if edge.src == edge.dst or self._reaches(edge.dst, edge.src):
            raise self._cycle_error(edge)

    def _cycle_error(self, edge: Edge) -> CycleError:
        source, target = named(self.node(edge.src)), named(self.node(edge.dst))
        return CycleError(f"connecting {source} to {target} would make a cycle: {target} already feeds {source}")

    def _check_ports(self, edge: Edge) -> None:
        """Everything `connect` checks but cycles: both ports exist, their kinds fit, the input is free."""
        source, target = self.node(edge.src), self.node(edge.dst)
        out_port = self.block_spec(source.block).output_port(edge.src_port)
        if out_port is None:
            raise UnknownPortError(f"{named(source)} has no output {quoted(edge.src_port)}")
        in_port = self.block_spec(target.block).input_port(edge.dst_port, target.params)
        if in_port is None:
            raise UnknownPortError(f"{named(target)} has no input {quoted(edge.dst_port)}")
        if out_port.kind not in in_port.accepts:
            raise PortKindError(
                f"{named(source)}.{edge.src_port} carries a {out_port.kind}, but {named(target)}.{edge.dst_port} "
                f"takes {' or '.join(sorted(in_port.accepts))}"
            )
        occupant = self._inputs[edge.dst].get(edge.dst_port)
        if occupant is not None:
            raise PortOccupiedError(
                f"{named(target)}.{edge.dst_port} is already fed by {named(self.nodes[occupant.src])}; "
                "an input takes one source (remove that edge first)"
            )
        owner = self.definitions.get(self.owner) if self.owner is not None else None
        inlet = next((i for i in owner.inlets if (edge.dst, edge.dst_port) in i.targets), None) if owner else None
        if inlet is not None:
            raise PortOccupiedError(
                f"{named(target)}.{edge.dst_port} is already fed by the block's input {quoted(inlet.name)}; "
                "an input takes one source"
            )

    def disconnect(self, edge: Edge) -> None:
        if self._inputs.get(edge.dst, {}).get(edge.dst_port) != edge:
            raise GraphError(f"no edge {edge}")
        self._unlink(edge)
        self._emit(EdgeRemoved(edge))

    def _link(self, edge: Edge) -> None:
        self._inputs[edge.dst][edge.dst_port] = edge
        self._outputs[edge.src].append(edge)

    def _unlink(self, edge: Edge) -> None:
        del self._inputs[edge.dst][edge.dst_port]
        self._outputs[edge.src].remove(edge)

    def _reaches(self, start: str, goal: str) -> bool:
        seen, stack = {start}, [start]
        while stack:
            for edge in self._outputs[stack.pop()]:
                if edge.dst == goal:
                    return True
                if edge.dst not in seen:
                    seen.add(edge.dst)
                    stack.append(edge.dst)
        return False

    # ---- bulk ------------------------------------------------------------------------------------------

    def downstream(self, node_ids: Iterable[str]) -> set[str]:
        """The given nodes and everything they feed, directly or not."""
        seen = set(node_ids)
        stack = list(seen)
        while stack:
            for edge in self._outputs[stack.pop()]:
                if edge.dst not in seen:
                    seen.add(edge.dst)
                    stack.append(edge.dst)
        return seen

    def upstream(self, node_ids: Iterable[str]) -> set[str]:
        """The given nodes and everything that feeds them, directly or not."""
        seen = set(node_ids)
        stack = list(seen)
        while stack:
            for edge in self._inputs[stack.pop()].values():
                if edge.src not in seen:
                    seen.add(edge.src)
                    stack.append(edge.src)
        return seen


def _validated(spec: BlockSpec, node_id: str, name: str, value: Any) -> Any:
    try:
        param = spec.param(name)
    except KeyError:
        raise InvalidParamError(node_id, name, f"{spec.type} has no parameter {quoted(name)}") from None
    try:
        return param.validate(value)
    except ParamError as err:
        raise InvalidParamError(node_id, name, str(err)) from None

"""Composite blocks: a definition is a graph of its own with named ports and parameters; every use is an instance.

A definition's inside is an ordinary Graph (sharing the project's definitions, so definitions nest). Its ports are
the inner inputs and outputs it lets through: an `Inlet` feeds one or more inner inputs (a residual block's input
feeds its first convolution and its skip), an `Outlet` is one inner output. An `Exposed` parameter sets one or
more inner parameters from the instance (a stage's width drives both of its convolutions); every inner parameter
not exposed keeps the definition's value. An instance is a Node whose block is the definition's name and whose
params are the exposed values, so everything that handles nodes handles instances; `Definition.spec` is the
BlockSpec the graph checks them by (ports, parameters), built from the definition as the catalogue's are built
by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from netbuilder.blocks import catalogue
from netbuilder.blocks.spec import MODEL, TENSOR, BlockSpec, ParamSpec, PortSpec

if TYPE_CHECKING:
    from netbuilder.graph.graph import Graph
    from netbuilder.graph.model import Node

CATEGORY = "This project"
REPEAT = "repeat"
"""The parameter of a one-input, one-output composite that chains copies of it (Repeat x N)."""
MAX_REPEAT = 1000


@dataclass(frozen=True)
class Inlet:
    """An input port of a composite and the inner inputs (node id, port) it feeds."""

    name: str
    targets: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Outlet:
    """An output port of a composite: the inner node's output port it passes out."""

    name: str
    node: str
    port: str


@dataclass(frozen=True)
class Exposed:
    """A parameter of a composite and the inner parameters (node id, parameter) it sets. Its default is the
    first target's value inside the definition."""

    name: str
    targets: tuple[tuple[str, str], ...]


Ports = tuple[tuple[Inlet, ...], tuple[Outlet, ...], tuple[Exposed, ...]]
"""A definition's inlets, outlets and exposed parameters, together."""


@dataclass(eq=False)
class Definition:
    """A composite block: its name (the block type of its instances), its inside and its ports and parameters."""

    name: str
    graph: Graph
    inlets: tuple[Inlet, ...]
    outlets: tuple[Outlet, ...]
    exposed: tuple[Exposed, ...] = ()
    doc: str = ""
    _spec: BlockSpec | None = field(default=None, repr=False)

    def spec(self) -> BlockSpec:
        """The BlockSpec of its instances: its ports, its exposed parameters (typed as the inner parameter they
        set, defaulting to its value inside), category "This project"."""
        if self._spec is None:
            self._spec = BlockSpec(
                type=self.name,
                category=CATEGORY,
                doc=self.doc or f"{self.name}: a block of this project made of {len(self.graph.nodes)} blocks.",
                role=MODEL,
                params=tuple(self._param_spec(e) for e in self.exposed) + self._repeat_spec(),
                inputs=tuple(PortSpec(i.name, TENSOR, frozenset({TENSOR})) for i in self.inlets),
                outputs=tuple(PortSpec(o.name, TENSOR) for o in self.outlets),
                label_prefix=_label_stem(self.name),
            )
        return self._spec

    @property
    def ports(self) -> Ports:
        return self.inlets, self.outlets, self.exposed

    def forget_spec(self) -> None:
        """Drop the cached spec (its ports or parameters changed)."""
        self._spec = None

    def _repeat_spec(self) -> tuple[ParamSpec, ...]:
        """A block with one input and one output can run as a chain of copies (N layers of a transformer)."""
        if len(self.inlets) != 1 or len(self.outlets) != 1 or any(e.name == REPEAT for e in self.exposed):
            return ()
        return (
            ParamSpec(
                REPEAT,
                "int",
                1,
                "How many copies of this block run in a chain, each feeding the next.",
                min=1,
                max=MAX_REPEAT,
            ),
        )

    def _param_spec(self, exposed: Exposed) -> ParamSpec:
        node_id, param = exposed.targets[0]
        inner = self.graph.nodes[node_id]
        template = self.graph.block_spec(inner.block).param(param)
        return replace(template, name=exposed.name, default=inner.params[param], when=None)

    def inner_values(self, params: dict[str, object]) -> dict[str, dict[str, object]]:
        """Inner node id -> the parameters it takes for an instance with `params` (the exposed values)."""
        values = {node_id: dict(node.params) for node_id, node in self.graph.nodes.items()}
        for exposed in self.exposed:
            if exposed.name in params:
                for node_id, param in exposed.targets:
                    values[node_id][param] = params[exposed.name]
        return values

    def uses(self) -> Iterator[str]:
        """The definitions it uses directly, in the order of its nodes."""
        for node in self.graph.nodes.values():
            if node.block in self.graph.definitions:
                yield node.block


class Definitions:
    """The definitions of one project, by name, shared by its top graph and every definition's inside."""

    def __init__(self) -> None:
        self._by_name: dict[str, Definition] = {}
        self.top: Graph | None = None
        """The project's top graph, which adds and removes definitions (and tells of their edits)."""

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[Definition]:
        return iter(list(self._by_name.values()))

    def __len__(self) -> int:
        return len(self._by_name)

    def __getitem__(self, name: str) -> Definition:
        return self._by_name[name]

    def get(self, name: str) -> Definition | None:
        return self._by_name.get(name)

    def spec(self, block: str) -> BlockSpec:
        """The spec of `block`: a definition's, else the catalogue's (UnknownBlockError for neither)."""
        definition = self._by_name.get(block)
        return definition.spec() if definition is not None else catalogue.get(block)

    def add(self, definition: Definition, index: int | None = None) -> None:
        self._by_name[definition.name] = definition
        if index is not None:
            for later in list(self._by_name)[index:-1]:
                self._by_name[later] = self._by_name.pop(later)

    def rename(self, old: str, new: str) -> None:
        """Call definition `old` `new`, keeping its place (the graph retargets its instances)."""
        names = list(self._by_name)
        definition = self._by_name[old]
        definition.name = new
        definition.forget_spec()
        self._by_name = {new if n == old else n: self._by_name[n] for n in names}

    def remove(self, name: str) -> int:
        """Remove `name`; returns the place it had (undo puts it back there)."""
        index = list(self._by_name).index(name)
        del self._by_name[name]
        return index

    def reaches(self, start: str, goal: str) -> bool:
        """Whether definition `start` is `goal` or uses it, directly or inside another (a definition may not
        contain itself)."""
        seen, stack = set(), [start]
        while stack:
            name = stack.pop()
            if name == goal:
                return True
            definition = self._by_name.get(name)
            if definition is not None and name not in seen:
                seen.add(name)
                stack.extend(definition.uses())
        return False

    def in_dependency_order(self) -> list[Definition]:
        """Every definition after the ones it uses (codegen writes classes in this order)."""
        done: dict[str, Definition] = {}

        def visit(definition: Definition) -> None:
            if definition.name in done:
                return
            for used in definition.uses():
                visit(self._by_name[used])
            done[definition.name] = definition

        for definition in self._by_name.values():
            visit(definition)
        return list(done.values())


def expanded(graph: Graph, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Node]]:
    """Every catalogue block the network is made of, as it runs: each instance's inside in its place (once per
    use, and per copy of a repeated one, numbered as torch numbers them), with the path of labels that leads to
    it (("layer1", "0", "conv1"), Node)."""
    for node in graph.nodes.values():
        definition = graph.definitions.get(node.block)
        if definition is None:
            yield (*path, node.label), node
        elif node.params.get(REPEAT, 1) == 1:
            yield from expanded(definition.graph, (*path, node.label))
        else:
            for number in range(node.params[REPEAT]):
                yield from expanded(definition.graph, (*path, node.label, str(number)))


def expanded_size(graph: Graph) -> int:
    """How many nodes `graph` is with every composite instance expanded (once per copy of a repeated one)."""
    definitions = graph.definitions
    sizes: dict[str, int] = {}

    def size(inside: Graph) -> int:
        total = 0
        for node in inside.nodes.values():
            total += 1
            definition = definitions.get(node.block)
            if definition is not None:
                if definition.name not in sizes:
                    sizes[definition.name] = size(definition.graph)
                total += node.params.get(REPEAT, 1) * sizes[definition.name]
        return total

    return size(graph)


def _label_stem(name: str) -> str:
    """A new instance's label stem: the name in lower case with runs of other characters as '_' (block1 ...)."""
    stem = "".join(c.lower() if c.isalnum() else "_" for c in name).strip("_")
    return stem or "block"

"""What the graph tells its listeners after each change. Small immutable records, one per kind of change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from netbuilder.graph.model import Edge, Node

if TYPE_CHECKING:
    from netbuilder.graph.definitions import Definition, Exposed, Ports


@dataclass(frozen=True)
class NodeAdded:
    node: Node


@dataclass(frozen=True)
class NodeRemoved:
    """`node` left the graph from place `index` of its nodes (undo puts it back there: the file's order)."""

    node: Node
    index: int


@dataclass(frozen=True)
class EdgeAdded:
    edge: Edge


@dataclass(frozen=True)
class EdgeRemoved:
    edge: Edge


@dataclass(frozen=True)
class ParamChanged:
    node_id: str
    name: str
    old: Any
    new: Any


@dataclass(frozen=True)
class NodeRenamed:
    node_id: str
    old: str
    new: str


@dataclass(frozen=True)
class NodeMoved:
    node_id: str
    old: tuple[float, float]
    new: tuple[float, float]


@dataclass(frozen=True)
class DefinitionAdded:
    """A composite definition joined the project, at place `index` of its definitions."""

    definition: Definition
    index: int


@dataclass(frozen=True)
class DefinitionRemoved:
    """A composite definition left the project from place `index` (undo puts it back there)."""

    definition: Definition
    index: int


@dataclass(frozen=True)
class DefinitionRenamed:
    """Definition `old` is now called `new`, and so is the block of each of its instances."""

    old: str
    new: str


@dataclass(frozen=True)
class DefinitionExposed:
    """Definition `name` gained exposed parameter `exposed` at place `index`; its instances take its default."""

    name: str
    exposed: Exposed
    index: int


@dataclass(frozen=True)
class DefinitionUnexposed:
    """Definition `name` lost exposed parameter `exposed` from place `index`; `values` keeps what each instance
    had ((the definition holding it or None for the top graph, node id, value)), so undo gives them back."""

    name: str
    exposed: Exposed
    index: int
    values: tuple[tuple[str | None, str, Any], ...]


@dataclass(frozen=True)
class DefinitionPortsChanged:
    """What definition `name`'s inlets, outlets and exposed parameters lead to inside went from `old` to `new`
    (a Group or Ungroup inside it moved the inner ports they named); their names, so its instances, stay."""

    name: str
    old: Ports
    new: Ports


@dataclass(frozen=True)
class DefinitionEdited:
    """The inside of definition `name` changed by `event` (every instance of it changes with it)."""

    name: str
    event: GraphEvent


GraphEvent = (
    NodeAdded
    | NodeRemoved
    | EdgeAdded
    | EdgeRemoved
    | ParamChanged
    | NodeRenamed
    | NodeMoved
    | DefinitionAdded
    | DefinitionRemoved
    | DefinitionRenamed
    | DefinitionPortsChanged
    | DefinitionExposed
    | DefinitionUnexposed
    | DefinitionEdited
)

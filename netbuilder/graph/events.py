"""What the graph tells its listeners after each change. Small immutable records, one per kind of change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from netbuilder.graph.model import Edge, Node


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


GraphEvent = NodeAdded | NodeRemoved | EdgeAdded | EdgeRemoved | ParamChanged | NodeRenamed | NodeMoved

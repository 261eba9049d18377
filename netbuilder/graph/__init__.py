"""The document model: Graph, Node, Edge, their events and typed errors. Pure Python."""

from netbuilder.graph.errors import (
    CycleError,
    GraphError,
    InvalidParamError,
    LabelTakenError,
    NodeNotFoundError,
    PortInUseError,
    PortKindError,
    PortOccupiedError,
    UnknownPortError,
)
from netbuilder.graph.graph import Graph
from netbuilder.graph.model import Edge, Node

__all__ = [
    "CycleError",
    "Edge",
    "Graph",
    "GraphError",
    "InvalidParamError",
    "LabelTakenError",
    "Node",
    "NodeNotFoundError",
    "PortInUseError",
    "PortKindError",
    "PortOccupiedError",
    "UnknownPortError",
]

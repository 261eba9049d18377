"""The document model: Graph, Node, Edge, their events and typed errors. Pure Python."""

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
)
from netbuilder.graph.graph import Graph
from netbuilder.graph.model import Edge, Node

__all__ = [
    "CycleError",
    "Edge",
    "EdgeRefusedError",
    "Graph",
    "GraphError",
    "InvalidIdError",
    "InvalidLabelError",
    "InvalidParamError",
    "LabelTakenError",
    "Node",
    "NodeNotFoundError",
    "PortInUseError",
    "PortKindError",
    "PortOccupiedError",
    "TooManyNodesError",
    "UnknownPortError",
]

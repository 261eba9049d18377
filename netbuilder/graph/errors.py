"""Typed refusals from the graph: each says in plain words why an edit cannot be made."""

from __future__ import annotations


class GraphError(Exception):
    """An edit the graph refuses; the message is fit for a status bar."""


class NodeNotFoundError(GraphError):
    pass


class UnknownPortError(GraphError):
    pass


class PortKindError(GraphError):
    """Connecting ports whose kinds do not fit (a target into a layer, a loss into a loss ...)."""


class PortOccupiedError(GraphError):
    """An input port already has its one source."""


class CycleError(GraphError):
    """The edge would make the data flow in a circle."""


class LabelTakenError(GraphError):
    pass


class InvalidParamError(GraphError):
    """A parameter value the block refuses; `node`, `param` and `reason` say which and why."""

    def __init__(self, node: str, param: str, reason: str) -> None:
        super().__init__(f"{param}: {reason}")
        self.node = node
        self.param = param
        self.reason = reason


class PortInUseError(GraphError):
    """A parameter change would remove an input port that still has an edge."""

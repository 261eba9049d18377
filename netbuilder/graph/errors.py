"""Typed refusals from the graph: each says in plain words why an edit cannot be made."""

from __future__ import annotations

from typing import TYPE_CHECKING

from netbuilder.quoting import QUOTE_CHARS, cut, quoted

if TYPE_CHECKING:
    from netbuilder.graph.model import Node


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
        # A name the block does not have may be anything a file holds: quoted, and only its start.
        shown = param if param.isidentifier() and len(param) <= QUOTE_CHARS else quoted(param)
        super().__init__(f"{shown}: {reason}")
        self.node = node
        self.param = param
        self.reason = reason


class PortInUseError(GraphError):
    """A parameter change would remove an input port that still has an edge."""


class InvalidIdError(GraphError):
    """A node id outside the pattern every id follows (`graph.limits.ID_PATTERN`)."""


class InvalidLabelError(GraphError):
    """A label that is empty, too long, or holds a character no file can save."""


class TooManyNodesError(GraphError):
    """One node more than a graph may hold (`graph.limits.MAX_NODES`)."""


class EdgeRefusedError(GraphError):
    """One edge of `Graph.connect_all` refused: `index` is its place in the list, `error` why (the error
    `connect` would have raised for it), and the message is that error's."""

    def __init__(self, index: int, error: GraphError) -> None:
        super().__init__(str(error))
        self.index = index
        self.error = error


def named(node: Node) -> str:
    """A node as a refusal names it: its label on one line, cut to a short prefix (a label may hold a line
    break or be 256 characters long; a status bar shows one short line)."""
    return cut(" ".join(node.label.split()))

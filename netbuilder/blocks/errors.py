"""Errors a block's rules raise. Analysis turns them into Diagnostics; none reaches a user as a traceback."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class ParamError(ValueError):
    """A parameter value outside what the block accepts: the message says what was expected."""


@dataclass(frozen=True)
class InsertBefore:
    """Suggest inserting a block of type `block` on the edge that feeds input `port` of the failing node."""

    port: str
    block: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SetOwnParam:
    """Suggest setting a parameter of the failing node (None: back to auto)."""

    param: str
    value: Any


@dataclass(frozen=True)
class SetProducerSize:
    """Suggest that the node feeding `port` produce `size` features (its spec's `size_param`)."""

    port: str
    size: int


@dataclass(frozen=True)
class BypassProducer:
    """Suggest removing the node feeding `port` (of type `block`) and wiring around it."""

    port: str
    block: str


@dataclass(frozen=True)
class ReplaceOwnBlock:
    """Suggest putting a block of type `block` in the failing node's place (BatchNorm2d for a BatchNorm1d fed
    images): same wiring, the parameters both blocks have."""

    block: str


Hint = InsertBefore | SetOwnParam | SetProducerSize | BypassProducer | ReplaceOwnBlock


class ShapeError(Exception):
    """The inputs a node receives (or its parameters, given those inputs) cannot work.

    `message` is plain words a person reads next to the node; `port` and `param` point at the culprit; `hint`
    is a fix as data, relative to the node, which analysis turns into a concrete Fix.
    """

    def __init__(
        self,
        message: str,
        *,
        port: str | None = None,
        param: str | None = None,
        hint: Hint | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.port = port
        self.param = param
        self.hint = hint

"""Nodes and edges: the plain records the Graph holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Edge:
    """A connection from an output port to an input port. An input port has at most one edge."""

    src: str
    src_port: str
    dst: str
    dst_port: str

    def __str__(self) -> str:
        return f"{self.src}.{self.src_port} -> {self.dst}.{self.dst_port}"


@dataclass(slots=True)
class Node:
    """One block placed on the canvas. Only the Graph mutates it; everyone else reads."""

    id: str
    block: str
    label: str
    params: dict[str, Any] = field(default_factory=dict)
    position: tuple[float, float] = (0.0, 0.0)

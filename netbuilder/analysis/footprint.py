"""How much of the canvas a node takes: the one rule that the canvas draws by and that layout and placement
keep free space by (a node is as wide as its title row and as tall as its longest column of ports)."""

from __future__ import annotations

from netbuilder.graph import Graph

NODE_WIDTH = 168.0
HEADER = 44.0  # the title and block-type lines
PORT_ROW = 22.0  # one named port
BOTTOM = 6.0


def node_height(port_rows: int) -> float:
    """The height of a node whose longer port column has `port_rows` ports (at least one row)."""
    return HEADER + max(port_rows, 1) * PORT_ROW + BOTTOM


def footprint(graph: Graph, node_id: str) -> tuple[float, float]:
    """The width and height of `node_id` on the canvas, its position being the top-left corner."""
    node = graph.nodes[node_id]
    spec = graph.spec(node_id)
    return NODE_WIDTH, node_height(max(len(spec.input_ports(node.params)), len(spec.outputs)))

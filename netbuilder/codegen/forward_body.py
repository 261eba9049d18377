"""The statements of a forward(): the model's, or a composite class's. One writer for both, so a block inside a
composite reads exactly as it would at the top.

Statements follow the analysis order, each line carries its shape, a value used once by the very next statement
flows through `x`, and every other value keeps a name (its submodule's attribute). A learned tensor (Parameter)
takes no statement: its attribute is the value (`x = x + self.pos_embedding`).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

from netbuilder.analysis.node_check import NodeResult
from netbuilder.blocks.spec import ForwardContext
from netbuilder.blocks.tensor_type import format_shape
from netbuilder.codegen.render import forward_lines
from netbuilder.graph import Graph

CHAIN = "x"


Statements = list[tuple[str, str]]
"""forward()'s statements, each with the shape it makes ("" for none)."""


def forward_body(
    graph: Graph,
    layers: list[str],
    values: dict[tuple[str, str], str],
    fed: Mapping[tuple[str, str], str],
    attributes: Mapping[str, str],
    results: Mapping[str, NodeResult],
    returned: list[tuple[str, str]],
) -> Statements:
    """Statements computing `layers` (in order) from `values` (the variables already known, by node and output
    port) and `fed` (inner inputs a composite's arguments feed, by node and input port), returning `returned`."""
    learned = {n for n in layers if graph.spec(n).tensor is not None}
    chained = _chained(graph, [n for n in layers if n not in learned], returned)
    body: list[tuple[str, str]] = []
    for node_id in layers:
        spec = graph.spec(node_id)
        result = results[node_id]
        attr = attributes[node_id]
        if node_id in learned:
            values[(node_id, spec.outputs[0].name)] = f"self.{attr}"
            continue
        args = {port: values[(e.src, e.src_port)] for port, e in graph.inputs_of(node_id).items()}
        args |= {port: variable for (node, port), variable in fed.items() if node == node_id}
        outs = [port.name for port in spec.outputs]
        if graph.definition_of(node_id) is not None:
            names = [CHAIN if node_id in chained else attr] if len(outs) == 1 else [f"{attr}_{o}" for o in outs]
            ordered = ", ".join(args[port.name] for port in spec.input_ports(result.resolved))
            lines = [f"{', '.join(names)} = self.{attr}({ordered})"]
            shapes = ", ".join(format_shape(result.outputs[o].shape) for o in outs)
            body.append((lines[0], shapes))
            values.update(zip(((node_id, o) for o in outs), names, strict=True))
            continue
        out = CHAIN if node_id in chained else attr
        ctx = ForwardContext(result.resolved, f"self.{attr}", args, out, dict(result.inputs))
        lines = forward_lines(spec, ctx)
        shape = format_shape(result.outputs[outs[0]].shape)
        body += [(line, "") for line in lines[:-1]] + [(lines[-1], shape)]
        values[(node_id, outs[0])] = out
    names = [values[r] for r in returned]
    if len(names) == 1 and body and body[-1][0].startswith(f"{names[0]} = "):
        statement, shape = body.pop()
        body.append(("return " + statement.split(" = ", 1)[1], shape))
    else:
        body.append(("return " + ", ".join(names), ""))
    return body


def _chained(graph: Graph, layers: list[str], returned: list[tuple[str, str]]) -> set[str]:
    """Layers whose single use is by the very next statement: their value can flow through `x`."""
    returning = {node for node, _ in returned}
    chained: set[str] = set()
    for here, after in itertools.pairwise(layers):
        consumers = graph.outputs_of(here)
        if len(consumers) == 1 and consumers[0].dst == after and here not in returning:
            chained.add(here)
    if layers and len(returned) == 1 and layers[-1] in returning:
        chained.add(layers[-1])
    return {n for n in chained if len(graph.spec(n).outputs) == 1}


def render_lines(body: Statements, indent: str = "        ", column: int = 48) -> list[str]:
    """The statements as source lines, shape comments aligned in one column."""
    width = min(max((len(s) for s, c in body if c), default=0), column)
    lines = []
    for statement, shape in body:
        comment = f"  # {shape}" if shape else ""
        lines.append(f"{indent}{statement.ljust(width) if shape else statement}{comment}".rstrip())
    return lines

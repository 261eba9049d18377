"""Graph -> model.py: one nn.Module class that reads like a careful person wrote it (see STYLE.md).

Submodules are named after node labels; forward() is written by codegen.forward_body; each composite definition
the model uses becomes a class before the model's (codegen.composite_code).
"""

from __future__ import annotations

from dataclasses import dataclass

from netbuilder.analysis import Analysis
from netbuilder.blocks.spec import DATA, LOSS_ROLE
from netbuilder.blocks.tensor_type import TensorType, format_shape
from netbuilder.codegen.composite_code import CompositeCodeError, Composites
from netbuilder.codegen.forward_body import Statements, forward_body, render_lines
from netbuilder.codegen.identifiers import Namer, class_name, safe_text
from netbuilder.codegen.init_weights import init_call, init_method
from netbuilder.codegen.line_wrap import docstring_opening, wrapped
from netbuilder.graph import Graph

COMMENT_COLUMN = 48


class CodegenError(Exception):
    """The graph cannot become code yet; the message says what to fix first."""


@dataclass(frozen=True)
class ModelInput:
    """A forward() argument: which data node and port feed it, and its type."""

    name: str
    node: str
    port: str
    type: TensorType


@dataclass(frozen=True)
class ModelOutput:
    """A value forward() returns: the node and port that produce it, and its type."""

    node: str
    port: str
    type: TensorType


@dataclass(frozen=True)
class ModelCode:
    """The generated module's source and what a training script needs to call it."""

    source: str
    class_name: str
    inputs: tuple[ModelInput, ...]
    outputs: tuple[ModelOutput, ...]
    attributes: dict[str, str]
    """Submodule attribute name per node id (for mapping errors and weights back to labels)."""
    library: tuple[str, ...] = ()
    """The qualified names of the library classes it builds (LibraryModule), which model.py imports."""


def generate_model(
    graph: Graph, analysis: Analysis, *, name: str = "Model", source: str = "", model_class: str = ""
) -> ModelCode:
    """The model module for `graph`, its class named `model_class` or else after `name`. Raises CodegenError
    while the model part has errors."""
    outputs = _model_outputs(graph, analysis)
    if not outputs:
        raise CodegenError("the model has no output: connect the data through at least one layer")
    members = graph.upstream(o.node for o in outputs)
    order = [n for n in analysis.order if n in members]
    # name the nodes with errors; those merely downstream of one have no shapes but nothing to fix (a dataset's
    # missing files stop training, not the model)
    broken = [
        graph.nodes[n].label for n in order if any(d.is_error and not d.training_only for d in analysis.for_node(n))
    ]
    broken = broken or [graph.nodes[n].label for n in order if not analysis.results[n].outputs]
    if broken:
        raise CodegenError("fix the problems at " + ", ".join(broken) + " first")
    cls = model_class or class_name(name)
    try:
        composites = Composites(graph, order, analysis.results, {cls})
    except CompositeCodeError as err:
        raise CodegenError(str(err)) from None
    namer = Namer()
    data_nodes = [n for n in order if graph.spec(n).role == DATA]
    inputs: list[ModelInput] = []
    values: dict[tuple[str, str], str] = {}
    for node_id in data_nodes:
        for edge_port in _used_ports(graph, node_id, members):
            arg = namer.take(graph.nodes[node_id].label, "inputs")
            t = analysis.output_type(node_id, edge_port)
            inputs.append(ModelInput(arg, node_id, edge_port, t))
            values[(node_id, edge_port)] = arg
    layers = [n for n in order if n not in data_nodes]
    attributes = {n: namer.take(graph.nodes[n].label, "layer") for n in layers}
    init_lines = []
    for node_id in layers:
        expr = composites.model_expr(graph, node_id, analysis.results[node_id])
        if expr is not None:
            init_lines.append(f"self.{attributes[node_id]} = {expr}")
    try:
        starts = [
            line
            for node_id in layers
            for line in composites.init_lines(
                graph, node_id, [analysis.results[node_id]], f"self.{attributes[node_id]}"
            )
        ]
    except CompositeCodeError as err:
        raise CodegenError(str(err)) from None
    returned = [(o.node, o.port) for o in outputs]
    body = forward_body(graph, layers, values, {}, attributes, analysis.results, returned)
    imports = composites.imports()
    return ModelCode(
        source=_module_source(
            cls, name, source, inputs, outputs, imports, composites.sources(), init_lines, starts, body
        ),
        class_name=cls,
        inputs=tuple(inputs),
        outputs=tuple(outputs),
        attributes=attributes,
        library=tuple(composites.library_classes()),
    )


def _model_outputs(graph: Graph, analysis: Analysis) -> list[ModelOutput]:
    """What forward() returns: the loss inputs where there is a loss, else every unconsumed layer output."""
    model = set(analysis.model_nodes)
    found: list[ModelOutput] = []
    losses = [n for n in analysis.order if graph.spec(n).role == LOSS_ROLE]
    for loss in losses:
        edge = graph.inputs_of(loss).get("input")
        if edge is not None and edge.src in model:
            found.append(ModelOutput(edge.src, edge.src_port, analysis.edge_type(edge)))
    if losses:
        return _unique(found)
    for node_id in analysis.order:
        if node_id in model and not any(e.dst in model for e in graph.outputs_of(node_id)):
            port = graph.spec(node_id).outputs[0].name
            found.append(ModelOutput(node_id, port, analysis.output_type(node_id, port)))
    return found


def _unique(outputs: list[ModelOutput]) -> list[ModelOutput]:
    seen: set[tuple[str, str]] = set()
    return [o for o in outputs if not ((o.node, o.port) in seen or seen.add((o.node, o.port)))]


def _used_ports(graph: Graph, node_id: str, members: set[str]) -> list[str]:
    ports: list[str] = []
    for edge in graph.outputs_of(node_id):
        if edge.dst in members and edge.src_port not in ports:
            ports.append(edge.src_port)
    return ports


def _module_source(
    cls: str,
    name: str,
    source: str,
    inputs: list[ModelInput],
    outputs: list[ModelOutput],
    imports: list[str],
    classes: list[str],
    init_lines: list[str],
    starts: list[str],
    body: Statements,
) -> str:
    origin = f" from {safe_text(source)}" if source else ""
    shapes = ", ".join(format_shape(i.type.shape) for i in inputs)
    signature = ", ".join(f"{i.name}: torch.Tensor" for i in inputs)
    returns = "torch.Tensor" if len(outputs) == 1 else "tuple[" + ", ".join(["torch.Tensor"] * len(outputs)) + "]"
    lines = [
        docstring_opening(f'{safe_text(name)}: a PyTorch model generated by netbuilder{origin}."""'),
        "",
        "import torch",
        "from torch import nn",
        *imports,
        *classes,
        "",
        "",
        f"class {cls}(nn.Module):",
        docstring_opening(f'Generated by netbuilder{origin}. Input: {shapes}."""', indent="    "),
        "",
        "    def __init__(self) -> None:",
        "        super().__init__()",
        *(part for line in init_lines for part in wrapped(f"        {line}")),
        *(f"        {line}" for line in init_call(starts)),
        *init_method(starts),
        "",
        f"    def forward(self, {signature}) -> {returns}:",
    ]
    lines += render_lines(body, column=COMMENT_COLUMN)
    return "\n".join(lines) + "\n"

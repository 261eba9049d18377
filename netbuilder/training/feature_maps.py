"""What one node of a trained network gives for one sample: its output (a feature map), for the Predict tab.

Every node is captured the same way, whether it has a module of its own (a convolution, a block's instance) or
is computed in forward() without one (Add, Concat, a reshape): codegen writes the statements of the model's
forward() up to that node and returns the node's own variable (`forward_body`, the writer of forward() itself,
so the statements are the model's), and they run on the run's network with its weights. A forward hook on a
node's module would give what the module returns, which is not always the node's value (an LSTM's module
returns a tuple, of which the node gives the first), and would miss the nodes that have none.

The output comes back as plain numpy in the form the window draws: an image-like output as channels (C, H, W)
(the first MAX_CHANNELS of them), a sequence as (steps, features), anything else as a vector of its values.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod
from pathlib import Path
from typing import Any

import numpy
import torch

from netbuilder.analysis import Analysis, analyze
from netbuilder.blocks.spec import DATA, LOSS_ROLE
from netbuilder.codegen.forward_body import forward_body, render_lines
from netbuilder.codegen.model_code import CodegenError, generate_model
from netbuilder.data.loading import DataLoadError
from netbuilder.graph import Graph
from netbuilder.project import Project
from netbuilder.training.predict import PredictError, Predictor

IMAGE = "image"
SEQUENCE = "sequence"
VECTOR = "vector"
MAX_CHANNELS = 64  # of an image-like output, drawn as a grid; the others are counted, not drawn


class FeatureMapError(Exception):
    """The node has no output for a sample (a loss, the dataset, a node the run's network lacks); the message
    says why in plain words."""


@dataclass(frozen=True)
class FeatureMap:
    """A node's output for one sample. `shape` is the whole output without the batch dimension; `values` is it
    as drawn: (channels, H, W) for an image-like output (the first MAX_CHANNELS of `channels`), (steps,
    features) for a sequence, (values,) for a vector. `outputs` counts the node's outputs (the first is shown)."""

    node: str
    shape: tuple[int, ...]
    kind: str
    values: numpy.ndarray
    channels: int = 0
    outputs: int = 1


def drawn_form(node: str, output: torch.Tensor, *, outputs: int = 1) -> FeatureMap:
    """One sample's output (no batch dimension) as a FeatureMap: three or more dimensions are channels of the
    last two (leading ones flattened) unless those are 1 by 1 (a pooled map: a vector), two a sequence, fewer
    a vector."""
    shape = tuple(int(d) for d in output.shape)
    values = output.detach().float().cpu()
    if values.dim() >= 3 and prod(shape[-2:]) > 1:
        planes = values.reshape(-1, *shape[-2:])
        channels = len(planes)
        return FeatureMap(node, shape, IMAGE, planes[:MAX_CHANNELS].numpy(), channels, outputs)
    if values.dim() == 2:
        return FeatureMap(node, shape, SEQUENCE, values.numpy(), outputs=outputs)
    return FeatureMap(node, shape, VECTOR, values.reshape(-1).numpy(), outputs=outputs)


class FeatureMaps:
    """A run's trained network, able to give any node's output for one of its validation samples. Build it
    with `load`; `capture` answers. Each node's statements are written and compiled once, when first asked."""

    def __init__(self, predictor: Predictor, graph: Graph, analysis: Analysis) -> None:
        self.predictor = predictor
        self.graph = graph
        self.analysis = analysis
        try:
            code = generate_model(graph, analysis)
        except CodegenError as err:
            raise PredictError(str(err)) from None
        self._inputs = code.inputs
        self._attributes = code.attributes
        self._functions: dict[str, Any] = {}

    @classmethod
    def load(cls, project: Project, weights_path: Path, *, device: str = "cpu") -> FeatureMaps:
        """The run's network with its weights and its validation part; PredictError says what is wrong."""
        predictor = Predictor.load(project, weights_path, device=device)
        return cls(predictor, project.graph, analyze(project.graph))

    def capture(self, sample: int, node: str) -> FeatureMap:
        """Node `node`'s output for validation sample `sample`. FeatureMapError says why it has none."""
        if not 0 <= sample < len(self.predictor):
            raise IndexError(f"validation samples are numbered 0 to {len(self.predictor) - 1}")
        try:
            x = self.predictor.validation.take([sample])[0]
        except DataLoadError as err:
            raise PredictError(str(err)) from None
        return self.capture_input(x, node)

    def capture_input(self, x: torch.Tensor, node: str) -> FeatureMap:
        """Node `node`'s output for the batch `x` (as the network takes it) of one sample."""
        function = self._function(node)
        ports = len(self.graph.spec(node).outputs)
        with torch.no_grad():
            values = function(self.predictor.model, x.to(self.predictor.device))
        first = values[0] if ports > 1 else values
        batched = self.analysis.output_type(node, self.graph.spec(node).outputs[0].name).batched
        return drawn_form(node, first[0] if batched else first, outputs=ports)

    def _function(self, node: str) -> Any:
        """forward() up to `node`, returning its outputs, as a function of (model, *inputs)."""
        if node not in self._functions:
            self._functions[node] = self._compiled(node)
        return self._functions[node]

    def _compiled(self, node: str) -> Any:
        graph = self.graph
        if node not in graph.nodes:
            raise FeatureMapError("this node is not in the network of the run: train again to see its output")
        role = graph.spec(node).role
        if role == DATA:
            raise FeatureMapError("the dataset gives the samples themselves: the chosen one is drawn on the left")
        if role == LOSS_ROLE:
            raise FeatureMapError(
                "a loss gives nothing for one sample: it compares the network's output with the true answer "
                "while training"
            )
        if node not in self._attributes:
            raise FeatureMapError("this node is not part of the network that predicts: it gives nothing for a sample")
        needed = graph.upstream([node])
        layers = [n for n in self.analysis.order if n in needed and n in self._attributes]
        values = {(i.node, i.port): i.name for i in self._inputs}
        returned = [(node, port.name) for port in graph.spec(node).outputs]
        body = forward_body(graph, layers, values, {}, self._attributes, self.analysis.results, returned)
        arguments = ", ".join(i.name for i in self._inputs)
        source = "\n".join([f"def node_output(self, {arguments}):", *render_lines(body, indent="    ")])
        # the model module's names (torch, nn, the composite classes) are the statements' names
        namespace = dict(type(self.predictor.model).forward.__globals__)
        exec(compile(source, f"<netbuilder output of {graph.nodes[node].label}>", "exec"), namespace)
        return namespace["node_output"]

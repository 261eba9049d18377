"""What one node of a trained network gives for one sample: its output (a feature map), for the Predict tab.

Every node is captured the same way, whether it has a module of its own (a convolution, a block's instance) or
is computed in forward() without one (Add, Concat, a reshape): codegen writes the statements of the model's
forward() up to that node and returns the node's own variable (`forward_body`, the writer of forward() itself,
so the statements are the model's), and they run on the run's network with its weights. A node inside a
block is reached the same way one level down: a forward pre-hook keeps what the block's instance is called
with, and the statements of its class's forward() run on that instance. A forward hook on a
node's module would give what the module returns, which is not always the node's value (an LSTM's module
returns a tuple, of which the node gives the first), and would miss the nodes that have none.

The output comes back as plain numpy in the form the window draws: an image-like output as channels (C, H, W)
(the first MAX_CHANNELS of them), a sequence as (steps, features), anything else as a vector of its values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from math import prod
from pathlib import Path
from typing import Any

import numpy
import torch
from torch import nn

from netbuilder.analysis import Analysis, analyze, topological_order
from netbuilder.analysis.node_check import NodeResult
from netbuilder.blocks.spec import DATA, LOSS_ROLE
from netbuilder.codegen.forward_body import forward_body, render_lines
from netbuilder.codegen.identifiers import Namer
from netbuilder.codegen.model_code import CodegenError, generate_model
from netbuilder.data.loading import DataLoadError
from netbuilder.graph import Graph
from netbuilder.graph.definitions import Definition
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
    path: tuple[str, ...] = ()
    """The node ids from the top graph down to the node whose output this is (see FeatureMaps.capture)."""


def drawn_form(node: str, output: torch.Tensor, *, outputs: int = 1, path: tuple[str, ...] = ()) -> FeatureMap:
    """One sample's output (no batch dimension) as a FeatureMap: three or more dimensions are channels of the
    last two (leading ones flattened) unless those are 1 by 1 (a pooled map: a vector), two a sequence, fewer
    a vector."""
    shape = tuple(int(d) for d in output.shape)
    values = output.detach().float().cpu()
    if values.dim() >= 3 and prod(shape[-2:]) > 1:
        planes = values.reshape(-1, *shape[-2:])
        channels = len(planes)
        return FeatureMap(node, shape, IMAGE, planes[:MAX_CHANNELS].numpy(), channels, outputs, path)
    if values.dim() == 2:
        return FeatureMap(node, shape, SEQUENCE, values.numpy(), outputs=outputs, path=path)
    return FeatureMap(node, shape, VECTOR, values.reshape(-1).numpy(), outputs=outputs, path=path)


@dataclass(frozen=True)
class _Level:
    """A graph whose nodes one module's forward() computes: the model's, or (inside) a block instance's class,
    or an nn.Sequential where the block is a plain chain (`sequential`: its children in `order`)."""

    graph: Graph
    order: tuple[str, ...]  # the nodes forward() computes, in its order
    results: Mapping[str, NodeResult]
    attributes: Mapping[str, str]  # each node's name in the module (its attribute, or its local value)
    arguments: tuple[str, ...]  # forward()'s parameters
    values: Mapping[tuple[str, str], str]  # (node, port) -> argument: the model's data nodes
    fed: Mapping[tuple[str, str], str]  # (node, input port) -> argument: what a block's inputs feed inside
    sequential: bool = False

    def module(self, owner: nn.Module, node: str) -> nn.Module | None:
        """The submodule of `owner` that computes `node`, if it has one."""
        if self.sequential:
            return owner[self.order.index(node)]
        found = getattr(owner, self.attributes[node], None)
        return found if isinstance(found, nn.Module) else None


class FeatureMaps:
    """A run's trained network, able to give any node's output for one of its validation samples, at the top
    graph or inside its blocks. Build it with `load`; `capture` answers. The statements up to each node are
    written and compiled once, when first asked for."""

    def __init__(self, predictor: Predictor, graph: Graph, analysis: Analysis) -> None:
        self.predictor = predictor
        self.graph = graph
        self.analysis = analysis
        try:
            code = generate_model(graph, analysis)
        except CodegenError as err:
            raise PredictError(str(err)) from None
        self._top = _Level(
            graph,
            tuple(n for n in analysis.order if n in code.attributes),
            analysis.results,
            code.attributes,
            tuple(i.name for i in code.inputs),
            {(i.node, i.port): i.name for i in code.inputs},
            {},
        )
        self._functions: dict[tuple[str, ...], Any] = {}

    @classmethod
    def load(cls, project: Project, weights_path: Path, *, device: str = "cpu") -> FeatureMaps:
        """The run's network with its weights and its validation part; PredictError says what is wrong."""
        predictor = Predictor.load(project, weights_path, device=device)
        return cls(predictor, project.graph, analyze(project.graph))

    def capture(self, sample: int, *path: str) -> FeatureMap:
        """The output for validation sample `sample` of the node at `path`: a node of the top graph, or the
        instances of blocks opened one inside the other and then a node inside the last. A repeated block's
        inside is not reached (which copy?): the output is that block's, and the FeatureMap's `path` says so.
        FeatureMapError says why a node has no output."""
        if not 0 <= sample < len(self.predictor):
            raise IndexError(f"validation samples are numbered 0 to {len(self.predictor) - 1}")
        try:
            x = self.predictor.validation.take([sample])[0]
        except DataLoadError as err:
            raise PredictError(str(err)) from None
        return self.capture_input(x, *path)

    @torch.no_grad()
    def capture_input(self, x: torch.Tensor, *path: str) -> FeatureMap:
        """`capture` for the batch `x` (as the network takes it) of one sample."""
        self._check_top(path[0])
        level, owner, arguments = self._top, self.predictor.model, (x.to(self.predictor.device),)
        reached = path[:1]
        for depth, instance in enumerate(path[:-1]):
            definition = level.graph.definition_of(instance)
            result = level.results[instance]
            module = level.module(owner, instance)
            if definition is None or result.copies or result.inner is None or module is None:
                break  # a repeated block (or one the run's network does not have): its own output is shown
            arguments = self._inputs_of(module, partial(self._run, path[:depth], level, instance, owner, arguments))
            level, owner = _inside(definition, result.inner, isinstance(module, nn.Sequential)), module
            reached = path[: depth + 2]
        node = reached[-1]
        if node not in level.graph.nodes:
            raise FeatureMapError("this node is not in the network of the run: train again to see its output")
        ports = level.graph.spec(node).outputs
        values = self._run(reached[:-1], level, node, owner, arguments)
        first = values[0] if len(ports) > 1 and not level.sequential else values
        batched = level.results[node].outputs[ports[0].name].batched
        return drawn_form(node, first[0] if batched else first, outputs=len(ports), path=reached)

    def _check_top(self, node: str) -> None:
        """FeatureMapError when `node` of the top graph has no output for a sample."""
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
        if node not in self._top.attributes:
            raise FeatureMapError("this node is not part of the network that predicts: it gives nothing for a sample")

    @staticmethod
    def _inputs_of(module: nn.Module, run: Any) -> tuple:
        """What `module` is called with while `run()` runs (a forward pre-hook keeps its arguments)."""
        seen: list[tuple] = []
        hook = module.register_forward_pre_hook(lambda _module, args: seen.append(args))
        try:
            run()
        finally:
            hook.remove()
        if not seen:
            raise FeatureMapError("the block was not run for this sample, so nothing inside it has an output")
        return seen[0]

    def _run(self, where: tuple[str, ...], level: _Level, node: str, owner: nn.Module, arguments: tuple) -> Any:
        """`owner`'s forward() up to `node` of `level` (at path `where`), on `arguments`: `node`'s outputs."""
        if level.sequential:
            value = arguments[0]
            for child in level.order[: level.order.index(node) + 1]:
                value = level.module(owner, child)(value)
            return value
        key = (*where, node)
        if key not in self._functions:
            self._functions[key] = _compiled(level, node, type(self.predictor.model).forward.__globals__)
        return self._functions[key](owner, *arguments)


def _inside(definition: Definition, results: Mapping[str, NodeResult], sequential: bool) -> _Level:
    """The level of an instance of `definition`: its class's forward() as codegen writes it (composite_code),
    its submodules and inputs named in the same order by the same Namer."""
    inside = definition.graph
    order = tuple(topological_order(inside))
    names = Namer()
    attributes = {n: names.take(inside.nodes[n].label, "layer") for n in order}
    arguments = tuple(names.take("inputs" if i.name == "x" else i.name, "inputs") for i in definition.inlets)
    fed = {target: name for inlet, name in zip(definition.inlets, arguments, strict=True) for target in inlet.targets}
    return _Level(inside, order, results, attributes, arguments, {}, fed, sequential)


def _compiled(level: _Level, node: str, names: Mapping[str, Any]) -> Any:
    """A function (module, *arguments) running `level`'s forward() statements up to `node` and returning its
    outputs; `names` are those the statements use (torch, nn, the block classes: the model module's)."""
    graph = level.graph
    needed = graph.upstream([node])
    layers = [n for n in level.order if n in needed]
    returned = [(node, port.name) for port in graph.spec(node).outputs]
    body = forward_body(graph, layers, dict(level.values), level.fed, level.attributes, level.results, returned)
    source = "\n".join([f"def node_output(self, {', '.join(level.arguments)}):", *render_lines(body, indent="    ")])
    namespace = dict(names)
    exec(compile(source, f"<netbuilder output of {graph.nodes[node].label}>", "exec"), namespace)
    return namespace["node_output"]

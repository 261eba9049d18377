"""Checking one node: its inputs connected, its shape rule run, its parameters and MACs counted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from netbuilder.analysis.diagnostics import ERROR, WARNING, Diagnostic
from netbuilder.analysis.fixes import BypassNode, Fix, InsertNode, ReplaceNode, SetParam
from netbuilder.analysis.order import topological_order
from netbuilder.blocks.errors import (
    BypassProducer,
    Hint,
    InsertBefore,
    ReplaceOwnBlock,
    SetOwnParam,
    SetProducerSize,
    ShapeError,
)
from netbuilder.blocks.spec import LOSS_ROLE, OPTIMIZER, RuleContext
from netbuilder.blocks.tensor_type import TensorType
from netbuilder.graph import Graph
from netbuilder.graph.definitions import REPEAT
from netbuilder.quoting import cut

if TYPE_CHECKING:
    from netbuilder.graph.definitions import Definition


@dataclass
class NodeResult:
    """What analysis knows about one node. `outputs` is empty when its shapes cannot be known."""

    outputs: dict[str, TensorType] = field(default_factory=dict)
    inputs: dict[str, TensorType] = field(default_factory=dict)
    """The types that arrived at its input ports (through a composite's inlets too)."""
    resolved: dict[str, Any] = field(default_factory=dict)
    params: int = 0
    macs: int = 0
    diagnostics: list[Diagnostic] = field(default_factory=list)
    inner: dict[str, NodeResult] | None = None
    """For a composite instance, the result of each node inside it (None for a catalogue block)."""
    copies: list[NodeResult] | None = None
    """For a Repeat x N instance, the result of each copy in the chain (`inner` is the first's)."""


def check_node(
    graph: Graph,
    node_id: str,
    results: Mapping[str, NodeResult],
    *,
    params: Mapping[str, Any] | None = None,
    fed: Mapping[tuple[str, str], Fed] | None = None,
    memo: InstanceMemo | None = None,
) -> NodeResult:
    """Check `node_id` given the results of the nodes upstream of it. Inside a composite instance, `params`
    are the values the node takes in it and `fed` what arrives at (node, port) through the instance's inputs;
    `memo` keeps instances' results across calls (the caller forgets it when a definition changes). A problem
    at a loss or an optimizer matters for training only: the model is as drawn without them."""
    result = _check(graph, node_id, results, params, fed, memo)
    if graph.spec(node_id).role in (LOSS_ROLE, OPTIMIZER):
        result.diagnostics = [replace(d, training_only=True) for d in result.diagnostics]
    return result


def _check(
    graph: Graph,
    node_id: str,
    results: Mapping[str, NodeResult],
    params: Mapping[str, Any] | None,
    fed: Mapping[tuple[str, str], Fed] | None,
    memo: InstanceMemo | None,
) -> NodeResult:
    node = graph.nodes[node_id]
    spec = graph.spec(node_id)
    params = node.params if params is None else params
    fed = fed or {}
    result = NodeResult()
    edges = graph.inputs_of(node_id)
    inputs: dict[str, TensorType] = {}
    producers: dict[str, str] = {}
    waiting = False
    for port in spec.input_ports(params):
        edge = edges.get(port.name)
        if edge is None and (node_id, port.name) in fed:
            arriving = fed[(node_id, port.name)]
            if arriving.type is None:
                waiting = True
            else:
                inputs[port.name] = arriving.type
                producers[port.name] = arriving.producer
            continue
        if edge is None:
            if not port.optional:
                result.diagnostics.append(
                    Diagnostic(
                        node_id,
                        ERROR,
                        "unconnected-input",
                        f"input {port.name!r} is not connected: connect {_what_feeds(port.kind)} to it",
                        port=port.name,
                    )
                )
            continue
        upstream = results.get(edge.src)
        t = upstream.outputs.get(edge.src_port) if upstream else None
        if t is None:
            waiting = True
            continue
        inputs[port.name] = t
        producers[port.name] = _producer(graph, edge.src, edge.src_port)
    if result.diagnostics:
        return result
    if graph.definition_of(node_id) is not None:  # what is known inside goes on, as in a flat graph
        return _check_instance(graph, node_id, params, inputs, producers, memo or InstanceMemo())
    if waiting:
        return result
    result.inputs = inputs
    ctx = RuleContext(spec.type, dict(params), inputs, producers)
    try:
        result.outputs = spec.infer(ctx)
        result.resolved = ctx.p
        result.params = spec.count_params(ctx.p, inputs, result.outputs)
        result.macs = spec.count_macs(ctx.p, inputs, result.outputs)
    except ShapeError as err:
        result.outputs = {}
        result.diagnostics.append(_from_shape_error(graph, node_id, err, ERROR))
    except Exception as err:  # a bug in a rule must never take the app down: report it on the node
        result.outputs = {}
        result.diagnostics.append(
            Diagnostic(
                node_id,
                ERROR,
                "internal",
                f"netbuilder could not check this block ({type(err).__name__}: {err})",
            )
        )
    result.diagnostics.extend(_from_shape_error(graph, node_id, w, WARNING) for w in ctx.warnings)
    result.diagnostics.extend(
        replace(_from_shape_error(graph, node_id, e, ERROR), training_only=True) for e in ctx.training_problems
    )
    return result


class InstanceMemo:
    """The results of composite instances by what decides them: the definition, the instance's values and what
    arrives at its inputs (types and the blocks making them), and each definition's inner order. The instances
    of a chain (the blocks of a stage) are alike, so the inside of one is checked for all of them. Valid while
    no definition changes: an Analyzer forgets it on every definition event."""

    LIMIT = 4096  # results kept before starting afresh (a person trying many values)

    def __init__(self) -> None:
        self._results: dict[tuple[Any, ...], NodeResult] = {}
        self._orders: dict[Definition, list[str]] = {}

    def forget(self) -> None:
        self._results.clear()
        self._orders.clear()

    def order(self, definition: Definition) -> list[str]:
        """The definition's inner nodes in the one topological order."""
        order = self._orders.get(definition)
        if order is None:
            order = self._orders[definition] = topological_order(definition.graph)
        return order

    def key(self, definition: Definition, *parts: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The key of an instance's result, or None where a value cannot be one (it is then checked anew)."""
        key = (definition, *(tuple(sorted(part.items())) for part in parts))
        try:
            hash(key)
        except TypeError:
            return None
        return key

    def get(self, key: tuple[Any, ...] | None) -> NodeResult | None:
        return None if key is None else self._results.get(key)

    def put(self, key: tuple[Any, ...] | None, result: NodeResult) -> None:
        if key is not None:
            if len(self._results) >= self.LIMIT:
                self._results.clear()
            self._results[key] = result


@dataclass(frozen=True)
class Fed:
    """What arrives at an inner input through a composite instance's input: its type (None while unknown)
    and the block type that makes it (rules look at it: a Softmax before CrossEntropy)."""

    type: TensorType | None
    producer: str | None


def _check_instance(
    graph: Graph,
    node_id: str,
    params: Mapping[str, Any],
    inputs: Mapping[str, TensorType],
    producers: Mapping[str, str],
    memo: InstanceMemo,
) -> NodeResult:
    """A composite instance: its inside checked once, or for a Repeat x N instance N times in a chain, each
    copy fed by the one before (the copies' results are kept in order; `inner` is the first's)."""
    repeat = int(params.get(REPEAT, 1))
    values = {name: value for name, value in params.items() if name != REPEAT}
    if repeat == 1:
        return _check_copy(graph, node_id, values, inputs, producers, memo)
    definition = graph.definition_of(node_id)
    inlet, outlet = definition.inlets[0].name, definition.outlets[0].name
    last = definition.graph.nodes[definition.outlets[0].node].block
    copies: list[NodeResult] = []
    seen: set[str] = set()
    result = NodeResult(inputs=dict(inputs), resolved=dict(params))
    for number in range(1, repeat + 1):
        copy = _check_copy(graph, node_id, values, inputs, producers, memo)
        copies.append(copy)
        for d in copy.diagnostics:  # alike copies have alike problems: each is told once, at its first copy
            if d.message not in seen:
                seen.add(d.message)
                result.diagnostics.append(replace(d, message=f"copy {number} › {d.message}"))
        if outlet not in copy.outputs:
            break
        inputs, producers = {inlet: copy.outputs[outlet]}, {inlet: last}
    result.inner, result.copies = copies[0].inner, copies
    if len(copies) == repeat and outlet in copies[-1].outputs:
        result.outputs = dict(copies[-1].outputs)
    result.params = sum(c.params for c in copies)
    result.macs = sum(c.macs for c in copies)
    return result


def _check_copy(
    graph: Graph,
    node_id: str,
    params: Mapping[str, Any],
    inputs: Mapping[str, TensorType],
    producers: Mapping[str, str],
    memo: InstanceMemo,
) -> NodeResult:
    """One run of a composite instance's inside: each node inside checked in order with the instance's values
    and the input types known so far, exactly as a flat graph is; its outputs are its outlets' types (those
    known), its counts the sum of the inside's, and each problem inside is told here with the inner node's
    path. An instance like one checked before takes its result from `memo`."""
    definition = graph.definition_of(node_id)
    key = memo.key(definition, params, inputs, producers)
    known = memo.get(key)
    if known is not None:
        return replace(known, diagnostics=[replace(d, node=node_id) for d in known.diagnostics])
    inside = definition.graph
    values = definition.inner_values(dict(params))
    fed = {
        target: Fed(inputs.get(inlet.name), producers.get(inlet.name))
        for inlet in definition.inlets
        for target in inlet.targets
    }
    inner: dict[str, NodeResult] = {}
    for inner_id in memo.order(definition):
        inner[inner_id] = check_node(inside, inner_id, inner, params=values[inner_id], fed=fed, memo=memo)
    result = NodeResult(inputs=dict(inputs), resolved=dict(params), inner=inner)
    outputs = {o.name: inner[o.node].outputs.get(o.port) for o in definition.outlets}
    result.outputs = {name: t for name, t in outputs.items() if t is not None}
    result.params = sum(r.params for r in inner.values())
    result.macs = sum(r.macs for r in inner.values())
    for inner_id, inner_result in inner.items():
        label = inside.nodes[inner_id].label
        for d in inner_result.diagnostics:
            result.diagnostics.append(
                replace(d, node=node_id, message=f"{cut(label)} › {d.message}", path=(label, *d.path), fix=None)
            )
    memo.put(key, result)
    return result


def _producer(graph: Graph, node_id: str, port: str) -> str:
    """The block type that makes output `port` of `node_id`: through a composite, the inner block behind it."""
    while (definition := graph.definition_of(node_id)) is not None:
        outlet = next(o for o in definition.outlets if o.name == port)
        graph, node_id, port = definition.graph, outlet.node, outlet.port
    return graph.nodes[node_id].block


def _what_feeds(kind: str) -> str:
    return {"tensor": "a layer's output", "target": "the Dataset's target", "loss": "a loss"}.get(kind, kind)


def _from_shape_error(graph: Graph, node_id: str, err: ShapeError, severity: str) -> Diagnostic:
    return Diagnostic(
        node_id,
        severity,
        "shape" if err.param is None else "param",
        err.message,
        port=err.port,
        param=err.param,
        fix=_concrete_fix(graph, node_id, err.hint),
    )


def _concrete_fix(graph: Graph, node_id: str, hint: Hint | None) -> Fix | None:
    """Turn a rule's relative hint into a fix on concrete nodes, where the graph allows one."""
    if hint is None:
        return None
    if isinstance(hint, SetOwnParam):
        return SetParam(node_id, hint.param, hint.value)
    if isinstance(hint, ReplaceOwnBlock):
        return ReplaceNode(node_id, hint.block)
    edge = graph.inputs_of(node_id).get(hint.port)
    if edge is None:
        return None
    if isinstance(hint, InsertBefore):
        return InsertNode(edge, hint.block, dict(hint.params))
    if isinstance(hint, BypassProducer):
        producer = graph.nodes[edge.src]
        if producer.block == hint.block and len(graph.inputs_of(producer.id)) == 1:
            return BypassNode(producer.id)
        return None
    if isinstance(hint, SetProducerSize):
        producer = graph.nodes[edge.src]
        spec = graph.spec(producer.id)
        per_unit = spec.size_multiplier(producer.params) if spec.size_multiplier else 1
        if spec.size_param is None or hint.size % per_unit:
            return None
        return SetParam(producer.id, spec.size_param, hint.size // per_unit)
    return None

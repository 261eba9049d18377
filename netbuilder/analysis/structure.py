"""Checks of the graph as a whole: what is cut off from the data, and what training needs.

Training needs exactly one Dataset, one loss fed by the model and the Dataset, and one optimizer fed by that
loss. A graph without them can still be exported as a model: those problems are marked `training_only`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from netbuilder.analysis.diagnostics import ERROR, WARNING, Diagnostic
from netbuilder.analysis.fixes import AddNode
from netbuilder.analysis.node_check import NodeResult
from netbuilder.blocks.datasets import CLASSIFICATION, DATASETS
from netbuilder.blocks.spec import DATA, LOSS_ROLE, MODEL, OPTIMIZER
from netbuilder.graph import Graph


def roles(graph: Graph) -> dict[str, list[str]]:
    """Node ids by role (data, model, loss, optimizer), in insertion order."""
    by_role: dict[str, list[str]] = {DATA: [], MODEL: [], LOSS_ROLE: [], OPTIMIZER: []}
    for node in graph.nodes.values():
        by_role[graph.spec(node.id).role].append(node.id)
    return by_role


def dataset_nodes(graph: Graph, by_role: Mapping[str, list[str]]) -> list[str]:
    """The Dataset nodes among the data nodes (the others are Inputs), in insertion order."""
    return [n for n in by_role[DATA] if graph.nodes[n].block == "Dataset"]


def fed_by_data(graph: Graph, by_role: Mapping[str, list[str]]) -> set[str]:
    """Every node that data reaches (the data nodes included), and the learned tensors (Parameter) that join it,
    with what they feed on the way (a class token's Expand is reached anyway, through its batch's input): the
    model computes them, and their weights are its own."""
    reached = graph.downstream(by_role[DATA])
    learned = [n for n in by_role[MODEL] if graph.spec(n).tensor is not None]
    return reached | (graph.downstream(learned) & graph.upstream(reached))


def batch_statistics_in(graph: Graph, nodes: Iterable[str]) -> bool:
    """Whether any of `nodes` normalises with statistics taken over the batch (BlockSpec.batch_statistics:
    batch norm), counting the blocks inside a composite, to any depth."""
    seen: set[str] = set()
    pending = [(graph, node_id) for node_id in nodes]
    while pending:
        inside, node_id = pending.pop()
        definition = inside.definition_of(node_id)
        if definition is None:
            if inside.spec(node_id).batch_statistics:
                return True
        elif definition.name not in seen:  # a composite used twice holds the same blocks
            seen.add(definition.name)
            pending += [(definition.graph, inner) for inner in definition.graph.nodes]
    return False


def model_nodes(
    graph: Graph, by_role: Mapping[str, list[str]], order: Sequence[str], results: Mapping[str, NodeResult]
) -> tuple[str, ...]:
    """The layers the generated model computes, in `order`: those data reaches and, where a loss is fed by one
    of them with a known value, only those the loss's input needs. model.py then returns what the loss takes
    and builds no branch that feeds nothing of it, so such a branch is not counted in the totals. Without a loss
    so fed, every layer data reaches (forward returns their outputs that nothing else takes). A value that
    cannot be known (a composite's output made by an inner layer cut off from the data) feeds no loss, as the
    cut-off layer itself would not in the flat graph."""
    reached = fed_by_data(graph, by_role)
    layers = {n for n in by_role[MODEL] if n in reached}
    fed = [graph.inputs_of(loss).get("input") for loss in by_role[LOSS_ROLE]]
    feeding = [
        edge.src
        for edge in fed
        if edge is not None and edge.src in layers and edge.src_port in results[edge.src].outputs
    ]
    if feeding:
        layers &= graph.upstream(feeding)
    return tuple(n for n in order if n in layers)


def structure_diagnostics(graph: Graph, results: Mapping[str, NodeResult], model: Sequence[str]) -> list[Diagnostic]:
    """What is cut off from the data, what training needs and lacks, and whether the `model` (model_nodes)
    has anything to train."""
    by_role = roles(graph)
    reached = fed_by_data(graph, by_role)
    found: list[Diagnostic] = []
    for node_id in [*by_role[MODEL], *by_role[LOSS_ROLE], *by_role[OPTIMIZER]]:
        if node_id not in reached and not any(d.code == "unconnected-input" for d in results[node_id].diagnostics):
            found.append(Diagnostic(node_id, WARNING, "cut-off", _cut_off_message(graph, node_id)))
    found.extend(_training_diagnostics(graph, by_role))
    found.extend(_nothing_to_train(graph, results, by_role, model))
    return found


def _cut_off_message(graph: Graph, node_id: str) -> str:
    if graph.spec(node_id).tensor is not None:  # a learned tensor has no inputs to lead back anywhere
        return "this learned tensor joins no data: it is left out until it feeds Add, Multiply, Concat or Expand"
    return "no data reaches this node: it is left out until its inputs lead back to a Dataset or Input"


def _nothing_to_train(
    graph: Graph, results: Mapping[str, NodeResult], by_role: Mapping[str, list[str]], model: Sequence[str]
) -> list[Diagnostic]:
    """An error, before training starts, for a model that a loss is fed by and that has no trainable
    parameter: the optimizer would have nothing to change (torch refuses it with an empty parameter list).
    Said only once every layer of it is checked, since a layer with errors counts none."""
    if not model or not by_role[LOSS_ROLE] or any(not results[n].outputs for n in model):
        return []
    if sum(results[n].params for n in model):
        return []
    message = "this network has no trainable parameters: add a layer with weights (Linear, Conv2d ...)"
    return [Diagnostic(None, ERROR, "no-parameters", message, training_only=True)]


def _training_diagnostics(graph: Graph, by_role: Mapping[str, list[str]]) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    datasets = dataset_nodes(graph, by_role)
    inputs = [n for n in by_role[DATA] if graph.nodes[n].block == "Input"]
    losses, optimizers = by_role[LOSS_ROLE], by_role[OPTIMIZER]

    def add(node: str | None, code: str, message: str, fix: AddNode | None = None) -> None:
        found.append(Diagnostic(node, ERROR, code, message, fix=fix, training_only=True))

    if not datasets:
        add(
            None,
            "dataset-missing",
            "training needs a Dataset: add one and connect its x to the first layer",
            AddNode("Dataset"),
        )
    for extra in datasets[1:]:
        add(extra, "dataset-extra", "only one Dataset can feed a training run: remove this one")
    if datasets:
        for node_id in inputs:
            add(
                node_id,
                "input-in-training",
                "an Input has no data to train on: connect the Dataset's x where this Input is used, then remove it",
            )
    if not losses:
        add(
            None,
            "loss-missing",
            "training needs a loss: add one and connect the model's output and the Dataset's target to it",
            _add_loss(graph, datasets, optimizers),
        )
    for extra in losses[1:]:
        add(extra, "loss-extra", "only one loss can drive training: remove this one")
    if not optimizers:
        fix = AddNode("Adam", near=losses[0], feeds=(("loss", losses[0], "loss"),)) if losses else None
        add(
            None,
            "optimizer-missing",
            "training needs an optimizer: add one (Adam is a good start) and connect the loss to it",
            fix,
        )
    for extra in optimizers[1:]:
        add(extra, "optimizer-extra", "only one optimizer can train the model: remove this one")
    for loss in losses:
        edge = graph.inputs_of(loss).get("target")
        if edge is not None and graph.spec(edge.src).role != DATA:
            found.append(
                Diagnostic(
                    loss,
                    ERROR,
                    "target-source",
                    "the loss target must come from the Dataset (its target, or its x for an autoencoder)",
                    port="target",
                    training_only=True,
                )
            )
    if len(datasets) == 1 and len(losses) == 1:
        found += _mixing_diagnostics(graph, datasets[0], losses[0])
    if losses:
        feeding_loss = {e.src for loss in losses for e in graph.inputs_of(loss).values()}
        for node_id in by_role[MODEL]:
            consumers = graph.outputs_of(node_id)
            if not consumers and node_id not in feeding_loss and graph.inputs_of(node_id):
                found.append(
                    Diagnostic(
                        node_id,
                        WARNING,
                        "output-unused",
                        "this output does not reach the loss, so the layers before it do not learn from it",
                        training_only=True,
                    )
                )
    return found


def _mixing_diagnostics(graph: Graph, dataset: str, loss: str) -> list[Diagnostic]:
    """mixup and cutmix turn each batch's class targets into class probabilities (a blend of two classes), which
    only CrossEntropy on the Dataset's class targets can take."""
    params = graph.nodes[dataset].params
    spec = DATASETS[params["dataset"]]
    mixing = [name for name in ("mixup", "cutmix") if spec.images and params.get(name)]
    if not mixing:
        return []
    target = graph.inputs_of(loss).get("target")
    classes = target is not None and target.src == dataset and target.src_port == "target"
    if graph.nodes[loss].block == "CrossEntropy" and classes and spec.task_of(params) == CLASSIFICATION:
        return []
    names = " and ".join(mixing)
    message = (
        f"{names} blend the class targets of two images into class probabilities, which only CrossEntropy on the "
        f"Dataset's class targets takes: set {names} to 0, or train with CrossEntropy"
    )
    return [Diagnostic(dataset, ERROR, "mixing-targets", message, param=mixing[0], training_only=True)]


def _add_loss(graph: Graph, datasets: list[str], optimizers: list[str]) -> AddNode | None:
    """A loss that suits the dataset, wired to the model's only output, the Dataset's target and an
    optimizer still waiting for a loss."""
    if len(datasets) != 1:
        return None
    dataset = graph.nodes[datasets[0]]
    task = DATASETS[dataset.params["dataset"]].task_of(dataset.params)
    block = "CrossEntropy" if task == CLASSIFICATION else "MSE"
    waiting = [n for n in optimizers if "loss" not in graph.inputs_of(n)]
    consumers = (("loss", waiting[0], "loss"),) if len(waiting) == 1 else ()
    by_role = roles(graph)
    sinks = [n for n in by_role[MODEL] if not graph.outputs_of(n) and graph.inputs_of(n)]
    if len(sinks) != 1:
        return AddNode(block, near=dataset.id, feeds=(("target", dataset.id, "target"),), consumers=consumers)
    output = graph.spec(sinks[0]).outputs[0].name
    feeds = (("input", sinks[0], output), ("target", dataset.id, "target"))
    return AddNode(block, near=sinks[0], feeds=feeds, consumers=consumers)

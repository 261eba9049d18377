"""The training task of a graph: which node is the dataset, the loss and the optimizer, and what is learned.

Code generation, the training engine, the Predict tab and the exported package all ask the same questions
("is this classification? which classes? is the target the input itself?"); the answers are worked out
here, once per analysis, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from netbuilder.analysis.structure import dataset_nodes, roles
from netbuilder.blocks.datasets import CLASSIFICATION, DATASETS, DatasetSpec
from netbuilder.blocks.spec import LOSS_ROLE, OPTIMIZER
from netbuilder.graph import Graph


@dataclass(frozen=True)
class TrainingTask:
    """A graph's complete training setup: one Dataset feeding a loss's target, one loss, one optimizer fed
    by it. `classification` follows the engine's rule: the dataset names classes and the loss compares the
    output with them (an autoencoder, whose target is the input itself, learns values)."""

    dataset_node: str
    loss_node: str
    optimizer_node: str
    dataset: DatasetSpec
    dataset_params: Mapping[str, Any]
    loss: str  # the loss block's type, CrossEntropy say
    optimizer: str  # the optimizer block's type
    target_is_input: bool  # the loss's target is the Dataset's x: the network learns to give its input back

    @property
    def kind(self) -> str:
        """What the dataset's targets are: CLASSIFICATION or REGRESSION."""
        return self.dataset.task_of(self.dataset_params)

    @property
    def classification(self) -> bool:
        """The network's output names classes (accuracy, a confusion matrix, class probabilities)."""
        return self.kind == CLASSIFICATION and not self.target_is_input

    @property
    def target_port(self) -> str:
        """The Dataset's port that the loss's target comes from: 'target', or 'x' for an autoencoder."""
        return "x" if self.target_is_input else "target"

    @cached_property
    def class_names(self) -> tuple[str, ...]:
        """The names of the classes, in class-index order; () unless this is classification. Read on first
        use only: a CSV file's classes come from the file."""
        return tuple(self.dataset.names_of_classes(self.dataset_params)) if self.classification else ()

    @property
    def class_count(self) -> int:
        return len(self.class_names)


def wants_training(graph: Graph) -> bool:
    """Whether `graph` means to train: it holds a Dataset, a loss or an optimizer. A bare model (Inputs and
    layers only) is a model to export, and its missing training setup is no problem."""
    by_role = roles(graph)
    return bool(dataset_nodes(graph, by_role) or by_role[LOSS_ROLE] or by_role[OPTIMIZER])


def find_training_task(graph: Graph, by_role: Mapping[str, list[str]]) -> TrainingTask | None:
    """The task of `graph` (its node ids grouped by role, as structure.roles gives them), or None while the
    training setup is incomplete or ambiguous: structure's diagnostics say what is missing."""
    datasets = dataset_nodes(graph, by_role)
    losses, optimizers = by_role[LOSS_ROLE], by_role[OPTIMIZER]
    if len(datasets) != 1 or len(losses) != 1 or len(optimizers) != 1:
        return None
    (dataset_id,), (loss_id,), (optimizer_id,) = datasets, losses, optimizers
    loss_inputs = graph.inputs_of(loss_id)
    target, fed = loss_inputs.get("target"), graph.inputs_of(optimizer_id).get("loss")
    if target is None or target.src != dataset_id or "input" not in loss_inputs or fed is None or fed.src != loss_id:
        return None
    params = dict(graph.nodes[dataset_id].params)  # a snapshot, as the rest of the analysis is
    return TrainingTask(
        dataset_node=dataset_id,
        loss_node=loss_id,
        optimizer_node=optimizer_id,
        dataset=DATASETS[params["dataset"]],
        dataset_params=params,
        loss=graph.nodes[loss_id].block,
        optimizer=graph.nodes[optimizer_id].block,
        target_is_input=target.src_port == "x",
    )

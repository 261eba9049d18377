"""What an exported package's predict.py, config.json and README.md say about the run, read once from the
checked graph so that the three agree: the dataset and its parameters, what the network's output means
(classes by the engine's rule, or values), the loss, the optimizer and its schedule.

config.json is written with json.dumps, never as code, so nothing a label or parameter holds can run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from netbuilder.analysis import Analysis
from netbuilder.blocks import catalogue
from netbuilder.blocks.dataset_files import csv_summary
from netbuilder.blocks.datasets import CLASSIFICATION, DatasetSpec
from netbuilder.graph import Graph


@dataclass(frozen=True)
class RunDescription:
    """A trainable graph's data and task, as the exported package describes them."""

    dataset: DatasetSpec
    dataset_params: dict[str, Any]  # only the parameters that matter for this dataset
    input_shape: tuple[int, ...]  # one sample, without the batch dimension
    output_shape: tuple[int, ...]  # what the network gives for one sample
    classification: bool  # the output names classes (the engine's rule); else it is values
    class_names: tuple[str, ...]
    feature_columns: tuple[str, ...]  # a CSV dataset's feature columns, in the order the network reads them
    loss: str
    optimizer: str
    optimizer_params: dict[str, Any]

    @property
    def pictures(self) -> bool:
        """Samples are grey or colour pictures (channels, height, width): predict.py reads image files."""
        return len(self.input_shape) == 3 and self.input_shape[0] in (1, 3)

    @property
    def table(self) -> bool:
        """Samples are rows of numbers: predict.py reads CSV rows."""
        return len(self.input_shape) == 1

    @property
    def normalized(self) -> bool:
        return self.dataset.images and bool(self.dataset_params.get("normalize"))

    @property
    def scaled(self) -> bool:
        """train.py scales the data with statistics of its training part, so predictions must too."""
        return self.dataset.standardize or self.normalized


def describe_run(graph: Graph, analysis: Analysis) -> RunDescription:
    """The description of a graph whose training code could be generated (its analysis has a training task)."""
    task = analysis.training_task
    params, dataset = task.dataset_params, task.dataset
    data_spec = catalogue.get("Dataset")
    relevant = {p.name: params[p.name] for p in data_spec.params if p.name in params and p.relevant(params)}
    optimizer_spec = catalogue.get(task.optimizer)
    optimizer_params = analysis.resolved_params(task.optimizer_node)
    features = ()
    if dataset.name == "csv":
        features = csv_summary(params["path"], params["target_column"], task.classification).features
    return RunDescription(
        dataset=dataset,
        dataset_params=relevant,
        input_shape=tuple(analysis.output_type(task.dataset_node, "x").features),
        output_shape=tuple(analysis.edge_type(graph.inputs_of(task.loss_node)["input"]).features),
        classification=task.classification,
        class_names=task.class_names,
        feature_columns=tuple(features),
        loss=task.loss,
        optimizer=task.optimizer,
        optimizer_params={
            p.name: optimizer_params[p.name] for p in optimizer_spec.params if p.relevant(optimizer_params)
        },
    )


def config_json(
    run: RunDescription, *, model_class: str, weights_file: str, settings: Mapping[str, Any], name: str
) -> str:
    """config.json: the dataset, the split and seed, the training settings, the class names, the input shape.

    `settings` holds the project's training settings (epochs, batch_size, val_fraction, seed, device,
    precision, grad_clip, early_stopping); the split is listed apart because predict.py reads it."""
    training = {key: value for key, value in settings.items() if key not in ("val_fraction", "seed")}
    config = {
        "project": name,
        "model": {
            "class": model_class,
            "file": "model.py",
            "weights": weights_file,
            "input_shape": list(run.input_shape),
            "output_shape": list(run.output_shape),
        },
        "task": CLASSIFICATION if run.classification else "regression",
        "class_names": list(run.class_names),
        "dataset": {
            "name": run.dataset.name,
            "title": run.dataset.title,
            "params": run.dataset_params,
            "feature_columns": list(run.feature_columns),
        },
        "split": {"val_fraction": settings["val_fraction"], "seed": settings["seed"]},
        "training": {
            **training,
            "loss": run.loss,
            "optimizer": {"name": run.optimizer, "params": run.optimizer_params},
        },
    }
    return json.dumps(config, indent=2) + "\n"

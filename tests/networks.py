"""Small networks that tests train: built through the graph, as a person would draw them."""

from __future__ import annotations

from typing import Any

from netbuilder.project import Project


def small_cnn_project(name: str, dataset: dict[str, Any], *, channels: int, classes: int, dropout: bool) -> Project:
    """Dataset -> Conv2d(3x3) -> ReLU -> Flatten -> [Dropout(0.2)] -> Linear(classes) -> CrossEntropy -> Adam."""
    project = Project.new(name)
    g = project.graph
    data = g.add_node("Dataset", params=dataset).id
    chain = [
        g.add_node("Conv2d", params={"out_channels": channels, "kernel_size": 3, "padding": 1}).id,
        g.add_node("ReLU").id,
        g.add_node("Flatten").id,
        *([g.add_node("Dropout", params={"p": 0.2}).id] if dropout else []),
        g.add_node("Linear", params={"out_features": classes}).id,
    ]
    previous, port = data, "x"
    for node in chain:
        g.connect(previous, port, node, "x")
        previous, port = node, "y"
    loss = g.add_node("CrossEntropy").id
    adam = g.add_node("Adam", params={"lr": 0.01}).id
    g.connect(previous, "y", loss, "input")
    g.connect(data, "target", loss, "target")
    g.connect(loss, "loss", adam, "loss")
    return project

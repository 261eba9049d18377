"""A run's trained weights made the project's starting weights (the Runs view's "Use weights as starting
weights"): the run's model.pt, keyed by the attributes of the network it trained, is written as a starting-
weights file keyed by node id (as `netbuilder import --weights` writes one), and what of it fits the network
now is the starting weights' own check (`starting_state`), so a layer whose shape changed since the run is
named in the same words the Training dock uses.
"""

from __future__ import annotations

from pathlib import Path

import torch

from netbuilder.analysis import analyze
from netbuilder.codegen.model_code import CodegenError, ModelCode, generate_model
from netbuilder.project import Project
from netbuilder.runtime.build import load_module
from netbuilder.runtime.starting_weights import StartingWeights, starting_state, write_starting_weights
from netbuilder.runtime.weights import WeightsFileError, read_state_dict


def starting_weights_from_run(weights: Path, trained: Project, project: Project, target: Path) -> StartingWeights:
    """Write the run's `weights` (its model.pt) as starting weights at `target`, keyed by the nodes of the
    project the run `trained`, and return what of them fits `project`'s network now. WeightsFileError when the
    file cannot be read or is not that network's; FileNotFoundError when it is gone. Nothing is written when
    not one layer fits (WeightsFileError says so)."""
    try:
        trained_code = _model_code(trained)
        code = _model_code(project)
    except CodegenError as err:
        raise WeightsFileError(f"the network cannot be built: {err}") from None
    state = read_state_dict(weights, f"the run's weights ({weights.name})")
    attributes = set(trained_code.attributes.values())
    strays = [key for key in state if key.partition(".")[0] not in attributes]
    if strays:
        raise WeightsFileError(f"the run's weights are not the network it trained ({strays[0]} has no layer)")
    with torch.device("meta"):
        shapes = getattr(load_module(code.source), code.class_name)().state_dict()
    write_starting_weights(state, trained_code.attributes, target)
    fitting = starting_state(target, project.graph, code.attributes, shapes)
    if not fitting.tensors:
        target.unlink(missing_ok=True)
        raise WeightsFileError(
            "no layer of the run's network fits the network now"
            + (f" ({', '.join(fitting.fresh[:3])})" if fitting.fresh else " (its layers were replaced)")
        )
    return fitting


def _model_code(project: Project) -> ModelCode:
    return generate_model(project.graph, analyze(project.graph), name=project.name)

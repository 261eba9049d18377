"""The original model's weights brought along with an import, so that training in the app fine-tunes them.

A state_dict (a safetensors file, or a .pt saved with torch.save and read with weights_only) is renamed to
the generated model's attributes by `load_weights`, checked against that model tensor by tensor, and kept
as the project's starting weights (runtime.starting_weights), keyed by node.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch

from netbuilder.analysis import analyze
from netbuilder.codegen.model_code import generate_model
from netbuilder.importers.fx_import import ImportResult, WeightsError, load_weights
from netbuilder.runtime.build import load_module
from netbuilder.runtime.starting_weights import read_starting_weights, write_starting_weights
from netbuilder.runtime.weights import WeightsFileError, read_state_dict

_NESTED = ("state_dict", "model", "model_state_dict")  # where training checkpoints keep the weights


def read_weights_file(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of a state_dict file: .safetensors, or a torch.save file read with weights_only=True (also a
    checkpoint that keeps them under "state_dict" or "model"). FileNotFoundError, or WeightsFileError saying
    why the file is not one."""
    if path.suffix == ".safetensors":
        return read_starting_weights(path)
    try:
        return read_state_dict(path)
    except WeightsFileError as err:
        nested = _nested_state_dict(path)
        if nested is None:
            raise err from None
        return nested


def _nested_state_dict(path: Path) -> dict[str, torch.Tensor] | None:
    """The weights a training checkpoint keeps under one of _NESTED, or None (also when it is no checkpoint)."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # read_state_dict has already said why the file is not one
        return None
    for key in _NESTED:
        inner = state.get(key) if isinstance(state, dict) else None
        if isinstance(inner, dict) and inner and all(isinstance(v, torch.Tensor) for v in inner.values()):
            return inner
    return None


def attach_weights(result: ImportResult, state_dict: Mapping[str, torch.Tensor], path: Path) -> int:
    """Make `state_dict` (the original module's) the starting weights of `result.project`, saved at `path`;
    return how many tensors it holds. WeightsError names the tensors that are missing, left over or of
    another shape; the project is unchanged then."""
    graph = result.project.graph
    code = generate_model(graph, analyze(graph), name=result.project.name)
    renamed = load_weights(result, state_dict)
    with torch.device("meta"):
        expected = getattr(load_module(code.source), code.class_name)().state_dict()
    problems = [
        *(f"{name} is missing" for name in expected if name not in renamed),
        *(
            f"{name} is {tuple(renamed[name].shape)}, the layer needs {tuple(shape.shape)}"
            for name, shape in expected.items()
            if name in renamed and renamed[name].shape != shape.shape
        ),
    ]
    if problems:
        more = f" and {len(problems) - 4} more" if len(problems) > 4 else ""
        raise WeightsError("these weights are not this model's: " + "; ".join(problems[:4]) + more)
    count = write_starting_weights(renamed, code.attributes, path)
    result.project.weights = path
    return count

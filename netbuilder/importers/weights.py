"""The original model's weights brought along with an import, so that training in the app fine-tunes them.

A state_dict (a safetensors file, or a .pt saved with torch.save and read with weights_only) is renamed to
the generated model's attributes by `load_weights`, checked against that model tensor by tensor, and kept
as the project's starting weights (runtime.starting_weights), keyed by node.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch

from netbuilder.analysis import analyze
from netbuilder.codegen.model_code import generate_model
from netbuilder.importers.fx_import import ImportResult, WeightsError, load_weights
from netbuilder.runtime.build import load_module
from netbuilder.runtime.starting_weights import read_starting_weights, save_tensors, write_starting_weights
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


@dataclass(frozen=True)
class AttachedWeights:
    """What `attach_weights` kept: how many tensors, from which file, and the original's tensors that no
    imported layer holds (a partial import: those of the calls that did not map)."""

    count: int
    source: str
    left_out: tuple[str, ...] = ()

    @property
    def note(self) -> str:
        """One line for a person: what training starts from."""
        text = f"{self.count} tensors from {self.source}; training starts from them"
        if self.left_out:
            more = f" and {len(self.left_out) - 3} more" if len(self.left_out) > 3 else ""
            text += (
                f" (the layers that imported; left out, as no imported layer holds them: "
                f"{', '.join(self.left_out[:3])}{more})"
            )
        return text


def attach_weights(
    result: ImportResult, state_dict: Mapping[str, torch.Tensor], path: Path, source: str = ""
) -> AttachedWeights:
    """Make `state_dict` (the original module's) the starting weights of `result.project`, saved at `path`.

    A whole import is checked against the generated model tensor by tensor: WeightsError names the tensors
    that are missing, left over or of another shape, and the project is unchanged then. A partial import cannot
    be built yet, so each imported layer keeps the original's tensors under it (by its module path), checked
    when the network is built once the gaps are filled (a layer loads whole or starts from the seed, as any
    starting weights do); the tensors no imported layer holds are named in `left_out`.
    """
    if not result.complete:
        return _attach_partial(result, state_dict, path, source)
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
    return AttachedWeights(count, source or path.name)


def _attach_partial(
    result: ImportResult, state_dict: Mapping[str, torch.Tensor], path: Path, source: str
) -> AttachedWeights:
    """The original's tensors kept under the top-level node each belongs to: a layer by the submodule it was
    built from, a block by the submodule it stands for (its label while the hierarchy is the original's)."""
    graph = result.project.graph
    owners: dict[str, list[str]] = {}
    for node in graph.nodes.values():
        owners.setdefault(node.label, []).append(node.id)
    for module_path, ids in result.modules.items():
        top = [i for i in ids if i in graph.nodes]
        if top:
            owners[module_path] = top
    untraced = tuple(f"{u}." for u in result.untraced)
    by_node: dict[str, torch.Tensor] = {}
    left_out: list[str] = []
    for key, tensor in state_dict.items():
        if key.startswith(untraced):
            continue
        parts = key.split(".")
        cut = next((c for c in range(len(parts), 0, -1) if ".".join(parts[:c]) in owners), None)
        if cut is None:
            left_out.append(key)
            continue
        rest = ".".join(parts[cut:])
        for node_id in owners[".".join(parts[:cut])]:
            by_node[f"{node_id}.{rest}" if rest else node_id] = tensor
    if not by_node:
        raise WeightsError("no imported layer holds any of these tensors: they are not this model's")
    save_tensors(by_node, path)
    result.project.weights = path
    return AttachedWeights(len(by_node), source or path.name, tuple(left_out))

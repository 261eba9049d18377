"""Starting weights: a project's safetensors file of tensors to train from (weights brought in by an import).

The file keys each tensor by the node that holds it, `<node id>.<tensor name>` (`n7.weight`), not by the
generated attribute: attributes follow labels, so renaming a node would orphan its weights, while node ids
stay. When a network is built, each tensor whose node is still there with the same shape is loaded into it;
the rest (a node deleted, a head given another number of classes) start from the seed as any new layer does,
and `StartingWeights.note` says which. safetensors holds tensors only, so reading it executes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save
from torch import nn

from netbuilder.atomic_file import write_atomically
from netbuilder.codegen.model_code import ModelCode
from netbuilder.graph import Graph
from netbuilder.project import Project
from netbuilder.runtime.weights import WeightsFileError, first_line


@dataclass(frozen=True)
class StartingWeights:
    """The tensors to load into a freshly built network, keyed by its attributes (its state_dict names), and
    what was left out."""

    tensors: Mapping[str, torch.Tensor]
    file: str
    fresh: tuple[str, ...] = ()  # "label (why)" for each node whose saved tensors no longer fit

    @property
    def note(self) -> str:
        """One line for a person: where training starts from."""
        layers = len({key.split(".", 1)[0] for key in self.tensors})
        text = f"starts from {self.file}: {len(self.tensors)} tensors in {layers} layers"
        if self.fresh:
            text += "; from the seed: " + ", ".join(self.fresh)
        return text


def read_starting_weights(path: Path) -> dict[str, torch.Tensor]:
    """The node-keyed tensors of a starting-weights file; FileNotFoundError or WeightsFileError."""
    if not path.is_file():
        raise FileNotFoundError(path)
    try:
        return load_file(path)
    except (SafetensorError, OSError, ValueError) as err:
        raise WeightsFileError(f"{path.name} is not a safetensors weights file ({first_line(err)})") from None


def write_starting_weights(by_attribute: Mapping[str, torch.Tensor], attributes: Mapping[str, str], path: Path) -> int:
    """Save a state_dict of the generated model (attribute names) keyed by node id; return how many tensors
    were written. `attributes` maps node id to attribute, as ModelCode.attributes does."""
    node_of = {attribute: node_id for node_id, attribute in attributes.items()}
    by_node = {}
    for key, tensor in by_attribute.items():
        attribute, _, rest = key.partition(".")
        by_node[_joined(node_of[attribute], rest)] = tensor
    save_tensors(by_node, path)
    return len(by_node)


def save_tensors(tensors: Mapping[str, torch.Tensor], path: Path) -> None:
    """A safetensors file written atomically. Each tensor is copied: a layer called twice is two nodes
    holding one tensor, and safetensors refuses tensors that share memory."""
    copies = {key: tensor.detach().to("cpu").contiguous().clone() for key, tensor in tensors.items()}
    write_atomically(path, save(copies))


def fitting_weights(project: Project, code: ModelCode, model_class: type[nn.Module]) -> StartingWeights:
    """The project's starting weights that fit the network `model_class` builds (its shapes read on the meta
    device: no memory, no time). FileNotFoundError or WeightsFileError when the file cannot be read."""
    if project.weights is None:
        raise ValueError("the project has no starting weights")
    with torch.device("meta"):
        shapes = model_class().state_dict()
    return starting_state(project.weights, project.graph, code.attributes, shapes)


def starting_state(
    path: Path, graph: Graph, attributes: Mapping[str, str], model_state: Mapping[str, torch.Tensor]
) -> StartingWeights:
    """The file's tensors that fit the network built from `graph` (whose state_dict is `model_state` and whose
    node attributes are `attributes`), renamed to its attributes. A node is loaded whole or not at all."""
    saved: dict[str, dict[str, torch.Tensor]] = {}
    for key, tensor in read_starting_weights(path).items():
        node_id, _, rest = key.partition(".")
        saved.setdefault(node_id, {})[rest] = tensor
    tensors: dict[str, torch.Tensor] = {}
    fresh: list[str] = []
    for node_id, held in saved.items():
        attribute = attributes.get(node_id)
        if attribute is None:
            continue  # the node was deleted: nothing to start from, nothing to say
        named = {_joined(attribute, rest): tensor for rest, tensor in held.items()}
        label = graph.nodes[node_id].label
        if set(named) != {key for key in model_state if key.partition(".")[0] == attribute}:
            fresh.append(f"{label} (now {graph.nodes[node_id].block})")
        elif any(model_state[key].shape != tensor.shape for key, tensor in named.items()):
            fresh.append(f"{label} (new shape)")
        else:
            tensors.update(named)
    return StartingWeights(tensors, path.name, tuple(fresh))


def _joined(owner: str, rest: str) -> str:
    """A tensor's key under its node or attribute: `fc.weight`, or a learned Parameter's own name (`rest` empty),
    which is the tensor itself."""
    return f"{owner}.{rest}" if rest else owner

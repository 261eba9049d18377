"""An existing nn.Module -> a netbuilder project, through torch.fx: the public API of the importer.

`tracing` traces the module and runs the trace once (ShapeProp), so every call is known with its arguments and
the shapes it produced; `call_mapping` turns each call into a catalogue block. A call with no block is listed in
`ImportResult.unmapped` with where it is in the source, and everything else is still imported: nothing is
dropped silently. The result is regrouped into the module hierarchy and laid out here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import torch
from torch import nn

from netbuilder.analysis import analyze
from netbuilder.analysis.layout import Orientation, layered_positions
from netbuilder.blocks.tensor_type import FLOAT
from netbuilder.codegen.model_code import generate_model
from netbuilder.importers.call_mapping import Builder, UnmappedCall
from netbuilder.importers.hierarchy import regroup
from netbuilder.importers.tracing import ImportFailure, classes, mode, propagate_shapes, trace, untraced
from netbuilder.project import Project
from netbuilder.project.import_gaps import grouped_gap_lines, kept_gaps
from netbuilder.runtime.build import load_module
from netbuilder.runtime.library_shapes import install as install_library_shapes


class WeightsError(Exception):
    """A state_dict that does not fit the imported graph; the message names the keys."""


@dataclass(frozen=True)
class ImportResult:
    """The imported project, the calls that did not map, and which graph nodes each original submodule became.

    `modules` maps a submodule's path in the original module (``layer1.0.conv1``) to the node ids built from it
    (more than one where forward() calls the same submodule twice); `load_weights` reads it. `untraced` are the
    submodules holding weights that forward() did not run in the traced mode (GoogLeNet's auxiliary heads in eval
    mode): they are not part of the network, so their weights are left out, and the report says so.
    """

    project: Project
    unmapped: tuple[UnmappedCall, ...]
    modules: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    untraced: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.unmapped

    def report(self) -> str:
        """One message for a person: what did not map and where, or that everything did."""
        nodes = len(self.project.graph.nodes)
        left_out = (
            f"\n  left out with their weights (forward() does not run them in the mode traced, eval unless "
            f"training is asked for): {', '.join(self.untraced)}"
            if self.untraced
            else ""
        )
        if not self.unmapped:
            return f"imported {self.project.name}: {nodes} nodes, every call mapped to a block{left_out}"
        lines = [
            f"imported {self.project.name} in part: {nodes} nodes; {len(self.unmapped)} call(s) have no "
            "netbuilder block and are missing from the graph:"
        ]
        lines.extend(f"  {line}" for line in grouped_gap_lines(self.unmapped))
        return "\n".join(lines) + left_out


def import_module(
    module: nn.Module,
    input_shape: tuple[int, ...],
    name: str,
    *,
    dtype: str = FLOAT,
    orientation: Orientation = Orientation.LEFT_TO_RIGHT,
    training: bool = False,
) -> ImportResult:
    """Trace `module` on an input of `input_shape` (batch first) and rebuild it from catalogue blocks.

    `dtype` is the input's element type: float32, or int64 for token indices that feed an Embedding; the
    network and each of its blocks are laid out in `orientation`. forward() is traced in eval mode, so what is
    imported is the network that predicts (GoogLeNet's auxiliary heads, which only training runs, are left
    out); `training` traces the training branches instead. Every submodule's mode is as it was afterwards.
    """
    install_library_shapes()  # the result may hold LibraryModule blocks, whose shapes torch measures
    if len(input_shape) < 2 or any(int(s) < 1 for s in input_shape):
        raise ImportFailure(f"input shape {tuple(input_shape)} must be (batch, ...) with positive sizes")
    with mode(module, training):
        traced = trace(module)
        propagate_shapes(module, traced, tuple(int(s) for s in input_shape), dtype)
        builder = Builder(module, tuple(int(s) for s in input_shape), dtype)
        for node in traced.graph.nodes:
            builder.add(node)
    graph = builder.graph
    regroup(graph, builder.paths, classes(module, builder.paths.values()))
    for inside in [graph, *(d.graph for d in graph.definitions)]:
        for node_id, position in layered_positions(inside, orientation).items():
            inside.move(node_id, position)
    project = Project.new(name)
    project.graph = graph
    project.import_gaps = kept_gaps(builder.unmapped)  # saved with the project, shown until the gaps are filled
    modules = {path: tuple(ids) for path, ids in builder.modules.items()}
    return ImportResult(project, tuple(builder.unmapped), modules, untraced(module, traced))


def load_weights(result: ImportResult, state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The original module's `state_dict` named for the model generated from `result.project`.

    The import keeps the module hierarchy, so most keys are the generated model's own (``layer1.0.conv1.weight``).
    A key the generated model does not have is looked up by its submodule's path in `result.modules` and given
    to the top-level layers built from it (a TransformerEncoderLayer imported whole holds its attention's
    weights; a submodule called twice fills both copies). Keys of a submodule in `result.untraced` are left out,
    as the imported network does not have it. Other keys that belong to no imported node raise WeightsError
    naming them, so no weight is dropped unnoticed; a graph that cannot become code yet (a gap where a call did
    not map) raises codegen's CodegenError.
    """
    graph = result.project.graph
    code = generate_model(graph, analyze(graph), name=result.project.name)
    with torch.device("meta"):
        own = set(getattr(load_module(code.source), code.class_name)().state_dict())
    mapped: dict[str, torch.Tensor] = {}
    unplaced: list[str] = []
    for key, tensor in state_dict.items():
        if key.startswith(tuple(f"{path}." for path in result.untraced)):
            continue
        path, rest = _owner(result.modules, key)
        targets = [code.attributes[n] for n in result.modules.get(path, ()) if n in code.attributes]
        if key in own:
            mapped[key] = tensor
        elif not targets:
            unplaced.append(key)
        for attribute in targets:
            mapped[f"{attribute}.{rest}"] = tensor
    if unplaced:
        raise WeightsError("no imported layer holds " + ", ".join(unplaced))
    return mapped


def _owner(modules: Mapping[str, tuple[str, ...]], key: str) -> tuple[str, str]:
    """(submodule path, the rest of the key) for the deepest imported submodule that holds `key`: a
    TransformerEncoderLayer imported whole holds ``l1.self_attn.in_proj_weight`` as ``self_attn.in_proj_weight``."""
    parts = key.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        path = ".".join(parts[:cut])
        if path in modules:
            return path, ".".join(parts[cut:])
    return "", key

"""Structured channel pruning: whole output channels of the network's top-level convolutions and linear layers
removed, so the pruned network is an ordinary smaller one that the graph can describe with new sizes.

torch-pruning's dependency graph finds every layer that a removed channel reaches (the next layer's inputs, a
BatchNorm, the other side of an Add), so coupled layers lose the same channels. Only layers whose size is a
parameter of a top-level node are pruned (Conv*: out_channels, Linear: out_features); everything else that
holds weights (composite blocks, recurrent layers, embeddings) is left, and so is every layer whose channels
reach the network's output, since its size is the output's.
"""

from __future__ import annotations

import contextlib
import copy
import re
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
import torch_pruning as tp
from torch import nn

from netbuilder.analysis import analyze
from netbuilder.project import Project, copy_project
from netbuilder.training.program import Program, ProgramError, load_program

_SIZED = {nn.Conv1d: "out_channels", nn.Conv2d: "out_channels", nn.Conv3d: "out_channels", nn.Linear: "out_features"}
_BLOCK_LAYER = re.compile(r"^\s*self\.(\w+) = nn\.(?:Conv[123]d|Linear)\((?!\w+=)", re.MULTILINE)
_NORMS = (nn.modules.batchnorm._BatchNorm, nn.LayerNorm)
_IMPORTANCE = {"l1": 1, "l2": 2}
_SEARCH_STEPS = 14  # bisection on the pruning ratio: 2**-14 is far finer than one channel of any layer


@dataclass(frozen=True)
class ChannelPruning:
    """A pruned copy of a network, the new sizes of its nodes (node id -> {"out_channels": 12}) and its
    multiply-accumulates per sample before and after."""

    model: nn.Module
    sizes: dict[str, dict[str, int]]
    macs_before: int
    macs_after: int


def prune_channels(
    program: Program, model: nn.Module, *, macs_fraction: float, importance: str = "l2"
) -> ChannelPruning:
    """Remove the output channels of least `importance` ("l2" or "l1" norm of their weights) from the top-level
    Conv/Linear layers of `model` (built by `program`), every prunable layer by the same share, the smallest
    share whose MACs are at most `macs_fraction` of the network's. `model` is left as it was. ValueError
    (one line) when nothing can be pruned or the target cannot be reached."""
    if not 0 < macs_fraction < 1:
        raise ValueError(f"the MACs fraction must be between 0 and 1, not {macs_fraction}")
    if importance not in _IMPORTANCE:
        raise ValueError(f"unknown channel importance {importance!r}: use one of {', '.join(_IMPORTANCE)}")
    model = copy.deepcopy(model).cpu().eval()
    inputs = _example_inputs(program)
    macs_before = _macs(model, inputs)
    target = macs_fraction * macs_before
    prunable = _prunable(program, model, inputs)
    if not prunable:
        raise ValueError(
            "nothing to prune: no convolution or linear layer with its size as a parameter feeds only layers "
            "of inferred size before the output layer"
        )
    # the largest share that leaves each layer one channel (torch-pruning keeps int(size * (1 - share)))
    fewest = min(_size(getattr(model, name)) for name in prunable)
    low, high = 0.0, 1 - (1 + 1e-6) / fewest
    best = _pruned(program, model, inputs, prunable, high, importance)
    best_macs = _macs(best, inputs)
    if best_macs > target:
        raise ValueError(
            f"pruning channels reaches {best_macs / macs_before:.0%} of the MACs at most, not {macs_fraction:.0%}: "
            "most of the work is in layers it leaves (the output layer, blocks whose sizes are not parameters)"
        )
    for _ in range(_SEARCH_STEPS):
        middle = (low + high) / 2
        candidate = _pruned(program, model, inputs, prunable, middle, importance)
        macs = _macs(candidate, inputs)
        if macs <= target:
            high, best, best_macs = middle, candidate, macs
        else:
            low = middle
    return ChannelPruning(best, _sizes(program, model, best), macs_before, best_macs)


def pruned_project(project: Project, pruning: ChannelPruning, weights_path: Path) -> Project:
    """A copy of `project` with the pruned sizes on its nodes and `weights_path` (a safetensors file of the
    pruned weights keyed by node id, as netbuilder.runtime.starting_weights.write_starting_weights writes it)
    as its starting weights. ValueError (one line) when the graph does not describe the pruned network: it
    fails its checks, or the model it generates holds tensors of other shapes."""
    pruned = copy_project(project)
    for node_id, sizes in pruning.sizes.items():
        node = pruned.graph.nodes[node_id]
        for name, value in sizes.items():
            if name not in node.params:
                raise ValueError(f"{node.label} ({node.block}) lost channels, but its size is not a parameter")
            pruned.graph.set_param(node_id, name, value)
    problems = [d.message for d in analyze(pruned.graph).problems(training=True) if d.is_error]
    if problems:
        raise ValueError("the pruned graph does not check: " + "; ".join(problems[:3]))
    try:
        program = load_program(copy_project(pruned))  # no weights yet: only the shapes are compared
    except ProgramError as err:
        raise ValueError(f"the pruned graph does not build: {err}") from None
    with torch.device("meta"):
        built = getattr(program.model_module, program.model_code.class_name)().state_dict()
    wanted = pruning.model.state_dict()
    wrong = sorted(key for key in wanted.keys() | built.keys() if _shape(built, key) != _shape(wanted, key))
    if wrong:
        first = wrong[0]
        raise ValueError(
            f"the pruned graph builds {first} as {_shape(built, first)}, the pruned network has "
            f"{_shape(wanted, first)} ({len(wrong)} tensors differ)"
        )
    pruned.set_weights(weights_path)
    return pruned


def _pruned(
    program: Program,
    model: nn.Module,
    inputs: tuple[torch.Tensor, ...],
    names: set[str],
    ratio: float,
    importance: str,
) -> nn.Module:
    """A copy of `model` with `ratio` of the channels of each layer named in `names` removed."""
    model = copy.deepcopy(model)
    prunable = {getattr(model, name) for name in names}
    inferred = {getattr(model, attribute, None) for attribute in program.model_code.attributes.values()}
    inferred = {m for m in inferred if isinstance(m, _NORMS)}  # their size follows the layer before
    ignored = [
        m
        for m in model.modules()
        if m not in prunable | inferred and next(m.parameters(recurse=False), None) is not None
    ]
    with _quiet():
        pruner = tp.pruner.MetaPruner(
            model,
            inputs,
            importance=tp.importance.MagnitudeImportance(p=_IMPORTANCE[importance]),
            pruning_ratio=ratio,
            ignored_layers=ignored,
            root_module_types=list(_SIZED),
        )
    pruner.step()
    return model


def _prunable(program: Program, model: nn.Module, inputs: tuple[torch.Tensor, ...]) -> set[str]:
    """The attributes of the top-level Conv/Linear blocks of `model` whose channels reach neither its output
    nor a layer whose input size is fixed (a composite block's, a LibraryModule's, a convolution with groups,
    whose sizes must stay multiples of its groups)."""
    # a Conv/Linear block is built with its sizes first, `self.conv1 = nn.Conv2d(1, 16, ...)`; a LibraryModule
    # naming torch.nn.Linear is built with keywords only and keeps its size in them, not in a parameter
    built = set(_BLOCK_LAYER.findall(program.model_code.source))
    top = {getattr(model, attribute, None) for attribute in program.model_code.attributes.values()}
    sized = {m for m in top if type(m) in _SIZED and _attribute(model, m) in built and getattr(m, "groups", 1) == 1}
    layers = sized - _output_layers(model, inputs, sized)
    # a removed channel must reach only layers whose input size is inferred: the sized blocks and the norms
    inferred = sized | {m for m in top if isinstance(m, _NORMS)}
    fixed = {m for m in model.modules() if m not in inferred and next(m.parameters(recurse=False), None) is not None}
    with _quiet():
        graph = tp.DependencyGraph().build_dependency(model, example_inputs=inputs)
    return {_attribute(model, layer) for layer in layers if not _reaches_fixed(graph, layer, fixed)}


def _reaches_fixed(graph: tp.DependencyGraph, layer: nn.Module, fixed: set[nn.Module]) -> bool:
    """Whether removing one output channel of `layer` changes one of `fixed` or a learned Parameter block
    (torch-pruning's "unwrapped parameters", whose shape is a parameter of its node)."""
    prune = tp.prune_linear_out_channels if isinstance(layer, nn.Linear) else tp.prune_conv_out_channels
    targets = [dep.target.module for dep, _ in graph.get_pruning_group(layer, prune, idxs=[0])]
    return any(isinstance(t, nn.Parameter) or t in fixed for t in targets)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """torch-pruning warns of the learned Parameter blocks it finds; they are left (_reaches_fixed)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Unwrapped parameters", category=UserWarning)
        yield


def _attribute(model: nn.Module, module: nn.Module) -> str:
    return next(name for name, child in model.named_children() if child is module)


def _output_layers(model: nn.Module, inputs: tuple[torch.Tensor, ...], layers: set[nn.Module]) -> set[nn.Module]:
    """The layers among `layers` whose output channels are the network's: walking back from its outputs
    through autograd, the first of them met on each path."""
    made_by: dict[torch.autograd.graph.Node, nn.Module] = {}

    def note(module: nn.Module, _args: object, output: torch.Tensor) -> None:
        if isinstance(output, torch.Tensor) and output.grad_fn is not None:
            made_by[output.grad_fn] = module

    hooks = [layer.register_forward_hook(note) for layer in layers]
    try:
        with torch.enable_grad():
            outputs = model(*inputs)
    finally:
        for hook in hooks:
            hook.remove()
    found: set[nn.Module] = set()
    seen: set[torch.autograd.graph.Node] = set()
    stack = [t.grad_fn for t in _tensors(outputs) if t.grad_fn is not None]
    while stack:
        function = stack.pop()
        if function in seen:
            continue
        seen.add(function)
        if function in made_by:
            found.add(made_by[function])
            continue
        stack.extend(f for f, _ in function.next_functions if f is not None)
    return found


def _size(layer: nn.Module) -> int:
    return getattr(layer, _SIZED[type(layer)])


def _tensors(outputs: object) -> list[torch.Tensor]:
    if isinstance(outputs, torch.Tensor):
        return [outputs]
    if isinstance(outputs, Mapping):
        outputs = list(outputs.values())
    return [t for item in outputs for t in _tensors(item)] if isinstance(outputs, (list, tuple)) else []


def _sizes(program: Program, before: nn.Module, after: nn.Module) -> dict[str, dict[str, int]]:
    """The node parameters that changed: out_channels or out_features."""
    sizes: dict[str, dict[str, int]] = {}
    for node_id, attribute in program.model_code.attributes.items():
        old, new = getattr(before, attribute, None), getattr(after, attribute, None)
        if type(old) not in _SIZED:
            continue
        if _size(old) != _size(new):
            sizes[node_id] = {_SIZED[type(old)]: _size(new)}
    return sizes


def _example_inputs(program: Program) -> tuple[torch.Tensor, ...]:
    """A batch of two of the analysed input shapes (class indices below the class count), to trace with."""
    generator = torch.Generator().manual_seed(0)
    tensors = []
    for model_input in program.model_code.inputs:
        shape = (2, *model_input.type.features)
        if model_input.type.dtype == "int64":
            tensors.append(torch.randint(model_input.type.classes or 1, shape, generator=generator))
        else:
            tensors.append(torch.randn(shape, generator=generator))
    return tuple(tensors)


def _macs(model: nn.Module, inputs: tuple[torch.Tensor, ...]) -> int:
    """Multiply-accumulates of one sample through `model`."""
    macs, _ = tp.utils.count_ops_and_params(model, tuple(t[:1] for t in inputs))
    return int(macs)


def _shape(state: Mapping[str, torch.Tensor], key: str) -> tuple[int, ...] | None:
    return tuple(state[key].shape) if key in state else None

"""Int8 quantization of a trained network, and the deployable file of a network, quantized or not.

Three methods: dynamic int8 (weights stored as int8, activations quantized batch by batch as they come; no
calibration), weight-only int8 (weights int8, arithmetic in float: smaller, about as fast) and static int8
(weights and activations int8 with activation scales fixed beforehand on calibration batches; what makes a
convolution network faster on a CPU once compiled). Linear layers go through torchao, torch's maintained
quantization library; static int8 goes through torch.export and torchao's pt2e flow."""

from __future__ import annotations

import contextlib
import copy
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

import torch
from torch import nn

from netbuilder.atomic_file import open_atomically
from netbuilder.runtime.torchao_import import torchao_notices_silenced

DYNAMIC, STATIC, WEIGHT_ONLY = "dynamic-int8", "static-int8", "weight-int8"
METHODS = (DYNAMIC, STATIC, WEIGHT_ONLY)

RECURRENT = (nn.LSTM, nn.GRU)
CONVOLUTIONS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)


def why_not(model: nn.Module, method: str) -> str:
    """Empty when `method` applies to `model`, else one line saying why it does not (shown in place of a result)."""
    modules = list(model.modules())
    linear = any(_quantizable_linear(module) for module in modules)
    recurrent = any(isinstance(module, RECURRENT) for module in modules)
    if method == DYNAMIC:
        return (
            "" if linear or recurrent else "dynamic int8 quantizes Linear, LSTM and GRU layers; this network has none"
        )
    if method == WEIGHT_ONLY:
        return "" if linear else "weight-only int8 quantizes Linear layers; this network has none"
    if method == STATIC:
        if not any(isinstance(module, CONVOLUTIONS) for module in modules):
            return "static int8 pays off for convolutions; this network has none (dynamic int8 does its Linear layers)"
        if recurrent:
            return "static int8 cannot quantize LSTM or GRU layers; use dynamic int8"
        return ""
    raise ValueError(f"unknown quantization {method!r}: choose from {', '.join(METHODS)}")


def quantize(
    model: nn.Module,
    method: str,
    *,
    example_inputs: tuple[torch.Tensor, ...],
    calibration: Iterable[tuple[torch.Tensor, ...]] = (),
) -> nn.Module:
    """A quantized copy of `model` (left untouched), in eval mode on the CPU, that takes the same inputs.

    `example_inputs`: one batch of the network's inputs (static int8 traces the network with it);
    `calibration`: batches of real inputs whose activation ranges set static int8's scales (the example
    batch alone when there are none)."""
    why = why_not(model, method)
    if why:
        raise ValueError(why)
    network = copy.deepcopy(model).cpu().eval()
    with _quiet():
        if method == STATIC:
            return _static(network, example_inputs, calibration)
        if method == DYNAMIC and any(isinstance(module, RECURRENT) for module in network.modules()):
            # torchao has no int8 LSTM or GRU: torch.ao's eager quantize_dynamic is the only one (deprecated, still
            # working). Its packed LSTM cannot be exported, so the network becomes a TorchScript file; its Linear
            # layers go the same way, since TorchScript cannot hold torchao's int8 tensors.
            holder = nn.ModuleDict({"network": network})  # quantize_dynamic converts children, never the root
            holder = torch.ao.quantization.quantize_dynamic(holder, {*RECURRENT, nn.Linear}, dtype=torch.qint8)
            return holder["network"].eval()
        from torchao.quantization import Int8DynamicActivationInt8WeightConfig, Int8WeightOnlyConfig, quantize_

        config = Int8DynamicActivationInt8WeightConfig() if method == DYNAMIC else Int8WeightOnlyConfig()
        quantize_(network, config, filter_fn=lambda module, _name: _quantizable_linear(module))
    return network.eval()


def compiled(model: nn.Module) -> nn.Module:
    """`model` compiled by torch.compile, for timing: a static int8 network runs its reference quantize and
    dequantize steps one by one in eager mode (slower than float) and only fused into int8 kernels compiled.
    Compiling happens on the first call (seconds)."""
    return torch.compile(model)


def save_model(model: nn.Module, example_inputs: tuple[torch.Tensor, ...], path: Path) -> Path:
    """Write the deployable file of `model` beside `path` (its name plus a suffix) and return where: a
    torch.export program `.pt2` (any batch size; load with torch.export.load(...).module()) where torch.export
    handles the network, else a TorchScript `.ts` (torch.jit.load), as for an int8 LSTM. Atomic."""
    path = Path(path)
    stem = path.with_suffix("") if path.suffix in (".pt2", ".ts") else path
    model.eval()  # in place: a pt2e module's eval() returns None
    with _quiet():
        try:
            # a copy: tracing leaves weak references to torchao's int8 weights that would stop the caller's
            # later model.to(...) ("Couldn't swap Linear.weight")
            program = _export(copy.deepcopy(model), example_inputs)
        except Exception:  # torch.export fails in many ways; TorchScript is the way left
            program = None
        if program is not None:
            target = stem.with_name(stem.name + ".pt2")
            with open_atomically(target) as stream:
                torch.export.save(program, stream)
            return target
        try:
            script = torch.jit.script(model)
        except Exception:  # a network TorchScript cannot compile is traced instead
            script = torch.jit.trace(model, example_inputs)
        target = stem.with_name(stem.name + ".ts")
        with open_atomically(target) as stream:
            torch.jit.save(script, stream)
        return target


def _static(
    network: nn.Module, example_inputs: tuple[torch.Tensor, ...], calibration: Iterable[tuple[torch.Tensor, ...]]
) -> nn.Module:
    """Static int8 through torchao's pt2e flow: export, insert observers (X86InductorQuantizer's choice of
    what to quantize), run the calibration batches through, convert to quantize/dequantize steps."""
    import torchao.quantization.pt2e.quantizer.x86_inductor_quantizer as xiq
    from torchao.quantization.pt2e import allow_exported_model_train_eval, move_exported_model_to_eval
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    quantizer = xiq.X86InductorQuantizer()
    quantizer.set_global(xiq.get_default_x86_inductor_quantization_config())
    prepared = prepare_pt2e(_export(network, example_inputs).module(), quantizer)
    batches = 0
    with torch.no_grad():
        for batch in calibration:
            prepared(*(tensor.cpu() for tensor in batch))
            batches += 1
        if not batches:
            prepared(*example_inputs)
    converted = _without_unused_tensors(move_exported_model_to_eval(convert_pt2e(prepared)))
    for module in converted.modules():  # the graph is in eval form now; say so as module.eval() would
        module.training = False
    return allow_exported_model_train_eval(converted)  # so callers may call .eval() as on any module


def _without_unused_tensors(module: torch.fx.GraphModule) -> torch.fx.GraphModule:
    """`module` without the float weights convert_pt2e leaves behind beside their int8 copies: nothing reads
    them, but an export would save them, making the int8 file larger than the float one."""
    used = {node.target for node in module.graph.nodes if node.op == "get_attr"}
    for name in [name for name, _ in [*module.named_parameters(), *module.named_buffers()] if name not in used]:
        owner, _, leaf = name.rpartition(".")
        delattr(module.get_submodule(owner), leaf)
    return module


def _export(model: nn.Module, example_inputs: tuple[torch.Tensor, ...]) -> torch.export.ExportedProgram:
    """`model` exported with the batch dimension of every input left free."""
    # torch.export fixes a dimension of size 1, so a one-sample example is doubled
    inputs = tuple(torch.cat([tensor, tensor]) if len(tensor) == 1 else tensor for tensor in example_inputs)
    batch = torch.export.Dim("batch")
    return torch.export.export(model, inputs, dynamic_shapes=tuple({0: batch} for _ in inputs))


def _quantizable_linear(module: nn.Module) -> bool:
    """A Linear layer that int8 can replace: not the output projection inside nn.MultiheadAttention, whose
    weight attention reads directly."""
    return isinstance(module, nn.Linear) and not isinstance(module, nn.modules.linear.NonDynamicallyQuantizableLinear)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """torch's deprecation notices (torch.ao.quantization, TorchScript, quantized tensors) silenced: the paths
    taken here are the ones still working in this torch, chosen knowing they are deprecated."""
    with torchao_notices_silenced(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.filterwarnings("ignore", message=".*deprecated.*")
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", message=".*assigned during export.*")  # an LSTM's own weight list
        yield

"""Each written file loaded in the consumer a user would load it with (torch.jit.load, torch.export.load,
onnxruntime; the LiteRT interpreter and the ExecuTorch runtime where their packages are installed), as a plain
function from the model's inputs (CPU torch tensors) to its output tensor(s), so that one check can run every
format on the same data."""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from pathlib import Path

import torch

from netbuilder.export.executorch_file import load_executorch
from netbuilder.export.litert_file import load_litert

Consumer = Callable[..., torch.Tensor | tuple[torch.Tensor, ...]]


def _torchscript(path: Path) -> Consumer:
    with warnings.catch_warnings():  # torch calls TorchScript deprecated; the file is still what was asked for
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"torch\.jit")
        module = torch.jit.load(str(path), map_location="cpu").eval()
    return _no_grad(module)


def _pt2(path: Path) -> Consumer:
    # read as bytes: torch.export.load warns of any file name that does not end in .pt2
    return _no_grad(torch.export.load(io.BytesIO(path.read_bytes())).module())


def _onnxruntime(path: Path) -> Consumer:
    import onnxruntime

    from netbuilder.export.onnx_file import QUIET

    options = onnxruntime.SessionOptions()
    options.log_severity_level = QUIET
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]

    def run(*inputs: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        feeds = {name: tensor.detach().cpu().numpy() for name, tensor in zip(names, inputs, strict=True)}
        outputs = tuple(torch.from_numpy(array) for array in session.run(None, feeds))
        return outputs[0] if len(outputs) == 1 else outputs

    return run


def _no_grad(module: Callable[..., torch.Tensor]) -> Consumer:
    """The module as a function (not a submodule of whoever calls it: an exported program refuses eval())."""

    def run(*inputs: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        with torch.no_grad():
            return module(*inputs)

    return run


LOADERS: dict[str, Callable[[Path], Consumer]] = {
    "torchscript": _torchscript,
    "pt2": _pt2,
    "onnx": _onnxruntime,
    "onnx-int8": _onnxruntime,
    "litert": load_litert,
    "executorch": load_executorch,
}
"""The loader of each format that is a runnable model (safetensors and summary.md are not)."""


def load_consumer(fmt: str, path: Path) -> Consumer:
    """The file at `path`, of format `fmt` (a key of LOADERS), loaded in its consumer."""
    return LOADERS[fmt](path)

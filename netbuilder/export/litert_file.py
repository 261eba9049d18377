"""model.tflite: the network for LiteRT (the runtime once called TensorFlow Lite, on phones and small devices),
converted by litert-torch and checked with LiteRT's own interpreter. An optional extra, installed with
`pip install 'netbuilder[litert]'`; without it this format reports the missing package.

The file has a fixed batch size, the example's (EXAMPLE_BATCH): litert-torch converts the shapes it was shown.
load_litert's callable runs a larger batch in pieces of that size."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy
import torch

from netbuilder.export.checks import check_against_model
from netbuilder.export.fixed_batch import in_fixed_batches
from netbuilder.export.subject import EXAMPLE_BATCH, Subject

FILE_NAME = "model.tflite"
TOLERANCE = 1e-4  # the interpreter's kernels (XNNPACK) sum in another order than torch's
CHECKED_BATCHES = (EXAMPLE_BATCH, 2 * EXAMPLE_BATCH + 1)  # one piece, and several with a padded last one


def write_litert(subject: Subject, path: Path) -> None:
    """Convert with litert_torch.convert on the example inputs, write the .tflite, then run it with LiteRT's
    interpreter on a batch of the example's size and on a larger one: each must give the model's outputs
    within TOLERANCE."""
    # litert-torch draws a progress tree on the terminal unless told not to; a person who set it keeps it
    os.environ.setdefault("LITERT_TORCH_SHOW_PROGRESS", "n")
    import litert_torch  # the optional extra: loaded only when this format is asked for

    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.export's notes on its own internals, as for ONNX
        converted = litert_torch.convert(subject.model, subject.example_inputs())
    converted.export(str(path))
    run = load_litert(path)
    check_against_model(subject, run, CHECKED_BATCHES, TOLERANCE, "LiteRT's interpreter")


def load_litert(path: Path) -> Callable[..., torch.Tensor | tuple[torch.Tensor, ...]]:
    """The .tflite at `path` in LiteRT's interpreter, as a callable taking forward()'s inputs (CPU tensors, any
    batch size) and returning its output tensor(s)."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    runner = interpreter.get_signature_runner()
    # litert-torch names the signature's inputs args_0, args_1 ... and its outputs output_0 ... in forward()'s order
    inputs = runner.get_input_details()
    names = sorted(inputs, key=_position)
    batch = int(inputs[names[0]]["shape"][0])

    def run(tensors: tuple[torch.Tensor, ...]) -> list[torch.Tensor]:
        feeds = {
            name: tensor.numpy().astype(inputs[name]["dtype"], copy=False)
            for name, tensor in zip(names, tensors, strict=True)
        }
        outputs = runner(**feeds)
        return [torch.from_numpy(numpy.array(outputs[name])) for name in sorted(outputs, key=_position)]

    return in_fixed_batches(run, batch)


def _position(name: str) -> int:
    """The index at the end of a signature name ("args_3", "output_0")."""
    return int(name.rsplit("_", 1)[1])

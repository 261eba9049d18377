"""model.pte: the network for ExecuTorch (PyTorch's runtime for phones and small devices), lowered through
torch.export to the XNNPACK backend and checked with ExecuTorch's runtime. An optional extra, installed with
`pip install 'netbuilder[executorch]'`; without it this format reports the missing package.

The file has a fixed batch size, the example's (EXAMPLE_BATCH): its memory is planned for those shapes.
load_executorch's callable runs a larger batch in pieces of that size."""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import torch

from netbuilder.export.checks import check_against_model
from netbuilder.export.fixed_batch import in_fixed_batches
from netbuilder.export.subject import EXAMPLE_BATCH, Subject
from netbuilder.runtime.torchao_import import torchao_notices_silenced

FILE_NAME = "model.pte"
TOLERANCE = 1e-4  # XNNPACK's kernels sum in another order than torch's
CHECKED_BATCHES = (EXAMPLE_BATCH, 2 * EXAMPLE_BATCH + 1)  # one piece, and several with a padded last one


def write_executorch(subject: Subject, path: Path) -> None:
    """torch.export on the example inputs, lowered with to_edge_transform_and_lower (the XNNPACK partitioner
    takes what it can run, the portable kernels the rest), written as a .pte, then run with ExecuTorch's
    runtime on a batch of the example's size and on a larger one: each must give the model's outputs within
    TOLERANCE."""
    with torchao_notices_silenced():  # the optional extra, loaded only when this format is asked for
        from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
        from executorch.exir import to_edge_transform_and_lower

    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.export's notes on its own internals, as for ONNX
        exported = torch.export.export(subject.model, subject.example_inputs())
        program = to_edge_transform_and_lower(exported, partitioner=[XnnpackPartitioner()]).to_executorch()
    with open(path, "wb") as stream:
        program.write_to_file(stream)
    run = load_executorch(path)
    check_against_model(subject, run, CHECKED_BATCHES, TOLERANCE, "ExecuTorch's runtime")


def load_executorch(path: Path) -> Callable[..., torch.Tensor | tuple[torch.Tensor, ...]]:
    """The .pte at `path` in ExecuTorch's runtime, as a callable taking forward()'s inputs (CPU tensors, any
    batch size) and returning its output tensor(s)."""
    from executorch.runtime import Runtime

    with _native_stderr_silenced():  # XNNPACK's start-up reads CPU details and prints what it cannot find
        method = Runtime.get().load_program(Path(path)).load_method("forward")
    batch = method.metadata.input_tensor_meta(0).sizes()[0]

    def run(tensors: tuple[torch.Tensor, ...]) -> list[torch.Tensor]:
        # the outputs live in the method's planned memory, which the next call writes over: copied out
        return [output.clone() for output in method.execute([tensor.contiguous() for tensor in tensors])]

    return in_fixed_batches(run, batch)


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """The process's file descriptor 2 pointed at os.devnull for the moment: C++ code writes there directly."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)

"""model.ts: the network as TorchScript, loadable with torch.jit.load and no Python source."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch

from netbuilder.export.checks import check_close, outputs_of
from netbuilder.export.subject import Subject

FILE_NAME = "model.ts"
TOLERANCE = 1e-5


def write_torchscript(subject: Subject, path: Path) -> None:
    """Script the model (keeps any control flow); where scripting fails, trace it on an example input of the
    analysed shape. The file is loaded back and must give the model's outputs."""
    example = subject.example_inputs()
    with torch.no_grad(), warnings.catch_warnings():
        # torch calls TorchScript deprecated; people who ask for model.ts still want it, without the nagging
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"torch\.jit")
        try:
            compiled = torch.jit.script(subject.model)
        except Exception:  # what TorchScript's compiler cannot read, tracing records as it runs
            compiled = torch.jit.trace(subject.model, example)
        compiled.save(str(path))
        loaded = torch.jit.load(str(path), map_location="cpu")
        check_close(
            outputs_of(subject.model(*example)), outputs_of(loaded(*example)), TOLERANCE, "the TorchScript file"
        )

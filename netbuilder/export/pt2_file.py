"""model.pt2: the network as a torch.export program (dynamic batch), loadable with torch.export.load and no
Python source of ours: the program is JSON and the weights raw tensors (torch.export also keeps its example inputs,
torch.save'd, in the archive)."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import torch

from netbuilder.export.checks import check_against_model
from netbuilder.export.onnx_file import CHECKED_BATCHES
from netbuilder.export.subject import Subject

FILE_NAME = "model.pt2"
TOLERANCE = 1e-5


def export_program(subject: Subject) -> torch.export.ExportedProgram:
    """The model exported by torch.export with the batch dimension of every input dynamic."""
    batch = torch.export.Dim("batch")
    with torch.no_grad(), warnings.catch_warnings():
        # torch.export's notes on its own internals are not the user's; the check below decides
        warnings.simplefilter("ignore")
        return torch.export.export(
            subject.model,
            subject.example_inputs(),
            dynamic_shapes={name: {0: batch} for name in subject.input_names()},
        )


def write_pt2(subject: Subject, path: Path) -> None:
    """Export, save with torch.export.save, load the file back with torch.export.load(...).module() and run
    it on two batch sizes other than the example's: each must give the model's outputs within TOLERANCE."""
    buffer = io.BytesIO()  # torch.export.save warns of a file name not ending in .pt2, as the partial one does
    torch.export.save(export_program(subject), buffer)
    path.write_bytes(buffer.getvalue())
    from netbuilder.export.consumers import load_consumer  # which loads this module's neighbours

    check_against_model(subject, load_consumer("pt2", path), CHECKED_BATCHES, TOLERANCE, "the torch.export file")

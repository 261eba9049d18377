"""model.safetensors: the weights in a format that holds tensors only, so loading it runs no code."""

from __future__ import annotations

from pathlib import Path

from safetensors.torch import save

from netbuilder.analysis import analyze
from netbuilder.codegen.model_code import generate_model
from netbuilder.codegen.train_script import STARTING_WEIGHTS_FILE
from netbuilder.export.subject import Subject, starting_tensors
from netbuilder.project import Project
from netbuilder.runtime.build import load_module
from netbuilder.runtime.starting_weights import save_tensors

FILE_NAME = "model.safetensors"


def write_safetensors(subject: Subject, path: Path) -> None:
    """The model's state_dict under the generated attribute names, so load_state_dict(load_file(path)) on
    the exported model.py's class restores the network."""
    state = {name: tensor.detach().contiguous() for name, tensor in subject.model.state_dict().items()}
    path.write_bytes(save(state, metadata={"format": "pt", "model": subject.code.class_name}))


def write_starting_weights_file(project: Project, folder: Path) -> Path:
    """starting_weights.safetensors for the code package: exactly the tensors the app loads into a new
    network (Program.new_model), by attribute, so `python train.py` starts where the app starts.
    ExportError when the project's file is missing or unreadable."""
    code = generate_model(project.graph, analyze(project.graph), name=project.name)
    tensors = starting_tensors(project, code, getattr(load_module(code.source), code.class_name))
    path = folder / STARTING_WEIGHTS_FILE
    save_tensors(tensors, path)
    return path

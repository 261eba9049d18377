"""model.safetensors: the weights in a format that holds tensors only, so loading it runs no code."""

from __future__ import annotations

from pathlib import Path

from safetensors.torch import save

from netbuilder.export.subject import Subject

FILE_NAME = "model.safetensors"


def write_safetensors(subject: Subject, path: Path) -> None:
    """The model's state_dict under the generated attribute names, so load_state_dict(load_file(path)) on
    the exported model.py's class restores the network."""
    state = {name: tensor.detach().contiguous() for name, tensor in subject.model.state_dict().items()}
    path.write_bytes(save(state, metadata={"format": "pt", "model": subject.code.class_name}))

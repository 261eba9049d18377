"""Reading a saved state_dict safely: torch.load with weights_only=True, so nothing in the file is executed."""

from __future__ import annotations

import stat
from pathlib import Path

import torch


class WeightsFileError(ValueError):
    """The file is not a state_dict netbuilder can read; the message says why, naming the file by `name`."""


def read_state_dict(path: Path, name: str | None = None) -> dict[str, torch.Tensor]:
    """The tensors of a state_dict saved with torch.save (a run's model.pt). `name` is how messages call the
    file (its path unless given). Raises FileNotFoundError when it is missing, WeightsFileError otherwise."""
    shown = name or str(path)
    kind = path.stat().st_mode  # FileNotFoundError when missing
    if stat.S_ISDIR(kind):
        raise WeightsFileError(f"{shown} is a folder: give the weights file in it (a run's model.pt)")
    if not stat.S_ISREG(kind):  # a FIFO or a device would block the read or never end it
        raise WeightsFileError(f"{shown} is not a regular file: give a weights file (a run's model.pt)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as err:  # torch.load fails on foreign bytes with any kind of exception
        raise WeightsFileError(f"{shown} is not a weights file netbuilder can read ({first_line(err)})") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsFileError(f"{shown} holds no network weights (a run's model.pt does)")
    return state


def first_line(err: BaseException) -> str:
    """An exception in one line: the first sentence of its message's first line, or its type when it has none.
    torch follows what went wrong with advice meant for code that calls it ("Re-running `torch.load` with
    `weights_only` set to False will likely succeed"), which a person reading netbuilder's message must not
    take as theirs."""
    text = str(err).strip()
    if not text:
        return type(err).__name__
    line = text.splitlines()[0]
    return line.split(". ", 1)[0].rstrip(".")

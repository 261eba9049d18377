"""The engine's files on disk: weights and checkpoints written atomically, checkpoints read back safely.

Writing goes through `open_atomically`, so a full disk or a crash leaves the previous file whole and no
temporary file behind, and the error says in one line which file could not be written (torch turns an error
of the stream it writes into "unexpected pos 2880 vs 2774"; the stream's own error is kept and shown instead).

Reading (`read_checkpoint`) happens before any data loads: the file is read with `weights_only` (nothing in it
is executed), every library error becomes one `CheckpointError` line, and its structure is checked against the
network the project builds now (keys, shapes, dtypes, the optimizer's parameters), so that a wrong file is
refused in a second rather than with a traceback after the data has loaded.
"""

from __future__ import annotations

import os
import pickle
import stat
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

import torch

from netbuilder import quoting
from netbuilder.atomic_file import link_atomically, open_atomically
from netbuilder.runtime.weights import first_line
from netbuilder.training.program import Program

CHECKPOINT_FORMAT = 1
# what every checkpoint of this format holds beside the callbacks' numbers, and what each must be
_PARTS: dict[str, type | tuple[type, ...]] = {
    "model": dict,
    "optimizer": dict,
    "scheduler": dict,
    "scaler": dict,
    "rng": dict,
    "epoch": int,
    "position": int,
    "order": torch.Tensor,
    "global_step": int,
    "epoch_loss": torch.Tensor,
    "epoch_correct": torch.Tensor,
    "history": list,
}


class CheckpointError(ValueError):
    """A checkpoint that cannot be gone on from; the message, one line, names the file and says why."""


class WriteError(OSError):
    """A weights or checkpoint file could not be written (a full disk, no permission); the message is one line
    naming the file, and the file as it was before is still there."""


def on_host(state: Any) -> Any:
    """`state` (dicts, lists and tuples of tensors and plain values) as it is now, to keep while training goes on:
    every container made anew and every tensor copied to the CPU (torch.save's own copy: one by one, each waiting
    for its stream only, never for the whole device, where another run may be capturing a CUDA graph)."""
    if isinstance(state, torch.Tensor):
        return state.detach().to("cpu", copy=True)
    if isinstance(state, dict):
        return {key: on_host(value) for key, value in state.items()}
    if isinstance(state, list | tuple):
        return type(state)(on_host(value) for value in state)
    return state


def save_file(contents: Any, path: Path) -> Path:
    """torch.save `contents` to `path` atomically (see open_atomically); WriteError when it cannot be written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open_atomically(path) as stream:
            recording = _ErrorRecordingStream(stream)
            try:
                torch.save(contents, recording)
            except RuntimeError:
                if recording.error is None:
                    raise
                raise recording.error from None  # the stream's own error, not torch's account of it
    except OSError as err:
        raise WriteError(f"cannot write {path}: {err.strerror or err}") from None
    return path


def save_same(written: Path, path: Path) -> Path:
    """`path` holding what the file save_file wrote at `written` holds, as a second name of that file
    (link_atomically: a 90 MB checkpoint costs a rename, not a second serialisation and sync); WriteError
    when it cannot be made."""
    try:
        link_atomically(written, path)
    except OSError as err:
        raise WriteError(f"cannot write {path}: {err.strerror or err}") from None
    return path


class _ErrorRecordingStream:
    """Passes writes on to a stream and remembers the OSError one of them raised."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.error: OSError | None = None

    def write(self, data: bytes) -> int:
        try:
            return self.stream.write(data)
        except OSError as err:
            self.error = err
            raise

    def flush(self) -> None:
        self.stream.flush()


def read_checkpoint(
    path: Path, program: Program, *, name: str | None = None, map_location: str | torch.device = "cpu"
) -> dict[str, Any]:
    """A netbuilder checkpoint (a run's last.pt or best.pt) that the project's network can go on from.

    `name` is how messages call the file (its path unless given, "--resume x.pt" on the command line). Reads
    with weights_only and checks the structure against the network `program` builds (on the meta device, so
    nothing is allocated); CheckpointError with one line otherwise."""
    shown = name or str(path)
    state = _load(path, shown, map_location)
    check_checkpoint(state, program, shown)
    return state


def _load(path: Path, shown: str, map_location: str | torch.device) -> Any:
    """torch.load with weights_only of a regular file, every failure one CheckpointError."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise CheckpointError(f"{shown}: no such file") from None
    except OSError as err:
        raise CheckpointError(f"{shown}: cannot be read: {err.strerror or err}") from None
    if stat.S_ISDIR(info.st_mode):
        raise CheckpointError(f"{shown}: is a folder; give the checkpoint file in it (last.pt)")
    if not stat.S_ISREG(info.st_mode):  # a FIFO or a device would block or never end
        raise CheckpointError(f"{shown}: is not a regular file")
    if info.st_size == 0:
        raise CheckpointError(f"{shown}: is empty")
    try:
        with open(path, "rb") as stream:
            return _torch_load(stream, shown, map_location)
    except OSError as err:  # opening it (torch's own errors of reading are CheckpointError by now)
        raise CheckpointError(f"{shown}: cannot be read: {err.strerror or err}") from None


def _torch_load(stream: BinaryIO, shown: str, map_location: str | torch.device) -> Any:
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols of foreign files
            warnings.simplefilter("ignore")
            return torch.load(stream, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        if "GLOBAL" in str(err):
            raise CheckpointError(
                f"{shown}: holds Python objects, not only tensors and numbers, so it was not loaded (nothing in "
                "it was run)"
            ) from None
        raise CheckpointError(f"{shown}: truncated or damaged, or not a PyTorch file") from None
    except Exception:  # torch.load fails on foreign bytes with any kind of exception, OSError among them
        raise CheckpointError(f"{shown}: truncated or damaged, or not a PyTorch file") from None


def check_checkpoint(state: Any, program: Program, shown: str) -> None:
    """CheckpointError unless `state` is a checkpoint of this format whose model and optimizer fit the network
    and optimizer that `program` builds now."""
    if not isinstance(state, dict) or "model" not in state:
        if isinstance(state, dict) and state and all(isinstance(v, torch.Tensor) for v in state.values()):
            raise CheckpointError(
                f"{shown}: holds a network's weights alone (a model.pt), not a run to go on from: give the "
                "run's last.pt"
            )
        raise CheckpointError(f"{shown}: not a netbuilder checkpoint (it holds no 'model' state)")
    if type(state.get("format")) is not int or state["format"] != CHECKPOINT_FORMAT:
        found = quoting.shown(state.get("format"))
        raise CheckpointError(f"{shown}: a checkpoint of format {found}; this netbuilder reads {CHECKPOINT_FORMAT}")
    for key, kind in _PARTS.items():
        if key not in state:
            raise CheckpointError(f"{shown}: not a netbuilder checkpoint (it holds no '{key}')")
        if not isinstance(state[key], kind) or isinstance(state[key], bool):
            raise CheckpointError(f"{shown}: damaged: '{key}' is a {type(state[key]).__name__}")
    for key in ("epoch", "position", "global_step"):
        if state[key] < 0:
            raise CheckpointError(f"{shown}: damaged: '{key}' is {state[key]}")
    if not all(isinstance(entry, dict) for entry in state["history"]):
        raise CheckpointError(f"{shown}: damaged: its history holds something other than epochs")
    with torch.device("meta"):  # shapes and dtypes only: nothing is allocated or initialised
        model = getattr(program.model_module, program.model_code.class_name)()
    try:
        _check_rng(state["rng"], shown)
        _check_model(state["model"], model.state_dict(), shown)
        _check_optimizer(state["optimizer"], program.script.make_optimizer(model), shown)
    except (TypeError, KeyError, AttributeError, ValueError) as err:  # a value of an unexpected kind
        if isinstance(err, CheckpointError):
            raise
        raise CheckpointError(f"{shown}: damaged: {type(err).__name__}: {quoting.cut(first_line(err))}") from None


def _check_rng(rng: Mapping[str, Any], shown: str) -> None:
    expected = torch.get_rng_state().numel()
    for key in ("torch", "shuffle"):
        value = rng.get(key)
        if not isinstance(value, torch.Tensor) or value.dtype != torch.uint8 or value.numel() != expected:
            raise CheckpointError(f"{shown}: damaged: its random state '{key}' is not a generator's state")


def _check_model(saved: Mapping[Any, Any], expected: Mapping[str, torch.Tensor], shown: str) -> None:
    """The file's weights against the network's: the same names, shapes and dtypes."""
    missing = [key for key in expected if key not in saved]
    extra = [key for key in saved if key not in expected]
    if missing or extra:
        which = (
            f"layer {quoting.shown(missing[0])} of this network is not in the file"
            if missing
            else f"the file has layer {quoting.shown(extra[0])}, which this network has not"
        )
        raise CheckpointError(f"{shown}: made for another network: {which}")
    for key, tensor in expected.items():
        value = saved[key]
        if not isinstance(value, torch.Tensor):
            raise CheckpointError(f"{shown}: damaged: {key} is a {type(value).__name__}, not a tensor")
        if tuple(value.shape) != tuple(tensor.shape):
            raise CheckpointError(
                f"{shown}: made for another network: layer {key} has shape {list(tensor.shape)} here, "
                f"{list(value.shape)} in the file"
            )
        if value.dtype != tensor.dtype:
            raise CheckpointError(
                f"{shown}: damaged: layer {key} holds {_dtype(value)} in the file, {_dtype(tensor)} here"
            )


def _check_optimizer(saved: Mapping[str, Any], optimizer: torch.optim.Optimizer, shown: str) -> None:
    """The optimizer's parameter groups and per-parameter state against the optimizer the project makes."""
    groups, state = saved.get("param_groups"), saved.get("state")
    if not isinstance(groups, list) or not isinstance(state, dict):
        raise CheckpointError(f"{shown}: damaged: it holds no optimizer state")
    ours = optimizer.param_groups
    sizes = [len(g.get("params", ())) if isinstance(g, dict) else -1 for g in groups]
    if sizes != [len(g["params"]) for g in ours]:
        raise CheckpointError(f"{shown}: made for another network or optimizer: its optimizer's groups do not fit")
    parameters = [p for group in ours for p in group["params"]]
    for index, (saved_id, parameter) in enumerate(
        zip((i for g in groups for i in g["params"]), parameters, strict=True)
    ):
        entry = state.get(saved_id, {})
        if not isinstance(entry, dict):
            raise CheckpointError(f"{shown}: damaged: the optimizer's state of parameter {index} is not a dict")
        for key, value in entry.items():
            if isinstance(value, torch.Tensor) and value.dim() > 0 and value.shape != parameter.shape:
                raise CheckpointError(
                    f"{shown}: made for another optimizer: its '{key}' of parameter {index} has shape "
                    f"{list(value.shape)}, the parameter {list(parameter.shape)}"
                )


def _dtype(tensor: torch.Tensor) -> str:
    return str(tensor.dtype).removeprefix("torch.")

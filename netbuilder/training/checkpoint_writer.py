"""Checkpoints written while training goes on: the state copied to the host at once, the file written behind.

A ResNet-18's checkpoint (weights and SGD's momentum) is 90 MB; written atomically (fsync included) it took
90-250 ms on the development machine, longer than a whole CIFAR-sized epoch on an H200 (about 160 ms), and the
app keeps last.pt after every epoch and best.pt after most early ones. So the epoch's end only copies the state
to the host (`on_host`: the weights change in place at the next step), and one thread writes the files. A file
waiting to be written that a newer state of the same file reaches is replaced by it, so a slow disk costs
checkpoints in between, never training time, and memory for two states at most per file. A write that fails
is told at the next `put` or at `flush` (WriteError, as save_file raises it); the file as it was before is
whole (save_file writes atomically).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import torch

from netbuilder.training.checkpoint_file import WriteError, save_file


def on_host(state: Any) -> Any:
    """`state` (dicts, lists, tuples, tensors and plain values) with every container rebuilt and every tensor
    copied to the CPU, so that nothing in it changes as training goes on: a GPU's tensors are copied without
    waiting one by one (into pinned memory), then once for all of them."""
    on_gpu = False

    def copy(value: Any) -> Any:
        nonlocal on_gpu
        if isinstance(value, torch.Tensor):
            if value.device.type == "cpu":
                return value.detach().clone()
            on_gpu = on_gpu or value.device.type == "cuda"
            return value.detach().to("cpu", non_blocking=True)
        if isinstance(value, dict):
            return {key: copy(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(copy(item) for item in value)
        return value

    copied = copy(state)
    if on_gpu:
        torch.cuda.synchronize()
    return copied


class CheckpointWriter:
    """Writes states (already on the host) to files, in the order given, in a thread of its own that runs while
    there is something to write."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._waiting: dict[Path, Any] = {}  # by file, the newest state not yet being written
        self._writing = False
        self._error: WriteError | None = None

    def put(self, path: Path, state: Any) -> None:
        """Write `state` to `path` soon; WriteError for an earlier write that failed."""
        self._raise_error()
        with self._changed:
            self._waiting[path] = state
            if not self._writing:
                self._writing = True
                threading.Thread(target=self._write_all, name="checkpoint writer", daemon=True).start()

    def flush(self) -> None:
        """Wait until every state given is written; WriteError for one that could not be."""
        with self._changed:
            self._changed.wait_for(lambda: not self._writing)
        self._raise_error()

    def _write_all(self) -> None:
        while True:
            with self._changed:
                if not self._waiting:
                    self._writing = False
                    self._changed.notify_all()
                    return
                path = next(iter(self._waiting))
                state = self._waiting.pop(path)
            try:
                save_file(state, path)
            except WriteError as err:
                with self._changed:
                    self._error = self._error or err
            except Exception as err:  # anything else (a bug), told as a file that could not be written
                with self._changed:
                    self._error = self._error or WriteError(f"cannot write {path}: {err}")

    def _raise_error(self) -> None:
        with self._changed:
            error, self._error = self._error, None
        if error is not None:
            raise error

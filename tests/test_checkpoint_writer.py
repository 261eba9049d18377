"""Checkpoints written behind the training: the state copied to the host at once, a waiting file replaced by a
newer state of it, every file written when flushed, and a failed write told."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import torch

import netbuilder.training.checkpoint_writer as checkpoint_writer
from netbuilder.training.checkpoint_file import WriteError
from netbuilder.training.checkpoint_writer import CheckpointWriter, on_host


def test_on_host_copies_every_tensor_and_container():
    weight, history = torch.ones(3), [{"epoch": 1}]
    state = {"model": {"w": weight}, "history": history, "pair": (torch.zeros(2), 5), "name": "x"}
    copied = on_host(state)
    weight += 1
    history.append({"epoch": 2})
    history[0]["epoch"] = 7
    state["pair"][0].fill_(3)
    assert torch.equal(copied["model"]["w"], torch.ones(3))
    assert copied["history"] == [{"epoch": 1}] and copied["name"] == "x"
    assert isinstance(copied["pair"], tuple) and copied["pair"][1] == 5
    assert torch.equal(copied["pair"][0], torch.zeros(2))


def test_a_newer_state_replaces_one_still_waiting_and_flush_waits_for_the_writes(tmp_path, monkeypatch):
    written: list[tuple[str, int]] = []
    first_started, go_on = threading.Event(), threading.Event()

    def slow_save(state, path: Path) -> Path:
        if not written:
            first_started.set()
            assert go_on.wait(10)
        written.append((path.name, state["epoch"]))
        torch.save(state, path)
        return path

    monkeypatch.setattr(checkpoint_writer, "save_file", slow_save)
    writer = CheckpointWriter()
    writer.put(tmp_path / "last.pt", {"epoch": 1})
    assert first_started.wait(10)  # epoch 1's file is being written, slowly
    writer.put(tmp_path / "last.pt", {"epoch": 2})
    writer.put(tmp_path / "best.pt", {"epoch": 2})
    writer.put(tmp_path / "last.pt", {"epoch": 3})  # epoch 2's last.pt was still waiting: replaced
    go_on.set()
    writer.flush()
    assert written == [("last.pt", 1), ("last.pt", 3), ("best.pt", 2)]
    assert torch.load(tmp_path / "last.pt", weights_only=True) == {"epoch": 3}
    writer.put(tmp_path / "last.pt", {"epoch": 4})  # a writer goes on after a flush
    writer.flush()
    assert torch.load(tmp_path / "last.pt", weights_only=True) == {"epoch": 4}


def test_a_write_that_failed_is_told_at_the_next_put_or_at_flush(tmp_path, monkeypatch):
    def full_disk(state, path: Path) -> Path:
        raise WriteError(f"cannot write {path}: No space left on device")

    monkeypatch.setattr(checkpoint_writer, "save_file", full_disk)
    writer = CheckpointWriter()
    writer.put(tmp_path / "last.pt", {"epoch": 1})
    with pytest.raises(WriteError, match=r"last\.pt: No space left on device"):
        writer.flush()
    writer.put(tmp_path / "last.pt", {"epoch": 2})
    with writer._changed:  # epoch 2's write has failed, and nobody has been told yet
        writer._changed.wait_for(lambda: not writer._writing)
    with pytest.raises(WriteError, match="No space left on device"):
        writer.put(tmp_path / "last.pt", {"epoch": 3})
    writer.flush()  # told once; the state of the put that told it was not taken, so nothing is left to tell

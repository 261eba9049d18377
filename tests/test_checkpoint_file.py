"""Weights and checkpoints on disk: a full disk keeps the previous file whole, and a bad --resume file is refused
in one line, with exit code 2, before any data loads."""

from __future__ import annotations

import errno
import io
import os
import shutil
import time
import zipfile
from pathlib import Path

import pytest
import torch

import netbuilder.atomic_file
from netbuilder.cli import main
from netbuilder.project import load_project
from netbuilder.training.checkpoint_file import CheckpointError, WriteError, on_host, read_checkpoint, save_file
from netbuilder.training.engine import Trainer, with_settings
from netbuilder.training.program import load_program

SAMPLES = Path(__file__).parent.parent / "sample_projects"


class _FullDisk(io.RawIOBase):
    """A file on a disk that fills up after `room` bytes."""

    def __init__(self, stream: io.BufferedWriter, room: int) -> None:
        self.stream, self.room = stream, room

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(data)
        return self.stream.write(data)

    def fileno(self) -> int:
        return self.stream.fileno()

    def close(self) -> None:
        self.stream.close()
        super().close()


def test_a_full_disk_keeps_the_previous_weights_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "run" / "model.pt"
    save_file({"w": torch.ones(3)}, path)
    before = path.read_bytes()
    real_fdopen = os.fdopen
    monkeypatch.setattr(netbuilder.atomic_file.os, "fdopen", lambda fd, mode: _FullDisk(real_fdopen(fd, mode), 600))
    with pytest.raises(WriteError) as caught:
        save_file({"w": torch.zeros(1000)}, path)
    assert str(caught.value) == f"cannot write {path}: No space left on device"
    assert isinstance(caught.value, OSError)
    assert path.read_bytes() == before and sorted(p.name for p in path.parent.iterdir()) == ["model.pt"]


def test_a_run_whose_checkpoint_cannot_be_written_ends_in_one_line(tmp_path, monkeypatch):
    trainer = Trainer(with_settings(load_project(SAMPLES / "spirals_mlp.nbproj"), epochs=1, device="cpu"))
    real_fdopen = os.fdopen
    monkeypatch.setattr(netbuilder.atomic_file.os, "fdopen", lambda fd, mode: _FullDisk(real_fdopen(fd, mode), 100))
    outcome = trainer.run(checkpoint_dir=tmp_path)
    assert outcome.status == "failed"
    assert outcome.message == f"cannot write {tmp_path / 'last.pt'}: No space left on device"
    assert list(tmp_path.iterdir()) == []


# ---- --resume files that cannot be gone on from ----------------------------------------------------------------


@pytest.fixture(scope="module")
def digits_checkpoint(tmp_path_factory) -> dict:
    """A real checkpoint of the digits sample after a few steps, as a run's last.pt holds it."""
    folder = tmp_path_factory.mktemp("checkpoint")
    trainer = Trainer(with_settings(load_project(SAMPLES / "digits_mlp.nbproj"), epochs=1, device="cpu"))
    trainer.run(checkpoint_dir=folder, max_steps=2)
    return torch.load(folder / "last.pt", weights_only=True)


class _Payload:
    """A pickle that would run a shell command when loaded without weights_only."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def _saved(state) -> bytes:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def _changed(state: dict, **parts) -> dict:
    changed = dict(state)
    changed.update(parts)
    return changed


def _bad_files(checkpoint: dict, folder: Path) -> dict[str, tuple[Path, str]]:
    """Each kind of bad file, and what the refusal says about it."""
    good = _saved(checkpoint)
    model = checkpoint["model"]
    wider = {**model, "fc1.weight": torch.zeros(model["fc1.weight"].shape[0], 32)}
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("notes.txt", "not a checkpoint")
    contents = {
        "malicious.pt": (_saved({"model": _Payload(folder / "marker")}), "holds Python objects"),
        "truncated.pt": (good[: len(good) // 2], "truncated or damaged"),
        "empty.pt": (b"", "is empty"),
        "random.pt": (os.urandom(4096), "truncated or damaged"),
        "archive.zip": (zipped.getvalue(), "truncated or damaged"),
        "model.pt": (_saved(model), "weights alone (a model.pt)"),
        "another_network.pt": (_saved(_changed(checkpoint, model=wider)), "layer fc1.weight has shape"),
        "metrics.json": (b'{"format": 1, "status": "completed"}', "truncated or damaged"),
        "integers.pt": (_saved(_changed(checkpoint, model={**model, "fc1.bias": model["fc1.bias"].long()})), "int64"),
        "not_tensors.pt": (_saved(_changed(checkpoint, model={**model, "fc1.bias": [0.0] * 4})), "not a tensor"),
        "other_format.pt": (_saved(_changed(checkpoint, format=7)), "format 7"),
    }
    files = {}
    for name, (data, words) in contents.items():
        (folder / name).write_bytes(data)
        files[name] = (folder / name, words)
    (folder / "a_folder").mkdir()
    files["a_folder"] = (folder / "a_folder", "is a folder")
    files["missing.pt"] = (folder / "missing.pt", "no such file")
    if hasattr(os, "mkfifo"):
        os.mkfifo(folder / "fifo.pt")
        files["fifo.pt"] = (folder / "fifo.pt", "not a regular file")
    return files


KINDS = [
    "malicious.pt",
    "truncated.pt",
    "empty.pt",
    "random.pt",
    "archive.zip",
    "model.pt",
    "another_network.pt",
    "metrics.json",
    "integers.pt",
    "not_tensors.pt",
    "other_format.pt",
    "a_folder",
    "missing.pt",
    "fifo.pt",
]


@pytest.mark.parametrize("kind", KINDS)
def test_a_bad_resume_file_is_refused_in_one_line_before_any_data_loads(kind, digits_checkpoint, tmp_path, capsys):
    if kind == "fifo.pt" and not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    project = Path(shutil.copy(SAMPLES / "digits_mlp.nbproj", tmp_path / "digits_mlp.nbproj"))
    path, words = _bad_files(digits_checkpoint, tmp_path)[kind]
    started = time.perf_counter()
    assert main(["train", str(project), "--device", "cpu", "--resume", str(path)]) == 2
    seconds = time.perf_counter() - started
    err = capsys.readouterr().err
    assert err.startswith(f"netbuilder: --resume {path}: ") and words in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "marker").exists()  # the pickle's command never ran
    assert not project.with_name("digits_mlp.runs").exists()  # no run was started
    assert seconds < 5


def test_a_checkpoint_is_checked_against_the_network_without_its_data(digits_checkpoint, tmp_path, monkeypatch):
    program = load_program(load_project(SAMPLES / "digits_mlp.nbproj"))
    monkeypatch.setattr(program.script, "prepare_data", None)  # reading the data would fail
    path = tmp_path / "last.pt"
    path.write_bytes(_saved(digits_checkpoint))
    assert read_checkpoint(path, program)["epoch"] == digits_checkpoint["epoch"]
    wrong = _changed(digits_checkpoint, rng={**digits_checkpoint["rng"], "shuffle": torch.zeros(3)})
    path.write_bytes(_saved(wrong))
    with pytest.raises(CheckpointError, match="damaged: its random state 'shuffle'"):
        read_checkpoint(path, program)


GARBAGE = [None, "x", [1], {"a": 1}, -1, 1e300, torch.zeros(0), torch.zeros(2, 3, dtype=torch.int8)]


def _places(state: dict, prefix: tuple = ()):
    """Every key path of a checkpoint down to its leaves (lists and tensors count as leaves)."""
    for key, value in state.items():
        yield (*prefix, key)
        if isinstance(value, dict):
            yield from _places(value, (*prefix, key))


def _with(state: dict, place: tuple, value) -> dict:
    changed = dict(state)
    if len(place) == 1:
        changed[place[0]] = value
    else:
        changed[place[0]] = _with(state[place[0]], place[1:], value)
    return changed


def test_any_value_of_a_checkpoint_replaced_by_garbage_is_refused_or_gone_on_from(digits_checkpoint, tmp_path):
    """Whatever value a damaged checkpoint holds where, going on from it either works or ends in one
    CheckpointError line, never another exception (the fuzz over a real checkpoint's places)."""
    project = with_settings(load_project(SAMPLES / "digits_mlp.nbproj"), epochs=1, device="cpu")
    program = load_program(project)
    path = tmp_path / "last.pt"
    places = [place for place in _places(digits_checkpoint) if place[:2] != ("optimizer", "state")]
    refused = 0
    for place in places:
        for value in GARBAGE:
            path.write_bytes(_saved(_with(digits_checkpoint, place, value)))
            try:
                Trainer(project, program=program, resume=path).run_start(resumed=True)
            except CheckpointError as err:
                assert "\n" not in str(err) and str(err).startswith(f"{path}: "), (place, value, err)
                refused += 1
    assert refused > len(places) * len(GARBAGE) // 2


def test_on_host_keeps_the_state_as_it_was():
    """What a better epoch's state is kept as until it is written: later in-place steps and appends leave it be."""
    weight, history = torch.ones(3), [{"epoch": 1}]
    state = {"model": {"w": weight}, "history": history, "pair": (torch.zeros(2), 5), "name": "x"}
    kept = on_host(state)
    weight += 1
    history.append({"epoch": 2})
    history[0]["epoch"] = 7
    state["pair"][0].fill_(3)
    assert torch.equal(kept["model"]["w"], torch.ones(3)) and kept["history"] == [{"epoch": 1}]
    assert isinstance(kept["pair"], tuple) and torch.equal(kept["pair"][0], torch.zeros(2)) and kept["name"] == "x"

"""The prepared-data cache: the tensors it gives back are bit for bit train.py's prepare_data's, a changed
dataset file or damaged entry is never trusted, the cache stays under its bound, and a run from the cache
trains exactly as one without it."""

from __future__ import annotations

import os
from pathlib import Path

import numpy
import pytest
import torch
from safetensors.torch import load_file

from netbuilder.project import Project, load_project
from netbuilder.training import data_cache
from netbuilder.training.cuda_start import CudaStart
from netbuilder.training.data_cache import data_key, finish_writing, prepared_data, reached_source
from netbuilder.training.engine import Trainer, with_settings
from netbuilder.training.program import load_program

SAMPLES = Path(__file__).resolve().parent.parent / "sample_projects"


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """An empty cache folder of this test's own; its data entries."""
    monkeypatch.setenv("NETBUILDER_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "data"


def prepared_twice(project: Project) -> tuple[tuple[torch.Tensor, ...], ...]:
    """train.py's own prepare_data, then the cache's answer when empty, then when filled."""
    program = load_program(project)
    val_fraction, seed = project.training.val_fraction, project.training.seed
    direct = program.script.prepare_data(val_fraction, seed)
    missed = prepared_data(program.script, program.script_source, val_fraction, seed)
    finish_writing()
    hit = prepared_data(program.script, program.script_source, val_fraction, seed)
    return tuple(direct), missed, hit


def identical(a: tuple[torch.Tensor, ...], b: tuple[torch.Tensor, ...]) -> bool:
    """Same types, shapes and bytes (torch.equal alone would call 0.0 and -0.0 equal)."""
    return len(a) == len(b) and all(
        x.dtype == y.dtype and x.shape == y.shape and bytes(x.numpy().tobytes()) == bytes(y.numpy().tobytes())
        for x, y in zip(a, b, strict=True)
    )


def table_project(path: Path) -> Project:
    """Dataset (a CSV table, classification) -> Linear -> CrossEntropy -> Adam."""
    project = Project.new("table")
    g = project.graph
    data = g.add_node("Dataset", params={"dataset": "csv", "path": str(path), "target_column": "y"}).id
    linear = g.add_node("Linear", params={"out_features": 2}).id
    loss, adam = g.add_node("CrossEntropy").id, g.add_node("Adam").id
    g.connect(data, "x", linear, "x")
    g.connect(linear, "y", loss, "input")
    g.connect(data, "target", loss, "target")
    g.connect(loss, "loss", adam, "loss")
    return with_settings(project, device="cpu", epochs=1, batch_size=8)


def write_table(path: Path, rows: int, seed: int) -> Path:
    values = numpy.random.default_rng(seed).normal(size=(rows, 3))
    lines = ["a,b,c,y", *(f"{a:.6g},{b:.6g},{c:.6g},{int(a > 0)}" for a, b, c in values)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(("name", "val_fraction"), [("digits_cnn", 0.2), ("spirals_mlp", 0.2), ("digits_mlp", 0.0)])
def test_the_cached_tensors_are_prepare_datas_bit_for_bit(cache, name, val_fraction):
    project = with_settings(load_project(SAMPLES / f"{name}.nbproj"), val_fraction=val_fraction)
    direct, missed, hit = prepared_twice(project)
    assert identical(direct, missed) and identical(direct, hit)
    (entry,) = cache.iterdir()
    source, training = load_program(project).script_source, project.training
    read = data_cache.read_entry(entry, data_key(source, training.val_fraction, training.seed))
    assert read is not None and identical(read, direct)  # the hit came from this file
    stored = load_file(entry)  # a safetensors file as the library reads it
    assert identical(tuple(stored[part] for part in data_cache.NAMES), direct)


def test_an_entry_knows_the_files_read_and_a_changed_file_is_read_again(cache, tmp_path):
    table = write_table(tmp_path / "table.csv", 40, seed=0)
    project = table_project(table)
    direct, _, hit = prepared_twice(project)
    assert identical(direct, hit)
    (entry,) = cache.iterdir()
    files = [identity[0] for identity in data_cache.json.loads(data_cache_metadata(entry)["files"])]
    assert files == [str(table.resolve())]
    write_table(table, 40, seed=1)  # the same name and number of rows, other values
    changed, _, hit = prepared_twice(project)
    assert not identical(direct, changed) and identical(changed, hit)
    assert len(list(cache.iterdir())) == 1  # the stale entry was replaced


def data_cache_metadata(entry: Path) -> dict:
    data = entry.read_bytes()
    size = int.from_bytes(data[:8], "little")
    return data_cache.json.loads(data[8 : 8 + size])["__metadata__"]


@pytest.mark.parametrize("damage", ["truncated", "a flipped byte", "not a safetensors file", "empty"])
def test_a_damaged_entry_is_ignored_and_written_again(cache, damage):
    project = load_project(SAMPLES / "digits_mlp.nbproj")
    direct, _, _ = prepared_twice(project)
    (entry,) = cache.iterdir()
    whole = entry.read_bytes()
    spoilt = {
        "truncated": whole[: len(whole) // 2],
        "a flipped byte": whole[:-100] + bytes([whole[-100] ^ 1]) + whole[-99:],
        "not a safetensors file": b"\xff" * 64,
        "empty": b"",
    }[damage]
    entry.write_bytes(spoilt)
    program = load_program(project)
    again = prepared_data(program.script, program.script_source, 0.2, project.training.seed)
    finish_writing()
    assert identical(direct, again) and entry.read_bytes() == whole


def test_the_key_follows_the_data_functions_not_the_rest_of_train_py():
    source = load_program(load_project(SAMPLES / "digits_cnn.nbproj")).script_source
    reached = reached_source(source, "prepare_data")
    assert "def load_data" in reached and "def split" in reached and "load_digits" in reached
    assert "def make_optimizer" not in reached and "def train(" not in reached  # split's local `train` is its own
    other_rate = source.replace("lr=0.002", "lr=0.5")
    assert other_rate != source and data_key(other_rate, 0.2, 0) == data_key(source, 0.2, 0)
    other_scale = source.replace("/ 16.0", "/ 15.0")
    assert other_scale != source and data_key(other_scale, 0.2, 0) != data_key(source, 0.2, 0)
    assert data_key(source, 0.25, 0) != data_key(source, 0.2, 0) != data_key(source, 0.2, 1)


def test_the_least_recently_used_entries_go_past_the_bound(cache, monkeypatch):
    projects = [with_settings(load_project(SAMPLES / "digits_mlp.nbproj"), seed=seed) for seed in range(3)]
    prepared_twice(projects[0])
    (first,) = cache.iterdir()
    size = first.stat().st_size  # each entry's: the three splits have the same sizes
    monkeypatch.setattr(data_cache, "LIMIT_BYTES", int(size * 2.5))
    prepared_twice(projects[1])
    os.utime(first, ns=(0, 0))  # used longest ago
    prepared_twice(projects[2])
    entries = list(cache.iterdir())
    assert len(entries) == 2 and first not in entries
    monkeypatch.setattr(data_cache, "LIMIT_BYTES", size // 2)  # larger than the bound: not kept
    prepared_twice(with_settings(projects[0], seed=3))
    assert len(list(cache.iterdir())) == 2


def test_a_write_cut_short_leaves_no_entry_and_its_temporary_is_swept(cache):
    cache.mkdir(parents=True)
    dead = cache / ".0123.safetensors.0123456789ab.tmp"  # what a killed write leaves (atomic_file's name)
    dead.write_bytes(b"half an entry")
    os.utime(dead, (0, 0))  # long ago
    prepared_twice(load_project(SAMPLES / "digits_mlp.nbproj"))
    assert not dead.exists() and [entry.suffix for entry in cache.iterdir()] == [".safetensors"]


@pytest.mark.slow
def test_a_run_from_the_cache_trains_as_one_without_it(cache):
    project = with_settings(load_project(SAMPLES / "digits_cnn.nbproj"), device="cpu", epochs=2)
    runs = []
    for _ in range(2):  # the first prepares and writes the entry, the second reads it
        losses = []
        trainer = Trainer(project)
        finish_writing()
        trainer.run(lambda event, losses=losses: losses.extend(getattr(event, "losses", ())))
        runs.append((losses, trainer.history, trainer.model.state_dict()))
    assert len(list(cache.iterdir())) == 1
    (losses, history, weights), (cached_losses, cached_history, cached_weights) = runs
    assert losses == cached_losses and history == cached_history
    assert all(torch.equal(weights[name], cached_weights[name]) for name in weights)


def test_on_a_cpu_nothing_starts():
    started = CudaStart(torch.device("cpu"))
    started.join()
    assert started.error is None and started._thread is None


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU")
def test_cuda_starts_in_the_background_drawing_no_random_number():
    torch.cuda.init()
    cpu, gpu = torch.get_rng_state(), torch.cuda.get_rng_state()
    started = CudaStart(torch.device("cuda"))
    started.join()
    assert started.error is None and torch.cuda.is_initialized()
    assert torch.equal(torch.get_rng_state(), cpu) and torch.equal(torch.cuda.get_rng_state(), gpu)
    project = with_settings(load_project(SAMPLES / "digits_mlp.nbproj"), device="cuda", epochs=1)
    assert Trainer(project).run().status == "completed"

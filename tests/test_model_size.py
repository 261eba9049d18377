"""How large a network is, and what happens when it is too large: a network larger than any machine's memory
is an error on its largest layer (nothing is generated, exported or trained from it), one larger than this
machine is refused before anything is allocated, and training that may not fit says so before it starts."""

from __future__ import annotations

import importlib.machinery
import shutil
import sys
import types
from pathlib import Path

import pytest

from netbuilder.analysis import analyze
from netbuilder.analysis.model_size import ANY_MACHINE_BYTES, format_bytes
from netbuilder.blocks import catalogue
from netbuilder.cli import main
from netbuilder.graph import Graph
from netbuilder.project import Project, load_project, save_project
from netbuilder.runtime import machine_memory

SAMPLES = Path(__file__).parent.parent / "sample_projects"


def embedding_project(path: Path, rows: int, dim: int) -> Path:
    """Token indices into an Embedding of rows x dim parameters."""
    project = Project.new("tokens")
    g: Graph = project.graph
    tokens = g.add_node("Input", params={"shape": (16,), "dtype": "int64"}).id
    embed = g.add_node("Embedding", label="embed", params={"num_embeddings": rows, "embedding_dim": dim}).id
    g.connect(tokens, "x", embed, "x")
    return save_project(project, path)


@pytest.fixture
def digits(tmp_path: Path) -> Path:
    return Path(shutil.copy(SAMPLES / "digits_mlp.nbproj", tmp_path / "digits_mlp.nbproj"))


def test_a_trillion_parameter_embedding_is_an_error_naming_its_size_and_layer(tmp_path, capsys):
    path = embedding_project(tmp_path / "huge.nbproj", 1_000_000, 1_000_000)
    analysis = analyze(load_project(path).graph)
    (error,) = [d for d in analysis.diagnostics if d.code == "model-size"]
    assert error.is_error and not error.training_only
    assert analysis.size.weight_bytes == 4 * 10**12 > ANY_MACHINE_BYTES
    assert "1,000,000,000,000 parameters (4 TB as float32)" in error.message
    assert "this Embedding holds" in error.message and error.message.endswith("make its sizes smaller")
    assert main(["check", str(path), "--model-only"]) == 1
    assert "embed (Embedding): error: the network has 1,000,000,000,000 parameters" in capsys.readouterr().out


def test_exporting_a_network_larger_than_any_machine_is_refused_with_its_size(tmp_path, capsys):
    path = embedding_project(tmp_path / "huge.nbproj", 1_000_000, 1_000_000)
    out = tmp_path / "out"
    assert main(["export", str(path), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("netbuilder: nothing exported: embed (Embedding): the network has 1,000,000,000,000")
    assert err.count("\n") == 1 and not (out / "model.py").exists()
    assert main(["export", str(path), "-o", str(out), "--format", "safetensors,torchscript"]) == 1
    assert not (out / "model.safetensors").exists()


def test_a_network_within_any_machine_checks_clean_of_size_errors(tmp_path):
    path = embedding_project(tmp_path / "large.nbproj", 1_000_000, 1000)  # 4 GB: a large vocabulary
    assert not [d for d in analyze(load_project(path).graph).diagnostics if d.code == "model-size"]


def test_the_estimate_counts_weights_gradients_optimizer_state_and_a_batchs_activations(digits):
    analysis = analyze(load_project(digits).graph)
    size = analysis.size
    assert size.parameters == analysis.total_params > 0
    assert analysis.results[size.largest_node].params == size.largest_parameters
    activations = sum(t.numel_per_sample() for n in analysis.model_nodes for t in analysis.results[n].outputs.values())
    assert size.activations_per_sample == activations
    weights = 4 * size.parameters
    assert size.training_bytes(64, catalogue.get("Adam").state_per_parameter) == 4 * weights + 64 * 4 * activations
    assert size.training_bytes(64, catalogue.get("SGD").state_per_parameter) == 3 * weights + 64 * 4 * activations


def test_format_bytes_reads_as_a_person_writes_sizes():
    assert format_bytes(512) == "512 bytes"
    assert format_bytes(12_345) == "12.3 kB"
    assert format_bytes(4 * 10**12) == "4 TB"
    assert format_bytes(5 * 10**15) == "5e+03 TB"


def test_the_machines_memory_is_read_without_torch():
    ram = machine_memory.ram_bytes()
    fields = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    assert ram == sum(int(fields[key].split()[0]) * 1024 for key in ("MemTotal", "SwapTotal"))
    assert machine_memory.device_memory("cpu") == ("machine's memory", ram)


def test_a_torch_still_being_imported_by_another_thread_counts_as_not_loaded(monkeypatch):
    """The window imports torch in the background; Train pressed meanwhile met a torch without cuda."""
    half_imported = types.ModuleType("torch")
    half_imported.__spec__ = importlib.machinery.ModuleSpec("torch", None)
    half_imported.__spec__._initializing = True  # as importlib marks a module while its code runs
    monkeypatch.setitem(sys.modules, "torch", half_imported)
    assert machine_memory.device_memory("auto") == ("machine's memory", machine_memory.ram_bytes())


def test_a_network_larger_than_this_machine_is_refused_before_it_is_built(digits, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(machine_memory, "ram_bytes", lambda: 1000)  # a machine of 1 kB
    out = tmp_path / "out"
    assert main(["export", str(digits), "-o", str(out), "--format", "safetensors"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("netbuilder: nothing exported: the network's parameters take ")
    assert "more than this machine's memory, 1 kB" in err and not (out / "model.safetensors").exists()
    assert main(["train", str(digits), "--epochs", "1", "--device", "cpu"]) == 1
    assert "cannot train" in capsys.readouterr().err and not digits.with_name("digits_mlp.runs").exists()


def test_training_that_may_not_fit_says_so_in_one_line_and_still_runs(digits, monkeypatch, capsys):
    size = analyze(load_project(digits).graph).size
    adam_training = size.training_bytes(64, catalogue.get("Adam").state_per_parameter)
    between = (size.weight_bytes + adam_training) // 2  # the weights fit, training may not
    monkeypatch.setattr(machine_memory, "ram_bytes", lambda: between)
    assert main(["train", str(digits), "--epochs", "1", "--device", "cpu"]) == 0
    (warning,) = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert warning.startswith("netbuilder: warning: training needs about ")
    assert "Adam's state and the activations of a batch of 64), more than this machine's memory" in warning

"""`compress` end to end on sample networks trained briefly here: each result measured on the validation split against
the float network, the issue's bounds on what quantization may cost, channel pruning's new project version (its shapes
check, its code runs, its accuracy reported), magnitude pruning kept through fine-tuning, and the command's table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from netbuilder.analysis import analyze
from netbuilder.cli import main
from netbuilder.project import load_project, save_project
from netbuilder.training.compression.compress import REPORT_FILE, REPORT_JSON, CompressionPlan, compress
from netbuilder.training.compression.quantization import DYNAMIC, STATIC, WEIGHT_ONLY
from netbuilder.training.engine import Trainer, with_settings
from netbuilder.training.program import load_program

SAMPLES = Path(__file__).parent.parent / "sample_projects"
MAX_LOSS = 0.02  # the bound: less than 2 points of validation accuracy


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """(project saved in a folder of its own, its run's weights) of a sample trained for a few epochs on the CPU."""
    made = {}

    def of(name: str, epochs: int):
        if name not in made:
            folder = tmp_path_factory.mktemp(name)
            project = with_settings(load_project(SAMPLES / f"{name}.nbproj"), device="cpu", epochs=epochs)
            save_project(project, folder / f"{name}.nbproj")
            trainer = Trainer(project)
            trainer.run()
            made[name] = project, trainer.save_weights(folder / "run" / "model.pt")
        return made[name]

    return of


def accuracy(row) -> float:
    return row.metrics["accuracy"]


@pytest.mark.slow
def test_dynamic_int8_of_the_lstm_sample_loses_less_than_two_points(run, tmp_path):
    project, weights = run("lstm_classifier", 8)
    report = compress(project, weights, CompressionPlan(quantizations=(DYNAMIC,)), tmp_path)
    float_row, quantized = report.rows
    assert accuracy(float_row) > 0.6  # a network that learned something, or the bound says nothing
    assert accuracy(quantized) > accuracy(float_row) - MAX_LOSS
    assert quantized.agreement >= 0.95
    assert quantized.file.is_file() and quantized.file_bytes < float_row.file_bytes
    assert quantized.tensor_bytes < 0.5 * float_row.tensor_bytes  # int8 weights: a quarter, with their scales
    assert quantized.parameters == float_row.parameters


@pytest.mark.slow
def test_static_int8_of_the_digits_cnn_loses_less_than_two_points(run, tmp_path):
    project, weights = run("digits_cnn", 6)
    report = compress(project, weights, CompressionPlan(quantizations=(STATIC, WEIGHT_ONLY)), tmp_path)
    float_row, static, weight_only = report.rows
    assert accuracy(float_row) > 0.8
    assert accuracy(static) > accuracy(float_row) - MAX_LOSS
    assert accuracy(weight_only) > accuracy(float_row) - MAX_LOSS
    assert weight_only.tensor_bytes < float_row.tensor_bytes
    for row in (float_row, static, weight_only):
        assert set(row.latency_ms) == {1, 32} and all(ms > 0 for ms in row.latency_ms.values())
        assert row.metrics["loss"] > 0
    written = json.loads((tmp_path / REPORT_JSON).read_text())
    assert [row["name"] for row in written["rows"]] == ["float", STATIC, WEIGHT_ONLY]
    assert "| float |" in (tmp_path / REPORT_FILE).read_text()


@pytest.mark.slow
def test_channel_pruning_of_the_digits_cnn_by_half_its_macs_is_a_project_that_checks_and_trains(run, tmp_path):
    project, weights = run("digits_cnn", 6)
    plan = CompressionPlan(macs_fraction=0.5, fine_tune_epochs=1)
    report = compress(project, weights, plan, tmp_path)
    float_row, pruned, tuned = report.rows
    assert tuned.parameters == pruned.parameters < float_row.parameters
    assert 0 <= accuracy(tuned) <= 1 and tuned.agreement is not None
    pruned_project = load_project(report.project_file)
    analysis = analyze(pruned_project.graph)
    assert not [d for d in analysis.problems(training=True) if d.is_error]
    assert analysis.total_macs <= 0.5 * analyze(project.graph).total_macs
    # its code runs, from its own starting weights (the fine-tuned ones), and computes what was measured
    program = load_program(pruned_project)
    model = program.new_model().eval()
    x = torch.randn(4, 1, 8, 8)
    assert model(x).shape == (4, 10)


@pytest.mark.slow
def test_magnitude_pruning_keeps_its_zeros_through_fine_tuning(run, tmp_path):
    project, weights = run("digits_cnn", 6)
    report = compress(project, weights, CompressionPlan(sparsity=0.6, fine_tune_epochs=1), tmp_path)
    float_row, pruned, tuned = report.rows
    for row in (pruned, tuned):
        assert row.nonzero < 0.5 * float_row.nonzero
        assert "60.0% of the weights are zero" in row.note
    assert accuracy(tuned) > 0.5


@pytest.mark.slow
def test_the_command_prints_the_table_and_writes_the_folder(run, tmp_path, capsys):
    project, weights = run("digits_cnn", 6)
    code = main(
        ["compress", str(project.path), "--weights", str(weights), "--quantize", WEIGHT_ONLY, "-o", str(tmp_path)]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0].split()[:2] == ["network", "file"]
    assert any(line.startswith(WEIGHT_ONLY) for line in out.splitlines())
    assert (tmp_path / REPORT_JSON).is_file()


def test_a_plan_out_of_range_is_refused_with_what_is_allowed(tmp_path):
    with pytest.raises(ValueError, match="between 0 and 1"):
        CompressionPlan(sparsity=1.5)
    with pytest.raises(ValueError, match="choose from"):
        CompressionPlan(quantizations=("int4",))
    assert main(["compress", str(SAMPLES / "digits_mlp.nbproj"), "--weights", "x.pt", "--quantize", "fp4"]) == 2


def test_a_project_never_trained_says_to_train_it_or_give_weights(tmp_path, capsys):
    project = load_project(SAMPLES / "digits_mlp.nbproj")
    save_project(project, tmp_path / "digits_mlp.nbproj")
    assert main(["compress", str(tmp_path / "digits_mlp.nbproj"), "--quantize", WEIGHT_ONLY]) == 1
    said = capsys.readouterr().err
    assert "no trained run to compress" in said and "--weights RUN/model.pt" in said


def test_a_layer_that_global_pruning_empties_is_named_with_what_to_do(run, tmp_path):
    project, weights = run("digits_cnn", 6)
    report = compress(project, weights, CompressionPlan(sparsity=0.99), tmp_path)
    pruned = report.rows[1]
    assert "lost every weight" in pruned.note and "--scope layer" in pruned.note
    per_layer = compress(project, weights, CompressionPlan(sparsity=0.5, scope="layer"), tmp_path / "layer")
    assert "lost every weight" not in per_layer.rows[1].note


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU")
def test_fine_tuning_on_the_gpu_keeps_the_zeros_of_magnitude_pruning(run, tmp_path):
    """The fine-tune runs on the engine as the project says (a CUDA graph on a GPU), the mask kept by the step hook
    inside the graph; the measurements stay on the CPU."""
    project, weights = run("digits_cnn", 6)
    on_gpu = with_settings(project, device="cuda")
    report = compress(on_gpu, weights, CompressionPlan(sparsity=0.6, fine_tune_epochs=2), tmp_path)
    float_row, pruned, tuned = report.rows
    assert tuned.nonzero == pruned.nonzero < 0.5 * float_row.nonzero
    assert accuracy(tuned) > accuracy(float_row) - 0.05

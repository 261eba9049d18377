"""A run's classification figures come from the confusion matrix train.py's evaluate() counts on the device:
every epoch carries it and its per-class report, a stopped run keeps the last one, the run history keeps it
(one a run, never one an epoch), and the exported train.py prints and writes the same figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from netbuilder.codegen.class_report import classification_report
from netbuilder.codegen.report_table import report_table
from netbuilder.project import TrainingSettings
from netbuilder.project.run_events import EpochEnd
from netbuilder.project.run_history import RunHistory, RunRecord
from netbuilder.project.run_recorder import RunRecorder
from netbuilder.training.engine import Trainer, with_settings
from netbuilder.training.program import load_program
from tests.test_package import export, run_script, sample
from tests.test_predict import binary_xor


def brute_force(trainer: Trainer) -> tuple[list[list[int]], int]:
    """The confusion matrix and the samples whose class is among the five highest scores, one sample at a time."""
    classes = len(trainer.class_names)
    matrix = [[0] * classes for _ in range(classes)]
    in_top5 = 0
    trainer.model.eval()
    with torch.no_grad():
        for x, y in zip(trainer.val_x, trainer.val_y, strict=True):
            output = trainer.model(x.unsqueeze(0))[0]
            predicted = int(output.argmax()) if output.numel() > 1 else int(output.item() > 0)
            matrix[int(y)][predicted] += 1
            in_top5 += output.numel() > 5 and int(y) in output.topk(5).indices.tolist()
    return matrix, in_top5


@pytest.mark.parametrize("batch_size", [7, 64])
def test_evaluates_matrix_and_top5_equal_a_count_sample_by_sample(batch_size):
    trainer = Trainer(sample("digits_mlp", batch_size=batch_size))
    trainer.run(max_steps=3)  # a network that is still often wrong: many cells are filled
    _, metrics, confusion = trainer.evaluate()
    matrix, in_top5 = brute_force(trainer)
    assert confusion == matrix and sum(map(sum, matrix)) == len(trainer.val_x)
    assert sum(matrix[c][c] for c in range(10)) < len(trainer.val_x)  # not a trivial matrix
    assert metrics["accuracy"] == pytest.approx(sum(matrix[c][c] for c in range(10)) / len(trainer.val_x))
    assert metrics["top5_accuracy"] == pytest.approx(in_top5 / len(trainer.val_x))
    assert set(metrics) == {"accuracy", "top5_accuracy"}  # the matrix is not a metric of the epoch entries


def test_one_logit_counts_two_classes_and_no_top5(tmp_path):
    trainer = Trainer(binary_xor())
    trainer.run(max_steps=5)
    _, metrics, confusion = trainer.evaluate()
    assert confusion == brute_force(trainer)[0] and len(confusion) == 2
    assert "top5_accuracy" not in metrics


def test_every_epoch_carries_its_matrix_and_report_and_a_stopped_run_keeps_the_last():
    trainer = Trainer(sample("digits_mlp", epochs=3))
    events = []
    outcome = trainer.run(events.append, max_steps=trainer.steps_per_epoch + 2)  # Stop in the second epoch
    (ended,) = [event for event in events if isinstance(event, EpochEnd)]
    assert outcome.status == "stopped" and outcome.epochs_done == 1
    assert ended.confusion is not None and sum(map(sum, ended.confusion)) == trainer.val_size
    assert ended.report == classification_report(ended.confusion)
    assert ended.report["accuracy"] == pytest.approx(ended.val_metrics["accuracy"])
    assert outcome.confusion == ended.confusion and outcome.report == ended.report

    recorder = RunRecorder("2026-01-01_10-00-00", trainer.settings)
    for event in (trainer.run_start(), *events):
        recorder.add(event)
    record = recorder.record()
    assert record.confusion == ended.confusion and record.report == ended.report
    assert all("confusion" not in entry and "val_confusion" not in entry for entry in record.history)


def test_a_run_stopped_before_its_first_validation_has_no_matrix():
    outcome = Trainer(sample("digits_mlp")).run(max_steps=2)
    assert outcome.status == "stopped" and outcome.confusion is None and outcome.report is None


def test_a_run_resumed_from_its_checkpoint_keeps_the_last_matrix(tmp_path):
    first = Trainer(sample("digits_mlp", epochs=2))
    first.run(max_steps=first.steps_per_epoch + 1)
    first.save_checkpoint(tmp_path / "last.pt")
    resumed = Trainer(sample("digits_mlp", epochs=2), resume=tmp_path / "last.pt")
    assert resumed.confusion == first.confusion and resumed.report == first.report
    assert resumed.run(max_steps=0).confusion == first.confusion  # stopped at once: still the epoch's matrix


def test_the_record_keeps_the_report_and_reads_records_written_before_it(tmp_path):
    report = classification_report([[3, 1], [0, 4]])
    record = RunRecord("2026-01-01_10-00-00", "stopped", confusion=[[3, 1], [0, 4]], report=report)
    assert RunRecord.from_dict(json.loads(record.to_json())).report == report
    older = record.to_dict()
    del older["report"]
    assert RunRecord.from_dict(older).report is None and RunRecord.from_dict(older).confusion == [[3, 1], [0, 4]]
    damaged = {**record.to_dict(), "report": {"classes": [{"precision": "high"}]}}
    assert RunRecord.from_dict(damaged).report is None  # the run still shows, with its matrix
    history = RunHistory(tmp_path / "p.nbproj")
    history.add(record)
    assert RunHistory(tmp_path / "p.nbproj").records[0].report == report


def test_train_py_writes_metrics_json_with_the_matrix_and_prints_the_table(tmp_path, capsys):
    script = load_program(sample("digits_mlp")).script
    confusion = [[2, 1] + [0] * 8, [0, 3] + [0] * 8] + [[0] * 10 for _ in range(8)]
    history = [{"epoch": 1, "train_loss": 0.5, "val_loss": 0.4, "val_accuracy": 0.8}]
    script.write_metrics(str(tmp_path), {"epochs_done": 1, "history": history, "confusion": confusion})
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["confusion"] == confusion and metrics["class_names"][3] == "3"
    assert metrics["report"] == classification_report(confusion) and metrics["val_accuracy"] == 0.8
    assert capsys.readouterr().out == report_table(classification_report(confusion), metrics["class_names"]) + "\n"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]  # written whole, no temporary left


def test_train_py_writes_the_errors_of_values(tmp_path, capsys):
    script = load_program(sample("digits_autoencoder")).script
    entry = {"epoch": 2, "train_loss": 0.1, "val_loss": 0.2, "val_mae": 0.25, "val_rmse": 0.3, "val_r2": 0.5}
    script.write_metrics(str(tmp_path), {"epochs_done": 2, "history": [entry]})
    assert json.loads((tmp_path / "metrics.json").read_text()) == {"epochs_done": 2, **entry}
    assert capsys.readouterr().out == "validation: MAE 0.25  RMSE 0.3  R² 0.5\n"


def test_report_table_lays_out_every_class_and_the_averages():
    report = classification_report([[5, 1, 0], [2, 7, 1], [0, 0, 9]])
    lines = report_table(report, ["cat", "dog", "a class name longer than the column"]).splitlines()
    assert lines[0].split() == ["precision", "recall", "f1", "support"]
    assert lines[2].split() == ["cat", "0.714", "0.833", "0.769", "6"]
    assert lines[4].endswith("0.900      1.000      0.947          9") and "…" in lines[4]
    assert lines[6].split() == ["accuracy", "0.840", "25"]
    assert lines[7].split()[:2] == ["macro", "avg"] and lines[8].split()[-1] == "25"
    assert len({len(line) for line in lines if line}) == 1  # the columns line up


@pytest.mark.slow
def test_train_py_prints_and_writes_the_figures_the_app_reports_for_the_same_run(tmp_path):
    project = sample("digits_mlp", epochs=2, val_fraction=0.2, seed=0)
    outcome = Trainer(project).run()
    export(project, tmp_path)
    printed = run_script(tmp_path, "train.py", "--device", "cpu", "--out", "out")
    table = report_table(outcome.report, list(outcome.class_names))
    assert printed.rstrip().endswith(table)
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["confusion"] == outcome.confusion and metrics["report"] == outcome.report
    assert metrics["val_accuracy"] == pytest.approx(outcome.val_metrics["val_accuracy"])
    assert metrics["val_top5_accuracy"] == pytest.approx(outcome.val_metrics["val_top5_accuracy"])


@pytest.mark.slow
def test_netbuilder_train_prints_the_same_table(tmp_path, capsys):
    from netbuilder.cli import main

    project = tmp_path / "digits_mlp.nbproj"
    project.write_bytes((Path(__file__).parent.parent / "sample_projects" / "digits_mlp.nbproj").read_bytes())
    assert main(["train", str(project), "--epochs", "1", "--device", "cpu"]) == 0
    (record,) = RunHistory(project).records
    assert report_table(record.report, record.class_names) in capsys.readouterr().err
    assert record.report == classification_report(record.confusion)


def test_record_fields_survive_the_recorder_for_values():
    recorder = RunRecorder("2026-01-01_10-00-00", TrainingSettings())
    outcome = Trainer(sample("digits_autoencoder", epochs=1)).run(recorder.add)
    record = recorder.record()
    assert outcome.status == "completed" and record.confusion is None and record.report is None
    assert {"val_mae", "val_rmse", "val_r2"} <= set(record.final)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU")
def test_on_the_gpu_the_matrix_is_counted_as_on_the_cpu_and_a_stopped_run_keeps_it(tmp_path):
    trainer = Trainer(with_settings(sample("digits_mlp", epochs=2), device="cuda"))
    outcome = trainer.run(max_steps=trainer.steps_per_epoch + 1)
    assert trainer.graphed is not None and outcome.status == "stopped"  # the step replayed as a CUDA graph
    # the outcome keeps the matrix of the last evaluated epoch; the weights have taken one more step since
    assert outcome.confusion == trainer.confusion and sum(map(sum, outcome.confusion)) == trainer.val_size
    assert trainer.evaluate()[2] == brute_force(trainer)[0]  # counted on the GPU as one sample at a time
    export(sample("digits_mlp", epochs=2), tmp_path)
    run_script(tmp_path, "train.py", "--device", "cuda", "--out", "out")
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert sum(map(sum, metrics["confusion"])) == trainer.val_size
    assert metrics["report"] == classification_report(metrics["confusion"])

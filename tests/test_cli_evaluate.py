"""`netbuilder evaluate`: a trained run measured on its validation or training part, or on another folder or
file of its data, by train.py's own evaluate(): the figures the run reported, scikit-learn's per-class figures
and areas for the same predictions, a report folder, and refusals in plain words with their exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy
import pytest
from sklearn.metrics import average_precision_score, classification_report, roc_auc_score

from netbuilder.cli import main
from netbuilder.codegen.report_table import report_table
from netbuilder.graph import Graph
from netbuilder.project import Project, load_project, save_project
from netbuilder.project.run_history import RunHistory
from netbuilder.training.engine import Trainer, with_settings
from netbuilder.training.predict import Predictor
from tests.networks import small_cnn_project
from tests.test_streaming import CLASSES, write_folder

SAMPLES = Path(__file__).parent.parent / "sample_projects"
PNG = b"\x89PNG\r\n\x1a\n"


def evaluated(capsys, *argv: str) -> dict:
    """The --json answer of `netbuilder evaluate ARGV`, which must succeed and print nothing else on stdout."""
    assert main(["evaluate", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def digits(tmp_path_factory) -> Path:
    """A digits project trained for one epoch by `netbuilder train`: its run is in the project's history."""
    path = tmp_path_factory.mktemp("digits") / "digits_mlp.nbproj"
    shutil.copy(SAMPLES / "digits_mlp.nbproj", path)
    assert main(["train", str(path), "--epochs", "1", "--device", "cpu", "--seed", "4"]) == 0
    return path


def test_the_last_runs_weights_give_the_figures_the_run_reported(digits, capsys):
    capsys.readouterr()
    (record,) = RunHistory(digits).records
    assert main(["evaluate", str(digits)]) == 0
    said = capsys.readouterr().out
    weights = digits.parent / "digits_mlp.runs" / record.weights
    assert f"weights: {weights} (the last run)" in said
    assert "359 samples of the validation part (20% of the data, seed 4)" in said
    assert report_table(record.report, record.class_names) in said
    assert f"accuracy {record.final['val_accuracy']:.1%}" in said
    data = evaluated(capsys, str(digits))
    assert data["confusion"] == record.confusion
    assert data["accuracy"] == record.final["val_accuracy"]
    assert data["top5_accuracy"] == record.final["val_top5_accuracy"]
    assert data["loss"] == pytest.approx(record.final["val_loss"], rel=1e-6)
    assert data["weights"] == str(weights) and data["samples"] == 359


def test_weights_kept_with_their_record_elsewhere_are_evaluated_on_their_runs_split(digits, tmp_path, capsys):
    (record,) = RunHistory(digits).records
    run = tmp_path / "out" / record.run_id  # as netbuilder train --out DIR lays a run out
    run.mkdir(parents=True)
    shutil.copy(digits.parent / "digits_mlp.runs" / record.weights, run / "model.pt")
    (run / "metrics.json").write_text(record.to_json())
    data = evaluated(capsys, str(digits), "--weights", str(run / "model.pt"))
    assert data["split"] == "validation part (20% of the data, seed 4)" and data["confusion"] == record.confusion


def test_per_class_figures_and_areas_are_scikit_learns_for_the_same_predictions(digits, capsys):
    history = RunHistory(digits)
    weights = history.file_path(history.records[-1], history.records[-1].weights)
    data = evaluated(capsys, str(digits), "--weights", str(weights))
    predictor = Predictor.load(with_settings(load_project(digits), seed=4), weights)  # the run's split
    answers = predictor.predict(range(len(predictor)))
    oracle = classification_report(answers.true, answers.predicted, labels=range(10), output_dict=True, zero_division=0)
    for c, row in enumerate(data["report"]["classes"]):
        expected = oracle[str(c)]
        assert row["precision"] == pytest.approx(expected["precision"])
        assert row["recall"] == pytest.approx(expected["recall"])
        assert row["f1"] == pytest.approx(expected["f1-score"])
        assert row["support"] == expected["support"]
        positive = answers.true == c
        assert data["roc_auc"][str(c)] == pytest.approx(roc_auc_score(positive, answers.probabilities[:, c]))
        ap = average_precision_score(positive, answers.probabilities[:, c])
        assert data["average_precision"][str(c)] == pytest.approx(ap)
    assert data["report"]["macro"]["f1"] == pytest.approx(oracle["macro avg"]["f1-score"])
    assert data["report"]["weighted"]["recall"] == pytest.approx(oracle["weighted avg"]["recall"])


def test_the_training_part(digits, capsys):
    data = evaluated(capsys, str(digits), "--split", "train")
    assert data["samples"] == 1797 - 359 and data["split"] == "training part (80% of the data, seed 4)"
    assert sum(map(sum, data["confusion"])) == 1797 - 359


def test_the_report_folder(digits, tmp_path, capsys):
    folder = tmp_path / "report"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    (folder / "scatter.png").write_bytes(PNG)  # an earlier report's, of values: not this one's
    assert main(["evaluate", str(digits), "--report", str(folder)]) == 0
    assert f"report: {folder / 'report.md'}" in capsys.readouterr().out
    assert sorted(p.name for p in folder.iterdir()) == [
        "confusion.png",
        "metrics.json",
        "notes.txt",
        "pr.png",
        "report.md",
        "roc.png",
    ]
    assert (folder / "notes.txt").read_text() == "mine"
    for name in ("confusion.png", "roc.png", "pr.png"):
        assert (folder / name).read_bytes().startswith(PNG)
        assert f"]({name})" in (folder / "report.md").read_text()
    report = (folder / "report.md").read_text()
    assert "# Evaluation of Digits MLP" in report and "| Weights | `" in report and "| 9 | " in report
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["task"] == "classification" and len(metrics["roc_auc"]) == 10


def test_refusals_say_what_to_do(digits, tmp_path, capsys):
    untrained = Path(shutil.copy(SAMPLES / "digits_mlp.nbproj", tmp_path / "untrained.nbproj"))
    assert main(["evaluate", str(untrained)]) == 1
    assert "has no trained run to evaluate: train it (netbuilder train" in capsys.readouterr().err
    assert main(["evaluate", str(digits), "--weights", str(tmp_path / "none.pt")]) == 1
    assert "the weights of this run are gone" in capsys.readouterr().err
    wider = load_project(digits)
    hidden = next(n for n in wider.graph.nodes.values() if n.block == "Linear")
    wider.graph.set_param(hidden.id, "out_features", hidden.params["out_features"] + 1)
    changed = save_project(wider, tmp_path / "changed.nbproj")
    weights = digits.parent / "digits_mlp.runs" / RunHistory(digits).records[-1].weights
    assert main(["evaluate", str(changed), "--weights", str(weights)]) == 1
    assert "the network changed since this run; train again" in capsys.readouterr().err
    held_out_none = save_project(with_settings(load_project(digits), val_fraction=0.0), tmp_path / "none.nbproj")
    assert main(["evaluate", str(held_out_none), "--weights", str(weights)]) == 1
    assert "the validation part holds no samples: set Validation above 0%" in capsys.readouterr().err
    assert main(["evaluate", str(digits), "--split", str(tmp_path)]) == 2
    said = capsys.readouterr().err
    assert "comes with netbuilder, not from files of yours, so it has no other folder" in said
    assert said.count("\n") == 1


# ---- another folder of the same kind: an image folder --------------------------------------------------------


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> tuple[Path, Path, Path]:
    """A small CNN trained a few steps on an image folder (normalised by its training part's statistics)."""
    root = tmp_path_factory.mktemp("folder")
    folder = write_folder(root / "images")
    dataset = {"dataset": "image_folder", "path": str(folder), "image_size": 16, "normalize": True}
    project = small_cnn_project("folder", dataset, channels=4, classes=len(CLASSES), dropout=False)
    project = with_settings(project, device="cpu", epochs=1, batch_size=8)
    path = save_project(project, root / "folder.nbproj")
    trainer = Trainer(load_project(path), workers=0)
    trainer.run(max_steps=3)
    return path, trainer.save_weights(root / "model.pt"), folder


def test_another_image_folder_is_read_and_scaled_as_the_run_read_its_own(images, tmp_path, capsys):
    project, weights, folder = images
    base = [str(project), "--weights", str(weights)]
    parts = [evaluated(capsys, *base, "--split", split) for split in ("val", "train")]
    both = numpy.add(parts[0]["confusion"], parts[1]["confusion"])
    copy = shutil.copytree(folder, tmp_path / "copy")
    whole = evaluated(capsys, *base, "--split", str(copy))
    assert whole["samples"] == 48 and whole["confusion"] == both.tolist()
    assert whole["split"] == str(copy)
    fewer = tmp_path / "fewer"  # a folder without cats: its dogs and eels keep their class numbers
    for name in ("dog", "eel"):
        shutil.copytree(folder / name, fewer / name)
    part = evaluated(capsys, *base, "--split", str(fewer))
    assert part["samples"] == 32 and part["confusion"] == [[0, 0, 0], *both.tolist()[1:]]
    assert part["class_names"] == list(CLASSES)
    eels = evaluated(capsys, *base, "--split", str(shutil.copytree(folder / "eel", tmp_path / "eels" / "eel").parent))
    assert eels["samples"] == 16 and eels["confusion"] == [[0, 0, 0], [0, 0, 0], both.tolist()[2]]
    strange = tmp_path / "strange"
    shutil.copytree(folder / "dog", strange / "fox")
    assert main(["evaluate", *base, "--split", str(strange)]) == 2
    assert "has class 'fox', which the network was not trained on (its classes: cat, dog, eel)" in (
        capsys.readouterr().err
    )
    (copy / "dog" / "bad.png").write_bytes(b"not a picture")
    assert main(["evaluate", *base, "--split", str(copy)]) == 2
    said = capsys.readouterr().err
    assert "dog/bad.png is not an image that can be read: remove or replace it" in said and said.count("\n") == 1
    assert main(["evaluate", *base, "--split", str(tmp_path / "nowhere")]) == 2
    assert "there is no file or folder at" in capsys.readouterr().err


# ---- values: a CSV table, and another table of the same columns -------------------------------------------------


def table_project(path: Path) -> Project:
    """Dataset (CSV, regression) -> Linear(8) -> ReLU -> Linear(1) -> MSE -> Adam."""
    project = Project.new("table")
    g: Graph = project.graph
    params = {"dataset": "csv", "path": str(path), "target_column": "y", "task": "regression"}
    data = g.add_node("Dataset", params=params).id
    hidden = g.add_node("Linear", params={"out_features": 8}).id
    relu = g.add_node("ReLU").id
    out = g.add_node("Linear", params={"out_features": 1}).id
    loss, adam = g.add_node("MSE").id, g.add_node("Adam", params={"lr": 0.01}).id
    g.connect(data, "x", hidden, "x")
    g.connect(hidden, "y", relu, "x")
    g.connect(relu, "y", out, "x")
    g.connect(out, "y", loss, "input")
    g.connect(data, "target", loss, "target")
    g.connect(loss, "loss", adam, "loss")
    return with_settings(project, device="cpu", epochs=3, batch_size=16)


def write_table(path: Path, columns: tuple[str, ...], rows: numpy.ndarray) -> Path:
    lines = [",".join(columns), *(",".join(f"{v:.6g}" for v in row) for row in rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_regression_and_another_table_with_its_columns_in_another_order(tmp_path, capsys):
    rng = numpy.random.default_rng(1)
    features = rng.normal(size=(120, 2)) * [1.0, 10.0] + [0.0, 50.0]  # standardised by the training part
    rows = numpy.c_[features, features @ [2.0, 0.1] + rng.normal(0, 0.1, 120)]
    table = write_table(tmp_path / "table.csv", ("a", "b", "y"), rows)
    path = save_project(table_project(table), tmp_path / "table.nbproj")
    trainer = Trainer(load_project(path))
    trainer.run()
    weights = trainer.save_weights(tmp_path / "model.pt")
    loss, metrics, _ = trainer.evaluate()
    base = [str(path), "--weights", str(weights)]
    data = evaluated(capsys, *base)
    assert data["task"] == "regression" and data["samples"] == 24
    assert data["loss"] == pytest.approx(loss) and data["r2"] == pytest.approx(metrics["r2"])
    assert data["mae"] == pytest.approx(metrics["mae"]) and "confusion" not in data
    same = evaluated(capsys, *base, "--split", str(shutil.copy(table, tmp_path / "same.csv")))
    shuffled = write_table(tmp_path / "shuffled.csv", ("y", "b", "a"), rows[:, ::-1])
    assert evaluated(capsys, *base, "--split", str(shuffled))["mae"] == pytest.approx(same["mae"])
    assert same["samples"] == 120
    missing = write_table(tmp_path / "missing.csv", ("a", "y"), rows[:, [0, 2]])
    assert main(["evaluate", *base, "--split", str(missing)]) == 2
    assert "has no column 'b': give a table with the columns a, b" in capsys.readouterr().err
    report = tmp_path / "report"
    assert main(["evaluate", *base, "--report", str(report)]) == 0
    assert sorted(p.name for p in report.iterdir()) == ["metrics.json", "report.md", "scatter.png"]
    assert (report / "scatter.png").read_bytes().startswith(PNG)
    assert "![Predicted against true](scatter.png)" in (report / "report.md").read_text()
    assert "MAE " in capsys.readouterr().out


def test_a_binary_classifier_names_its_positive_class(tmp_path, capsys):
    project = Project.new("moons")
    g: Graph = project.graph
    data = g.add_node("Dataset", params={"dataset": "moons", "samples": 400, "noise": 0.3}).id
    hidden, relu = g.add_node("Linear", params={"out_features": 16}).id, g.add_node("ReLU").id
    out = g.add_node("Linear", params={"out_features": 2}).id
    loss, adam = g.add_node("CrossEntropy").id, g.add_node("Adam", params={"lr": 0.01}).id
    for source, target, port in ((data, hidden, "x"), (hidden, relu, "x"), (relu, out, "x"), (out, loss, "input")):
        g.connect(source, "x" if source == data else "y", target, port)
    g.connect(data, "target", loss, "target")
    g.connect(loss, "loss", adam, "loss")
    path = save_project(with_settings(project, device="cpu", epochs=3, batch_size=32), tmp_path / "moons.nbproj")
    trainer = Trainer(load_project(path))
    trainer.run()
    weights = trainer.save_weights(tmp_path / "model.pt")
    data = evaluated(capsys, str(path), "--weights", str(weights))
    answers = Predictor.load(load_project(path), weights).predict(range(80))
    assert data["roc_auc"]["1"] == pytest.approx(roc_auc_score(answers.true == 1, answers.probabilities[:, 1]))
    assert main(["evaluate", str(path), "--weights", str(weights), "--report", str(tmp_path / "report")]) == 0
    said = capsys.readouterr().out
    assert f"ROC AUC {data['roc_auc']['1']:.3f}, average precision {data['average_precision']['1']:.3f}" in said
    assert "(positive class: 1)" in said
    assert (tmp_path / "report" / "roc.png").read_bytes().startswith(PNG)

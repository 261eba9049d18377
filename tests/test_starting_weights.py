"""Weights brought in with an import: kept beside the project by node, loaded where they still fit when the app
trains, written into the exported package so that train.py starts where the app starts."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy
import pytest
import torch
from safetensors.torch import load_file, save_file

from netbuilder.cli import main
from netbuilder.importers.weights import read_weights_file
from netbuilder.project import ProjectError, load_project, project_to_json, save_project
from netbuilder.project.project_file import project_from_dict
from netbuilder.runtime.weights import WeightsFileError
from netbuilder.training.engine import Progress, Trainer, with_settings
from netbuilder.training.program import ProgramError, load_program
from tests.test_package import run_script

PRETRAINED = textwrap.dedent(
    """
    import torch
    from torch import nn

    class Pretrained(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(64, 32)
            self.head = nn.Linear(32, 5)

        def forward(self, x):
            return self.head(torch.relu(self.fc1(x)))
    """
)


def _pretrained_weights() -> dict[str, torch.Tensor]:
    """The original model's weights, drawn from another seed than any project uses."""
    generator = torch.Generator().manual_seed(1234)
    return {
        "fc1.weight": torch.randn(32, 64, generator=generator),
        "fc1.bias": torch.randn(32, generator=generator),
        "head.weight": torch.randn(5, 32, generator=generator),
        "head.bias": torch.randn(5, generator=generator),
    }


def _import(tmp_path: Path, weights: dict[str, torch.Tensor], suffix: str = ".pt") -> Path:
    source = tmp_path / "pretrained.py"
    source.write_text(PRETRAINED)
    weights_file = tmp_path / f"original{suffix}"
    if suffix == ".safetensors":
        save_file(weights, weights_file)
    else:
        torch.save(weights, weights_file)
    out = tmp_path / "tuned.nbproj"
    assert (
        main(
            ["import", f"{source}:Pretrained", "--input-shape", "1,64", "-o", str(out), "--weights", str(weights_file)]
        )
        == 0
    )
    return out


def _make_trainable(path: Path, *, classes: int) -> None:
    """As a person would: the Input gives way to the digits Dataset (8x8 images, flattened), the head gets the
    new task's classes and a new name, and a loss and an optimizer are added."""
    project = load_project(path)
    g = project.graph
    g.remove_node(g.by_label("x").id)
    data = g.add_node("Dataset", params={"dataset": "digits"}).id
    flatten = g.add_node("Flatten").id
    fc1, head = g.by_label("fc1").id, g.by_label("head").id
    g.connect(data, "x", flatten, "x")
    g.connect(flatten, "y", fc1, "x")
    g.set_param(head, "out_features", classes)
    g.rename(head, "classifier")
    loss = g.add_node("CrossEntropy").id
    optimizer = g.add_node("Adam", params={"lr": 0.01}).id
    g.connect(head, "y", loss, "input")
    g.connect(data, "target", loss, "target")
    g.connect(loss, "loss", optimizer, "loss")
    save_project(project)


def test_import_keeps_the_weights_beside_the_project_by_node(tmp_path) -> None:
    weights = _pretrained_weights()
    out = _import(tmp_path, weights)
    kept = tmp_path / "tuned.weights.safetensors"
    assert json.loads(out.read_text())["weights"] == kept.name
    project = load_project(out)
    assert project.weights == kept
    saved = load_file(kept)
    fc1 = project.graph.by_label("fc1").id
    assert torch.equal(saved[f"{fc1}.weight"], weights["fc1.weight"])
    assert len(saved) == 4


def test_wrong_weights_write_nothing_and_say_which(tmp_path, capsys) -> None:
    weights = _pretrained_weights()
    weights["fc1.weight"] = torch.zeros(32, 63)
    del weights["head.bias"]
    source = tmp_path / "pretrained.py"
    source.write_text(PRETRAINED)
    torch.save(weights, tmp_path / "wrong.pt")
    out = tmp_path / "wrong.nbproj"
    assert (
        main(
            [
                "import",
                f"{source}:Pretrained",
                "--input-shape",
                "1,64",
                "-o",
                str(out),
                "--weights",
                str(tmp_path / "wrong.pt"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "head.bias is missing" in err and "fc1.weight is (32, 63), the layer needs (32, 64)" in err
    assert not out.exists() and not (tmp_path / "wrong.weights.safetensors").exists()


def test_fine_tuning_starts_from_the_weights_that_still_fit(tmp_path) -> None:
    weights = _pretrained_weights()
    out = _import(tmp_path, weights, suffix=".pt")
    _make_trainable(out, classes=10)
    project = with_settings(load_project(out), device="cpu", epochs=1)
    program = load_program(project)
    assert program.starting.note == (
        "starts from tuned.weights.safetensors: 2 tensors in 1 layers; from the seed: classifier (new shape)"
    )
    trainer = Trainer(project)
    start = trainer.run_start()  # what the window and `netbuilder train` show before the first step
    assert (start.device, start.epochs, start.global_step) == ("cpu", 1, 0)
    assert start.starting == program.starting.note and trainer.run_start(resumed=True).starting == ""
    state = trainer.model.state_dict()
    assert torch.equal(state["fc1.weight"], weights["fc1.weight"])
    torch.manual_seed(project.training.seed)
    seeded = load_program(with_settings(project, device="cpu")).new_model().state_dict()
    assert torch.equal(state["classifier.weight"], seeded["classifier.weight"])  # the new head: from the seed
    losses: list[float] = []
    trainer.run(lambda event: isinstance(event, Progress) and losses.extend(event.losses), max_steps=5)
    assert len(losses) == 5 and all(numpy.isfinite(losses))


def test_a_missing_weights_file_stops_training_with_what_to_do(tmp_path) -> None:
    out = _import(tmp_path, _pretrained_weights())
    _make_trainable(out, classes=10)
    (tmp_path / "tuned.weights.safetensors").unlink()
    with pytest.raises(ProgramError, match=r"starting weights .* are missing: put the file back"):
        load_program(load_project(out))


def test_save_as_elsewhere_takes_the_weights_along_and_autosaves_point_at_them(tmp_path) -> None:
    out = _import(tmp_path, _pretrained_weights())
    project = load_project(out)
    elsewhere = tmp_path / "copy" / "renamed.nbproj"
    elsewhere.parent.mkdir()
    save_project(project, elsewhere)
    assert project.weights == elsewhere.with_name("renamed.weights.safetensors")
    assert project.weights.read_bytes() == (tmp_path / "tuned.weights.safetensors").read_bytes()
    assert load_project(elsewhere).weights == project.weights
    recovered = project_from_dict(json.loads(project_to_json(project)), tmp_path / "recovery" / "x.nbproj")
    assert recovered.weights == project.weights  # an autosave elsewhere names the file by its absolute path


@pytest.mark.parametrize("value", ["../secrets.weights.safetensors", "model.pt", 3])
def test_the_weights_field_names_a_file_beside_the_project(tmp_path, value) -> None:
    out = _import(tmp_path, _pretrained_weights())
    data = json.loads(out.read_text())
    data["weights"] = value
    with pytest.raises(ProjectError, match="weights"):
        project_from_dict(data, out)


@pytest.mark.slow
def test_exported_train_py_starts_from_the_same_weights_as_the_app(tmp_path) -> None:
    out = _import(tmp_path, _pretrained_weights(), suffix=".safetensors")
    _make_trainable(out, classes=10)
    project = with_settings(load_project(out), device="cpu", epochs=3, val_fraction=0.2, seed=0)
    trainer = Trainer(project)
    app_losses: list[float] = []
    trainer.run(lambda event: isinstance(event, Progress) and app_losses.extend(event.losses), max_steps=50)
    package = tmp_path / "package"
    assert main(["export", str(out), "-o", str(package)]) == 0
    assert (package / "starting_weights.safetensors").is_file()
    assert "safetensors" in (package / "requirements.txt").read_text()
    run_script(package, "train.py", "--device", "cpu", "--epochs", "3", "--out", "weights")
    script_losses = json.loads((package / "weights" / "history.json").read_text())["losses"]
    assert len(app_losses) == 50
    assert numpy.allclose(script_losses[:50], app_losses, rtol=0, atol=1e-5)


def test_weights_come_from_checkpoints_too_and_garbage_is_named(tmp_path) -> None:
    weights = _pretrained_weights()
    checkpoint = tmp_path / "checkpoint.pt"
    torch.save({"epoch": 3, "state_dict": weights}, checkpoint)
    assert read_weights_file(checkpoint).keys() == weights.keys()
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"e" * 200)
    with pytest.raises(WeightsFileError, match=r"garbage\.pt is not a weights file"):
        read_weights_file(garbage)


def test_a_file_torch_cannot_read_is_named_in_one_sentence_without_torchs_advice(tmp_path) -> None:
    pickled = tmp_path / "pickled.pt"
    torch.save({"weights": torch.zeros(2), "an object": torch.nn.ReLU()}, pickled)  # weights_only refuses it
    cut_short = tmp_path / "cut_short.pt"
    torch.save({"w": torch.zeros(100)}, cut_short)
    cut_short.write_bytes(cut_short.read_bytes()[:300])
    for path in (pickled, cut_short):
        with pytest.raises(WeightsFileError) as refused:
            read_weights_file(path)
        message = str(refused.value)
        assert "\n" not in message and len(message) - len(str(path)) < 150, message
        assert "weights_only" not in message and "Re-running" not in message, message

"""`netbuilder train` says what the Gradients tab says: a deep plain network whose default initialisation lets
the gradients vanish gets the warning once, naming its first layers and the remedies; the same network with
Kaiming initialisation gets none. The warning's words are the health check's own (project/gradient_health.py)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from netbuilder.cli import main
from netbuilder.project import Project, save_project
from netbuilder.project.gradient_health import EXPLODING, GradientWarning, Remedy
from netbuilder.project.gradient_samples import GradientReport, GradientSample
from netbuilder.project.settings import TrainingSettings
from netbuilder.training.console import GradientNotes


def deep_plain_project(path: Path, init: str) -> Path:
    """Digits -> Flatten -> 20 x (Linear(32), ReLU) -> Linear(10) -> CrossEntropy -> SGD(0.01): with torch's
    default initialisation the signal dies on the way back to the first layers; Kaiming's keeps it."""
    project = Project.new("deep plain")
    g = project.graph
    data = g.add_node("Dataset", params={"dataset": "digits"}).id
    init_params = {} if init == "default" else {"init": init, "init_nonlinearity": "relu", "bias_init": "zeros"}
    chain = [g.add_node("Flatten").id]
    for _ in range(20):
        chain += [g.add_node("Linear", params={"out_features": 32, **init_params}).id, g.add_node("ReLU").id]
    chain.append(g.add_node("Linear", params={"out_features": 10, **init_params}).id)
    previous, port = data, "x"
    for node in chain:
        g.connect(previous, port, node, "x")
        previous, port = node, "y"
    loss = g.add_node("CrossEntropy").id
    optimizer = g.add_node("SGD", params={"lr": 0.01}).id
    g.connect(previous, "y", loss, "input")
    g.connect(data, "target", loss, "target")
    g.connect(loss, "loss", optimizer, "loss")
    save_project(project, path)
    return path


def notes_without_optimizer() -> GradientNotes:
    """GradientNotes for a run whose project has no optimizer node: what it reads of a Trainer, and no more."""
    task = SimpleNamespace(optimizer_node="")
    return GradientNotes(
        SimpleNamespace(settings=TrainingSettings(), project=Project.new("p"), program=SimpleNamespace(task=task))
    )


def train(path: Path) -> int:
    return main(["train", str(path), "--epochs", "2", "--device", "cpu", "--seed", "0"])


@pytest.mark.parametrize("init", ["default", "kaiming_normal"])
def test_vanishing_gradients_are_said_once_in_the_terminal_and_not_with_kaiming(tmp_path, capsys, init):
    assert train(deep_plain_project(tmp_path / "deep.nbproj", init)) == 0
    out, err = capsys.readouterr()
    assert out == ""  # the run's words go to stderr: stdout stays free for what a command gives as data
    warnings = [line for line in err.splitlines() if line.startswith("warning: ") or "have cleared" in line]
    if init == "default":
        (warning,) = warnings
        assert warning.startswith("warning: Vanishing gradients: the first ")
        assert "(fc1 to " in warning and "residual connection" in warning and "Kaiming initialisation" in warning
    else:
        assert warnings == []


def test_a_remedy_that_is_one_change_is_named_as_the_option_or_parameter_to_change(tmp_path):
    notes = notes_without_optimizer()
    warning = GradientWarning(
        EXPLODING,
        "fc2",
        7,
        "Exploding gradients: the gradients of fc2 became inf at step 7. Try gradient clipping at 1, or ....",
        (
            Remedy("gradient clipping at 1", 1.0, setting="grad_clip"),
            Remedy("a learning rate of 0.001", 0.001, param="lr"),
        ),
    )
    assert notes._warning_line(warning) == (
        "warning: " + warning.message + " To change: --grad-clip 1; in the project, the optimizer's lr to 0.001."
    )


def test_a_warning_that_clears_is_said_to_have_cleared_once():
    notes = notes_without_optimizer()
    layers = ("fc1", "fc2", "fc3")

    def report(*steps: tuple[int, float]) -> GradientReport:
        return GradientReport(
            layers, tuple(GradientSample(s, (first, 0.1, 1.0), (1.0,) * 3, (1e-3,) * 3) for s, first in steps)
        )

    low, healthy = 1e-6, 0.1
    said = notes.lines(report((1, low), (11, low), (21, low), (31, healthy)))
    assert len(said) == 1 and said[0].startswith("warning: Vanishing gradients: fc1 gets gradients 1e-06 times")
    assert notes.lines(report((41, healthy), (51, healthy), (61, healthy))) == [
        "The vanishing gradients have cleared: none for the last 3 samples (step 51)."
    ]
    assert notes.lines(report((71, low), (81, low), (91, low))) == []  # each kind is said once a run

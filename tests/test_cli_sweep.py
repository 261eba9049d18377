"""`netbuilder sweep`: refusals before anything trains, a line per run and a table with the best marked, --json,
and Ctrl+C stopping after the current step."""

from __future__ import annotations

import json
import shutil
import signal
from pathlib import Path

import pytest

import netbuilder.training.sweep as sweep_module
from netbuilder.cli import main
from netbuilder.interrupts import INTERRUPTED_LINE
from netbuilder.project import load_project, save_project
from netbuilder.project.run_events import Progress
from netbuilder.project.run_history import RunHistory

SAMPLES = Path(__file__).parent.parent / "sample_projects"


@pytest.fixture
def digits(tmp_path: Path) -> Path:
    return Path(shutil.copy(SAMPLES / "digits_mlp.nbproj", tmp_path / "digits_mlp.nbproj"))


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (["--set", "optimizer.lr=1e-4:1e-1:logg:3"], "optimizer.lr: unknown scale logg; did you mean log?"),
        (["--set", "fc9.out_features=8,16"], "nothing to sweep called 'fc9.out_features': did you mean"),
        (["--set", "fc1.out_features=0,16"], "fc1.out_features=0: expected an integer from 1 to"),
        (["--set", "fc2.out_features=5"], "run 1 (fc2.out_features=5) cannot train: CrossEntropy receives 5"),
        (["--set", "optimizer.lr=0.1", "--search", "random"], "a random search needs a budget"),
        (["--set", "optimizer.lr=0.1", "--metric", "accuracy"], "unknown metric 'accuracy'; did you mean"),
        ([], "nothing to sweep: give at least one TARGET=VALUES"),
    ],
)
def test_a_plan_that_cannot_run_is_refused_in_one_line_before_training(digits, capsys, options, said):
    assert main(["sweep", str(digits), *options]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"netbuilder: {said}") and err.count("\n") == 1
    assert not digits.with_name("digits_mlp.runs").exists()


def test_a_project_with_problems_exits_1(tmp_path, capsys):
    project = load_project(SAMPLES / "digits_mlp.nbproj")
    project.graph.remove_node(project.graph.by_label("loss").id)
    path = save_project(project, tmp_path / "broken.nbproj")
    assert main(["sweep", str(path), "--set", "optimizer.lr=0.1,0.01"]) == 1
    assert "cannot sweep" in capsys.readouterr().err


def test_a_sweep_prints_a_line_per_run_then_the_runs_by_the_metric_with_the_best_marked(digits, capsys):
    assert main(["sweep", str(digits), "--set", "optimizer.lr=0.0003,0.01", "--epochs", "1"]) == 0
    out, err = capsys.readouterr()
    assert "Digits MLP: 2 runs, 2 epochs in all" in err
    assert "run 1/2  optimizer.lr=0.0003  val_accuracy" in err and "run 2/2  optimizer.lr=0.01" in err
    header, first, second, best = out.splitlines()
    assert header.split() == ["run", "optimizer.lr", "final", "val_accuracy", "best", "val_accuracy", "ended", "time"]
    assert first.split()[:3] == ["*", "2", "0.01"]  # the better rate first, marked
    assert second.split()[:2] == ["1", "0.0003"]
    records = RunHistory(digits).records
    assert len(records) == 2
    weights = digits.with_name("digits_mlp.runs") / records[1].weights
    assert best == f"best (*): run 2, optimizer.lr=0.01; weights in {weights}"


def test_json_gives_the_result_as_one_object(digits, capsys):
    assert main(["sweep", str(digits), "--set", "fc1.out_features=8", "--epochs", "1", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    [run] = result["runs"]
    assert result["best"] == run["run_id"] and result["metric"] == "val_accuracy" and not result["stopped"]
    assert run["values"] == {"fc1.out_features": 8} and run["status"] == "completed" and run["epochs"] == 1
    assert Path(run["weights"]).is_file() and run["final"] == run["best"]


def test_ctrl_c_stops_after_the_current_step_keeps_that_run_and_exits_130(digits, capsys, monkeypatch):
    run_sweep = sweep_module.run_sweep

    def interrupted(project, plan, *, listener, **options):
        def hear(event):
            listener(event)
            if isinstance(getattr(event, "event", None), Progress):  # a run's TrialEvent
                signal.raise_signal(signal.SIGINT)  # as Ctrl+C in the terminal

        return run_sweep(project, plan, listener=hear, **options)

    monkeypatch.setattr(sweep_module, "run_sweep", interrupted)
    assert main(["sweep", str(digits), "--set", "optimizer.lr=0.01,0.001", "--epochs", "2"]) == 130
    out, err = capsys.readouterr()
    assert err.rstrip().endswith(INTERRUPTED_LINE)
    assert "stopped: the runs not started are left out" in out
    [record] = RunHistory(digits).records
    assert record.status == "stopped" and record.checkpoint is not None


def test_with_tensorboard_each_run_logs_its_swept_values_among_its_hyperparameters(digits, tmp_path, capsys):
    from tests.test_tensorboard_log import hparams_of, read_run

    logs = tmp_path / "logs"
    command = ["sweep", str(digits), "--set", "fc1.out_features=8,16", "--epochs", "1", "--tensorboard", str(logs)]
    assert main(command) == 0
    assert f"TensorBoard event files in {logs}/RUN/" in capsys.readouterr().err
    for record in RunHistory(digits).records:
        events = read_run(logs / record.run_id)
        assert hparams_of(events)["fc1.out_features"] == record.sweep["values"]["fc1.out_features"]
        assert events.Scalars("loss/val")[-1].value == pytest.approx(record.final["val_loss"])

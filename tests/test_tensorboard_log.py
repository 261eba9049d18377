"""TensorBoard event files of a run, read back with the tensorboard package's own reader: `netbuilder train
--tensorboard` and the exported train.py's `--tensorboard` write the same tags, their values are the run's own
figures, and the hyperparameters and the graph are there."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2

from netbuilder.cli import main
from netbuilder.codegen.tensorboard_summaries import log_epoch, log_graph, log_run_end, run_hparams
from netbuilder.project import load_project
from netbuilder.project.run_history import RunHistory
from netbuilder.training.engine import Trainer, with_settings
from netbuilder.training.tensorboard_log import TensorBoardLog
from tests.test_package import export, run_script, sample
from tests.test_streaming import folder_project, same, weights, write_folder

SAMPLES = Path(__file__).parent.parent / "sample_projects"

EPOCH_TAGS = {"loss/train", "loss/val", "accuracy/val", "top5_accuracy/val", "learning_rate"}


def read_run(folder: Path) -> EventAccumulator:
    events = EventAccumulator(str(folder), size_guidance={"scalars": 0})  # 0: every value, none sampled away
    events.Reload()
    return events


def values(events: EventAccumulator, tag: str) -> list[tuple[int, float]]:
    return [(event.step, event.value) for event in events.Scalars(tag)]


def hparams_of(events: EventAccumulator) -> dict:
    content = events.PluginTagToContent("hparams")["_hparams_/session_start_info"]
    start = plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info
    return {
        name: value.WhichOneof("kind") and getattr(value, value.WhichOneof("kind"))
        for name, value in start.hparams.items()
    }


def assert_epochs_written(events: EventAccumulator, history: list[dict]) -> None:
    """Each epoch's figures at the epoch's number, as float32 holds them."""
    for name, tag in [
        ("train_loss", "loss/train"),
        ("val_loss", "loss/val"),
        ("val_accuracy", "accuracy/val"),
        ("val_top5_accuracy", "top5_accuracy/val"),
        ("learning_rate", "learning_rate"),
    ]:
        expected = [(entry["epoch"], entry[name]) for entry in history]
        assert [step for step, _ in values(events, tag)] == [step for step, _ in expected], tag
        assert [value for _, value in values(events, tag)] == pytest.approx([v for _, v in expected], rel=1e-6), tag


@pytest.fixture
def digits(tmp_path: Path) -> Path:
    return Path(shutil.copy(SAMPLES / "digits_mlp.nbproj", tmp_path / "digits_mlp.nbproj"))


@pytest.mark.slow
def test_netbuilder_train_writes_the_runs_figures_hyperparameters_and_graph(digits, tmp_path, capsys):
    logs = tmp_path / "tensorboard"
    assert main(["train", str(digits), "--epochs", "2", "--device", "cpu", "--tensorboard", str(logs)]) == 0
    (record,) = RunHistory(digits).records
    assert [path.name for path in logs.iterdir()] == [record.run_id]  # DIR/RUN/: --logdir DIR compares runs
    assert f"TensorBoard event files in {logs / record.run_id}" in capsys.readouterr().err
    events = read_run(logs / record.run_id)

    assert EPOCH_TAGS | {"loss/train_step", "accuracy/train"} <= set(events.Tags()["scalars"])
    steps = values(events, "loss/train_step")
    assert [step for step, _ in steps] == list(range(1, record.global_step + 1))  # every step, counted from 1
    assert_epochs_written(events, record.history)
    assert values(events, "accuracy/train") == [
        (entry["epoch"], pytest.approx(entry["train_accuracy"], rel=1e-6)) for entry in record.history
    ]
    final = {tag: values(events, tag) for tag in events.Tags()["scalars"] if tag.startswith("final/")}
    assert final["final/val_accuracy"] == [(2, pytest.approx(record.final["val_accuracy"], rel=1e-6))]
    hparams = hparams_of(events)
    assert hparams["optimizer"] == "Adam" and hparams["lr"] == pytest.approx(0.002)
    assert hparams["epochs"] == 2 and hparams["batch_size"] == record.settings["batch_size"]
    assert events.Tags()["graph"]


def test_a_file_given_as_the_folder_is_refused_before_training(digits, tmp_path, capsys):
    taken = tmp_path / "notes.txt"
    taken.write_text("")
    assert main(["train", str(digits), "--device", "cpu", "--tensorboard", str(taken)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"netbuilder: --tensorboard {taken} is a file, not a folder: give a folder for the TensorBoard logs"
    )
    assert RunHistory(digits).records == []  # nothing trained


@pytest.mark.slow
def test_train_py_writes_the_same_tags_with_its_own_losses(tmp_path):
    files = export(sample("digits_mlp"), tmp_path)
    assert "tensorboard" not in files["requirements.txt"]  # torch alone, unless the option is used
    assert (
        "`python train.py --tensorboard runs`" in files["README.md"] and "pip install tensorboard" in files["README.md"]
    )
    run_script(tmp_path, "train.py", "--epochs", "2", "--device", "cpu", "--tensorboard", "tb")
    (run,) = (tmp_path / "tb").iterdir()
    events = read_run(run)
    saved = json.loads((tmp_path / "history.json").read_text())

    assert EPOCH_TAGS | {"loss/train_step"} <= set(events.Tags()["scalars"])
    assert values(events, "loss/train_step") == [
        (step, pytest.approx(loss, rel=1e-6)) for step, loss in enumerate(saved["losses"], start=1)
    ]
    assert_epochs_written(events, saved["epochs"])
    assert hparams_of(events)["optimizer"] == "Adam" and events.Tags()["graph"]
    assert "final/val_loss" in events.Tags()["scalars"]


@pytest.mark.slow
def test_a_log_changes_nothing_in_the_run(tmp_path):
    """The graph is traced in eval mode: the dropout draws no random number, so the losses stay the same."""
    project = with_settings(load_project(SAMPLES / "digits_mlp.nbproj"), epochs=1, device="cpu")
    plain = Trainer(project)
    plain.run(max_steps=10)
    logged = Trainer(project)
    logged.run(TensorBoardLog(tmp_path / "run", logged), max_steps=10)
    assert logged.model.state_dict().keys() == plain.model.state_dict().keys()
    assert all((logged.model.state_dict()[k] == v).all() for k, v in plain.model.state_dict().items())


@pytest.mark.slow
def test_a_streamed_image_folder_logs_its_graph_and_trains_as_train_py_does(tmp_path):
    """The graph's sample comes through batches() (a DataLoader): it draws nothing from the run's generators,
    so the engine with a log and train.py with --tensorboard still end with the same weights."""
    trainer = Trainer(folder_project(write_folder(tmp_path / "images", per_class=8), epochs=1), workers=0)
    assert trainer.streamed
    assert trainer.run(TensorBoardLog(tmp_path / "app", trainer)).status == "completed"
    script = trainer.program.script
    exported = script.train(1, 8, 0.2, 0, "cpu", str(tmp_path), 0, tensorboard=str(tmp_path / "script"))
    assert same(weights(trainer), dict(exported.state_dict()))
    (script_run,) = (tmp_path / "script").iterdir()
    for run in (tmp_path / "app", script_run):
        events = read_run(run)
        assert events.Tags()["graph"] and {"loss/train_step", "accuracy/val"} <= set(events.Tags()["scalars"])


class Writer:
    """What the functions ask of a SummaryWriter, kept as calls."""

    def __init__(self) -> None:
        self.scalars: list[tuple[str, float, int]] = []
        self.hparams: tuple[dict, dict, int] | None = None

    def add_scalar(self, tag: str, value: float, step: int) -> None:
        self.scalars.append((tag, value, step))

    def add_hparams(self, hparams: dict, metrics: dict, *, run_name: str, global_step: int) -> None:
        assert run_name == "."  # the run's own folder, not a folder of its own under it
        self.hparams = (hparams, metrics, global_step)

    def flush(self) -> None:
        pass

    def add_graph(self, model, batch_x) -> None:
        print("a tracer's long story\nover lines")
        raise RuntimeError("Tracer cannot infer type of output\nmore")


def test_values_of_a_regression_are_tagged_by_metric_and_part_and_none_is_left_out():
    writer = Writer()
    record = {
        "epoch": 3,
        "train_loss": 0.5,
        "train_accuracy": None,
        "val_loss": 0.7,
        "val_mae": 0.2,
        "val_r2": 0.9,
        "learning_rate": 0.01,
    }
    log_epoch(writer, record)
    assert writer.scalars == [
        ("loss/train", 0.5, 3),
        ("loss/val", 0.7, 3),
        ("mae/val", 0.2, 3),
        ("r2/val", 0.9, 3),
        ("learning_rate", 0.01, 3),
    ]
    log_run_end(writer, {"lr": 0.01}, record)
    assert writer.hparams == (
        {"lr": 0.01},
        {
            "final/train_loss": 0.5,
            "final/val_loss": 0.7,
            "final/val_mae": 0.2,
            "final/val_r2": 0.9,
            "final/learning_rate": 0.01,
        },
        3,
    )


class Optimizer:
    def __init__(self, group: dict) -> None:
        self.param_groups = [group]


def test_hyperparameters_name_the_starting_rate_and_the_swept_values():
    settings = {"epochs": 2, "device": "auto"}
    one_cycle = Optimizer({"lr": 4e-5, "initial_lr": 4e-5, "max_lr": 1e-3})  # OneCycleLR starts far below its peak
    assert run_hparams(settings, one_cycle, {"fc1.out_features": 64, "sizes": [1, 2]}) == {
        "epochs": 2,
        "device": "auto",
        "optimizer": "Optimizer",
        "lr": 1e-3,
        "fc1.out_features": 64,
        "sizes": "[1, 2]",  # not a number, text or truth value: shown as text
    }
    assert run_hparams({}, Optimizer({"lr": 0.1, "initial_lr": 0.3}), {})["lr"] == 0.3  # a schedule's start


def test_a_graph_the_tracer_cannot_follow_is_one_line_and_no_failure(capsys):
    note = log_graph(Writer(), model=None, batch_x=None)
    assert note == "TensorBoard: the model's graph was left out: RuntimeError: Tracer cannot infer type of output"
    assert capsys.readouterr().out == ""  # the tracer's own printing is not shown

"""Runs compared: the better direction of each metric, final and best values, the best run, and what changed
between the project a run trained and the current one."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from netbuilder.project import load_project, project_to_dict
from netbuilder.project.run_comparison import (
    Change,
    best_run,
    best_value,
    changes,
    final_value,
    higher_is_better,
    metric_choices,
)
from netbuilder.project.run_history import RunRecord

SAMPLES = Path(__file__).resolve().parents[1] / "sample_projects"


def _run(run_id: str, *values: float | None, metric: str = "val_accuracy") -> RunRecord:
    history = [{"epoch": i + 1, "train_loss": 1.0, metric: v} for i, v in enumerate(values)]
    return RunRecord(run_id, "completed", history=history)


def test_losses_and_errors_are_better_lower_and_the_rest_higher():
    assert not any(higher_is_better(m) for m in ("val_loss", "train_loss", "val_mae", "val_rmse"))
    assert all(higher_is_better(m) for m in ("val_accuracy", "val_top5_accuracy", "val_r2", "train_accuracy"))


def test_final_and_best_values_skip_epochs_without_a_finite_value():
    run = _run("a", 0.5, 0.9, float("nan"), 0.8, None)
    assert final_value(run, "val_accuracy") == 0.8 and best_value(run, "val_accuracy") == 0.9
    loss = _run("b", 2.0, 0.5, 0.7, metric="val_loss")
    assert final_value(loss, "val_loss") == 0.7 and best_value(loss, "val_loss") == 0.5
    assert final_value(run, "val_loss") is None and best_value(run, "val_r2") is None


def test_the_best_run_is_chosen_in_the_metrics_direction_and_ties_go_to_the_earlier():
    runs = [_run("a", 0.7), _run("b", 0.9), _run("c", 0.9), _run("d")]
    assert best_run(runs, "val_accuracy").run_id == "b"
    losses = [_run("a", 0.3, 0.9, metric="val_loss"), _run("b", 0.5, metric="val_loss")]
    assert best_run(losses, "val_loss").run_id == "b"  # final values: 0.9 against 0.5
    assert best_run(losses, "val_loss", final=False).run_id == "a"  # best ever: 0.3
    assert best_run(runs, "val_mae") is None and best_run([], "val_loss") is None


def test_metric_choices_put_the_headline_metric_first():
    runs = [_run("a", 0.5), _run("b", 0.2, metric="val_loss"), _run("c", 1.0, metric="val_zeta")]
    assert metric_choices(runs) == ["val_accuracy", "val_loss", "train_loss", "val_zeta"]


def test_changes_name_settings_parameters_nodes_connections_and_definitions():
    before = project_to_dict(load_project(SAMPLES / "digits_mlp.nbproj"))
    after = copy.deepcopy(before)
    after["training"]["batch_size"] = 128
    nodes = {n["label"]: n for n in after["graph"]["nodes"]}
    nodes["fc1"]["params"]["out_features"] = 128
    nodes["optimizer"]["params"]["lr"] = 0.1
    nodes["fc1"]["position"] = [1.0, 2.0]  # moving a node is no change
    dropout = nodes["dropout"]
    after["graph"]["nodes"].remove(dropout)
    after["graph"]["edges"] = [e for e in after["graph"]["edges"] if dropout["id"] not in (e["from"][0], e["to"][0])]
    after["graph"]["nodes"].append({"id": "n99", "block": "ReLU", "label": "relu9", "params": {}, "position": [0, 0]})
    found = changes(before, after)
    words = [c.words() for c in found]
    old_lr = next(n for n in before["graph"]["nodes"] if n["label"] == "optimizer")["params"]["lr"]
    assert words == [
        "batch_size 64 → 128",
        "fc1.out_features 64 → 128",
        f"optimizer.lr {old_lr:.4g} → 0.1",
        "added relu9 (ReLU)",
        "removed dropout (Dropout)",
        "connections changed in the network",
    ]
    assert [c.key for c in found[:3]] == ["batch_size", "fc1.out_features", "optimizer.lr"]
    assert changes(before, json.loads(json.dumps(before))) == [] and changes(None, after) == []


def test_a_changed_inside_of_a_composite_block_is_named_once():
    before = project_to_dict(load_project(SAMPLES / "digits_resnet.nbproj"))
    after = copy.deepcopy(before)
    definition = after["definitions"][0]
    definition["nodes"][0]["position"] = [5.0, 5.0]
    assert changes(before, after) == []
    definition["nodes"][0]["params"]["bias"] = True
    assert changes(before, after) == [Change("definition", definition["name"])]
    assert changes(before, after)[0].words() == f"inside of {definition['name']} changed"

"""The sweep's plan: axes as typed, the trials a plan gives, what can be swept, and the refusals."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from netbuilder.project import load_project
from netbuilder.project.sweep_plan import (
    MAX_TRIALS,
    Axis,
    SweepError,
    SweepPlan,
    check_trials,
    sweep_targets,
    trial_project,
    with_values,
)

SAMPLES = Path(__file__).resolve().parents[1] / "sample_projects"


@pytest.fixture(scope="module")
def project():
    return load_project(SAMPLES / "digits_mlp.nbproj")


def plan(*axes: str, **options) -> SweepPlan:
    return SweepPlan(tuple(Axis.parse(axis) for axis in axes), **options)


@pytest.mark.parametrize(
    "text",
    [
        "fc1.out_features=64,128,256",
        "optimizer.lr=0.0001:0.1:log:8",
        "dropout.p=0.0:0.5:lin:6",
        "optimizer.lr=0.0001:0.1:lograndom:8",
        "fc1.out_features=16:256:random:5",
        "fc1.bias=true,false",
        "optimizer.schedule=none,cosine",
        "batch_size=32,64",
    ],
)
def test_an_axis_reads_back_as_it_is_written(text):
    axis = Axis.parse(text)
    assert axis.text() == str(axis) == text
    assert Axis.parse(axis.text()) == axis


def test_a_list_keeps_its_order_and_types():
    axis = Axis.parse("x.y=256, 64,0.5,relu,true")
    assert axis.values == (256, 64, 0.5, "relu", True)
    assert axis.points(random.Random(0)) == [256, 64, 0.5, "relu", True]


def test_a_setting_may_be_named_with_training_in_front():
    assert Axis.parse("training.batch_size=32,64").target == "batch_size"


def test_ranges_are_evenly_spaced_lin_or_log():
    rng = random.Random(0)
    assert Axis.parse("p=0:0.5:lin:6").points(rng) == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    assert Axis.parse("lr=1e-4:1e-1:log:4").points(rng) == [1e-4, 1e-3, 1e-2, 1e-1]
    assert Axis.parse("lr=1e-3:1e-1:log:1").points(rng) == [1e-3]


def test_an_integer_target_gets_distinct_rounded_integers(project):
    trials = plan("fc1.out_features=16:256:log:5").trials(project)
    assert [t.values["fc1.out_features"] for t in trials] == [16, 32, 64, 128, 256]
    # eight log-spaced points between 1 and 4 round to four distinct widths
    trials = plan("fc1.out_features=1:4:log:8").trials(project)
    assert [t.values["fc1.out_features"] for t in trials] == [1, 2, 3, 4]
    assert all(type(t.values["fc1.out_features"]) is int for t in trials)


def test_values_are_typed_as_the_target_takes_them(project):
    trials = plan("optimizer.lr=1,2", "batch_size=32.0,64").trials(project)
    assert [type(v) for v in trials[0].values.values()] == [float, int]


def test_random_samples_are_in_range_and_reproducible_with_the_seed(project):
    lr = "optimizer.lr=1e-4:1e-1:lograndom:8"
    first = [t.values["optimizer.lr"] for t in plan(lr, seed=3).trials(project)]
    assert first == [t.values["optimizer.lr"] for t in plan(lr, seed=3).trials(project)]
    assert first != [t.values["optimizer.lr"] for t in plan(lr, seed=4).trials(project)]
    assert len(set(first)) == 8 and all(1e-4 <= v <= 1e-1 for v in first)
    widths = [t.values["fc1.out_features"] for t in plan("fc1.out_features=16:256:random:20").trials(project)]
    assert all(type(w) is int and 16 <= w <= 256 for w in widths)


def test_a_grid_varies_the_first_axis_slowest(project):
    trials = plan("optimizer.lr=0.1,0.01,0.001", "fc1.out_features=32,64").trials(project)
    assert [t.index for t in trials] == list(range(6))
    assert [tuple(t.values.values()) for t in trials] == [
        (0.1, 32),
        (0.1, 64),
        (0.01, 32),
        (0.01, 64),
        (0.001, 32),
        (0.001, 64),
    ]


def test_a_grid_over_budget_is_a_seeded_subset_in_grid_order(project):
    axes = ("optimizer.lr=1e-4:1e-1:log:10", "fc1.out_features=16,32,64,128")
    full = [t.values for t in plan(*axes).trials(project)]
    subset = [t.values for t in plan(*axes, budget=7).trials(project)]
    assert len(subset) == 7 and all(values in full for values in subset)
    assert sorted(full.index(v) for v in subset) == [full.index(v) for v in subset]
    assert subset == [t.values for t in plan(*axes, budget=7).trials(project)]
    assert subset != [t.values for t in plan(*axes, budget=7, seed=1).trials(project)]
    assert [t.values for t in plan(*axes, budget=100).trials(project)] == full


def test_a_random_search_draws_the_budget(project):
    axes = ("optimizer.lr=1e-4:1e-1:log:10", "fc1.out_features=16,32,64,128")
    drawn = [t.values for t in plan(*axes, search="random", budget=5).trials(project)]
    assert len(drawn) == 5 and len({tuple(v.values()) for v in drawn}) == 5
    assert drawn == [t.values for t in plan(*axes, search="random", budget=5).trials(project)]
    # a random axis draws afresh for every run
    lrs = [
        t.values["optimizer.lr"]
        for t in plan("optimizer.lr=1e-4:1e-1:lograndom:2", search="random", budget=6).trials(project)
    ]
    assert len(set(lrs)) == 6


def test_a_grid_larger_than_the_limit_needs_a_budget(project):
    with pytest.raises(SweepError, match="1,100 runs, more than 1,000: give fewer values or a budget"):
        plan("optimizer.lr=1e-4:1e-1:log:100", "fc1.out_features=1:11:lin:11")
    assert len(plan("optimizer.lr=1e-4:1e-1:log:100", "fc1.out_features=1:11:lin:11", budget=50).trials(project)) == 50


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("fc1.out_features", "expected TARGET=VALUES"),
        ("fc1.out_features=", "expected TARGET=VALUES"),
        ("fc1.out_features=64,,128", "an empty value"),
        ("fc1.out_features=64,128,64.0", "64.0 is given twice"),
        ("optimizer.lr=1e-4:1e-1:logg:8", "unknown scale logg; did you mean log?"),
        ("optimizer.lr=1e-4:1e-1:8", "expected a list"),
        ("optimizer.lr=0:1e-1:log:8", "a log range needs a low end above 0"),
        ("optimizer.lr=1:0.1:lin:8", "the range must go up"),
        ("optimizer.lr=a:1:lin:8", "the range's low end a is not a number"),
        ("optimizer.lr=1e-4:1e-1:log:0", "the count 0 must be a whole number from 1 to 1000"),
        ("optimizer.lr=1e-4:1e-1:log:1001", "from 1 to 1000"),
        ("optimizer.lr=1e-4:1e-1:log:2.5", "the count 2.5"),
    ],
)
def test_an_axis_that_is_not_one_is_refused_in_one_line(text, said):
    with pytest.raises(SweepError, match=re.escape(said)) as caught:
        Axis.parse(text)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("axis", "said"),
    [
        ("fc9.out_features=1,2", "nothing to sweep called 'fc9.out_features': did you mean fc2.out_features"),
        ("optimzer.lr=0.1", "did you mean optimizer.lr"),
        ("batch_sise=32", "did you mean batch_size?"),
        ("fc1.in_features=8", "nothing to sweep called 'fc1.in_features'"),  # inferred from the input
        ("fc1.out_features=0,64", "fc1.out_features=0: expected an integer from 1 to"),
        ("fc1.out_features=64,128.5", "fc1.out_features=128.5: expected an integer"),
        ("optimizer.schedule=none,cosin", "optimizer.schedule=cosin: expected one of"),
        ("batch_size=0,64", "batch_size=0: expected an integer from 1 to"),
        ("dropout.p=0.5:1.5:lin:3", "dropout.p=1.5: expected a number from 0 to 1"),
    ],
)
def test_a_target_or_value_that_cannot_be_swept_is_refused_before_any_run(project, axis, said):
    with pytest.raises(SweepError, match=re.escape(said)):
        plan(axis).trials(project)


@pytest.mark.parametrize(
    ("options", "said"),
    [
        ({"budget": 0}, "the budget must be a whole number of runs from 1 to 1000"),
        ({"budget": MAX_TRIALS + 1}, "from 1 to 1000"),
        ({"search": "random"}, "a random search needs a budget"),
        ({"search": "bayes"}, "unknown search 'bayes'"),
        ({"epochs": 0}, "epochs: expected an integer from 1 to"),
        ({"metric": "val_acc"}, "unknown metric 'val_acc'; did you mean val_accuracy"),
    ],
)
def test_a_plan_that_cannot_run_is_refused(options, said):
    with pytest.raises(SweepError, match=re.escape(said)):
        plan("optimizer.lr=0.1,0.01", **options)


def test_a_target_swept_twice_or_epochs_with_halving_is_refused():
    with pytest.raises(SweepError, match=re.escape("optimizer.lr is swept twice")):
        plan("optimizer.lr=0.1", "optimizer.lr=0.01")
    with pytest.raises(SweepError, match="epochs is swept"):
        plan("epochs=1,2", halving=True)
    with pytest.raises(SweepError, match="nothing to sweep"):
        SweepPlan(())


def test_sweep_targets_offer_what_a_person_sets(project):
    targets = {t.target: t for t in sweep_targets(project)}
    assert targets["fc1.out_features"].kind == "integer" and targets["fc1.out_features"].current == 64
    assert targets["optimizer.lr"].kind == "number" and targets["optimizer.lr"].current == 0.002
    assert targets["optimizer.schedule"].kind == "choice" and "cosine" in targets["optimizer.schedule"].choices
    assert targets["fc1.bias"].kind == "bool"
    assert targets["batch_size"].label == "Batch size" and targets["batch_size"].current == 64
    assert "fc1.in_features" not in targets  # inferred
    assert "optimizer.step_size" not in targets  # does nothing while the schedule is none
    assert not any(t.kind not in ("integer", "number", "choice", "bool") for t in targets.values())


def test_with_values_sets_a_copy_and_checks_as_the_inspector_does(project):
    changed = with_values(project, {"fc1.out_features": 128, "optimizer.lr": 0.01, "batch_size": 32})
    assert changed.graph.by_label("fc1").params["out_features"] == 128
    assert changed.graph.by_label("optimizer").params["lr"] == 0.01
    assert changed.training.batch_size == 32
    assert project.graph.by_label("fc1").params["out_features"] == 64 and project.training.batch_size == 64
    with pytest.raises(SweepError, match=re.escape("fc1.out_features=-4")):
        with_values(project, {"fc1.out_features": -4})
    with pytest.raises(SweepError, match="batch_size=0"):
        with_values(project, {"batch_size": 0})
    with pytest.raises(SweepError, match="no node is labelled 'fc9'"):
        with_values(project, {"fc9.out_features": 3})


def test_check_trials_refuses_a_value_the_network_cannot_train_with(project):
    assert check_trials(project, plan("optimizer.lr=0.1,0.01", "fc1.out_features=8,16")) == plan(
        "optimizer.lr=0.1,0.01", "fc1.out_features=8,16"
    ).trials(project)
    with pytest.raises(SweepError, match=re.escape("run 2 (optimizer.lr=0.1, fc2.out_features=5) cannot train")):
        check_trials(project, plan("optimizer.lr=0.1,0.01", "fc2.out_features=10,5"))
    trial = plan("fc1.out_features=8", epochs=3).trials(project)[0]
    trained = trial_project(project, trial, 3)
    assert trained.training.epochs == 3 and trained.graph.by_label("fc1").params["out_features"] == 8

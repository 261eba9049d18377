"""The learning-rate range test (netbuilder.training.lr_finder) and `netbuilder lr-find`: exponential rates,
the project's weights left alone, a suggestion where the loss falls, an early stop where it blows up."""

from __future__ import annotations

import itertools
import json
import math
import multiprocessing
from pathlib import Path

import pytest
import torch

from netbuilder.cli import main
from netbuilder.project import load_project, project_to_json
from netbuilder.training.engine import Trainer, with_settings
from netbuilder.training.lr_finder import (
    exponential_rates,
    find_learning_rate,
    smoothed_both_ways,
    smoothing_for,
    steepest_descent,
)
from netbuilder.training.program import load_program
from tests.test_starting_weights import _import, _make_trainable, _pretrained_weights
from tests.test_streaming import folder_project, write_folder

SAMPLES = Path(__file__).parent.parent / "sample_projects"
DIGITS = SAMPLES / "digits_mlp.nbproj"
SPIRALS = SAMPLES / "spirals_mlp.nbproj"


@pytest.fixture(scope="module")
def digits_result():
    """digits_mlp (Adam) over 1e-5 .. 10: the loss falls, then blows up before the last rate."""
    return find_learning_rate(load_project(DIGITS), start=1e-5, end=10.0, steps=100, device="cpu")


def test_the_rates_grow_exponentially_from_start_to_end():
    rates = exponential_rates(1e-6, 1.0, 61)
    assert rates[0] == pytest.approx(1e-6) and rates[-1] == pytest.approx(1.0)
    ratios = [later / earlier for earlier, later in itertools.pairwise(rates)]
    assert ratios == pytest.approx([10 ** (6 / 60)] * 60)


def test_the_test_tries_those_rates_one_per_step():
    result = find_learning_rate(load_project(SPIRALS), start=1e-4, end=1e-2, steps=60, device="cpu")
    assert not result.stopped_early
    assert result.rates == pytest.approx(exponential_rates(1e-4, 1e-2, 60))
    assert len(result.losses) == len(result.smoothed) == 60
    assert all(math.isfinite(loss) for loss in result.losses)
    assert smoothed_both_ways([3.0] * 10, 0.9) == pytest.approx([3.0] * 10)  # bias corrected both ways: no pull to 0


def test_the_projects_weights_and_settings_are_left_as_they_were():
    project = with_settings(load_project(DIGITS), device="cpu")
    program = load_program(project)
    torch.manual_seed(project.training.seed)
    before = program.new_model().state_dict()
    saved = project_to_json(project)
    find_learning_rate(project, start=1e-3, end=1.0, steps=30, device="cpu")
    assert project_to_json(project) == saved
    torch.manual_seed(project.training.seed)
    after = load_program(project).new_model().state_dict()
    assert before.keys() == after.keys()
    assert all(torch.equal(before[name], after[name]) for name in before)


def test_starting_weights_are_left_bit_identical(tmp_path):
    """An imported model's weights: the file beside the project and what a run starts from stay as they were."""
    pretrained = _pretrained_weights()
    path = _import(tmp_path, pretrained)
    _make_trainable(path, classes=10)
    project = with_settings(load_project(path), device="cpu")
    weights_file = project.weights.read_bytes()
    find_learning_rate(project, start=1e-3, end=10.0, steps=30, device="cpu")
    assert project.weights.read_bytes() == weights_file
    starting = load_program(project).new_model().state_dict()
    assert torch.equal(starting["fc1.weight"], pretrained["fc1.weight"])
    assert torch.equal(starting["fc1.bias"], pretrained["fc1.bias"])


def test_the_suggestion_lies_where_the_loss_falls(digits_result):
    result = digits_result
    assert result.stopped_early  # a rate of 10 blows Adam up on digits
    assert result.suggestion is not None
    assert result.rates[0] < result.suggestion < result.rates[-1]
    at = result.rates.index(result.suggestion)
    assert result.smoothed[at] < result.smoothed[0]  # the loss has begun to fall there
    assert result.suggestion < result.rates[result.smoothed.index(max(result.smoothed[at:]))]


def test_the_smoothed_loss_does_not_lag_so_the_suggestion_is_where_the_loss_falls_not_after():
    # a loss that falls from 2 to 1 between steps 100 and 120 of 200, then stays: the steepest descent is there,
    # where a moving average alone (trailing by ~50 steps) would put it after the loss had stopped falling
    losses = [2.0] * 100 + [2.0 - (i + 1) / 20 for i in range(20)] + [1.0] * 80
    rates = exponential_rates(1e-6, 1.0, 200)
    suggested = rates.index(steepest_descent(rates, smoothed_both_ways(losses, smoothing_for(200))))
    assert 100 <= suggested <= 120


def test_a_short_test_that_ends_in_a_blow_up_still_suggests_a_rate_where_the_loss_falls():
    # the last 45 of 100 steps on digits (--steps 100): the loss falls from step 58 to 79, then blows up to 57
    # and settles near 3.5. Smoothed with a quarter of the test as its span, the blow-up spread back over the
    # fall and the "steepest descent" came out at a rate of 2.3, in the blow-up itself
    tail = [2.2, 2.2, 2.2, 2.1, 2.1, 2.0, 2.0, 1.9, 1.8, 1.7, 1.5, 1.3, 1.3, 0.9, 0.9, 0.8, 0.6, 0.6, 0.5, 0.5]
    tail += [0.7, 0.4, 0.3, 0.6, 0.2, 0.7, 2.3, 3.4, 7.9, 13.4, 17.4, 43.8, 34.4, 57.1, 35.8, 9.3, 4.7, 3.2, 3.3]
    losses = [2.3] * 55 + tail + [3.6, 3.5, 3.1, 3.1, 9.7, 3.7]
    rates = exponential_rates(1e-7, 10.0, 100)
    suggested = rates.index(steepest_descent(rates, smoothed_both_ways(losses, smoothing_for(100))))
    assert 58 <= suggested <= 79
    assert smoothing_for(100) == pytest.approx(0.8) and smoothing_for(200) == pytest.approx(0.9)
    assert smoothing_for(2000) == pytest.approx(0.99)


def test_on_digits_with_adam_the_suggestion_is_a_sensible_rate(digits_result):
    assert 1e-4 <= digits_result.suggestion <= 1e-1


def test_a_huge_end_stops_early_once_the_loss_blows_up():
    result = find_learning_rate(load_project(SPIRALS), start=1e-4, end=1e6, steps=60, device="cpu")
    assert result.stopped_early
    assert len(result.rates) < 60
    assert result.losses[-1] > 4 * min(result.losses) or not math.isfinite(result.losses[-1])


def test_stop_ends_the_test_after_the_step_taken_and_keeps_its_losses():
    asked = []

    def should_stop() -> bool:
        asked.append(True)
        return len(asked) == 5

    result = find_learning_rate(
        load_project(SPIRALS), start=1e-4, end=1e-2, steps=60, device="cpu", should_stop=should_stop
    )
    assert len(result.rates) == len(result.losses) == 5
    assert not result.stopped_early  # it did not blow up: it was stopped
    assert result.suggestion is None  # too few steps to tell


class Refused(Exception):
    pass


def test_a_range_test_ended_mid_epoch_closes_its_batch_reader(tmp_path):
    """A streamed image folder is read by a DataLoader's worker processes; ended mid-epoch, also by an
    exception (whose traceback would keep the reader alive), the test leaves none of them running."""
    project = folder_project(write_folder(tmp_path / "images"))
    trainer = Trainer(project, workers=2)
    read_ahead = []

    def after_step(step: int, rate: float, loss: float) -> bool:
        read_ahead.append(len(multiprocessing.active_children()))
        if step == 2:
            raise Refused  # the epoch has 5 batches: this is mid-epoch
        return True

    with pytest.raises(Refused) as refused:
        trainer.train_at_rates(exponential_rates(1e-4, 1e-1, 10), after_step)
    assert read_ahead == [2, 2]
    assert refused.tb is not None  # the traceback, and the frames it holds, are still alive here
    assert multiprocessing.active_children() == []
    assert trainer.train_at_rates(exponential_rates(1e-4, 1e-1, 10), lambda step, rate, loss: step < 3) is None
    assert multiprocessing.active_children() == []


def test_the_steepest_descent_skips_the_ends_and_needs_enough_points():
    rates = exponential_rates(1e-5, 1.0, 40)
    smoothed = [2.0 - (0.05 * i if 10 <= i < 30 else 0) + (1.0 if i == 2 else 0) for i in range(40)]
    smoothed[20] -= 0.5  # the steepest fall is into step 20, out of 19 and on from it
    assert steepest_descent(rates, smoothed) in (rates[19], rates[20])
    assert steepest_descent(rates[:6], smoothed[:6]) is None


def test_the_wrong_way_round_is_refused():
    with pytest.raises(ValueError, match="must grow"):
        find_learning_rate(load_project(SPIRALS), start=1.0, end=1e-3, device="cpu")


def test_the_command_prints_a_table_and_the_suggestion(capsys):
    argv = ["lr-find", str(DIGITS), "--start", "1e-5", "--steps", "60", "--device", "cpu"]
    assert main(argv) == 0
    said = capsys.readouterr()
    lines = said.out.splitlines()
    assert lines[0].split() == ["rate", "smoothed", "loss"]
    assert 5 <= len(lines) - 3 <= 10
    assert "suggested learning rate:" in said.out
    assert "set lr of optimizer to " in said.out and "in the window" in said.out
    assert "step 60/60" in said.err or "blew up" in said.err


def test_the_command_prints_json(capsys):
    argv = ["lr-find", str(SPIRALS), "--start", "1e-4", "--end", "1e-1", "--steps", "40", "--device", "cpu"]
    assert main([*argv, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) >= {"rates", "losses", "smoothed", "suggestion"}
    assert len(data["rates"]) == len(data["losses"]) == len(data["smoothed"]) == 40
    assert 1e-4 <= data["suggestion"] <= 1e-1


def test_the_command_refuses_rates_that_do_not_grow(capsys):
    assert main(["lr-find", str(SPIRALS), "--start", "5", "--end", "1"]) == 2
    assert "must grow" in capsys.readouterr().err


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU")
def test_on_a_gpu_the_rate_changes_every_step_and_the_suggestion_is_the_cpus_kind():
    """On CUDA the engine steps in a CUDA graph, which would keep the first rate; the range test must not."""
    result = find_learning_rate(load_project(DIGITS), start=1e-5, end=10.0, steps=100, device="cuda")
    assert result.stopped_early  # the loss blew up as the rate grew: each step had its own rate
    assert result.rates == pytest.approx(exponential_rates(1e-5, 10.0, 100)[: len(result.rates)])
    assert 1e-4 <= result.suggestion <= 1e-1

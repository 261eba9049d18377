"""A run's model.pt made starting weights: keyed by node, what still fits named, nothing left behind when
nothing fits."""

from __future__ import annotations

import pytest
import torch

from netbuilder.project import load_project
from netbuilder.runtime.run_weights import starting_weights_from_run
from netbuilder.runtime.starting_weights import read_starting_weights
from netbuilder.runtime.weights import WeightsFileError
from netbuilder.training.program import load_program

SAMPLE = "sample_projects/digits_mlp.nbproj"


@pytest.fixture
def run(tmp_path):
    """The digits MLP as a run trained it, and that run's model.pt."""
    trained = load_project(SAMPLE)
    state = load_program(trained).new_model().state_dict()
    torch.save(state, tmp_path / "model.pt")
    return trained, state, tmp_path / "model.pt"


def test_the_runs_weights_are_keyed_by_node_and_fit_the_same_network(run, tmp_path):
    trained, state, weights = run
    target = tmp_path / "digits.run-1.weights.safetensors"
    fitting = starting_weights_from_run(weights, trained, load_project(SAMPLE), target)
    assert fitting.fresh == () and set(fitting.tensors) == set(state)
    saved = read_starting_weights(target)
    assert torch.equal(saved["n6.weight"], state["fc2.weight"])  # fc2 is node n6


def test_a_layer_changed_since_is_named_and_the_rest_kept(run, tmp_path):
    trained, _, weights = run
    now = load_project(SAMPLE)
    now.graph.set_param("n6", "bias", False)  # fc2 has no bias now
    fitting = starting_weights_from_run(weights, trained, now, tmp_path / "w.weights.safetensors")
    assert [name.split(" ")[0] for name in fitting.fresh] == ["fc2"]
    assert set(fitting.tensors) == {"fc1.weight", "fc1.bias"}


def test_nothing_is_written_when_no_layer_fits(run, tmp_path):
    trained, _, weights = run
    now = load_project(SAMPLE)
    now.graph.set_param("n3", "out_features", 128)  # fc1 wider, so fc2 takes more inputs: neither fits
    target = tmp_path / "w.weights.safetensors"
    with pytest.raises(WeightsFileError, match="no layer of the run's network fits"):
        starting_weights_from_run(weights, trained, now, target)
    assert not target.exists()


def test_weights_of_another_network_are_refused(run, tmp_path):
    trained, _, weights = run
    torch.save({"encoder.weight": torch.zeros(2, 2)}, weights)
    with pytest.raises(WeightsFileError, match="not the network it trained"):
        starting_weights_from_run(weights, trained, load_project(SAMPLE), tmp_path / "w.weights.safetensors")

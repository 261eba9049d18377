"""A node's output for one validation sample of a real (short) run, as the Predict tab shows it, held to torch:
the same layers run by hand on the same sample give the same numbers, for nodes with a module of their own, a
node computed in forward() without one (Add), a block's instance, nodes inside a block (and inside a block in
it) and an LSTM whose module returns a tuple."""

from __future__ import annotations

from pathlib import Path

import numpy
import pytest
import torch

from netbuilder.project import load_project
from netbuilder.training import feature_maps
from netbuilder.training.engine import Trainer, with_settings
from netbuilder.training.feature_maps import IMAGE, SEQUENCE, VECTOR, FeatureMapError, FeatureMaps, drawn_form

SAMPLES = Path(__file__).parent.parent / "sample_projects"
SAMPLE = 5


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """FeatureMaps of a short run of a sample project, and its model's layers by node label."""
    made = {}

    def of(name: str) -> tuple[FeatureMaps, dict]:
        if name not in made:
            project = with_settings(load_project(SAMPLES / f"{name}.nbproj"), device="cpu", epochs=1, seed=3)
            trainer = Trainer(project)
            trainer.run(max_steps=3)
            maps = FeatureMaps.load(project, trainer.save_weights(tmp_path_factory.mktemp(name) / "model.pt"))
            model = maps.predictor.model
            by_label = {
                project.graph.nodes[node].label: (node, getattr(model, attribute, None))
                for node, attribute in maps.predictor.attributes.items()
            }
            made[name] = maps, by_label
        return made[name]

    return of


def sample_batch(maps: FeatureMaps) -> torch.Tensor:
    return maps.predictor.validation.take([SAMPLE])[0]


def captured(maps: FeatureMaps, layers: dict, label: str):
    return maps.capture(SAMPLE, layers[label][0])


@torch.no_grad()
def test_a_convolution_and_an_add_give_what_the_layers_give_by_hand(trained):
    maps, layers = trained("residual_cnn")
    layer = {label: module for label, (_, module) in layers.items()}
    x = sample_batch(maps)
    stem = layer["stem_relu"](layer["stem_bn"](layer["stem"](x)))
    conv = layer["block1_conv1"](stem)
    got = captured(maps, layers, "block1_conv1")
    assert got.kind == IMAGE and got.shape == (16, 32, 32) and got.channels == 16
    numpy.testing.assert_allclose(got.values, conv[0].numpy(), rtol=1e-5, atol=1e-6)

    # Add has no module: its value is computed in forward() from the branch and the shortcut
    assert layers["block1_add"][1] is None
    branch = layer["block1_bn2"](layer["block1_conv2"](layer["block1_relu"](layer["block1_bn1"](conv))))
    added = captured(maps, layers, "block1_add")
    numpy.testing.assert_allclose(added.values, (branch + stem)[0].numpy(), rtol=1e-5, atol=1e-6)
    assert not numpy.allclose(added.values, branch[0].numpy())  # the shortcut is in it

    # the last layer's output is the network's own answer for the sample
    scores = captured(maps, layers, "fc")
    assert scores.kind == VECTOR
    numpy.testing.assert_allclose(scores.values, maps.predictor.model(x)[0].numpy(), rtol=1e-5, atol=1e-6)


@torch.no_grad()
def test_a_pooled_map_is_a_vector_and_channels_past_the_cap_are_counted_not_kept(trained, monkeypatch):
    maps, layers = trained("residual_cnn")
    pooled = captured(maps, layers, "gap")
    assert pooled.shape == (16, 1, 1) and pooled.kind == VECTOR and pooled.values.shape == (16,)
    monkeypatch.setattr(feature_maps, "MAX_CHANNELS", 4)
    capped = captured(maps, layers, "block2_out")
    assert capped.channels == 16 and capped.values.shape == (4, 16, 16)


@torch.no_grad()
def test_a_block_instance_gives_its_output_and_an_lstm_node_its_value_not_its_module_tuple(trained):
    maps, layers = trained("digits_resnet")
    layer = {label: module for label, (_, module) in layers.items()}
    x = sample_batch(maps)
    stage1 = layer["stage1"](layer["relu"](layer["bn"](layer["stem"](x))))
    numpy.testing.assert_allclose(captured(maps, layers, "stage1").values, stage1[0].numpy(), rtol=1e-5, atol=1e-6)

    maps, layers = trained("lstm_classifier")
    x = sample_batch(maps)
    _, (hidden, _) = layers["lstm"][1](x)
    got = captured(maps, layers, "lstm")
    assert got.kind == VECTOR and got.shape == (32,)
    numpy.testing.assert_allclose(got.values, hidden[-1][0].numpy(), rtol=1e-5, atol=1e-6)


@torch.no_grad()
def test_inside_a_block_a_node_gives_what_the_instance_s_own_layers_give_by_hand(trained):
    maps, layers = trained("digits_resnet")
    layer = {label: module for label, (_, module) in layers.items()}
    graph = maps.graph
    x = sample_batch(maps)
    entering = layer["stage1"](layer["relu"](layer["bn"](layer["stem"](x))))  # what stage2 is called with
    stage2, block = layers["stage2"]
    inside = graph.definition_of(stage2).graph
    node = {n.label: n.id for n in inside.nodes.values()}
    conv = block.conv1(entering)
    got = maps.capture(SAMPLE, stage2, node["conv1"])
    assert got.path == (stage2, node["conv1"]) and got.shape == (32, 4, 4)
    numpy.testing.assert_allclose(got.values, conv[0].numpy(), rtol=1e-5, atol=1e-6)
    branch = block.bn2(block.conv2(block.relu(block.bn1(conv))))
    shortcut = block.downsample(entering)
    added = maps.capture(SAMPLE, stage2, node["add"])
    numpy.testing.assert_allclose(added.values, (branch + shortcut)[0].numpy(), rtol=1e-5, atol=1e-6)

    # a block inside a block, written as an nn.Sequential: its second layer is reached through the first
    downsample = node["downsample"]
    inner = {n.label: n.id for n in inside.definition_of(downsample).graph.nodes.values()}
    got = maps.capture(SAMPLE, stage2, downsample, inner["1"])
    assert got.path == (stage2, downsample, inner["1"])
    numpy.testing.assert_allclose(got.values, shortcut[0].numpy(), rtol=1e-5, atol=1e-6)

    # a repeated block (two copies): its inside differs from copy to copy, so the block's own output is given
    stage1 = layers["stage1"][0]
    first = next(iter(graph.definition_of(stage1).graph.nodes))
    got = maps.capture(SAMPLE, stage1, first)
    assert got.path == (stage1,)
    numpy.testing.assert_allclose(got.values, entering[0].numpy(), rtol=1e-5, atol=1e-6)


def test_the_dataset_the_loss_and_the_optimizer_say_they_give_nothing_for_a_sample(trained):
    maps, _ = trained("residual_cnn")
    nodes = {node.block: node_id for node_id, node in maps.graph.nodes.items()}
    with pytest.raises(FeatureMapError, match="the dataset gives the samples themselves"):
        maps.capture(SAMPLE, nodes["Dataset"])
    with pytest.raises(FeatureMapError, match="a loss gives nothing"):
        maps.capture(SAMPLE, nodes["CrossEntropy"])
    with pytest.raises(FeatureMapError, match="not part of the network"):
        maps.capture(SAMPLE, nodes["SGD"])
    with pytest.raises(FeatureMapError, match="train again"):
        maps.capture(SAMPLE, "a node added since")
    with pytest.raises(IndexError):
        maps.capture(10_000, nodes["Conv2d"])


def test_outputs_take_the_form_they_are_drawn_in():
    volume = drawn_form("n", torch.arange(120.0).reshape(2, 3, 4, 5))
    assert volume.kind == IMAGE and volume.channels == 6 and volume.values.shape == (6, 4, 5)
    assert volume.values[5, 3, 4] == 119
    sequence = drawn_form("n", torch.ones(7, 3))
    assert sequence.kind == SEQUENCE and sequence.values.shape == (7, 3)
    single = drawn_form("n", torch.tensor(2.5))
    assert single.kind == VECTOR and single.values.tolist() == [2.5] and single.shape == ()
    assert drawn_form("n", torch.tensor([1, 3]), outputs=2).values.dtype == numpy.float32


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU")
def test_on_a_gpu_a_node_gives_what_it_gives_on_the_cpu(trained, tmp_path):
    maps, layers = trained("residual_cnn")
    weights = tmp_path / "model.pt"
    torch.save(maps.predictor.model.state_dict(), weights)
    project = with_settings(load_project(SAMPLES / "residual_cnn.nbproj"), device="cuda", epochs=1, seed=3)
    on_gpu = FeatureMaps.load(project, weights, device="cuda")  # the same validation part as the CPU's
    assert on_gpu.predictor.device.type == "cuda"
    for label in ("block1_conv1", "block1_add", "fc"):
        node = layers[label][0]
        numpy.testing.assert_allclose(
            on_gpu.capture(SAMPLE, node).values, maps.capture(SAMPLE, node).values, rtol=1e-3, atol=1e-4
        )

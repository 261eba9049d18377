"""Each dataset's loader (the very text train.py gets, run as the app runs it) produces what the Dataset node
promises."""

from __future__ import annotations

import pytest
import torch

from netbuilder.analysis import analyze
from netbuilder.blocks.datasets import CLASSIFICATION, DATASETS
from netbuilder.data.loading import load_dataset
from netbuilder.graph import Graph

SMALL = {"samples": 60, "classes": 3, "features": 3, "length": 12, "noise": 0.1, "image_size": 8}


def load(name: str, params: dict, seed: int = 0):
    return load_dataset({"dataset": name, **params}, seed)


GENERATED = sorted(name for name, spec in DATASETS.items() if "path" not in spec.uses and not spec.tokens)
# (generated reviews are texts, not tensors: tests/test_generated_reviews.py)


@pytest.mark.parametrize("name", GENERATED)
def test_loader_matches_the_node_types(name):
    g = Graph()
    node = g.add_node(
        "Dataset", params={"dataset": name, **{k: v for k, v in SMALL.items() if k in DATASETS[name].uses}}
    )
    types = analyze(g).results[node.id].outputs
    x, y = load(name, g.nodes[node.id].params)
    assert x.dtype == torch.float32 and len(x) == len(y) > 0
    assert tuple(x.shape[1:]) == types["x"].features
    if DATASETS[name].task == CLASSIFICATION:
        assert y.dtype == torch.int64 and y.dim() == 1
        classes = types["target"].classes
        assert int(y.min()) >= 0 and int(y.max()) < classes
        assert len(torch.unique(y)) == classes, "every class occurs"
    else:
        assert y.dtype == torch.float32 and tuple(y.shape[1:]) == types["target"].features
    assert torch.isfinite(x).all()


@pytest.mark.parametrize("name", [n for n, spec in DATASETS.items() if "samples" in spec.uses and not spec.tokens])
def test_generated_data_depends_on_the_seed_only(name):
    params = {k: v for k, v in SMALL.items() if k in DATASETS[name].uses}
    x1, y1 = load(name, params, seed=3)
    x2, y2 = load(name, params, seed=3)
    x3, _ = load(name, params, seed=4)
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert not torch.equal(x1, x3)


def image_project(**dataset_params):
    """Stripes into a linear classifier: the smallest project that train.py can be generated for."""
    from netbuilder.project import Project

    project = Project.new("stripes")
    g = project.graph
    data = g.add_node("Dataset", params={"dataset": "stripes", "samples": 200, "image_size": 8, **dataset_params}).id
    flatten = g.add_node("Flatten").id
    fc = g.add_node("Linear", params={"out_features": 3}).id
    loss = g.add_node("CrossEntropy").id
    adam = g.add_node("Adam").id
    for edge in (
        (data, "x", flatten, "x"),
        (flatten, "y", fc, "x"),
        (fc, "y", loss, "input"),
        (data, "target", loss, "target"),
        (loss, "loss", adam, "loss"),
    ):
        g.connect(*edge)
    return project


def prepared(**dataset_params):
    from netbuilder.training.program import load_program

    return load_program(image_project(**dataset_params)).script.prepare_data(0.25, 0)


def test_images_are_normalised_per_channel_with_the_training_part_only():
    train_x, train_y, val_x, val_y = prepared()
    assert torch.allclose(train_x.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5)
    assert torch.allclose(train_x.std(dim=(0, 2, 3)), torch.ones(3), atol=1e-5)
    raw_train, raw_train_y, raw_val, raw_val_y = prepared(normalize=False)
    assert torch.equal(train_y, raw_train_y) and torch.equal(val_y, raw_val_y)
    mean = raw_train.mean(dim=(0, 2, 3), keepdim=True)
    std = raw_train.std(dim=(0, 2, 3), keepdim=True)
    assert torch.allclose(val_x, (raw_val - mean) / std), "validation is scaled with the training statistics"
    assert not torch.allclose(val_x.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5)


def test_normalisation_is_on_by_default_for_images_and_offered_for_images_only():
    from netbuilder.blocks import catalogue

    normalize = catalogue.get("Dataset").param("normalize")
    assert normalize.default is True
    images = {name for name, spec in DATASETS.items() if spec.images}
    assert set(normalize.when[1]) == images
    assert {"mnist", "cifar10", "svhn", "stripes", "image_folder"} <= images
    assert not {"digits", "spirals", "csv", "sequences"} & images


@pytest.mark.parametrize("name", [n for n, spec in DATASETS.items() if "classes" in spec.uses])
def test_generated_sets_have_up_to_a_hundred_classes(name):
    from netbuilder.blocks import catalogue
    from netbuilder.blocks.errors import ParamError

    classes = catalogue.get("Dataset").param("classes")
    with pytest.raises(ParamError):
        classes.validate(101)
    params = {k: v for k, v in {**SMALL, "length": 100}.items() if k in DATASETS[name].uses}
    params |= {"samples": 2000, "classes": 100}
    g = Graph()
    node = g.add_node("Dataset", params={"dataset": name, **params})
    result = analyze(g).results[node.id]
    assert result.diagnostics == [] and result.outputs["target"].classes == 100
    _, y = load(name, params)
    assert len(torch.unique(y)) == 100, "every class occurs"


def test_a_generated_set_needs_two_samples_per_class():
    g = Graph()
    node = g.add_node("Dataset", params={"dataset": "stripes", "samples": 150, "classes": 80, "image_size": 8})
    (problem,) = analyze(g).results[node.id].diagnostics
    assert problem.param == "samples" and "80 classes need at least 160 samples" in problem.message
    g.set_param(node.id, "samples", 160)
    assert analyze(g).results[node.id].diagnostics == []


def test_wave_sequences_warn_when_classes_outnumber_the_steps():
    g = Graph()
    node = g.add_node("Dataset", params={"dataset": "sequences", "classes": 40, "length": 32})
    (warning,) = analyze(g).results[node.id].diagnostics
    assert not warning.is_error and warning.param == "length" and "40 > length 32" in warning.message
    warning.fix.apply(g)
    assert g.nodes[node.id].params["length"] == 40 and analyze(g).results[node.id].diagnostics == []

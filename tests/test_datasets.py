"""Each dataset's loader (the very text train.py gets) produces what the Dataset node promises."""

from __future__ import annotations

import pytest
import torch

from netbuilder.analysis import analyze
from netbuilder.blocks.datasets import CLASSIFICATION, DATASETS
from netbuilder.graph import Graph
from netbuilder.runtime.build import load_module

SMALL = {"samples": 60, "classes": 3, "features": 3, "length": 12, "noise": 0.1, "image_size": 8}


def load(name: str, params: dict, seed: int = 0):
    spec = DATASETS[name]
    source = "\n".join(["import torch", *spec.import_lines(params), "", spec.loader_source(params)])
    return load_module(source, f"dataset {name}").load_data(seed)


GENERATED = sorted(name for name, spec in DATASETS.items() if "path" not in spec.uses)


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


@pytest.mark.parametrize("name", [n for n, spec in DATASETS.items() if "samples" in spec.uses])
def test_generated_data_depends_on_the_seed_only(name):
    params = {k: v for k, v in SMALL.items() if k in DATASETS[name].uses}
    x1, y1 = load(name, params, seed=3)
    x2, y2 = load(name, params, seed=3)
    x3, _ = load(name, params, seed=4)
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert not torch.equal(x1, x3)

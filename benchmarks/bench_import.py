"""Importing torchvision's largest classifiers: how long `netbuilder import` takes, and what of it is torch's.

The baseline, measured in the same run on the same module, is what any fx-based import has to do before it
maps anything: torch.fx's symbolic trace and one ShapeProp run on the input (the forward pass that records every
shape). The ratio says what netbuilder adds on top: mapping each call to a block, regrouping into the module
hierarchy, laying out every level. Code generation for the imported project is timed too. Every model is
untrained (weights=None) at 1x3x224x224, the size people import at. Needs torchvision.
Run: `.venv/bin/python benchmarks/bench_import.py [NAME ...]`.
"""

from __future__ import annotations

import sys
import time

import torch
import torch.fx
from torch.fx.passes.shape_prop import ShapeProp

from netbuilder.analysis import analyze
from netbuilder.codegen.model_code import generate_model
from netbuilder.graph.definitions import expanded_size
from netbuilder.importers import import_module

# the largest by parameters (regnet_y_128gf, vit_h_14), by calls (efficientnet_v2_l, densenet201), and the two
# families that keep library modules whole (swin_v2_b, maxvit_t)
MODELS = ("regnet_y_128gf", "vit_h_14", "efficientnet_v2_l", "densenet201", "swin_v2_b", "maxvit_t")
SHAPE = (1, 3, 224, 224)


def once(function) -> tuple[float, object]:
    started = time.perf_counter()
    value = function()
    return time.perf_counter() - started, value


def baseline(module: torch.nn.Module) -> int:
    """fx's trace and one shape-recording run: the floor of any fx import. Returns the number of fx nodes."""
    traced = torch.fx.symbolic_trace(module)
    with torch.no_grad():
        ShapeProp(traced).propagate(torch.randn(SHAPE))
    return len(traced.graph.nodes)


def main(names: list[str]) -> None:
    import torchvision

    torch.manual_seed(0)
    print(
        f"{'model':<18} {'params':>8} {'fx nodes':>9} {'nodes':>7} {'fx (s)':>7} {'import (s)':>10} "
        f"{'ratio':>6} {'code (s)':>8}"
    )
    for name in names:
        module = torchvision.models.get_model(name, weights=None).eval()
        params = sum(p.numel() for p in module.parameters())
        floor, fx_nodes = once(lambda module=module: baseline(module))
        seconds, result = once(lambda module=module, name=name: import_module(module, SHAPE, name))
        graph = result.project.graph
        code_seconds, _ = once(lambda graph=graph, name=name: generate_model(graph, analyze(graph), name=name))
        assert result.complete, result.report()
        print(
            f"{name:<18} {params / 1e6:>7.0f}M {fx_nodes:>9,} {expanded_size(graph):>7,} {floor:>7.1f} "
            f"{seconds:>10.1f} {seconds / floor:>6.2f} {code_seconds:>8.2f}"
        )
        del module, result, graph


if __name__ == "__main__":
    main(sys.argv[1:] or list(MODELS))

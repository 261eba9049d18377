"""Per-layer gradient statistics (training/gradient_stats.py) against a direct computation, the gradient health
check on networks that really vanish or explode, and the engine's reports of them, named by node labels."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from netbuilder.project import load_project
from netbuilder.project.gradient_health import EXPLODING, VANISHING, GradientWatch
from netbuilder.project.gradient_samples import GradientReport
from netbuilder.project.settings import TrainingSettings
from netbuilder.training.engine import Trainer, with_settings
from netbuilder.training.gradient_stats import GradientStats

DIGITS_MLP = Path(__file__).parent.parent / "sample_projects" / "digits_mlp.nbproj"


def deep_plain_network(init: str) -> nn.Sequential:
    """20 Linear + ReLU layers and a head: with weights a tenth of torch's default the signal dies on the way
    back; with Kaiming initialisation (made for ReLU) it arrives."""
    torch.manual_seed(0)
    layers: list[nn.Module] = []
    for _ in range(20):
        layers += [nn.Linear(32, 32), nn.ReLU()]
    model = nn.Sequential(*layers, nn.Linear(32, 4))
    for module in model:
        if isinstance(module, nn.Linear):
            if init == "bad":
                with torch.no_grad():
                    module.weight.mul_(0.1)
            else:
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                nn.init.zeros_(module.bias)
    return model


def train(model: nn.Module, stats: GradientStats, steps: int, lr: float) -> GradientReport | None:
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(1)
    for step in range(steps):
        x = torch.randn(64, 32, generator=generator)
        y = torch.randint(0, 4, (64,), generator=generator)
        sampled = stats.due(step)
        if sampled:
            stats.before_step()
        loss = nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if sampled:
            stats.after_step(step + 1)
    return stats.collect()


def watched(model: nn.Module, steps: int = 12, lr: float = 0.01) -> GradientWatch:
    stats = GradientStats(model, {str(i): f"layer{i}" for i in range(len(model))}, every=2)
    report = train(model, stats, steps, lr)
    watch = GradientWatch(report.layers, TrainingSettings(), {"lr": lr, "schedule": "none"})
    for sample in report.samples:
        watch.add(sample)
    return watch


def test_the_statistics_equal_a_direct_computation():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))
    stats = GradientStats(model, {"0": "conv", "3": "head"}, every=1)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    x, y = torch.randn(8, 1, 8, 8), torch.randint(0, 3, (8,))
    stats.before_step()
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    loss = nn.functional.cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    stats.after_step(1)
    report = stats.collect()
    assert report.layers == ("conv", "head") and [s.step for s in report.samples] == [1]
    sample = report.samples[0]
    for index, attribute in enumerate(("0", "3")):
        params = {n: p for n, p in model.named_parameters() if n.startswith(attribute + ".")}
        gradient = torch.cat([p.grad.flatten() for p in params.values()]).norm()
        weight = torch.cat([p.detach().flatten() for p in params.values()]).norm()
        change = torch.cat([(p.detach() - before[n]).flatten() for n, p in params.items()]).norm()
        was = torch.cat([before[n].flatten() for n in params]).norm()
        assert sample.gradient_norms[index] == pytest.approx(gradient.item(), rel=1e-5)
        assert sample.weight_norms[index] == pytest.approx(weight.item(), rel=1e-5)
        assert sample.update_ratios[index] == pytest.approx((change / was).item(), rel=1e-4)
    assert stats.collect() is None  # read once


def test_only_every_nth_step_is_sampled():
    model = nn.Sequential(nn.Linear(32, 4))
    report = train(model, GradientStats(model, {}, every=5), steps=12, lr=0.01)
    assert [s.step for s in report.samples] == [1, 6, 11]


def test_quick_steps_double_the_interval_so_samples_stay_apart_in_time():
    model = nn.Sequential(nn.Linear(32, 4))
    ticks = iter(range(1000))
    stats = GradientStats(model, {}, every=10, min_gap=0.05, clock=lambda: next(ticks) * 0.03)  # 30 ms apart
    due = [steps for steps in range(200) if stats.due(steps)]
    assert due == [0, 10, 20, 40, 80, 160]  # each sample but the first came sooner than 50 ms after the last
    assert stats.every == 320


def test_a_deep_plain_network_with_a_bad_initialisation_warns_of_vanishing_gradients_at_its_first_layer():
    watch = watched(deep_plain_network("bad"))
    assert [w.kind for w in watch.warnings] == [VANISHING]
    warning = watch.warnings[0]
    assert warning.layer == "layer0"
    assert "Vanishing gradients" in warning.message and "layer0" in warning.message
    assert "residual connection" in warning.message and "normalisation" in warning.message


def test_the_same_network_with_kaiming_initialisation_does_not():
    assert watched(deep_plain_network("kaiming")).warnings == []


def test_a_learning_rate_far_too_large_warns_of_exploding_gradients_offering_clipping_and_a_lower_rate():
    watch = watched(deep_plain_network("kaiming"), steps=30, lr=5.0)
    exploding = [w for w in watch.warnings if w.kind == EXPLODING]
    assert len(exploding) == 1
    warning = exploding[0]
    assert warning.layer.startswith("layer") and warning.layer in warning.message
    offered = {(r.setting or r.param): r.value for r in warning.remedies}
    assert offered == {"grad_clip": 1.0, "lr": 0.5, "schedule": "cosine"}


def test_the_engine_reports_the_statistics_by_node_label():
    project = with_settings(load_project(DIGITS_MLP), device="cpu")
    reports = []
    trainer = Trainer(project)
    trainer.gradient_stats.min_gap = 0  # every 10th step however quick the steps are
    trainer.run(lambda e: reports.append(e) if isinstance(e, GradientReport) else None, max_steps=25)
    labels = {node.label for node in project.graph.nodes.values()}
    layers = reports[0].layers
    assert layers and set(layers) <= labels
    steps = [s.step for report in reports for s in report.samples]
    assert steps == [1, 11, 21]
    assert all(len(s.gradient_norms) == len(layers) for report in reports for s in report.samples)


@pytest.mark.parametrize(
    "device",
    [
        "cpu",
        pytest.param(
            "cuda",
            marks=[pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU")],
        ),
    ],
)
def test_the_engines_last_sample_is_the_model_as_the_run_left_it(device):
    """On a GPU the step is a CUDA graph after three eager steps: the sample at step 21 reads the graph's own
    gradient buffers, which must be the gradients of that step (the run ends right after it)."""
    project = with_settings(load_project(DIGITS_MLP), device=device)
    reports = []
    trainer = Trainer(project)
    trainer.gradient_stats.min_gap = 0
    trainer.run(lambda e: reports.append(e) if isinstance(e, GradientReport) else None, max_steps=21)
    assert device == "cpu" or (trainer.graphed is not None and trainer.graphed.graph is not None)
    last = reports[-1].samples[-1]
    assert last.step == 21
    attributes = {label: attr for attr, label in trainer._layer_labels().items()}
    for index, layer in enumerate(reports[-1].layers):
        params = [p for n, p in trainer.model.named_parameters() if n.split(".")[0] == attributes[layer]]
        gradient = torch.cat([p.grad.flatten() for p in params]).norm().item()
        weight = torch.cat([p.detach().flatten() for p in params]).norm().item()
        assert last.gradient_norms[index] == pytest.approx(gradient, rel=1e-4)
        assert last.weight_norms[index] == pytest.approx(weight, rel=1e-4)
        assert 0 < last.update_ratios[index] < 1

"""Magnitude pruning: the asked share of the smallest weights set to zero (over the network or in each layer),
biases left alone, and the zeros kept while the pruned network trains on."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
from torch import nn

from netbuilder.project import load_project
from netbuilder.training.compression.magnitude import keep_masks, prune_magnitude, weight_sparsity
from netbuilder.training.engine import Trainer, with_settings

SAMPLES = Path(__file__).parent.parent / "sample_projects"


class Mixed(nn.Module):
    """One of each kind of prunable layer, of very different sizes and weight scales."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(40, 6)
        self.conv = nn.Conv1d(6, 12, kernel_size=3, padding=1)
        self.lstm = nn.LSTM(12, 10, num_layers=2, batch_first=True)
        self.fc = nn.Linear(10, 4)
        with torch.no_grad():
            self.fc.weight.mul_(5.0)  # much larger than the rest: a global threshold spares it

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.conv(self.embedding(tokens).transpose(1, 2)).relu()
        _, (h, _) = self.lstm(x.transpose(1, 2))
        return self.fc(h[-1])


WEIGHTS = (
    "embedding.weight",
    "conv.weight",
    "lstm.weight_ih_l0",
    "lstm.weight_hh_l0",
    "lstm.weight_ih_l1",
    "lstm.weight_hh_l1",
    "fc.weight",
)


def mixed() -> Mixed:
    torch.manual_seed(0)
    return Mixed()


def test_global_pruning_zeroes_the_smallest_weights_of_the_whole_network():
    model = mixed()
    before = copy.deepcopy(model.state_dict())
    keys = list(before)
    masks = prune_magnitude(model, 0.6, scope="global")

    after = model.state_dict()
    assert list(after) == keys  # nothing renamed, nothing left of torch's pruning machinery
    assert not any(module._forward_pre_hooks for module in model.modules())
    assert list(masks) == list(WEIGHTS)
    total = sum(before[key].numel() for key in WEIGHTS)
    zeros = sum(int((after[key] == 0).sum()) for key in WEIGHTS)
    assert zeros == round(0.6 * total)
    assert weight_sparsity(model) == pytest.approx(zeros / total)
    # one threshold: every zeroed weight was no larger than every kept one, whichever layer it is in
    pruned = torch.cat([before[key][~masks[key]].abs() for key in WEIGHTS])
    kept = torch.cat([before[key][masks[key]].abs() for key in WEIGHTS])
    assert pruned.max() <= kept.min()
    assert masks["fc.weight"].float().mean() >= 0.75  # the large layer keeps most, where 40% are kept in all
    for key in WEIGHTS:
        assert torch.equal(after[key], before[key] * masks[key])
    for key in keys:
        if key not in WEIGHTS:
            assert torch.equal(after[key], before[key]), key  # biases untouched


def test_layer_pruning_prunes_each_weight_to_the_share():
    model = mixed()
    before = copy.deepcopy(model.state_dict())
    masks = prune_magnitude(model, 0.3, scope="layer")
    after = model.state_dict()
    for key in WEIGHTS:
        zeros = int((after[key] == 0).sum())
        assert abs(zeros - 0.3 * after[key].numel()) <= 1, key
        assert torch.equal(masks[key], after[key] != 0)
        assert before[key][~masks[key]].abs().max() <= before[key][masks[key]].abs().min()
    assert weight_sparsity(model) == pytest.approx(0.3, abs=0.01)
    assert torch.equal(after["fc.bias"], before["fc.bias"])


def test_the_pruned_network_computes_as_the_original_with_those_weights_zeroed():
    model, reference = mixed(), mixed()
    masks = prune_magnitude(model, 0.5)
    with torch.no_grad():
        for key, mask in masks.items():
            reference.get_parameter(key).mul_(mask)
    tokens = torch.randint(0, 40, (3, 7))
    torch.testing.assert_close(model(tokens), reference(tokens), rtol=0, atol=0)


def test_what_cannot_be_pruned_is_refused():
    with pytest.raises(ValueError, match="sparsity"):
        prune_magnitude(mixed(), 1.0)
    with pytest.raises(ValueError, match="scope"):
        prune_magnitude(mixed(), 0.5, scope="channel")
    with pytest.raises(ValueError, match="no layer"):
        prune_magnitude(nn.Sequential(nn.ReLU(), nn.LayerNorm(3)), 0.5)
    assert weight_sparsity(mixed()) == 0.0


def blobs(n: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """Three Gaussian clusters in 8 dimensions."""
    generator = torch.Generator().manual_seed(1)
    centres = torch.randn(3, 8, generator=generator) * 2
    labels = torch.randint(0, 3, (n,), generator=generator)
    return centres[labels] + torch.randn(n, 8, generator=generator), labels


def test_kept_masks_hold_the_zeros_while_the_network_still_learns():
    torch.manual_seed(2)
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3))
    x, y = blobs()
    # per layer: one global threshold would take the whole last layer, whose initial weights are the smallest
    masks = prune_magnitude(model, 0.7, scope="layer")
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    handle = keep_masks(optimizer, model, masks)
    losses = []
    for _ in range(60):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        for key, mask in masks.items():
            assert torch.all(model.get_parameter(key)[~mask] == 0), key
    assert losses[-1] < 0.5 * losses[0]
    assert weight_sparsity(model) == pytest.approx(0.7, abs=0.01)

    handle.remove()  # Adam's momentum moves the pruned weights again
    optimizer.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()
    assert weight_sparsity(model) < 0.7


def test_keep_masks_names_a_weight_the_model_lacks():
    model = nn.Linear(3, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(KeyError, match=r"fc\.weight"):
        keep_masks(optimizer, model, {"fc.weight": torch.ones(2, 3, dtype=torch.bool)})


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU")
def test_kept_masks_hold_inside_the_trainers_cuda_graph():
    project = with_settings(load_project(SAMPLES / "digits_mlp.nbproj"), device="cuda", epochs=2)
    trainer = Trainer(project)
    masks = {key: mask.cuda() for key, mask in prune_magnitude(trainer.model, 0.8, scope="layer").items()}
    handle = keep_masks(trainer.optimizer, trainer.model, masks)
    assert trainer.graphed is not None and trainer.run().ok
    assert trainer.graphed.captures == 2 and trainer.graphed.reason == ""  # the hook ran inside the graphs
    for key, mask in masks.items():
        assert torch.all(trainer.model.get_parameter(key)[~mask] == 0), key
        assert torch.any(trainer.model.get_parameter(key)[mask] != 0), key
    handle.remove()

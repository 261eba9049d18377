"""Explanations of networks that read token indices: the attribution is taken at the Embedding that reads
them, one value per token, and integrated gradients keep their sign (towards the class or against it)."""

from __future__ import annotations

import numpy
import pytest
import torch
from torch import nn

from netbuilder.training.explain import GRADCAM, INTEGRATED_GRADIENTS, SALIENCY, ExplainError, explain

VOCABULARY, LENGTH, GOOD, BAD = 30, 12, 5, 6


class BagOfWords(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(VOCABULARY, 8, padding_idx=0)
        self.fc = nn.Linear(8, 2)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.fc(self.embedding(tokens).mean(dim=1))


class Recurrent(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(VOCABULARY, 8, padding_idx=0)
        self.lstm = nn.LSTM(8, 16, batch_first=True)
        self.fc = nn.Linear(16, 2)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.fc(self.lstm(self.embedding(tokens))[0][:, -1])


def reviews(count: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Neutral words (7 and up), and one sentiment word: GOOD in class 1, BAD in class 0, anywhere."""
    x = torch.randint(7, VOCABULARY, (count, LENGTH), generator=generator)
    y = torch.randint(0, 2, (count,), generator=generator)
    where = torch.randint(0, LENGTH, (count,), generator=generator)
    x[torch.arange(count), where] = torch.where(y == 1, GOOD, BAD)
    return x, y


@pytest.fixture(scope="module")
def bag() -> BagOfWords:
    torch.manual_seed(0)
    model, generator = BagOfWords(), torch.Generator().manual_seed(1)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(150):
        x, y = reviews(64, generator)
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    x, y = reviews(200, generator)
    assert (model(x).argmax(1) == y).float().mean() > 0.95
    return model


def test_integrated_gradients_credit_the_sentiment_word_with_its_sign(bag):
    sample = torch.full((LENGTH,), 9)
    sample[4] = GOOD
    towards_good = explain(bag, sample, 1, INTEGRATED_GRADIENTS, signed=True)
    towards_bad = explain(bag, sample, 0, INTEGRATED_GRADIENTS, signed=True)
    assert towards_good.shape == (LENGTH,)
    assert int(numpy.argmax(towards_good)) == 4 and towards_good[4] == pytest.approx(1.0)
    assert towards_bad[4] == pytest.approx(-1.0)  # the same word pushes away from the other class
    unsigned = explain(bag, sample, 1, INTEGRATED_GRADIENTS)
    assert unsigned.min() >= 0 and int(numpy.argmax(unsigned)) == 4


def test_saliency_gives_one_non_negative_value_per_token(bag):
    sample = torch.full((LENGTH,), 9)
    sample[7] = BAD
    heat = explain(bag, sample, 0, SALIENCY, signed=True)  # saliency is a size: signed changes nothing
    assert heat.shape == (LENGTH,) and heat.dtype == numpy.float32
    assert heat.min() >= 0 and heat.max() == pytest.approx(1.0)


def test_a_recurrent_network_is_explained_per_token():
    torch.manual_seed(0)
    sample = torch.randint(1, VOCABULARY, (LENGTH,))
    for method in (SALIENCY, INTEGRATED_GRADIENTS):
        heat = explain(Recurrent(), sample, 1, method)
        assert heat.shape == (LENGTH,) and heat.min() >= 0 and heat.max() == pytest.approx(1.0)


def test_grad_cam_and_tokens_without_an_embedding_are_refused(bag):
    with pytest.raises(ExplainError, match="Grad-CAM"):
        explain(bag, torch.ones(LENGTH, dtype=torch.long), 1, GRADCAM)

    class Counting(nn.Module):  # reads token indices as numbers: no Embedding to credit
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(LENGTH, 2)

        def forward(self, tokens: torch.Tensor) -> torch.Tensor:
            return self.fc(tokens.float())

    with pytest.raises(ExplainError, match="Embedding"):
        explain(Counting(), torch.ones(LENGTH, dtype=torch.long), 1, SALIENCY)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_a_recurrent_network_on_the_gpu_is_explained_as_on_the_cpu():
    torch.manual_seed(0)
    model, sample = Recurrent(), torch.randint(1, VOCABULARY, (LENGTH,))
    on_cpu = explain(model, sample, 1, INTEGRATED_GRADIENTS, signed=True)
    on_gpu = explain(model.cuda(), sample, 1, INTEGRATED_GRADIENTS, signed=True)  # cuDNN's LSTM refuses eval backward
    numpy.testing.assert_allclose(on_gpu, on_cpu, atol=1e-4)

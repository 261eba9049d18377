"""The text sample projects (a bidirectional LSTM and a small transformer encoder over generated reviews) learn
what the reviews say: well past chance in their own epochs, on the CPU, as a person opening them gets. That
they check clean, export, lint and train one epoch from train.py is test_samples.py's; that train.py repeats
the app's first losses, test_package.py's."""

from __future__ import annotations

from pathlib import Path

import pytest

from netbuilder.analysis import analyze
from netbuilder.project import load_project
from netbuilder.training.engine import Trainer, with_settings

SAMPLES = Path(__file__).parent.parent / "sample_projects"


@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    ["sentiment_lstm", pytest.param("sentiment_transformer", marks=pytest.mark.heavy)],  # 27 s: make test-heavy
)
def test_a_text_sample_learns_the_reviews_in_its_own_epochs(name):
    project = with_settings(load_project(SAMPLES / f"{name}.nbproj"), device="cpu")
    task = analyze(project.graph).training_task
    assert task.dataset.name == "reviews" and task.class_names == ("negative", "positive")
    outcome = Trainer(project).run()
    assert outcome.ok and outcome.epochs_done == project.training.epochs
    assert outcome.val_metrics["val_accuracy"] > 0.85, outcome.val_metrics


def test_the_samples_read_padding_as_padding():
    """The pooling (and the transformer's attention) leaves padding out: their tokens come from the dataset."""
    for name, tokens_to in (
        ("sentiment_lstm", ["TokenPool"]),
        ("sentiment_transformer", ["TokenPool", "TransformerEncoderLayer", "TransformerEncoderLayer"]),
    ):
        graph = load_project(SAMPLES / f"{name}.nbproj").graph
        data = next(n.id for n in graph.nodes.values() if n.block == "Dataset")
        readers = sorted(graph.nodes[e.dst].block for e in graph.edges if e.src == data and e.dst_port == "tokens")
        assert readers == tokens_to

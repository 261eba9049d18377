"""The inspector says what a text dataset's token indices are: their vocabulary, not classes."""

from __future__ import annotations

from netbuilder.blocks.tensor_type import LONG, batched
from netbuilder.ui.panels.inspector import type_text


def test_token_indices_are_said_by_their_vocabulary_and_targets_by_their_classes():
    assert type_text(batched(32, dtype=LONG, classes=20_000)) == "(N, 32) int64, indices below 20,000"
    assert type_text(batched(dtype=LONG, classes=2)) == "(N,) int64, 2 classes"

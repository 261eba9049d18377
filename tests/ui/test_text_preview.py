"""The Dataset preview of texts: the length histogram against max_length and the share of texts it cuts, the
vocabulary of the training part, and examples as written beside their tokens (<unk> marked, the cut shown)."""

from __future__ import annotations

import csv
import itertools

import numpy
from PySide6.QtCore import QPointF

from netbuilder.blocks import catalogue
from netbuilder.data.preview import make_preview
from netbuilder.project import Project
from netbuilder.ui.editor.controller import EditorController
from netbuilder.ui.editor.document import Document
from netbuilder.ui.panels.inspector import InspectorPanel
from netbuilder.ui.panels.text_preview import AFTER_CUT, cut_words, length_bins

WORDS = ["good", "bad", "film", "plot", "story", "actor", "scene", "music", "end", "night"]


def reviews_csv(path, rows: int = 120):
    """Text i has i % 40 + 1 words (so lengths 1..40, three of each), the rare word "zyzzyva" in every tenth."""
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["text", "target"])
        for i in range(rows):
            words = [WORDS[(i + k) % len(WORDS)] for k in range(i % 40 + 1)]
            if i % 10 == 0:
                words[0] = "Zyzzyva"
            writer.writerow([" ".join(words), "pos" if i % 2 else "neg"])
    return path


def text_params(path, **changes):
    return {**catalogue.get("Dataset").defaults(), "dataset": "text", "path": str(path), **changes}


def test_bins_count_every_length_and_the_cut_is_said_in_a_sentence():
    lengths = numpy.array([1, 2, 2, 3, 10, 10, 11, 40, 200, 5000])
    counts, edges = length_bins(lengths)
    assert counts.sum() == len(lengths)
    inside = [int(((lengths >= low) & (lengths < high)).sum()) for low, high in itertools.pairwise(edges)]
    inside[-1] = int((lengths >= edges[-2]).sum())  # the last bin holds every longer text
    assert counts.tolist() == inside
    assert cut_words(lengths, 10) == "40% of texts (4 of 10) are longer than 10 tokens and are cut."
    assert cut_words(lengths, 5000) == "No text is longer than 5,000 tokens: none is cut (the longest has 5,000)."
    assert cut_words(numpy.arange(1000), 998).startswith("under 1% of texts (1 of 1,000)")


def test_the_examples_are_read_through_the_training_parts_vocabulary(tmp_path):
    path = reviews_csv(tmp_path / "reviews.csv")
    preview = make_preview(text_params(path, vocab_size=6), seed=0, val_fraction=0.2)
    assert preview.vocabulary_size == 6  # <pad>, <unk> and the 4 most frequent words
    for (_, text, tokens), read in zip(preview.text_examples, preview.text_read, strict=True):
        assert read.tokens == tokens == tuple(text.lower().split())
        known = {token for token, unknown in zip(read.tokens, read.unknown, strict=True) if not unknown}
        assert len(known) <= 4 and "zyzzyva" not in known
    unknown = sum(sum(read.unknown) for read in preview.text_read)
    assert 0 < unknown < sum(len(read.tokens) for read in preview.text_read)
    assert 0 < preview.unknown_share < 1
    everything = make_preview(text_params(path), seed=0, val_fraction=0.0)  # every word is in a training text
    assert everything.unknown_share == 0 and not any(any(read.unknown) for read in everything.text_read)


def test_the_preview_shows_lengths_against_max_length_and_follows_it(qtbot, tmp_path):
    path = reviews_csv(tmp_path / "reviews.csv")
    project = Project.new("texts")
    node = project.graph.add_node("Dataset", params=text_params(path, max_length=30, vocab_size=8)).id
    document = Document(project)
    controller = EditorController(document)
    panel = InspectorPanel(controller)
    qtbot.addWidget(panel)
    panel.resize(380, 900)
    panel.show_node(node, selected=1)
    preview = panel.preview
    preview.button.click()
    qtbot.waitUntil(lambda: preview.preview is not None, timeout=60_000)
    shown = preview.preview
    assert preview.status.text() == "120 texts, 2 classes, median 20 tokens"
    lengths = shown.text_lengths
    assert sorted(lengths.tolist()) == sorted(i % 40 + 1 for i in range(120))
    histogram = preview.text.histogram
    counts, _ = numpy.histogram(numpy.minimum(lengths, histogram.edges[-1] - 1), bins=histogram.edges)
    assert histogram.counts.tolist() == counts.tolist() and histogram.counts.sum() == 120
    assert preview.text.cut.text() == "25% of texts (30 of 120) are longer than 30 tokens and are cut."
    mark = histogram.mark_x()
    assert histogram.x_of(30) < mark <= histogram.x_of(31)

    controller.set_param(node, "max_length", 10)
    assert preview.preview is shown, "max_length moves the mark without loading the data again"
    assert histogram.max_length == 10 and histogram.mark_x() == histogram.x_of(11) < mark
    assert preview.text.cut.text() == "75% of texts (90 of 120) are longer than 10 tokens and are cut."
    assert preview.text.strip.max_length == 10
    assert preview.minimumSizeHint().width() <= 300, "the text view fits a narrow inspector"
    panel.detach()
    document.close()


def test_an_example_shows_its_text_its_tokens_the_unknown_and_the_cut(qtbot, tmp_path):
    from netbuilder.ui.panels.dataset_preview import DatasetPreview

    path = reviews_csv(tmp_path / "reviews.csv")
    preview = DatasetPreview()
    qtbot.addWidget(preview)
    preview.resize(360, 900)
    preview.show()
    preview.set_params(text_params(path, max_length=4, vocab_size=5))
    preview.load()
    qtbot.waitUntil(lambda: preview.preview is not None, timeout=60_000)
    view = preview.text
    examples = zip(preview.preview.text_examples, preview.preview.text_read, strict=True)
    for index, ((_, text, _), read) in enumerate(examples):
        view.show_example(index)
        assert view.written.toPlainText() == text
        assert view.strip.tokens == read.tokens
        if any(read.unknown) and len(read.tokens) > 4 + AFTER_CUT:
            break
    else:
        raise AssertionError("an example with a word outside the vocabulary and more tokens than shown past the cut")
    strip = view.strip
    strip.resize(340, strip.heightForWidth(340))
    shown = strip.shown()
    end = 4 + AFTER_CUT
    assert shown[:-1] == read.tokens[:end] and shown[-1] == f"… {len(read.tokens) - end:,} more"
    unknown = read.unknown.index(True)
    assert "outside the vocabulary: read as <unk>" in strip.tooltip(unknown)
    assert "not read" not in strip.tooltip(3) and "past max_length (4): not read" in strip.tooltip(4)
    assert strip.token_at(QPointF(strip.boxes[4].center())) == 4
    assert strip.boxes[4].left() > strip.boxes[3].right() + 3 or strip.boxes[4].top() > strip.boxes[3].top()
    assert "tokens, cut at 4" in view.example_title.text()
    assert "after the bar: past max_length" in view.legend.text()
    preview.wait()


def test_byte_pairs_are_shown_and_counted_as_the_pieces_the_network_reads(tmp_path):
    path = reviews_csv(tmp_path / "reviews.csv")
    preview = make_preview(text_params(path, tokenizer="bpe", vocab_size=40), seed=0, val_fraction=0.2)
    assert preview.vocabulary_size <= 40
    split = 0
    for (sample, _, words), read in zip(preview.text_examples, preview.text_read, strict=True):
        assert len(read.tokens) == preview.text_lengths[sample] >= len(words)
        starts = [i for i, start in enumerate(read.word_starts) if start]
        pieces = [read.tokens[a:b] for a, b in itertools.pairwise([*starts, len(read.tokens)])]
        assert ["".join(word) for word in pieces] == list(words), "a word's pieces spell it"
        split += sum(len(word) > 1 for word in pieces)
    assert split, "with 40 pieces some words are read in several"

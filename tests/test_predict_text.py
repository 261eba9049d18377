"""A text run's predictions and explanations: each validation sample decoded by the run's vocab.json, and
integrated gradients per token that keep their sign (towards the class, or against it)."""

from __future__ import annotations

import csv
import itertools
import json
import random
from pathlib import Path

import numpy
import pytest

from netbuilder.data.loaders import text_files
from netbuilder.training.engine import Trainer, with_settings
from netbuilder.training.predict import PredictError, Predictor
from netbuilder.training.program import load_program
from netbuilder.training.run_explainer import RunExplainer
from tests.test_text_data import BAD, FILLER, GOOD, csv_table, text_project

MAX_LENGTH = 10
EVERY_STEP = (("GRU", {"hidden_size": 8, "output": "sequence"}), ("Mean", {"dim": (1,)}))  # then Linear


def reviews_csv(path: Path, count: int = 160) -> list[str]:
    """A CSV of generated reviews: neutral words, a name seen once (outside a small vocabulary: <unk>) and one
    sentiment word that says the class; some longer than MAX_LENGTH tokens. The texts in file order."""
    generator = random.Random(7)
    texts, rows = [], []
    for i in range(count):
        label = "good" if i % 2 else "bad"
        words = generator.choices(FILLER, k=generator.randint(3, 11))
        words.insert(generator.randint(0, len(words)), generator.choice(GOOD[:3] if i % 2 else BAD[:3]))
        words.insert(generator.randint(0, len(words)), f"Name{i}")
        text = " ".join(words).capitalize() + generator.choice(["!", ".", "..."])
        texts.append(text)
        rows.append((text, label))
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return texts


def trained_text_run(tmp_path: Path, epochs: int = 6, **params):
    """A run on `reviews_csv` trained until it predicts the class: its project, the table's texts in file order
    and the run's weights. `params` are more of the Dataset's (its tokenizer)."""
    texts = reviews_csv(tmp_path / "reviews.csv")
    values = {"max_length": MAX_LENGTH, "vocab_size": 40, **params}
    project, _ = text_project(tmp_path / "reviews.csv", EVERY_STEP, **values)
    project = with_settings(project, epochs=epochs, batch_size=16, val_fraction=0.2)
    trainer = Trainer(project)
    assert trainer.run().ok
    (tmp_path / "run").mkdir(exist_ok=True)
    weights = trainer.save_weights(tmp_path / "run" / "model.pt")
    return project, texts, weights


def encoded_tokens(text: str, vocabulary: list[str], max_length: int) -> tuple[str, ...]:
    known = set(vocabulary)
    return tuple(t if t in known else "<unk>" for t in text_files.tokenize(text)[:max_length])


@pytest.mark.slow
def test_a_text_runs_samples_come_with_their_tokens_and_a_signed_explanation(tmp_path):
    project, texts, weights = trained_text_run(tmp_path)
    predictor = Predictor.load(project, weights)
    predictions = predictor.predict(range(len(predictor)))
    vocabulary = json.loads((tmp_path / "run" / "vocab.json").read_text(encoding="utf-8"))["tokens"]

    # the validation part is the seeded split of the table's rows; each sample reads as its text
    _, val_index = text_parts(project)
    assert len(predictions.tokens) == len(predictions) == len(val_index)
    for tokens, index in zip(predictions.tokens, val_index, strict=True):
        assert tokens == encoded_tokens(texts[index], vocabulary, MAX_LENGTH)
    assert any("<unk>" in tokens for tokens in predictions.tokens)  # a word outside the vocabulary
    assert any(len(tokens) == MAX_LENGTH for tokens in predictions.tokens)  # a text cut at max_length
    assert predictions.correct.mean() >= 0.8

    explainer = RunExplainer.load(project, weights)
    assert explainer.tokens and explainer.methods == ("saliency", "ig")
    checked = 0
    for sample, tokens in enumerate(predictions.tokens):
        words = [i for i, t in enumerate(tokens) if t in GOOD + BAD]
        if len(words) != 1 or not predictions.correct[sample]:
            continue
        (word,) = words
        predicted = int(predictions.predicted[sample])
        towards = explainer.explain(sample, predicted, "ig")
        against = explainer.explain(sample, 1 - predicted, "ig")
        assert towards.shape == (MAX_LENGTH,) and numpy.abs(towards).max() == pytest.approx(1.0)
        # the sentiment word pushes towards the class it says, and away from the other
        assert towards[word] > 0 > against[word]
        sizes = explainer.explain(sample, predicted, "saliency")
        assert sizes.min() >= 0 and sizes.max() == pytest.approx(1.0)
        checked += 1
    assert checked >= 3


def text_parts(project):
    """The training and validation texts' places in the table, as train.py's prepare_text draws them."""
    settings = project.training
    return load_program(project).script.load_data(settings.seed).parts(settings.val_fraction, settings.seed)


def test_a_text_run_without_its_vocabulary_says_to_train_again(tmp_path):
    project, _ = text_project(csv_table(tmp_path))
    (tmp_path / "run").mkdir()
    weights = Trainer(project).save_weights(tmp_path / "run" / "model.pt")
    (tmp_path / "run" / "vocab.json").unlink()
    with pytest.raises(PredictError, match=r"vocabulary \(vocab.json\) is not beside its weights; train again"):
        Predictor.load(project, weights)


@pytest.mark.slow
@pytest.mark.parametrize("tokenizer", ["words", "bpe"])
def test_predict_py_reads_raw_text_and_answers_as_the_app_does(tmp_path, tokenizer):
    """The exported predict.py, in a process where netbuilder cannot be imported, splits and indexes a text
    given as an argument, with --text, in a .txt file or in a folder of them, by train.py's own functions and
    the run's vocab.json (words, or byte pairs), and prints the class and the probability the app's Predict
    tab gives for the same validation texts."""
    from tests.test_package import export, printed_answers, run_script

    project, texts, weights = trained_text_run(tmp_path, tokenizer=tokenizer)
    predictions = Predictor.load(project, weights).predict(range(6))
    _, val_index = text_parts(project)
    chosen = [texts[int(val_index[i])] for i in range(6)]
    package = tmp_path / "package"
    export(project, package)
    for name in ("model.pt", "vocab.json"):
        (package / name).write_bytes((weights.parent / name).read_bytes())
    (package / "texts").mkdir()
    for i, text in enumerate(chosen[:3]):
        (package / "texts" / f"review_{i}.txt").write_text(text, encoding="utf-8")
    (package / "one.txt").write_text(chosen[3], encoding="utf-8")

    printed = printed_answers(run_script(package, "predict.py", "texts", "one.txt", chosen[4], "--text", chosen[5]))

    names = [str(Path("texts") / f"review_{i}.txt") for i in range(3)] + ["one.txt"]
    names += [f'"{" ".join(text.split())[:40]}…"' if len(text) > 40 else f'"{text}"' for text in chosen[4:]]
    assert list(printed) == names
    for i, name in enumerate(names):
        predicted = int(predictions.predicted[i])
        assert printed[name][0] == predictions.class_names[predicted]
        assert printed[name][1] == pytest.approx(float(predictions.probabilities[i, predicted]), abs=1e-5)


@pytest.mark.slow
def test_netbuilder_explain_writes_a_texts_tokens_coloured_by_their_attributions(tmp_path, capsys):
    from PIL import Image

    from netbuilder.cli import main
    from netbuilder.project import save_project
    from netbuilder.token_display import AGAINST, SIZE, TOWARDS

    project, _, weights = trained_text_run(tmp_path)
    save_project(project, tmp_path / "reviews.nbproj")
    (tmp_path / "review.txt").write_text("Overall the film was superb, but the script was awful... Zorba!")
    base = ["explain", str(tmp_path / "reviews.nbproj"), "--weights", str(weights), "--input"]
    out = tmp_path / "ig.png"

    assert main([*base, str(tmp_path / "review.txt"), "--method", "ig", "-o", str(out)]) == 0

    said = capsys.readouterr().out
    assert said.startswith(f"{out}: Integrated gradients of {tmp_path / 'review.txt'} for class ")
    colours = {tuple(pixel) for pixel in numpy.asarray(Image.open(out).convert("RGB")).reshape(-1, 3).tolist()}
    assert TOWARDS[0] in colours and AGAINST[0] in colours  # the legend's squares
    # and tokens on backgrounds mixed from white towards each hue (the legend's squares are the pure hues)
    mixed = colours - {TOWARDS[0], AGAINST[0]}
    assert any(b - r > 30 and g > 150 for r, g, b in mixed) and any(r - b > 30 and g > 150 for r, g, b in mixed)
    assert main([*base, str(tmp_path / "review.txt"), "--method", "saliency", "-o", str(out)]) == 0
    colours = {tuple(pixel) for pixel in numpy.asarray(Image.open(out).convert("RGB")).reshape(-1, 3).tolist()}
    assert SIZE[0] in colours and TOWARDS[0] not in colours
    assert main([*base, str(tmp_path / "review.txt"), "--method", "gradcam", "-o", str(out)]) == 1
    assert "Grad-CAM needs an image input" in capsys.readouterr().err


def test_a_byte_pair_runs_pieces_are_grouped_into_their_words(tmp_path):
    """Byte pairs split a word into pieces: the predictions say which piece begins a word, so the pieces of a
    word read together ("charm" "ing" as charming) and the words as the text's own."""
    from netbuilder.token_display import joined

    texts = reviews_csv(tmp_path / "reviews.csv")
    values = {"max_length": 40, "vocab_size": 120, "tokenizer": "bpe"}  # every character, some pairs
    project, _ = text_project(tmp_path / "reviews.csv", EVERY_STEP, **values)
    project = with_settings(project, val_fraction=0.2)
    (tmp_path / "run").mkdir()
    weights = Trainer(project).save_weights(tmp_path / "run" / "model.pt")
    predictions = Predictor.load(project, weights).predict(range(12))
    _, val_index = text_parts(project)

    split = 0
    for tokens, starts, index in zip(predictions.tokens, predictions.word_starts, val_index[:12], strict=True):
        words = text_files.tokenize(texts[int(index)])
        assert len(starts) == len(tokens) and starts[0]
        grouped = [[]]
        for token, start in zip(tokens, starts, strict=True):
            if start:
                grouped.append([])
            grouped[-1].append(token)
        assert ["".join(pieces) for pieces in grouped[1:]] == words[: len(grouped) - 1]
        assert joined(tokens, starts).split(" ")[0] == words[0]
        split += len(tokens) > len(grouped) - 1
    assert split >= 6  # most texts have a word in several pieces


@pytest.mark.slow
def test_a_text_regressions_signed_map_says_what_raises_its_value(tmp_path):
    """A network that gives one value (a review's score): integrated gradients credit the value itself, so a
    word that raises the score is positive and one that lowers it negative (not the other way round)."""
    from netbuilder.project import Project

    generator = random.Random(2)
    rows = [["text", "score"]]
    for _ in range(200):
        good, bad = generator.randint(0, 2), generator.randint(0, 2)
        words = generator.choices(FILLER, k=4) + ["great"] * good + ["awful"] * bad
        generator.shuffle(words)
        rows.append([" ".join(words), str(good - bad)])
    with open(tmp_path / "scores.csv", "w", newline="", encoding="utf-8") as stream:
        csv.writer(stream).writerows(rows)
    project = Project.new("scores")
    g = project.graph
    values = {"dataset": "text", "path": str(tmp_path / "scores.csv"), "target_column": "score", "task": "regression"}
    data = g.add_node("Dataset", params={**values, "max_length": 8, "vocab_size": 20}).id
    chain = [g.add_node("Embedding", params={"num_embeddings": 20, "embedding_dim": 8, "padding_idx": 0}).id]
    chain += [g.add_node(block, params=params).id for block, params in EVERY_STEP]
    chain.append(g.add_node("Linear", params={"out_features": 1}).id)
    loss, adam = g.add_node("MSE").id, g.add_node("Adam", params={"lr": 0.02}).id
    g.connect(data, "x", chain[0], "x")
    for before, after in itertools.pairwise(chain):
        g.connect(before, "y", after, "x")
    for edge in ((chain[-1], "y", loss, "input"), (data, "target", loss, "target"), (loss, "loss", adam, "loss")):
        g.connect(*edge)
    project = with_settings(project, device="cpu", epochs=15, batch_size=16, val_fraction=0.2, seed=0)
    trainer = Trainer(project)
    assert trainer.run().ok
    (tmp_path / "run").mkdir()
    weights = trainer.save_weights(tmp_path / "run" / "model.pt")

    explainer = RunExplainer.load(project, weights)
    predictions = explainer.predictor.predict(range(len(explainer.predictor)))
    assert predictions.kind == "regression"
    seen = {"great": [], "awful": []}
    for sample, tokens in enumerate(predictions.tokens):
        heat = explainer.explain(sample, 0, "ig")
        for i, token in enumerate(tokens):
            if token in seen:
                seen[token].append(float(heat[i]))
    assert numpy.mean(seen["great"]) > 0.2 and numpy.mean(seen["awful"]) < -0.2

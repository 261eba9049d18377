"""Text datasets: tiny files written in each real layout (aclImdb folders, one folder per class, CSV/TSV/JSON
lines with quoting, unicode and blank lines) become (N, max_length) token indices through train.py's own
prepare_text; the vocabulary comes from the training part only; bad files are named; the tokens are cached
beside the data and read again only when a file or an option changes; graphs from Embedding to Linear check
and train."""

from __future__ import annotations

import ast
import itertools
import json
import math
import os
from pathlib import Path

import pytest
import torch

from netbuilder.analysis import analyze
from netbuilder.blocks.tensor_type import LONG
from netbuilder.data.loaders import text_files
from netbuilder.data.loading import DataLoadError, load_dataset
from netbuilder.graph import Graph
from netbuilder.project import Project
from netbuilder.training.engine import Trainer, with_settings
from netbuilder.training.program import load_program

GOOD = ["great", "wonderful", "superb", "loved", "fine", "moving"]
BAD = ["awful", "boring", "terrible", "hated", "poor", "dull"]
FILLER = ["the", "a", "movie", "film", "plot", "actor", "was", "is", "and", "it"]


def review(number: int, words: list[str]) -> str:
    """A short review, different for every number, whose sentiment words say its class."""
    chosen = [FILLER[(number * 7 + i) % len(FILLER)] for i in range(3 + number % 5)]
    chosen.insert(number % 3, words[number % len(words)])
    return " ".join(chosen).capitalize() + "!"


def write_texts(folder: Path, texts: dict[str, str]) -> None:
    for name, text in texts.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")


def imdb(root: Path, per_class: int = 12) -> Path:
    """An aclImdb folder: train/pos, train/neg (and train/unsup, which is no class), test/pos, test/neg."""
    folder = root / "aclImdb"
    for part, start in (("train", 0), ("test", 1000)):
        for label, words in (("pos", GOOD), ("neg", BAD)):
            write_texts(
                folder, {f"{part}/{label}/{start + i}_7.txt": review(start + i, words) for i in range(per_class)}
            )
    write_texts(folder, {"train/unsup/0_0.txt": "not labelled"})
    return folder


def class_folders(root: Path, per_class: int = 15) -> Path:
    folder = root / "reviews"
    for label, words in (("good", GOOD), ("bad", BAD)):
        write_texts(folder, {f"{label}/{i:03}.txt": review(i, words) for i in range(per_class)})
    return folder


def table_rows(per_class: int = 15) -> list[tuple[str, str]]:
    rows = [(review(i, GOOD), "good") for i in range(per_class)] + [(review(i, BAD), "bad") for i in range(per_class)]
    return sorted(rows, key=lambda row: hash(row[0]) % 7)


def csv_table(root: Path, delimiter: str = ",") -> Path:
    """A table whose texts hold the delimiter, quotes, a line break and accents; blank lines between rows."""
    suffix = ".tsv" if delimiter == "\t" else ".csv"
    lines = [f"id{delimiter}text{delimiter}label", ""]
    for i, (text, label) in enumerate(table_rows()):
        text = f'{text} Said "naïve"{delimiter} then\nmore' if i % 4 == 0 else text
        lines.append(f'{i}{delimiter}"{text.replace(chr(34), 2 * chr(34))}"{delimiter}{label}')
        if i % 5 == 0:
            lines.append("")
    path = root / f"reviews{suffix}"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def json_lines(root: Path) -> Path:
    lines = []
    for i, (text, label) in enumerate(table_rows()):
        lines.append(json.dumps({"text": text + (" Ça déçoit… 😀" if i % 3 == 0 else ""), "label": label}))
        if i % 4 == 0:
            lines.append("   ")
    path = root / "reviews.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


LAST_STEP = (("LSTM", {"hidden_size": 8, "output": "last"}),)


def text_project(path: Path, layers=LAST_STEP, **params) -> tuple[Project, str]:
    """Dataset -> Embedding -> `layers` (an LSTM's last step) -> Linear -> CrossEntropy, with Adam; the
    Dataset's id."""
    project = Project.new("text")
    g = project.graph
    values = {"dataset": "text", "path": str(path), "target_column": "label", "max_length": 12, "vocab_size": 64}
    data = g.add_node("Dataset", params={**values, **params}).id
    rows = params.get("vocab_size", 64)
    chain = [g.add_node("Embedding", params={"num_embeddings": rows, "embedding_dim": 8, "padding_idx": 0}).id]
    chain += [g.add_node(block, params=values).id for block, values in layers]
    chain.append(g.add_node("Linear", params={"out_features": 2}).id)
    loss = g.add_node("CrossEntropy").id
    adam = g.add_node("Adam", params={"lr": 0.02}).id
    g.connect(data, "x", chain[0], "x")
    for before, after in itertools.pairwise(chain):
        g.connect(before, "y", after, "x")
    for edge in ((chain[-1], "y", loss, "input"), (data, "target", loss, "target"), (loss, "loss", adam, "loss")):
        g.connect(*edge)
    return with_settings(project, device="cpu", epochs=2, batch_size=8, val_fraction=0.25, seed=0), data


def decoded(row: torch.Tensor, vocabulary: list[str]) -> list[str]:
    return [vocabulary[i] for i in row.tolist() if i != 0]


def test_tokens_are_words_and_punctuation_lower_cased():
    assert text_files.tokenize("Don't stop!<br /><br />Naïve, 2 films...") == [
        "don", "'", "t", "stop", "!", "naïve", ",", "2", "films", ".", ".", ".",
    ]  # fmt: skip


def test_the_imdb_layout_trains_on_train_and_validates_on_test(tmp_path):
    folder = imdb(tmp_path)
    project, data = text_project(tmp_path)  # the folder that holds aclImdb/ is enough
    analysis = analyze(project.graph)
    x = analysis.results[data].outputs["x"]
    assert str(x) == "(N, 12)" and x.dtype == LONG and x.classes == 64
    assert analysis.training_task.class_names == ("neg", "pos")
    train_x, train_y, val_x, _, vocabulary = load_program(project).script.prepare_text(0.25, 0)
    assert (len(train_x), len(val_x)) == (24, 24), "val_fraction is not used: test/ is the validation part"
    assert vocabulary[:2] == ["<pad>", "<unk>"] and train_x.dtype == torch.int64
    train_files = sorted((folder / "train" / "neg").iterdir()) + sorted((folder / "train" / "pos").iterdir())
    for row, label, file in zip(train_x, train_y.tolist(), train_files, strict=True):
        assert decoded(row, vocabulary) == text_files.tokenize(file.read_text())[:12]
        assert label == ("neg", "pos").index(file.parent.name)
    assert "not labelled" not in " ".join(vocabulary), "train/unsup is no class"


def test_the_vocabulary_comes_from_the_training_part_only(tmp_path):
    folder = imdb(tmp_path)
    write_texts(folder, {"test/pos/9999_9.txt": "zebra great zebra", "train/pos/9999_9.txt": "great great movie"})
    project, _ = text_project(folder)
    train_x, _, val_x, _, vocabulary = load_program(project).script.prepare_text(0.25, 0)
    assert "zebra" not in vocabulary
    zebra_row = val_x[-1]  # test/pos/9999_9.txt sorts last
    assert zebra_row[:3].tolist() == [1, vocabulary.index("great"), 1]
    counts = torch.bincount(train_x.flatten(), minlength=len(vocabulary))[2:].tolist()
    assert counts == sorted(counts, reverse=True), "most frequent first"


def test_vocab_size_and_min_frequency_bound_the_vocabulary_deterministically(tmp_path):
    write_texts(tmp_path / "f", {"a/1.txt": "b a c c d", "a/2.txt": "b a e", "z/1.txt": "c b a", "z/2.txt": "f"})
    texts = load_dataset({"dataset": "text", "path": str(tmp_path / "f"), "vocab_size": 4})
    everything = torch.arange(len(texts))
    assert texts.vocabulary(everything) == ["<pad>", "<unk>", "a", "b"], "three a, three b, three c: by token"
    frequent = load_dataset({"dataset": "text", "path": str(tmp_path / "f"), "min_frequency": 2})
    assert frequent.vocabulary(everything) == ["<pad>", "<unk>", "a", "b", "c"]


@pytest.mark.parametrize("layout", ["folders", "csv", "tsv", "jsonl"])
def test_each_layout_gives_the_token_indices_of_its_texts(tmp_path, layout):
    path = {
        "folders": class_folders,
        "csv": csv_table,
        "tsv": lambda root: csv_table(root, "\t"),
        "jsonl": json_lines,
    }[layout](tmp_path)
    project, _ = text_project(path, max_length=40, vocab_size=1000)
    assert not [d.message for d in analyze(project.graph).diagnostics if d.is_error]
    assert analyze(project.graph).training_task.class_names == ("bad", "good")
    if layout == "folders":
        expected = {(review(i, words), label) for label, words in (("good", GOOD), ("bad", BAD)) for i in range(15)}
    elif layout == "jsonl":
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        expected = {(row["text"], row["label"]) for row in rows}
        assert any("😀" in text for text, _ in expected)
    else:
        import csv

        with open(path, newline="", encoding="utf-8") as stream:
            reader = csv.DictReader(
                (line for line in stream if line.strip()), delimiter="\t" if layout == "tsv" else ","
            )
            expected = {(row["text"], row["label"]) for row in reader}
        assert any('"naïve"' in text and "\n" in text for text, _ in expected)
    texts = load_dataset({"dataset": "text", "path": str(path), "target_column": "label"})
    assert {(texts.text(i), texts.class_names[label]) for i, label in enumerate(texts.labels.tolist())} == expected
    train_x, train_y, val_x, val_y, vocabulary = load_program(project).script.prepare_text(0.25, 0)
    assert len(train_x) + len(val_x) == len(expected) == 30 and len(val_x) == 7
    names = ("bad", "good")
    seen = {
        (tuple(decoded(row, vocabulary)), names[label]) for row, label in zip(train_x, train_y.tolist(), strict=True)
    }
    assert len(seen) == len(train_x) and seen <= {(tuple(text_files.tokenize(text)), name) for text, name in expected}
    for row, label in zip(val_x, val_y.tolist(), strict=True):
        matches = [
            text
            for text, name in expected
            if name == names[label]
            and decoded(row, vocabulary) == [t if t in vocabulary else "<unk>" for t in text_files.tokenize(text)]
        ]
        assert matches, decoded(row, vocabulary)


def test_a_numeric_label_column_is_a_regression_target(tmp_path):
    path = tmp_path / "scores.csv"
    path.write_text("text,score\n" + "".join(f'"{review(i, GOOD)}",{i / 10}\n' for i in range(20)))
    g = Graph()
    data = g.add_node(
        "Dataset", params={"dataset": "text", "path": str(path), "target_column": "score", "task": "regression"}
    ).id
    result = analyze(g).results[data]
    assert str(result.outputs["target"]) == "(N, 1)" and not result.diagnostics
    texts = load_dataset({"dataset": "text", "path": str(path), "target_column": "score", "task": "regression"})
    assert texts.labels.dtype == torch.float32 and texts.labels[:3, 0].tolist() == pytest.approx([0.0, 0.1, 0.2])


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"pos/1.txt": b"fine", "pos/2.txt": b"caf\xe9 au lait", "neg/1.txt": b"poor"}, "pos/2.txt is not UTF-8 text"),
        (
            {"pos/1.txt": b"fine", "pos/2.txt": b"", "neg/1.txt": b"poor"},
            "pos/2.txt is empty: write its text or remove it",
        ),
        ({"pos/1.txt": b"fine", "pos/2.txt": b" \n ", "neg/1.txt": b"poor"}, "pos/2.txt is empty"),
        ({"pos/1.txt": b"fine"}, "needs one subfolder of .txt files per class, at least two"),
    ],
)
def test_a_bad_text_file_is_named(tmp_path, files, message):
    for name, data in files.items():
        (tmp_path / "t" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "t" / name).write_bytes(data)
    params = {"dataset": "text", "path": str(tmp_path / "t")}
    with pytest.raises(DataLoadError, match="could not be read") as refusal:
        load_dataset(params)
    assert message in str(refusal.value) and "\n" not in str(refusal.value)
    if b"\xe9" not in b"".join(files.values()) and b" \n " not in files.values():  # what the check sees from sizes
        g = Graph()
        data = g.add_node("Dataset", params=params).id
        assert message in analyze(g).results[data].diagnostics[0].message.replace("'", "")


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "t.csv",
            "words,label\nfine,a\npoor,b\n",
            "t.csv line 2 has no column 'text'; it has words, label: set text_column",
        ),
        ("t.csv", "text,kind\nfine,a\npoor,b\n", "t.csv line 2 has no column 'label'"),
        ("t.csv", "text,label\nfine,a\n,b\n", "t.csv line 3: the text is empty"),
        ("t.jsonl", '{"text": "fine", "label": "a"}\n{"text": "poor"}\n', "t.jsonl line 2 has no column 'label'"),
        ("t.jsonl", '{"text": "fine", "label": "a"}\n[1, 2]\n', "t.jsonl line 2 is not a JSON object"),
        ("t.tsv", "text\tlabel\nfine\ta\npoor\n", "t.tsv line 3 has 1 values; the header has 2"),
    ],
)
def test_a_bad_table_is_named_at_its_line(tmp_path, name, text, message):
    (tmp_path / name).write_text(text)
    g = Graph()
    data = g.add_node("Dataset", params={"dataset": "text", "path": str(tmp_path / name), "target_column": "label"}).id
    assert message in analyze(g).results[data].diagnostics[0].message


def test_a_table_that_is_not_utf8_is_named(tmp_path):
    (tmp_path / "t.csv").write_bytes("text,label\ncafé,a\n".encode("latin-1"))
    g = Graph()
    data = g.add_node(
        "Dataset", params={"dataset": "text", "path": str(tmp_path / "t.csv"), "target_column": "label"}
    ).id
    assert "'t.csv' is not UTF-8 text" in analyze(g).results[data].diagnostics[0].message


def test_tokens_are_cached_and_read_again_only_when_a_file_or_option_changes(tmp_path, monkeypatch):
    folder = class_folders(tmp_path)
    monkeypatch.setattr(text_files, "PATH", str(folder))
    first = text_files.load_data(0)
    cache = tmp_path / "reviews.tokens"
    assert len(list(cache.glob("*.npz"))) == 1

    def tokenised_again(*args):
        raise AssertionError("tokenised again")

    monkeypatch.setattr(text_files, "tokenized", tokenised_again)
    again = text_files.load_data(0)  # nothing changed: read from the cache
    assert again.words == first.words and torch.equal(again.ids, first.ids) and torch.equal(again.labels, first.labels)
    assert [again.text(i) for i in range(len(again))] == [first.text(i) for i in range(len(first))]
    assert first.text(0) == (folder / "bad" / "000.txt").read_text(), "the texts as written, in the files' order"
    monkeypatch.setattr(text_files, "MAX_LENGTH", 5)  # applied after the cache: the same tokens
    text_files.load_data(0)
    for change in ("option", "file"):
        if change == "option":
            monkeypatch.setattr(text_files, "LOWERCASE", False)
        else:
            file = folder / "good" / "003.txt"
            file.write_text("changed text")
            os.utime(file, ns=(1, 1))
        with pytest.raises(AssertionError, match="tokenised again"):
            text_files.load_data(0)
    monkeypatch.undo()


def test_a_cache_that_is_cut_short_is_made_again(tmp_path, monkeypatch):
    folder = class_folders(tmp_path)
    monkeypatch.setattr(text_files, "PATH", str(folder))
    first = text_files.load_data(0)
    (cached,) = (tmp_path / "reviews.tokens").glob("*.npz")
    cached.write_bytes(cached.read_bytes()[:100])
    assert torch.equal(text_files.load_data(0).ids, first.ids)
    assert len(cached.read_bytes()) > 100


@pytest.mark.slow
@pytest.mark.parametrize("layout", ["imdb", "folders", "csv", "jsonl"])
def test_a_text_graph_trains_and_saves_its_vocabulary_beside_the_weights(tmp_path, layout):
    path = {"imdb": imdb, "folders": class_folders, "csv": csv_table, "jsonl": json_lines}[layout](tmp_path)
    project, _ = text_project(path)
    trainer = Trainer(project)
    losses: list[float] = []
    outcome = trainer.run(lambda event: losses.extend(getattr(event, "losses", [])))
    assert outcome.ok and len(losses) == 2 * trainer.steps_per_epoch and all(map(torch.isfinite, torch.tensor(losses)))
    (tmp_path / "run").mkdir()
    trainer.save_weights(tmp_path / "run" / "model.pt")
    saved = json.loads((tmp_path / "run" / "vocab.json").read_text(encoding="utf-8"))
    assert saved["tokens"] == trainer.vocabulary and saved["max_length"] == 12 and saved["lowercase"] is True


@pytest.mark.slow
@pytest.mark.parametrize("tokenizer", ["words", "bpe"])
def test_train_py_repeats_the_apps_split_vocabulary_and_first_losses(tmp_path, tokenizer):
    """The exported train.py, in a process where netbuilder cannot be imported, tokenises, splits, makes the
    vocabulary (or trains the byte-pair tokenizer) and trains as the app does: the same tensors, vocab.json and
    first 50 losses. Only byte pairs need the tokenizers library."""
    from tests.test_package import export, run_script, step_losses

    path = csv_table(tmp_path)
    project, _ = text_project(path, max_length=16, tokenizer=tokenizer)
    project = with_settings(project, epochs=9, batch_size=4, val_fraction=0.2)  # train.py saves the 0.2 split
    trainer = Trainer(project)
    app_losses: list[float] = []
    trainer.run(lambda event: app_losses.extend(getattr(event, "losses", [])), max_steps=50)
    (tmp_path / "run").mkdir()
    trainer.save_weights(tmp_path / "run" / "model.pt")
    package = tmp_path / "package"
    files = export(project, package)
    assert "numpy" in files["requirements.txt"]
    assert ("tokenizers" in files["requirements.txt"]) == (tokenizer == "bpe")
    assert ("trained tokenizer as JSON" in files["README.md"]) == (tokenizer == "bpe") and "vocab.json" in files[
        "README.md"
    ]
    imports = [node for node in ast.parse(files["train.py"]).body if isinstance(node, ast.Import | ast.ImportFrom)]
    assert not any("tokenizers" in ast.unparse(node) for node in imports), "only byte_pairs() imports it"
    run_script(package, "train.py", "--device", "cpu", "--out", "weights")

    split = torch.load(package / "split.pt", weights_only=True)
    for script_part, app_part in zip(
        split, (trainer.train_x, trainer.train_y, trainer.val_x, trainer.val_y), strict=True
    ):
        assert torch.equal(script_part, app_part.cpu())
    assert (package / "weights" / "vocab.json").read_bytes() == (tmp_path / "run" / "vocab.json").read_bytes()
    assert len(app_losses) == 50
    assert torch.allclose(
        torch.tensor(step_losses(package / "weights")[:50]), torch.tensor(app_losses), rtol=0, atol=1e-5
    )


def test_the_preview_counts_the_classes_of_texts(tmp_path):
    from netbuilder.blocks import catalogue
    from netbuilder.data.preview import make_preview

    params = {**catalogue.get("Dataset").defaults(), "dataset": "text", "path": str(imdb(tmp_path, per_class=5))}
    preview = make_preview({**params, "max_length": 9})
    assert (preview.samples, preview.input_shape, preview.class_names) == (20, (9,), ("neg", "pos"))
    assert preview.counts.tolist() == [10, 10] and preview.images is None and preview.points is None
    files = sorted((tmp_path / "aclImdb" / "train").glob("[np]*/*.txt")) + sorted(
        (tmp_path / "aclImdb" / "test").glob("[np]*/*.txt")
    )
    assert preview.text_lengths.tolist() == [len(text_files.tokenize(file.read_text())) for file in files]
    (first, text, tokens), (second, _, _), *_ = preview.text_examples
    assert len(preview.text_examples) == 16 and {first // 5 % 2, second // 5 % 2} == {0, 1}, "one of each class first"
    assert text == files[first].read_text() and tokens == tuple(text_files.tokenize(text))


def test_an_export_with_a_text_runs_weights_takes_its_vocabulary(tmp_path):
    from netbuilder.export import export_formats

    project, _ = text_project(class_folders(tmp_path))
    trainer = Trainer(project)
    run = tmp_path / "run"
    run.mkdir()
    trainer.save_weights(run / "model.pt")
    results = export_formats(project, tmp_path / "out", ["safetensors"], weights=run / "model.pt")
    assert results["vocab.json"].ok and results["safetensors"].ok
    assert (tmp_path / "out" / "vocab.json").read_bytes() == (run / "vocab.json").read_bytes()
    assert list(export_formats(project, tmp_path / "other", ["safetensors"])) == ["safetensors"]


@pytest.mark.slow
def test_a_gru_over_every_step_averaged_trains_on_a_table(tmp_path):
    """Dataset -> Embedding -> GRU (every step) -> Mean over the steps -> Linear: (N, 12) -> (N, 12, 8) ->
    (N, 12, 8) -> (N, 8) -> (N, 2), checked and trained."""
    layers = (("GRU", {"hidden_size": 8, "output": "sequence"}), ("Mean", {"dim": (1,)}))
    project, data = text_project(json_lines(tmp_path), layers)
    analysis = analyze(project.graph)
    assert not [d.message for d in analysis.diagnostics if d.is_error]
    mean = next(n.id for n in project.graph.nodes.values() if n.block == "Mean")
    assert (
        str(analysis.results[mean].outputs["y"]) == "(N, 8)" and str(analysis.results[data].outputs["x"]) == "(N, 12)"
    )
    outcome = Trainer(project).run()
    assert outcome.ok and math.isfinite(outcome.val_metrics["val_loss"])


def test_imdb_to_download_has_its_classes_before_its_files(tmp_path):
    """With download ticked, a folder that does not exist yet is IMDB's: the shapes flow (neg, pos) and the
    reviews are fetched only when training loads them; without it, the missing folder is named."""
    g = Graph()
    data = g.add_node("Dataset", params={"dataset": "text", "path": str(tmp_path / "imdb"), "download": True}).id
    result = analyze(g).results[data]
    assert not result.diagnostics and result.outputs["target"].classes == 2
    (tmp_path / "imdb").mkdir()  # an empty folder to download into
    assert not analyze(g).results[data].diagnostics
    (tmp_path / "imdb").rmdir()
    g.set_param(data, "download", False)
    assert "there is no folder or file" in analyze(g).results[data].diagnostics[0].message


def test_byte_pairs_split_a_word_never_seen_whole_into_known_pieces(tmp_path):
    folder = imdb(tmp_path)
    write_texts(folder, {"test/pos/9999_9.txt": "wonderfulness"})
    indices = {}
    for tokenizer in ("words", "bpe"):
        project, _ = text_project(folder, tokenizer=tokenizer)
        train_x, _, val_x, _, vocabulary = load_program(project).script.prepare_text(0.25, 0)
        indices[tokenizer] = val_x[-1][val_x[-1] != 0].tolist()
        assert int(train_x.max()) < 64 and int(val_x.max()) < 64, "every index has a row in the Embedding"
    assert indices["words"] == [1], "a word the training part lacks is <unk>"
    assert len(indices["bpe"]) > 1 and 1 not in indices["bpe"], "known pieces"
    pieces = [vocabulary.id_to_token(i) for i in indices["bpe"]]
    assert "".join(pieces) == "wonderfulness" and vocabulary.get_vocab_size() <= 64
    assert [vocabulary.id_to_token(i) for i in (0, 1)] == ["<pad>", "<unk>"]


@pytest.mark.parametrize("tokenizer", ["words", "bpe"])
def test_new_texts_are_encoded_by_the_saved_vocabulary_as_the_training_texts(tmp_path, tokenizer):
    """What predict.py needs: train.py's read_vocabulary reads vocab.json back, and encode_texts gives a text
    the indices it had in training (a token the vocabulary lacks as <unk>)."""
    project, _ = text_project(csv_table(tmp_path), tokenizer=tokenizer)
    trainer = Trainer(project)
    (tmp_path / "run").mkdir()
    trainer.save_weights(tmp_path / "run" / "model.pt")
    script = trainer.program.script
    vocabulary = script.read_vocabulary(str(tmp_path / "run" / "vocab.json"))
    texts = load_dataset({"dataset": "text", "path": str(tmp_path / "reviews.csv"), "target_column": "label"})
    train_index, _ = texts.parts(0.25, 0)
    first = int(train_index[0])
    x = script.encode_texts([texts.text(first), "Zebra wonderful!"], vocabulary)
    assert torch.equal(x[0], trainer.train_x[0].cpu())
    if tokenizer == "words":
        assert x[1, :3].tolist() == [1, vocabulary.index("wonderful"), vocabulary.index("!")]


def test_imdb_is_downloaded_and_unpacked_into_the_folder_when_asked(tmp_path, monkeypatch):
    """Download (ticked by the person) fetches the archive with the standard library and unpacks aclImdb/ into
    the folder; here from a local file:// archive, as tests never go online."""
    import tarfile

    source = tmp_path / "source"
    imdb(source, per_class=3)
    archive = tmp_path / "aclImdb_v1.tar.gz"
    with tarfile.open(archive, "w:gz") as packed:
        packed.add(source / "aclImdb", arcname="aclImdb")
    target = tmp_path / "data"
    for name, value in {"PATH": str(target), "DOWNLOAD": True, "URL": archive.as_uri()}.items():
        monkeypatch.setattr(text_files, name, value)
    texts = text_files.load_data(0)
    assert (len(texts), texts.held_out, texts.class_names) == (12, 6, ["neg", "pos"])
    assert sorted(path.name for path in target.iterdir()) == ["aclImdb"], "the archive is removed"


@pytest.mark.parametrize("tokenizer", ["words", "bpe"])
def test_the_exported_text_package_passes_ruff(tmp_path, tokenizer):
    from tests.test_codegen import exported_passes_ruff

    project, _ = text_project(class_folders(tmp_path), tokenizer=tokenizer)
    (tmp_path / "package").mkdir()
    train = exported_passes_ruff(project, tmp_path / "package")
    assert "def prepare_text(" in train and "torchvision" not in train

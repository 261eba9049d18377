"""Datasets read from files a person points to. The tests write tiny files in the real formats (IDX, CIFAR
binary batches, SVHN .mat, image folders, CSV); nothing is downloaded."""

from __future__ import annotations

import gzip
import io
import struct
import sys
import zlib
from pathlib import Path

import numpy
import pytest
import scipy.io
import torch
from PIL import Image

from netbuilder.analysis import analyze
from netbuilder.blocks import dataset_files
from netbuilder.blocks.datasets import DATASETS
from netbuilder.data.loading import DataLoadError, load_dataset, read_samples
from netbuilder.graph import Graph
from netbuilder.quoting import QUOTE_CHARS


def idx(path: Path, array: numpy.ndarray, zipped: bool = False) -> None:
    header = bytes([0, 0, 8, array.ndim]) + struct.pack(">" + "I" * array.ndim, *array.shape)
    data = header + array.astype(numpy.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    if zipped:
        with gzip.open(str(path) + ".gz", "wb") as stream:
            stream.write(data)
    else:
        path.write_bytes(data)


def mnist_files(root: Path, folder: str = "MNIST", samples: int = 12, zipped: bool = False) -> None:
    raw = root / folder / "raw"
    rng = numpy.random.default_rng(0)
    idx(raw / "train-images-idx3-ubyte", rng.integers(0, 256, (samples, 28, 28)), zipped)
    idx(raw / "train-labels-idx1-ubyte", numpy.arange(samples) % 10, zipped)


def cifar_files(root: Path) -> None:
    folder = root / "cifar-10-batches-bin"
    folder.mkdir(parents=True)
    rng = numpy.random.default_rng(1)
    for i in range(1, 6):
        records = numpy.concatenate([numpy.arange(4).reshape(4, 1) + i, rng.integers(0, 256, (4, 3072))], axis=1)
        (folder / f"data_batch_{i}.bin").write_bytes(records.astype(numpy.uint8).tobytes())


def image_folder(root: Path, classes=("cat", "dog"), per_class: int = 3) -> None:
    for c, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            Image.new("RGB", (20 + i, 16), color=(60 * c, 20 * i, 200)).save(root / name / f"{i}.png")


def node(params: dict) -> tuple[Graph, str]:
    g = Graph()
    return g, g.add_node("Dataset", params=params).id


def types_of(params: dict):
    g, n = node(params)
    result = analyze(g).results[n]
    return result.outputs, result.diagnostics


def load(params: dict):
    return load_dataset({"image_size": 8, **params})


@pytest.mark.parametrize("name,folder", [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST"), ("kmnist", "KMNIST")])
@pytest.mark.parametrize("zipped", [False, True])
def test_idx_sets_read_the_real_format(tmp_path, name, folder, zipped):
    mnist_files(tmp_path, folder, zipped=zipped)
    params = {"dataset": name, "path": str(tmp_path)}
    outputs, problems = types_of(params)
    assert problems == [] and str(outputs["x"]) == "(N, 1, 28, 28)" and outputs["target"].classes == 10
    x, y = load(params)
    assert x.shape == (12, 1, 28, 28) and x.dtype == torch.float32 and 0 <= float(x.min()) <= float(x.max()) <= 1
    assert y.tolist() == [i % 10 for i in range(12)]


def test_cifar_binary_batches(tmp_path):
    cifar_files(tmp_path)
    params = {"dataset": "cifar10", "path": str(tmp_path)}
    outputs, problems = types_of(params)
    assert problems == [] and str(outputs["x"]) == "(N, 3, 32, 32)"
    x, y = load(params)
    assert x.shape == (20, 3, 32, 32) and y[:4].tolist() == [1, 2, 3, 4]


def test_svhn_mat_file(tmp_path):
    rng = numpy.random.default_rng(2)
    scipy.io.savemat(
        tmp_path / "train_32x32.mat",
        {"X": rng.integers(0, 256, (32, 32, 3, 5)).astype(numpy.uint8), "y": numpy.array([[10], [1], [2], [3], [10]])},
    )
    x, y = load({"dataset": "svhn", "path": str(tmp_path)})
    assert x.shape == (5, 3, 32, 32) and y.tolist() == [0, 1, 2, 3, 0]


def test_image_folder_classes_sizes_and_labels(tmp_path):
    image_folder(tmp_path)
    params = {"dataset": "image_folder", "path": str(tmp_path), "image_size": 12}
    outputs, problems = types_of(params)
    assert problems == [] and str(outputs["x"]) == "(N, 3, 12, 12)" and outputs["target"].classes == 2
    assert DATASETS["image_folder"].names_of_classes({**params}) == ("cat", "dog")
    images = load(params)  # read one by one while training, so it need not fit in memory
    assert len(images) == 6 and images.labels == [0, 0, 0, 1, 1, 1]
    x, y = images[4]
    assert x.shape == (3, 12, 12) and x.dtype == torch.float32 and y == 1
    assert torch.allclose(x[:, 0, 0], torch.tensor([60, 20, 200]) / 255.0), "RGB in [0, 1], resized"


def test_csv_classification_and_regression(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("a,b,species,size\n1,2,setosa,0.5\n3,4,virginica,1.5\n5,6,setosa,2.5\n")
    classes = {"dataset": "csv", "path": str(path), "target_column": "species", "task": "classification"}
    outputs, problems = types_of(classes)
    assert problems == [] and str(outputs["x"]) == "(N, 3)" and outputs["target"].classes == 2
    x, y = load(classes)
    assert x.tolist() == [[1, 2, 0.5], [3, 4, 1.5], [5, 6, 2.5]] and y.tolist() == [0, 1, 0]
    numbers = tmp_path / "numbers.csv"
    numbers.write_text("a,b,size\n1,2,0.5\n3,4,1.5\n")
    values = {"dataset": "csv", "path": str(numbers), "target_column": "size", "task": "regression"}
    outputs, problems = types_of(values)
    assert problems == [] and str(outputs["x"]) == "(N, 2)" and str(outputs["target"]) == "(N, 1)"
    x, y = load(values)
    assert y.tolist() == [[0.5], [1.5]]


@pytest.mark.parametrize(
    "params,expected",
    [
        ({"dataset": "mnist", "path": "/no/such/folder"}, "there is no folder '/no/such/folder'"),
        ({"dataset": "cifar10"}, "expected cifar-10-batches-bin/data_batch_1.bin in it"),
        ({"dataset": "image_folder"}, "at least two"),
        ({"dataset": "csv"}, "there is no file"),
    ],
)
def test_missing_or_wrong_files_are_explained_on_the_node(tmp_path, params, expected):
    params = {"path": str(tmp_path), **params}
    _, problems = types_of(params)
    (problem,) = problems
    assert expected in problem.message and problem.param == "path"


def test_csv_problems_name_the_column_or_line(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b,label\n1,x,yes\n2,3,no\n")
    _, problems = types_of({"dataset": "csv", "path": str(path), "target_column": "label"})
    assert "line 2, column 'b': 'x' is not a number" in problems[0].message
    path.write_text("a,b,label\n1,2,yes\n2,3,no\n")
    _, problems = types_of({"dataset": "csv", "path": str(path), "target_column": "kind"})
    assert "has no column 'kind'; its columns are a, b, label" in problems[0].message


def test_a_csv_project_trains_end_to_end(tmp_path):
    from netbuilder.project import Project
    from netbuilder.training.engine import Trainer, with_settings

    rng = numpy.random.default_rng(3)
    rows = ["f1,f2,label"] + [
        f"{a:.3f},{b:.3f},{'big' if a + b > 0 else 'small'}" for a, b in rng.normal(size=(200, 2))
    ]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    project = Project.new("csv")
    g = project.graph
    data = g.add_node(
        "Dataset", params={"dataset": "csv", "path": str(tmp_path / "t.csv"), "target_column": "label"}
    ).id
    fc = g.add_node("Linear", params={"out_features": 2}).id
    loss = g.add_node("CrossEntropy").id
    adam = g.add_node("Adam", params={"lr": 0.05}).id
    for edge in (
        (data, "x", fc, "x"),
        (fc, "y", loss, "input"),
        (data, "target", loss, "target"),
        (loss, "loss", adam, "loss"),
    ):
        g.connect(*edge)
    outcome = Trainer(with_settings(project, device="cpu", epochs=15, batch_size=16)).run()
    assert outcome.ok and outcome.val_metrics["val_accuracy"] > 0.85


@pytest.mark.parametrize(
    ("name", "shape", "classes"), [("cifar10", "(N, 3, 32, 32)", 10), ("mnist", "(N, 1, 28, 28)", 10)]
)
def test_a_network_is_designed_before_its_data_is_on_disk(tmp_path, name, shape, classes):
    """The catalogue knows MNIST's and CIFAR's shapes: without their files, shapes still flow downstream and
    the model exports; the missing files stay on the Dataset node as what training needs."""
    from netbuilder.codegen.model_code import generate_model

    g, data = node({"dataset": name, "path": str(tmp_path / "not_yet")})
    flatten = g.add_node("Flatten").id
    fc = g.add_node("Linear", params={"out_features": 10}).id
    g.connect(data, "x", flatten, "x")
    g.connect(flatten, "y", fc, "x")
    analysis = analyze(g)
    assert str(analysis.results[data].outputs["x"]) == shape
    assert analysis.results[data].outputs["target"].classes == classes
    assert str(analysis.results[fc].outputs["y"]) == "(N, 10)"
    (missing,) = analysis.results[data].diagnostics
    assert missing.is_error and missing.training_only and missing.param == "path"
    assert "there is no folder" in missing.message
    assert missing in analysis.diagnostics and missing not in analysis.problems(training=False)
    assert "nn.Linear" in generate_model(g, analysis).source


@pytest.mark.parametrize(
    ("name", "folder"), [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST"), ("kmnist", "KMNIST")]
)
def test_download_asks_torchvision_for_the_set_and_only_when_the_files_are_missing(tmp_path, monkeypatch, name, folder):
    """A stand-in torchvision writes the files where the real one would; nothing goes over the network."""
    import types

    calls = []

    def fetch(kind):
        def download(root, train, download):
            calls.append((kind, root, train, download))
            mnist_files(Path(root), kind)

        return download

    fake = types.ModuleType("torchvision")
    fake.datasets = types.SimpleNamespace(**{kind: fetch(kind) for kind in ("MNIST", "FashionMNIST", "KMNIST")})
    monkeypatch.setitem(sys.modules, "torchvision", fake)
    params = {"dataset": name, "path": str(tmp_path), "download": True}
    x, _ = load(params)
    assert calls == [(folder, str(tmp_path), True, True)] and x.shape == (12, 1, 28, 28)
    load(params)
    assert len(calls) == 1, "files already there are not fetched again"


def test_cifar_download_fetches_its_own_archive(tmp_path, monkeypatch):
    import types

    urls = []

    def download_and_extract_archive(url, root):
        urls.append(url)
        cifar_files(Path(root))

    fake = types.ModuleType("torchvision")
    fake.datasets = types.SimpleNamespace(
        utils=types.SimpleNamespace(download_and_extract_archive=download_and_extract_archive)
    )
    monkeypatch.setitem(sys.modules, "torchvision", fake)
    x, _ = load({"dataset": "cifar10", "path": str(tmp_path), "download": True})
    assert urls == ["https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"] and x.shape == (20, 3, 32, 32)


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header says it is width x height, with a few bytes of pixels: a decompression bomb's shape."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def jpeg_bytes(size: int = 24) -> bytes:
    stream = io.BytesIO()
    rng = numpy.random.default_rng(4)
    Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=numpy.uint8)).save(stream, "JPEG")
    return stream.getvalue()


def image_folder_problem(root: Path) -> str:
    _, problems = types_of({"dataset": "image_folder", "path": str(root), "image_size": 8})
    assert all(p.is_error and p.training_only and p.param == "path" for p in problems)
    return " / ".join(p.message for p in problems)


@pytest.mark.parametrize(
    ("file", "damage", "expected"),
    [
        ("1.png", lambda data: data[: len(data) // 2], "cat/1.png is truncated: remove or replace it"),
        ("1.jpg", lambda data: jpeg_bytes()[:-300], "cat/1.jpg is truncated: remove or replace it"),
        ("1.png", lambda data: b"", "cat/1.png is empty: remove or replace it"),
        ("1.png", lambda data: numpy.random.default_rng(5).bytes(500), "cat/1.png is not an image that can be read"),
        ("1.png", lambda data: png_claiming(100_000, 100_000), "an image may have at most 8192x8192"),
        ("1.png", lambda data: png_claiming(10_000, 10_000), "an image may have at most 8192x8192"),  # PIL: a warning
        ("1.png", lambda data: png_claiming(8200, 8200), "cat/1.png is 8200x8200 pixels; an image may have at most"),
    ],
)
def test_a_damaged_or_huge_image_is_named_when_the_folder_is_picked(tmp_path, file, damage, expected):
    image_folder(tmp_path)
    good = (tmp_path / "cat" / "1.png").read_bytes()
    (tmp_path / "cat" / "1.png").unlink()
    (tmp_path / "cat" / file).write_bytes(damage(good))
    assert expected in image_folder_problem(tmp_path)


def test_whole_images_of_every_kind_check_clean_even_with_bytes_after_their_end(tmp_path):
    image_folder(tmp_path)
    (tmp_path / "cat" / "photo.jpg").write_bytes(jpeg_bytes() + b"\0" * 40 + b"camera maker's trailer")
    for kind in ("BMP", "GIF", "WEBP", "TIFF"):
        Image.new("RGB", (9, 7), (1, 2, 3)).save(tmp_path / "dog" / f"x.{kind.lower()}", kind)
    assert image_folder_problem(tmp_path) == ""


def test_the_first_damaged_image_is_named_with_how_many_others_there_are(tmp_path):
    image_folder(tmp_path)
    for name in ("cat/0.png", "dog/1.png", "dog/2.png"):
        (tmp_path / name).write_bytes(b"")
    assert "cat/0.png is empty: remove or replace it (2 other images too)" in image_folder_problem(tmp_path)
    for name in ("cat/0.png", "dog/1.png", "dog/2.png"):  # replaced (the folders change): checked again
        (tmp_path / name).unlink()
        Image.new("RGB", (4, 4)).save(tmp_path / name)
    assert image_folder_problem(tmp_path) == ""


def test_training_names_an_image_damaged_after_the_check_rather_than_failing_in_the_data_loader(tmp_path):
    image_folder(tmp_path)
    images = load({"dataset": "image_folder", "path": str(tmp_path)})
    (tmp_path / "dog" / "1.png").write_bytes((tmp_path / "dog" / "1.png").read_bytes()[:60])
    (tmp_path / "dog" / "2.png").write_bytes(png_claiming(10_000, 10_000))
    with pytest.raises(ValueError, match=r"^dog/1.png is truncated: remove or replace it$"):
        images[4]
    with pytest.raises(DataLoadError, match=r"^dog/2.png has more than 67,108,864 pixels: remove or replace it$"):
        read_samples(images, [0, 5])


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "1e999", " -Infinity"])
@pytest.mark.parametrize(("column", "task"), [("b", "classification"), ("size", "regression")])
def test_csv_nan_or_inf_is_refused_with_its_line_and_column(tmp_path, value, column, task):
    labels = ["x", "y", "x"] if task == "classification" else ["7", "8", "7"]
    rows = {"a": ["1", "2", "3"], "b": ["4", "5", "6"], "size": ["0.5", "1.5", "2.5"], "label": labels}
    rows[column][1] = f'"{value}"' if value.startswith(" ") else value
    path = tmp_path / "data.csv"
    path.write_text("a,b,size,label\n" + "\n".join(",".join(r) for r in zip(*rows.values(), strict=True)) + "\n")
    target = "label" if task == "classification" else "size"
    params = {"dataset": "csv", "path": str(path), "target_column": target, "task": task}
    _, problems = types_of(params)
    (problem,) = problems
    assert f"data.csv line 3, column {column!r}: {value.strip()} is not a finite number: fill or drop the row" in (
        problem.message
    )
    with pytest.raises(DataLoadError, match=rf"line 3, column '{column}': (nan|inf|-inf) is not a finite number"):
        load(params)  # train.py's loader refuses it too, should the file change after the check


def test_csv_values_beyond_float32_and_too_many_classes_are_refused(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,label\n1e39,x\n2,y\n")
    _, problems = types_of({"dataset": "csv", "path": str(path), "target_column": "label"})
    assert "t.csv line 2, column 'a': 1e39 is too large for the 32-bit numbers training uses" in problems[0].message
    path.write_text("a,label\n" + "".join(f"{i},id{i}\n" for i in range(10_001)))
    _, problems = types_of({"dataset": "csv", "path": str(path), "target_column": "label"})
    assert "holds more than 10,000 different values" in problems[0].message
    assert "set task to regression" in problems[0].message


def test_a_csv_over_the_size_bound_is_refused_before_it_is_read(tmp_path, monkeypatch):
    path = tmp_path / "big.csv"
    path.write_text("a,label\n" + "1,x\n2,y\n" * 200)
    monkeypatch.setattr(dataset_files, "MAX_CSV_BYTES", 1 << 10)
    monkeypatch.setattr(dataset_files, "open", lambda *a, **k: pytest.fail("read"), raising=False)
    _, problems = types_of({"dataset": "csv", "path": str(path), "target_column": "label"})
    assert "'big.csv' is 0.0 MiB; a CSV file may have at most 0.0 MiB" in problems[0].message


def test_long_values_are_quoted_by_a_short_prefix(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,label\n" + "x" * 5000 + ",y\n2,z\n")
    _, problems = types_of({"dataset": "csv", "path": str(path), "target_column": "label"})
    quoted = "'" + "x" * (QUOTE_CHARS - 4) + "..."  # the quote and the dots within QUOTE_CHARS
    assert quoted + " is not a number" in problems[0].message and len(problems[0].message) < 300


def test_a_large_folder_has_an_even_spread_of_its_images_checked_as_a_person_draws(tmp_path, monkeypatch):
    image_folder(tmp_path)  # six images: cat/0-2, dog/0-2
    monkeypatch.setattr(dataset_files, "MAX_CHECKED_IMAGES", 3)  # checks cat/0, cat/2, dog/1
    (tmp_path / "cat" / "1.png").write_bytes(b"")
    assert image_folder_problem(tmp_path) == "", "left to training, which names it"
    (tmp_path / "dog" / "1.png").unlink()  # replaced: the folder changes
    (tmp_path / "dog" / "1.png").write_bytes(b"")
    assert "dog/1.png is empty" in image_folder_problem(tmp_path)

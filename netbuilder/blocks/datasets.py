"""The datasets a Dataset node can read: metadata for shape checks, and which loader module reads each.

Each loader is a real module, netbuilder/data/loaders/<loader>.py, defining `load_data(seed) -> (x, y)` that
returns float32 inputs and int64 class indices (classification) or float32 targets of shape (N, 1)
(regression), under settings written as constants at its top. This catalogue reads the module as text
(`blocks.loader_text`: the core does not import torch) and writes its code below one line of the node's
values (through repr): that text goes into train.py, and the app's engine executes the very same text, so the
exported script and the app train on identical tensors.

A streamed dataset's `load_data(seed)` returns a torch Dataset of (x, y) samples instead, read from disk one
by one while training (image folders: a folder need not fit in memory). Every other set is built as tensors
and must stay under MEMORY_LIMIT_BYTES; the Dataset node refuses a generated set that would not.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netbuilder.blocks.dataset_files import (
    IMAGE_SUFFIXES,
    MAX_IMAGE_PIXELS,
    MAX_TEXT_BYTES,
    MAX_TEXT_FILES,
    MAX_TEXT_TABLE_BYTES,
    CsvSummary,
    TextSummary,
    check_image_folder,
    csv_summary,
    image_folder_classes,
    require_files,
    text_summary,
)
from netbuilder.blocks.loader_text import LoaderLayoutError, read_loader

CLASSIFICATION = "classification"
REGRESSION = "regression"

SCIKIT_LEARN = "scikit-learn"

MEMORY_LIMIT_BYTES = 2 * 1024**3
"""The most a dataset built as float32 tensors may hold: it lives in memory (and on the GPU) whole, and
splitting and scaling it briefly needs about twice as much again."""


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset: what the Dataset node outputs, and which loader module reads it with which settings.

    `uses` names the node's parameters the loader reads (its settings line: `samples` becomes SAMPLES);
    `facts` are settings fixed for this dataset, for a loader that several datasets share (CIFAR-10 and
    CIFAR-100 differ only in files and label bytes)."""

    name: str
    title: str
    doc: str
    task: str | Callable[[Mapping[str, Any]], str]
    uses: tuple[str, ...]
    input_shape: Callable[[Mapping[str, Any]], tuple[int, ...]]
    classes: Callable[[Mapping[str, Any]], int] | None
    loader: str
    """The loader module's name in netbuilder/data/loaders."""
    facts: tuple[tuple[str, Any], ...] = ()
    requires: tuple[str, ...] = ()
    standardize: bool = False
    class_names: Callable[[Mapping[str, Any]], tuple[str, ...]] | None = None
    check: Callable[[Mapping[str, Any]], None] | None = None
    """Raises DatasetFileError when the files this dataset reads are missing or malformed."""
    images: bool = False
    """Batches of images (N, C, H, W): the Dataset node offers per-channel normalisation and augmentation."""
    streamed: bool = False
    """load_data returns a torch Dataset of (x, class index) samples read while training, not (x, y) tensors;
    its `labels` list gives every sample's class without reading the samples (for previews)."""
    requires_when: tuple[tuple[str, str, Any], ...] = ()
    """(pip package, parameter, value): a package the loader imports inside the function that needs it, only
    where the node's `parameter` has `value` (the tokenizers library, for byte-pair encoding alone)."""
    tokens: bool = False
    """load_data returns tokenised texts (the text loader's Texts), not tensors: train.py's prepare_data makes
    the vocabulary from the training part and gives (N, max_length) int64 token indices below vocab_size."""

    def task_of(self, params: Mapping[str, Any]) -> str:
        return self.task(params) if callable(self.task) else self.task

    def num_classes(self, params: Mapping[str, Any]) -> int | None:
        if self.classes is None or self.task_of(params) != CLASSIFICATION:
            return None
        return self.classes(params)

    def names_of_classes(self, params: Mapping[str, Any]) -> tuple[str, ...]:
        if self.class_names is not None:
            return self.class_names(params)
        count = self.num_classes(params)
        return tuple(str(i) for i in range(count)) if count else ()

    def in_memory_bytes(self, params: Mapping[str, Any]) -> int | None:
        """The size of the input tensor this loader builds, where parameters alone tell (generated sets)."""
        if self.streamed or "samples" not in self.uses:
            return None
        return params["samples"] * math.prod(self.input_shape(params)) * 4

    def loader_source(self, params: Mapping[str, Any]) -> str:
        """The loader module's code under its settings: this node's values on one line (through repr), then
        this dataset's facts, one a line."""
        loader = read_loader(self.loader)
        names = [name.upper() for name in self.uses]
        if sorted(loader.settings) != sorted([*names, *(name for name, _ in self.facts)]):
            raise LoaderLayoutError(
                f"the {self.loader} loader sets {', '.join(loader.settings) or 'nothing'}; the {self.name} "
                f"dataset gives {', '.join([*names, *(name for name, _ in self.facts)]) or 'nothing'}"
            )
        values = [repr(params[name]) for name in self.uses]
        lines = [f"{', '.join(names)} = {', '.join(values)}"] if names else []
        if lines and len(lines[0]) > 120:  # as ruff formats it: one value a line
            lines = [f"{', '.join(names)} = (", *(f"    {value}," for value in values), ")"]
        lines += [f"{name} = {value!r}" for name, value in self.facts]
        return "\n".join(lines) + "\n\n\n" + loader.code if lines else loader.code

    def requirements(self, params: Mapping[str, Any]) -> tuple[str, ...]:
        """pip packages the loader imports with these parameters (torchvision only to download)."""
        optional = tuple(package for package, name, value in self.requires_when if params.get(name) == value)
        return (*self.requires, *(("torchvision",) if self._downloads(params) else ()), *optional)

    def import_lines(self, params: Mapping[str, Any]) -> tuple[str, ...]:
        """The loader module's imports but `import torch`, which train.py always has (a loader that downloads
        through torchvision imports it where it downloads)."""
        return read_loader(self.loader).imports

    def _downloads(self, params: Mapping[str, Any]) -> bool:
        """Whether the loader downloads through torchvision with these parameters (the text loader downloads
        with the standard library)."""
        uses_torchvision = "import torchvision" in read_loader(self.loader).code
        return "download" in self.uses and bool(params.get("download")) and uses_torchvision


def _fixed(*shape: int) -> Callable[[Mapping[str, Any]], tuple[int, ...]]:
    return lambda p: shape


def _count(n: int) -> Callable[[Mapping[str, Any]], int]:
    return lambda p: n


def _bundled(name: str, title: str, doc: str, features: int, classes: int, names: tuple[str, ...]) -> DatasetSpec:
    return DatasetSpec(
        name=name,
        title=title,
        doc=doc,
        task=CLASSIFICATION,
        uses=(),
        input_shape=_fixed(features),
        classes=_count(classes),
        loader=name,
        requires=(SCIKIT_LEARN,),
        standardize=True,
        class_names=lambda p: names,
    )


DIGITS = DatasetSpec(
    name="digits",
    title="Digits (8x8 images)",
    doc="scikit-learn's handwritten digits: 1,797 grey 8x8 images of 10 classes, scaled to [0, 1].",
    task=CLASSIFICATION,
    uses=(),
    input_shape=_fixed(1, 8, 8),
    classes=_count(10),
    loader="digits",
    requires=(SCIKIT_LEARN,),
)

SPIRALS = DatasetSpec(
    name="spirals",
    title="Spirals",
    doc="Interleaved spiral arms in the plane, one class per arm: the classic test of a non-linear boundary.",
    task=CLASSIFICATION,
    uses=("samples", "classes", "noise"),
    input_shape=_fixed(2),
    classes=lambda p: p["classes"],
    loader="spirals",
)

XOR = DatasetSpec(
    name="xor",
    title="XOR",
    doc="Points in the square [-1, 1]², labelled by whether their two coordinates have the same sign.",
    task=CLASSIFICATION,
    uses=("samples", "noise"),
    input_shape=_fixed(2),
    classes=_count(2),
    loader="xor",
)

MOONS = DatasetSpec(
    name="moons",
    title="Moons",
    doc="Two interleaving half circles (scikit-learn's make_moons).",
    task=CLASSIFICATION,
    uses=("samples", "noise"),
    input_shape=_fixed(2),
    classes=_count(2),
    loader="moons",
    requires=(SCIKIT_LEARN,),
)

CIRCLES = DatasetSpec(
    name="circles",
    title="Circles",
    doc="A small circle inside a large one (scikit-learn's make_circles).",
    task=CLASSIFICATION,
    uses=("samples", "noise"),
    input_shape=_fixed(2),
    classes=_count(2),
    loader="circles",
    requires=(SCIKIT_LEARN,),
)

BLOBS = DatasetSpec(
    name="blobs",
    title="Blobs",
    doc="Gaussian clusters, one per class (scikit-learn's make_blobs).",
    task=CLASSIFICATION,
    uses=("samples", "features", "classes"),
    input_shape=lambda p: (p["features"],),
    classes=lambda p: p["classes"],
    loader="blobs",
    requires=(SCIKIT_LEARN,),
    standardize=True,
)

SINE = DatasetSpec(
    name="sine",
    title="Sine regression",
    doc="Regression: y = sin(x) plus noise, for x in [-π, π].",
    task=REGRESSION,
    uses=("samples", "noise"),
    input_shape=_fixed(1),
    classes=None,
    loader="sine",
)

LINEAR_REGRESSION = DatasetSpec(
    name="linear",
    title="Linear regression",
    doc="Regression: y = x·w + b plus noise, with a fixed random w over `features` inputs.",
    task=REGRESSION,
    uses=("samples", "features", "noise"),
    input_shape=lambda p: (p["features"],),
    classes=None,
    loader="linear",
)

SEQUENCES = DatasetSpec(
    name="sequences",
    title="Wave sequences",
    doc="Sequence classification: noisy waves of `length` steps and `features` channels; "
    "the class is the wave's frequency.",
    task=CLASSIFICATION,
    uses=("samples", "length", "features", "classes", "noise"),
    input_shape=lambda p: (p["length"], p["features"]),
    classes=lambda p: p["classes"],
    loader="sequences",
)

STRIPES = DatasetSpec(
    name="stripes",
    title="Stripes (colour images)",
    doc="Image classification: noisy colour stripes of `image_size` pixels; the class is the stripes' "
    "orientation (more classes: closer angles, a harder task).",
    task=CLASSIFICATION,
    uses=("samples", "image_size", "classes", "noise"),
    input_shape=lambda p: (3, p["image_size"], p["image_size"]),
    classes=lambda p: p["classes"],
    images=True,
    loader="stripes",
)

# ---- files a person points to: standard formats read with numpy (no pickles), torchvision only to download

_IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")


def _idx_dataset(name: str, title: str, folder_name: str, doc: str, names: tuple[str, ...]) -> DatasetSpec:
    raw = f"{folder_name}/raw"

    def check(params: Mapping[str, Any]) -> None:
        inside = tuple(f"{raw}/{file}" for file in _IDX_FILES)
        require_files(params["path"], inside, f"{title}'s IDX files", download=params["download"])

    return DatasetSpec(
        name=name,
        title=title,
        doc=doc + f" Read from PATH/{raw} (IDX files, gzipped or not).",
        task=CLASSIFICATION,
        uses=("path", "download"),
        input_shape=_fixed(1, 28, 28),
        classes=_count(10),
        loader="idx",
        facts=(("FOLDER", folder_name),),
        requires=("numpy",),
        class_names=lambda p: names,
        check=check,
        images=True,
    )


def _cifar(
    name: str, title: str, folder_name: str, files: tuple[str, ...], label_bytes: int, classes: int, url: str, doc: str
) -> DatasetSpec:
    def check(params: Mapping[str, Any]) -> None:
        inside = tuple(f"{folder_name}/{file}" for file in files)
        require_files(params["path"], inside, f"{title}'s binary batches", download=params["download"])

    return DatasetSpec(
        name=name,
        title=title,
        doc=doc + f" Read from PATH/{folder_name} (the binary version: no pickles).",
        task=CLASSIFICATION,
        uses=("path", "download"),
        input_shape=_fixed(3, 32, 32),
        classes=_count(classes),
        loader="cifar",
        facts=(("FOLDER", folder_name), ("FILES", files), ("LABEL_BYTES", label_bytes), ("URL", url)),
        requires=("numpy",),
        check=check,
        images=True,
    )


SVHN = DatasetSpec(
    name="svhn",
    title="SVHN",
    doc="Street View House Numbers: 73,257 colour 32x32 digits. Read from PATH/train_32x32.mat.",
    task=CLASSIFICATION,
    uses=("path", "download"),
    input_shape=_fixed(3, 32, 32),
    classes=_count(10),
    loader="svhn",
    requires=("numpy", "scipy"),
    check=lambda p: require_files(p["path"], ("train_32x32.mat",), "SVHN's train_32x32.mat", download=p["download"]),
    images=True,
)

IMAGE_FOLDER = DatasetSpec(
    name="image_folder",
    title="Image folder",
    doc="Your images: one subfolder per class (its name is the class), each image resized to image_size. "
    "Images are read from disk while training, so the folder need not fit in memory.",
    task=CLASSIFICATION,
    uses=("path", "image_size"),
    input_shape=lambda p: (3, p["image_size"], p["image_size"]),
    classes=lambda p: len(image_folder_classes(p["path"])),
    class_names=lambda p: image_folder_classes(p["path"]),
    loader="image_folder",
    facts=(("IMAGE_SUFFIXES", IMAGE_SUFFIXES), ("MAX_IMAGE_PIXELS", MAX_IMAGE_PIXELS)),
    requires=("numpy", "pillow"),
    check=lambda p: check_image_folder(p["path"]),
    images=True,
    streamed=True,
)


def _csv_summary(p: Mapping[str, Any]) -> CsvSummary:
    return csv_summary(p["path"], p["target_column"], p["task"] == CLASSIFICATION)


CSV_FILE = DatasetSpec(
    name="csv",
    title="CSV file",
    doc="Your table: a CSV file with a header row; every column but the target is a numeric feature. "
    "Classification takes any target values as classes; regression needs numbers.",
    task=lambda p: p["task"],
    uses=("path", "target_column", "task"),
    input_shape=lambda p: (len(_csv_summary(p).features),),
    classes=lambda p: len(_csv_summary(p).class_names),
    class_names=lambda p: _csv_summary(p).class_names,
    loader="csv_file",
    standardize=True,
    check=lambda p: _csv_summary(p) and None,
)


def _text_summary(p: Mapping[str, Any]) -> TextSummary:
    return text_summary(
        p["path"], p["text_column"], p["target_column"], p["task"] == CLASSIFICATION, download=p["download"]
    )


def _text_task(p: Mapping[str, Any]) -> str:
    """A table's task is the node's; texts in class folders are always classified."""
    return p["task"] if Path(p["path"]).is_file() else CLASSIFICATION


IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"

_TOKENIZING = ("max_length", "vocab_size", "min_frequency", "lowercase", "tokenizer")
"""The Dataset node's parameters that turn texts into token indices, for texts read or generated."""

TEXT = DatasetSpec(
    name="text",
    title="Text files",
    doc="Your texts, as token indices (N, max_length) for an Embedding: the IMDB reviews folder (aclImdb: "
    "train/pos, train/neg, and test/ as the validation part; download offers it), one subfolder of .txt "
    "files per class, or a .csv/.tsv/.jsonl file with a text column and a label column (classes, or numbers "
    "for regression). Words and punctuation are tokens; the vocabulary (vocab_size most frequent, <pad> 0 and "
    "<unk> 1 first) comes from the training part only and is saved as vocab.json with the weights.",
    task=_text_task,
    uses=(
        "path",
        "download",
        "text_column",
        "target_column",
        "task",
        *_TOKENIZING,
    ),
    input_shape=lambda p: (p["max_length"],),
    classes=lambda p: len(_text_summary(p).class_names),
    class_names=lambda p: _text_summary(p).class_names,
    loader="text_files",
    facts=(
        ("MAX_FILES", MAX_TEXT_FILES),
        ("MAX_TEXT_BYTES", MAX_TEXT_BYTES),
        ("MAX_TABLE_BYTES", MAX_TEXT_TABLE_BYTES),
        ("URL", IMDB_URL),
        ("SAMPLES", 0),  # no generated reviews: those are the Reviews dataset's
        ("MEAN_LENGTH", 0),
    ),
    requires=("numpy",),
    check=lambda p: _text_summary(p) and None,
    requires_when=(("tokenizers", "tokenizer", "bpe"),),
    tokens=True,
)

REVIEWS = DatasetSpec(
    name="reviews",
    title="Reviews (generated)",
    doc="Movie reviews written by netbuilder, nothing to download: `samples` reviews, about half negative and half "
    "positive, of log-normal lengths as IMDB's (mean_length words on average). Opinions such as good, very "
    "dull or not funny sit among neutral words and add up to the class, so a negation or an intensifier "
    "changes it: a bag of words gets most reviews right, a network that reads the words in order nearly all. "
    "Tokenised as the Text files dataset is.",
    task=CLASSIFICATION,
    uses=("samples", "mean_length", *_TOKENIZING),
    input_shape=lambda p: (p["max_length"],),
    classes=_count(2),
    class_names=lambda p: ("negative", "positive"),
    loader="text_files",
    facts=(  # the loader's settings for files, which generated reviews leave unread
        ("PATH", ""),
        ("DOWNLOAD", False),
        ("TEXT_COLUMN", "text"),
        ("TARGET_COLUMN", "target"),
        ("TASK", CLASSIFICATION),
        *(fact for fact in TEXT.facts if fact[0] not in ("SAMPLES", "MEAN_LENGTH")),
    ),
    requires=("numpy",),
    requires_when=(("tokenizers", "tokenizer", "bpe"),),
    tokens=True,
)

FILE_DATASETS = (
    _idx_dataset(
        "mnist",
        "MNIST",
        "MNIST",
        "MNIST: 60,000 grey 28x28 handwritten digits.",
        tuple(str(i) for i in range(10)),
    ),
    _idx_dataset(
        "fashion_mnist",
        "Fashion-MNIST",
        "FashionMNIST",
        "Fashion-MNIST: 60,000 grey 28x28 pictures of 10 kinds of clothing.",
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    ),
    _idx_dataset(
        "kmnist",
        "KMNIST",
        "KMNIST",
        "Kuzushiji-MNIST: 60,000 grey 28x28 cursive Japanese characters, 10 classes.",
        ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"),
    ),
    _cifar(
        "cifar10",
        "CIFAR-10",
        "cifar-10-batches-bin",
        tuple(f"data_batch_{i}.bin" for i in range(1, 6)),
        1,
        10,
        "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
        "CIFAR-10: 50,000 colour 32x32 images of 10 classes.",
    ),
    _cifar(
        "cifar100",
        "CIFAR-100",
        "cifar-100-binary",
        ("train.bin",),
        2,
        100,
        "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
        "CIFAR-100: 50,000 colour 32x32 images of 100 fine classes.",
    ),
    SVHN,
    IMAGE_FOLDER,
    CSV_FILE,
    TEXT,
)

DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DIGITS,
        _bundled(
            "iris",
            "Iris",
            "scikit-learn's iris flowers: 150 samples, 4 measurements, 3 species.",
            4,
            3,
            ("setosa", "versicolor", "virginica"),
        ),
        _bundled(
            "wine",
            "Wine",
            "scikit-learn's wine recognition: 178 samples, 13 chemical measurements, 3 cultivars.",
            13,
            3,
            ("class_0", "class_1", "class_2"),
        ),
        _bundled(
            "breast_cancer",
            "Breast cancer",
            "scikit-learn's breast cancer Wisconsin: 569 samples, 30 features, malignant or benign.",
            30,
            2,
            ("malignant", "benign"),
        ),
        SPIRALS,
        MOONS,
        CIRCLES,
        BLOBS,
        XOR,
        SINE,
        LINEAR_REGRESSION,
        SEQUENCES,
        STRIPES,
        REVIEWS,
        *FILE_DATASETS,
    )
}

"""The datasets a Dataset node can read: metadata for shape checks, and each loader as source text.

The loader text is the single definition of the data: codegen writes it into train.py and the app's engine
executes the very same text, so the exported script and the app train on identical tensors. Each loader is a
function `load_data(seed) -> (x, y)` returning float32 inputs and int64 class indices (classification) or
float32 targets of shape (N, 1) (regression). Values from the project enter the text only through repr().

A streamed dataset's `load_data(seed)` returns a torch Dataset of (x, y) samples instead, read from disk one
by one while training (image folders: a folder need not fit in memory). Every other set is built as tensors
and must stay under MEMORY_LIMIT_BYTES; the Dataset node refuses a generated set that would not.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from string import Template
from typing import Any

from netbuilder.blocks.dataset_files import IMAGE_SUFFIXES, CsvSummary, csv_summary, image_folder_classes, require_files

CLASSIFICATION = "classification"
REGRESSION = "regression"

SCIKIT_LEARN = "scikit-learn"

MEMORY_LIMIT_BYTES = 2 * 1024**3
"""The most a dataset built as float32 tensors may hold: it lives in memory (and on the GPU) whole, and
splitting and scaling it briefly needs about twice as much again."""


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset: what the Dataset node outputs, what its loader needs, and the loader itself."""

    name: str
    title: str
    doc: str
    task: str | Callable[[Mapping[str, Any]], str]
    uses: tuple[str, ...]
    input_shape: Callable[[Mapping[str, Any]], tuple[int, ...]]
    classes: Callable[[Mapping[str, Any]], int] | None
    loader: str
    imports: tuple[str, ...] = ()
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
        """The loader function with this node's parameter values written in (through repr)."""
        values = {name: repr(params[name]) for name in self.uses}
        return Template(self.loader).substitute(values)

    def requirements(self, params: Mapping[str, Any]) -> tuple[str, ...]:
        """pip packages the loader imports with these parameters (torchvision only to download)."""
        extra = ("torchvision",) if params.get("download") and "download" in self.uses else ()
        return (*self.requires, *extra)

    def import_lines(self, params: Mapping[str, Any]) -> tuple[str, ...]:
        extra = ("import torchvision",) if params.get("download") and "download" in self.uses else ()
        return (*self.imports, *extra)


def _fixed(*shape: int) -> Callable[[Mapping[str, Any]], tuple[int, ...]]:
    return lambda p: shape


def _count(n: int) -> Callable[[Mapping[str, Any]], int]:
    return lambda p: n


_SKLEARN_BUNDLED = Template('''\
def load_data(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """$doc"""
    bunch = $function()
    x = torch.tensor(bunch.data, dtype=torch.float32)
    y = torch.tensor(bunch.target, dtype=torch.long)
    return x, y
''')


def _bundled(
    name: str, title: str, doc: str, function: str, features: int, classes: int, names: tuple[str, ...]
) -> DatasetSpec:
    return DatasetSpec(
        name=name,
        title=title,
        doc=doc,
        task=CLASSIFICATION,
        uses=(),
        input_shape=_fixed(features),
        classes=_count(classes),
        loader=_SKLEARN_BUNDLED.substitute(doc=doc, function=function),
        imports=(f"from sklearn.datasets import {function}",),
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
    loader='''\
def load_data(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's handwritten digits: 1,797 grey 8x8 images of 10 classes, scaled to [0, 1]."""
    bunch = load_digits()
    x = torch.tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0
    y = torch.tensor(bunch.target, dtype=torch.long)
    return x, y
''',
    imports=("from sklearn.datasets import load_digits",),
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
    loader='''\
def load_data(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Interleaved spiral arms in the plane, one class per arm."""
    samples, classes, noise = $samples, $classes, $noise
    generator = torch.Generator().manual_seed(seed)
    per_class = samples // classes
    radius = torch.linspace(0.05, 1.0, per_class).repeat(classes)
    y = torch.arange(classes).repeat_interleave(per_class)
    angle = y * (2.0 * math.pi / classes) + radius * 3.0 * math.pi
    angle = angle + noise * torch.randn(per_class * classes, generator=generator)
    x = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1)
    return x, y
''',
    imports=("import math",),
)

XOR = DatasetSpec(
    name="xor",
    title="XOR",
    doc="Points in the square [-1, 1]², labelled by whether their two coordinates have the same sign.",
    task=CLASSIFICATION,
    uses=("samples", "noise"),
    input_shape=_fixed(2),
    classes=_count(2),
    loader='''\
def load_data(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Points in [-1, 1]^2, class 1 where the two coordinates differ in sign."""
    samples, noise = $samples, $noise
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand(samples, 2, generator=generator) * 2.0 - 1.0
    y = ((x[:, 0] > 0) != (x[:, 1] > 0)).long()
    x = x + noise * torch.randn(samples, 2, generator=generator)
    return x, y
''',
)


def _sklearn_generator(
    name: str,
    title: str,
    doc: str,
    call: str,
    uses: tuple[str, ...],
    features: Callable[[Mapping[str, Any]], tuple[int, ...]],
    classes: Callable[[Mapping[str, Any]], int],
    standardize: bool = False,
) -> DatasetSpec:
    function = call.split("(")[0]
    return DatasetSpec(
        name=name,
        title=title,
        doc=doc,
        task=CLASSIFICATION,
        uses=uses,
        input_shape=features,
        classes=classes,
        loader=f'''\
def load_data(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """{doc}"""
    x, y = {call}
    return torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.long)
''',
        imports=(f"from sklearn.datasets import {function}",),
        requires=(SCIKIT_LEARN,),
        standardize=standardize,
    )


MOONS = _sklearn_generator(
    "moons",
    "Moons",
    "Two interleaving half circles (scikit-learn's make_moons).",
    "make_moons(n_samples=$samples, noise=$noise, random_state=seed)",
    ("samples", "noise"),
    _fixed(2),
    _count(2),
)
CIRCLES = _sklearn_generator(
    "circles",
    "Circles",
    "A small circle inside a large one (scikit-learn's make_circles).",
    "make_circles(n_samples=$samples, noise=$noise, factor=0.5, random_state=seed)",
    ("samples", "noise"),
    _fixed(2),
    _count(2),
)
BLOBS = _sklearn_generator(
    "blobs",
    "Blobs",
    "Gaussian clusters, one per class (scikit-learn's make_blobs).",
    "make_blobs(n_samples=$samples, n_features=$features, centers=$classes, random_state=seed)",
    ("samples", "features", "classes"),
    lambda p: (p["features"],),
    lambda p: p["classes"],
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
    loader='''\
def load_data(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Regression: y = sin(x) plus noise, for x in [-pi, pi]."""
    samples, noise = $samples, $noise
    generator = torch.Generator().manual_seed(seed)
    x = (torch.rand(samples, 1, generator=generator) * 2.0 - 1.0) * math.pi
    y = torch.sin(x) + noise * torch.randn(samples, 1, generator=generator)
    return x, y
''',
    imports=("import math",),
)

LINEAR_REGRESSION = DatasetSpec(
    name="linear",
    title="Linear regression",
    doc="Regression: y = x·w + b plus noise, with a fixed random w over `features` inputs.",
    task=REGRESSION,
    uses=("samples", "features", "noise"),
    input_shape=lambda p: (p["features"],),
    classes=None,
    loader='''\
def load_data(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Regression: y = x @ w + b plus noise, with a random w drawn from the seed."""
    samples, features, noise = $samples, $features, $noise
    generator = torch.Generator().manual_seed(seed)
    weights = torch.randn(features, 1, generator=generator)
    x = torch.randn(samples, features, generator=generator)
    y = x @ weights + 0.5 + noise * torch.randn(samples, 1, generator=generator)
    return x, y
''',
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
    loader='''\
def load_data(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Noisy waves of shape (length, features); class k completes k + 1 half cycles."""
    samples, length, features, classes, noise = $samples, $length, $features, $classes, $noise
    generator = torch.Generator().manual_seed(seed)
    y = torch.randint(0, classes, (samples,), generator=generator)
    steps = torch.arange(length, dtype=torch.float32).view(1, length, 1)
    frequency = (y.float() + 1.0).view(samples, 1, 1) * (math.pi / length)
    phase = 2.0 * math.pi * torch.rand(samples, 1, features, generator=generator)
    x = torch.sin(frequency * steps + phase)
    x = x + noise * torch.randn(samples, length, features, generator=generator)
    return x, y
''',
    imports=("import math",),
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
    loader='''\
def load_data(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Noisy colour stripes; class k is the orientation k * 180 / classes degrees."""
    samples, size, classes, noise = $samples, $image_size, $classes, $noise
    generator = torch.Generator().manual_seed(seed)
    y = torch.randint(0, classes, (samples,), generator=generator)
    angle = (y.float() * (math.pi / classes)).view(samples, 1, 1)
    period = 4.0 + 4.0 * torch.rand(samples, 1, 1, generator=generator)
    phase = 2.0 * math.pi * torch.rand(samples, 1, 1, generator=generator)
    rows = torch.arange(size, dtype=torch.float32).view(1, size, 1)
    cols = torch.arange(size, dtype=torch.float32).view(1, 1, size)
    wave = torch.sin(2.0 * math.pi * (torch.cos(angle) * cols + torch.sin(angle) * rows) / period + phase)
    colour = 0.5 + 0.5 * torch.rand(samples, 3, 1, 1, generator=generator)
    x = colour * wave.unsqueeze(1) + noise * torch.randn(samples, 3, size, size, generator=generator)
    return x, y
''',
    imports=("import math",),
)

# ---- files a person points to: standard formats read with numpy (no pickles), torchvision only to download

_READ_IDX = """\
def read_idx(path: str) -> numpy.ndarray:
    \"\"\"An IDX file (MNIST's format: a magic number, the sizes, then bytes), gzipped or not.\"\"\"
    if not os.path.isfile(path) and os.path.isfile(path + ".gz"):
        path += ".gz"
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as stream:
        data = stream.read()
    if data[:3] != bytes([0, 0, 8]):
        raise SystemExit(f"{path} is not an IDX file of bytes (the MNIST format)")
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return numpy.frombuffer(data, dtype=numpy.uint8, offset=4 + 4 * dims).reshape(shape)


"""

_IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")


def _idx_dataset(
    name: str, title: str, folder_name: str, torchvision_class: str, doc: str, names: tuple[str, ...]
) -> DatasetSpec:
    raw = f"{folder_name}/raw"
    loader = (
        _READ_IDX
        + f'''\
def load_data(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """{doc}"""
    path, download = $path, $download
    raw = os.path.join(path, "{folder_name}", "raw")
    if download and not os.path.isfile(os.path.join(raw, "{_IDX_FILES[0]}")):
        torchvision.datasets.{torchvision_class}(path, train=True, download=True)
    if not os.path.isfile(os.path.join(raw, "{_IDX_FILES[0]}")) and not os.path.isfile(
        os.path.join(raw, "{_IDX_FILES[0]}.gz")
    ):
        raise SystemExit(f"no {title} files in {{raw}}: put {_IDX_FILES[0]} there, or set download")
    x = read_idx(os.path.join(raw, "{_IDX_FILES[0]}"))
    y = read_idx(os.path.join(raw, "{_IDX_FILES[1]}"))
    return torch.from_numpy(x.copy()).float().div(255.0).unsqueeze(1), torch.from_numpy(y.copy()).long()
'''
    )

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
        loader=loader,
        imports=("import gzip", "import os", "import struct", "import numpy"),
        requires=("numpy",),
        class_names=lambda p: names,
        check=check,
        images=True,
    )


def _cifar(
    name: str, title: str, folder_name: str, files: tuple[str, ...], label_bytes: int, classes: int, url: str, doc: str
) -> DatasetSpec:
    loader = f'''\
def load_data(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """{doc}"""
    path, download = $path, $download
    folder = os.path.join(path, "{folder_name}")
    if download and not os.path.isdir(folder):
        url = "{url}"
        torchvision.datasets.utils.download_and_extract_archive(url, path)
    records = []
    for name in {files!r}:
        file = os.path.join(folder, name)
        if not os.path.isfile(file):
            raise SystemExit(f"no {{file}}: use {title}'s binary version ({url.rsplit("/", 1)[-1]}), or set download")
        records.append(numpy.fromfile(file, dtype=numpy.uint8).reshape(-1, {label_bytes} + 3072))
    data = numpy.concatenate(records)
    x = torch.from_numpy(data[:, {label_bytes}:].copy()).float().div(255.0).reshape(-1, 3, 32, 32)
    return x, torch.from_numpy(data[:, {label_bytes - 1}].astype(numpy.int64))
'''

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
        loader=loader,
        imports=("import os", "import numpy"),
        requires=("numpy",),
        check=check,
        images=True,
    )


SVHN_URL = "http://ufldl.stanford.edu/housenumbers/train_32x32.mat"

SVHN = DatasetSpec(
    name="svhn",
    title="SVHN",
    doc="Street View House Numbers: 73,257 colour 32x32 digits. Read from PATH/train_32x32.mat.",
    task=CLASSIFICATION,
    uses=("path", "download"),
    input_shape=_fixed(3, 32, 32),
    classes=_count(10),
    loader=f'''\
def load_data(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Street View House Numbers: colour 32x32 digits, from train_32x32.mat."""
    path, download = $path, $download
    file = os.path.join(path, "train_32x32.mat")
    if download and not os.path.isfile(file):
        torchvision.datasets.utils.download_url("{SVHN_URL}", path)
    if not os.path.isfile(file):
        raise SystemExit(f"no {{file}}: download train_32x32.mat from the SVHN site, or set download")
    mat = scipy.io.loadmat(file)
    x = torch.from_numpy(mat["X"].transpose(3, 2, 0, 1).copy()).float().div(255.0)
    return x, torch.from_numpy(mat["y"].reshape(-1).astype(numpy.int64) % 10)
''',
    imports=("import os", "import numpy", "import scipy.io"),
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
    loader=f'''\
class ImageFiles(Dataset):
    """Images in one subfolder per class (the subfolder's name is the class). Each is read from its file,
    resized to a square and scaled to [0, 1] only when a batch needs it, so the folder need not fit in memory.
    """

    def __init__(self, path: str, size: int) -> None:
        suffixes = {IMAGE_SUFFIXES!r}
        self.size = size
        self.classes = [
            entry.name
            for entry in sorted(os.scandir(path), key=lambda e: e.name)
            if entry.is_dir() and any(name.lower().endswith(suffixes) for name in os.listdir(entry.path))
        ]
        self.files, self.labels = [], []
        for index, name in enumerate(self.classes):
            for file in sorted(os.listdir(os.path.join(path, name))):
                if file.lower().endswith(suffixes):
                    self.files.append(os.path.join(path, name, file))
                    self.labels.append(index)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        with Image.open(self.files[index]) as image:
            image.draft("RGB", (self.size, self.size))  # a large JPEG decodes at a fraction of its size: faster
            pixels = numpy.array(image.convert("RGB").resize((self.size, self.size)))
        return torch.from_numpy(pixels).permute(2, 0, 1).float().div(255.0), self.labels[index]


def load_data(seed: int) -> ImageFiles:
    """Your image folder, as a dataset that reads each image when a batch needs it."""
    path, size = $path, $image_size
    return ImageFiles(path, size)
''',
    imports=("import os", "import numpy", "from PIL import Image", "from torch.utils.data import Dataset"),
    requires=("numpy", "pillow"),
    check=lambda p: image_folder_classes(p["path"]) and None,
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
    loader='''\
def load_data(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A CSV file with a header row: the target column, and every other column as a numeric feature."""
    path, target_column, task = $path, $target_column, $task
    with open(path, newline="", encoding="utf-8-sig") as stream:
        rows = [row for row in csv.reader(stream) if row]
    header = [name.strip() for name in rows[0]]
    target = header.index(target_column)
    features = [i for i in range(len(header)) if i != target]
    x = torch.tensor([[float(row[i]) for i in features] for row in rows[1:]], dtype=torch.float32)
    if task == "classification":
        classes = sorted({row[target].strip() for row in rows[1:]})
        y = torch.tensor([classes.index(row[target].strip()) for row in rows[1:]])
    else:
        y = torch.tensor([[float(row[target])] for row in rows[1:]], dtype=torch.float32)
    return x, y
''',
    imports=("import csv",),
    standardize=True,
    check=lambda p: _csv_summary(p) and None,
)

FILE_DATASETS = (
    _idx_dataset(
        "mnist",
        "MNIST",
        "MNIST",
        "MNIST",
        "MNIST: 60,000 grey 28x28 handwritten digits.",
        tuple(str(i) for i in range(10)),
    ),
    _idx_dataset(
        "fashion_mnist",
        "Fashion-MNIST",
        "FashionMNIST",
        "FashionMNIST",
        "Fashion-MNIST: 60,000 grey 28x28 pictures of 10 kinds of clothing.",
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    ),
    _idx_dataset(
        "kmnist",
        "KMNIST",
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
)

DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DIGITS,
        _bundled(
            "iris",
            "Iris",
            "scikit-learn's iris flowers: 150 samples, 4 measurements, 3 species.",
            "load_iris",
            4,
            3,
            ("setosa", "versicolor", "virginica"),
        ),
        _bundled(
            "wine",
            "Wine",
            "scikit-learn's wine recognition: 178 samples, 13 chemical measurements, 3 cultivars.",
            "load_wine",
            13,
            3,
            ("class_0", "class_1", "class_2"),
        ),
        _bundled(
            "breast_cancer",
            "Breast cancer",
            "scikit-learn's breast cancer Wisconsin: 569 samples, 30 features, malignant or benign.",
            "load_breast_cancer",
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
        *FILE_DATASETS,
    )
}

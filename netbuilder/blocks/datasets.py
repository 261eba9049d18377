"""The datasets a Dataset node can read: metadata for shape checks, and each loader as source text.

The loader text is the single definition of the data: codegen writes it into train.py and the app's engine
executes the very same text, so the exported script and the app train on identical tensors. Each loader is a
function `load_data(seed) -> (x, y)` returning float32 inputs and int64 class indices (classification) or
float32 targets of shape (N, 1) (regression). Values from the project enter the text only through repr().
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from string import Template
from typing import Any

CLASSIFICATION = "classification"
REGRESSION = "regression"

SCIKIT_LEARN = "scikit-learn"


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset: what the Dataset node outputs, what its loader needs, and the loader itself."""

    name: str
    title: str
    doc: str
    task: str
    uses: tuple[str, ...]
    input_shape: Callable[[Mapping[str, Any]], tuple[int, ...]]
    classes: Callable[[Mapping[str, Any]], int] | None
    loader: str
    imports: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    standardize: bool = False
    class_names: Callable[[Mapping[str, Any]], tuple[str, ...]] | None = None

    def num_classes(self, params: Mapping[str, Any]) -> int | None:
        return self.classes(params) if self.classes is not None else None

    def names_of_classes(self, params: Mapping[str, Any]) -> tuple[str, ...]:
        if self.class_names is not None:
            return self.class_names(params)
        count = self.num_classes(params)
        return tuple(str(i) for i in range(count)) if count else ()

    def loader_source(self, params: Mapping[str, Any]) -> str:
        """The loader function with this node's parameter values written in (through repr)."""
        values = {name: repr(params[name]) for name in self.uses}
        return Template(self.loader).substitute(values)


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
    "orientation (up to 8 angles).",
    task=CLASSIFICATION,
    uses=("samples", "image_size", "classes", "noise"),
    input_shape=lambda p: (3, p["image_size"], p["image_size"]),
    classes=lambda p: p["classes"],
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
    )
}

"""The dataset loaders are real modules: each imports and runs as it stands, and the text train.py gets (the
text the app runs) is that module's code under the project's settings, with train.py's own import block."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import sys

import pytest
import torch

from netbuilder.blocks import catalogue
from netbuilder.blocks.dataset_files import IMAGE_SUFFIXES
from netbuilder.blocks.datasets import DATASETS, SPIRALS
from netbuilder.blocks.loader_text import LOADERS_FOLDER, LoaderLayoutError, read_loader
from netbuilder.data.loading import load_dataset

LOADERS = sorted(path.stem for path in LOADERS_FOLDER.glob("*.py") if path.stem != "__init__")
PIP_NAMES = {"sklearn": "scikit-learn", "PIL": "pillow", "numpy": "numpy", "scipy": "scipy"}


def module(name: str):
    return importlib.import_module(f"netbuilder.data.loaders.{name}")


def test_every_loader_module_is_used_and_every_dataset_has_one():
    assert sorted({spec.loader for spec in DATASETS.values()}) == LOADERS


@pytest.mark.parametrize("name", LOADERS)
def test_a_loader_module_as_written_is_one_of_the_datasets(name):
    """Its settings' values are the defaults of one dataset that uses it (its facts, the node's defaults)."""
    loader = module(name)
    defaults = catalogue.get("Dataset").defaults()
    written = {setting: getattr(loader, setting) for setting in read_loader(name).settings}
    matches = [
        spec.name
        for spec in DATASETS.values()
        if spec.loader == name and written == {**{u.upper(): defaults[u] for u in spec.uses}, **dict(spec.facts)}
    ]
    assert matches, f"{name}.py's settings {written} are no dataset's"


GENERATED_TENSORS = sorted(n for n, spec in DATASETS.items() if "path" not in spec.uses and not spec.tokens)


@pytest.mark.parametrize("name", GENERATED_TENSORS)  # generated reviews are texts: see test_generated_reviews.py
def test_the_module_imported_loads_what_the_app_and_train_py_load(name):
    spec = DATASETS[name]
    loader = module(spec.loader)
    params = {u: getattr(loader, u.upper()) for u in spec.uses}
    x, y = loader.load_data(3)
    app_x, app_y = load_dataset({"dataset": name, **params}, seed=3)
    assert torch.equal(x, app_x) and torch.equal(y, app_y)


def test_the_image_folder_module_reads_the_suffixes_the_catalogue_checks():
    assert module("image_folder").IMAGE_SUFFIXES == IMAGE_SUFFIXES
    assert dict(DATASETS["image_folder"].facts)["IMAGE_SUFFIXES"] == IMAGE_SUFFIXES


def test_the_loader_text_is_the_code_under_one_line_of_the_nodes_values():
    text = SPIRALS.loader_source({"samples": 240, "classes": 4, "noise": 0.25})
    first, rest = text.split("\n", 1)
    assert first == "SAMPLES, CLASSES, NOISE = 240, 4, 0.25"
    assert rest.lstrip("\n") == read_loader("spirals").code
    assert (LOADERS_FOLDER / "spirals.py").read_text().endswith(read_loader("spirals").code)
    assert '"""Spiral arms' not in text and "import" not in text, "the module's docstring and imports stay there"
    cifar = DATASETS["cifar100"].loader_source({"path": "data/x's", "download": True})
    assert cifar.startswith(
        "PATH, DOWNLOAD = \"data/x's\", True\nFOLDER = 'cifar-100-binary'\nFILES = ('train.bin',)\nLABEL_BYTES = 2\n"
    )
    ast.parse(cifar)


def test_values_reach_the_text_only_through_repr():
    text = DATASETS["csv"].loader_source({"path": 'a"); import os; ("', "target_column": "y", "task": "regression"})
    assignment = ast.parse(text).body[0]
    assert [ast.literal_eval(value) for value in assignment.value.elts] == ['a"); import os; ("', "y", "regression"]


def test_a_loader_whose_settings_differ_from_the_dataset_is_refused():
    with pytest.raises(LoaderLayoutError, match="the spirals loader sets SAMPLES, CLASSES, NOISE; the spirals dataset"):
        dataclasses.replace(SPIRALS, uses=("samples", "noise")).loader_source({"samples": 100, "noise": 0.1})


@pytest.mark.parametrize("download", [False, True])
@pytest.mark.parametrize("name", sorted(DATASETS))
def test_imports_come_from_the_module_and_need_only_the_requirements(name, download):
    spec = DATASETS[name]
    params = {"download": download}
    lines = spec.import_lines(params)
    assert "import torch" not in lines and not any("__future__" in line for line in lines)
    assert "import torchvision" not in lines  # torchvision only downloads: imported there, in the function
    through_torchvision = "import torchvision" in read_loader(spec.loader).code  # text downloads without it
    downloads = download and "download" in spec.uses and through_torchvision
    roots = {line.split()[1].split(".")[0] for line in lines} - set(sys.stdlib_module_names) - {"torch"}
    needed = {PIP_NAMES.get(root, root) for root in roots} | ({"torchvision"} if downloads else set())
    assert needed == set(spec.requirements(params))


def test_train_py_has_one_import_block_and_the_loader_code():
    from netbuilder.analysis import analyze
    from netbuilder.codegen.package import generate_package
    from tests.test_datasets import image_project

    project = image_project(noise=0.3)
    package = generate_package(
        project.graph, analyze(project.graph), name="t", source="", epochs=1, batch_size=8, val_fraction=0.2, seed=0
    )
    train = package.files["train.py"]
    assert "\nSAMPLES, IMAGE_SIZE, CLASSES, NOISE = 200, 8, 3, 0.3\n" in train
    assert read_loader("stripes").code in train
    assert train.count("import math") == 1 and "from __future__" not in train
    body = ast.parse(train).body[1:]  # after the docstring: the imports, then code without any
    first_code = next(i for i, node in enumerate(body) if not isinstance(node, ast.Import | ast.ImportFrom))
    assert first_code > 0 and not any(isinstance(node, ast.Import | ast.ImportFrom) for node in body[first_code:])

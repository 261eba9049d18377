"""The model's class is named after the project, and never after a name the generated scripts use: a project
called "Image" or "Dataset" still exports a package whose train.py trains and whose predict.py answers."""

from __future__ import annotations

import builtins
import random
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from netbuilder.analysis import analyze
from netbuilder.codegen.identifiers import class_name, script_names, unused_class_name
from netbuilder.codegen.package import Package, generate_package, write_package
from netbuilder.project import Project, load_project

SAMPLES = Path(__file__).parent.parent / "sample_projects"

# The names the issue saw break train.py or predict.py; the tests add every other name the scripts bind.
REPORTED = ("Image", "Dataset", "Data Loader", "Subset", "Image Files", "Part", "HERE", "READABLE")

# Runs train.py for one step and predict.py on one image in each folder given, in one process (torch is
# imported once), with netbuilder made impossible to import, as a person's own environment would be.
RUN_EACH = """
import os, runpy, sys
sys.modules["netbuilder"] = None
for folder in sys.argv[1:]:
    os.chdir(folder)
    sys.path.insert(0, folder)
    for script, args in (
        ("train.py", ["--epochs", "1", "--batch-size", "8", "--device", "cpu", "--workers", "0"]),
        ("predict.py", [os.path.join("images", "cat", "0.png")]),
    ):
        for module in ("model", "train"):
            sys.modules.pop(module, None)
        sys.argv = [script, *args]
        runpy.run_path(script, run_name="__main__")
    sys.path.pop(0)
    print("done", folder, flush=True)
"""


def image_project(folder: Path, name: str) -> Project:
    """An image folder (8 images of two classes, normalised and flipped) -> Flatten -> Linear -> CrossEntropy."""
    for c, kind in enumerate(("cat", "dog")):
        (folder / "images" / kind).mkdir(parents=True, exist_ok=True)
        for i in range(4):
            Image.new("RGB", (10, 10), (100 * c, 30 * i, 50)).save(folder / "images" / kind / f"{i}.png")
    project = Project.new(name)
    g = project.graph
    params = {"dataset": "image_folder", "path": str(folder / "images"), "image_size": 8, "augment": "flip"}
    data = g.add_node("Dataset", params=params).id
    flatten, fc = g.add_node("Flatten").id, g.add_node("Linear", params={"out_features": 2}).id
    loss, adam = g.add_node("CrossEntropy").id, g.add_node("Adam").id
    for edge in ((data, "x", flatten, "x"), (flatten, "y", fc, "x"), (fc, "y", loss, "input")):
        g.connect(*edge)
    g.connect(data, "target", loss, "target")
    g.connect(loss, "loss", adam, "loss")
    return project


def table_project(folder: Path, name: str) -> Project:
    (folder / "t.csv").write_text("a,b,kind\n" + "".join(f"{i},{i % 3},{'xy'[i % 2]}\n" for i in range(12)))
    project = Project.new(name)
    g = project.graph
    params = {"dataset": "csv", "path": str(folder / "t.csv"), "target_column": "kind"}
    data = g.add_node("Dataset", params=params).id
    fc, loss = g.add_node("Linear", params={"out_features": 2}).id, g.add_node("CrossEntropy").id
    adam = g.add_node("Adam").id
    g.connect(data, "x", fc, "x")
    g.connect(fc, "y", loss, "input")
    g.connect(data, "target", loss, "target")
    g.connect(loss, "loss", adam, "loss")
    return project


def package(project: Project) -> Package:
    analysis = analyze(project.graph)
    return generate_package(project.graph, analysis, name=project.name, source="", **project.training.to_dict())


def names_of(built: Package) -> frozenset[str]:
    scripts = [text for file, text in built.files.items() if file.endswith(".py") and file != "model.py"]
    return script_names(built.model.source, scripts, built.model.class_name)


def projects(folder: Path, name: str) -> list[Project]:
    sample = load_project(SAMPLES / "digits_cnn.nbproj")
    sample.name = name
    return [image_project(folder, name), table_project(folder, name), sample]


def test_script_names_are_read_from_the_sources_themselves():
    source = (
        "import os.path\nfrom PIL import Image as Picture\nfrom model import Net\nHERE = 1\n"
        "class Part:\n    pass\n\n\ndef main(argument, *rest, **options):\n    for item in rest:\n        pass\n"
        "    try:\n        pass\n    except OSError as error:\n        pass\n    net = Net()\n"
    )
    model = "import torch\n\n\nclass Net(torch.nn.Module):\n    def forward(self, image):\n        return image\n"
    names = script_names(model, [source], "Net") - set(dir(builtins))
    assert names == {"os", "Picture", "HERE", "Part", "main", "argument", "rest", "options", "item", "error", "net"} | {
        "torch"
    }
    assert "Net" in script_names(model, ["import torch as Net"], "Net"), "only the model's own import is left out"
    assert "Net" in script_names(model, ["class Net:\n    pass"], "Net"), "or its own definition"
    assert "Net" in script_names("class Net:\n    pass\n\n" + model, [], "Net"), "the model's one definition"
    assert unused_class_name("Image", frozenset({"ImageModel"})) == "ImageModel2"


def test_every_name_the_scripts_use_as_a_project_name_gets_a_class_of_its_own(tmp_path):
    """Every name train.py, predict.py and model.py bind, and a few builtins, made the project's name, for an
    image folder, a CSV table and the digits sample: the class is called otherwise, and only then (a name the
    scripts do not use stays the class's name)."""
    for project in projects(tmp_path, "Unused Name"):
        built = package(project)
        assert built.model.class_name == "UnusedName"
        used = names_of(built)
        own = sorted(n for n in used - set(dir(builtins)) if class_name(n) == n)
        read = sorted(n for n in set(dir(builtins)) if class_name(n) == n and not n.startswith("_"))
        candidates = [*own, *random.Random(7).sample(read, 4)]  # the builtins alike: a few of them
        assert {"Image", "Dataset", "HERE", "PATH"} & set(candidates)
        for name in candidates:
            project.name = name
            renamed = package(project)
            assert renamed.model.class_name == f"{name}Model", name
            assert renamed.model.class_name not in names_of(renamed), name
            assert f"from model import {name}Model" in renamed.files.get("train.py", "from model import " + name)
            assert f'"class": "{name}Model"' in renamed.files["config.json"]


@pytest.mark.slow
def test_a_project_named_like_a_name_in_the_scripts_trains_and_predicts_from_its_package(tmp_path):
    chosen = image_project(tmp_path / "probe", "Probe")
    used = sorted(n for n in names_of(package(chosen)) if class_name(n) == n and n[0].isupper())
    names = [*REPORTED, *random.Random(11).sample([n for n in used if n not in REPORTED], 3)]
    folders = []
    for i, name in enumerate(names):
        folder = tmp_path / f"package_{i}"
        project = image_project(folder, name)
        built = package(project)
        assert built.model.class_name not in names_of(built)
        write_package(built, folder)
        folders.append(str(folder))
    result = subprocess.run(
        [sys.executable, "-c", RUN_EACH, *folders], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert result.returncode == 0, f"{names}: {result.stderr[-3000:]}"
    assert result.stdout.count("done ") == len(names)

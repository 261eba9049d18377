"""Generated code: safe whatever the labels say, deterministic, ruff-clean, and the model it defines runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from netbuilder.analysis import analyze
from netbuilder.codegen.identifiers import MODULE_ATTRIBUTES, Namer, class_name, identifier, safe_text
from netbuilder.codegen.model_code import CodegenError, generate_model
from netbuilder.codegen.package import generate_package
from netbuilder.graph import Graph
from netbuilder.runtime.build import build_model

GOLDEN = Path(__file__).parent / "golden" / "residual_mlp.py"

HOSTILE_LABELS = [
    'fc"); import os; os.system("echo pwned',
    "line\nbreak = 1",
    "class",
    "forward",
    "training",
    "x",
    "self",
    "Ünïcödé 名前",
    "🔥",
    "3d conv",
    "fc",
    "fc ",
    "__init__",
]


def residual_mlp(labels: list[str] | None = None) -> Graph:
    g = Graph()
    names = iter(labels or ["features", "fc1", "act", "fc2", "skip", "head"])
    data = g.add_node("Input", label=next(names), params={"shape": (12,)}, position=(0, 0)).id
    fc1 = g.add_node("Linear", label=next(names), params={"out_features": 16}, position=(100, 0)).id
    act = g.add_node("GELU", label=next(names), position=(200, 0)).id
    fc2 = g.add_node("Linear", label=next(names), params={"out_features": 16, "bias": False}, position=(300, 0)).id
    skip = g.add_node("Add", label=next(names), position=(400, 0)).id
    head = g.add_node("Linear", label=next(names), params={"out_features": 3}, position=(500, 0)).id
    g.connect(data, "x", fc1, "x")
    g.connect(fc1, "y", act, "x")
    g.connect(act, "y", fc2, "x")
    g.connect(fc2, "y", skip, "in1")
    g.connect(act, "y", skip, "in2")
    g.connect(skip, "y", head, "x")
    return g


def test_golden_model_source():
    """The exact text a person gets: pinned so every change to generated code is a reviewed diff."""
    source = generate_model(
        residual_mlp(), analyze(residual_mlp()), name="Residual MLP", source="residual.nbproj"
    ).source
    if os.environ.get("NETBUILDER_UPDATE_GOLDEN"):
        GOLDEN.write_text(source)
    assert source == GOLDEN.read_text(), "generated code changed: review, then NETBUILDER_UPDATE_GOLDEN=1 pytest"


def test_generation_is_deterministic_whatever_the_insertion_order():
    g1 = residual_mlp()
    g2 = Graph()
    for node_id in reversed(list(g1.nodes)):
        node = g1.nodes[node_id]
        g2.add_node(node.block, label=node.label, params=node.params, position=node.position, node_id=node_id)
    for edge in sorted(g1.edges, key=str, reverse=True):
        g2.connect(edge.src, edge.src_port, edge.dst, edge.dst_port)
    assert generate_model(g1, analyze(g1)).source == generate_model(g2, analyze(g2)).source


def test_hostile_labels_give_safe_code_that_runs():
    g = Graph()
    previous = g.add_node("Input", label=HOSTILE_LABELS[0], params={"shape": (4,)}).id
    port = "x"
    for i, label in enumerate(HOSTILE_LABELS[1:], start=1):
        node = g.add_node("Linear", label=label, params={"out_features": 4}, position=(i * 10, 0)).id
        g.connect(previous, port, node, "x")
        previous, port = node, "y"
    code = generate_model(g, analyze(g), name='evil"""; import os', source='a"""b\nc.nbproj')
    compile(code.source, "model.py", "exec")
    assert "os.system" not in code.source.replace("# ", "")
    assert "import os" not in code.source.split('"""')[0] + code.source.split('"""', 2)[-1]
    model = build_model(code)
    assert model(torch.randn(2, 4)).shape == (2, 4)
    assert not set(dict(model.named_children())) & MODULE_ATTRIBUTES


def test_identifiers():
    assert identifier("Conv 1") == "conv_1"
    assert identifier("Down Sample") == "down_sample"
    assert identifier("DownSample") == "DownSample"  # a Python name already: kept, as an import's Mixed_5b is
    assert identifier("__init__") == "init"
    assert identifier("3x3") == "node_3x3"
    assert identifier("名前") == "node"
    assert class_name("digits CNN") == "DigitsCNN"
    assert class_name("") == "Model"
    long = class_name("sentiment of reviews written in the long winter evenings by candle light")
    assert long == "SentimentOfReviewsWrittenInTheLongWinterEvenings" and len(long) <= 48  # whole words that fit
    assert class_name("x" * 300) == "X" + "x" * 47
    namer = Namer()
    assert [namer.take(t) for t in ["fc", "fc", "FC", "forward", "x", "class"]] == [
        "fc",
        "fc_2",
        "FC",
        "forward_",
        "x_",
        "class_",
    ]
    assert safe_text('a"""\nb\\c') == "a' b/c"
    assert '"' not in safe_text('say "hi"') and "\n" not in safe_text("two\nlines")


def test_module_attribute_list_covers_torch():
    public = {name for name in dir(torch.nn.Module) if not name.startswith("_")}
    assert public <= MODULE_ATTRIBUTES, sorted(public - MODULE_ATTRIBUTES)
    assert "training" in vars(torch.nn.Module())


def test_model_with_errors_is_refused_with_the_node_named():
    g = residual_mlp()
    g.set_param(g.by_label("head").id, "in_features", 5)
    with pytest.raises(CodegenError, match="head"):
        generate_model(g, analyze(g))


def test_two_outputs_without_a_loss():
    g = residual_mlp()
    extra = g.add_node("Linear", label="aux", params={"out_features": 2}, position=(450, 100)).id
    g.connect(g.by_label("skip").id, "y", extra, "x")
    code = generate_model(g, analyze(g))
    assert "-> tuple[torch.Tensor, torch.Tensor]" in code.source
    first, second = build_model(code)(torch.randn(5, 12))
    assert {tuple(first.shape), tuple(second.shape)} == {(5, 3), (5, 2)}


def test_generated_model_passes_ruff(tmp_path):
    g = residual_mlp()
    (tmp_path / "model.py").write_text(generate_model(g, analyze(g)).source)
    ruff = Path(sys.executable).parent / "ruff"
    result = subprocess.run(
        [str(ruff), "check", "--isolated", "--select", "E,F,W,I,B,UP", str(tmp_path)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout


def exported_passes_ruff(project, folder: Path, *, name: str | None = None, source: str = "") -> str:
    """Export the project into folder (named `name`, from the file `source`), check it with ruff as its owner
    would; train.py's text."""
    package = generate_package(
        project.graph,
        analyze(project.graph),
        name=project.name if name is None else name,
        source=source,
        epochs=1,
        batch_size=8,
        val_fraction=0.2,
        seed=0,
    )
    for name, text in package.files.items():
        (folder / name).write_text(text)
    ruff = Path(sys.executable).parent / "ruff"
    result = subprocess.run(
        [str(ruff), "check", "--isolated", "--select", "E,F,W,I,B,UP", "--line-length", "120", "."],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout
    return package.files["train.py"]


@pytest.mark.parametrize("sample", ["digits_mlp", "sentiment_lstm"])
def test_a_long_project_name_and_source_keep_the_package_within_the_line_length(tmp_path, sample):
    """The name and the project's file are written into each script's docstring, wrapped within the line length."""
    from netbuilder.project import load_project

    project = load_project(Path(__file__).parent.parent / "sample_projects" / f"{sample}.nbproj")
    name = " ".join(["Sentiment of reviews written in the long winter evenings"] * 4)  # 231 characters
    source = "/home/someone/" + "a-rather-deep-folder/" * 6 + "project.nbproj"
    exported_passes_ruff(project, tmp_path, name=name, source=source)
    model_doc = " ".join((tmp_path / "model.py").read_text().split('"""')[1].split())
    assert model_doc.startswith(safe_text(name) + ":") and safe_text(source) in model_doc  # as long as before


@pytest.mark.parametrize("augment", ["none", "flip", "crop", "crop+flip"])
def test_train_script_for_images_passes_ruff(tmp_path, augment):
    """Normalisation and each augmentation give a train.py that passes the linter as it is."""
    from tests.test_datasets import image_project

    train_py = exported_passes_ruff(image_project(augment=augment), tmp_path)
    assert "normalize_channels(train_x, val_x)" in train_py
    assert ("def augment(" in train_py) == (augment != "none")


@pytest.mark.parametrize("download", [False, True])
@pytest.mark.parametrize("dataset", ["mnist", "cifar10", "svhn"])
def test_a_downloadable_datasets_loader_code_passes_ruff_with_download_on_or_off(tmp_path, dataset, download):
    """torchvision only downloads: the data part train.py carries imports it where it downloads, so it never
    names it without importing it, and requirements.txt names it only when the dataset downloads."""
    from netbuilder.blocks.datasets import DATASETS

    spec = DATASETS[dataset]
    params = {"dataset": dataset, "download": download, "path": "data"}
    code = "\n".join(["import torch", *spec.import_lines(params)]) + "\n\n\n" + spec.loader_source(params)
    (tmp_path / "data_part.py").write_text(code)
    ruff = Path(sys.executable).parent / "ruff"
    result = subprocess.run(
        [str(ruff), "check", "--isolated", "--select", "F", "data_part.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout
    assert ("torchvision" in spec.requirements(params)) == download


@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("augment", ["none", "flip", "crop", "crop+flip"])
def test_streamed_train_script_passes_ruff(tmp_path, normalize, augment):
    """An image folder's train.py (a Dataset, DataLoader workers, torchvision transforms) is as clean."""
    from tests.test_streaming import folder_project, write_folder

    project = folder_project(write_folder(tmp_path / "images", per_class=2), augment=augment)
    data = next(node for node in project.graph.nodes.values() if node.block == "Dataset")
    project.graph.set_param(data.id, "normalize", normalize)
    out = tmp_path / "export"
    out.mkdir()
    train_py = exported_passes_ruff(project, out)
    assert ("channel_statistics(dataset, train_indices)" in train_py) == normalize
    assert ("from torchvision.transforms import v2" in train_py) == (normalize or augment != "none")


def test_a_constructor_line_too_long_is_split_one_argument_per_line_and_still_means_the_same():
    import ast

    from netbuilder.codegen.line_wrap import wrapped

    line = (
        "        self.block = nn.Sequential("
        + ", ".join(f"nn.Linear({i}, {i + 1}, bias='a, (b)')" for i in range(6))
        + ")"
    )
    lines = wrapped(line)
    assert len(lines) == 8 and all(len(part) <= 120 for part in lines)
    assert lines[1] == "            nn.Linear(0, 1, bias='a, (b)'),"  # a comma or bracket in a string stays
    assert ast.dump(ast.parse("\n".join(lines).strip())) == ast.dump(ast.parse(line.strip()))

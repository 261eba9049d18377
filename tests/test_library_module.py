"""LibraryModule: a torch or torchvision class by its qualified name with JSON arguments. Only such names and
plain values are taken; torch measures the shape on the meta device; model.py imports the class and calls its
constructor, and computes what torchvision computes; the exported package asks for torchvision."""

from __future__ import annotations

import json

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode
from torchvision.models.swin_transformer import PatchMerging, ShiftedWindowAttention

from netbuilder.analysis import analyze
from netbuilder.blocks import catalogue, library_module
from netbuilder.blocks.errors import ParamError
from netbuilder.cli import main
from netbuilder.codegen.model_code import generate_model
from netbuilder.codegen.package import generate_package
from netbuilder.graph import Graph
from netbuilder.graph.definitions import Exposed
from netbuilder.graph.grouping import group
from netbuilder.project import Project, ProjectError, load_project, save_project
from netbuilder.runtime import library_shapes
from netbuilder.runtime.build import load_module

SWIN = "torchvision.models.swin_transformer"
WINDOW = {"dim": 16, "window_size": [4, 4], "shift_size": [2, 2], "num_heads": 2}
SPEC = catalogue.get("LibraryModule")


@pytest.fixture(autouse=True)
def torch_measures(monkeypatch):
    """torch as the oracle, as the netbuilder command installs it; the module's oracle restored afterwards."""
    monkeypatch.setattr(library_module, "_measure", library_module._measure)
    library_shapes.install()


def _chain(shape: tuple[int, ...], *modules: tuple[str, dict]) -> tuple[Graph, list[str]]:
    """Input(shape) -> one LibraryModule per (class, arguments)."""
    g = Graph()
    previous, port = g.add_node("Input", params={"shape": shape}).id, "x"
    ids = []
    for cls, args in modules:
        node = g.add_node("LibraryModule", params={"cls": cls, "args": json.dumps(args)}).id
        g.connect(previous, port, node, "x")
        previous, port = node, "y"
        ids.append(node)
    return g, ids


def _errors(g: Graph, node: str) -> list[str]:
    return [d.message for d in analyze(g).for_node(node) if d.is_error]


@pytest.mark.parametrize(
    "name",
    [
        "os.system",
        "builtins.eval",
        "torch",
        "torch.nn.Linear()",
        "torch.nn.Linear; import os",
        "torch.nn._reduction",
        "torch.nn.__class__",
        "torch..nn.Linear",
        "torch.nn.Linear\n",
        "torch.nn.lambda",
        "torchvisionx.models.ResNet",
    ],
)
def test_a_name_outside_torch_and_torchvision_or_not_dotted_public_names_is_refused_as_it_is_typed(name):
    with pytest.raises(ParamError):
        SPEC.param("cls").validate(name)


@pytest.mark.parametrize(
    "text",
    [
        "[1, 2]",
        '{"a": {"b": 1}}',
        '{"dim": 1, "dim": 2}',
        '{"a": NaN}',
        '{"a": Infinity}',
        '{"a": 1e999}',
        "{'a': 1}",
        '{"not a name": 1}',
        '{"class": 1}',
        '{"a": [[[[[1]]]]]}',
        "[" * 3000,
        '{"a": "' + "x" * 5000 + '"}',
    ],
)
def test_arguments_are_a_json_object_of_plain_values_by_argument_name(text):
    with pytest.raises(ParamError):
        SPEC.param("args").validate(text)


def test_plain_json_values_are_taken():
    text = '{"dim": 96, "window_size": [7, 7], "mode": "row", "flag": true, "eps": 1e-06, "norm": null}'
    assert SPEC.param("args").validate(text) == text
    assert library_module.parse_args(text)["window_size"] == [7, 7]


@pytest.mark.parametrize(
    ("cls", "args", "said"),
    [
        ("torch.nn.NoSuchLayer", {}, "torch.nn has no NoSuchLayer"),
        ("torch.nn.functional.relu", {}, "is not a module class"),
        (f"{SWIN}.nn.Linear", {"in_features": 16, "out_features": 2}, "torch.nn.modules.linear.Linear"),
        ("torch.nn.Linear", {"in_features": 16}, "cannot be built"),
        ("torch.nn.Linear", {"in_features": 16, "out_feature": 2}, "cannot be built"),
        ("torch.nn.Linear", {"in_features": 5, "out_features": 2}, "Linear refuses (N, 8, 8, 16)"),
        (f"{SWIN}.ShiftedWindowAttention", {**WINDOW, "dim": 12}, "ShiftedWindowAttention refuses (N, 8, 8, 16)"),
        ("torch.nn.Flatten", {"start_dim": 0}, "does not keep the batch as the first dimension"),
        ("torch.nn.MaxPool2d", {"kernel_size": 2, "return_indices": True}, "returns tuple, not one tensor"),
    ],
)
def test_what_torch_refuses_is_said_in_one_line_at_the_node(cls, args, said):
    g, (node,) = _chain((8, 8, 16), (cls, args))
    (message,) = _errors(g, node)
    assert said in message
    assert "\n" not in message and len(message) < 400


def test_without_torch_the_rule_says_that_the_shape_needs_it(monkeypatch):
    monkeypatch.setattr(library_module, "_measure", None)
    g, (node,) = _chain((8, 8, 16), (f"{SWIN}.PatchMerging", {"dim": 16}))
    (message,) = _errors(g, node)
    assert "found by torch" in message


def test_model_py_imports_the_classes_and_computes_what_torchvision_computes():
    g, nodes = _chain(
        (8, 8, 16),
        (f"{SWIN}.ShiftedWindowAttention", WINDOW),
        (f"{SWIN}.PatchMerging", {"dim": 16}),
        ("torch.nn.LayerNorm", {"normalized_shape": 32}),
    )
    analysis = analyze(g)
    code = generate_model(g, analysis, name="windows")
    assert f"from {SWIN} import PatchMerging, ShiftedWindowAttention\n" in code.source
    assert "ShiftedWindowAttention(dim=16, window_size=[4, 4], shift_size=[2, 2], num_heads=2)" in code.source
    assert "nn.LayerNorm(normalized_shape=32)" in code.source
    assert code.library == ("torch.nn.LayerNorm", f"{SWIN}.PatchMerging", f"{SWIN}.ShiftedWindowAttention")
    torch.manual_seed(0)
    model = getattr(load_module(code.source), code.class_name)().eval()
    reference = torch.nn.Sequential(ShiftedWindowAttention(**WINDOW), PatchMerging(16), torch.nn.LayerNorm(32)).eval()
    reference.load_state_dict(dict(zip(reference.state_dict(), model.state_dict().values(), strict=True)))
    x = torch.randn(3, 8, 8, 16)
    torch.testing.assert_close(model(x), reference(x), rtol=0, atol=0)
    assert str(analysis.output_type(nodes[-1], "y")) == "(N, 4, 4, 32)" and model(x).shape == (3, 4, 4, 32)
    assert sum(analysis.results[n].params for n in nodes) == sum(p.numel() for p in model.parameters())


def test_macs_are_what_torchs_flop_counter_measures_per_sample():
    g, (node,) = _chain((8, 8, 16), (f"{SWIN}.ShiftedWindowAttention", WINDOW))
    module = ShiftedWindowAttention(**WINDOW)
    with FlopCounterMode(display=False) as counter:
        module(torch.randn(1, 8, 8, 16))
    assert analyze(g).results[node].macs == counter.get_total_flops() // 2 > 0


def test_checking_again_measures_nothing_again():
    g, _ = _chain((8, 8, 16), (f"{SWIN}.ShiftedWindowAttention", WINDOW))
    analyze(g)
    builds = library_shapes.built.cache_info().misses
    analyze(g)
    assert library_shapes.built.cache_info().misses == builds


def test_a_model_named_as_an_imported_class_imports_it_under_another_name():
    g, _ = _chain((8, 8, 16), (f"{SWIN}.PatchMerging", {"dim": 16}))
    code = generate_model(g, analyze(g), name="PatchMerging")
    assert f"from {SWIN} import PatchMerging as SwinTransformerPatchMerging" in code.source
    model = getattr(load_module(code.source), code.class_name)()
    assert model(torch.randn(2, 8, 8, 16)).shape == (2, 4, 4, 32)


def test_a_block_whose_uses_give_other_arguments_takes_those_arguments_one_by_one():
    """An import exposes the JSON that differs between two Swin blocks; the class takes shift_size itself."""
    unshifted = {**WINDOW, "shift_size": [0, 0]}
    g, (first, second) = _chain(
        (8, 8, 16), (f"{SWIN}.ShiftedWindowAttention", unshifted), (f"{SWIN}.ShiftedWindowAttention", WINDOW)
    )
    instance = group(g, [first], "Window")
    definition = g.definitions["Window"]
    definition.exposed = (Exposed("args", ((first, "args"),)),)
    definition.forget_spec()
    g.nodes[instance].params["args"] = json.dumps(unshifted)
    g.remove_node(second)
    other = g.add_node("Window", params={"args": json.dumps(WINDOW)}).id
    g.connect(instance, "y", other, "x")
    code = generate_model(g, analyze(g), name="two windows")
    assert "def __init__(self, shift_size: list) -> None:" in code.source
    assert "ShiftedWindowAttention(dim=16, window_size=[4, 4], shift_size=shift_size, num_heads=2)" in code.source
    model = getattr(load_module(code.source), code.class_name)()
    shifts = [m.shift_size for m in model.modules() if isinstance(m, ShiftedWindowAttention)]
    assert shifts == [[0, 0], [2, 2]]
    assert model(torch.randn(2, 8, 8, 16)).shape == (2, 8, 8, 16)


def test_the_exported_package_asks_for_torchvision_and_says_why():
    g, _ = _chain((8, 8, 16), (f"{SWIN}.ShiftedWindowAttention", WINDOW))
    package = generate_package(
        g, analyze(g), name="windows", source="", epochs=1, batch_size=2, val_fraction=0.2, seed=0
    )
    assert "torchvision>=" in package.files["requirements.txt"]
    assert "torchvision's own `ShiftedWindowAttention`" in package.files["README.md"]
    plain, _ = _chain((8, 8, 16), ("torch.nn.LayerNorm", {"normalized_shape": 16}))
    package = generate_package(
        plain, analyze(plain), name="norm", source="", epochs=1, batch_size=2, val_fraction=0.2, seed=0
    )
    assert "torchvision" not in package.files["requirements.txt"] + package.files["README.md"]


def test_netbuilder_blocks_lists_it(capsys):
    assert main(["blocks"]) == 0
    assert "LibraryModule" in capsys.readouterr().out


def test_a_project_file_naming_a_class_outside_torch_is_refused_naming_the_field(tmp_path):
    project = Project.new("windows")
    project.graph.add_node("LibraryModule", params={"cls": f"{SWIN}.PatchMerging", "args": '{"dim": 16}'})
    save_project(project, tmp_path / "windows.nbproj")
    text = (tmp_path / "windows.nbproj").read_text().replace(f"{SWIN}.PatchMerging", "os.system")
    (tmp_path / "hostile.nbproj").write_text(text)
    with pytest.raises(ProjectError, match=r"nodes\[0\]\.params\.cls: expected a class of torch or torchvision"):
        load_project(tmp_path / "hostile.nbproj")


def test_a_library_module_is_called_by_its_class_in_the_summary() -> None:
    from netbuilder.analysis.summary import summary_rows

    g, (node,) = _chain((8, 8, 16), (f"{SWIN}.ShiftedWindowAttention", WINDOW))
    rows = summary_rows(g, analyze(g))
    assert [row.block for row in rows if row.label == g.nodes[node].label] == ["ShiftedWindowAttention"]
    assert SPEC.type_name({"cls": "", "args": "{}"}) == "LibraryModule"

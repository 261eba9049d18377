"""Every export format, read back with the tool a user would read it with: torch.jit.load, onnxruntime,
safetensors into a freshly generated model, the Markdown table against `netbuilder summary --json`; and a
format that fails names its node while the others are still written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy
import onnx
import onnxruntime
import pytest
import torch
from markdown_it import MarkdownIt
from safetensors.torch import load_file

from netbuilder.analysis import analyze
from netbuilder.cli import main
from netbuilder.codegen.model_code import generate_model
from netbuilder.export import FORMATS, ExportError, export_formats
from netbuilder.export.summary_table import summary_markdown
from netbuilder.project import Project, load_project, save_project
from netbuilder.runtime.build import build_model

SAMPLES = Path(__file__).parent.parent / "sample_projects"


def fresh_model(project: Project) -> torch.nn.Module:
    """The project's model as the exported model.py defines it, untrained."""
    return build_model(generate_model(project.graph, analyze(project.graph), name=project.name)).eval()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The digits CNN with weights a run could have saved (model.pt), and every format exported from them."""
    folder = tmp_path_factory.mktemp("export")
    project = load_project(SAMPLES / "digits_cnn.nbproj")
    torch.manual_seed(1234)  # not the project's seed: these weights must come from the file
    model = fresh_model(project)
    torch.save(model.state_dict(), folder / "model.pt")
    results = export_formats(project, folder / "out", FORMATS, weights=folder / "model.pt")
    return project, model, folder / "out", results


def digits(batch: int) -> torch.Tensor:
    return torch.randn(batch, 1, 8, 8, generator=torch.Generator().manual_seed(batch))


def test_every_format_is_written(trained):
    _, _, out, results = trained
    assert {name: result.error for name, result in results.items()} == dict.fromkeys(FORMATS, "")
    extras = {"litert": "model.tflite", "executorch": "model.pte"}  # where their optional packages are installed
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [
            "model.int8.onnx",
            "model.onnx",
            "model.pt2",
            "model.safetensors",
            "model.ts",
            "summary.md",
            *(file for name, file in extras.items() if name in FORMATS),
        ]
    )


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:FutureWarning")
def test_torchscript_loads_with_torch_jit_and_computes_what_the_model_does(trained):
    _, model, out, _ = trained
    loaded = torch.jit.load(str(out / "model.ts"))
    x = digits(7)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x), rtol=0, atol=1e-5)


def test_onnx_runs_in_onnxruntime_at_any_batch_size(trained):
    _, model, out, _ = trained
    assert all(entry.version >= 17 for entry in onnx.load(str(out / "model.onnx")).opset_import if not entry.domain)
    session = onnxruntime.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    (image,) = session.get_inputs()
    assert image.name == "image" and isinstance(image.shape[0], str)  # a named, dynamic batch dimension
    for batch in (1, 9):
        x = digits(batch)
        (scores,) = session.run(None, {"image": x.numpy()})
        with torch.no_grad():
            numpy.testing.assert_allclose(scores, model(x).numpy(), rtol=0, atol=1e-4)


def test_safetensors_load_into_a_freshly_generated_model(trained):
    project, model, out, _ = trained
    fresh = fresh_model(project)
    fresh.load_state_dict(load_file(out / "model.safetensors"))
    x = digits(5)
    with torch.no_grad():
        assert torch.equal(fresh(x), model(x))


def test_without_a_run_the_weights_are_those_train_py_starts_from(tmp_path):
    project = load_project(SAMPLES / "digits_mlp.nbproj")
    results = export_formats(project, tmp_path, ["safetensors"])
    torch.manual_seed(project.training.seed)  # what train.py does just before it builds the model
    expected = fresh_model(project).state_dict()
    saved = load_file(results["safetensors"].path)
    assert saved.keys() == expected.keys()
    assert all(torch.equal(saved[name], expected[name]) for name in expected)


def test_weights_of_another_network_are_refused(tmp_path):
    other = fresh_model(load_project(SAMPLES / "digits_mlp.nbproj"))
    torch.save(other.state_dict(), tmp_path / "model.pt")
    with pytest.raises(ExportError, match="not this network's"):
        export_formats(load_project(SAMPLES / "digits_cnn.nbproj"), tmp_path / "out", FORMATS, tmp_path / "model.pt")
    assert not (tmp_path / "out" / "model.onnx").exists()


def rendered(markdown: str) -> list:
    """The Markdown's tokens as CommonMark with GitHub's tables and strikethrough reads them."""
    return MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(markdown)


def shown(inline) -> str:
    """An inline token's text as a reader sees it: escapes resolved, emphasis marks gone."""
    return "".join(child.content for child in inline.children if child.type in ("text", "text_special"))


def table_rows(markdown: str) -> list[list[str]]:
    """Each body row's cells as a reader sees them, the header's left out."""
    rows: list[list[str]] = []
    body = False
    for token in rendered(markdown):
        body = body or token.type == "tbody_open"
        if body and token.type == "tr_open":
            rows.append([])
        elif body and token.type == "inline":
            rows[-1].append(shown(token))
    return rows


def test_the_summary_table_agrees_with_netbuilder_summary(tmp_path, capsys):
    path = SAMPLES / "residual_cnn.nbproj"
    results = export_formats(load_project(path), tmp_path, ["summary"])
    rows = table_rows(results["summary"].path.read_text())
    assert main(["summary", str(path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    total = rows.pop()
    assert total[0] == "total"
    assert (int(total[3].replace(",", "")), int(total[4].replace(",", ""))) == (
        summary["totals"]["parameters"],
        summary["totals"]["macs"],
    )
    assert [row[0] for row in rows] == [node["label"] for node in summary["nodes"]]
    assert [int(row[3].replace(",", "") or 0) for row in rows] == [node["parameters"] for node in summary["nodes"]]


INJECTIONS = (
    "<img src=x onerror=alert(1)>",
    "[click](https://evil.example)",
    "![tracker](https://evil.example/p.png)",
    "<https://evil.example>",
    "`code` and *emphasis* and __strong__ and ~~struck~~",
    "# heading\n## another",
    "a | b | c",
    "&lt;script&gt; &#60;b&#62;",
    "end with a backslash \\",
    "contact evil@example.com or www.evil.example",
)


def test_summary_md_shows_labels_and_the_name_as_written_with_no_markup_from_them(tmp_path):
    project = Project.new("<b>Name</b> [x](http://e.example) # ##")
    g = project.graph
    previous, port = g.add_node("Input", params={"shape": (4,)}).id, "x"
    for label in INJECTIONS:
        node = g.add_node("Linear", label=label, params={"out_features": 3}).id
        g.connect(previous, port, node, "x")
        previous, port = node, "y"
    markdown = summary_markdown(project, analyze(g))
    tokens = rendered(markdown)
    kinds = {t.type for t in tokens} | {c.type for t in tokens for c in t.children or ()}
    assert not kinds & {"html_inline", "html_block", "link_open", "image", "code_inline", "em_open", "s_open"}
    assert [t.tag for t in tokens if t.type == "heading_open"] == ["h1"]
    assert shown(tokens[1]) == project.name, "the title reads as the name"
    labels = [row[0] for row in table_rows(markdown)[:-1]]
    assert labels == [g.nodes[n].label for n in g.nodes][:1] + [" ".join(label.split()) for label in INJECTIONS]
    assert all(len(row) == 5 for row in table_rows(markdown)), "no pipe opens a column"


def odd_pool_project(tmp_path: Path) -> Path:
    """Adaptive max pooling to a size that does not divide the input: ONNX has no operator for it (should a
    later exporter learn it, pick another op ONNX cannot express)."""
    project = Project.new("odd pool")
    graph = project.graph
    image = graph.add_node("Input", label="image", params={"shape": [3, 8, 8]}).id
    pool = graph.add_node("AdaptiveMaxPool2d", label="odd | pool", params={"output_size": [3]}, position=(100, 0))
    graph.connect(image, "x", pool.id, "x")
    return save_project(project, tmp_path / "odd.nbproj")


def test_cli_reports_a_failing_format_by_node_and_still_writes_the_others(tmp_path, capsys):
    out = tmp_path / "out"
    assert (
        main(["export", str(odd_pool_project(tmp_path)), "-o", str(out), "--format", "onnx,torchscript,summary"]) == 1
    )
    captured = capsys.readouterr()
    (failure,) = captured.err.strip().splitlines()
    assert failure.startswith("ONNX: odd | pool (AdaptiveMaxPool2d) ") and "adaptive_max_pool2d" in failure
    assert sorted(p.name for p in out.iterdir()) == ["model.ts", "summary.md"]  # no model.onnx, no leftovers
    assert "| odd \\| pool | AdaptiveMaxPool2d |" in (out / "summary.md").read_text()  # a label cannot add a column


def test_cli_exports_all_formats_with_the_code_package(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["export", str(SAMPLES / "spirals_mlp.nbproj"), "-o", str(out), "--format", "all"]) == 0
    written = {p.name for p in out.iterdir()}
    assert {
        "model.py",
        "train.py",
        "model.ts",
        "model.onnx",
        "model.safetensors",
        "summary.md",
        "diagram.svg",
    } <= written
    assert "diagram.png" in written
    assert main(["export", str(SAMPLES / "spirals_mlp.nbproj"), "-o", str(out), "--format", "onnx,pickle"]) == 2
    assert "--format takes" in capsys.readouterr().err


def test_a_network_of_composite_blocks_exports_every_format_each_checked_against_torch(tmp_path):
    project = load_project(SAMPLES / "digits_resnet.nbproj")
    # the formats that take seconds each: pt2 of this network in tests/test_export_pt2.py, the others on others
    formats = [name for name in FORMATS if name not in ("pt2", "onnx-int8", "litert", "executorch")]
    results = export_formats(project, tmp_path / "out", formats)
    assert {name: result.error for name, result in results.items()} == dict.fromkeys(formats, "")
    model = fresh_model(project)
    model.load_state_dict(load_file(tmp_path / "out" / "model.safetensors"))  # the keys of its classes, strict
    x = digits(3)
    session = onnxruntime.InferenceSession(str(tmp_path / "out" / "model.onnx"))
    (name,) = [i.name for i in session.get_inputs()]
    (onnx_out,) = session.run(None, {name: x.numpy()})
    with torch.no_grad():
        numpy.testing.assert_allclose(onnx_out, model(x).numpy(), atol=1e-4)
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "| stage1 | ResNetBasicBlock |" in summary


def test_onnx_is_checked_at_batch_sizes_a_batch_norm_without_running_statistics_accepts(tmp_path):
    """Such a BatchNorm normalises over the batch even in eval, so a batch of one is refused by torch itself."""
    project = Project.new("batch statistics")
    graph = project.graph
    source = graph.add_node("Input", params={"shape": (4,)})
    fc = graph.add_node("Linear", params={"out_features": 6})
    norm = graph.add_node("BatchNorm1d", params={"track_running_stats": False})
    graph.connect(source.id, graph.spec(source.id).outputs[0].name, fc.id, "x")
    graph.connect(fc.id, "y", norm.id, "x")
    results = export_formats(project, tmp_path / "out", ("onnx",))
    assert results["onnx"].error == ""


def test_a_node_onnxruntime_refuses_is_named_by_the_line_of_forward_that_made_it(trained):
    from netbuilder.export.onnx_file import note_refused_node

    _, _, out, _ = trained
    refusal = RuntimeError("[ONNXRuntimeError] : 1 : FAIL : Node (node_conv2d) Op (Conv) [ShapeInferenceError] no")
    note_refused_node(refusal, out / "model.onnx")
    assert any("self.conv1(image)" in note for note in refusal.__notes__)

"""A training setting that changes nothing for a network says so: its declaration's `no_effect` (sync batch norm
without batch norm, or in one process), batch norm as the block catalogue declares it (torch's classes the
oracle), found inside composites too, and `netbuilder train`'s warning when such a setting is given anyway."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from netbuilder.analysis import analyze
from netbuilder.analysis.structure import batch_statistics_in
from netbuilder.blocks.catalogue import BLOCKS
from netbuilder.cli import main
from netbuilder.project import load_project
from netbuilder.project.settings import SETTINGS, RunContext, TrainingSettings, without_effect
from tests.test_block_specs import torch_class

SAMPLES = Path(__file__).parent.parent / "sample_projects"


def _network(project) -> RunContext:
    return RunContext().with_network(project.graph, analyze(project.graph).model_nodes)


def test_sync_batchnorm_has_an_effect_only_with_batch_norm_and_several_processes():
    on = TrainingSettings(sync_batchnorm="on", device="cuda")
    assert without_effect(on, RunContext(batch_norm=False)) == {"sync_batchnorm": "the network has no batch norm"}
    assert without_effect(replace(on, processes=4), RunContext(batch_norm=False)) == {
        "sync_batchnorm": "the network has no batch norm"
    }
    assert without_effect(on, RunContext(batch_norm=True)) == {
        "sync_batchnorm": "it trains in one process, whose batch norm sees the whole batch already"
    }
    assert without_effect(replace(on, processes=2), RunContext(batch_norm=True)) == {}
    # on a CPU several processes with it on are refused when the run starts (it needs CUDA): never greyed there
    assert "sync_batchnorm" not in without_effect(replace(on, processes=2, device="cpu"), RunContext(True, gpus=0))


def test_precision_has_no_effect_on_the_cpu():
    cpu = "it trains on the CPU, always in fp32"
    bf16 = TrainingSettings(precision="bf16", sync_batchnorm="on")
    with_batch_norm = RunContext(batch_norm=True)
    assert without_effect(replace(bf16, device="cpu"), with_batch_norm) == {
        "precision": cpu,
        "sync_batchnorm": "it trains in one process, whose batch norm sees the whole batch already",
    }
    assert without_effect(replace(bf16, processes=2), RunContext(batch_norm=True, gpus=0))["precision"] == cpu
    for gpus in (None, 1):  # auto before torch is asked, or with a GPU: it may well train in bf16
        assert "precision" not in without_effect(bf16, RunContext(gpus=gpus))
    assert "precision" not in without_effect(replace(bf16, device="cuda"), RunContext(gpus=0))  # refused instead
    assert [spec.name for spec in SETTINGS if spec.no_effect is not None] == ["precision", "sync_batchnorm"]


@pytest.mark.parametrize(
    "name", sorted(n for n, s in BLOCKS.items() if s.module and not s.module.library and not s.module.source)
)
def test_the_catalogue_marks_exactly_the_blocks_torch_makes_batch_norm(name):
    spec = BLOCKS[name]
    made = torch_class(spec.module.cls)
    assert spec.batch_statistics == issubclass(made, torch.nn.modules.batchnorm._BatchNorm)


def test_batch_norm_is_found_among_the_models_layers_and_inside_composites():
    assert not _network(load_project(SAMPLES / "digits_mlp.nbproj")).batch_norm
    assert _network(load_project(SAMPLES / "residual_cnn.nbproj")).batch_norm
    resnet = load_project(SAMPLES / "digits_resnet.nbproj")
    graph = resnet.graph
    top_level = [n for n in graph.nodes.values() if n.block == "BatchNorm2d"]
    assert top_level
    for node in top_level:  # the stem's batch norm out; the residual blocks keep theirs, inside
        (fed,) = graph.inputs_of(node.id).values()
        (feeds,) = graph.outputs_of(node.id)
        graph.remove_node(node.id)
        graph.connect(fed.src, fed.src_port, feeds.dst, feeds.dst_port)
    analysis = analyze(graph)
    assert not analysis.has_errors() and not any(graph.spec(n).batch_statistics for n in analysis.model_nodes)
    assert _network(resnet).batch_norm


def test_a_batch_norm_cut_off_from_the_data_is_no_batch_norm_of_the_network():
    project = load_project(SAMPLES / "digits_mlp.nbproj")
    loose = project.graph.add_node("BatchNorm1d").id
    assert loose not in analyze(project.graph).model_nodes
    assert not _network(project).batch_norm
    assert batch_statistics_in(project.graph, [loose])


@pytest.mark.slow
def test_netbuilder_train_says_a_setting_given_changes_nothing_and_trains(tmp_path, capsys):
    mlp = Path(shutil.copy(SAMPLES / "digits_mlp.nbproj", tmp_path / "digits_mlp.nbproj"))
    args = ["--epochs", "1", "--device", "cpu"]
    assert main(["train", str(mlp), "--sync-batchnorm", "on", *args]) == 0
    said = capsys.readouterr().err
    assert "netbuilder: warning: --sync-batchnorm on has no effect: the network has no batch norm\n" in said
    assert main(["train", str(mlp), "--sync-batchnorm", "off", *args]) == 0  # the default: nothing to say
    assert "no effect" not in capsys.readouterr().err
    assert main(["train", str(mlp), "--precision", "bf16", *args]) == 0
    assert "netbuilder: warning: --precision bf16 has no effect: it trains on the CPU, always in fp32\n" in (
        capsys.readouterr().err
    )
    cnn = Path(shutil.copy(SAMPLES / "residual_cnn.nbproj", tmp_path / "residual_cnn.nbproj"))
    assert main(["train", str(cnn), "--sync-batchnorm", "on", *args]) == 0
    assert (
        "--sync-batchnorm on has no effect: it trains in one process, whose batch norm sees the whole batch already"
        in capsys.readouterr().err
    )

"""Explaining a real (short) run's answers for its validation samples, as the Predict tab asks for them."""

from __future__ import annotations

from pathlib import Path

import numpy
import pytest

from netbuilder.project import load_project
from netbuilder.training.engine import Trainer, with_settings
from netbuilder.training.explain import ExplainError
from netbuilder.training.run_explainer import RunExplainer

SAMPLES = Path(__file__).parent.parent / "sample_projects"


def run_of(name: str, folder: Path) -> tuple:
    project = with_settings(load_project(SAMPLES / f"{name}.nbproj"), device="cpu", epochs=1, seed=3)
    trainer = Trainer(project)
    trainer.run(max_steps=6)
    return project, trainer.save_weights(folder / "model.pt")


def test_an_image_run_offers_its_convolutions_and_explains_each_sample(tmp_path):
    project, weights = run_of("digits_resnet", tmp_path)
    explainer = RunExplainer.load(project, weights)
    assert explainer.image and not explainer.sequence
    # a convolution, and the residual blocks that hold convolutions, in the model's order
    blocks = {n: node.block for n, node in project.graph.nodes.items()}
    assert [blocks[node] for node, _ in explainer.cam_layers] == ["Conv2d", "ResNetBasicBlock", "ResNetBasicBlockDown"]
    assert [node for node, _ in explainer.cam_layers] == [
        n for n in explainer.predictor.attributes if n in dict(explainer.cam_layers)
    ]
    assert [label for _, label in explainer.cam_layers] == [
        project.graph.nodes[n].label for n, _ in explainer.cam_layers
    ]
    assert explainer.methods == ("saliency", "gradcam", "ig")
    for method in explainer.methods:
        heat = explainer.explain(4, 7, method)
        assert heat.shape == (8, 8) and heat.min() >= 0 and heat.max() == pytest.approx(1.0)
    first = explainer.explain(4, 7, "gradcam", explainer.cam_layers[0][0])
    assert not numpy.allclose(first, explainer.explain(4, 7, "gradcam"))
    with pytest.raises(ExplainError, match="not a convolution"):
        explainer.explain(4, 7, "gradcam", "no such node")
    with pytest.raises(IndexError):
        explainer.explain(10_000, 7, "saliency")


def test_a_sequence_run_explains_each_time_step_and_offers_no_grad_cam(tmp_path):
    project, weights = run_of("lstm_classifier", tmp_path)
    explainer = RunExplainer.load(project, weights)
    assert explainer.sequence and explainer.cam_layers == ()
    assert explainer.methods == ("saliency", "ig")
    length = explainer.predictor.validation.take([0])[0].shape[1]
    assert explainer.explain(0, 1, "saliency").shape == (length,)
    with pytest.raises(ExplainError, match="Grad-CAM needs an image"):
        explainer.explain(0, 1, "gradcam")

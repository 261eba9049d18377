"""Predictions on validation samples after a real (short) run: probabilities a person can trust, the very
samples the run validated on, pictures that look like the data, and a clear word when the weights do not fit."""

from __future__ import annotations

import re
from pathlib import Path

import numpy
import pytest
import torch
from PIL import Image

from netbuilder.graph import Graph
from netbuilder.project import Project, load_project
from netbuilder.training import predict
from netbuilder.training.engine import Trainer, with_settings
from netbuilder.training.predict import STALE, PredictError, Predictor

SAMPLES = Path(__file__).parent.parent / "sample_projects"


def trained(project: Project, folder: Path, steps: int = 12) -> tuple[Trainer, Path]:
    """A few real training steps with the engine, then the weights saved as a run saves them."""
    trainer = Trainer(project)
    trainer.run(max_steps=steps)
    return trainer, trainer.save_weights(folder / "model.pt")


def sample(name: str, **settings) -> Project:
    return with_settings(load_project(SAMPLES / f"{name}.nbproj"), device="cpu", epochs=1, **settings)


def confusion(true: numpy.ndarray, predicted: numpy.ndarray, classes: int) -> list[list[int]]:
    counts = numpy.zeros((classes, classes), dtype=int)
    numpy.add.at(counts, (true, predicted), 1)
    return counts.tolist()


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    project = sample("digits_mlp", seed=3, val_fraction=0.25)
    trainer, weights = trained(project, tmp_path_factory.mktemp("digits"))
    return project, trainer, weights


def test_probabilities_sum_to_one_and_the_prediction_is_the_most_likely_class(digits_run):
    project, _, weights = digits_run
    predictor = Predictor.load(project, weights)
    result = predictor.predict(range(len(predictor)))
    assert result.kind == "classification"
    assert result.class_names == tuple(str(i) for i in range(10))
    assert result.probabilities.shape == (len(predictor), 10)
    assert numpy.allclose(result.probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert (result.probabilities >= 0).all()
    assert numpy.array_equal(result.predicted, result.probabilities.argmax(axis=1))
    assert numpy.array_equal(result.correct, result.predicted == result.true)


def test_the_samples_are_the_runs_own_validation_part(digits_run):
    """Same split and seed as the run: the true labels and the pictures are those of prepare_data's val part."""
    project, trainer, weights = digits_run
    predictor = Predictor.load(project, weights)
    assert len(predictor) == len(trainer.val_x) == int(1797 * 0.25)
    chosen = [0, 5, len(predictor) - 1]
    result = predictor.predict(chosen)
    assert result.indices.tolist() == chosen
    assert result.true.tolist() == trainer.val_y[chosen].tolist()
    # digits lie in [0, 1]: shown as they are, one grey channel
    assert result.images.shape == (3, 8, 8, 1) and result.images.dtype == numpy.uint8
    expected = (trainer.val_x[chosen] * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    assert numpy.array_equal(result.images, expected)


def test_predicted_classes_agree_with_the_runs_confusion_matrix(digits_run):
    project, trainer, weights = digits_run
    predictor = Predictor.load(project, weights)
    result = predictor.predict(range(len(predictor)))
    assert confusion(result.true, result.predicted, 10) == trainer.evaluate()[2]  # train.py's evaluate() counts it


def binary_xor() -> Project:
    """XOR -> Linear(16) -> ReLU -> Linear(1) -> BCEWithLogits: one logit for two classes."""
    graph = Graph()
    data = graph.add_node("Dataset", params={"dataset": "xor", "samples": 400}).id
    previous = (data, "x")
    for block, params in (("Linear", {"out_features": 16}), ("ReLU", {}), ("Linear", {"out_features": 1})):
        node = graph.add_node(block, params=params).id
        graph.connect(*previous, node, "x")
        previous = (node, "y")
    loss = graph.add_node("BCEWithLogits").id
    graph.connect(*previous, loss, "input")
    graph.connect(data, "target", loss, "target")
    optimizer = graph.add_node("Adam").id
    graph.connect(loss, "loss", optimizer, "loss")
    return with_settings(Project("xor", graph), device="cpu", epochs=1)


def test_one_logit_gives_two_class_probabilities_by_the_sigmoid(tmp_path):
    project = binary_xor()
    trainer, weights = trained(project, tmp_path, steps=5)
    predictor = Predictor.load(project, weights)
    result = predictor.predict(range(len(predictor)))
    with torch.no_grad():
        logits = trainer.model.eval()(trainer.val_x).reshape(-1)
    assert result.class_names == ("0", "1")
    assert numpy.allclose(result.probabilities[:, 1], torch.sigmoid(logits).numpy(), atol=1e-6)
    assert numpy.allclose(result.probabilities.sum(axis=1), 1.0)
    assert numpy.array_equal(result.predicted, (logits > 0).long().numpy())
    assert confusion(result.true, result.predicted, 2) == trainer.evaluate()[2]  # train.py's evaluate() counts it
    assert result.values.shape == (len(predictor), 2)  # a table row of the two coordinates


def test_colour_images_span_the_visible_range(tmp_path):
    """Stripes have noise beyond [0, 1]: mapped back to 0..255 per channel, as RGB, without washing out."""
    project = sample("residual_cnn")
    _, weights = trained(project, tmp_path, steps=2)
    predictor = Predictor.load(project, weights)
    images = predictor.predict(range(40)).images
    assert images.shape == (40, 32, 32, 3) and images.dtype == numpy.uint8
    assert images.min() < 20 and images.max() > 235
    clipped = numpy.isin(images, (0, 255)).mean()
    assert clipped < 0.02


def test_normalised_images_look_as_the_data_does(tmp_path):
    """Per-channel normalisation is undone for display: the pictures are the same with it or without it."""
    project = sample("residual_cnn")
    dataset = next(node for node in project.graph.nodes.values() if node.block == "Dataset")
    _, weights = trained(project, tmp_path, steps=1)
    shown = {}
    for normalize in (True, False):
        project.graph.set_param(dataset.id, "normalize", normalize)
        predictor = Predictor.load(project, weights)
        assert (abs(predictor.validation.tensors[0].std().item() - 1.0) < 0.05) == normalize
        shown[normalize] = predictor.predict(range(20)).images.astype(int)
    assert numpy.abs(shown[True] - shown[False]).max() <= 1


def image_folder(root: Path) -> Path:
    """Three classes of small PNG pictures, each class mostly one colour (red, green, blue)."""
    rng = numpy.random.default_rng(0)
    for c, name in enumerate(("red", "green", "blue")):
        (root / name).mkdir(parents=True)
        for i in range(8):
            pixels = rng.integers(0, 60, (10 + i, 12, 3)) + numpy.eye(3, dtype=int)[c] * 190
            Image.fromarray(pixels.astype(numpy.uint8)).save(root / name / f"{i}.png")
    return root


def folder_project(folder: Path) -> Project:
    graph = Graph()
    data = graph.add_node("Dataset", params={"dataset": "image_folder", "path": str(folder), "image_size": 8}).id
    previous = (data, "x")
    for block, params in (("Flatten", {}), ("Linear", {"out_features": 3})):
        node = graph.add_node(block, params=params).id
        graph.connect(*previous, node, "x")
        previous = (node, "y")
    loss = graph.add_node("CrossEntropy").id
    graph.connect(*previous, loss, "input")
    graph.connect(data, "target", loss, "target")
    optimizer = graph.add_node("Adam").id
    graph.connect(loss, "loss", optimizer, "loss")
    return with_settings(Project("folder", graph), device="cpu", epochs=1, batch_size=4, val_fraction=0.5)


def test_a_streamed_image_folder_is_read_from_disk_a_batch_at_a_time(tmp_path, monkeypatch):
    project = folder_project(image_folder(tmp_path / "images"))
    _, weights = trained(project, tmp_path, steps=2)
    predictor = Predictor.load(project, weights)
    result = predictor.predict(range(len(predictor)))
    assert len(predictor) == result.part_size == 12
    assert result.images.shape == (12, 8, 8, 3) and result.class_names == ("blue", "green", "red")
    colour = result.images.reshape(12, -1, 3).mean(axis=1).argmax(axis=1)  # the brightest channel
    assert [("red", "green", "blue")[c] for c in colour] == [result.class_names[t] for t in result.true]
    assert numpy.allclose(result.probabilities.sum(axis=1), 1.0, atol=1e-5)

    monkeypatch.setattr(predict, "MAX_STREAMED_SAMPLES", 5)  # a large folder: only its first samples are read
    first = Predictor.load(project, weights)
    assert len(first) == 5 and first.predict(range(5)).part_size == 12


def test_sequences_are_values_over_time(tmp_path):
    project = sample("lstm_classifier")
    _, weights = trained(project, tmp_path, steps=3)
    predictor = Predictor.load(project, weights)
    result = predictor.predict([0, 1])
    assert result.images is None and result.values.shape == (2, 32, 2)
    assert result.probabilities.shape == (2, 3)


def test_an_autoencoder_predicts_values_and_gives_back_a_picture(tmp_path):
    project = sample("digits_autoencoder")
    trainer, weights = trained(project, tmp_path, steps=3)
    predictor = Predictor.load(project, weights)
    result = predictor.predict([0, 1])
    assert result.kind == "regression" and result.probabilities is None and result.correct is None
    assert result.predicted.shape == result.true.shape == (2, 64)
    assert numpy.allclose(result.true, trainer.val_x[:2].reshape(2, -1).numpy())
    with torch.no_grad():
        expected = trainer.model.eval()(trainer.val_x[:2]).reshape(2, -1)
    assert numpy.allclose(result.predicted, expected.numpy(), atol=1e-6)
    assert result.output_images.shape == result.images.shape == (2, 8, 8, 1)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU")
def test_predictions_on_the_gpu_are_those_of_the_cpu(digits_run):
    project, _, weights = digits_run
    on_cpu = Predictor.load(project, weights)
    on_gpu = Predictor.load(project, weights, device=predict.device_for("auto"))
    assert on_gpu.device.type == "cuda"
    cpu, gpu = on_cpu.predict(range(len(on_cpu))), on_gpu.predict(range(len(on_gpu)))
    assert numpy.allclose(cpu.probabilities, gpu.probabilities, atol=1e-4)
    assert numpy.array_equal(cpu.true, gpu.true) and numpy.array_equal(cpu.images, gpu.images)


def test_indices_outside_the_validation_part_are_refused(digits_run):
    project, _, weights = digits_run
    predictor = Predictor.load(project, weights)
    with pytest.raises(IndexError, match="numbered 0 to"):
        predictor.predict([len(predictor)])


# ---- weights that cannot be used ---------------------------------------------------------------------------


def test_weights_of_another_network_say_the_network_changed(digits_run, tmp_path):
    project, _, _ = digits_run
    _, cnn_weights = trained(sample("digits_cnn"), tmp_path, steps=1)
    with pytest.raises(PredictError, match=STALE):
        Predictor.load(project, cnn_weights)


def test_a_layer_resized_since_the_run_is_named(digits_run):
    _, _, weights = digits_run
    changed = sample("digits_mlp", seed=3, val_fraction=0.25)
    changed.graph.set_param(changed.graph.by_label("fc1").id, "out_features", 48)
    with pytest.raises(PredictError, match=re.escape(f"{STALE} (fc1.weight was 64×64 in the run and is 48×64 now)")):
        Predictor.load(changed, weights)


def test_a_file_that_is_not_weights_is_named(digits_run, tmp_path):
    project, _, _ = digits_run
    junk = tmp_path / "model.pt"
    junk.write_bytes(b"this is not a weights file")
    with pytest.raises(PredictError, match=re.escape("model.pt is not a weights file netbuilder can read")):
        Predictor.load(project, junk)
    torch.save({"note": "a dict without tensors"}, junk)
    with pytest.raises(PredictError, match=re.escape("model.pt holds no network weights")):
        Predictor.load(project, junk)


def test_weights_that_are_gone_say_train_again(digits_run, tmp_path):
    project, _, _ = digits_run
    with pytest.raises(PredictError, match=r"the weights of this run are gone \(model\.pt is not in .*\); train again"):
        Predictor.load(project, tmp_path / "missing" / "model.pt")


def test_no_validation_part_says_what_to_change(digits_run):
    project, _, weights = digits_run
    with pytest.raises(PredictError, match="no validation samples"):
        Predictor.load(with_settings(project, val_fraction=0.0), weights)


def test_a_graph_that_cannot_train_says_so(digits_run):
    _, _, weights = digits_run
    broken = load_project(SAMPLES / "digits_mlp.nbproj")
    broken.graph.set_param(broken.graph.by_label("fc2").id, "out_features", 3)
    with pytest.raises(PredictError, match="fix the problems first"):
        Predictor.load(broken, weights)

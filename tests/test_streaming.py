"""Image folders stream: train.py reads each image when a batch needs it, through a DataLoader with workers.
The app's run equals the exported script's whatever the number of workers, and stop, resume and checkpoints
keep exactly the same weights. The tests write a small image folder of PNG and JPEG files themselves."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import numpy
import pytest
import torch
from PIL import Image

from netbuilder.analysis import analyze
from netbuilder.codegen.package import generate_package, write_package
from netbuilder.data.loading import DataLoadError
from netbuilder.data.preview import make_preview
from netbuilder.graph import Graph
from netbuilder.project import Project
from netbuilder.training.control import Control
from netbuilder.training.engine import Progress, Trainer, with_settings
from tests.networks import small_cnn_project
from tests.test_augment import SIZE, shifts_of

CLASSES = ("cat", "dog", "eel")


def write_folder(root: Path, per_class: int = 16) -> Path:
    """Noisy pictures of different sizes, a colour per class, as PNG and JPEG files."""
    rng = numpy.random.default_rng(0)
    for c, name in enumerate(CLASSES):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 120, (20 + i, 24, 3)) + numpy.eye(3, dtype=int)[c] * 120
            suffix = ".jpg" if i % 4 == 0 else ".png"
            Image.fromarray(pixels.astype(numpy.uint8)).save(root / name / f"{i}{suffix}")
    (root / "notes.txt").write_text("not a class: no images in it")
    return root


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return write_folder(tmp_path_factory.mktemp("images"))


def folder_project(folder: Path, augment: str = "crop+flip", **settings) -> Project:
    """A small CNN with dropout (torch's global generator in play) on the image folder."""
    dataset = {"dataset": "image_folder", "path": str(folder), "image_size": SIZE, "augment": augment}
    project = small_cnn_project("folder", dataset, channels=4, classes=len(CLASSES), dropout=True)
    return with_settings(project, **{"device": "cpu", "epochs": 2, "batch_size": 8, **settings})


def weights(t: Trainer) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in t.model.state_dict().items()}


def same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_the_app_trains_exactly_what_train_py_trains_whatever_the_workers(folder, tmp_path, capsys):
    t = Trainer(folder_project(folder), workers=2)
    assert t.streamed and t.train_size == 39 and t.val_size == 9
    assert t.run().status == "completed"
    exported = t.program.script.train(2, 8, 0.2, 0, "cpu", str(tmp_path), 0)
    assert same(weights(t), dict(exported.state_dict()))
    printed = [line.split("  (")[0] for line in capsys.readouterr().out.splitlines() if line.startswith("epoch")]
    engine = [
        f"epoch {h['epoch']}/2  train loss {h['train_loss']:.4f}  val loss {h['val_loss']:.4f}  "
        f"val accuracy {h['val_accuracy']:.1%}"
        for h in t.history
    ]
    assert printed == engine, "the same losses, epoch by epoch"


def test_each_training_image_gets_its_own_crop_and_flip_and_validation_none(folder):
    t = Trainer(folder_project(folder), workers=0)
    script, train_part, val_part = t.program.script, t.train_part, t.val_part
    plain = script.Part(train_part.dataset, train_part.indices, val_part.transform)  # normalised only
    crops = set()
    for position in range(len(train_part)):
        (crop,) = shifts_of(plain[position][0], train_part[position][0], padding=SIZE // 8)
        crops.add(crop)
    assert len(crops) > 10 and {flipped for *_, flipped in crops} == {False, True}
    before = train_part[0][0]
    train_part.epoch_seed += 1  # the next epoch
    assert not torch.equal(before, train_part[0][0])
    assert torch.equal(val_part[0][0], val_part[0][0]), "validation images never change"
    assert shifts_of(val_part[0][0], val_part[0][0], padding=SIZE // 8) >= {(SIZE // 8, SIZE // 8, False)}


def test_training_images_are_normalised_with_the_training_part_only(folder):
    t = Trainer(folder_project(folder, augment="none"), workers=0)
    images = torch.stack([t.train_part[i][0] for i in range(t.train_size)])
    assert torch.allclose(images.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-4)
    assert torch.allclose(images.std(dim=(0, 2, 3)), torch.ones(3), atol=1e-2)


@pytest.fixture(scope="module")
def uninterrupted(folder):
    t = Trainer(folder_project(folder, epochs=3), workers=0)
    t.run()
    return weights(t)


def test_stop_then_go_on_ends_with_the_same_weights(folder, uninterrupted):
    t = Trainer(folder_project(folder, epochs=3), workers=2)
    assert t.run(max_steps=7).status == "stopped" and t.epoch == 1 and t.position == 16
    assert t.run().status == "completed"
    assert same(weights(t), uninterrupted)


def test_resume_from_a_checkpoint_re_reads_the_rest_of_the_epoch(folder, uninterrupted, tmp_path):
    Trainer(folder_project(folder, epochs=3), workers=2).run(max_steps=6, checkpoint_dir=tmp_path)
    fresh = Trainer(folder_project(folder, epochs=3), workers=0)
    fresh.load_checkpoint(tmp_path / "last.pt")
    assert fresh.epoch == 1 and fresh.position == 8
    assert fresh.run().status == "completed"
    assert same(weights(fresh), uninterrupted)


def test_stop_from_another_thread_takes_effect_within_one_step(folder):
    t = Trainer(folder_project(folder, epochs=50), workers=2)
    control = Control()
    seen = []

    def on_event(event):
        if isinstance(event, Progress) and not seen:
            seen.append(t.global_step)
            control.stop()

    outcome = []
    worker = threading.Thread(target=lambda: outcome.append(t.run(on_event, control)))
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive() and outcome[0].status == "stopped"
    assert t.global_step <= seen[0] + 1


def test_the_preview_of_an_image_folder_counts_its_files_and_shows_each_class_first(folder):
    preview = make_preview({"dataset": "image_folder", "path": str(folder), "image_size": 12})
    assert preview.samples == 48 and preview.input_shape == (3, 12, 12)
    assert preview.class_names == CLASSES and preview.counts.tolist() == [16, 16, 16]
    assert preview.images.shape == (16, 12, 12, 3) and sorted(preview.image_labels[:3]) == [0, 1, 2]


def test_a_damaged_image_is_named_in_the_preview(tmp_path):
    root = write_folder(tmp_path / "images", per_class=2)
    (root / "dog" / "0.jpg").write_bytes(b"not a picture")
    with pytest.raises(DataLoadError, match=r"^dog/0.jpg is not an image that can be read: remove or replace it$"):
        make_preview({"dataset": "image_folder", "path": str(root), "image_size": 12})


def test_predictions_show_the_validation_images_of_an_image_folder(folder, tmp_path):
    from netbuilder.training.predict import Predictor

    project = folder_project(folder, epochs=1)
    t = Trainer(project, workers=0)
    t.run()
    predictor = Predictor.load(project, t.save_weights(tmp_path / "model.pt"))
    predictions = predictor.predict(range(len(predictor)))
    assert len(predictor) == t.val_size == 9
    assert predictions.images.shape == (9, SIZE, SIZE, 3) and predictions.probabilities.shape == (9, 3)
    assert predictions.true.tolist() == [t.val_part[i][1] for i in range(9)]


def test_a_generated_set_too_big_for_memory_is_refused_on_the_node():
    g = Graph()
    node = g.add_node("Dataset", params={"dataset": "stripes", "samples": 1_000_000, "image_size": 64}).id
    (problem,) = analyze(g).results[node].diagnostics
    assert problem.param == "samples"
    assert "49.2 GB of samples would have to fit in memory" in problem.message
    assert "lower samples or image_size" in problem.message


@pytest.mark.slow
def test_the_exported_script_streams_with_worker_processes(folder, tmp_path):
    project = folder_project(folder)
    package = generate_package(
        project.graph,
        analyze(project.graph),
        name=project.name,
        source="",
        epochs=1,
        batch_size=8,
        val_fraction=0.2,
        seed=0,
    )
    write_package(package, tmp_path)
    assert {"pillow>=9", "numpy>=1.24", "torchvision>=0.16"} <= set(package.files["requirements.txt"].split())
    result = subprocess.run(
        [sys.executable, "train.py", "--workers", "2", "--device", "cpu", "--out", "weights"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "epoch 1/1" in result.stdout and (tmp_path / "weights" / "model.pt").exists()


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU")
def test_streamed_batches_reach_the_gpu(folder):
    t = Trainer(folder_project(folder, device="cuda"), workers=2)
    outcome = t.run()
    assert outcome.status == "completed" and outcome.confusion is not None
    assert next(t.model.parameters()).is_cuda

"""Image augmentation on the device: each training image gets its own random flip or crop, validation images
never change, and the app's run still equals the exported train.py's and survives stop, resume and
checkpoints with exactly the same weights."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from netbuilder.project import Project
from netbuilder.training.engine import Trainer, with_settings
from netbuilder.training.program import load_program
from tests.networks import small_cnn_project

SIZE = 16  # pixels: a crop pads by SIZE // 8 = 2


def stripes_project(augment: str, *, dropout: bool = True) -> Project:
    """A small CNN on 16x16 stripes, with dropout so that torch's global generator is in play too."""
    dataset = {"dataset": "stripes", "samples": 160, "image_size": SIZE, "classes": 4, "augment": augment}
    project = small_cnn_project("augmented stripes", dataset, channels=6, classes=4, dropout=dropout)
    return with_settings(project, device="cpu", epochs=2, batch_size=32)


def distinct_images(n: int = 64) -> torch.Tensor:
    """Images whose every pixel value is different, so where a pixel came from can be told from its value."""
    return torch.arange(n * 3 * SIZE * SIZE, dtype=torch.float32).view(n, 3, SIZE, SIZE) + 1.0


def augment_of(mode: str):
    return load_program(stripes_project(mode)).script.augment


def shifts_of(original: torch.Tensor, augmented: torch.Tensor, padding: int) -> set[tuple[int, int, bool]]:
    """The (top, left, flipped) crops of `original` padded with zeros that give `augmented`."""
    padded = nn.functional.pad(original, (padding,) * 4)
    found = set()
    for top in range(2 * padding + 1):
        for left in range(2 * padding + 1):
            crop = padded[:, top : top + SIZE, left : left + SIZE]
            for flipped in (False, True):
                if torch.equal(crop.flip(2) if flipped else crop, augmented):
                    found.add((top, left, flipped))
    return found


def test_flip_mirrors_a_random_half_of_the_images_each_on_its_own():
    x = distinct_images()
    out = augment_of("flip")(x, torch.Generator().manual_seed(0))
    flipped = [torch.equal(o, i.flip(2)) for o, i in zip(out, x, strict=True)]
    kept = [torch.equal(o, i) for o, i in zip(out, x, strict=True)]
    assert all(f != k for f, k in zip(flipped, kept, strict=True)), "each image is either mirrored or kept"
    assert 16 < sum(flipped) < 48


@pytest.mark.parametrize("mode", ["crop", "crop+flip"])
def test_crop_shifts_each_image_by_its_own_offset_within_the_padding(mode):
    x = distinct_images()
    out = augment_of(mode)(x, torch.Generator().manual_seed(1))
    crops = []
    for original, augmented in zip(x, out, strict=True):
        (crop,) = shifts_of(original, augmented, padding=SIZE // 8)  # exactly one crop explains each image
        crops.append(crop)
    assert len({(top, left) for top, left, _ in crops}) > 10, "the offsets differ from image to image"
    assert {flipped for *_, flipped in crops} == ({False, True} if mode == "crop+flip" else {False})


def test_the_same_generator_state_gives_the_same_augmentation():
    augment = augment_of("crop+flip")
    x = distinct_images()
    first = augment(x, torch.Generator().manual_seed(5))
    assert torch.equal(first, augment(x, torch.Generator().manual_seed(5)))
    assert not torch.equal(first, augment(x, torch.Generator().manual_seed(6)))


def weights(t: Trainer) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in t.model.state_dict().items()}


def same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_validation_is_never_augmented():
    """Trained with augmentation or not, the same weights score the same on the validation part."""
    plain, augmented = Trainer(stripes_project("none")), Trainer(stripes_project("crop+flip"))
    augmented.run(max_steps=3)
    assert torch.equal(plain.val_x, augmented.val_x)
    plain.model.load_state_dict(augmented.model.state_dict())
    assert plain.evaluate() == augmented.evaluate()


def test_augmentation_changes_what_the_network_learns_from():
    def two_steps(augment: str) -> dict[str, torch.Tensor]:  # one after the other: dropout draws from torch's seed
        t = Trainer(stripes_project(augment))
        t.run(max_steps=2)
        return weights(t)

    assert same(two_steps("none"), two_steps("none"))
    assert not same(two_steps("none"), two_steps("crop+flip"))


def test_the_engine_trains_exactly_what_train_py_trains_with_augmentation(tmp_path):
    t = Trainer(stripes_project("crop+flip"))
    assert t.run().status == "completed"
    exported = t.program.script.train(2, 32, 0.2, 0, "cpu", str(tmp_path))
    assert same(weights(t), dict(exported.state_dict()))


@pytest.fixture(scope="module")
def uninterrupted():
    t = Trainer(stripes_project("crop+flip"))
    t.run()
    return weights(t)


def test_stop_then_go_on_with_augmentation_ends_with_the_same_weights(uninterrupted):
    t = Trainer(stripes_project("crop+flip"))
    assert t.run(max_steps=6).status == "stopped" and t.epoch == 1 and t.position > 0
    assert t.run().status == "completed"
    assert same(weights(t), uninterrupted)


def test_resume_from_a_checkpoint_with_augmentation_ends_with_the_same_weights(uninterrupted, tmp_path):
    Trainer(stripes_project("crop+flip")).run(max_steps=5, checkpoint_dir=tmp_path)
    fresh = Trainer(stripes_project("crop+flip"))
    fresh.load_checkpoint(tmp_path / "last.pt")
    assert fresh.run().status == "completed"
    assert same(weights(fresh), uninterrupted)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU")
def test_augmentation_on_cuda_draws_on_the_gpu_and_resumes_from_a_checkpoint(tmp_path):
    project = with_settings(stripes_project("crop+flip", dropout=False), device="cuda")
    first = Trainer(project)
    assert first.augmentation.device.type == "cuda"
    first.run(max_steps=5, checkpoint_dir=tmp_path)
    fresh = Trainer(project)
    fresh.load_checkpoint(tmp_path / "last.pt")  # read onto the GPU: the generator states come back all the same
    assert torch.equal(fresh.augmentation.get_state(), first.augmentation.get_state())
    assert fresh.run().status == "completed"

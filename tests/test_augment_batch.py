"""The Dataset's batch augmentations (rotation, random resized crop, colour jitter, random erasing, mixup and
cutmix): train.py's own functions held against torchvision where it has the same transform, their randomness
checked by counting, and the app's run equal to the exported script's through stop, resume and checkpoints,
in memory and streamed from an image folder."""

from __future__ import annotations

import functools
import math

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torchvision.transforms.v2 import functional as tvf

from netbuilder.analysis import analyze
from netbuilder.codegen.augment_code import Augmentation
from netbuilder.project import Project
from netbuilder.training.engine import Trainer, with_settings
from netbuilder.training.program import load_program
from tests.networks import small_cnn_project
from tests.test_augment import SIZE, distinct_images, same, shifts_of, weights
from tests.test_codegen import exported_passes_ruff
from tests.test_streaming import CLASSES, write_folder

ALL = {"rotation": 15.0, "crop_scale": 0.5, "jitter": 0.3, "erasing": 0.5, "mixup": 0.4, "cutmix": 1.0}


def stripes_project(augment: str = "crop+flip", *, dropout: bool = True, **options) -> Project:
    dataset = {"dataset": "stripes", "samples": 160, "image_size": SIZE, "classes": 4, "augment": augment, **options}
    project = small_cnn_project("augmented stripes", dataset, channels=6, classes=4, dropout=dropout)
    return with_settings(project, device="cpu", epochs=2, batch_size=32)


@pytest.fixture(scope="module")
def script():
    """train.py of a project with every augmentation on: all its functions."""
    return load_program(stripes_project(**ALL)).script


def smooth_images(n: int = 8, channels: int = 3) -> torch.Tensor:
    """Images in [0, 1] that change gently from pixel to pixel (interpolation then differs little)."""
    rows = torch.linspace(0, 1, SIZE).view(1, 1, SIZE, 1)
    columns = torch.linspace(0, 1, SIZE).view(1, 1, 1, SIZE)
    phase = torch.arange(n * channels, dtype=torch.float32).view(n, channels, 1, 1)
    return 0.5 + 0.4 * torch.sin(3 * rows + 2 * columns * (1 + phase / 7) + phase)


def no_change(n: int):
    return torch.zeros(n), torch.ones(n, 2), torch.zeros(n, 2), torch.zeros(n, dtype=torch.bool)


def test_a_rotation_by_a_fixed_angle_is_torchvisions_rotate(script):
    x = smooth_images()
    angle, scale, shift, mirror = no_change(len(x))
    for degrees in (10.0, -25.0, 90.0):
        ours = script.transform_images(x, angle + math.radians(degrees), scale, shift, mirror)
        theirs = tvf.rotate(x, degrees, interpolation=tvf.InterpolationMode.BILINEAR)
        inner = slice(4, SIZE - 4)  # the corners that turn in from outside are filled differently
        assert torch.allclose(ours[..., inner, inner], theirs[..., inner, inner], atol=1e-4), degrees


def test_a_rotation_of_an_image_wider_than_high_is_torchvisions_rotate(script):
    """The turn is about the centre in pixels, however the sides compare (grid_sample's -1..1 are not square);
    no shift and no mirror given are the centre and none mirrored."""
    rows, columns = torch.meshgrid(torch.linspace(0, 1, 12), torch.linspace(0, 1, 20), indexing="ij")
    x = torch.stack([0.5 + 0.4 * torch.sin(3 * rows + 2 * columns + phase) for phase in (0.0, 1.0, 2.0)])
    x = x.unsqueeze(0).expand(4, 3, 12, 20)
    angle, scale, shift, mirror = no_change(len(x))
    for degrees in (10.0, -25.0):
        ours = script.transform_images(x, angle + math.radians(degrees), scale, shift, mirror)
        theirs = tvf.rotate(x, degrees, interpolation=tvf.InterpolationMode.BILINEAR)
        assert torch.allclose(ours[..., 4:-4, 4:-4], theirs[..., 4:-4, 4:-4], atol=1e-4), degrees
    mirrored = script.transform_images(x, angle, scale, shift, ~mirror)
    assert torch.allclose(mirrored, x.flip(3), atol=1e-5)
    given = script.transform_images(x, angle + 0.3, scale, shift, mirror)
    assert torch.equal(script.transform_images(x, angle + 0.3, scale), given)


def test_erasing_and_cutmix_boxes_stay_rectangles_inside_an_image_wider_than_high(script):
    x = torch.ones(500, 3, 10, 24)
    blank = script.random_erasing(x, torch.Generator().manual_seed(0))[:, 0] == 0
    generator = torch.Generator().manual_seed(1)
    boxes = torch.stack([script.cut_box(10, 24, torch.tensor(0.25), generator, "cpu") for _ in range(200)])
    for images in (blank[blank.any(dim=(1, 2))], boxes):
        rows, columns = images.any(dim=2), images.any(dim=1)
        assert torch.equal(images.sum(dim=(1, 2)), rows.sum(dim=1) * columns.sum(dim=1)), "rectangles"
        assert rows[:, -1].any() and columns[:, -1].any(), "reaching the bottom and the right edge"
    share = boxes.float().mean(dim=(1, 2))  # half the sides: a quarter of the area, less where cut off
    assert share.max() <= (0.5 + 1 / 10) * (0.5 + 1 / 24) and share.max() >= (0.5 - 1 / 10) * (0.5 - 1 / 24)


def test_shifts_and_flips_land_on_whole_pixels_as_the_crop_of_a_padded_image():
    x = distinct_images(16)
    script = load_program(stripes_project("crop+flip", jitter=0.1)).script  # the one-resampling geometry
    out = script.random_geometry(x, torch.Generator().manual_seed(3))
    crops = []
    for original, augmented in zip(x, out, strict=True):
        (crop,) = shifts_of(original, augmented.round(), padding=SIZE // 8)
        crops.append(crop)
    assert len({(top, left) for top, left, _ in crops}) > 5 and {f for *_, f in crops} == {False, True}


def test_a_resized_crop_is_torchvisions_resized_crop(script):
    x = smooth_images()
    angle, _, _, mirror = no_change(len(x))
    scale = torch.full((len(x), 2), 0.5)  # the middle quarter: rows and columns 4 to 12 of 16
    ours = script.transform_images(x, angle, scale, torch.zeros(len(x), 2), mirror)
    theirs = tvf.resized_crop(x, 4, 4, 8, 8, [SIZE, SIZE], antialias=False)
    inner = slice(1, SIZE - 1)  # at the edge torchvision repeats the part's last pixel, we read the next one
    assert torch.allclose(ours[..., inner, inner], theirs[..., inner, inner], atol=1e-5)


def test_rotation_angles_stay_within_the_bound_and_take_both_ways():
    """A bright dot to the right of the centre: after random_geometry, its angle around the centre is the turn."""
    x = torch.zeros(400, 3, 33, 33)
    x[:, :, 16, 28] = 1.0
    script = load_program(stripes_project("none", rotation=20.0, dropout=False)).script
    out = script.random_geometry(x, torch.Generator().manual_seed(0)).sum(dim=1)
    rows, columns = torch.meshgrid(torch.arange(33.0), torch.arange(33.0), indexing="ij")
    weight = out.sum(dim=(1, 2))
    dy = (out * rows).sum(dim=(1, 2)) / weight - 16
    dx = (out * columns).sum(dim=(1, 2)) / weight - 16
    turned = torch.rad2deg(torch.atan2(-dy, dx))  # rows grow downwards: anticlockwise is up
    assert turned.abs().max() <= 20.5
    assert (turned < -10).sum() > 80 and (turned > 10).sum() > 80, "spread over the range, both ways"


def test_resized_crops_keep_at_least_the_share_asked_within_the_usual_aspect_ratios():
    """Channel 0 holds each pixel's column, channel 1 its row: at the output's centre their slopes are the part's
    width and height as shares of the image's."""
    size = 32
    rows, columns = torch.meshgrid(torch.arange(size * 1.0), torch.arange(size * 1.0), indexing="ij")
    x = torch.stack([columns, rows, rows]).expand(1000, 3, size, size)
    script = load_program(stripes_project("none", crop_scale=0.35, dropout=False)).script
    out = script.random_geometry(x, torch.Generator().manual_seed(0))
    middle = size // 2
    width = out[:, 0, middle, middle + 1] - out[:, 0, middle, middle]
    height = out[:, 1, middle + 1, middle] - out[:, 1, middle, middle]
    area, ratio = width * height, width / height
    assert area.min() >= 0.35 - 1e-4 and width.max() <= 1 + 1e-4 and height.max() <= 1 + 1e-4
    assert ratio.min() >= 3 / 4 - 1e-4 and ratio.max() <= 4 / 3 + 1e-4
    assert area.min() < 0.4 and area.max() > 0.95, "spread over the range"


def test_the_one_resampling_flips_about_half_of_the_images():
    x = torch.rand(1000, 3, 8, 8)
    script = load_program(stripes_project("flip", jitter=0.1, dropout=False)).script
    out = script.random_geometry(x, torch.Generator().manual_seed(0))
    mirrored = (out - x.flip(3)).abs().amax(dim=(1, 2, 3)) < 1e-5
    kept = (out - x).abs().amax(dim=(1, 2, 3)) < 1e-5
    assert (mirrored ^ kept).all(), "each image mirrored or kept, nothing else"
    assert 450 < int(mirrored.sum()) < 550


@pytest.mark.parametrize("channels", [3, 1])
def test_colour_jitter_is_torchvisions_brightness_contrast_and_saturation(script, channels):
    x = smooth_images(6, channels)
    ones, factor = torch.ones(len(x)), torch.tensor([0.6, 0.8, 0.95, 1.05, 1.2, 1.4])
    saturation = ones if channels == 3 else None
    pairs = [
        (
            script.adjust_colours(x, factor, ones, saturation),
            torch.stack([tvf.adjust_brightness(i, float(f)) for i, f in zip(x, factor, strict=True)]),
        ),
        (
            script.adjust_colours(x, ones, factor, saturation),
            torch.stack([tvf.adjust_contrast(i, float(f)) for i, f in zip(x, factor, strict=True)]),
        ),
    ]
    if channels == 3:
        ours = script.adjust_colours(x, ones, ones, factor)
        pairs.append((ours, torch.stack([tvf.adjust_saturation(i, float(f)) for i, f in zip(x, factor, strict=True)])))
    for ours, theirs in pairs:  # torchvision clips to [0, 1]; normalised values have no such range
        assert torch.allclose(ours.clamp(0, 1), theirs, atol=1e-5)


def test_random_colours_scale_brightness_from_black_within_the_strength(script):
    """Normalised values: black is each channel's darkest value in the batch (here -2), grey images stay grey
    (contrast and saturation change nothing), so a grey image's distance from black shows its brightness factor."""
    x = torch.full((500, 3, 4, 4), 0.5)
    x[0] = -2.0  # a black image
    out = script.random_colours(x, torch.Generator().manual_seed(0))
    brightness = (out[1:, 0, 0, 0] + 2) / 2.5
    assert brightness.min() >= 0.7 - 1e-5 and brightness.max() <= 1.3 + 1e-5
    assert brightness.min() < 0.75 and brightness.max() > 1.25
    assert torch.allclose(out[0], x[0], atol=1e-3), "black stays black (torchvision's grey weighs 0.9999 in all)"


def test_random_erasing_blanks_one_rectangle_inside_the_image_in_the_share_asked(script):
    x = torch.ones(2000, 3, SIZE, SIZE)
    out = script.random_erasing(x, torch.Generator().manual_seed(0))
    blank = out[:, 0] == 0
    assert torch.equal(blank.unsqueeze(1).expand_as(out), out == 0), "every channel of an erased pixel"
    erased = blank.any(dim=(1, 2))
    assert 0.45 < erased.float().mean() < 0.55
    for image in blank[erased][:300]:
        rows, columns = image.any(dim=1).nonzero(), image.any(dim=0).nonzero()
        height, width = len(rows), len(columns)
        assert int(image.sum()) == height * width, "a rectangle"
        assert 0.015 <= height * width / SIZE**2 <= 0.4


def test_sample_beta_draws_from_beta_alpha_alpha(script):
    for alpha in (0.4, 1.0, 3.0):
        generator = torch.Generator().manual_seed(1)
        draws = torch.stack([script.sample_beta(alpha, generator, "cpu") for _ in range(3000)])
        # within [0, 1], 1 itself included: float32 holds nothing within 6e-8 below 1, where a Beta(0.4, 0.4) draw
        # lands about once in 1,300 (any exact sampler's draw then rounds to 1)
        assert ((draws >= 0) & (draws <= 1)).all()
        assert abs(float(draws.mean()) - 0.5) < 0.02
        variance = 1 / (4 * (2 * alpha + 1))
        assert abs(float(draws.var()) - variance) < 0.1 * variance, alpha


def test_sample_beta_follows_the_distribution_where_its_shares_are_known(script):
    """Beta(1, 1) is even on 0..1 and Beta(1/2, 1/2) the arcsine law: P(x < q) = 2 / pi * asin(sqrt(q))."""
    generator = torch.Generator().manual_seed(5)
    for alpha, share_below in ((1.0, lambda q: q), (0.5, lambda q: 2 / math.pi * math.asin(math.sqrt(q)))):
        draws = torch.stack([script.sample_beta(alpha, generator, "cpu") for _ in range(3000)])
        for q in (0.02, 0.1, 0.3, 0.5, 0.8):
            # 3000 draws: a share's standard error is at most 0.009
            assert abs(float((draws < q).float().mean()) - share_below(q)) < 0.03, (alpha, q)


def test_cutmix_boxes_are_rectangles_of_the_share_asked_cut_off_at_the_edges(script):
    generator = torch.Generator().manual_seed(4)
    for cut in (0.1, 0.3, 0.6):
        shares = []
        for _ in range(300):
            box = script.cut_box(SIZE, SIZE, torch.tensor(cut), generator, "cpu")
            height, width = len(box.any(dim=1).nonzero()), len(box.any(dim=0).nonzero())
            assert int(box.sum()) == height * width, "a rectangle"
            shares.append(float(box.float().mean()))
        side = cut**0.5
        assert max(shares) <= (side + 1 / SIZE) ** 2, "no larger than asked, but for rounding to whole pixels"
        assert max(shares) >= (side - 1 / SIZE) ** 2, "the whole rectangle where it lies inside the image"


def test_mix_gives_class_probabilities_that_match_the_mixed_images(script):
    """Mixup and cutmix at random: each mixed image's average is its targets' blend of the class values."""
    generator = torch.Generator().manual_seed(2)
    batch_y = torch.arange(32) % 4
    x = batch_y.float().view(-1, 1, 1, 1).expand(32, 3, SIZE, SIZE) * 10  # an image's value is its class * 10
    for _ in range(10):
        mixed, targets = script.mix(x, batch_y, generator)
        assert targets.shape == (32, 4) and torch.allclose(targets.sum(dim=1), torch.ones(32))
        mean = mixed.mean(dim=(1, 2, 3))  # the blend's (or the pasted picture's) average value
        assert torch.allclose(mean, targets @ (torch.arange(4.0) * 10), atol=1e-4)


def test_old_projects_and_options_at_their_defaults_keep_todays_code():
    plain = load_program(stripes_project("crop+flip")).script_source
    defaults = {"rotation": 0.0, "crop_scale": 1.0, "jitter": 0.0, "erasing": 0.0, "mixup": 0.0, "cutmix": 0.0}
    assert load_program(stripes_project("crop+flip", **defaults)).script_source == plain
    assert "def random_geometry" not in plain and "def mix" not in plain
    assert not Augmentation.of(True, {"augment": "none", **defaults}, (3, SIZE, SIZE), False).any


@pytest.mark.parametrize(
    "options",
    [ALL, {"rotation": 5.0}, {"crop_scale": 0.3, "erasing": 0.2}, {"jitter": 0.4}, {"mixup": 0.2}, {"cutmix": 1.0}],
)
def test_the_exported_package_with_augmentations_passes_ruff(tmp_path, options):
    exported_passes_ruff(stripes_project(**options), tmp_path)


@pytest.mark.parametrize("channels", [1, 2, 4])
def test_images_not_in_colour_jitter_brightness_and_contrast_only(channels):
    """The functions of a 1-channel set (MNIST's shape), or of channels that are not red, green and blue, run as
    train.py would hold them: contrast blends towards the mean of the channels."""
    functions = Augmentation.of(True, {"augment": "none", "jitter": 0.3}, (channels, 28, 28), False).functions()
    namespace = {"functools": functools, "torch": torch}
    exec("\n\n".join(functions), namespace)  # our own generated code, as train.py holds it
    x = torch.rand(200, channels, 28, 28)
    out = namespace["augment"](x, torch.Generator().manual_seed(0))
    assert out.shape == x.shape and not torch.equal(out, x) and torch.isfinite(out).all()
    assert "brightness and contrast by" in namespace["random_colours"].__doc__
    # no change of brightness or contrast (factors of 1) is no change at all
    ones = torch.ones(len(x))
    assert torch.allclose(namespace["adjust_colours"](x, ones, ones), x, atol=1e-6)


def mixing_diagnostics(project: Project) -> list[str]:
    return [d.message for d in analyze(project.graph).diagnostics if d.code == "mixing-targets"]


def test_mixing_needs_crossentropy_on_class_targets():
    project = stripes_project(mixup=0.2)
    assert mixing_diagnostics(project) == []
    graph = project.graph
    (loss,) = [n.id for n in graph.nodes.values() if n.block == "CrossEntropy"]
    edges = graph.remove_node(loss)  # NLL after a LogSoftmax: the same classes, but no class probabilities
    nll, log_softmax = graph.add_node("NLL").id, graph.add_node("LogSoftmax").id
    for edge in edges:
        if edge.dst == loss and edge.dst_port == "input":
            graph.connect(edge.src, edge.src_port, log_softmax, "x")
            graph.connect(log_softmax, "y", nll, "input")
        else:
            graph.connect(
                *(
                    (edge.src, edge.src_port, nll, edge.dst_port)
                    if edge.dst == loss
                    else (nll, "loss", edge.dst, edge.dst_port)
                )
            )
    (message,) = mixing_diagnostics(project)
    assert message.startswith("mixup blend the class targets") and "CrossEntropy" in message
    dataset = next(n.id for n in graph.nodes.values() if n.block == "Dataset")
    graph.set_param(dataset, "cutmix", 1.0)
    assert "mixup and cutmix" in mixing_diagnostics(project)[0]


def test_validation_is_never_augmented_nor_mixed():
    plain, augmented = Trainer(stripes_project("none")), Trainer(stripes_project(**ALL))
    augmented.run(max_steps=3)
    plain.model.load_state_dict(augmented.model.state_dict())
    assert plain.evaluate() == augmented.evaluate()


def test_the_engine_trains_exactly_what_train_py_trains_with_every_augmentation(tmp_path):
    t = Trainer(stripes_project(**ALL))
    assert t.run().status == "completed"
    assert 0 <= t.history[-1]["train_accuracy"] <= 1, "counted against the labels, not the mixed targets"
    exported = t.program.script.train(2, 32, 0.2, 0, "cpu", str(tmp_path))
    assert same(weights(t), dict(exported.state_dict()))


def test_resume_from_a_checkpoint_with_every_augmentation_ends_with_the_same_weights(tmp_path):
    whole = Trainer(stripes_project(**ALL))
    whole.run()
    Trainer(stripes_project(**ALL)).run(max_steps=5, checkpoint_dir=tmp_path)
    fresh = Trainer(stripes_project(**ALL))
    fresh.load_checkpoint(tmp_path / "last.pt")
    assert fresh.run().status == "completed"
    assert same(weights(fresh), weights(whole))


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write_folder(tmp_path_factory.mktemp("images"))


@pytest.mark.slow
def test_a_streamed_folder_augments_its_batches_on_the_device_and_resumes_mid_epoch(folder, tmp_path):
    """Its per-sample crop and flip in the DataLoader's workers, the rest on the batch after it arrives."""
    dataset = {"dataset": "image_folder", "path": str(folder), "image_size": SIZE, "augment": "crop+flip", **ALL}
    project = small_cnn_project("folder", dataset, channels=4, classes=len(CLASSES), dropout=True)
    project = with_settings(project, device="cpu", epochs=3, batch_size=8)
    whole = Trainer(project, workers=0)
    assert whole.augmentation.device == whole.device and whole.run().status == "completed"
    Trainer(project, workers=2).run(max_steps=6, checkpoint_dir=tmp_path)
    fresh = Trainer(project, workers=0)
    fresh.load_checkpoint(tmp_path / "last.pt")
    assert fresh.epoch == 1 and fresh.position == 8 and fresh.run().status == "completed"
    assert same(weights(fresh), weights(whole))
    (tmp_path / "script").mkdir()
    exported = whole.program.script.train(3, 8, 0.2, 0, "cpu", str(tmp_path / "script"), 0)
    assert same(weights(whole), dict(exported.state_dict()))


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU")
def test_every_augmentation_draws_on_the_gpu_and_resumes_from_a_checkpoint(tmp_path):
    project = with_settings(stripes_project(dropout=False, **ALL), device="cuda")
    whole = Trainer(project)
    assert whole.augmentation.device.type == "cuda"
    whole.run()
    Trainer(project).run(max_steps=5, checkpoint_dir=tmp_path)
    fresh = Trainer(project)
    fresh.load_checkpoint(tmp_path / "last.pt")
    assert fresh.run().status == "completed"
    assert same(weights(fresh), weights(whole))


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU")
def test_augmentation_replayed_in_the_step_graph_draws_what_the_eager_step_draws():
    """augment() and mix() run inside the step, so the CUDA graph replays them with it, the run's generator
    registered with the graph: every replay draws the numbers the eager step (and train.py) draws. The generator
    ends where the eager run's does, and the weights agree as a graphed and an eager step's do (TF32 off, as there)."""
    torch.backends.cudnn.allow_tf32 = False
    try:
        project = with_settings(stripes_project(dropout=False, **ALL), device="cuda", epochs=3)
        graphed = Trainer(project)
        assert graphed.drawn_in_step == (graphed.augmentation,)
        assert graphed.run().ok and graphed.graphed.captures == 1 and not graphed.graphed.reason
        eager = Trainer(project)
        eager.graphed = None
        assert eager.run().ok
    finally:
        torch.backends.cudnn.allow_tf32 = True
    assert torch.equal(graphed.augmentation.get_state(), eager.augmentation.get_state())
    a, b = weights(graphed), weights(eager)
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=1e-4, atol=1e-5, msg=lambda text, n=name: f"{n}: {text}")


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU")
def test_augment_and_mix_never_wait_for_the_gpu(script):
    """Nothing in them reads a value back or copies from the host, so the CPU runs ahead of the graphed step."""
    x = torch.rand(64, 3, SIZE, SIZE, device="cuda")
    y = torch.randint(4, (64,), device="cuda")
    generator = torch.Generator("cuda").manual_seed(0)
    script.mix(script.augment(x, generator), y, generator)  # a first call may set things up
    torch.cuda.set_sync_debug_mode("error")
    try:
        mixed, targets = script.mix(script.augment(x, generator), y, generator)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert mixed.shape == x.shape and torch.allclose(targets.sum(dim=1), torch.ones(64, device="cuda"))


class Recorded(TorchDispatchMode):
    """The names of the tensor operations run inside it."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.names.append(func.__name__)
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("shape", [(3, SIZE, SIZE), (3, SIZE, SIZE + 6)])
def test_augment_and_mix_make_their_constants_once(shape):
    """Inside the step's CUDA graph a tensor made anew is a launch at every step: after the first batch, the
    coordinates and positions come from `evenly`'s cache, whatever the image's shape."""
    options = {"augment": "crop+flip", **ALL}
    namespace = {"functools": functools, "torch": torch, "nn": torch.nn, "CLASS_NAMES": ["a", "b", "c", "d"]}
    exec("\n\n\n".join(Augmentation.of(True, options, shape, False).functions()), namespace)  # as train.py has them
    generator = torch.Generator().manual_seed(0)
    x, y = torch.rand(16, *shape), torch.randint(4, (16,))
    first = namespace["mix"](namespace["augment"](x, generator), y, generator)
    with Recorded() as recorded:
        second = namespace["mix"](namespace["augment"](x, generator), y, generator)
    made = [name for name in recorded.names if name.startswith(("linspace", "arange"))]
    assert made == [] and "grid_sampler_2d.default" in recorded.names
    assert not torch.equal(first[0], second[0])  # new draws on the constants kept

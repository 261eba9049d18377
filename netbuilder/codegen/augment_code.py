"""train.py's image augmentation: the functions that change a training batch at random on its own device.

A Dataset's `augment` (flip, crop) alone keeps the one-gather `augment` of before. Its other options (rotation,
crop_scale, jitter, erasing) make `augment` a composition of small functions over the whole batch, each image with
its own draws from the run's generator and no loop over images: `random_geometry` (rotation, random resized crop,
shift and flip in one grid_sample resampling), `random_colours` (brightness, contrast and saturation) and
`random_erasing`. mixup and cutmix add `mix(batch_x, batch_y, generator)`, which mixes each image of the batch with
the one before it (as torchvision's MixUp and CutMix pair them: a training batch is in a random order already, and a
permutation of its own would cost a sort) and gives class probabilities for the loss. The deterministic parts
(`transform_images`, `adjust_colours`) take their parameters as tensors, so tests hold them against torchvision.

Each function is written for few operations, not only cheap ones: inside the training step's CUDA graph every
kernel costs a few microseconds however small its tensor, and most of these work on one number per image. So
each range is drawn in one call, a box's height and width (or rows and columns) go through one chain at once,
elementwise chains fold into addcmul and lerp, Beta draws come from an exact sampler with no rejection, and the
evenly spaced constants (pixel coordinates, rows and columns) are made once per size and device and kept
(`evenly`). benchmarks/bench_augment.py counts the operations per batch.

A streamed dataset (an image folder) keeps its per-sample crop and flip in the DataLoader's workers; the batch
functions then hold only the options that are new, applied after `batches()` delivers a batch to the device.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from netbuilder.codegen.render import literal

ERASED_AREA = (0.02, 0.33)  # torchvision's RandomErasing defaults: the share of the image a box covers
ERASED_RATIO = (0.3, 3.3)  # and the box's height to width
CROP_RATIO = (3 / 4, 4 / 3)  # RandomResizedCrop's width to height


def crop_padding(image_shape: tuple[int, ...]) -> int:
    """Pixels of padding around an image before a random crop: 4 at 32 px, an eighth of the size in general."""
    return max(1, min(image_shape[-2:]) // 8)


@dataclass(frozen=True)
class Augmentation:
    """What a Dataset asks of the training batches: today's `mode` (none, flip, crop, crop+flip) and the batch
    options (0, or 1 for crop_scale, is off)."""

    mode: str = "none"
    rotation: float = 0.0
    crop_scale: float = 1.0
    jitter: float = 0.0
    erasing: float = 0.0
    mixup: float = 0.0
    cutmix: float = 0.0
    channels: int = 3
    padding: int = 1
    streamed: bool = False

    @classmethod
    def of(cls, images: bool, params: Mapping[str, Any], image_shape: tuple[int, ...], streamed: bool):
        if not images:
            return cls()
        names = ("rotation", "crop_scale", "jitter", "erasing", "mixup", "cutmix")
        options = {name: float(params[name]) for name in names if name in params}
        channels = image_shape[0] if len(image_shape) == 3 else 1
        mode = params.get("augment", "none")
        return cls(mode, **options, channels=channels, padding=crop_padding(image_shape), streamed=streamed)

    @property
    def batch_options(self) -> bool:
        """Whether an option beyond flip and crop is on: `augment` is then the composition of batch functions."""
        return bool(self.rotation or self.crop_scale < 1 or self.jitter or self.erasing)

    @property
    def mixes(self) -> bool:
        return bool(self.mixup or self.cutmix)

    @property
    def per_sample(self) -> bool:
        """A streamed set's crop and flip, done per sample by torchvision in the DataLoader's workers."""
        return self.streamed and self.mode != "none"

    @property
    def batch_augment(self) -> bool:
        """train.py has `augment(batch_x, generator)`, applied to each training batch on its device."""
        return self.batch_options or (not self.streamed and self.mode != "none")

    @property
    def any(self) -> bool:
        """Whether training changes its batches at all (the preview then shows them changed)."""
        return self.mode != "none" or self.batch_options or self.mixes

    def functions(self) -> list[str]:
        """The functions train.py holds for these options, in order (none without any), `evenly` first where
        one of them takes its constants from it."""
        functions = self._functions()
        return ([_EVENLY] if any("evenly(" in function for function in functions) else []) + functions

    @property
    def imports(self) -> tuple[str, ...]:
        """What train.py imports for these functions, beyond torch."""
        return ("import functools",) if self.functions()[:1] == [_EVENLY] else ()

    def _functions(self) -> list[str]:
        if not self.batch_options:
            legacy = [] if self.streamed or self.mode == "none" else [_legacy_augment(self.mode, self.padding)]
            return legacy + (self._mix_functions() if self.mixes else [])
        geometric = self.rotation or self.crop_scale < 1 or (not self.streamed and self.mode != "none")
        drawn_evenly = self.rotation or self.crop_scale < 1 or self.jitter or self.erasing  # what uniform() serves
        functions = [_UNIFORM] if drawn_evenly else []
        steps = []
        if geometric:
            functions += [_TRANSFORM_IMAGES, self._random_geometry()]
            steps.append("random_geometry")
        if self.jitter:
            functions += [_GREY, _ADJUST_COLOURS, self._random_colours()]
            steps.append("random_colours")
        if self.erasing:
            functions.append(self._random_erasing())
            steps.append("random_erasing")
        functions.append(_compose(steps))
        return functions + (self._mix_functions() if self.mixes else [])

    def _random_geometry(self) -> str:
        said, lines = [], []
        if self.rotation:
            said.append(f"turn it by up to {self.rotation:g} degrees either way")
            most = literal(math.radians(self.rotation))
            lines.append(f"    angle = uniform(-{most}, {most}, n, generator, device)  # radians")
        else:
            lines.append("    angle = torch.zeros(n, device=device)")
        if self.crop_scale < 1:
            said.append(
                f"cut a part of at least {self.crop_scale:.0%} of its area (width to height between 3:4 and 4:3) "
                "and stretch it to full size"
            )
            half_log = literal(math.log(CROP_RATIO[1]) / 2)
            lines += [
                f"    area = uniform({literal(self.crop_scale)}, 1.0, (n, 1), generator, device)",
                "    # evenly between -1 and 1: the log of width to height (times log(4/3)), and where the centre lies",
                "    draws = uniform(-1.0, 1.0, (n, 3), generator, device)",
                "    # the part's width and height as shares of the image's: sqrt(area * ratio) and sqrt(area / ratio)",
                f"    half_log_ratio = draws[:, :1] * evenly({half_log}, -{half_log}, 2, device)",
                "    scale = torch.add(half_log_ratio, area.log(), alpha=0.5).exp().clamp(max=1.0)",
                "    shift = torch.addcmul(draws[:, 1:], draws[:, 1:], scale, value=-1)  # * (1 - scale): inside",
            ]
        else:
            lines.append("    scale = torch.ones(n, 2, device=device)")
        if not self.streamed and self.mode in ("crop", "crop+flip"):
            said.append(f"shift it by up to {self.padding} pixels")
            lines += [
                f"    pixels = torch.randint(-{self.padding}, {self.padding + 1}, (n, 2), generator=generator, "
                "device=device)",
                "    # a pixel is 2 / width of grid_sample's coordinates across, 2 / height down",
                "    pixel = evenly(2 / width, 2 / height, 2, device)",
                "    shift = " + ("torch.addcmul(shift, pixels, pixel)" if self.crop_scale < 1 else "pixels * pixel"),
            ]
        shifts = self.crop_scale < 1 or (not self.streamed and self.mode in ("crop", "crop+flip"))
        arguments = ["batch_x", "angle", "scale"] + (["shift"] if shifts else [])
        if not self.streamed and self.mode in ("flip", "crop+flip"):
            said.append("flip a random half left to right")
            lines.append("    mirror = torch.randint(2, (n,), dtype=torch.bool, generator=generator, device=device)")
            arguments.append("mirror" if shifts else "mirror=mirror")
        doc = textwrap.fill(
            f"For each training image: {_sentence(said)}; each image has its own draws, and one resampling does "
            "it all.",
            112,
            subsequent_indent="    ",
        )
        return (
            "def random_geometry(batch_x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:\n"
            f'    """{doc}"""\n'
            "    n, _, height, width = batch_x.shape\n"
            "    device = batch_x.device\n" + "\n".join(lines) + "\n"
            f"    return transform_images({', '.join(arguments)})"
        )

    def _random_colours(self) -> str:
        strength = literal(self.jitter)
        colour = self.channels == 3
        kinds = "brightness, contrast and saturation" if colour else "brightness and contrast"
        count = 3 if colour else 2
        return (
            "def random_colours(batch_x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:\n"
            f'    """Multiply each training image\'s {kinds} by its own random factors between\n'
            f'    {1 - self.jitter:g} and {1 + self.jitter:g}."""\n'
            "    n = len(batch_x)\n"
            f"    factors = uniform(1 - {strength}, 1 + {strength}, ({count}, n, 1, 1, 1), generator, batch_x.device)\n"
            "    # black: each channel's darkest value in the batch (0 in [0, 1] pixels, below 0 once normalised)\n"
            "    black = batch_x.amin(dim=(0, 2, 3), keepdim=True)\n"
            "    return adjust_colours(batch_x, *factors, black=black)"
        )

    def _random_erasing(self) -> str:
        low, high = (literal(v) for v in ERASED_AREA)
        half_log = literal(math.log(ERASED_RATIO[0]) / 2), literal(math.log(ERASED_RATIO[1]) / 2)
        doc = (
            f"With probability {literal(self.erasing)}, blank out (set to 0) a random rectangle of a training "
            f"image:\n    {ERASED_AREA[0]:.0%} to {ERASED_AREA[1]:.0%} of its area, height to width "
            f"{ERASED_RATIO[0]} to {ERASED_RATIO[1]} (as torchvision's RandomErasing)."
        )
        return f'''\
def random_erasing(batch_x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """{doc}"""
    n, _, height, width = batch_x.shape
    device = batch_x.device
    # each image's box, its height (first) and width (second) at once: sqrt(area * ratio) and sqrt(area / ratio),
    # within the image's (a number where they are equal, a launch less)
    size = height if height == width else evenly(height, width, 2, device).view(2, 1, 1)
    area = uniform({low} * height * width, {high} * height * width, (n, 1), generator, device)  # in pixels
    half_log_ratio = uniform({half_log[0]}, {half_log[1]}, (n, 1), generator, device)  # log(0.3 to 3.3) / 2
    either_way = evenly(1.0, -1.0, 2, device).view(2, 1, 1)
    sides = torch.add(half_log_ratio * either_way, area.log(), alpha=0.5).exp().round().clamp(min=1)
    sides = sides.clamp(max=size)
    # the first row and column, evenly among those that keep the box inside the image
    start = (uniform(0.0, 1.0, (2, n, 1), generator, device) * (size + 1 - sides)).floor()
    erased = torch.empty(n, 1, device=device).bernoulli_({literal(self.erasing)}, generator=generator)
    positions = evenly(0, max(height, width) - 1, max(height, width), device)  # 0, 1, 2 ...
    # (2, n, positions): the rows and the columns each box covers (none where the image is not erased)
    covered = (positions >= start) & (positions < torch.addcmul(start, sides, erased))
    inside = covered[0, :, :height, None] & covered[1, :, None, :width]
    return batch_x.masked_fill(inside.unsqueeze(1), 0.0)'''

    def _mix_functions(self) -> list[str]:
        mixup, cutmix = literal(self.mixup), literal(self.cutmix)
        said, lines = [], []
        if self.mixup:
            said.append(
                f"mixup blends each image with another by a weight drawn from Beta({self.mixup:g}, {self.mixup:g})"
            )
        if self.cutmix:
            said.append(
                f"cutmix pastes a rectangle of another image, the share it keeps drawn from Beta({self.cutmix:g}, "
                f"{self.cutmix:g}), and the targets are mixed by the areas"
            )
        if self.mixup and self.cutmix:
            said.append("each batch gets one of the two at random")
            lines += [
                "    use_cutmix = torch.randint(2, (), dtype=torch.bool, generator=generator, device=device)",
                f"    share = sample_beta(torch.where(use_cutmix, {cutmix}, {mixup}), generator, device)",
                "    # the box's share of the image: 1 - share, which is as likely as share (Beta(a, a) is symmetric)",
                "    box = cut_box(height, width, share, generator, device)",
                "    own = torch.where(use_cutmix, torch.where(box, 0.0, 1.0), share)  # each pixel's share of its own",
                "    kept = own.mean()  # the share of each image that stays its own",
            ]
        elif self.mixup:
            lines += [
                f"    own = kept = sample_beta({mixup}, generator, device)  # each image's share of itself, everywhere",
            ]
        else:
            lines += [
                "    # the box's share of the image: 1 - share, which is as likely as share (Beta(a, a) is symmetric)",
                f"    box = cut_box(height, width, sample_beta({cutmix}, generator, device), generator, device)",
                "    own = torch.where(box, 0.0, 1.0)  # each pixel's share of its own image: 1 outside the box",
                "    kept = own.mean()  # the share of each image that stays its own",
            ]
        doc = textwrap.fill(
            "Mix each image of the training batch (in a random order already) with the one before it, images and "
            "targets alike: the inputs, and the targets as class probabilities (N, classes) for the loss. "
            f"{_capital('; '.join(said))}.",
            112,
            subsequent_indent="    ",
        )
        mix = (
            "def mix(batch_x: torch.Tensor, batch_y: torch.Tensor, generator: torch.Generator):\n"
            f'    """{doc}"""\n'
            "    height, width = batch_x.shape[-2:]\n"
            "    device = batch_x.device\n"
            "    targets = torch.zeros(len(batch_y), len(CLASS_NAMES), device=device)\n"
            "    targets.scatter_(1, batch_y.reshape(-1, 1).long(), 1.0)  # each label as class probabilities\n"
            + "\n".join(lines)
            + "\n    before = batch_x.roll(1, 0), targets.roll(1, 0)  # the image before each (the first's: the last)"
            "\n    return torch.lerp(before[0], batch_x, own), torch.lerp(before[1], targets, kept)"
        )
        return [_SAMPLE_BETA, *([_CUT_BOX] if self.cutmix else []), mix]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _sentence(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _compose(steps: list[str]) -> str:
    body = "".join(f"    batch_x = {step}(batch_x, generator)\n" for step in steps[:-1])
    return (
        "def augment(batch_x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:\n"
        '    """The random changes to one training batch, drawn on its device: validation is never augmented."""\n'
        f"{body}    return {steps[-1]}(batch_x, generator)"
    )


_EVENLY = '''\
@functools.lru_cache(maxsize=64)
def evenly(start: float, end: float, steps: int, device: torch.device) -> torch.Tensor:
    """torch.linspace(start, end, steps) on the device, made once and kept (read it, never write into it): the
    augmentation runs inside the training step's CUDA graph, where a tensor made anew is a launch at every step."""
    return torch.linspace(start, end, steps, device=device)'''

_UNIFORM = '''\
def uniform(low: float, high: float, shape: int | tuple[int, ...], generator: torch.Generator,
            device: torch.device) -> torch.Tensor:
    """Numbers of this shape drawn evenly between low and high, from the run's augmentation generator, in one
    launch."""
    return torch.empty(shape, device=device).uniform_(low, high, generator=generator)'''

_TRANSFORM_IMAGES = '''\
def transform_images(batch_x: torch.Tensor, angle: torch.Tensor, scale: torch.Tensor,
                     shift: torch.Tensor | None = None, mirror: torch.Tensor | None = None) -> torch.Tensor:
    """Resample each image once: mirrored left to right where `mirror`, the part of width and height `scale`
    (shares of the image) around `shift` (-1 to 1: edge to edge) taken, turned by `angle` (radians,
    anticlockwise) and stretched to full size; bilinear, zeros outside the image. No shift is the centre, no
    mirror mirrors none (and saves their launches)."""
    n, _, height, width = batch_x.shape
    device = batch_x.device
    # where a step across and a step down the output lead in the image (grid_sample's -1..1 coordinates), as
    # complex numbers x + iy: turning by `angle` is multiplying by e^(i angle), and down is across turned by 90
    turned = torch.polar(scale, angle.unsqueeze(1))
    steps = torch.view_as_real(torch.stack([turned[:, 0], turned[:, 1] * 1j], dim=1))  # (n, across/down, x/y)
    if height != width:  # a share of the width across is width / height shares of the height down
        aspect = evenly(1.0, width / height, 2, device)
        steps = steps * (aspect / aspect.unsqueeze(1))
    across = steps[:, 0] if mirror is None else steps[:, 0] * torch.where(mirror, -1.0, 1.0).unsqueeze(1)
    # affine_grid's grid: each output pixel's centre (align_corners=False), then the point of the image it takes
    columns = evenly(1 / width - 1, 1 - 1 / width, width, device)
    rows = columns if height == width else evenly(1 / height - 1, 1 - 1 / height, height, device)
    rows, down = rows.view(1, height, 1, 1), steps[:, 1].view(n, 1, 1, 2)
    grid = rows * down if shift is None else torch.addcmul(shift.view(n, 1, 1, 2), rows, down)
    grid = torch.addcmul(grid, columns.view(1, 1, width, 1), across.view(n, 1, 1, 2))
    return nn.functional.grid_sample(
        batch_x, grid.to(batch_x.dtype), mode="bilinear", padding_mode="zeros", align_corners=False
    )'''

_GREY = '''\
def grey(batch_x: torch.Tensor) -> torch.Tensor:
    """Each image's grey (N, 1, H, W): the luminance of its red, green and blue, as torchvision weighs them; the
    mean of its channels where they are not red, green and blue (a grey image is its own)."""
    if batch_x.shape[1] != 3:
        return batch_x if batch_x.shape[1] == 1 else batch_x.mean(dim=1, keepdim=True)
    red, green, blue = batch_x.unbind(dim=1)
    return (red * 0.2989).add(green, alpha=0.587).add(blue, alpha=0.114).unsqueeze(1)'''

_ADJUST_COLOURS = '''\
def adjust_colours(batch_x: torch.Tensor, brightness: torch.Tensor, contrast: torch.Tensor,
                   saturation: torch.Tensor | None = None, black: torch.Tensor | None = None) -> torch.Tensor:
    """Each image's brightness, contrast and saturation multiplied by its factors (one per image), as
    torchvision's adjust_brightness, adjust_contrast and adjust_saturation do on images in [0, 1] but without
    clipping (normalised values have no such range): brightness scales each value's distance from `black`, the
    value of black (per channel; None: 0), contrast blends towards the image's average grey, saturation towards
    its grey."""
    n = len(batch_x)
    brightness, contrast = brightness.view(n, 1, 1, 1), contrast.view(n, 1, 1, 1)
    # black stays black
    batch_x = batch_x * brightness if black is None else torch.lerp(black, batch_x, brightness)
    greys = grey(batch_x)
    average = greys.mean(dim=(1, 2, 3), keepdim=True)
    batch_x = torch.lerp(average, batch_x, contrast)  # towards the image's average grey
    if saturation is None:
        return batch_x
    # grey() is a weighted sum, so the grey of that blend is the same blend of the greys (an even grey g is
    # g * 0.9999 in grey, the weights' sum): one grey() less
    greys = torch.lerp(average * (0.2989 + 0.587 + 0.114), greys, contrast)
    return torch.lerp(greys, batch_x, saturation.view(n, 1, 1, 1))  # towards the image in grey'''

_SAMPLE_BETA = '''\
def sample_beta(alpha, generator: torch.Generator, device: torch.device) -> torch.Tensor:
    """One draw from Beta(alpha, alpha) (alpha a number, or a number on the device), exactly, from the run's
    generator and without waiting for the device: x / (x + y) for x = b * u ** (1 / alpha) and
    y = (1 - b) * w ** (1 / alpha), with u, w drawn evenly and b from Beta(alpha + 1, alpha + 1) by Ulrich's
    method for symmetric Betas, b = (1 + sqrt(1 - s ** (1 / (alpha + 1 / 2))) * cos(pi * t)) / 2 for s, t drawn
    evenly (as Gamma(alpha) = Gamma(alpha + 1) * u ** (1 / alpha), and b is x / (x + y) for Gamma(alpha + 1))."""
    s, t = torch.rand(2, generator=generator, device=device)
    exponential = torch.empty(2, device=device).exponential_(generator=generator)  # -log(u), -log(w)
    centred = (1 - s ** (1 / (alpha + 0.5))).sqrt() * (t * torch.pi).cos()  # 2 * b - 1
    # log(x / y) = log(b / (1 - b)) + (log(u) - log(w)) / alpha, and x / (x + y) its sigmoid
    return torch.add((exponential[1] - exponential[0]) / alpha, centred.atanh(), alpha=2).sigmoid()'''

_CUT_BOX = '''\
def cut_box(height: int, width: int, cut: torch.Tensor, generator: torch.Generator, device: torch.device):
    """A rectangle (True inside) of about `cut` of the image's area, centred anywhere and cut off at the edges,
    as torchvision's CutMix draws it."""
    # rows (first) and columns at once, in twice the shares of the image's height and width: the centre, and
    # the middle of each row and column, (2 * i + 1) / height (the shorter side's run past 2, and go unused)
    centre = torch.empty(2, 1, device=device).uniform_(0.0, 2.0, generator=generator)
    most = max(height, width)
    if height == width:
        middles = evenly(1 / height, (2 * most - 1) / height, most, device)
    else:
        middles = evenly(1, 2 * most - 1, most, device) / evenly(height, width, 2, device).view(2, 1)
    inside = (middles - centre).abs() < cut.sqrt()  # the rectangle's sides are sqrt(cut) of the image's
    return inside[0, :height, None] & inside[1, None, :width]'''


def _legacy_augment(mode: str, padding: int) -> str:
    """augment(batch_x, generator): the random flips and crops of one training batch, drawn on its device."""
    if mode == "flip":
        return '''\
def augment(batch_x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Flip a random half of the training images left to right, a different half in every batch."""
    flip = torch.randint(2, (len(batch_x), 1, 1, 1), dtype=torch.bool, generator=generator, device=batch_x.device)
    return torch.where(flip, batch_x.flip(3), batch_x)'''
    flip = mode == "crop+flip"
    summary = f"Shift each training image by up to {padding} pixels (a crop of it padded with zeros)" + (
        " and flip a random half of them." if flip else "."
    )
    flip_lines = (
        "    flip = torch.randint(2, (n, 1, 1), dtype=torch.bool, generator=generator, device=device)\n"
        "    corner = torch.where(flip, corner.flip(1), corner)  # mirrored: the columns read right to left\n"
        if flip
        else ""
    )
    return f'''\
def augment(batch_x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """{summary}

    Each image gets its own shift{" and flip" if flip else ""}, drawn on the batch's device and applied in one gather.
    """
    n, channels, height, width = batch_x.shape
    device, padding = batch_x.device, {literal(padding)}
    padded = nn.functional.pad(batch_x, (padding, padding, padding, padding))
    padded_width = width + 2 * padding
    # (height, width): where each output pixel lies in its padded image, as a flat position, for the crop at the top
    # left; each image's crop lies `top` rows and `left` columns further
    corner = torch.arange(height * padded_width, device=device).view(height, padded_width)[:, :width]
{flip_lines}    top, left = torch.randint(0, 2 * padding + 1, (2, n, 1, 1), generator=generator, device=device)
    index = corner + torch.add(left, top, alpha=padded_width)  # (n, height, width)
    pixels = padded.flatten(2).gather(2, index.flatten(1).unsqueeze(1).expand(-1, channels, -1))
    return pixels.view(n, channels, height, width)'''

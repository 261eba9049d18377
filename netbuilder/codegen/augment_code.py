"""train.py's image augmentation: the functions that change a training batch at random on its own device.

A Dataset's `augment` (flip, crop) alone keeps the one-gather `augment` of before. Its other options (rotation,
crop_scale, jitter, erasing) make `augment` a composition of small functions over the whole batch, each image
with its own draws from the run's generator and no loop over images: `random_geometry` (rotation, random resized
crop, shift and flip in one affine_grid/grid_sample resampling), `random_colours` (brightness, contrast and
saturation) and `random_erasing`. mixup and cutmix add `mix(batch_x, batch_y, generator)`, which mixes the batch
with itself in a random order and gives class probabilities for the loss. The deterministic parts
(`transform_images`, `adjust_colours`) take their parameters as tensors, so tests hold them against torchvision.

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
        """The functions train.py holds for these options, in order (none without any)."""
        if not self.batch_options:
            legacy = [] if self.streamed or self.mode == "none" else [_legacy_augment(self.mode, self.padding)]
            return legacy + (self._mix_functions() if self.mixes else [])
        geometric = self.rotation or self.crop_scale < 1 or (not self.streamed and self.mode != "none")
        drawn_evenly = self.rotation or self.crop_scale < 1 or self.jitter  # what uniform() serves
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
            log_ratio = literal(math.log(CROP_RATIO[1]))
            lines += [
                f"    area = uniform({literal(self.crop_scale)}, 1.0, n, generator, device)",
                f"    ratio = uniform(-{log_ratio}, {log_ratio}, n, generator, device).exp()  # log(4/3) either way",
                "    # the part's width and height as shares of the image's, and where its centre lies (-1 to 1)",
                "    scale = torch.stack([(area * ratio).sqrt(), (area / ratio).sqrt()], dim=1).clamp(max=1.0)",
                "    shift = (torch.rand(n, 2, generator=generator, device=device) * 2 - 1) * (1 - scale)",
            ]
        else:
            lines += ["    scale = torch.ones(n, 2, device=device)", "    shift = torch.zeros(n, 2, device=device)"]
        if not self.streamed and self.mode in ("crop", "crop+flip"):
            said.append(f"shift it by up to {self.padding} pixels")
            lines += [
                f"    pixels = torch.randint(-{self.padding}, {self.padding + 1}, (n, 2), generator=generator, "
                "device=device)",
                "    # a pixel is 2 / width of grid_sample's coordinates across, 2 / height down",
                "    shift = shift + torch.stack([pixels[:, 0] * (2 / width), pixels[:, 1] * (2 / height)], dim=1)",
            ]
        if not self.streamed and self.mode in ("flip", "crop+flip"):
            said.append("flip a random half left to right")
            lines.append("    mirror = torch.rand(n, generator=generator, device=device) < 0.5")
        else:
            lines.append("    mirror = torch.zeros(n, dtype=torch.bool, device=device)")
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
            "    return transform_images(batch_x, angle, scale, shift, mirror)"
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
            f"    factors = uniform(1 - {strength}, 1 + {strength}, {count} * n, generator, batch_x.device)\n"
            "    # black: each channel's darkest value in the batch (0 in [0, 1] pixels, below 0 once normalised)\n"
            "    black = batch_x.amin(dim=(0, 2, 3), keepdim=True)\n"
            f"    return adjust_colours(batch_x, *factors.view({count}, -1), black=black)"
        )

    def _random_erasing(self) -> str:
        low, high = (literal(v) for v in ERASED_AREA)
        ratio = literal(math.log(ERASED_RATIO[0])), literal(math.log(ERASED_RATIO[1] / ERASED_RATIO[0]))
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
    # each image's area, height to width, top, left and whether it is erased, evenly between 0 and 1
    draws = torch.rand(5, n, 1, 1, generator=generator, device=device)
    area = ({low} + ({high} - {low}) * draws[0]) * (height * width)
    ratio = ({ratio[0]} + {ratio[1]} * draws[1]).exp()  # log(0.3) to log(3.3)
    box_height = (area * ratio).sqrt().round().clamp(1, height)
    box_width = (area / ratio).sqrt().round().clamp(1, width)
    top = (draws[2] * (height - box_height + 1)).floor()
    left = (draws[3] * (width - box_width + 1)).floor()
    erased = draws[4] < {literal(self.erasing)}
    rows = torch.arange(height, device=device).view(1, height, 1)
    columns = torch.arange(width, device=device).view(1, 1, width)
    inside = (rows >= top) & (rows < top + box_height) & (columns >= left) & (columns < left + box_width)
    return batch_x.masked_fill((inside & erased).unsqueeze(1), 0.0)'''

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
                "    use_cutmix = torch.rand((), generator=generator, device=device) < 0.5",
                f"    share = sample_beta(torch.where(use_cutmix, {cutmix}, {mixup}), generator, device)",
                "    box = cut_box(height, width, 1 - share, generator, device)",
                "    own = torch.where(use_cutmix, 1 - box.float(), share)  # each pixel's share of its own image",
            ]
        elif self.mixup:
            lines += [
                f"    own = sample_beta({mixup}, generator, device)  # each image's share of itself, at every pixel"
            ]
        else:
            lines += [
                f"    share = sample_beta({cutmix}, generator, device)",
                "    own = 1 - cut_box(height, width, 1 - share, generator, device).float()  # 1 outside the box",
            ]
        doc = textwrap.fill(
            "Mix the training batch with itself in a random order, images and targets alike: the inputs, and the "
            f"targets as class probabilities (N, classes) for the loss. {_capital('; '.join(said))}.",
            112,
            subsequent_indent="    ",
        )
        mix = (
            "def mix(batch_x: torch.Tensor, batch_y: torch.Tensor, generator: torch.Generator):\n"
            f'    """{doc}"""\n'
            "    height, width = batch_x.shape[-2:]\n"
            "    device = batch_x.device\n"
            "    targets = nn.functional.one_hot(batch_y.reshape(-1).long(), len(CLASS_NAMES)).float()\n"
            "    order = torch.randperm(len(batch_x), generator=generator, device=device)\n"
            + "\n".join(lines)
            + "\n    kept = own.mean()  # the share of each image that stays its own\n"
            "    return torch.lerp(batch_x[order], batch_x, own), torch.lerp(targets[order], targets, kept)"
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


_UNIFORM = '''\
def uniform(low: float, high: float, n: int, generator: torch.Generator, device: torch.device) -> torch.Tensor:
    """n numbers drawn evenly between low and high, from the run's augmentation generator."""
    return low + (high - low) * torch.rand(n, generator=generator, device=device)'''

_TRANSFORM_IMAGES = '''\
def transform_images(batch_x: torch.Tensor, angle: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor,
                     mirror: torch.Tensor) -> torch.Tensor:
    """Resample each image once: mirrored left to right where `mirror`, the part of width and height `scale`
    (shares of the image) around `shift` (-1 to 1: edge to edge) taken, turned by `angle` (radians,
    anticlockwise) and stretched to full size; bilinear, zeros outside the image."""
    n, _, height, width = batch_x.shape
    cos, sin = angle.cos(), angle.sin()
    scale_x = scale[:, 0] * torch.where(mirror, -1.0, 1.0)
    theta = torch.stack([  # where each output pixel comes from, in grid_sample's -1..1 coordinates
        torch.stack([cos * scale_x, -sin * scale[:, 1] * (height / width), shift[:, 0]], dim=1),
        torch.stack([sin * scale_x * (width / height), cos * scale[:, 1], shift[:, 1]], dim=1),
    ], dim=1)
    grid = nn.functional.affine_grid(theta.to(batch_x.dtype), list(batch_x.shape), align_corners=False)
    return nn.functional.grid_sample(batch_x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)'''

_GREY = '''\
def grey(batch_x: torch.Tensor) -> torch.Tensor:
    """Each image's grey (N, 1, H, W): the luminance of its red, green and blue, as torchvision weighs them."""
    if batch_x.shape[1] == 1:
        return batch_x
    red, green, blue = batch_x.unbind(dim=1)
    return (0.2989 * red + 0.587 * green + 0.114 * blue).unsqueeze(1)'''

_ADJUST_COLOURS = '''\
def adjust_colours(batch_x: torch.Tensor, brightness: torch.Tensor, contrast: torch.Tensor,
                   saturation: torch.Tensor | None = None, black: torch.Tensor | float = 0.0) -> torch.Tensor:
    """Each image's brightness, contrast and saturation multiplied by its factors (one per image), as
    torchvision's adjust_brightness, adjust_contrast and adjust_saturation do on images in [0, 1] but without
    clipping (normalised values have no such range): brightness scales each value's distance from `black`, the
    value of black (per channel), contrast blends towards the image's average grey, saturation towards its grey."""
    n = len(batch_x)
    batch_x = black + (batch_x - black) * brightness.view(n, 1, 1, 1)  # black stays black
    average = grey(batch_x).mean(dim=(1, 2, 3), keepdim=True)
    batch_x = torch.lerp(average, batch_x, contrast.view(n, 1, 1, 1))  # towards the image's average grey
    if saturation is None:
        return batch_x
    return torch.lerp(grey(batch_x), batch_x, saturation.view(n, 1, 1, 1))  # towards the image in grey'''

_SAMPLE_BETA = '''\
def sample_beta(alpha, generator: torch.Generator, device: torch.device) -> torch.Tensor:
    """One draw from Beta(alpha, alpha) (alpha a number, or a number on the device), from the run's generator and
    without waiting for the device: x / (x + y) for x, y from Gamma(alpha), each by Marsaglia and Tsang's method
    with 16 tries at once (the first accepted counts; all 16 fail less than once in 10^20 draws) and
    Gamma(alpha) = Gamma(alpha + 1) * u ** (1 / alpha)."""
    d = alpha + 1 - 1 / 3
    c = 1 / (9 * d) ** 0.5
    z = torch.randn(2, 16, generator=generator, device=device)
    u = torch.rand(2, 16, generator=generator, device=device)
    v = (1 + c * z) ** 3
    accepted = (v > 0) & (u.log() < 0.5 * z**2 + d - d * v + d * v.clamp_min(1e-30).log())
    first = accepted.int().argmax(dim=1, keepdim=True)  # the first try accepted
    gamma = d * v.gather(1, first).squeeze(1) * torch.rand(2, generator=generator, device=device) ** (1 / alpha)
    return gamma[0] / gamma.sum()'''

_CUT_BOX = '''\
def cut_box(height: int, width: int, cut: torch.Tensor, generator: torch.Generator, device: torch.device):
    """A rectangle (True inside) of about `cut` of the image's area, centred anywhere and cut off at the edges,
    as torchvision's CutMix draws it."""
    half = cut.sqrt() / 2  # half the rectangle's sides, as shares of the image's
    centre_row, centre_column = torch.rand(2, generator=generator, device=device)
    top, bottom = ((centre_row - half) * height).round(), ((centre_row + half) * height).round()
    left, right = ((centre_column - half) * width).round(), ((centre_column + half) * width).round()
    rows = torch.arange(height, device=device).view(height, 1)
    columns = torch.arange(width, device=device).view(1, width)
    return (rows >= top) & (rows < bottom) & (columns >= left) & (columns < right)'''


def _legacy_augment(mode: str, padding: int) -> str:
    """augment(batch_x, generator): the random flips and crops of one training batch, drawn on its device."""
    if mode == "flip":
        return '''\
def augment(batch_x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Flip a random half of the training images left to right, a different half in every batch."""
    flip = torch.rand(len(batch_x), 1, 1, 1, generator=generator, device=batch_x.device) < 0.5
    return torch.where(flip, batch_x.flip(3), batch_x)'''
    flip = mode == "crop+flip"
    summary = f"Shift each training image by up to {padding} pixels (a crop of it padded with zeros)" + (
        " and flip a random half of them." if flip else "."
    )
    flip_lines = (
        "    flip = torch.rand(n, 1, 1, generator=generator, device=device) < 0.5\n"
        "    columns = torch.where(flip, width - 1 - columns, columns)\n"
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
    top = torch.randint(0, 2 * padding + 1, (n, 1, 1), generator=generator, device=device)
    left = torch.randint(0, 2 * padding + 1, (n, 1, 1), generator=generator, device=device)
    rows = torch.arange(height, device=device).view(1, height, 1)
    columns = torch.arange(width, device=device).view(1, 1, width)
{flip_lines}    # (n, height, width): where each output pixel lies in its padded image, as a flat position
    index = (rows + top) * (width + 2 * padding) + columns + left
    pixels = padded.flatten(2).gather(2, index.flatten(1).unsqueeze(1).expand(-1, channels, -1))
    return pixels.view(n, channels, height, width)'''

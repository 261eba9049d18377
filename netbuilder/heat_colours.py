"""The colours of an explanation's map, shared by the Predict tab and `netbuilder explain`: red where the
network looks a little, yellow where it looks most, and clear where it does not look at all, so the sample
shows through. numpy only: the window draws with it before torch is loaded."""

from __future__ import annotations

from typing import Any


def heat_rgba(heat: Any, opacity: float) -> Any:
    """An (H, W) map in [0, 1] as (H, W, 4) uint8 RGBA pixels, as opaque as `opacity` where it is highest."""
    import numpy

    value = numpy.clip(numpy.nan_to_num(numpy.asarray(heat, dtype=numpy.float32)), 0.0, 1.0)
    pixels = numpy.zeros((*value.shape, 4), dtype=numpy.uint8)
    pixels[..., 0] = 255
    pixels[..., 1] = (value * 230).astype(numpy.uint8)
    pixels[..., 3] = (value * opacity * 255).round().astype(numpy.uint8)
    return pixels

"""The explanation map's colours: clear where the network does not look, as opaque as asked where it looks most."""

from __future__ import annotations

import numpy

from netbuilder.heat_colours import heat_rgba


def test_the_sample_shows_through_where_the_map_is_zero_and_the_peak_is_as_opaque_as_asked():
    heat = numpy.array([[0.0, 0.5], [1.0, numpy.nan]], dtype=numpy.float32)
    pixels = heat_rgba(heat, 0.6)
    assert pixels.shape == (2, 2, 4) and pixels.dtype == numpy.uint8
    assert pixels[0, 0, 3] == 0 and pixels[1, 1, 3] == 0  # zero, and a NaN, cover nothing
    assert pixels[1, 0, 3] == round(0.6 * 255)
    assert pixels[0, 1, 3] == round(0.5 * 0.6 * 255)
    assert pixels[1, 0, 1] > pixels[0, 1, 1] > pixels[0, 0, 1]  # yellower where it looks more

"""Previews of datasets: images for image sets (one per class first), class counts, 2-D points."""

from __future__ import annotations

import numpy
import pytest

from netbuilder.data.loading import DataLoadError, load_dataset
from netbuilder.data.preview import make_preview


def test_digits_preview_shows_one_image_of_each_class_first():
    preview = make_preview({"dataset": "digits"})
    assert preview.samples == 1797 and preview.input_shape == (1, 8, 8)
    assert preview.images.shape == (16, 8, 8, 3) and preview.images.dtype == numpy.uint8
    assert sorted(preview.image_labels[:10]) == list(range(10))
    assert preview.counts.sum() == 1797 and len(preview.counts) == 10


def test_spirals_preview_is_points_coloured_by_class():
    preview = make_preview({"dataset": "spirals", "samples": 300, "classes": 3})
    assert preview.points.shape == (300, 2) and set(preview.point_labels.tolist()) == {0, 1, 2}
    assert preview.images is None


def test_regression_preview_plots_the_feature_against_the_target():
    preview = make_preview({"dataset": "sine", "samples": 200})
    assert preview.points.shape == (200, 2) and preview.counts is None and len(preview.values) == 200


def test_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DataLoadError, match="no MNIST files"):
        load_dataset({"dataset": "mnist", "path": str(tmp_path)})

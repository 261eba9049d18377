"""The Dataset preview's grid of augmented training images: train.py's own functions, seeded, drawn anew on
"New samples", and shown only for a Dataset that augments."""

from __future__ import annotations

import numpy
import pytest

from netbuilder.data.augmented_preview import GRID, augmentation_of, augmented_grid
from netbuilder.data.preview import make_preview
from netbuilder.training.program import load_program
from tests.networks import small_cnn_project

STRIPES = {"dataset": "stripes", "samples": 120, "image_size": 16, "classes": 4, "normalize": True}


def cells(grid) -> numpy.ndarray:
    return grid.images.reshape(GRID, GRID, *grid.images.shape[1:])


def test_the_grid_runs_the_functions_train_py_holds():
    params = {**STRIPES, "augment": "crop+flip", "rotation": 10.0, "jitter": 0.2, "cutmix": 1.0}
    project = small_cnn_project("stripes", params, channels=4, classes=4, dropout=False)
    source = load_program(project).script_source
    (dataset,) = [node for node in project.graph.nodes.values() if node.block == "Dataset"]
    functions = augmentation_of(dataset.params).functions()
    assert len(functions) > 3 and all(function in source for function in functions)


def test_flips_alone_show_each_image_as_it_is_or_mirrored_and_new_samples_draw_again():
    preview = make_preview({**STRIPES, "augment": "flip"})
    rows = cells(preview.augmented)
    assert preview.augmented.images.shape == (GRID * GRID, 16, 16, 3)
    for row in rows:
        for cell in row:
            assert numpy.array_equal(cell, row[0]) or numpy.array_equal(cell, row[0][:, ::-1])
    assert any(not numpy.array_equal(cell, row[0]) for row in rows for cell in row), "some are flipped"
    again = augmented_grid({**STRIPES, "augment": "flip"}, preview.originals, preview.class_names, draw=1)
    same = augmented_grid({**STRIPES, "augment": "flip"}, preview.originals, preview.class_names, draw=0)
    assert numpy.array_equal(same.images, preview.augmented.images), "a draw is seeded"
    assert not numpy.array_equal(again.images, preview.augmented.images)


def test_mixing_labels_name_both_classes_and_no_augmentation_shows_no_grid():
    preview = make_preview({**STRIPES, "augment": "none", "mixup": 1.0})
    assert any("%" in label and " / " in label for label in preview.augmented.labels)
    assert make_preview({**STRIPES, "augment": "none"}).augmented is None


@pytest.mark.slow
def test_the_window_shows_the_grid_and_new_samples_draw_again(qtbot):
    from netbuilder.ui.panels.dataset_preview import DatasetPreview

    preview = DatasetPreview()
    qtbot.addWidget(preview)
    preview.resize(360, 900)
    preview.show()
    preview.set_params({**STRIPES, "augment": "crop+flip", "rotation": 15.0, "erasing": 0.5})
    preview.load()
    qtbot.waitUntil(lambda: preview.preview is not None, timeout=60_000)
    view = preview.augmented
    assert view.isVisible() and view.grid.draw == 0
    first = view.grid.images.copy()
    view.button.click()
    qtbot.waitUntil(lambda: view.grid.draw == 1, timeout=30_000)
    assert not numpy.array_equal(first, view.grid.images)
    view.canvas.grab()  # paints without error
    preview.set_params({**STRIPES, "augment": "none"})
    qtbot.waitUntil(lambda: preview.preview is not None and preview.preview.augmented is None, timeout=60_000)
    assert not view.isVisible()
    preview.wait()

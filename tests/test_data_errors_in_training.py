"""A sample that cannot be read while training (an image damaged after the dataset was checked) ends the run
with one line naming the file, whether a DataLoader worker or the run's own process read it."""

from __future__ import annotations

import re

import pytest

from netbuilder.training.engine import Trainer
from tests.test_streaming import folder_project, write_folder


@pytest.mark.parametrize("workers", [0, 1])
def test_a_truncated_image_ends_the_run_with_one_line_naming_it(tmp_path, workers, capsys):
    folder = write_folder(tmp_path / "images")
    trainer = Trainer(folder_project(folder, augment="none", epochs=1), workers=workers)  # checked and read
    for image in (folder / "cat").iterdir():  # then damaged on disk
        image.write_bytes(image.read_bytes()[:60])
    outcome = trainer.run()
    assert outcome.status == "failed"
    assert re.fullmatch(
        r"cat/\d+\.(png|jpg) (is truncated|cannot be read \(.*\)): remove or replace it", outcome.message
    )
    assert "\n" not in outcome.message and "Caught" not in outcome.message

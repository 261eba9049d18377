"""Training settings and starting weights change through the Project, which tells listeners with one event per
change (old and new value), so an undo stack can record and invert them as it does the graph's edits."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from netbuilder.project import Project, SettingsError, TrainingSettings
from netbuilder.project.events import SettingChanged, StartingWeightsChanged


def _listened() -> tuple[Project, list]:
    project = Project.new("net")
    heard: list = []
    project.subscribe(heard.append)
    return project, heard


def test_a_setting_change_is_told_with_its_old_and_new_value() -> None:
    project, heard = _listened()
    project.set_setting("epochs", 5)
    assert project.training.epochs == 5
    assert heard == [SettingChanged("epochs", 20, 5)]
    project.set_setting("epochs", 5.0)  # the value it has (stored as 5): nothing happens
    assert heard == [SettingChanged("epochs", 20, 5)]


def test_a_bad_value_is_refused_and_nothing_is_told() -> None:
    project, heard = _listened()
    with pytest.raises(SettingsError):
        project.set_setting("val_fraction", 2)
    assert project.training == TrainingSettings() and heard == []


def test_settings_taken_whole_tell_each_change_in_declaration_order() -> None:
    project, heard = _listened()
    project.set_settings(TrainingSettings(seed=4, batch_size=8))
    assert heard == [SettingChanged("batch_size", 64, 8), SettingChanged("seed", 0, 4)]


def test_starting_weights_changes_are_told() -> None:
    project, heard = _listened()
    weights = Path("net.weights.safetensors")
    project.set_weights(weights)
    project.set_weights(weights)
    project.set_weights(None)
    assert heard == [StartingWeightsChanged(None, weights), StartingWeightsChanged(weights, None)]
    assert project.weights is None


def test_recorded_events_undo_and_redo_an_edit() -> None:
    project = Project.new("net")
    weights = Path("net.weights.safetensors")
    project.set_weights(weights)
    recorded: list = []
    stop = project.subscribe(recorded.append)
    project.set_settings(TrainingSettings(epochs=3, device="cpu", grad_clip=1.0))  # one edit, three events
    project.set_weights(None)
    stop()
    edited = (project.training, project.weights)
    for event in reversed(recorded):
        project.revert(event)
    assert (project.training, project.weights) == (TrainingSettings(), weights)
    for event in recorded:
        project.replay(event)
    assert (project.training, project.weights) == edited


def test_unsubscribed_listeners_and_copies_hear_nothing() -> None:
    project, heard = _listened()
    copy = dataclasses.replace(project, training=TrainingSettings(epochs=2))
    copy.set_setting("epochs", 9)
    stop = project.subscribe(heard.append)
    stop()
    project.set_setting("seed", 1)
    assert heard == [SettingChanged("seed", 0, 1)]  # heard once: by the first listener only

"""The training room's small parts, without a run: the settings form follows the declared settings, and what
the panel says about a run that ended."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtWidgets import QComboBox, QLabel

from netbuilder.project import TrainingSettings
from netbuilder.project.run_history import RunRecord
from netbuilder.project.settings import SETTINGS
from netbuilder.ui.training.run_words import failure_advice, idle_words, outcome_words
from netbuilder.ui.training.settings_form import SettingsForm
from netbuilder.ui.training.worker import RunEnd


def test_the_form_has_one_field_per_declared_setting_with_its_label_help_and_range(qtbot):
    form = SettingsForm()
    qtbot.addWidget(form)
    assert list(form.fields) == [spec.name for spec in SETTINGS]
    labels = {label.text(): label for label in form.findChildren(QLabel)}
    for spec in SETTINGS:
        field = form.fields[spec.name]
        assert labels[spec.label].buddy() is field and field.toolTip() == spec.help
        if isinstance(field, QComboBox):
            continue
        low = spec.low * 100 if spec.percent else spec.low
        assert field.minimum() == low, spec.name
        if spec.off_at_zero:
            assert field.specialValueText() == "off"
    assert form.fields["precision"].count() == 3  # the declared choices; devices come from the probe


def test_the_form_shows_settings_and_reports_edits_in_their_own_units(qtbot):
    form = SettingsForm()
    qtbot.addWidget(form)
    settings = TrainingSettings(epochs=7, val_fraction=0.25, device="cuda")
    form.fill_devices(None, settings)
    assert form.fields["epochs"].value() == 7 and form.fields["val_fraction"].value() == 25
    assert form.fields["device"].currentData() == "cuda"  # kept (and said) before torch is asked
    edits = []
    form.edited.connect(lambda name, value: edits.append((name, value)))
    form.show_settings(replace(settings, epochs=9))  # showing is not editing
    form.fields["val_fraction"].setValue(30)
    form.fields["precision"].setCurrentIndex(1)
    assert edits == [("val_fraction", 0.3), ("precision", "bf16")]
    form.fill_devices(["NVIDIA H200"], settings)
    assert form.fields["device"].itemText(2) == "cuda: NVIDIA H200"


def test_what_the_panel_says_when_a_run_ends():
    weights = Path("/p/.runs/run-1/model.pt")
    done = outcome_words(
        RunEnd("completed", epochs_done=3, val_metrics={"val_accuracy": 0.9}, weights=weights), 65, saved=True
    )
    assert done.progress == "done · 3 epochs in 1:05" and done.progress_value == 1
    assert done.text == "Done: validation accuracy 90.0%. Weights saved in .runs/."
    unsaved = outcome_words(RunEnd("stopped", epochs_done=0, started=True), 1, saved=False)
    assert unsaved.text == "Stopped." and unsaved.status_line == "Training stopped"
    failed = outcome_words(RunEnd("failed", "fc1 (Linear) failed: shapes"), 1, saved=True)
    assert (
        failed.text
        == "Fc1 (Linear) failed: shapes. Check that block's settings in the inspector, then press Train again."
    )
    assert failure_advice("the loss became NaN at step 3") == "The loss became NaN at step 3."


def test_before_a_run_the_panel_says_what_train_does_or_how_the_last_run_went():
    settings = TrainingSettings(epochs=5, batch_size=32)
    assert idle_words(settings, []) == "Press Train to train this network: 5 epochs, batches of 32."
    last = RunRecord("run-1", "completed", final={"val_accuracy": 0.5})
    assert idle_words(settings, [last]) == (
        "Last run (run-1): completed, validation accuracy 50.0%.\n1 run of this project drawn faintly behind the next."
    )

"""The Training panel greys out a setting that changes nothing for the network drawn, the machine and the other
settings, its tooltip saying why, as the inspector greys out a parameter that does not apply: precision on the
CPU, sync batch norm without batch norm or in one process. Drawing a batch norm or choosing a second process
brings it back; undo greys it again; a greyed-out setting keeps its value."""

from __future__ import annotations

import pytest

from netbuilder.project import TrainingSettings
from netbuilder.project.settings import SETTING
from netbuilder.ui.training.settings_form import SettingsForm

pytestmark = pytest.mark.usefixtures("no_thread_left_running")

HELP = SETTING["sync_batchnorm"].help
NO_BATCH_NORM = f"No effect: the network has no batch norm.\n{HELP}"
ONE_PROCESS = f"No effect: it trains in one process, whose batch norm sees the whole batch already.\n{HELP}"
ON_THE_CPU = f"No effect: it trains on the CPU, always in fp32.\n{SETTING['precision'].help}"


def _sync(window):
    panel = window.training
    return panel.fields["sync_batchnorm"], panel.form.labels["sync_batchnorm"]


def test_sync_batch_norm_is_greyed_out_saying_why_until_the_network_has_batch_norm(qtbot, window):
    field, label = _sync(window)
    assert not field.isEnabled() and not label.isEnabled()
    assert field.toolTip() == label.toolTip() == NO_BATCH_NORM
    window.training.fields["processes"].setValue(2)
    assert window.document.project.training.processes == 2
    assert not field.isEnabled() and field.toolTip() == NO_BATCH_NORM  # still nothing to synchronise
    graph = window.document.project.graph
    (edge,) = [e for e in graph.edges if e.src == graph.by_label("fc1").id]
    assert window.controller.insert_on_edge(edge, "BatchNorm1d", (0.0, 0.0))
    qtbot.waitUntil(field.isEnabled)
    assert label.isEnabled() and field.toolTip() == label.toolTip() == HELP
    assert window.training.fields["epochs"].isEnabled()  # the others as they were
    window.undo_action.trigger()  # the batch norm taken out again
    qtbot.waitUntil(lambda: not field.isEnabled())
    assert field.toolTip() == NO_BATCH_NORM


@pytest.mark.parametrize("project_path", ["residual_cnn"], indirect=True)
def test_with_batch_norm_it_waits_for_a_second_process_and_keeps_its_value(qtbot, window):
    panel = window.training
    field, label = _sync(window)
    assert not field.isEnabled() and field.toolTip() == ONE_PROCESS
    panel.fields["processes"].setValue(2)
    assert field.isEnabled() and label.isEnabled() and field.toolTip() == HELP
    field.setCurrentIndex(field.findData("on"))
    assert window.document.project.training.sync_batchnorm == "on"
    panel.fields["processes"].setValue(1)
    assert not field.isEnabled() and field.toolTip() == ONE_PROCESS
    assert field.currentData() == "on" == window.document.project.training.sync_batchnorm  # kept, greyed out
    window.undo_action.trigger()  # two processes again
    assert field.isEnabled() and field.currentData() == "on"


def test_precision_is_greyed_out_where_the_run_is_on_the_cpu(qtbot):
    form = SettingsForm()
    qtbot.addWidget(form)
    precision = form.fields["precision"]
    auto = TrainingSettings(precision="bf16")
    form.fill_devices(None, auto)  # torch not asked yet: auto may well take a GPU
    assert precision.isEnabled() and precision.toolTip() == SETTING["precision"].help
    form.fill_devices([], auto)  # no GPU here: auto trains on the CPU
    assert not precision.isEnabled() and not form.labels["precision"].isEnabled()
    assert precision.toolTip() == ON_THE_CPU and precision.currentData() == "bf16"  # kept
    form.fill_devices(["NVIDIA H200"], auto)
    assert precision.isEnabled()
    form.show_settings(TrainingSettings(precision="bf16", device="cpu"))  # the CPU chosen, GPU or not
    assert not precision.isEnabled() and precision.toolTip() == ON_THE_CPU


def test_choosing_the_cpu_in_the_window_greys_precision_out(qtbot, window):
    panel = window.training
    device, precision = panel.fields["device"], panel.fields["precision"]
    device.setCurrentIndex(device.findData("cpu"))
    assert window.document.project.training.device == "cpu"
    assert not precision.isEnabled() and precision.toolTip() == ON_THE_CPU
    window.undo_action.trigger()
    assert window.document.project.training.device == "auto"
    qtbot.waitUntil(lambda: panel.cuda_names is not None)  # what auto means here: asked of torch once shown
    assert precision.isEnabled() == bool(panel.cuda_names)

"""The Gradients tab of the Training dock: a real run fills the heat strip, a cell says its figures under the
pointer, and exploding or vanishing gradients show a warning whose remedies are one undoable click."""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import QPointF, Qt

from netbuilder.project.gradient_samples import SAMPLE_EVERY, GradientReport, GradientSample
from tests.ui.test_training_dock import set_up, train, wait_until_done

pytestmark = pytest.mark.usefixtures("no_thread_left_running")
LEFT = Qt.MouseButton.LeftButton


def report(layers: tuple[str, ...], *rows: tuple[int, tuple[float, ...]]) -> GradientReport:
    return GradientReport(
        layers, tuple(GradientSample(step, norms, (1.0,) * len(norms), (1e-3,) * len(norms)) for step, norms in rows)
    )


def test_a_run_fills_the_strip_one_column_per_sampled_step_named_by_node(window, qtbot):
    set_up(window, epochs=1)
    heard = train(qtbot, window)
    wait_until_done(qtbot, window, heard)
    tab = window.training.gradients_tab
    strip = tab.strip
    window.training.plot_tabs.setCurrentWidget(tab)
    strip.refresh()
    steps = heard.started[0].steps_per_epoch
    # every 10th step, or fewer evenly spaced ones where the steps were quick (the engine doubles its interval)
    spacing = strip.spacing
    assert spacing % SAMPLE_EVERY == 0 and strip.columns == math.ceil(steps / spacing)
    assert list(strip.steps[: strip.columns]) == list(range(1, steps + 1, spacing))
    labels = {node.label for node in window.training.document.project.graph.nodes.values()}
    assert strip.layers and set(strip.layers) <= labels
    assert strip.image.image.shape == (len(strip.layers), strip.columns)
    assert not tab.hint.isVisible() and strip.isVisible()
    assert tab.warning_text() == ""  # the sample network trains healthily

    # the pointer over the first layer's second column: its step and figures in words
    point = strip.plot.vb.mapViewToScene(QPointF(1 + spacing, 0.5))
    assert strip.cell_at(point) == (0, 1)
    words = strip.cell_words(0, 1)
    assert words.startswith(f"{strip.layers[0]} at step {1 + spacing}: gradient norm ")


def test_the_strip_keeps_its_columns_evenly_spaced_and_bounded(window, monkeypatch):
    from netbuilder.ui.training import gradient_strip

    tab = window.training.gradients_tab
    tab.begin_run(window.training.document.project)
    tab.add_report(report(("fc1", "fc2"), *((step, (1.0, 1.0)) for step in (1, 11, 21, 31, 41, 61))))
    strip = tab.strip
    assert list(strip.steps[: strip.columns]) == [1, 21, 41, 61] and strip.spacing == 20  # the engine slowed down
    monkeypatch.setattr(gradient_strip, "MAX_COLUMNS", 6)
    tab.add_report(report(("fc1", "fc2"), *((step, (1.0, 1.0)) for step in range(81, 300, 20))))
    assert strip.columns <= 6 and strip.spacing == 80
    assert list(strip.steps[: strip.columns]) == [61, 141, 221]


def test_exploding_gradients_warn_in_the_tab_and_its_remedies_are_undoable_edits(window, qtbot):
    panel = window.training
    tab = panel.gradients_tab
    project = panel.document.project
    tab.begin_run(project)
    tab.add_report(report(("fc1", "fc2"), (1, (1.0, 2.0)), (11, (3.0, float("inf")))))
    panel.plot_tabs.setCurrentWidget(tab)
    assert tab.warning_text().startswith("Exploding gradients: the gradients of fc2 became inf at step 11.")
    assert not panel.plot_tabs.tabIcon(panel.plot_tabs.indexOf(tab)).isNull()
    optimizer = project.graph.nodes[panel.document.analysis.training_task.optimizer_node]
    rate = optimizer.params["lr"]  # the sample's own: 0.002
    labels = [button.text() for button, _ in tab.buttons]
    assert labels == ["Gradient clipping at 1", f"A learning rate of {rate / 10:g}", "A cosine learning-rate schedule"]

    tab.set_running(True)  # the graph is locked while a run trains
    assert not any(button.isEnabled() for button, _ in tab.buttons)
    tab.set_running(False)
    clip, lower = tab.buttons[0][0], tab.buttons[1][0]
    qtbot.mouseClick(clip, LEFT)
    qtbot.mouseClick(lower, LEFT)
    assert project.training.grad_clip == 1.0 and optimizer.params["lr"] == pytest.approx(rate / 10)
    assert not clip.isEnabled() and not lower.isEnabled()  # in effect
    panel.editor.undo_stack.undo()
    panel.editor.undo_stack.undo()
    assert project.training.grad_clip == 0 and optimizer.params["lr"] == rate
    assert clip.isEnabled() and lower.isEnabled()  # undone: they can be chosen again

    tab.begin_run(project)  # a new run clears the warning
    assert tab.warning_text() == "" and tab.buttons == []
    assert panel.plot_tabs.tabIcon(panel.plot_tabs.indexOf(tab)).isNull()


def test_vanishing_gradients_warn_naming_the_first_layer_without_buttons(window, qtbot):
    tab = window.training.gradients_tab
    tab.begin_run(window.training.document.project)
    window.training.plot_tabs.setCurrentWidget(tab)
    low = (1e-7, 1e-2, 1.0)
    tab.add_report(report(("fc1", "fc2", "fc3"), (1, low), (11, low), (21, low)))
    assert tab.warning_text().startswith(
        "Vanishing gradients: fc1 gets gradients 1e-07 times those of fc3 (step 21), so it hardly learns."
    )
    assert tab.banner.isVisible() and tab.buttons == [] and not tab.remedy_row.isVisible()

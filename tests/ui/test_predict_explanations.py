"""What the network looks at, in the Predict tab: after a real run of a CNN, a person picks Grad-CAM (at the
last convolution, or another), saliency or integrated gradients, and the map is drawn over the chosen sample,
as opaque as the slider says; it follows the sample chosen, and its work is joined like every other task."""

from __future__ import annotations

import numpy
import pytest
from PySide6.QtGui import QImage

import netbuilder.ui.training.predict_panel as predict_panel_module
from netbuilder.ui.training.explanation_controls import PREDICTED_CLASS
from tests.ui.test_predict_panel import trained_window
from tests.ui.test_training_dock import TIMEOUT_MS

pytestmark = pytest.mark.usefixtures("no_thread_left_running")


SAMPLE = "digits_cnn"  # the project_path fixture copies it


def choose(panel, method: str) -> None:
    box = panel.explanation.method_box
    box.setCurrentIndex(box.findData(method))


def wait_for_map(qtbot, panel, sample: int) -> None:
    qtbot.waitUntil(
        lambda: panel.sample_view.heat is not None and panel.current_sample == sample and not panel._explain_task,
        timeout=TIMEOUT_MS,
    )


def drawn(panel) -> QImage:
    return panel.sample_view.grab().toImage()


def drawn_alone(panel) -> QImage:
    """The chosen sample as it is drawn without a map, at the view's present size."""
    view = panel.sample_view
    heat, opacity = view.heat, view.opacity
    view.set_explanation(None, opacity)
    image = drawn(panel)
    view.set_explanation(heat, opacity)
    return image


def test_grad_cam_is_drawn_over_the_chosen_sample_and_follows_it(window, qtbot):
    panel = trained_window(qtbot, window)
    assert panel.explanation.isVisible() and panel.explanation.method == ""  # off until asked
    choose(panel, "gradcam")
    wait_for_map(qtbot, panel, 0)
    assert panel.sample_view.heat.shape == (8, 8)
    conv = next(node.label for node in window.document.project.graph.nodes.values() if node.block == "Conv2d")
    assert panel.explanation.status.text().startswith(f"Grad-CAM at {conv}: where it looks for ")
    plain = drawn_alone(panel)
    assert drawn(panel) != plain  # the map covers the digit

    # the slider at 0 shows the sample alone again; the map is kept for when it goes up
    panel.explanation.opacity.setValue(0)
    assert drawn(panel) == plain and panel.sample_view.heat is not None
    panel.explanation.opacity.setValue(80)
    assert drawn(panel) != plain

    # another sample gets its own map
    first = panel.sample_view.heat
    panel.step(1)
    wait_for_map(qtbot, panel, 1)
    assert not (panel.sample_view.heat == first).all()

    for method, name in (("saliency", "Saliency"), ("ig", "Integrated gradients")):
        choose(panel, method)
        wait_for_map(qtbot, panel, 1)
        assert panel.explanation.status.text().startswith(f"{name}: where it looks for ")

    choose(panel, "")  # off: the sample alone
    assert panel.sample_view.heat is None and not panel.explanation.status.isVisible()


@pytest.mark.parametrize("project_path", ["digits_autoencoder"], indirect=True)
def test_a_network_that_gives_back_its_image_offers_no_explanation(window, qtbot):
    """Its input and output side by side say what it does; a map of one output pixel would say little."""
    panel = trained_window(qtbot, window)
    assert panel.predictions.output_images is not None
    assert not panel.explanation.isVisible()


def test_another_class_can_be_explained_and_the_caption_names_it(window, qtbot, monkeypatch):
    """The class box offers the predicted class first, then each class by name with the sample's true class
    marked; choosing one sends that class as the target and draws its own map."""
    sent = []
    real_explain = predict_panel_module.explain_run_sample

    def explain_and_note(project, weights, explainer, request):
        sent.append(request)
        return real_explain(project, weights, explainer, request)

    panel = trained_window(qtbot, window)
    monkeypatch.setattr(predict_panel_module, "explain_run_sample", explain_and_note)
    predictions = panel.predictions
    true, predicted = int(predictions.true[0]), int(predictions.predicted[0])
    choose(panel, "saliency")
    wait_for_map(qtbot, panel, 0)
    box = panel.explanation.class_box
    assert box.isVisible() and box.currentText() == PREDICTED_CLASS
    assert box.count() == 1 + predictions.probabilities.shape[1]
    assert box.itemText(1 + true) == f"Class {predictions.class_names[true]} (true)"
    assert sent[-1].target == predicted
    assert panel.explanation.status.text().endswith(" predicted)")
    predicted_map = panel.sample_view.heat

    other = next(c for c in range(box.count() - 1) if c not in (true, predicted))
    box.setCurrentIndex(box.findData(other))
    qtbot.waitUntil(lambda: sent[-1].target == other, timeout=TIMEOUT_MS)
    wait_for_map(qtbot, panel, 0)
    assert panel.explanation.status.text() == f"Saliency: where it looks for {predictions.class_names[other]}"
    assert not numpy.allclose(panel.sample_view.heat, predicted_map)  # another class rests on other pixels

    # the choice is kept for the next sample, whose own true class is marked
    panel.step(1)
    qtbot.waitUntil(lambda: sent[-1].sample == 1, timeout=TIMEOUT_MS)
    assert sent[-1].target == other and panel.explanation.target_class == other
    box.setCurrentIndex(0)  # the predicted class again
    qtbot.waitUntil(lambda: sent[-1].target == int(predictions.predicted[1]), timeout=TIMEOUT_MS)
    wait_for_map(qtbot, panel, 1)

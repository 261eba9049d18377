"""A node's output in the Predict tab, as a person finds it: after a real run, the tab says that clicking a node
shows its output; clicking a convolution shows its channels for the chosen sample (and the next sample's when
stepping), the last layer its values with the largest named, the loss why it has none; a node clicked while the
tab is hidden is asked for only once the tab is looked at; inside an opened block, a node's own output is shown
(inside a repeated block, the block's, and the caption says why)."""

from __future__ import annotations

import numpy
import pytest
from PySide6.QtCore import QPointF, Qt

from netbuilder.training.feature_maps import SEQUENCE, VECTOR, FeatureMap
from netbuilder.ui.training.feature_map_loading import FeatureMapRequest
from netbuilder.ui.training.feature_map_view import HINT, FeatureMapPicture
from tests.ui.test_predict_panel import open_predict_tab, trained_window
from tests.ui.test_training_dock import TIMEOUT_MS

pytestmark = pytest.mark.usefixtures("no_thread_left_running")


SAMPLE = "digits_cnn"  # the project_path fixture copies it


def click_node(qtbot, window, label: str) -> str:
    """Click the node labelled `label` on the canvas (of the graph being edited); its id."""
    node = window.controller.graph.by_label(label).id
    item = window.scene.nodes[node]
    window.view.centerOn(item)
    qtbot.mouseClick(
        window.view.viewport(),
        Qt.MouseButton.LeftButton,
        pos=window.view.mapFromScene(item.sceneBoundingRect().center()),
    )
    assert window.scene.selected_node_ids() == [node]
    return node


def wait_for_output(qtbot, view, sample: int, *path: str) -> None:
    qtbot.waitUntil(lambda: view._shown == FeatureMapRequest(sample, path) and view._task is None, timeout=TIMEOUT_MS)


def test_clicking_a_node_shows_its_output_for_the_chosen_sample(window, qtbot):
    panel = trained_window(qtbot, window)
    view = panel.feature_map
    assert view.isVisible() and view.picture.placeholder == HINT and view.asked is None

    conv = click_node(qtbot, window, "conv1")
    assert view.asked == FeatureMapRequest(0, (conv,))
    wait_for_output(qtbot, view, 0, conv)
    shown = view.picture.feature_map
    assert shown.kind == "image" and shown.values.shape == (16, 8, 8)
    assert view.caption.text().startswith("<b>conv1</b> · output (16, 8, 8) · 16 channels")
    assert len(view.picture.cells()) == 16 and view.shared_scale.isVisible()
    assert view.picture.words_at(view.picture.cells()[3].center()).startswith("channel 3: ")
    own_scale = view.picture.grab().toImage()
    view.shared_scale.setChecked(True)
    assert view.picture.grab().toImage() != own_scale

    panel.step(1)  # the next sample's output
    wait_for_output(qtbot, view, 1, conv)
    assert not numpy.array_equal(view.picture.feature_map.values, shown.values)

    fc = click_node(qtbot, window, "fc")
    wait_for_output(qtbot, view, 1, fc)
    values = view.picture.feature_map.values
    assert values.shape == (10,) and f"largest: value {int(values.argmax())} (" in view.caption.text()
    assert not view.shared_scale.isVisible()

    loss = click_node(qtbot, window, "loss")
    wait_for_output(qtbot, view, 1, loss)
    assert view.picture.feature_map is None
    assert view.caption.text().startswith("<b>loss</b>: A loss gives nothing for one sample")


def test_a_node_clicked_while_the_tab_is_hidden_is_asked_for_when_it_is_looked_at(window, qtbot):
    panel = trained_window(qtbot, window)
    view = panel.feature_map
    window.training.plot_tabs.setCurrentIndex(0)  # the plots: the Predict tab is out of view
    assert not view.isVisible()
    relu = click_node(qtbot, window, "relu1")
    assert view.asked is None and view._task is None  # nothing is made for a tab nobody sees
    open_predict_tab(qtbot, window)
    assert view.asked == FeatureMapRequest(0, (relu,))
    wait_for_output(qtbot, view, 0, relu)
    assert view.picture.feature_map.kind == "image"


@pytest.mark.parametrize("project_path", ["digits_resnet"], indirect=True)
def test_inside_an_opened_block_a_node_shows_its_own_output_and_a_repeated_block_its_whole(window, qtbot):
    panel = trained_window(qtbot, window)
    view = panel.feature_map
    graph = window.document.project.graph
    stage2, stage1 = graph.by_label("stage2").id, graph.by_label("stage1").id
    window.controller.open_path((stage2,))
    conv = click_node(qtbot, window, "conv1")
    wait_for_output(qtbot, view, 0, stage2, conv)
    assert view.caption.text().startswith("<b>stage2 › conv1</b> · output (32, 4, 4) · 32 channels")

    window.controller.open_path((stage1,))  # Repeat x2: which copy's inside?
    click_node(qtbot, window, "conv1")
    qtbot.waitUntil(lambda: view.picture.feature_map is not None and view.picture.feature_map.path == (stage1,))
    assert view.caption.text().startswith("<b>stage1</b> · output (16, 8, 8)")
    assert "<br>stage1 repeats its block" in view.caption.text()


def test_a_sequence_is_a_strip_and_a_vector_is_bars_each_naming_the_value_under_the_pointer(qtbot):
    picture = FeatureMapPicture()
    qtbot.addWidget(picture)
    picture.resize(400, 200)
    picture.show_map(FeatureMap("n", (4, 2), SEQUENCE, numpy.arange(8, dtype=numpy.float32).reshape(4, 2)))
    assert picture.words_at(QPointF(390, 190)) == "step 3, feature 1: 7"  # steps across, features down
    assert picture.words_at(QPointF(10, 10)) == "step 0, feature 0: 0"
    strip = picture.grab().toImage()
    assert strip.pixelColor(390, 190).lightness() > strip.pixelColor(10, 10).lightness()  # brighter is larger

    picture.show_map(FeatureMap("n", (3,), VECTOR, numpy.array([-1.0, 2.0, 0.5], dtype=numpy.float32)))
    assert picture.words_at(QPointF(200, 50)) == "value 1: 2"
    assert picture.words_at(QPointF(10, 150)) == "value 0: −1"

"""The Predict tab after a run on texts, as a person uses it: a list of the validation texts, each line the
predicted class and the start of the text; the chosen text whole, its tokens as the network read them (<unk>
marked, a cut text said so); integrated gradients colour each token towards the class or against it, with a
legend and a tooltip per token; saliency colours sizes only."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QListView

from netbuilder.project import save_project
from netbuilder.token_display import AGAINST, TOWARDS, joined
from netbuilder.training.engine import with_settings
from tests.test_predict_text import EVERY_STEP, MAX_LENGTH, reviews_csv
from tests.test_text_data import text_project
from tests.ui.test_predict_explanations import choose, wait_for_map
from tests.ui.test_predict_panel import trained_window

pytestmark = pytest.mark.usefixtures("no_thread_left_running")


@pytest.fixture
def project_path(tmp_path):
    reviews_csv(tmp_path / "reviews.csv")
    project, _ = text_project(tmp_path / "reviews.csv", EVERY_STEP, max_length=MAX_LENGTH, vocab_size=40)
    path = tmp_path / "reviews.nbproj"
    save_project(with_settings(project, batch_size=16, val_fraction=0.2), path)
    return path


def hue_near(image, rgb: tuple[int, int, int]) -> bool:
    """Whether some pixel leans towards this hue (its strongest channel as the hue's, clearly above the rest)."""
    order = sorted(range(3), key=lambda c: -rgb[c])
    for x in range(0, image.width(), 2):
        for y in range(0, image.height(), 2):
            colour = image.pixelColor(x, y).getRgb()[:3]
            if colour[order[0]] - colour[order[2]] > 40 and sorted(range(3), key=lambda c: -colour[c])[0] == order[0]:
                return True
    return False


def test_texts_are_listed_and_the_chosen_one_coloured_by_its_tokens_attributions(window, qtbot):
    panel = trained_window(qtbot, window)
    predictions = panel.predictions
    assert predictions.tokens is not None and panel.grid.viewMode() == QListView.ViewMode.ListMode
    first = panel.model.data(panel.model.index(0), Qt.ItemDataRole.DisplayRole)
    predicted = predictions.class_names[int(predictions.predicted[0])]
    assert first == f"{predicted} · {joined(predictions.tokens[0])}"
    assert panel.model.data(panel.model.index(0), Qt.ItemDataRole.DecorationRole) is None
    assert panel.grid.horizontalScrollBar().maximum() == 0  # a long line is cut short (elided), not scrolled to

    view = panel.sample_view.text
    assert view.isVisible() and view.flow.tokens == predictions.tokens[0]
    cut = next(i for i, tokens in enumerate(predictions.tokens) if len(tokens) == MAX_LENGTH)
    panel.select(cut)
    assert view.summary.text().startswith(f"The first {MAX_LENGTH} tokens: the network reads no more")
    unknown = next(i for i, tokens in enumerate(predictions.tokens) if "<unk>" in tokens)
    panel.select(unknown)
    assert "outside the vocabulary (<unk>)" in view.summary.text()
    assert "a word outside the run's vocabulary" in view.flow.tooltip(predictions.tokens[unknown].index("<unk>"))
    assert "Choose Saliency or Integrated gradients" in view.legend.text()

    choose(panel, "ig")
    wait_for_map(qtbot, panel, unknown)
    heat = panel.sample_view.heat
    assert heat.min() < 0 < heat.max()  # signed: some tokens against the class, some towards it
    target = predictions.class_names[int(predictions.predicted[unknown])]
    assert f"towards {target}" in view.legend.text() and "against it" in view.legend.text()
    assert panel.explanation.status.text().startswith("Integrated gradients: what speaks for and against")
    image = view.flow.grab().toImage()
    assert hue_near(image, TOWARDS[0]) and hue_near(image, AGAINST[0])
    strongest = int(abs(heat[: len(view.flow.tokens)]).argmax())
    box = view.flow.boxes[strongest]
    assert view.flow.token_at(box.center()) == strongest and view.flow.token_at(QPointF(-5, -5)) is None
    tip = view.flow.tooltip(strongest)
    assert tip.startswith(f"Token {strongest + 1}: {view.flow.tokens[strongest]}: ")
    assert ("towards" if heat[strongest] > 0 else "against") in tip and target in tip

    choose(panel, "saliency")
    qtbot.waitUntil(lambda: panel.sample_view.heat is not None and panel.sample_view.heat.min() >= 0, timeout=30_000)
    wait_for_map(qtbot, panel, unknown)
    assert "size, not direction" in view.legend.text() and not view.flow.signed
    assert "of the largest" in view.flow.tooltip(strongest)

"""The Predict tab as a person uses it: before any run it says what to do; after a real run it shows the
validation samples and, for the chosen one, the true class, the prediction and every class's probability;
Previous, Next, Random and 'Only wrong ones' change the sample; a run going on, a network changed since the
run and a project never saved each get plain words; and its thread is joined when the window closes."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPalette

from netbuilder.ui.app.main_window import MainWindow
from netbuilder.ui.training.chosen_sample import ProbabilityBars
from netbuilder.ui.training.panel import TrainingPanel
from netbuilder.ui.training.predict_panel import NO_RUN, RUNNING, UNSAVED
from netbuilder.ui.training.sample_painting import right_colour, wrong_colour
from netbuilder.ui.widgets.colors import contrast
from tests.ui.conftest import forget_changes, running
from tests.ui.test_training_dock import TIMEOUT_MS, set_up, train, wait_until_done

pytestmark = pytest.mark.usefixtures("no_thread_left_running")

LEFT = Qt.MouseButton.LeftButton
DIGITS_VALIDATION = 359  # 20% of scikit-learn's 1,797 digits


def open_predict_tab(qtbot, win: MainWindow):
    """Click the Predict tab, as a person would; the panel."""
    tabs = win.training.plot_tabs
    bar = tabs.tabBar()
    qtbot.mouseClick(bar, LEFT, pos=bar.tabRect(tabs.indexOf(win.training.predict_panel)).center())
    assert tabs.currentWidget() is win.training.predict_panel
    return win.training.predict_panel


def wait_for_predictions(qtbot, panel) -> None:
    qtbot.waitUntil(lambda: panel.predictions is not None or "Loading" not in panel.message.text(), timeout=TIMEOUT_MS)
    assert panel.predictions is not None, panel.outcome_text()
    assert not panel.loading  # the loading task is joined before it delivers


def trained_window(qtbot, win: MainWindow):
    set_up(win, epochs=1)
    heard = train(qtbot, win)
    wait_until_done(qtbot, win, heard)
    panel = open_predict_tab(qtbot, win)
    wait_for_predictions(qtbot, panel)
    return panel


def colours_in(image: QImage) -> set[str]:
    return {image.pixelColor(x, y).name() for x in range(0, image.width(), 2) for y in range(0, image.height(), 2)}


def test_before_any_run_the_tab_says_what_to_do(window, qtbot):
    panel = open_predict_tab(qtbot, window)
    assert panel.outcome_text() == NO_RUN
    assert panel.message.isVisible() and not panel.grid.isVisible()


def test_a_project_never_saved_is_told_to_save_first(controller, qtbot):
    training = TrainingPanel(controller)
    qtbot.addWidget(training)
    assert training.predict_panel.outcome_text() == UNSAVED


def test_after_a_run_the_tab_shows_the_samples_and_readable_probabilities(window, qtbot):
    panel = trained_window(qtbot, window)
    predictions = panel.predictions
    assert panel.grid.isVisible() and panel.model.rowCount() == DIGITS_VALIDATION
    assert not panel.model.data(panel.model.index(0), Qt.ItemDataRole.DecorationRole).isNull()

    # the first sample is chosen: its true and predicted class in words, a bar per digit class
    assert panel.current_sample == 0
    true, predicted = int(predictions.true[0]), int(predictions.predicted[0])
    verdict = panel.verdict.text()
    assert f"True class <b style='color:{right_colour(panel.palette()).name()}'>{true}</b>" in verdict
    assert f">{predicted}</b> with {predictions.probabilities[0, predicted]:.0%}" in verdict
    rows = panel.bars.rows()
    assert [name for name, *_ in rows] == [str(i) for i in range(10)]
    assert sum(p for _, p, _, _ in rows) == pytest.approx(1.0, abs=1e-4)
    assert [r[2] for r in rows].index(True) == max(range(10), key=lambda i: rows[i][1])  # predicted: the longest
    assert [r[3] for r in rows].index(True) == true

    # what is drawn: the predicted bar in the right or wrong colour, and the digit as grey pixels
    right = true == predicted
    bar_colour = (right_colour if right else wrong_colour)(panel.palette()).name()
    assert bar_colour in colours_in(panel.bars.grab().toImage())
    picture = panel.sample_view.grab().toImage()
    greys = {c for c in colours_in(picture) if len({c[1:3], c[3:5], c[5:7]}) == 1}
    assert {"#000000", "#ffffff"} & greys and len(greys) > 3

    # as many wrong ones as the run's validation accuracy says
    accuracy = panel.record.final["val_accuracy"]
    wrong = int((~predictions.correct).sum())
    assert wrong == round((1 - accuracy) * DIGITS_VALIDATION)
    assert panel.wrong_only.text() == f"Only wrong ones ({wrong})"


def test_previous_next_random_and_only_the_wrong_ones_change_the_sample(window, qtbot):
    panel = trained_window(qtbot, window)
    first_words = panel.position.text()
    qtbot.mouseClick(panel.next_button, LEFT)
    assert panel.current_sample == 1
    assert panel.position.text() != first_words and panel.position.text().startswith("Validation sample 2 of 359")
    assert panel.sample_view.sample == panel.bars.sample == 1
    qtbot.mouseClick(panel.previous_button, LEFT)
    qtbot.mouseClick(panel.previous_button, LEFT)
    assert panel.current_sample == DIGITS_VALIDATION - 1  # round to the end
    before = panel.current_sample
    qtbot.mouseClick(panel.random_button, LEFT)
    assert panel.current_sample != before

    correct = panel.predictions.correct
    if correct.all():
        pytest.skip("this run got every validation sample right")
    qtbot.mouseClick(panel.wrong_only, LEFT)
    assert panel.model.rowCount() == int((~correct).sum())
    seen = set()
    for _ in range(panel.model.rowCount()):
        assert not correct[panel.current_sample] and "wrong" in panel.verdict.text()
        seen.add(panel.current_sample)
        qtbot.mouseClick(panel.next_button, LEFT)
    assert len(seen) == panel.model.rowCount()
    qtbot.mouseClick(panel.wrong_only, LEFT)
    assert panel.model.rowCount() == DIGITS_VALIDATION


def test_while_a_run_goes_on_the_tab_waits_and_shows_the_run_once_it_ends(window, qtbot):
    panel = window.training.predict_panel
    set_up(window, epochs=200)
    open_predict_tab(qtbot, window)
    heard = train(qtbot, window)
    assert window.training.plot_tabs.currentWidget() is window.training.plot_area  # the curves move meanwhile
    open_predict_tab(qtbot, window)
    assert panel.outcome_text() == RUNNING
    qtbot.waitUntil(lambda: bool(heard.progress), timeout=TIMEOUT_MS)
    qtbot.mouseClick(window.training.stop_button, LEFT)
    wait_until_done(qtbot, window, heard)
    wait_for_predictions(qtbot, panel)  # a stopped run keeps its weights too
    assert panel.record.status == "stopped" and panel.model.rowCount() == DIGITS_VALIDATION


def test_a_run_that_fails_leaves_the_last_good_runs_samples(window, qtbot, monkeypatch):
    from netbuilder.training import engine

    panel = trained_window(qtbot, window)
    shown = panel.record.run_id
    real = engine.load_program

    def failing_program(project):  # the loss is not a number from the first step: the run fails
        program = real(project)
        compute_loss = program.script.compute_loss
        program.script.compute_loss = lambda *args: compute_loss(*args) * float("nan")
        return program

    monkeypatch.setattr(engine, "load_program", failing_program)
    wait_until_done(qtbot, window, train(qtbot, window))
    assert window.training.history.records[-1].status == "failed"
    open_predict_tab(qtbot, window)
    qtbot.waitUntil(lambda: panel.grid.isVisible())
    assert panel.record.run_id == shown and panel.model.rowCount() == DIGITS_VALIDATION


def change_the_network_after_a_run(qtbot, window, project_path) -> None:
    """Train the digits MLP for an epoch, then open it again with fc1 wider: the run's weights no longer fit."""
    set_up(window, epochs=1)
    wait_until_done(qtbot, window, train(qtbot, window))
    data = json.loads(project_path.read_text())
    fc1 = next(node for node in data["graph"]["nodes"] if node["label"] == "fc1")
    fc1["params"]["out_features"] = 48  # another network: its weights have other sizes
    project_path.write_text(json.dumps(data))
    forget_changes(window)
    assert window.open_path(project_path)
    window.training_dock.raise_()


def test_a_network_changed_since_the_run_says_train_again(window, qtbot, project_path):
    change_the_network_after_a_run(qtbot, window, project_path)
    panel = open_predict_tab(qtbot, window)
    qtbot.waitUntil(lambda: "Loading" not in panel.outcome_text(), timeout=TIMEOUT_MS)
    assert panel.outcome_text().startswith("The network changed since this run; train again")


def test_closing_the_window_while_predictions_load_joins_the_thread(
    qtbot, settings, recovery, project_path, no_thread_left_running, qtlog, monkeypatch
):
    import time

    from netbuilder.training.predict import Predictor

    real_load = Predictor.load.__func__

    def slow_load(cls, *args, **kwargs):  # loading takes long enough to close the window in the middle of it
        time.sleep(1.0)
        return real_load(cls, *args, **kwargs)

    monkeypatch.setattr(Predictor, "load", classmethod(slow_load))
    win = MainWindow(settings, recovery)
    win.show()
    win.open_path(project_path)
    win.training_dock.raise_()
    set_up(win, epochs=1)
    wait_until_done(qtbot, win, train(qtbot, win))
    panel = open_predict_tab(qtbot, win)
    qtbot.waitUntil(lambda: panel.loading)  # loading, for a second at least
    forget_changes(win)
    assert win.close()
    assert running(no_thread_left_running) == []
    assert not any("Destroyed while thread" in record.message for record in qtlog.records)


def test_the_colours_read_on_light_and_dark_bases():
    for base in ("#ffffff", "#1e2126"):
        palette = QPalette()
        palette.setColor(QPalette.ColorRole.Base, QColor(base))
        for colour in (right_colour(palette), wrong_colour(palette)):
            assert contrast(colour, QColor(base)) >= 3.0, (base, colour.name())


def test_with_many_classes_the_likeliest_are_drawn_and_the_true_one_always(qtbot):
    import numpy

    from netbuilder.training.predict import Predictions

    rng = numpy.random.default_rng(0)
    probabilities = rng.dirichlet(numpy.ones(100), size=2).astype(numpy.float32)
    true = numpy.array([int(probabilities[0].argmin()), int(probabilities[1].argmax())])
    predictions = Predictions(
        numpy.arange(2),
        "classification",
        tuple(f"class {i}" for i in range(100)),
        probabilities.argmax(axis=1),
        true,
        probabilities,
        values=rng.normal(size=(2, 5)).astype(numpy.float32),
    )
    bars = ProbabilityBars()
    qtbot.addWidget(bars)
    for sample in (0, 1):
        bars.show_sample(predictions, sample)
        rows = bars.rows()
        shown = [float(p) for _, p, _, _ in rows]
        assert len(rows) == 10 and sum(r[3] for r in rows) == 1  # the true class, once
        assert rows[0][2] and shown[0] == pytest.approx(float(probabilities[sample].max()))
        likeliest = sorted(probabilities[sample].tolist(), reverse=True)[: 10 if sample else 9]
        assert shown[: len(likeliest)] == pytest.approx(likeliest)

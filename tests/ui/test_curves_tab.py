"""The ROC · PR tab (Fit for values) as a person uses it: before any run and while one goes it says what to do;
after a real run it draws the chosen class's ROC and precision-recall curves with the areas of
`netbuilder.training.curves`, or a regression run's predicted values against the true ones with the R² the run
reported; and it draws the Predict tab's predictions, never making them a second time."""

from __future__ import annotations

import numpy
import pytest
from PySide6.QtCore import QPointF, Qt
from sklearn import metrics

import netbuilder.ui.training.predict_panel as predict_panel_module
from netbuilder.training.curves import one_vs_rest
from netbuilder.training.predict import Predictions
from netbuilder.ui.training.evaluation_tab import NO_RUN, RUNNING, UNSAVED, EvaluationTab
from netbuilder.ui.training.fit_view import MAX_POINTS, FitView, fit_figures
from netbuilder.ui.training.panel import TrainingPanel
from netbuilder.ui.training.predict_panel import LOADING
from netbuilder.ui.training.roc_pr_view import POINT_AT, RocPrView, steps_after
from tests.ui.test_predict_panel import change_the_network_after_a_run, open_predict_tab, wait_for_predictions
from tests.ui.test_training_dock import TIMEOUT_MS, set_up, train, wait_until_done

LEFT = Qt.MouseButton.LeftButton


def classified(probabilities: numpy.ndarray, true: numpy.ndarray, names=()) -> Predictions:
    n = len(true)
    return Predictions(
        numpy.arange(n),
        "classification",
        tuple(names),
        predicted=probabilities.argmax(axis=1),
        true=true,
        probabilities=probabilities,
        part_size=n,
    )


def random_classified(classes: int, n: int, seed: int) -> Predictions:
    rng = numpy.random.default_rng(seed)
    true = rng.integers(0, classes, n)
    scores = rng.random((n, classes)) + numpy.eye(classes)[true] * rng.random((n, 1))
    return classified(scores / scores.sum(axis=1, keepdims=True), true)


def drawn(item) -> tuple[numpy.ndarray, numpy.ndarray]:
    x, y = item.getData()
    return numpy.asarray([] if x is None else x), numpy.asarray([] if y is None else y)


# ---- the views, on predictions made up here --------------------------------------------------------------------


def test_a_binary_task_shows_the_second_class_as_positive_and_its_areas(qtbot):
    view = RocPrView()
    qtbot.addWidget(view)
    predictions = random_classified(2, 200, seed=1)
    predictions = classified(predictions.probabilities, predictions.true, ("benign", "malignant"))
    view.set_predictions(predictions)
    assert view.chosen == 1 and view.chooser.currentText() == "malignant"
    assert view.chooser_label.text() == "Positive class"
    expected = one_vs_rest(predictions.probabilities, predictions.true, 1)
    positive = predictions.true == 1
    assert expected.roc.area == pytest.approx(metrics.roc_auc_score(positive, predictions.probabilities[:, 1]))
    assert f"AUC {expected.roc.area:.3f}" in view.roc_plot.titleLabel.text
    assert f"AP {expected.pr.area:.3f}" in view.pr_plot.titleLabel.text
    x, y = drawn(view.roc_curve)
    assert numpy.array_equal(x, expected.roc.x) and numpy.array_equal(y, expected.roc.y)
    # the precision-recall curve as steps: the area under what is drawn is the average precision
    x, y = drawn(view.pr_curve)
    assert -numpy.sum(numpy.diff(x) * y[:-1]) == pytest.approx(expected.pr.area)
    _, chance_y = drawn(view.pr_chance)
    assert chance_y[0] == chance_y[1] == pytest.approx(positive.mean())
    assert view.basis.text() == (
        f"Over 200 validation samples: {positive.sum()} of class malignant, {(~positive).sum()} of class benign."
    )


def test_choosing_a_class_draws_its_curves_against_the_rest(qtbot):
    view = RocPrView()
    qtbot.addWidget(view)
    predictions = random_classified(4, 300, seed=2)
    support = numpy.bincount(predictions.true, minlength=4)
    view.set_predictions(predictions)
    assert view.chosen == int(support.argmax()) and view.chooser_label.text() == "Class against the rest"
    other = (view.chosen + 1) % 4
    before = drawn(view.roc_curve)
    view.chooser.setCurrentIndex(other)
    expected = one_vs_rest(predictions.probabilities, predictions.true, other)
    x, y = drawn(view.roc_curve)
    assert view.chosen == other and not numpy.array_equal(x, before[0])
    assert numpy.array_equal(x, expected.roc.x) and numpy.array_equal(y, expected.roc.y)
    assert view.area_texts() == (f"AUC {expected.roc.area:.3f}", f"AP {expected.pr.area:.3f}")
    assert view.basis.text().startswith(f"Over 300 validation samples: {support[other]} of class {other}")

    # the next load of the same classes keeps the class chosen
    view.set_predictions(random_classified(4, 300, seed=3))
    assert view.chosen == other


def test_a_class_without_samples_says_there_is_nothing_to_rank(qtbot):
    view = RocPrView()
    qtbot.addWidget(view)
    probabilities = numpy.full((6, 3), 1 / 3)
    view.set_predictions(classified(probabilities, numpy.array([0, 0, 1, 1, 1, 0])))
    view.chooser.setCurrentIndex(2)
    assert view.area_texts() == ("AUC –", "AP –")
    assert len(drawn(view.roc_curve)[0]) == 0
    assert view.basis.text() == "None of 6 validation samples is of class 2: there is nothing to rank."


def test_pointing_at_a_curve_reads_its_threshold_on_both_curves(qtbot):
    view = RocPrView()
    qtbot.addWidget(view)
    view.resize(900, 400)
    view.show()
    qtbot.waitExposed(view)
    predictions = random_classified(3, 120, seed=4)
    view.set_predictions(predictions)
    roc, pr = view.curves.roc, view.curves.pr
    index = len(roc.x) // 2
    box = view.roc_plot.vb
    view._hovered(view.roc_view, box.mapViewToScene(QPointF(roc.x[index], roc.y[index])))
    assert view.read_index == index
    at = len(pr.thresholds) - index
    assert pr.thresholds[at] == roc.thresholds[index]
    assert drawn(view.pr_marker)[0].tolist() == [pr.x[at]] and drawn(view.pr_marker)[1].tolist() == [pr.y[at]]
    scores = predictions.probabilities[:, view.chosen]
    taken = scores >= roc.thresholds[index]
    positive = predictions.true == view.chosen
    words = view.readout.text()
    assert f"at least {roc.thresholds[index]:.3g}:" in words
    assert f"{(taken & positive).sum() / positive.sum():.1%} of its samples found" in words
    assert f"{(taken & positive).sum() / taken.sum():.1%} of the {taken.sum()} taken are of it" in words

    # the same threshold read on the precision-recall curve; far from both curves, the mark goes
    box = view.pr_plot.vb
    view._hovered(view.pr_view, box.mapViewToScene(QPointF(pr.x[at], pr.y[at])))
    assert view.read_index == index and view.readout.text() == words
    view._hovered(view.roc_view, view.roc_plot.vb.mapViewToScene(QPointF(1.0, 0.0)))
    assert view.read_index is None and view.readout.text() == POINT_AT


def test_steps_hold_each_value_until_the_next_point():
    x, y = steps_after(numpy.array([1.0, 0.5, 0.0]), numpy.array([0.4, 0.8, 1.0]))
    assert x.tolist() == [1.0, 0.5, 0.5, 0.0, 0.0] and y.tolist() == [0.4, 0.4, 0.8, 0.8, 1.0]


@pytest.mark.parametrize("outputs", [1, 3])
def test_fit_figures_are_scikit_learns(outputs):
    rng = numpy.random.default_rng(outputs)
    true = rng.normal(size=(50, outputs)) * [1.0, 5.0, 0.2][:outputs]
    predicted = true + rng.normal(size=true.shape) * 0.5
    figures = fit_figures(predicted, true)
    assert figures.mae == pytest.approx(metrics.mean_absolute_error(true, predicted))
    assert figures.rmse == pytest.approx(numpy.sqrt(metrics.mean_squared_error(true, predicted)))
    # train.py's R² pools the outputs: scikit-learn's variance-weighted average
    assert figures.r2 == pytest.approx(metrics.r2_score(true, predicted, multioutput="variance_weighted"))


def test_the_fit_view_draws_each_output_and_its_figures(qtbot):
    rng = numpy.random.default_rng(5)
    true = rng.normal(size=(40, 3))
    predicted = true * 0.8 + rng.normal(size=true.shape) * 0.3
    n = len(true)
    predictions = Predictions(numpy.arange(n), "regression", (), predicted=predicted, true=true, part_size=1000)
    view = FitView()
    qtbot.addWidget(view)
    view.show()
    view.set_predictions(predictions)
    assert view.column is None and view.chooser.currentText() == "every output" and view.chooser.isVisible()
    assert len(drawn(view.points)[0]) == 3 * n
    assert view.basis.text() == "Over the first 40 of 1,000 validation samples (a folder is read from disk)"
    view.chooser.setCurrentIndex(2)  # output 2
    x, y = drawn(view.points)
    assert numpy.array_equal(x, true[:, 1]) and numpy.array_equal(y, predicted[:, 1])
    r2 = metrics.r2_score(true[:, 1], predicted[:, 1])
    assert view.figures.r2 == pytest.approx(r2)
    assert f"R² {r2:.4g}" in view.figures_label.text() and "validation figures" in view.figures_label.toolTip()

    single = Predictions(numpy.arange(n), "regression", (), predicted=predicted[:, :1], true=true[:, :1], part_size=n)
    view.set_predictions(single)
    assert not view.chooser.isVisible() and view.column is None
    assert view.basis.text() == "Over 40 validation samples"


def test_many_values_are_drawn_as_a_random_few_and_counted_in_full(qtbot):
    rng = numpy.random.default_rng(6)
    true = rng.normal(size=(2000, 8))
    predicted = true + rng.normal(size=true.shape)
    n = len(true)
    view = FitView()
    qtbot.addWidget(view)
    view.set_predictions(Predictions(numpy.arange(n), "regression", (), predicted=predicted, true=true, part_size=n))
    x, y = drawn(view.points)
    assert view.drawn == len(x) == MAX_POINTS < true.size
    assert numpy.isin(x, true).all() and numpy.isin(y, predicted).all()
    assert view.figures.r2 == pytest.approx(metrics.r2_score(true, predicted, multioutput="variance_weighted"))
    assert view.basis.text().endswith(f"{MAX_POINTS:,} of {true.size:,} values drawn, at random")


# ---- in the window, after real runs --------------------------------------------------------------------------


def open_tab(qtbot, win) -> EvaluationTab:
    tabs = win.training.plot_tabs
    qtbot.waitUntil(lambda: win.training.evaluation_tab is not None)  # made with the plots, once the dock shows
    tab = win.training.evaluation_tab
    bar = tabs.tabBar()
    qtbot.mouseClick(bar, LEFT, pos=bar.tabRect(tabs.indexOf(tab)).center())
    assert tabs.currentWidget() is tab
    return tab


def wait_for_drawing(qtbot, tab: EvaluationTab) -> None:
    qtbot.waitUntil(lambda: tab.shown is not None or bool(tab.predict_panel.failure), timeout=TIMEOUT_MS)
    assert tab.shown is not None, tab.outcome_text()
    assert tab.outcome_text() == ""


@pytest.fixture
def counted_loads(monkeypatch) -> list:
    """Every prediction pass the Predict tab starts."""
    calls = []
    original = predict_panel_module.make_predictions

    def counting(*args):
        calls.append(args)
        return original(*args)

    monkeypatch.setattr(predict_panel_module, "make_predictions", counting)
    return calls


@pytest.mark.usefixtures("no_thread_left_running")
def test_a_classifier_run_draws_the_curves_of_the_predict_tabs_predictions(window, qtbot, counted_loads):
    training = window.training
    tab = open_tab(qtbot, window)
    assert training.plot_tabs.tabText(training.plot_tabs.indexOf(tab)) == "ROC · PR"
    assert tab.outcome_text() == NO_RUN[True]
    set_up(window, epochs=1)
    heard = train(qtbot, window)
    assert open_tab(qtbot, window).outcome_text() == RUNNING
    wait_until_done(qtbot, window, heard)
    open_tab(qtbot, window)
    wait_for_drawing(qtbot, tab)

    predictions = training.predict_panel.predictions
    assert tab.shown is predictions and len(counted_loads) == 1
    view = tab.roc_pr
    assert view.isVisible() and view.chooser.count() == 10
    expected = one_vs_rest(predictions.probabilities, predictions.true, view.chosen)
    assert view.chosen == int(numpy.bincount(predictions.true, minlength=10).argmax())
    assert (
        view.area_texts()[0] == f"AUC {expected.roc.area:.3f}" and view.area_texts()[0] in view.roc_plot.titleLabel.text
    )
    assert view.basis.text().startswith(f"Over {len(predictions)} validation samples: {expected.positives} of class")

    # the Predict tab shows the same predictions without a second pass
    panel = open_predict_tab(qtbot, window)
    wait_for_predictions(qtbot, panel)
    assert panel.predictions is predictions and len(counted_loads) == 1
    open_tab(qtbot, window)
    assert tab.shown is predictions and len(counted_loads) == 1


@pytest.mark.usefixtures("no_thread_left_running")
def test_a_network_changed_since_the_run_says_train_again(window, qtbot, project_path):
    change_the_network_after_a_run(qtbot, window, project_path)
    tab = open_tab(qtbot, window)  # the Predict tab is never looked at: this tab asks for the predictions
    qtbot.waitUntil(lambda: tab.outcome_text() != LOADING, timeout=TIMEOUT_MS)
    assert tab.outcome_text().startswith("The network changed since this run; train again")
    assert tab.outcome_text() == window.training.predict_panel.failure


def test_a_project_never_saved_is_told_to_save_first(controller, qtbot):
    training = TrainingPanel(controller)
    qtbot.addWidget(training)
    training.ensure_plots()
    assert training.evaluation_tab.outcome_text() == UNSAVED


@pytest.mark.usefixtures("no_thread_left_running")
@pytest.mark.parametrize("project_path", ["digits_autoencoder"], indirect=True)
def test_a_regression_run_shows_the_fit_with_the_r2_the_run_reported(window, qtbot):
    training = window.training
    set_up(window, epochs=1)
    heard = train(qtbot, window)
    wait_until_done(qtbot, window, heard)
    tab = open_tab(qtbot, window)
    assert training.plot_tabs.tabText(training.plot_tabs.indexOf(tab)) == "Fit"
    wait_for_drawing(qtbot, tab)
    view = tab.fit
    assert view.isVisible() and view.column is None
    final = training.predict_panel.record.final  # what train.py's evaluate gave for the run's last weights
    assert view.figures.r2 == pytest.approx(final["val_r2"], abs=1e-4)
    assert view.figures.mae == pytest.approx(final["val_mae"], rel=1e-4)
    assert view.figures.rmse == pytest.approx(final["val_rmse"], rel=1e-4)
    predictions = tab.shown
    view.chooser.setCurrentIndex(37)  # output 37, a pixel of the middle
    column = 36
    assert view.figures.r2 == pytest.approx(
        metrics.r2_score(predictions.true[:, column], predictions.predicted[:, column])
    )

"""The gradient health check in plain numbers: when it speaks, what it names and which remedies it offers."""

from __future__ import annotations

from netbuilder.project.gradient_health import EXPLODING, VANISHING, GradientWatch
from netbuilder.project.gradient_samples import GradientSample
from netbuilder.project.settings import TrainingSettings

LAYERS = ("fc1", "fc2", "fc3")


def sample(step: int, *norms: float) -> GradientSample:
    return GradientSample(step, norms, (1.0,) * len(norms), (1e-3,) * len(norms))


def test_vanishing_needs_several_low_samples_in_a_row_and_names_the_first_layers():
    watch = GradientWatch(LAYERS, TrainingSettings())
    assert watch.add(sample(1, 1e-6, 1e-5, 1.0)) is None
    assert watch.add(sample(11, 0.1, 0.2, 1.0)) is None  # a healthy sample starts the count again
    assert watch.add(sample(21, 1e-6, 1e-5, 1.0)) is None
    assert watch.add(sample(31, 1e-6, 1e-5, 1.0)) is None
    warning = watch.add(sample(41, 1e-6, 1e-5, 1.0))
    assert warning.kind == VANISHING and warning.layer == "fc1" and warning.step == 41
    assert warning.message.startswith("Vanishing gradients: the first 2 layers (fc1 to fc2) get gradients 1e-06")
    assert warning.remedies == ()
    assert watch.add(sample(51, 1e-6, 1e-5, 1.0)) is None  # said once


def test_an_infinite_gradient_is_exploding_and_names_its_layer():
    watch = GradientWatch(LAYERS, TrainingSettings(), {"lr": 0.01, "schedule": "step"})
    warning = watch.add(sample(7, 1.0, float("inf"), float("nan")))
    assert warning.kind == EXPLODING and warning.layer == "fc2"
    assert warning.message.startswith("Exploding gradients: the gradients of fc2 became inf at step 7. Try ")
    assert [r.words for r in warning.remedies] == ["gradient clipping at 1", "a learning rate of 0.001"]


def test_growth_by_three_orders_is_exploding_and_clipping_already_on_is_not_offered_again():
    watch = GradientWatch(LAYERS, TrainingSettings(grad_clip=0.5), {"lr": 0.1, "schedule": "none"})
    assert watch.add(sample(1, 1.0, 2.0, 1.0)) is None
    assert watch.add(sample(11, 50.0, 100.0, 10.0)) is None
    warning = watch.add(sample(21, 5e3, 1e3, 10.0))
    assert warning.layer == "fc1" and "grew to 2500 times the largest" in warning.message
    assert [(r.param, r.value) for r in warning.remedies] == [("lr", 0.01), ("schedule", "cosine")]


def test_a_first_layer_with_no_gradient_at_all_is_told_to_try_a_lower_learning_rate_too():
    watch = GradientWatch(LAYERS, TrainingSettings(), {"lr": 10.0, "schedule": "none"})
    for step in (1, 11, 21):
        warning = watch.add(sample(step, 0.0, 0.5, 1.0))
    assert warning.message.startswith(
        "Vanishing gradients: fc1 gets no gradient at all (step 21), so it hardly learns. Try a lower learning rate"
    )
    assert [(r.param, r.value) for r in warning.remedies] == [("lr", 1.0)]


def test_a_kind_said_clears_after_several_healthy_samples_in_a_row_and_says_so_once():
    watch = GradientWatch(LAYERS, TrainingSettings())
    for step in (1, 11, 21):
        watch.add(sample(step, 1e-6, 1e-5, 1.0))
    assert [w.kind for w in watch.warnings] == [VANISHING] and watch.cleared == []
    watch.add(sample(31, 0.1, 0.2, 1.0))
    watch.add(sample(41, 0.1, 0.2, 1.0))
    watch.add(sample(51, 1e-6, 1e-5, 1.0))  # one low sample starts the count again
    for step in (61, 71):
        watch.add(sample(step, 0.1, 0.2, 1.0))
    assert watch.cleared == []
    assert watch.add(sample(81, 0.1, 0.2, 1.0)) is None
    (cleared,) = watch.cleared
    assert cleared.kind == VANISHING and cleared.step == 81
    assert cleared.message == "The vanishing gradients have cleared: none for the last 3 samples (step 81)."
    for step in (91, 101, 111, 121):
        watch.add(sample(step, 0.1, 0.2, 1.0))
    assert len(watch.cleared) == 1  # said once


def test_a_kind_never_said_never_clears():
    watch = GradientWatch(LAYERS, TrainingSettings())
    for step in range(1, 100, 10):
        watch.add(sample(step, 0.1, 0.2, 1.0))
    assert watch.warnings == [] and watch.cleared == []

"""Training settings declared once: the declaration drives TrainingSettings, its messages and the CLI."""

from __future__ import annotations

import dataclasses

import pytest

from netbuilder.project import SettingsError, TrainingSettings
from netbuilder.project.settings import CHOICE, INTEGER, NUMBER, SETTING, SETTINGS


def test_the_fields_are_the_declared_settings_in_order_with_their_defaults() -> None:
    assert [f.name for f in dataclasses.fields(TrainingSettings)] == [s.name for s in SETTINGS]
    assert TrainingSettings().to_dict() == {s.name: s.default for s in SETTINGS}
    for spec in SETTINGS:  # every default is itself valid
        assert spec.check(spec.default) == spec.default


def test_every_setting_has_a_label_help_and_flag() -> None:
    for spec in SETTINGS:
        assert spec.label and spec.help and spec.flag == "--" + spec.name.replace("_", "-")
        assert spec.kind in (INTEGER, NUMBER, CHOICE)
        assert (spec.kind == CHOICE) == bool(spec.choices)
    assert SETTING["batch_size"].flag == "--batch-size"


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("epochs", 0, "expected an integer from 1 to 100000, got 0"),
        ("epochs", 10**9, "expected an integer from 1 to 100000, got 1000000000"),
        ("batch_size", "64", "expected an integer from 1 to 1048576, got '64'"),
        ("batch_size", 2**21, "expected an integer from 1 to 1048576, got 2097152"),
        ("val_fraction", 0.95, "expected a number from 0 to 0.9, got 0.95"),
        ("seed", -1, "expected an integer from 0 to 4294967295, got -1"),
        ("device", "gpu", "expected one of 'auto', 'cpu', 'cuda', got 'gpu'"),
        ("precision", "fp8", "expected one of 'fp32', 'bf16', 'fp16', got 'fp8'"),
        ("grad_clip", -1, "expected a number from 0 to 1000000, got -1"),
        ("early_stopping", 1.5, "expected an integer from 0 to 100000, got 1.5"),
    ],
)
def test_each_setting_says_what_it_expects(name: str, value: object, reason: str) -> None:
    with pytest.raises(SettingsError) as info:
        TrainingSettings(**{name: value})
    assert (info.value.field, info.value.reason) == (name, reason)
    assert reason == f"expected {SETTING[name].expected()}, got {value!r}"


def test_values_are_stored_as_their_kind() -> None:
    settings = TrainingSettings(epochs=3.0, grad_clip=1, val_fraction=0)
    assert isinstance(settings.epochs, int) and isinstance(settings.grad_clip, float)
    assert isinstance(settings.val_fraction, float)


def test_values_are_shown_as_a_person_reads_them() -> None:
    assert SETTING["val_fraction"].shown(0.2) == "20%"
    assert SETTING["grad_clip"].shown(0.0) == "off" and SETTING["grad_clip"].shown(1.5) == "1.5"
    assert SETTING["early_stopping"].shown(0) == "off" and SETTING["early_stopping"].shown(3) == "3"
    assert SETTING["device"].shown("cuda") == "cuda"

"""An example input's shape, as typed into `netbuilder import --input-shape` or the window's import dialog:
sizes a person means are read, anything else is refused with a short reason before torch builds anything."""

from __future__ import annotations

import pytest

from netbuilder.blocks.input_shape import MAX_ELEMENTS, parse_input_shape
from netbuilder.cli import main


def test_sizes_are_read_batch_first():
    assert parse_input_shape("4, 3, 32,32") == (4, 3, 32, 32)
    assert parse_input_shape("1,20") == (1, 20)


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("1,-1", "'-1' is not a positive whole number"),
        ("1,0", "'0' is not a positive whole number"),
        ("\uff11,3", "'\uff11' is not a positive whole number"),  # a full-width one passes str.isdigit
        ("1,3\u00b2", "'3\u00b2' is not a positive whole number"),
        ("1,,3", "a size is missing"),
        ("", "give the input's sizes"),
        ("7", "give the batch size first"),
        ("1," * 8 + "1", "more than 8 sizes"),
        ("1000000000,3,100000,100000", "3e+19 values, more than the 268,435,456"),
    ],
)
def test_a_size_no_input_has_is_refused_with_a_reason(typed, reason):
    with pytest.raises(ValueError, match=reason.replace("+", r"\+").replace("(", r"\(")):
        parse_input_shape(typed)


def test_a_long_value_is_quoted_by_a_short_prefix_only():
    typed = "1," + "9" * 10_000_000
    with pytest.raises(ValueError) as refused:
        parse_input_shape(typed)
    assert len(str(refused.value)) < 150 and "..." in str(refused.value)
    with pytest.raises(ValueError) as refused:
        parse_input_shape("1," * 5_000_000)
    assert len(str(refused.value)) < 150


def test_the_largest_input_a_person_gives_is_read():
    assert parse_input_shape("1,3,8192,8192")  # 201 million values: a very large image
    with pytest.raises(ValueError):
        parse_input_shape(f"1,{MAX_ELEMENTS + 1}")


def test_import_refuses_a_huge_input_shape_with_one_line_and_exit_2(tmp_path, capsys):
    out = tmp_path / "x.nbproj"
    assert main(["import", "torchvision:resnet18", "--input-shape", "1000000000,3,100000,100000", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("netbuilder: --input-shape: '1000000000,3,100000,100000' is 3e+19 values")
    assert err.count("\n") == 1 and not out.exists()
    assert main(["import", "torchvision:resnet18", "--input-shape", "\uff11,3", "-o", str(out)]) == 2
    assert "is not a positive whole number" in capsys.readouterr().err


def test_import_refuses_an_output_it_could_not_write_before_tracing(tmp_path, capsys, monkeypatch):
    def no_tracing(*args, **kwargs):
        raise AssertionError("the model was traced for an output that cannot be written")

    monkeypatch.setattr("netbuilder.importers.import_module", no_tracing)
    for out, why in ((tmp_path, "is a folder"), (tmp_path / "missing" / "x.nbproj", "is in no folder that exists")):
        assert main(["import", "torchvision:resnet18", "--input-shape", "1,3,32,32", "-o", str(out)]) == 2
        assert f"-o {out} {why}: give the .nbproj file to write" in capsys.readouterr().err

"""Convolution and pooling blocks: what we refuse beyond torch, the messages and fixes a user sees, the code
they read, and MAC counts against torch's FlopCounterMode."""

from __future__ import annotations

import inspect
import json
import random

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from netbuilder.blocks import catalogue
from netbuilder.blocks.conv import SPECS as CONV_SPECS
from netbuilder.blocks.errors import BypassProducer, ParamError, SetOwnParam, ShapeError
from netbuilder.blocks.pooling import SPECS as POOL_SPECS
from netbuilder.blocks.spec import RuleContext
from netbuilder.blocks.tensor_type import LONG, TensorType, batched
from netbuilder.cli import main
from netbuilder.codegen.render import constructor
from netbuilder.project import Project, load_project, save_project

BLOCKS = [spec.type for spec in CONV_SPECS + POOL_SPECS]


def run_rule(block: str, x: TensorType, producer: str | None = None, **params) -> tuple[TensorType, dict]:
    spec = catalogue.get(block)
    p = {**spec.defaults(), **{k: spec.param(k).validate(v) for k, v in params.items()}}
    ctx = RuleContext(block, p, {"x": x}, {"x": producer} if producer else {})
    return spec.rule(ctx)["y"], ctx.p


def refusal(block: str, x: TensorType, producer: str | None = None, **params) -> ShapeError:
    with pytest.raises(ShapeError) as caught:
        run_rule(block, x, producer, **params)
    return caught.value


# Stricter than torch: an input with one dimension fewer is "unbatched" to torch, which would then take our
# batch for the channels (or, for a global average, average across samples). Here dimension 0 is the batch.
@pytest.mark.parametrize(
    ("block", "x"),
    [
        ("Conv1d", batched(64)),
        ("Conv2d", batched(3, 8)),
        ("Conv3d", batched(3, 8, 8)),
        ("ConvTranspose1d", batched(64)),
        ("ConvTranspose2d", batched(3, 8)),
        ("MaxPool1d", batched(64)),
        ("MaxPool2d", batched(3, 8)),
        ("AvgPool1d", batched(64)),
        ("AvgPool2d", batched(3, 8)),
        ("AdaptiveAvgPool1d", batched(64)),
        ("AdaptiveAvgPool2d", batched(3, 8)),
        ("AdaptiveMaxPool2d", batched(3, 8)),
    ],
)
def test_unbatched_ranks_are_refused(block, x):
    err = refusal(block, x)
    assert err.port == "x"
    assert f"{block} expects (N, channels" in err.message


def test_global_average_on_other_ranks_is_refused():
    """Torch's AdaptiveAvgPool2d(1) is a mean over the last two dimensions of any tensor, even (N, features)."""
    assert nn.AdaptiveAvgPool2d(1)(torch.randn(3, 4)).shape == (1, 1)  # the batch is averaged away
    assert nn.AdaptiveAvgPool2d(1)(torch.randn(3, 2, 4, 4, 4)).shape == (3, 2, 4, 1, 1)
    refusal("AdaptiveAvgPool2d", batched(4), output_size=1)
    refusal("AdaptiveAvgPool2d", batched(2, 4, 4, 4), output_size=1)


@pytest.mark.parametrize("block", BLOCKS)
def test_integer_inputs_are_refused(block):
    x = batched(4, 8, 8, 8, dtype=LONG)
    x = TensorType(x.shape[: 3 + ("2d" in block) + ("3d" in block)], LONG)
    err = refusal(block, x)
    assert "floating-point" in err.message


def test_transposed_output_of_size_zero_is_refused():
    """Torch returns an empty tensor here (on some backends): nothing downstream could use it."""
    assert nn.ConvTranspose1d(2, 2, 1, padding=1)(torch.randn(3, 2, 2)).shape == (3, 2, 0)
    err = refusal("ConvTranspose1d", batched(2, 2), kernel_size=1, padding=1)
    assert err.message == (
        "ConvTranspose1d with padding 1 trims away its whole output for (N, 2, 2): padding can be at most 0 here"
    )
    assert err.hint == SetOwnParam("padding", 0)


def test_flat_features_into_conv2d_say_so():
    err = refusal("Conv2d", batched(64))
    assert err.message == (
        "Conv2d expects (N, channels, height, width) but receives (N, 64), a flat tensor with no height or width: "
        "reshape it to (N, channels, height, width) first, or use Linear"
    )
    assert err.hint is None


def test_flat_features_from_flatten_suggest_removing_it():
    err = refusal("Conv2d", batched(256), producer="Flatten")
    assert err.message.endswith("a flat tensor with no height or width: remove the Flatten before it")
    assert err.hint == BypassProducer("x", "Flatten")


def test_pool_window_too_large_suggests_the_largest_kernel_that_fits():
    err = refusal("MaxPool2d", batched(8, 3, 3), kernel_size=5)
    assert err.message == (
        "MaxPool2d with kernel 5 needs an input of at least 5x5 but receives (N, 8, 3, 3): "
        "use a smaller kernel_size, or AdaptiveAvgPool2d to pool to a fixed size"
    )
    assert err.hint == SetOwnParam("kernel_size", 3)
    assert err.param == "kernel_size"


def test_pool_window_words_name_dilation_and_padding():
    err = refusal("MaxPool1d", batched(4, 4), kernel_size=3, dilation=3, padding=1)
    assert err.message.startswith("MaxPool1d with kernel 3, dilation 3 and padding 1 needs an input of at least 5 ")
    assert err.hint == SetOwnParam("kernel_size", 2)
    run_rule("MaxPool1d", batched(4, 5), kernel_size=3, dilation=3, padding=1)


def test_ceil_mode_lets_the_last_window_overhang():
    y, _ = run_rule("MaxPool2d", batched(1, 5, 5), kernel_size=2, ceil_mode=True)
    assert y == batched(1, 3, 3)
    y, _ = run_rule("MaxPool2d", batched(1, 5, 5), kernel_size=2)
    assert y == batched(1, 2, 2)
    # The last window must start inside the input or the left padding: 5 + 1 padding, stride 2 gives 3, not 4.
    y, _ = run_rule("AvgPool1d", batched(1, 5), kernel_size=2, stride=2, padding=1, ceil_mode=True)
    assert y == batched(1, 3)
    assert nn.AvgPool1d(2, 2, 1, ceil_mode=True)(torch.randn(3, 1, 5)).shape == (3, 1, 3)


def test_pool_padding_above_half_the_kernel():
    err = refusal("AvgPool2d", batched(3, 8, 8), kernel_size=3, padding=2)
    assert err.message == "AvgPool2d padding can be at most half the kernel (1 for kernel 3) but is 2"
    assert err.hint == SetOwnParam("padding", 1)


def test_conv_kernel_too_large():
    err = refusal("Conv2d", batched(3, 4, 6), kernel_size=5)
    assert err.message == "Conv2d with kernel 5 needs an input of at least 5x5 but receives (N, 3, 4, 6)"
    assert err.hint == SetOwnParam("kernel_size", 4)
    run_rule("Conv2d", batched(3, 4, 6), kernel_size=5, padding=1)


def test_groups_must_divide_channels():
    err = refusal("Conv2d", batched(6, 8, 8), groups=4, out_channels=8)
    assert err.message == "Conv2d with groups 4 needs in_channels divisible by 4 but receives 6 channels"
    assert (err.param, err.hint) == ("groups", SetOwnParam("groups", 2))
    err = refusal("Conv1d", batched(8, 8), groups=4, out_channels=6)
    assert err.message == "Conv1d with groups 4 needs out_channels divisible by 4, but out_channels is 6"


def test_pinned_in_channels_can_go_back_to_auto():
    err = refusal("Conv2d", batched(3, 8, 8), in_channels=1)
    assert err.message == "Conv2d has in_channels pinned to 1 but the input (N, 3, 8, 8) has 3 channels"
    assert err.hint == SetOwnParam("in_channels", None)


def test_reflect_and_circular_padding_limits():
    err = refusal("Conv2d", batched(1, 2, 8), padding=2, padding_mode="reflect")
    assert err.hint == SetOwnParam("padding", 1)
    run_rule("Conv2d", batched(1, 2, 8), padding=1, padding_mode="reflect")
    run_rule("Conv2d", batched(1, 2, 8), padding=2, padding_mode="circular")
    refusal("Conv2d", batched(1, 2, 8), padding=3, padding_mode="circular")
    run_rule("Conv2d", batched(1, 2, 8), padding=9, padding_mode="replicate")


def test_output_padding_needs_stride_or_dilation():
    err = refusal("ConvTranspose2d", batched(4, 5, 5), stride=2, output_padding=2)
    assert err.message == (
        "ConvTranspose2d needs output_padding smaller than stride or dilation, but output_padding is 2 "
        "with stride 2 and dilation 1"
    )
    assert err.hint == SetOwnParam("output_padding", 1)
    y, _ = run_rule("ConvTranspose2d", batched(4, 5, 5), stride=2, padding=1, output_padding=1, out_channels=8)
    assert y == batched(8, 10, 10)


def code(block: str, x: TensorType, **params) -> str:
    _, p = run_rule(block, x, **params)
    return constructor(catalogue.get(block), p)


def test_generated_constructors_read_like_hand_written_code():
    assert code("Conv2d", batched(1, 8, 8), padding=1) == "nn.Conv2d(1, 16, kernel_size=3, padding=1)"
    assert code("Conv1d", batched(4, 8), out_channels=8, kernel_size=1, bias=False) == (
        "nn.Conv1d(4, 8, kernel_size=1, bias=False)"
    )
    assert code("ConvTranspose2d", batched(16, 4, 4), out_channels=8, kernel_size=2, stride=2) == (
        "nn.ConvTranspose2d(16, 8, kernel_size=2, stride=2)"
    )
    assert code("MaxPool2d", batched(16, 8, 8)) == "nn.MaxPool2d(2)"
    assert code("MaxPool2d", batched(16, 8, 8), kernel_size=3, stride=2, padding=1) == (
        "nn.MaxPool2d(3, stride=2, padding=1)"
    )
    assert code("AvgPool1d", batched(16, 8), count_include_pad=False) == "nn.AvgPool1d(2, count_include_pad=False)"
    assert code("AdaptiveAvgPool2d", batched(16, 8, 8)) == "nn.AdaptiveAvgPool2d(1)"
    assert code("AdaptiveAvgPool2d", batched(16, 8, 8), output_size=(4, 2)) == "nn.AdaptiveAvgPool2d((4, 2))"
    assert code("AdaptiveMaxPool2d", batched(16, 8, 8), output_size=(3, 3)) == "nn.AdaptiveMaxPool2d(3)"
    assert code("AdaptiveAvgPool1d", batched(16, 8), output_size=4) == "nn.AdaptiveAvgPool1d(4)"


@pytest.mark.parametrize("block", [block for block in BLOCKS if catalogue.get(block).module is not None])
def test_defaults_left_out_of_the_code_are_torchs(block):
    """A keyword we omit at its default must have that default in torch too."""
    spec = catalogue.get(block)
    torch_params = inspect.signature(getattr(nn, block)).parameters
    for param in spec.params:
        if param.name in (*spec.module.positional, *spec.module.always, *spec.module.omit):
            continue  # written always, or never passed to the constructor (an init: init_weights)
        assert torch_params[param.name].default == param.default, param.name


def torch_macs(module: nn.Module, x: torch.Tensor) -> int:
    with FlopCounterMode(display=False) as counter:
        module(x)
    return counter.get_total_flops() // 2


@pytest.mark.parametrize("block", ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d"])
def test_conv_macs_match_flop_counter(block):
    rng = random.Random(block)
    spec = catalogue.get(block)
    dims = int(block[-2])
    checked = 0
    while checked < 8:
        groups = rng.choice([1, 2, 3])
        params = {
            "out_channels": groups * rng.randint(1, 3),
            "kernel_size": rng.randint(1, 3),
            "stride": rng.randint(1, 2),
            "padding": rng.randint(0, 1),
            "dilation": rng.randint(1, 2),
            "groups": groups,
        }
        if "Transpose" in block:
            params["output_padding"] = rng.randint(0, 1)
        elif rng.random() < 0.3:
            params["padding_mode"] = "replicate"
        x_type = batched(groups * rng.randint(1, 3), *(rng.randint(3, 7) for _ in range(dims)))
        try:
            y, p = run_rule(block, x_type, **params)
        except ShapeError:
            continue
        module = eval(constructor(spec, p), {"nn": nn})
        ours = spec.count_macs(p, {"x": x_type}, {"y": y})
        assert ours == torch_macs(module, torch.randn(1, *x_type.features)), p
        assert ours > 0
        checked += 1


@pytest.mark.parametrize("block", [spec.type for spec in POOL_SPECS if spec.module is not None])
def test_pools_count_no_macs_or_parameters(block):
    spec = catalogue.get(block)
    x_type = batched(3, *(8,) * int(block[-2]))
    y, p = run_rule(block, x_type)
    module = eval(constructor(spec, p), {"nn": nn})
    assert spec.count_macs(p, {"x": x_type}, {"y": y}) == torch_macs(module, torch.randn(1, *x_type.features)) == 0
    assert spec.count_params(p, {"x": x_type}, {"y": y}) == 0


def test_catalogue_placement():
    for spec in CONV_SPECS:
        assert (spec.category, spec.size_param) == ("Convolution", "out_channels")
    for spec in POOL_SPECS:
        assert spec.category == "Pooling"
    assert catalogue.get("MaxPool2d").param("stride").none_label == "same as kernel_size"


# One value per spatial dimension: Inception's 1x7 and 7x1 kernels, strides that halve one side only.


def test_a_value_per_dimension_is_one_int_when_all_are_equal():
    """Files and code keep kernel_size=3 as they always had it; a tuple only where the dimensions differ."""
    kernel = catalogue.get("Conv2d").param("kernel_size")
    assert kernel.validate(3) == kernel.validate((3, 3)) == kernel.validate([3]) == 3
    assert kernel.validate([1, 7]) == (1, 7)
    assert catalogue.get("Conv3d").param("stride").validate((2, 1, 1)) == (2, 1, 1)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ((1, 2, 3), "got 3 values"),
        ((), "got ()"),
        ((0, 7), "got (0, 7)"),
        ((1, 7.5), "got (1, 7.5)"),
        ("1, 7", "got '1, 7'"),
    ],
)
def test_a_wrong_value_per_dimension_is_refused_in_one_line(value, words):
    with pytest.raises(ParamError) as caught:
        catalogue.get("Conv2d").param("kernel_size").validate(value)
    assert str(caught.value) == f"expected an integer from 1 to 64, or 2 of them (one per dimension), {words}"


def test_one_spatial_dimension_takes_one_int():
    assert catalogue.get("Conv1d").param("kernel_size").kind == "int"
    assert catalogue.get("MaxPool1d").param("stride").kind == "int"


def test_inception_kernels_keep_the_size_with_padding_per_dimension():
    y, _ = run_rule("Conv2d", batched(3, 17, 17), kernel_size=(1, 7), padding=(0, 3), out_channels=8)
    assert y == batched(8, 17, 17)
    y, _ = run_rule("Conv2d", batched(3, 17, 17), kernel_size=(7, 1), padding=(3, 0), out_channels=8)
    assert y == batched(8, 17, 17)
    y, _ = run_rule("MaxPool2d", batched(3, 8, 9), kernel_size=(2, 3), stride=(2, 1))
    assert y == batched(3, 4, 7)
    y, _ = run_rule("ConvTranspose2d", batched(4, 5, 5), kernel_size=(2, 1), stride=(2, 1), out_channels=8)
    assert y == batched(8, 10, 5)


def test_a_window_too_large_in_one_dimension_says_which_and_shrinks_only_that_one():
    err = refusal("Conv2d", batched(3, 4, 8), kernel_size=(5, 7), padding=(0, 3))
    assert (
        err.message == "Conv2d with kernel 5x7 and padding 0x3 needs an input of at least 5x1 but receives (N, 3, 4, 8)"
    )
    assert err.hint == SetOwnParam("kernel_size", (4, 7))
    err = refusal("MaxPool2d", batched(3, 1, 8), kernel_size=(2, 3), stride=(2, 1))
    assert err.message.startswith("MaxPool2d with kernel 2x3 needs an input of at least 2x3 but receives (N, 3, 1, 8)")
    assert err.hint == SetOwnParam("kernel_size", (1, 3))
    err = refusal("AvgPool2d", batched(3, 1, 8), kernel_size=(4, 2), padding=(1, 0))
    assert err.message.startswith("AvgPool2d with kernel 4x2 and padding 1x0 needs an input of at least 2x2 ")
    assert err.hint == SetOwnParam("kernel_size", (3, 2))


def test_pool_padding_above_half_the_kernel_in_one_dimension():
    err = refusal("MaxPool2d", batched(3, 8, 8), kernel_size=(1, 3), padding=1)
    assert err.message == "MaxPool2d padding can be at most half the kernel (0x1 for kernel 1x3) but is 1"
    assert err.hint == SetOwnParam("padding", 0)
    err = refusal("MaxPool2d", batched(3, 8, 8), kernel_size=(3, 1), padding=(2, 0))
    assert err.message == "MaxPool2d padding can be at most half the kernel (1x0 for kernel 3x1) but is 2x0"
    assert err.hint == SetOwnParam("padding", (1, 0))


def test_padding_limits_per_dimension():
    err = refusal("Conv2d", batched(1, 2, 8), padding=(2, 3), padding_mode="reflect")
    assert err.message == ("Conv2d with reflect padding 2x3 needs spatial sizes above 2x3 but receives (N, 1, 2, 8)")
    assert err.hint == SetOwnParam("padding", (1, 3))
    run_rule("Conv2d", batched(1, 2, 8), padding=(1, 3), padding_mode="reflect")
    err = refusal("ConvTranspose2d", batched(4, 2, 2), kernel_size=(1, 3), padding=(1, 1))
    assert err.message == (
        "ConvTranspose2d with padding 1 trims away its whole output for (N, 4, 2, 2): padding can be at most 0 here"
    )
    err = refusal("ConvTranspose2d", batched(4, 2, 4), kernel_size=(1, 3), padding=(1, 2))
    assert err.message.endswith("padding can be at most 0x2 here")
    assert err.hint == SetOwnParam("padding", (0, 2))
    err = refusal("ConvTranspose2d", batched(4, 5, 5), stride=(2, 1), output_padding=1)
    assert err.message.endswith("but output_padding is 1 with stride 2x1 and dilation 1")
    assert err.hint == SetOwnParam("output_padding", 0)
    err = refusal("ConvTranspose2d", batched(4, 5, 5), stride=(2, 1), output_padding=(1, 2))
    assert err.hint == SetOwnParam("output_padding", (1, 0))


def test_per_dimension_values_are_written_as_tuples():
    assert code("Conv2d", batched(3, 17, 17), kernel_size=(1, 7), padding=(0, 3)) == (
        "nn.Conv2d(3, 16, kernel_size=(1, 7), padding=(0, 3))"
    )
    assert code("Conv2d", batched(3, 17, 17), kernel_size=(3, 3), stride=[2, 2]) == (
        "nn.Conv2d(3, 16, kernel_size=3, stride=2)"
    )
    assert code("MaxPool2d", batched(3, 8, 8), kernel_size=(2, 3), stride=(2, 1)) == (
        "nn.MaxPool2d((2, 3), stride=(2, 1))"
    )
    assert code("AdaptiveAvgPool2d", batched(3, 8, 8), output_size=[7, 1]) == "nn.AdaptiveAvgPool2d((7, 1))"


@pytest.mark.parametrize("block", ["Conv2d", "Conv3d", "ConvTranspose2d"])
def test_macs_and_parameters_of_kernels_per_dimension_match_torch(block):
    rng = random.Random(f"{block} per dimension")
    spec = catalogue.get(block)
    dims = int(block[-2])
    for _ in range(6):
        params = {
            "out_channels": rng.randint(1, 4),
            "kernel_size": tuple(rng.randint(1, 3) for _ in range(dims)),
            "stride": tuple(rng.randint(1, 2) for _ in range(dims)),
            "dilation": tuple(rng.randint(1, 2) for _ in range(dims)),
        }
        x_type = batched(rng.randint(1, 3), *(rng.randint(5, 7) for _ in range(dims)))
        y, p = run_rule(block, x_type, **params)
        module = eval(constructor(spec, p), {"nn": nn})
        x = torch.randn(1, *x_type.features)
        assert spec.count_macs(p, {"x": x_type}, {"y": y}) == torch_macs(module, x), p
        assert spec.count_params(p, {"x": x_type}, {"y": y}) == sum(t.numel() for t in module.parameters())


def test_files_keep_one_int_and_hold_a_list_per_dimension(tmp_path):
    """kernel_size 3 is written 3, as files always had it; (1, 7) is a list that reads back as (1, 7); a file
    written before adaptive pools took a value per dimension ([1]) still opens, as 1."""
    project = Project.new("windows")
    graph = project.graph
    square = graph.add_node("Conv2d", params={"kernel_size": [3, 3]}).id
    wide = graph.add_node("Conv2d", params={"kernel_size": (1, 7), "padding": (0, 3)}).id
    pool = graph.add_node("AdaptiveAvgPool2d").id
    path = tmp_path / "windows.nbproj"
    save_project(project, path)
    nodes = {node["id"]: node["params"] for node in json.loads(path.read_text())["graph"]["nodes"]}
    assert nodes[square]["kernel_size"] == 3
    assert (nodes[wide]["kernel_size"], nodes[wide]["padding"]) == ([1, 7], [0, 3])
    assert nodes[pool]["output_size"] == 1

    text = path.read_text().replace('"output_size": 1', '"output_size": [1]')
    assert '"output_size": [1]' in text
    path.write_text(text)
    loaded = load_project(path).graph
    assert loaded.nodes[wide].params["kernel_size"] == (1, 7)
    assert loaded.nodes[square].params["kernel_size"] == 3
    assert loaded.nodes[pool].params["output_size"] == 1


@pytest.mark.parametrize("block", ["Conv1d", "Conv2d", "Conv3d"])
def test_padding_same_keeps_the_size_and_valid_adds_none(block):
    dims = int(block[-2])
    spec = catalogue.get(block)
    x_type = batched(2, *(5,) * dims)
    kernel = (2, 3, 4)[:dims] if dims > 1 else 4
    y, p = run_rule(block, x_type, kernel_size=kernel, padding="same", dilation=2, out_channels=4)
    assert y == batched(4, *(5,) * dims)
    module = eval(constructor(spec, p), {"nn": nn})
    assert "padding='same'" in constructor(spec, p)
    assert spec.count_macs(p, {"x": x_type}, {"y": y}) == torch_macs(module, torch.randn(1, *x_type.features))
    y, p = run_rule(block, x_type, kernel_size=3, padding="valid", out_channels=4)
    assert y == batched(4, *(3,) * dims)


def test_padding_words_are_refused_where_torch_refuses_them():
    assert nn.Conv2d(2, 2, 3, padding="same")(torch.randn(1, 2, 1, 1)).shape == (1, 2, 1, 1)
    err = refusal("Conv2d", batched(2, 8, 8), padding="same", stride=(1, 2))
    assert err.message == (
        "Conv2d with padding 'same' needs stride 1 (a strided window cannot keep the size), but stride is 1x2"
    )
    assert (err.param, err.hint) == ("stride", SetOwnParam("stride", 1))
    err = refusal("Conv2d", batched(2, 2, 8), kernel_size=(5, 2), padding="same", padding_mode="reflect")
    assert err.message == ("Conv2d with reflect padding 'same' needs spatial sizes above 2x1 but receives (N, 2, 2, 8)")
    assert err.hint is None
    err = refusal("Conv2d", batched(2, 4, 4), kernel_size=5, padding="valid")
    assert (
        err.message
        == "Conv2d with kernel 5 and padding 'valid' needs an input of at least 5x5 but receives (N, 2, 4, 4)"
    )
    with pytest.raises(ParamError) as caught:
        catalogue.get("Conv1d").param("padding").validate("full")
    assert str(caught.value) == "expected an integer from 0 to 64, 'same', or 'valid', got 'full'"
    with pytest.raises(ParamError):
        catalogue.get("ConvTranspose2d").param("padding").validate("same")  # torch has no 'same' there


def test_netbuilder_blocks_json_says_how_many_values_per_dimension(capsys):
    assert main(["blocks", "--json"]) == 0
    blocks = {b["type"]: {p["name"]: p for p in b["params"]} for b in json.loads(capsys.readouterr().out)["blocks"]}
    assert blocks["Conv3d"]["kernel_size"] == {
        "name": "kernel_size",
        "kind": "int_per_dim",
        "default": 3,
        "help": catalogue.get("Conv3d").param("kernel_size").help,
        "min": 1,
        "max": 64,
        "lengths": [3],
    }
    assert blocks["Conv1d"]["padding"]["choices"] == ["same", "valid"]
    assert blocks["Conv1d"]["kernel_size"]["kind"] == "int"

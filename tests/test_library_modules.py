"""The library modules an import keeps whole: every ShiftedWindowAttention(V2), PatchMerging(V2) and
RelativePositionalMultiHeadAttention in swin_t, swin_v2_t and maxvit_t has its constructor arguments read back,
and the constructor model.py would write builds a module with the same state_dict keys and shapes that, given
the original's weights, computes what the original computes."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from netbuilder.blocks import catalogue
from netbuilder.blocks.library_module import library_call
from netbuilder.codegen.render import constructor, import_line
from netbuilder.importers.library_modules import LEAF_CLASSES, library_params, qualified_name

torchvision = pytest.importorskip("torchvision")

SPEC = catalogue.get("LibraryModule")


def _leaf_inputs(model: nn.Module, side: int) -> dict[str, tuple[nn.Module, torch.Tensor]]:
    """Every leaf-class submodule by path, with the input it received in one forward pass of the model."""
    seen: dict[str, tuple[nn.Module, torch.Tensor]] = {}

    def keep(path: str):
        def hook(module: nn.Module, args: tuple) -> None:
            seen.setdefault(path, (module, args[0]))

        return hook

    hooks = [
        module.register_forward_pre_hook(keep(path))
        for path, module in model.named_modules()
        if qualified_name(module) in LEAF_CLASSES
    ]
    with torch.no_grad():
        model(torch.randn(1, 3, side, side))
    for hook in hooks:
        hook.remove()
    return seen


def _generated(params: dict[str, str]) -> nn.Module:
    """The module the generated model.py builds for these LibraryModule values: its import, its constructor."""
    p = SPEC.defaults() | {name: SPEC.param(name).validate(value) for name, value in params.items()}
    call = library_call(p)
    namespace: dict[str, object] = {"nn": nn}
    exec(import_line(call.module, [call.name]), namespace)
    return eval(constructor(SPEC, p), namespace)


@pytest.mark.parametrize(("name", "side", "count"), [("swin_t", 64, 15), ("swin_v2_t", 64, 15), ("maxvit_t", 224, 22)])
def test_every_library_module_of_a_torchvision_model_is_rebuilt_exactly(name, side, count):
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(weights=None).eval()
    leaves = _leaf_inputs(model, side)
    assert len(leaves) == count
    for path, (original, x) in leaves.items():
        params = library_params(original)
        assert params is not None, path
        assert params["cls"] == qualified_name(original)
        rebuilt = _generated(params).eval()
        expected = {key: tensor.shape for key, tensor in original.state_dict().items()}
        assert {key: tensor.shape for key, tensor in rebuilt.state_dict().items()} == expected, path
        rebuilt.load_state_dict(original.state_dict(), strict=True)
        with torch.no_grad():
            torch.testing.assert_close(rebuilt(x), original(x), rtol=0, atol=1e-6, msg=path)


def test_arguments_are_read_from_where_the_class_keeps_them_and_defaults_are_left_out():
    from torchvision.models.swin_transformer import PatchMerging, ShiftedWindowAttention

    attention = ShiftedWindowAttention(32, [4, 4], [2, 2], 4, qkv_bias=False, attention_dropout=0.1)
    params = library_params(attention)
    assert params == {
        "cls": "torchvision.models.swin_transformer.ShiftedWindowAttention",
        "args": json.dumps(
            {
                "dim": 32,
                "window_size": [4, 4],
                "shift_size": [2, 2],
                "num_heads": 4,
                "qkv_bias": False,
                "attention_dropout": 0.1,
            }
        ),
    }
    assert library_params(PatchMerging(8)) == {
        "cls": "torchvision.models.swin_transformer.PatchMerging",
        "args": '{"dim": 8}',
    }


def test_a_module_its_arguments_do_not_rebuild_is_not_imported_this_way():
    """A norm layer other than the default cannot be written as JSON: the rebuilt module's repr differs."""
    from torchvision.models.swin_transformer import PatchMerging

    assert library_params(PatchMerging(8, norm_layer=nn.BatchNorm1d)) is None
    changed = PatchMerging(8)
    changed.dim = 9  # an attribute that no longer says what was built
    assert library_params(changed) is None


def test_a_class_outside_torch_and_torchvision_is_not_imported_this_way():
    class Local(nn.Module):
        def __init__(self, width: int) -> None:
            super().__init__()
            self.width = width

    assert library_params(Local(3)) is None

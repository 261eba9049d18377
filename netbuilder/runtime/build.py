"""Build an nn.Module by executing the generated model source: what trains is exactly what is exported.

The source is netbuilder's own output (every value in it went through codegen's literal/identifier), so
executing it executes nothing a project file wrote. It is registered with linecache under a readable file
name, so a traceback from forward() shows the generated lines.
"""

from __future__ import annotations

import linecache
import types
from itertools import chain

import torch
from torch import nn

from netbuilder.codegen.model_code import ModelCode
from netbuilder.runtime.machine_memory import check_weights_fit

_counter = 0


def load_module(source: str, name: str = "model") -> types.ModuleType:
    """Execute `source` as a fresh module named `name` (not added to sys.modules)."""
    global _counter
    _counter += 1
    filename = f"<netbuilder {name} {_counter}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    module = types.ModuleType(name)
    module.__file__ = filename
    exec(compile(source, filename, "exec"), module.__dict__)
    return module


def build_model(code: ModelCode) -> nn.Module:
    """A fresh instance of the generated model class."""
    return construct(getattr(load_module(code.source, "model"), code.class_name))


def construct(model_class: type[nn.Module]) -> nn.Module:
    """`model_class()`, the one way a generated network is built (training, predictions, exports), refused
    with ModelTooLarge before anything is allocated when its parameters and buffers exceed this machine's
    memory. They are measured by building it first on the meta device, which allocates nothing and draws no
    random numbers."""
    with torch.device("meta"):
        planned = model_class()
    tensors = chain(planned.parameters(), planned.buffers())
    check_weights_fit(sum(tensor.numel() * tensor.element_size() for tensor in tensors))
    return model_class()

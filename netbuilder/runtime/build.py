"""Build an nn.Module by executing the generated model source: what trains is exactly what is exported.

The source is netbuilder's own output (every value in it went through codegen's literal/identifier), so
executing it executes nothing a project file wrote. It is registered with linecache under a readable file
name, so a traceback from forward() shows the generated lines.
"""

from __future__ import annotations

import linecache
import types

from torch import nn

from netbuilder.codegen.model_code import ModelCode

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
    return getattr(load_module(code.source, "model"), code.class_name)()

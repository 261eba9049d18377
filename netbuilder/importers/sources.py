"""Where the model to import comes from: `FILE.py:ClassName` or `torchvision:NAME`, as the command line names it.

FILE.py is executed only because the person named it, exactly as `python FILE.py` would; nothing a project
file holds ever reaches here.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from torch import nn


class SourceError(Exception):
    """The model named cannot be built; the message says why."""


def model_from_source(text: str) -> tuple[nn.Module, str]:
    """The module `text` names, built with no arguments (torchvision models untrained: nothing downloads),
    and a project name for it."""
    where, sep, name = text.rpartition(":")
    if not sep or not where or not name:
        raise SourceError(f"expected FILE.py:ClassName or torchvision:NAME, got {text!r}")
    if where == "torchvision":
        return _torchvision_model(name), name
    cls = _class_from_file(Path(where), name)
    try:
        return cls(), name
    except Exception as err:
        raise SourceError(f"{name}() failed (it must build with no arguments): {type(err).__name__}: {err}") from err


def _torchvision_model(name: str) -> nn.Module:
    import torchvision

    try:
        return torchvision.models.get_model(name, weights=None)
    except ValueError:
        raise SourceError(f"torchvision has no model {name!r}") from None


def _class_from_file(path: Path, name: str) -> type[nn.Module]:
    if not path.is_file():
        raise SourceError(f"no file at {path}")
    module_name = f"netbuilder_import_{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise SourceError(f"{path} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickling look the module up by name
    try:
        spec.loader.exec_module(module)
    except Exception as err:
        raise SourceError(f"running {path} failed: {type(err).__name__}: {err}") from err
    cls = getattr(module, name, None)
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise SourceError(f"{path} defines no nn.Module class {name!r}")
    return cls

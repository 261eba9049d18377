"""torchao imported without its notice about an enum that torch now handles itself (a logged warning from
torch.utils._pytree on every first import, which is torchao's to fix and nothing a user can act on). torchao is
imported by int8 quantization and, through ExecuTorch, by the .pte export."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

_PYTREE_LOG = logging.getLogger("torch.utils._pytree")


@contextlib.contextmanager
def torchao_notices_silenced() -> Iterator[None]:
    """For the moment torchao is imported: torch's pytree logger shows errors only."""
    level = _PYTREE_LOG.level
    _PYTREE_LOG.setLevel(logging.ERROR)
    try:
        yield
    finally:
        _PYTREE_LOG.setLevel(level)

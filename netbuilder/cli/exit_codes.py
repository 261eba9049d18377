"""The command's exit codes (ARCHITECTURE.md): 0 ok, 1 the project has problems, 2 usage or unreadable input.
(130 and 143, a command ended by a signal, are netbuilder.interrupts'.)"""

from __future__ import annotations

OK, PROBLEMS, USAGE = 0, 1, 2

"""Python's cyclic garbage collector in a command that loads torch: what the imports made is taken out of its
sight while the command runs, as the window does once torch is loaded (ui/main_thread_gc.py)."""

from __future__ import annotations

import gc


def freeze_imports() -> None:
    """Take every object alive now out of the collector's sight (gc.freeze): the modules just imported, torch's
    among them, some 360,000 objects that every full collection would walk again (about 120 ms each on a 2-core
    machine). Building a Trainer for the digits CNN set off four such collections; `netbuilder train` on it took
    3.4 s where it took 4.3 s. Called by a command once its imports are done; `thaw_imports` ends it."""
    gc.freeze()


def thaw_imports() -> None:
    """Give the frozen objects back to the collector (gc.unfreeze) once a command has run, so that a caller in the
    same process (the tests call commands in theirs) collects as before: garbage frozen with them would
    otherwise never be freed."""
    gc.unfreeze()

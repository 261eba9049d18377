"""Python's garbage collector on the main thread only, while our threads run Python."""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QTimer


class MainThreadGarbageCollector(QObject):
    """While our threads run Python, Python's cyclic garbage collector runs on the main thread only.

    An automatic collection runs in whichever thread happens to allocate past the threshold; on a worker
    thread it can destroy Qt objects that belong to the main thread (a timer left registered, then a crash
    many seconds later; seen while torch imported on the training thread). So while a training or probe
    thread is alive, automatic collection is off and a timer collects on the main thread, generation by
    generation, as Python would (pyqtgraph's GarbageCollector does the same)."""

    INTERVAL_MS = 100  # often enough that each collection finds few young objects (a few ms, not 20-50)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.holds = 0
        self._was_enabled = True
        self.timer = QTimer(self)
        self.timer.setInterval(self.INTERVAL_MS)
        self.timer.timeout.connect(self.collect)

    def hold(self) -> None:
        self.holds += 1
        if self.holds == 1:
            self._was_enabled = gc.isenabled()
            gc.disable()
            self.timer.start()

    def release(self) -> None:
        if self.holds == 0:
            return
        self.holds -= 1
        if self.holds == 0:
            self.timer.stop()
            if self._was_enabled:  # Python's own collector goes on from here, with its own rule for full ones
                gc.enable()

    def freeze_imports(self) -> None:
        """Take every object alive now out of the collector's sight for good (gc.freeze).

        Called once torch has been imported: its hundreds of thousands of long-lived objects would
        otherwise be traversed by every full collection, 100-300 ms each on the main thread while a run
        goes on. What is frozen is never collected, so this is for modules just imported, not for runs.
        (No collection first: that would be the very stall this avoids; a little garbage stays.)"""
        gc.freeze()

    def collect(self) -> None:
        """A young-generation collection when one is due. While a thread is held the oldest generation is
        left alone: a full collection takes 100-300 ms with torch loaded, a freeze of the whole window;
        Python's own collector takes it up again, by its own rule, when the last hold is released."""
        thresholds = gc.get_threshold()
        counts = gc.get_count()
        for generation in (1, 0) if self.holds else (2, 1, 0):
            if counts[generation] > thresholds[generation]:
                gc.collect(generation)
                return


_collector: MainThreadGarbageCollector | None = None


def main_thread_collector() -> MainThreadGarbageCollector:
    """The one collector of the application (made on first use, on the main thread)."""
    global _collector
    if _collector is None:
        _collector = MainThreadGarbageCollector(QCoreApplication.instance())
    return _collector

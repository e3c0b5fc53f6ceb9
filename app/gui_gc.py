"""Python's cyclic garbage collection, run on the GUI thread only.

A collection set off by a worker thread (the player's decoder, a Background task, a job watcher) frees the
Qt objects in unreachable cycles (pyqtgraph's parentless menus of a plot that is gone, a closed window's
parts). PySide hands their deletion to the GUI thread, where it runs between two arbitrary Python
statements, possibly while that thread walks a widget list holding them: a fatal signal. So the automatic
collector is off while the app runs, and a timer on the GUI thread collects at the pace it would have.
"""
from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 1000


class GuiThreadCollector(QObject):
    """Turns the automatic collector off until ``stop()``."""

    def __init__(self, parent: QObject, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        self.was_enabled = gc.isenabled()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.collect)
        gc.disable()
        self.timer.start(interval_ms)

    def collect(self) -> int:
        """The generation the automatic collector would have collected by now, if any: objects freed."""
        counts, limits = gc.get_count(), self.threshold
        if counts[0] <= limits[0]:
            return 0
        gen = 2 if counts[2] > limits[2] else 1 if counts[1] > limits[1] else 0
        return gc.collect(gen)

    def stop(self) -> None:
        self.timer.stop()
        if self.was_enabled:
            gc.enable()


"""A minimal event emitter for plain data objects (the napari pattern: the Qt side only listens)."""
from __future__ import annotations

from typing import Any, Callable


class Signal:
    """``sig.connect(fn)``; ``sig.emit(*args)`` calls every listener in connection order."""

    def __init__(self) -> None:
        self._listeners: list[Callable[..., Any]] = []

    def connect(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        if fn not in self._listeners:
            self._listeners.append(fn)
        return fn

    def disconnect(self, fn: Callable[..., Any]) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)

    def emit(self, *args: Any) -> None:
        for fn in list(self._listeners):
            fn(*args)

"""numba for the packaged build, without its compiler: ``jit`` returns the function unchanged.

face-alignment imports ``numba.jit`` for two small helpers that decode landmark heatmaps. The real
numba brings LLVM (llvmlite, about 200 MB) and compiles those helpers on first use, which takes
minutes on a small CPU; plain Python runs the same code in a few milliseconds per face (next to the network's
hundreds), exactly as numba itself does under NUMBA_DISABLE_JIT=1. The build puts this module in numba's place; a
development install uses the real numba.
"""
from __future__ import annotations

from typing import Callable, TypeVar

F = TypeVar("F", bound=Callable)

__version__ = "0+affecttrace-nojit"


def jit(*args: object, **options: object) -> Callable:
    """``@jit`` and ``@jit(nopython=True, ...)`` both leave the function as it is."""
    if len(args) == 1 and callable(args[0]) and not options:
        return args[0]
    return lambda fn: fn


njit = jit

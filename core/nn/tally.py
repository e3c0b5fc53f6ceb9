"""Training losses summed where they are computed and read back only now and then: reading a GPU value
waits for every kernel queued before it, so reading each step's loss would keep the CPU from preparing
the next step while the GPU works on this one."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch


@dataclass
class Reading:
    """Losses since the last read: sums and counts per part ('total' and one per task); ``first_bad``:
    1-based step (counted from the read before) of the first non-finite total, None when all were finite."""

    sums: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    steps: int = 0
    first_bad: int | None = None

    def means(self) -> dict[str, float]:
        return {k: self.sums[k] / self.counts[k] for k in self.sums}

    def bad_parts(self) -> list[str]:
        """Task losses that went non-finite (else just 'total')."""
        return [k for k, v in self.sums.items() if k != "total" and not math.isfinite(v)] or ["total"]


class LossTally:
    """``add(total, parts)`` each step (no device sync); ``read()`` now and then (one sync)."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._sums: dict[str, torch.Tensor] = {}
        self._counts: dict[str, int] = {}
        self._steps = 0
        self._good: torch.Tensor | None = None  # steps before the first non-finite one
        self._ok: torch.Tensor | None = None

    def add(self, total: torch.Tensor, parts: dict[str, torch.Tensor]) -> None:
        total = total.detach()
        finite = torch.isfinite(total)
        if self._ok is None or self._good is None:
            self._ok, self._good = finite, finite.long()
        else:
            self._ok = self._ok & finite
            self._good = self._good + self._ok.long()
        for k, v in (("total", total), *parts.items()):
            v = v.detach().float()
            self._sums[k] = self._sums[k] + v if k in self._sums else v
            self._counts[k] = self._counts.get(k, 0) + 1
        self._steps += 1

    def read(self) -> Reading:
        """The losses since the last read (one transfer from the device), and start again."""
        r = Reading(counts=dict(self._counts), steps=self._steps)
        if self._sums:
            keys = list(self._sums)
            values = torch.stack([self._sums[k] for k in keys] + [self._good.float()]).tolist()  # type: ignore[union-attr]
            r.sums = dict(zip(keys, values[:-1]))
            good = int(values[-1])
            r.first_bad = None if good == self._steps else good + 1
        self._reset()
        return r

"""The value types of command-line options, checked when the command line is parsed (one place).

Each is an argparse ``type=``: a bad value ends the command at once with one line naming the option and
the rule (``--lr nan``, ``--batch-size 0``, ``--seed -1``, ``--val 5``...), before any file is touched.
"""
from __future__ import annotations

import argparse
import math
from typing import Callable, NoReturn

from ..labels import TASKS
from ..safepaths import excerpt, name_problem

SEED_MAX = 2**32 - 1  # numpy's and torch's seeds


def _number(text: str, kind: type) -> float:
    try:
        return kind(text)
    except (ValueError, OverflowError):
        word = "a whole number" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"wants {word}, not {excerpt(text, 30)}") from None


def integer(low: int | None = None, high: int | None = None) -> Callable[[str], int]:
    """A whole number in [low, high] (either bound may be open)."""
    def parse(text: str) -> int:
        value = int(_number(text, int))
        if (low is not None and value < low) or (high is not None and value > high):
            raise argparse.ArgumentTypeError(_range(value, low, high))
        return value
    parse.__name__ = "integer"  # argparse names the type in its messages
    return parse


def number(low: float | None = None, high: float | None = None, *, above: bool = False,
           below: bool = False) -> Callable[[str], float]:
    """A finite number in [low, high]; ``above``/``below``: the bound itself is excluded."""
    def parse(text: str) -> float:
        value = float(_number(text, float))
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"wants a finite number, not {text!r}")
        if (low is not None and (value < low or (above and value == low))) or \
                (high is not None and (value > high or (below and value == high))):
            raise argparse.ArgumentTypeError(_range(value, low, high, above, below))
        return value
    parse.__name__ = "number"
    return parse


def _n(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e16 else f"{x:g}"


def _range(value: float, low: float | None, high: float | None, above: bool = False, below: bool = False) -> str:
    lo = f"{'above' if above else 'at least'} {_n(low)}" if low is not None else ""
    hi = f"{'below' if below else 'at most'} {_n(high)}" if high is not None else ""
    return f"must be {' and '.join(x for x in (lo, hi) if x)}, not {_n(value)}"


positive = integer(1)  # counts of things: epochs, batch size, segments
count = integer(0)  # 0 allowed: "none" or "off"
seed = integer(0, SEED_MAX)
share = number(0.0, 1.0, below=True)  # a held-out share: 0 (none) up to, not including, all
seconds = number(0.0, above=True)  # a length of time
nonneg = number(0.0)  # rates, weights, margins, clip norms, lags
learning_rate = number(0.0)  # 0 freezes the weights (a check); a huge one diverges and is said to
probability = number(0.0, 1.0)


def name(what: str) -> Callable[[str], str]:
    """A name that becomes a file or folder name (run id...): one plain file-name part."""
    def parse(text: str) -> str:
        problem = name_problem(text)
        if problem is not None:
            raise argparse.ArgumentTypeError(f"the {what} {problem}")
        return text
    parse.__name__ = "name"
    return parse


run_id = name("run id")


def task_weights(text: str) -> dict[str, float]:
    """``va=1,expr=0.5,au=1``: a finite weight of 0 or more per known task."""
    out: dict[str, float] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or key not in TASKS:
            raise argparse.ArgumentTypeError(f"wants task=weight pairs with tasks among {', '.join(TASKS)}, "
                                             f"not {excerpt(part, 30)}")
        out[key] = nonneg(value.strip())
    return out


def batch_size(text: str) -> int:
    """Samples per step, or 'auto' (0: the preset and device decide)."""
    return 0 if text == "auto" else positive(text)


class OneLineParser(argparse.ArgumentParser):
    """An argparse parser whose usage errors are one line (``affecttrace train: error: argument --lr: ...``),
    exit status 2 (a usage error, as argparse; a bad input file ends with 1): no usage block before it."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


FORCE_HELP = "replace an existing output file that holds another kind of data"


def add_force(p: argparse.ArgumentParser, help: str = FORCE_HELP) -> None:
    p.add_argument("--force", action="store_true", help=help)

"""What the architecture promises and static checks cannot see: the GUI process loads no torch (lazy imports
hide it from import-linter), and the command line, the app and the engine share one definition of each word and
default (core.words)."""
from __future__ import annotations

import argparse
import inspect
import pkgutil
import subprocess
import sys

import app
from core.cli.main import build_parser
from core.nn.config import TrainConfig
from core.suggest import suggest_from, video_suggestions
from core.words import AMP_CHOICES, END_STATES, FACE_BACKENDS, SEGMENT_SECONDS, SUGGESTION_COUNT, EndState


def test_every_app_module_imports_without_torch() -> None:
    names = [m.name for m in pkgutil.walk_packages(app.__path__, "app.") if not m.name.endswith("__main__")]
    code = (f"import importlib, sys\nfor n in {names!r}:\n    importlib.import_module(n)\n"
            "print(sorted(m for m in ('torch', 'torchvision', 'face_alignment') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


def _subcommand(name: str) -> argparse.ArgumentParser:
    subparsers = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return subparsers.choices[name]


def _option(sub: argparse.ArgumentParser, flag: str) -> argparse.Action:
    return next(a for a in sub._actions if flag in a.option_strings)


def test_command_line_defaults_are_core_defaults() -> None:
    suggest = _subcommand("suggest")
    assert _option(suggest, "--count").default == SUGGESTION_COUNT
    assert _option(suggest, "--segment-seconds").default == SEGMENT_SECONDS
    for f in (suggest_from, video_suggestions):
        params = inspect.signature(f).parameters
        assert params["count"].default == SUGGESTION_COUNT and params["segment_s"].default == SEGMENT_SECONDS
    train = _subcommand("train")
    assert tuple(_option(train, "--amp").choices) == AMP_CHOICES and TrainConfig().amp in AMP_CHOICES
    assert tuple(_option(train, "--faces-backend").choices) == FACE_BACKENDS
    assert tuple(_option(_subcommand("faces"), "--backend").choices) == FACE_BACKENDS


def test_end_states_are_one_list() -> None:
    from app.jobs import DONE_STATES
    from core.nn.trainer import TrainStatus

    assert DONE_STATES == END_STATES and TrainStatus is EndState
    assert EndState.EARLY_STOPPED == "early-stopped" and str(EndState.DIVERGED) == "diverged"

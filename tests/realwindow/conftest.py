"""Fixtures of the real-window tests: one X server per screen size for the module, a demo project."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.realwindow.xsession import XServer, require_tools

DEMO_SECONDS = 40.0  # 1000 frames at 25 fps: room for several passes far apart


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    require_tools()
    from core.demo import create_demo

    folder = tmp_path_factory.mktemp("realwindow") / "demo"
    create_demo(folder, duration_s=DEMO_SECONDS).close()
    return folder


@pytest.fixture
def demo(demo_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the demo project."""
    return Path(shutil.copytree(demo_template, tmp_path / "demo", ignore=shutil.ignore_patterns(".lock")))


@pytest.fixture(scope="module")
def screen_1280(tmp_path_factory):
    x = XServer(1280, 800, tmp_path_factory.mktemp("x1280"))
    yield x
    x.close()

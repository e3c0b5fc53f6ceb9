"""Shared fixtures. Real media live in ../shared/data beside the checkout (skipped where absent)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("AFFECTTRACE_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real face media; the test is skipped where it is absent."""
    if not (SHARED_DATA / "single_face.mp4").exists():
        pytest.skip(f"real media folder {SHARED_DATA} is absent")
    return SHARED_DATA


@pytest.fixture
def cli(capsys):
    """Run ``affecttrace ARGS`` in this process: (exit status, stdout, stderr)."""
    from core.cli.main import main

    def go(*argv: object) -> tuple[int, str, str]:
        code = main([str(a) for a in argv])
        out = capsys.readouterr()
        return code, out.out, out.err

    return go

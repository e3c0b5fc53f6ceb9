"""Project's parts (VideoOps, Persistence) rely on a typed contract, ProjectState, that Project fulfils."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.project import Project
from core.project.persist import Persistence
from core.project.state import ProjectState
from core.project.videos import VideoOps


def test_project_provides_every_member_its_parts_use(tmp_path: Path) -> None:
    assert issubclass(VideoOps, ProjectState) and issubclass(Persistence, ProjectState)
    p = Project.create(tmp_path / "p")
    try:
        for name in ProjectState.__annotations__:
            assert hasattr(p, name), f"Project lacks {name}, which ProjectState declares"
        for name in ProjectState.__abstractmethods__:
            assert not getattr(getattr(Project, name), "__isabstractmethod__", False), name
    finally:
        p.close()


def test_a_project_without_a_declared_helper_cannot_be_made() -> None:
    class Broken(VideoOps, Persistence):  # no track(), _record(), ... of its own
        pass

    with pytest.raises(TypeError, match="abstract"):
        Broken()

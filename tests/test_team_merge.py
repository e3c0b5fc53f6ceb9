"""Issue 15 §2: a copy of the project labelled elsewhere (a laptop) comes back with `project merge`: frames
edited on both sides are listed per annotator and refused by default; --prefer decides; merged changes
are journaled, undoable edits."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from core.edits import set_range
from core.project import Project
from core.project.merge import merge_lane
from core.tracks import TrackSource

N = 200


def _label(folder: Path, ann: str, video: str, start: int, stop: int, value: float, save: bool = True) -> None:
    p = Project.open(folder, annotator=ann)
    assert not p.readonly, p.readonly_reason
    if not p.has_track(video, ann):
        p.new_track(video, ann, TrackSource.human(ann))
    p.history.push(set_range(video, ann, "va", start, stop, (value, value), author=ann))
    if save:
        p.save()
    p.close()


def _va(folder: Path, ann: str, video: str = "v0") -> np.ndarray:
    p = Project.open(folder, readonly=True)
    try:
        return p.track(video, ann).va[:, 0].copy()
    finally:
        p.close()


@pytest.fixture
def copies(tmp_path: Path) -> tuple[Path, Path]:
    share = tmp_path / "share" / "proj"
    p = Project.create(share)
    for v in ("v0", "v1"):
        p.add_video(share / f"{v}.mp4", name=v, frame_count=N, fps=25)
    p.save()
    p.close()
    _label(share, "ann1", "v0", 0, 100, 0.1)
    _label(share, "ann1", "v0", 100, 110, 0.15, save=False)  # unsaved when copied: in the journal, both sides
    laptop = tmp_path / "laptop" / "proj"
    shutil.copytree(share, laptop)
    # on the laptop: new frames, frames that also change on the share, a new track
    _label(laptop, "ann1", "v0", 120, 150, 0.2)
    _label(laptop, "ann1", "v0", 50, 60, 0.3)
    _label(laptop, "ann1", "v1", 0, 20, 0.6)
    # meanwhile on the share
    _label(share, "ann1", "v0", 55, 65, 0.4)
    _label(share, "ann2", "v0", 0, 10, -0.5)
    return share, laptop


def test_merge_refuses_and_lists_conflicts_by_default(cli, copies) -> None:
    share, laptop = copies
    before = _va(share, "ann1")
    code, out, err = cli("project", "merge", str(share), str(laptop))
    assert code == 1, err
    assert "ann1: 5 frame(s) edited both here and in" in out
    assert "v0/ann1 VA: frames 55-59" in out and "nothing merged" in out
    np.testing.assert_array_equal(_va(share, "ann1"), before)


@pytest.mark.parametrize("prefer", ["theirs", "ours"])
def test_merge_with_prefer(cli, copies, prefer: str) -> None:
    share, laptop = copies
    code, out, err = cli("project", "merge", str(share), str(laptop), "--prefer", prefer)
    assert code == 0, err
    va = _va(share, "ann1")
    np.testing.assert_allclose(va[:50], 0.1)
    np.testing.assert_allclose(va[50:55], 0.3)  # changed on the laptop only
    np.testing.assert_allclose(va[55:60], 0.3 if prefer == "theirs" else 0.4)  # both: the preferred side
    np.testing.assert_allclose(va[60:65], 0.4)  # changed on the share only
    np.testing.assert_allclose(va[65:100], 0.1)
    np.testing.assert_allclose(va[100:110], 0.15)  # the journal both copies replayed: no conflict
    np.testing.assert_allclose(va[120:150], 0.2)
    np.testing.assert_allclose(_va(share, "ann1", "v1")[:20], 0.6)  # a track made on the laptop
    np.testing.assert_allclose(_va(share, "ann2")[:10], -0.5)  # another annotator: untouched
    # merging the same copy again finds nothing new and no conflict
    code, out, err = cli("project", "merge", str(share), str(laptop))
    assert code == 0 and "merged 0 frame(s)" in out, (out, err)


def test_merged_changes_are_journaled_undoable_edits(copies) -> None:
    share, laptop = copies
    p = Project.open(share, annotator="ann1")
    report = merge_lane(p, laptop, prefer="theirs")
    assert report.edits >= 3 and report.merged == 5 + 5 + 30 + 20
    np.testing.assert_allclose(p.track("v0", "ann1").va[120:150, 0], 0.2)
    # undoable, edit by edit, in the session that merged
    while p.history.can_undo:
        p.history.undo()
    np.testing.assert_allclose(p.track("v0", "ann1").va[55:65, 0], 0.4)
    assert np.isnan(p.track("v0", "ann1").va[120:150, 0]).all()
    while p.history.can_redo:
        p.history.redo()
    # journaled: a crash now loses nothing
    p._journal.close()
    p._lease.release()
    q = Project.open(share, annotator="ann1")
    np.testing.assert_allclose(q.track("v0", "ann1").va[120:150, 0], 0.2)
    np.testing.assert_allclose(q.track("v0", "ann1").va[50:60, 0], 0.3)
    q.close()

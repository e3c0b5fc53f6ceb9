"""Journal: kill -9 a real editing process at a random moment, reopen, find every edit it made."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.edits import record, set_range
from core.project import Project
from core.project.journal import journal_generations, journal_path
from core.tracks import TrackSource
from tests.project_child import N_FRAMES, expected_va, lost_edits, run_and_kill


def _project(folder: Path) -> None:
    p = Project.create(folder, au_set="affwild2-8")
    p.add_video(folder / "missing.mp4", name="clip", frame_count=N_FRAMES, fps=25)
    p.save()
    p.close()


@pytest.mark.parametrize("save_every,seed", [(0, 1), (40, 2), (7, 3)])
def test_kill_9_loses_no_edit(tmp_path: Path, save_every: int, seed: int) -> None:
    folder = tmp_path / "proj"
    _project(folder)
    killed_at, applied = run_and_kill(folder, save_every, seed)
    assert len(applied) > 20, "the child made too few edits to test anything"
    required = [i for i, t in applied if t < killed_at - 1.0]
    assert required, "no edit older than 1 s before the kill"

    p = Project.open(folder)  # the dead child's lock is gone: writable, and nothing is asked
    assert not p.readonly
    va = p.track("clip", "joy").va
    assert lost_edits(va, applied) == []  # printed only after the journal write returned: all must be there
    last = max(i for i, _ in applied)
    # anything after the last printed edit is either that edit's successor (journaled, not yet printed) or empty
    assert np.isnan(va[2 * last + 4:]).all()
    p.save()
    p.close()
    q = Project.open(folder, readonly=True)  # after the save the replayed edits are in the HDF5 itself
    assert q.recovered == 0
    np.testing.assert_array_equal(q.track("clip", "joy").va, va)
    q.close()


def test_replay_covers_every_operation(tmp_path: Path) -> None:
    folder = tmp_path / "proj"
    _project(folder)
    p = Project.open(folder)
    base = p.new_track("clip", "a", TrackSource.human("ann1"))
    p.new_track("clip", "gone", TrackSource.human("ann2"))
    p.history.push(set_range("clip", "a", "expr", 0, 100, 4))
    p.history.push(set_range("clip", "a", "au", 50, 60, 1, columns=(1, 3)))
    p.history.undo()
    p.history.undo()
    p.history.redo()
    p.delete_track("clip", "gone")
    model = base.copy()
    model.name, model.source = "m", TrackSource.model("run1", "abc123")
    model.va[:10] = 0.25
    p.put_track(model)
    p.add_video(folder / "other.mp4", name="other", frame_count=30, fps="30000/1001", split="val")
    p.remove_video("other")
    p.add_annotator("ann3")
    expr = p.track("clip", "a").expr.copy()
    p._journal.close()  # what a crash leaves: the journal, no save
    p._lock.release()

    q = Project.open(folder)
    assert q.warnings == []
    assert sorted(q.track_names("clip")) == ["a", "m"]
    np.testing.assert_array_equal(q.track("clip", "a").expr, expr)
    assert (q.track("clip", "a").au == -1).all()
    np.testing.assert_array_equal(q.track("clip", "m").va[:10], 0.25)
    assert q.track_source("clip", "m").run_id == "run1"
    assert "other" not in q.videos and q.annotators == ["ann1", "ann2", "ann3"]
    q.save()
    q.close()


def test_journal_rotates_on_save_and_skips_a_torn_line(tmp_path: Path) -> None:
    folder = tmp_path / "proj"
    _project(folder)
    p = Project.open(folder)
    p.new_track("clip", "a", TrackSource.human("ann1"))
    p.apply(record("clip", "a", "va", 0, expected_va(0)))
    gen = p.generation
    p.save()
    assert p.generation == gen + 1
    assert journal_path(folder, gen + 1).stat().st_size == 0  # the new generation's journal starts empty
    p.apply(record("clip", "a", "va", 2, expected_va(1)))
    p.save()
    p.apply(record("clip", "a", "va", 4, expected_va(2)))
    # older journals go; the one the previous generation needs stays for the index fallback
    assert journal_generations(folder) == [gen + 1, gen + 2]
    p._journal.close()
    with open(journal_path(folder, gen + 2), "ab") as f:
        f.write(b'{"op":"apply","edit":{"video":"clip","tr')  # power cut mid-write
    p._lock.release()
    q = Project.open(folder)
    np.testing.assert_array_equal(q.track("clip", "a").va[4:6], expected_va(2))
    assert any("unreadable journal line" in w for w in q.warnings)
    q.apply(record("clip", "a", "va", 6, expected_va(3)))  # lands on its own line after the torn one
    q.close()
    r = Project.open(folder)
    np.testing.assert_array_equal(r.track("clip", "a").va[6:8], expected_va(3))
    r.close()

"""Issue 15: when the share goes away or fills up, an annotator's edits go on into the local spool, the app
can say since when, and the spool reaches the lane when the share is back (or at the next open after a
crash). Real folders renamed away, a real full tmpfs, a real kill -9."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.edits import set_range
from core.errors import ProjectError
from core.project import Project
from core.project.spool import spool_home
from core.tracks import TrackSource
from tests.badinput import fill_disk
from tests.team_child import edit_of
from tests.test_disk_and_locks import tmpfs  # noqa: F401 (the fixture: a real small tmpfs where root allows)

REPO = Path(__file__).resolve().parents[1]
N = 300


@pytest.fixture
def home(tmp_path: Path, monkeypatch) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    monkeypatch.setenv("HOME", str(h))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    return h


def _project(folder: Path) -> Path:
    p = Project.create(folder)
    for v in ("v0", "v1", "v2"):
        p.add_video(folder / f"{v}.mp4", name=v, frame_count=N, fps=25)
    p.save()
    p.close()
    return folder


def _spooled(home: Path) -> list[Path]:
    return sorted((home / ".local" / "share" / "affecttrace" / "spool").glob("*/*.jsonl"))


def test_share_renamed_away_and_back(tmp_path: Path, home: Path) -> None:
    folder = _project(tmp_path / "share" / "proj")
    p = Project.open(folder, annotator="ann1")
    p.new_track("v0", "ann1", TrackSource.human("ann1"))
    p.history.push(set_range("v0", "ann1", "va", 0, 10, (0.1, 0.1)))
    p.save()
    away = tmp_path / "share" / "proj.away"
    folder.rename(away)  # the NAS is unplugged
    p.history.push(set_range("v0", "ann1", "va", 10, 20, (0.2, 0.2)))
    with pytest.raises(ProjectError, match="cannot"):
        p.save()
    assert p.offline_since is not None and p.offline_reason
    p.history.push(set_range("v0", "ann1", "va", 20, 30, (0.3, 0.3)))
    p.history.undo()
    p.history.redo()
    assert _spooled(home) and spool_home() in _spooled(home)[0].parents
    with pytest.raises(ProjectError, match="unreachable since .* local spool"):
        p.save()
    assert not folder.exists()  # nothing was made again where the share was
    assert p.poll_changes() == [] and p.offline_since is not None
    away.rename(folder)  # back
    p.poll_changes()
    assert p.offline_since is None and not _spooled(home)
    p.save()
    p.close()
    q = Project.open(folder, readonly=True)
    va = q.track("v0", "ann1").va[:, 0]
    np.testing.assert_allclose(va[:30], np.repeat([0.1, 0.2, 0.3], 10))
    assert np.isnan(va[30:]).all()
    q.close()


def test_full_share_spools_and_a_killed_session_is_replayed_at_next_open(
        tmp_path: Path, tmpfs: Path, home: Path, monkeypatch) -> None:  # noqa: F811 (tmpfs: the fixture)
    folder = _project(tmpfs / "proj")
    env = dict(os.environ, HOME=str(home), PYTHONPATH=str(REPO), AFFECTTRACE_HOSTNAME="ws1")
    env.pop("XDG_DATA_HOME", None)
    child = subprocess.Popen([sys.executable, "-m", "tests.team_child", "annotate", str(folder), "ann1", "1",
                              "1000000", "0"], stdout=subprocess.PIPE, text=True, env=env, cwd=REPO)
    assert child.stdout is not None
    lines = [child.stdout.readline().strip()]
    assert lines[0].startswith("ready"), lines
    while sum(x.startswith("applied") for x in lines) < 50:
        lines.append(child.stdout.readline().strip())
    filler = fill_disk(tmpfs)  # the share is full: the journal cannot grow
    while not _spooled(home) or sum(x.startswith("applied") for x in lines) < 400:
        lines.append(child.stdout.readline().strip())
    child.send_signal(signal.SIGKILL)
    lines += child.stdout.read().splitlines()  # not communicate(): it would skip what readline() buffered
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    spooled = _spooled(home)[0].read_bytes().count(b"\n")
    assert spooled > 10
    # still full: the annotator's next session applies the spool but keeps it, and says so
    monkeypatch.setenv("AFFECTTRACE_HOSTNAME", "ws1")
    p = Project.open(folder, annotator="ann1")
    if not p.readonly:
        assert p.offline_since is not None and "No space left" in p.offline_reason
        assert any("cannot take them yet" in w for w in p.warnings), p.warnings
        with pytest.raises(ProjectError, match="local spool"):
            p.save()
    else:  # not even the lease fitted: read-only, saying the disk is full
        assert "full" in p.readonly_reason
    p.close()
    assert _spooled(home)
    filler.unlink()
    p = Project.open(folder, annotator="ann1")
    assert not p.readonly and any("replayed from" in w for w in p.warnings), p.warnings
    assert not _spooled(home)
    p.save()
    p.close()
    # every acknowledged edit is in the lane; the one in flight at the kill may or may not be
    want = {v: np.full(N, np.nan, np.float32) for v in ("v0", "v1", "v2")}
    maybe = {v: np.full(N, np.nan, np.float32) for v in ("v0", "v1", "v2")}
    acked = {int(x.split()[2]) for x in lines if x.startswith("applied ")}
    tried = [int(x.split()[2]) for x in lines if x.startswith("next ")]
    for i in tried:
        video, start, stop, value = edit_of("ann1", 1, i, ["v0", "v1", "v2"], N)
        maybe[video][start:stop] = value
        if i in acked:
            want[video][start:stop] = value
    q = Project.open(folder, readonly=True)
    for v in want:
        got = q.track(v, "ann1").va[:, 0] if q.has_track(v, "ann1") else np.full(N, np.nan, np.float32)
        ok = (got == want[v]) | (got == maybe[v]) | (np.isnan(got) & np.isnan(want[v]))
        bad = np.flatnonzero(~ok)[:10]
        assert ok.all(), (v, bad, got[bad], want[v][bad], maybe[v][bad])
    q.close()

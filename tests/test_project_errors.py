"""Project failures: malformed manifest, damaged HDF5, full disk during save, a second process."""
from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from core import fsio
from core.edits import record, set_range
from core.errors import ProjectError, ProjectLockedError
from core.project import Project, storage
from core.project.storage import read_index, read_track
from core.tracks import TrackSource
from tests.badinput import fill_disk
from tests.project_child import expected_va

REPO = Path(__file__).resolve().parents[1]


def _saved_project(folder: Path) -> Project:
    p = Project.create(folder, au_set="affwild2-8")
    p.add_video(folder / "clip.mp4", name="clip", frame_count=2000, fps=25)
    p.new_track("clip", "joy", TrackSource.human("ann1"))
    p.apply(set_range("clip", "joy", "expr", 0, 100, 3))
    p.save()
    return p


def _saved_expr(folder: Path) -> np.ndarray:
    """What the last committed save holds (the HDF5 alone, no journal)."""
    e = read_index(folder / "annotations.h5").entries[("clip", "joy")]
    return read_track(folder / e.file, e.group, "clip", "joy").expr


@pytest.mark.parametrize("text,problem", [
    ("{not json", "malformed JSON at line 1 column 2"),
    ('{"format": "affecttrace-project", "version": 1, "videos": {"v": {"media": "v.mp4", "fps": "25"}}}',
     "video 'v': missing field 'frame_count'"),
    ('{"format": "affecttrace-project", "version": 1, "videos": {"v": {"media": "v.mp4", "fps": "x", '
     '"frame_count": 3}}}', "video 'v': Invalid literal for Fraction: 'x'"),
    ('{"format": "something-else"}', "not an AffectTrace manifest"),
    ('{"format": "affecttrace-project", "version": 99}', "unsupported manifest version 99"),
    ('[1, 2]', "expected a JSON object"),
])
def test_malformed_manifest_names_file_and_problem(tmp_path: Path, text: str, problem: str) -> None:
    _saved_project(tmp_path / "p").close()
    (tmp_path / "p" / "project.json").write_text(text)
    with pytest.raises(ProjectError) as info:
        Project.open(tmp_path / "p")
    assert info.value.path == tmp_path / "p" / "project.json"
    assert problem in str(info.value)
    with pytest.raises(ProjectError, match="not an AffectTrace project"):
        Project.open(tmp_path)


def test_corrupt_index_falls_back_to_previous_generation(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    p = _saved_project(folder)
    p.apply(set_range("clip", "joy", "expr", 100, 200, 5))
    p.save()
    p.apply(set_range("clip", "joy", "expr", 200, 300, 6))
    p.close()  # last edit only in the journal
    data = bytearray((folder / "annotations.h5").read_bytes())
    data[:512] = os.urandom(512)
    (folder / "annotations.h5").write_bytes(bytes(data))

    q = Project.open(folder)  # previous generation + both journals = nothing lost
    assert any("annotations.h5" in w and "previous generation" in w for w in q.warnings)
    e = q.track("clip", "joy").expr
    assert (e[:100] == 3).all() and (e[100:200] == 5).all() and (e[200:300] == 6).all()
    q.save()
    q.close()
    assert (_saved_expr(folder)[200:300] == 6).all()

    for name in ("annotations.h5", "annotations.prev.h5"):
        (folder / name).write_bytes(b"garbage" * 100)
    with pytest.raises(ProjectError) as info:
        Project.open(folder)
    assert info.value.path == folder / "annotations.prev.h5" and "damaged annotations file" in str(info.value)


def test_corrupt_track_file_names_it(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    _saved_project(folder).close()
    pack = next((folder / "tracks").glob("g*.h5"))
    pack.write_bytes(pack.read_bytes()[:300])
    p = Project.open(folder)  # lazy: opening still works
    with pytest.raises(ProjectError) as info:
        p.track("clip", "joy")
    assert info.value.path == pack and "clip/joy: unreadable" in str(info.value)
    p.close()


def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("target", ["pack", "manifest", "index", "prev"])
def test_full_disk_during_save_keeps_previous_state(tmp_path: Path, monkeypatch, target: str) -> None:
    folder = tmp_path / "p"
    p = _saved_project(folder)
    p.add_video(folder / "other.mp4", name="other", frame_count=10, fps=25)  # manifest is dirty too
    p.apply(set_range("clip", "joy", "expr", 0, 100, 7))
    before = sorted(f.name for f in (folder / "tracks").iterdir())
    with monkeypatch.context() as m:
        if target == "pack":
            m.setattr(storage, "_write_track", _enospc)
        elif target == "manifest":
            m.setattr(fsio, "write_all", _enospc)
        elif target == "index":
            m.setattr(storage, "fsync_file", lambda path: _enospc() if path.name.endswith(".tmp") else None)
        else:
            m.setattr(os, "link", _enospc)
            m.setattr("shutil.copyfile", _enospc)
        with pytest.raises(ProjectError) as info:
            p.save()
    assert "No space left on device" in str(info.value)
    expected_file = {"pack": "tracks", "manifest": "project.json", "index": "annotations.h5",
                     "prev": "annotations.prev.h5"}[target]
    assert expected_file in str(info.value.path)
    assert (_saved_expr(folder)[:100] == 3).all()  # the previous save is intact and readable
    assert sorted(f.name for f in (folder / "tracks").iterdir()) == before  # no half-written pack left
    assert not list(folder.glob(".*.tmp"))
    p.apply(set_range("clip", "joy", "expr", 100, 110, 1))  # still editable; the journal kept everything
    p.close()
    q = Project.open(folder)
    assert (q.track("clip", "joy").expr[:100] == 7).all() and (q.track("clip", "joy").expr[100:110] == 1).all()
    assert "other" in q.videos
    q.save()
    q.close()
    assert (_saved_expr(folder)[:100] == 7).all()


def test_really_full_disk_on_a_tiny_tmpfs(tmp_path: Path) -> None:
    mount = tmp_path / "tiny"
    mount.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        p = _saved_project(mount / "p")
        rng = np.random.default_rng(0)
        p.apply(record("clip", "joy", "va", 0, rng.uniform(-1, 1, (2000, 2)).astype(np.float32)))
        filler = fill_disk(mount, leave=2048)  # a few kB given back: too little for the new pack
        with pytest.raises(ProjectError) as info:
            p.save()
        assert "No space left on device" in str(info.value) and str(mount / "p") in str(info.value.path)
        assert (_saved_expr(mount / "p")[:100] == 3).all()
        filler.unlink()
        p.save()  # space again: the same project saves
        p.close()
        q = Project.open(mount / "p", readonly=True)
        assert np.isfinite(q.track("clip", "joy").va).all() and q.recovered == 0
        q.close()
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def _child(mode: str, folder: Path, *args: str) -> subprocess.Popen:
    child = subprocess.Popen([sys.executable, "-m", "tests.project_child", mode, str(folder), *args], cwd=REPO,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = child.stdout.readline()
    assert line.strip() == "locked", child.stderr.read()
    return child


def test_second_process_gets_read_only_with_the_holder(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    p = _saved_project(folder)
    p.new_track("clip", "joy2", TrackSource.human("ann2"))
    p.save()
    p.close()
    child = _child("hold", folder)
    try:
        q = Project.open(folder)
        assert q.readonly and f"pid {child.pid} since " in q.lock_holder and "@" in q.lock_holder
        np.testing.assert_array_equal(q.track("clip", "joy").va[:6].reshape(3, 2, 2),
                                      [expected_va(i) for i in range(3)])  # sees the holder's unsaved edits
        with pytest.raises(ProjectLockedError, match=f"held by .*pid {child.pid}"):
            q.apply(set_range("clip", "joy", "expr", 0, 1, 1))
        with pytest.raises(ProjectLockedError):
            q.save()
        q.close()
    finally:
        child.kill()  # SIGKILL: the kernel drops its lock
        child.wait()
    r = Project.open(folder)
    assert not r.readonly and r.lock_holder is None
    assert json.loads((folder / "lock.json").read_text())["pid"] == os.getpid()
    same = Project.open(folder)  # a second open in the same process is read-only too
    assert same.readonly and f"pid {os.getpid()}" in same.lock_holder
    same.close()
    r.close()
    assert not (folder / "lock.json").exists()


def test_stale_lock_of_a_dead_pid_is_taken_over(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    _saved_project(folder).close()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    # an orphan (e.g. a forked worker) keeps the fcntl lock while lock.json names a dead session
    child = _child("flock", folder, str(dead.pid))
    try:
        t0 = time.monotonic()
        p = Project.open(folder)
        assert not p.readonly and time.monotonic() - t0 < 30
        assert json.loads((folder / "lock.json").read_text())["pid"] == os.getpid()
        q = Project.open(folder)  # and the next opener sees the new, live holder
        assert q.readonly and f"pid {os.getpid()}" in q.lock_holder
        q.close()
        p.close()
    finally:
        child.kill()
        child.wait()

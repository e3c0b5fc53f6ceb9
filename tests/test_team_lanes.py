"""Issue 15: annotator lanes in one project folder: own files only, leases, take-over, polling, legacy projects."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from core.edits import set_range
from core.errors import ProjectLockedError
from core.project import Project
from core.project import lease as lease_mod
from core.project.lanefiles import LANE_LEASE, TAKEOVERS_NAME, lane_root
from core.project.lease import Lease, LeaseInfo
from core.tracks import TrackSource
from tests.test_disk_and_locks import tmpfs  # noqa: F401 (the fixture: a real small tmpfs where root allows)

N = 300


def _project(folder: Path, videos: int = 2) -> Path:
    p = Project.create(folder)
    for i in range(videos):
        p.add_video(folder / f"v{i}.mp4", name=f"v{i}", frame_count=N, fps=25)
    p.save()
    p.close()
    return folder


def _label(p: Project, video: str, start: int, stop: int, value: float) -> None:
    if not p.has_track(video, p.lane):
        p.new_track(video, p.lane, TrackSource.human(p.lane))
    p.history.push(set_range(video, p.lane, "va", start, stop, (value, -value), author=p.lane))


def test_annotators_write_their_own_lanes_and_see_each_other(tmp_path: Path) -> None:
    folder = _project(tmp_path / "proj")
    a = Project.open(folder, annotator="ann1")
    b = Project.open(folder, annotator="ann2")
    assert not a.readonly and not b.readonly
    _label(a, "v0", 0, 100, 0.5)
    _label(b, "v0", 50, 150, -0.25)
    a.save()
    b.save()
    # each session wrote only under its own lane (and the annotator list, under the project lease)
    assert sorted(os.listdir(folder / "team")) == ["ann1", "ann2"]
    assert (lane_root(folder, "ann1") / "annotations.h5").is_file()
    assert json.loads((folder / "project.json").read_text())["annotators"] == ["ann1", "ann2"]
    changes = a.poll_changes()
    assert ("ann2", "v0", "ann2") in changes
    np.testing.assert_allclose(a.track("v0", "ann2").va[50:150], [[-0.25, 0.25]] * 100)
    assert a.owner_of("v0", "ann2") == "ann2" and a.owner_of("v0", "ann1") is None
    with pytest.raises(ProjectLockedError, match="annotator ann2's"):
        a.history.push(set_range("v0", "ann2", "va", 0, 5, (0.1, 0.1)))
    # the next edit of ann2 shows in ann1's session after one poll, and nothing else changed
    _label(b, "v0", 200, 210, 0.75)
    b.save()
    assert a.poll_changes() == [("ann2", "v0", "ann2")]
    assert a.poll_changes() == []
    np.testing.assert_allclose(a.track("v0", "ann2").va[200:210, 0], 0.75)
    now = {x.name: x for x in a.annotators_now()}
    assert now["ann2"].online and now["ann2"].generation == 2 and now["ann2"].last_saved_ago() < 60
    a.close()
    b.close()
    # a whole-project reader (the lead's fuse) sees both lanes
    r = Project.open(folder, readonly=True)
    assert sorted(r.track_names("v0")) == ["ann1", "ann2"]
    np.testing.assert_allclose(r.track("v0", "ann1").va[0:100, 0], 0.5)
    r.close()


def test_second_session_of_an_annotator_is_read_only_and_take_over_is_recorded(tmp_path: Path,
                                                                              monkeypatch) -> None:
    folder = _project(tmp_path / "proj")
    monkeypatch.setenv("AFFECTTRACE_HOSTNAME", "ws1")
    first = Project.open(folder, annotator="ann1")
    _label(first, "v0", 0, 10, 0.5)  # journaled, not saved
    monkeypatch.setenv("AFFECTTRACE_HOSTNAME", "ws2")
    second = Project.open(folder, annotator="ann1")
    assert second.readonly and second.holder_info is not None
    assert second.holder_info.host == "ws1" and "ann1 on ws1" in second.readonly_reason
    second.close()
    third = Project.open(folder, annotator="ann1", take_over=True)
    assert not third.readonly and third.recovered >= 1  # the first session's journal is replayed
    np.testing.assert_allclose(third.track("v0", "ann1").va[:10, 0], 0.5)
    took = [json.loads(x) for x in (lane_root(folder, "ann1") / TAKEOVERS_NAME).read_text().splitlines()]
    assert took[-1]["host"] == "ws2" and took[-1]["from"]["host"] == "ws1"
    # the first session finds out at its next write, and refuses it cleanly
    first._last_lease_check = 0.0
    with pytest.raises(ProjectLockedError, match="taken over by ann1 on ws2"):
        _label(first, "v0", 20, 30, 0.1)
    assert first.readonly
    third.save()
    first.close()
    third.close()


def test_a_crashed_workstation_lease_expires_by_the_observer_clock(tmp_path: Path, monkeypatch) -> None:
    folder = _project(tmp_path / "proj")
    root = lane_root(folder, "ann1")
    root.mkdir(parents=True)
    # a lease of another host whose heartbeat never moves again; its wall clock is a day ahead (skew)
    dead = LeaseInfo("ann1", "ws-crashed", 4242, "deadbeef0001", 1e10, "annotating")
    (root / LANE_LEASE).write_bytes(dead.to_json())
    (root / f"{LANE_LEASE}.beat-deadbeef0001").write_text("17\n")
    held = Project.open(folder, annotator="ann1")
    assert held.readonly and held.holder_info.host == "ws-crashed"
    held.close()
    monkeypatch.setattr(lease_mod, "EXPIRE_S", 0.6)
    lease = Lease.acquire(root / LANE_LEASE, "ann1", wait_s=3.0, expire_s=0.6)
    assert lease.info.took_over_from["expired"] and lease.info.took_over_from["host"] == "ws-crashed"
    assert not (root / f"{LANE_LEASE}.beat-deadbeef0001").exists()
    note = root / f"{LANE_LEASE}.taken-deadbeef0001"  # for the crashed holder, should it ever come back
    assert LeaseInfo.from_json(note.read_bytes()).session == lease.info.session
    lease.release()
    # the next clean take (the last holder released normally): the crashed holder's note goes
    again = Lease.acquire(root / LANE_LEASE, "ann1")
    assert not note.exists() and not list(root.glob(f"{LANE_LEASE}.taken-*"))
    again.release()


def test_a_live_heartbeat_is_never_judged_dead(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(lease_mod, "BEAT_S", 0.1)
    path = tmp_path / "x.lease"
    holder = Lease.acquire(path, "lead")
    monkeypatch.setenv("AFFECTTRACE_HOSTNAME", "elsewhere")  # so the pid check cannot decide
    with pytest.raises(lease_mod.LeaseHeld) as e:
        Lease.acquire(path, "other", wait_s=1.5, expire_s=0.8)
    assert e.value.info.session == holder.info.session
    holder.release()
    assert not path.exists()


def test_a_heartbeat_on_a_full_share_says_so_and_leaves_no_temporary_file(tmpfs: Path) -> None:  # noqa: F811
    path = tmpfs / "x.lease"
    lease = Lease.acquire(path, "ann1")
    try:
        with open(tmpfs / "filler", "wb") as f:  # the share fills up while the session holds its lease
            with pytest.raises(OSError):
                while True:
                    f.write(b"\0" * (1 << 16))
                    f.flush()
        lease._beat()
        assert lease.beat_error is not None and "space" in lease.beat_error.lower(), lease.beat_error
        assert not [f.name for f in tmpfs.iterdir() if f.name.endswith(".tmp")]
        assert lease.check()  # a beat that could not be written does not lose the lease
    finally:
        lease.release()


def test_legacy_project_track_is_adopted_into_the_lane_on_first_edit(tmp_path: Path) -> None:
    folder = _project(tmp_path / "proj")
    p = Project.open(folder)  # a single-writer project as before
    p.new_track("v0", "ann1", TrackSource.human("ann1"))
    p.history.push(set_range("v0", "ann1", "expr", 0, 50, 4))
    p.save()
    p.close()
    lane = Project.open(folder, annotator="ann1")
    assert lane.owner_of("v0", "ann1") == ""  # still the project store's
    lane.history.push(set_range("v0", "ann1", "expr", 40, 60, 2))
    assert lane.owner_of("v0", "ann1") is None  # now the lane's own
    lane.save()
    lane.close()
    again = Project.open(folder, annotator="ann1")
    expr = again.track("v0", "ann1").expr
    assert (expr[:40] == 4).all() and (expr[40:60] == 2).all() and (expr[60:] == -1).all()
    again.close()
    r = Project.open(folder, readonly=True)  # the lead sees the lane's version, not the stale copy
    assert (r.track("v0", "ann1").expr[40:60] == 2).all()
    r.close()


def test_project_wide_changes_from_a_lane_take_the_short_project_lease(tmp_path: Path) -> None:
    folder = _project(tmp_path / "proj")
    a = Project.open(folder, annotator="ann1")
    b = Project.open(folder, annotator="ann2")
    a.add_video(folder / "v9.mp4", name="v9", frame_count=N, fps=25)
    assert not (folder / "leases" / "project.lease").exists()  # released at once
    assert "v9" in json.loads((folder / "project.json").read_text())["videos"]
    b.poll_changes()
    assert "v9" in b.videos
    a.close()
    b.close()


def test_a_link_planted_in_team_is_not_read_as_a_lane(tmp_path: Path) -> None:
    folder = _project(tmp_path / "proj")
    a = Project.open(folder, annotator="ann1")
    _label(a, "v0", 0, 10, 0.5)
    a.save()
    a.close()
    (folder / "team" / "evil").symlink_to(folder / "team" / "ann1", target_is_directory=True)
    r = Project.open(folder, readonly=True)
    assert r.track_names("v0") == ["ann1"] and r.owner_of("v0", "ann1") == "ann1"
    assert "evil" not in [x.name for x in r.annotators_now()]
    r.close()


def test_an_annotator_starts_at_once_while_a_lead_session_holds_the_project(tmp_path: Path) -> None:
    folder = _project(tmp_path / "proj")
    lead = Project.open(folder)  # a whole-project session, held for long
    assert not lead.readonly
    a = Project.open(folder, annotator="ann1")
    _label(a, "v0", 0, 10, 0.5)
    assert any("not added to the project's list yet" in w for w in a.warnings)
    a.save()
    a.close()
    assert lead.poll_changes() == [("ann1", "v0", "ann1")]
    lead.close()
    b = Project.open(folder, annotator="ann1")  # the project is free now: the list catches up
    _label(b, "v1", 0, 10, 0.25)
    assert "ann1" in b.annotators
    b.close()

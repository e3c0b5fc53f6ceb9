"""Issue 10: honest read-only, full-disk and lock messages; all-or-nothing outputs; two processes at once;
an import killed midway is reported on open. Real mounts (tmpfs) where root allows, real processes."""
from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.project import Project
from core.project.lock import ProjectLock
from core.tracks import TrackSource
from tests.badinput import ANNOTATOR, fill_disk, good_clip, labelled_project, labels_of, one_line, same_labels

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return good_clip(tmp_path_factory.mktemp("media"))





@pytest.fixture
def tmpfs(tmp_path: Path):
    mount = tmp_path / "mnt"
    mount.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount)], capture_output=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True)




def _two_annotators(folder: Path, clip: Path) -> Path:
    labelled_project(folder, clip)
    p = Project.open(folder)
    t = p.track("clip", ANNOTATOR).copy()
    t.name, t.source = "ann2", TrackSource.human("ann2")
    p.put_track(t)
    p.save()
    p.close()
    return folder


def _leftovers(root: Path) -> list[Path]:
    return [f for f in root.rglob("*") if f.name.endswith(".tmp") or ".partial" in f.name]


# ------------------------------------------------------------------ read-only and full disks

def test_read_only_folder_says_so_not_none(monkeypatch, cli, tmp_path: Path, clip: Path) -> None:
    proj = labelled_project(tmp_path / "p", clip)

    def refuse(folder: Path):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(folder / ".lock"))

    monkeypatch.setattr(ProjectLock, "acquire", refuse)
    code, _, err = cli("project", "add-video", proj, clip, "--name", "c2")
    line = one_line(err)
    assert code == 1 and "read-only" in line and "None" not in line and "elsewhere" not in line


def test_read_only_mount(cli, tmpfs: Path, clip: Path) -> None:
    proj = _two_annotators(tmpfs / "p", clip)
    before = labels_of(proj)
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    csv = tmpfs.parent / "t.csv"
    csv.write_text("video,frame,track,valence,arousal\nclip,55,other,0.5,0.5\n")
    for argv in (("project", "add-video", proj, clip, "--name", "c2"), ("import-csv", proj, csv),
                 ("fuse", proj, "--method", "vote"), ("project", "save", proj)):
        code, _, err = cli(*argv)
        line = one_line(err)
        assert code == 1 and "read-only" in line and str(proj) in line and "None" not in line, line
    assert same_labels(before, labels_of(proj))


def test_full_disk_names_the_file_and_leaves_nothing_half_written(cli, tmpfs: Path, clip: Path) -> None:
    proj = _two_annotators(tmpfs / "p", clip)
    before = labels_of(proj)
    csv = tmpfs.parent / "t.csv"
    csv.write_text("video,frame,track,valence,arousal\nclip,55,other,0.5,0.5\n")
    filler = fill_disk(tmpfs)
    for argv in (("project", "add-video", proj, clip, "--name", "c2"), ("import-csv", proj, csv),
                 ("fuse", proj, "--method", "vote")):
        code, _, err = cli(*argv)
        line = one_line(err)
        assert code == 1 and "disk is full" in line and str(proj) in line, line
    code, _, err = cli("export-csv", proj, tmpfs / "out.csv")
    line = one_line(err)
    assert code == 1 and str(tmpfs / "out.csv") in line and "No space left" in line, line
    assert not (tmpfs / "out.csv").exists()
    code, _, err = cli("export-affwild2", proj, tmpfs / "aw", "--track", ANNOTATOR)
    line = one_line(err)
    assert code == 1 and str(tmpfs / "aw") in line and "No space left" in line, line
    assert not (tmpfs / "aw").exists()
    assert _leftovers(tmpfs) == []
    filler.unlink()
    assert same_labels(before, labels_of(proj))
    assert cli("fuse", proj, "--method", "vote")[0] == 0  # space again: the same project works


def test_train_on_a_full_disk(cli, tmp_path: Path) -> None:
    from tests.nn_demo import make_demo_project

    mount = tmp_path / "mnt"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        proj = make_demo_project(mount, seconds=2.0)
        models = sorted(p.name for p in (proj / "models").iterdir())
        fill_disk(mount)
        code, _, err = cli("train", proj, "--preset", "mt-tiny", "--epochs", "1", "--max-steps", "1",
                           "--label-track", "truth")
        line = one_line(err)
        assert code == 1 and "No space left" in line and str(proj / "models") in line, line
        assert _leftovers(mount) == []
        assert sorted(p.name for p in (proj / "models").iterdir()) == models  # no half-made run folder
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


# ------------------------------------------------------------------ locks and two processes

def test_a_lock_without_lock_json_names_its_holder(cli, tmp_path: Path, clip: Path) -> None:
    proj = labelled_project(tmp_path / "p", clip)
    code = ("import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT); "
            "fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); sys.stdin.read()")
    child = subprocess.Popen([sys.executable, "-c", code, str(proj / ".lock")], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "locked"
        p = Project.open(proj)
        assert p.readonly and f"pid {child.pid}" in p.lock_holder
        p.close()
    finally:
        child.kill()
        child.wait()


def test_fuse_and_import_csv_at_the_same_moment_lose_nothing(tmp_path: Path, clip: Path) -> None:
    proj = _two_annotators(tmp_path / "p", clip)
    csv = tmp_path / "t.csv"
    csv.write_text("video,frame,track,valence,arousal\n" + "".join(f"clip,{i},imported,0.5,-0.5\n" for i in range(20)))
    for round_ in range(3):
        procs = [subprocess.Popen([sys.executable, "-m", "core.cli", *argv], cwd=REPO, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
                 for argv in (["fuse", str(proj), "--method", "vote", "--name", f"fused{round_}"],
                              ["import-csv", str(proj), str(csv)])]
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
        p = Project.open(proj, readonly=True)
        assert p.has_track("clip", f"fused{round_}")
        np.testing.assert_array_equal(p.track("clip", "imported").va[:20], np.tile([0.5, -0.5], (20, 1)))
        np.testing.assert_array_equal(p.track("clip", f"fused{round_}").expr[:50], 4)
        p.close()


# ------------------------------------------------------------------ an import killed midway

KILL_AFTER_TWO_PUTS = """
import os, sys
from core.project import Project
real, n = Project.put_track, [0]
def put(self, track):
    real(self, track)
    n[0] += 1
    if n[0] == 2:
        os.kill(os.getpid(), 9)
Project.put_track = put
from core.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("existing", [False, True])
def test_import_killed_midway_is_reported_on_open(tmp_path: Path, clip: Path, existing: bool) -> None:
    from tests.affwild2gen import make_dataset

    root = tmp_path / "aw"
    make_dataset(root, "2022")
    proj = tmp_path / "p"
    if existing:
        Project.create(proj).close()
    r = subprocess.run([sys.executable, "-c", KILL_AFTER_TWO_PUTS, "import-affwild2", str(root), str(proj)],
                       cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == -9, r.stderr
    p = Project.open(proj, readonly=True)
    assert any("import-affwild2" in w and "did not finish" in w for w in p.warnings), p.warnings
    p.close()
    r = subprocess.run([sys.executable, "-m", "core.cli", "import-affwild2", str(root), str(proj)], cwd=REPO,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    p = Project.open(proj, readonly=True)
    assert not any("did not finish" in w for w in p.warnings) and len(p.videos) == 4
    p.close()

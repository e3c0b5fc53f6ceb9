"""Issue 19 §1-3, §5: nothing written through a link or outside its folder, run ids checked and claimed
atomically, no output over an input, no FIFO waited on, full disks said in one line, options checked at
parse time. Real commands on real files; each refusal is one line naming the path."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.badinput import fill_disk, good_clip, labelled_project, labels_of, one_line, same_labels

TRAIN = ("--epochs", "1", "--max-steps", "1", "--label-track", "truth")


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return good_clip(tmp_path_factory.mktemp("media"))


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """A demo project with face caches and one finished run 'r1' (copied per test)."""
    from core.cli.main import main
    from tests.nn_demo import make_demo_project

    proj = make_demo_project(tmp_path_factory.mktemp("demo"), seconds=2.0)
    assert main(["train", str(proj), *TRAIN, "--run-id", "r1"]) == 0
    return proj


@pytest.fixture
def proj(demo: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(demo, tmp_path / "p", symlinks=True))


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file outside every project: what a planted link points at; it must never change."""
    f = tmp_path / "outside" / "victim.txt"
    f.parent.mkdir()
    f.write_text("keep me\n")
    return f


def _untouched(f: Path) -> bool:
    return f.read_text() == "keep me\n"


# ------------------------------------------------------------------ §1 files written through links

def test_journal_segment_link_is_refused(cli, tmp_path: Path, clip: Path, outside: Path) -> None:
    p = labelled_project(tmp_path / "lp", clip)
    from core.project.journal import journal_generations, journal_path

    gens = journal_generations(p)
    seg = journal_path(p, max(gens) if gens else 0)
    seg.unlink(missing_ok=True)
    seg.symlink_to(outside)
    csv = tmp_path / "t.csv"
    csv.write_text("video,frame,track,valence,arousal\nclip,0,imported,0.5,0.5\n")
    code, _, err = cli("import-csv", p, csv)
    line = one_line(err)
    assert code == 1 and "symbolic link" in line and str(seg) in line, line
    assert _untouched(outside)


def test_dangling_lock_link_is_refused_and_its_target_never_made(cli, tmp_path: Path, clip: Path) -> None:
    p = labelled_project(tmp_path / "lp", clip)
    target = tmp_path / "made-by-affecttrace"
    (p / ".lock").unlink(missing_ok=True)
    (p / ".lock").symlink_to(target)
    code, _, err = cli("project", "save", p)
    line = one_line(err)
    assert code == 1 and "symbolic link" in line, line
    assert not target.exists()


def test_events_log_link_on_resume_is_refused(cli, proj: Path, outside: Path) -> None:
    log = proj / "models" / "r1" / "events.jsonl"
    log.unlink()
    log.symlink_to(outside)
    code, _, err = cli("train", proj, "--resume", "r1", "--epochs", "2")
    line = one_line(err)
    assert code == 1 and "symbolic link" in line and str(log) in line, line
    assert _untouched(outside)


def test_face_cache_link_is_refused_by_faces_force(cli, proj: Path, outside: Path) -> None:
    cache = next((proj / "cache" / "faces").glob("*.h5"))
    cache.unlink()
    cache.symlink_to(outside)
    code, _, err = cli("faces", proj, "--backend", "reference", "--force")
    assert code == 1 and "symbolic link" in one_line(err) and str(cache) in err, err
    assert _untouched(outside)


@pytest.mark.parametrize("folder", ["models", "cache/faces"])
def test_linked_folders_inside_a_project_are_refused(cli, proj: Path, tmp_path: Path, folder: str) -> None:
    real = proj / folder
    elsewhere = tmp_path / "elsewhere"
    shutil.move(real, elsewhere)
    real.symlink_to(elsewhere, target_is_directory=True)
    before = sorted(p.name for p in elsewhere.rglob("*"))
    argv = (("train", proj, *TRAIN, "--run-id", "r9") if folder == "models"
            else ("faces", proj, "--backend", "reference", "--force"))
    code, _, err = cli(*argv)
    line = one_line(err)
    assert code == 1 and "symbolic link to a folder" in line and str(real) in line, line
    assert sorted(p.name for p in elsewhere.rglob("*")) == before


def test_a_project_folder_given_as_a_link_works(cli, proj: Path, tmp_path: Path) -> None:
    link = tmp_path / "link-to-project"
    link.symlink_to(proj, target_is_directory=True)
    code, _, err = cli("train", link, *TRAIN, "--run-id", "via-link")
    assert code == 0, err
    assert (proj / "models" / "via-link" / "last.pt").is_file()


# ------------------------------------------------------------------ §1 run ids

@pytest.mark.parametrize("run_id", ["..", ".", "../../escape", "/tmp/abs", "a/b", "", "x" * 300, "nl\nx"])
def test_hostile_run_ids_are_refused_at_parse_time(cli, proj: Path, run_id: str) -> None:
    with pytest.raises(SystemExit) as e:
        cli("train", proj, *TRAIN, "--run-id", run_id)
    assert e.value.code == 2
    assert sorted(p.name for p in (proj / "models").iterdir()) == ["r1"]
    assert not Path("/tmp/abs").exists()


def test_a_finished_run_is_replaced_only_with_force(cli, proj: Path) -> None:
    best = proj / "models" / "r1" / "best.pt"
    stamp = best.stat().st_mtime_ns
    code, _, err = cli("train", proj, *TRAIN, "--run-id", "r1")
    line = one_line(err)
    assert code == 1 and "--force" in line and str(proj / "models" / "r1") in line, line
    assert best.stat().st_mtime_ns == stamp
    code, _, err = cli("train", proj, *TRAIN, "--run-id", "r1", "--force")
    assert code == 0, err
    assert best.stat().st_mtime_ns != stamp
    assert [p.name for p in (proj / "models").iterdir() if p.name.startswith(".")] == []


def test_a_run_folder_is_claimed_once(tmp_path: Path) -> None:
    from core.errors import AffectTraceError
    from core.runs import claim_run

    first = claim_run(tmp_path / "models", "same")
    try:
        with pytest.raises(AffectTraceError, match="exists"):
            claim_run(tmp_path / "models", "same")
        with pytest.raises(AffectTraceError, match="another process is training"):
            claim_run(tmp_path / "models", "same", replace=True)
    finally:
        first.abandon()
    assert not (tmp_path / "models" / "same").exists()  # no checkpoint: no run left behind


def test_a_default_run_id_taken_meanwhile_moves_to_the_next(cli, proj: Path, monkeypatch) -> None:
    import core.nn.run as run

    ids = iter(["taken", "taken", "free"])  # the first guess lost a race with another training
    monkeypatch.setattr(run, "new_run_id", lambda preset, models: next(ids))
    (proj / "models" / "taken").mkdir()
    code, _, err = cli("train", proj, *TRAIN)
    assert code == 0, err
    assert (proj / "models" / "free" / "last.pt").is_file() and not any((proj / "models" / "taken").iterdir())


# ------------------------------------------------------------------ §2 no output over an input

def test_compare_csv_over_the_manifest_is_refused(cli, proj: Path) -> None:
    manifest = (proj / "project.json").read_bytes()
    code, _, err = cli("compare", proj, "--ref", "truth", "--csv", proj / "project.json")
    line = one_line(err)
    assert code == 1 and "project" in line and str(proj / "project.json") in line, line
    assert (proj / "project.json").read_bytes() == manifest
    code, _, err = cli("export-csv", proj, proj / "tracks" / "x.csv")
    assert code == 1 and "file of the project" in one_line(err)


def test_import_images_over_its_own_csv_or_a_video_is_refused(cli, tmp_path: Path, clip: Path) -> None:
    csv = tmp_path / "labels.csv"
    csv.write_text("path,expression\na.jpg,Happiness\n")
    before = csv.read_bytes()
    code, _, err = cli("import-images", "csv", csv, csv)
    assert code == 1 and "is an input" in one_line(err) and csv.read_bytes() == before
    video = tmp_path / "v.mp4"
    shutil.copy(clip, video)
    data = video.read_bytes()
    code, _, err = cli("import-images", "csv", csv, video)
    line = one_line(err)
    assert code == 1 and "--force" in line and "video" in line and str(video) in line, line
    assert video.read_bytes() == data


def test_frame_png_over_its_video_and_a_text_file(cli, tmp_path: Path, clip: Path) -> None:
    video = tmp_path / "v.png"  # a video named .png: the output check compares files, not names
    shutil.copy(clip, video)
    code, _, err = cli("frame", video, "0", "-o", video)
    assert code == 1 and "is an input" in one_line(err)
    notes = tmp_path / "notes.png"
    notes.write_text("my notes\n")
    code, _, err = cli("frame", clip, "0", "-o", notes)
    assert code == 1 and "--force" in one_line(err) and notes.read_text() == "my notes\n"
    code, _, err = cli("frame", clip, "0", "-o", notes, "--force")
    assert code == 0 and notes.read_bytes().startswith(b"\x89PNG"), err


# ------------------------------------------------------------------ §3 FIFOs are never waited on

def _run(argv: list[str], timeout: float = 60) -> subprocess.CompletedProcess:
    repo = Path(__file__).resolve().parents[1]
    return subprocess.run([sys.executable, "-m", "core.cli", *argv], cwd=repo, capture_output=True, text=True,
                          timeout=timeout)


def test_a_fifo_events_log_on_resume_is_refused_at_once(proj: Path) -> None:
    log = proj / "models" / "r1" / "events.jsonl"
    log.unlink()
    os.mkfifo(log)
    r = _run(["train", str(proj), "--resume", "r1", "--epochs", "2"])
    line = one_line(r.stderr)
    assert r.returncode == 1 and "FIFO" in line and str(log) in line, line


def test_runs_list_skips_fifo_and_wrong_types(proj: Path) -> None:
    from core.runs import RunCurves, list_runs, recipe_text

    run = proj / "models" / "r1"
    (run / "summary.json").unlink()
    os.mkfifo(run / "summary.json")
    t0 = time.monotonic()
    runs = list_runs(proj)
    assert time.monotonic() - t0 < 10 and [r.run_id for r in runs] == ["r1"] and runs[0].summary == {}
    (run / "summary.json").unlink()
    (run / "summary.json").write_text(json.dumps({"status": 5, "best_epoch": "x", "best_metrics": [1, 2]}))
    (run / "config.toml").write_text('val_blocks = "many"\ntasks = 3\nval_split = [1, 2]\n')
    r = list_runs(proj)[0]
    assert r.best == {} and r.summary.get("best_epoch") is None and isinstance(r.status, str)
    assert "val 1,2" in recipe_text(r.config)
    (run / "events.jsonl").write_text('{"event": "epoch", "epoch": "x"}\n{"event": "step", "step": [1]}\n')
    curves = RunCurves.from_log(run)
    assert curves.epochs == [] and "wrong type" in curves.messages[-1][1]


def test_a_fifo_csv_table_and_config_are_refused(tmp_path: Path, proj: Path) -> None:
    fifo = tmp_path / "table.csv"
    os.mkfifo(fifo)
    r = _run(["compare", str(proj), "--ref", "truth", "--csv", str(fifo)])
    assert r.returncode == 1 and "FIFO" in one_line(r.stderr)
    cfg = tmp_path / "cfg.toml"
    os.mkfifo(cfg)
    r = _run(["train", str(proj), *TRAIN, "--config", str(cfg)])
    assert r.returncode == 1 and "FIFO" in one_line(r.stderr)


# ------------------------------------------------------------------ §3 full disks

@pytest.fixture
def tmpfs(tmp_path: Path):
    mount = tmp_path / "mnt"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)],
                      capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def _leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(".tmp") or ".replaced-" in p.name]


def test_train_into_a_nearly_full_disk_says_so_and_leaves_no_run(cli, demo: Path, tmpfs: Path) -> None:
    proj = Path(shutil.copytree(demo, tmpfs / "p", symlinks=True))
    shutil.rmtree(proj / "models" / "r1")
    fill_disk(tmpfs, leave=600_000)  # room for config.toml, not for a checkpoint: torch's "unexpected pos"
    code, _, err = cli("train", proj, *TRAIN, "--run-id", "full")
    line = one_line("\n".join(ln for ln in err.splitlines() if ln.startswith("affecttrace")))
    assert code == 1 and "No space left" in line and str(proj / "models" / "full") in line, line
    assert not (proj / "models" / "full").exists() and _leftovers(tmpfs) == []


def test_every_writer_refuses_a_linked_folder_inside_a_project(tmp_path: Path, clip: Path) -> None:
    """The primitives every writer goes through: atomic replace, append, folder making."""
    from core.errors import AffectTraceError, ProjectError
    from core.fsio import append_text, atomic_write_bytes, real_folder

    p = labelled_project(tmp_path / "lp", clip)
    before = labels_of(p)
    elsewhere = tmp_path / "tracks-elsewhere"
    (p / "tracks").rename(elsewhere)
    (p / "tracks").symlink_to(elsewhere, target_is_directory=True)
    listing = sorted(x.name for x in elsewhere.iterdir())
    for write in (lambda: atomic_write_bytes(p / "tracks" / "new.h5", b"x"),
                  lambda: append_text(p / "tracks" / "new.jsonl", "x\n", ProjectError),
                  lambda: real_folder(p / "tracks" / "sub")):
        with pytest.raises(AffectTraceError, match="symbolic link to a folder"):
            write()
    assert sorted(x.name for x in elsewhere.iterdir()) == listing
    (p / "tracks").unlink()
    elsewhere.rename(p / "tracks")
    assert same_labels(before, labels_of(p))


@pytest.mark.parametrize("room", [0, 20_000, 60_000, 1_500_000])
def test_faces_into_a_nearly_full_disk_is_one_line_never_a_crash(demo: Path, tmpfs: Path, room: int) -> None:
    """HDF5 failing on a full disk left broken objects that crashed the process when freed (SIGSEGV/SIGBUS):
    the room is checked before HDF5 writes."""
    proj = Path(shutil.copytree(demo, tmpfs / "p", symlinks=True))
    shutil.rmtree(proj / "models")
    shutil.rmtree(proj / "cache")
    fill_disk(tmpfs, room)
    r = _run(["faces", str(proj), "--backend", "reference"])
    line = one_line(r.stderr)
    assert r.returncode == 1 and "No space left" in line and str(proj / "cache" / "faces") in line, line


def test_predict_tracks_file_into_a_full_disk(cli, demo: Path, tmpfs: Path) -> None:
    fill_disk(tmpfs)
    out = tmpfs / "tracks.h5"
    code, _, err = cli("predict", demo, "--checkpoint", "r1", "--tracks-out", out)
    line = one_line(err)
    assert code == 1 and str(out) in line and "No space left" in line, line
    assert not out.exists() and _leftovers(tmpfs) == []


# ------------------------------------------------------------------ §5 options

BAD_OPTIONS = [
    ("import-images", "csv", "x.csv", "o.h5", "--val", "nan"), ("import-images", "csv", "x.csv", "o.h5", "--val", "5"),
    ("train", "p", "--seed", "-1"), ("train", "p", "--batch-size", "0"), ("train", "p", "--batch-size", "-5"),
    ("train", "p", "--lr", "nan"), ("train", "p", "--lr", "-1e-3"), ("train", "p", "--task-weights", "foo=1"),
    ("train", "p", "--task-weights", "va=inf"), ("train", "p", "--epochs", "0"), ("train", "p", "--val-blocks", "1"),
    ("compare", "p", "--ref", "t", "--window", "nan"), ("compare", "p", "--ref", "t", "--worst", "-1"),
    ("suggest", "p", "--segment-seconds", "nan"), ("suggest", "p", "--count", "0"),
    ("agreement", "p", "--max-lag", "-5"), ("fuse", "p", "--max-lag", "inf"),
    ("predict", "p", "--checkpoint", "c", "--batch-size", "0"), ("predict", "p", "--checkpoint", "c",
                                                                  "--threshold", "2"),
    ("demo", "d", "--duration", "-3"), ("faces", "p", "--every", "0"), ("frame", "m", "nan", "-o", "x.png"),
]


@pytest.mark.parametrize("argv", BAD_OPTIONS, ids=lambda a: " ".join(a[-2:]))
def test_bad_option_values_end_at_parse_time_in_one_line(capsys, argv: tuple[str, ...]) -> None:
    from core.cli.main import main

    with pytest.raises(SystemExit) as e:
        main(list(argv))
    err = capsys.readouterr().err
    line = one_line(err, 300)
    assert e.value.code == 2 and "argument " in line and "see --help" in line, line


def test_a_config_file_meets_the_same_rules(cli, proj: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("lr = nan\n")
    code, _, err = cli("train", proj, *TRAIN, "--config", cfg)
    line = one_line(err)
    assert code == 1 and "lr" in line and str(cfg) in line, line


# ------------------------------------------------------------------ §5 damaged image datasets

@pytest.fixture(scope="module")
def image_set(tmp_path_factory) -> Path:
    from core.cli.main import main
    from tests.imagedbgen import csv_table

    root = tmp_path_factory.mktemp("images")
    csv_table(root, ("Happiness", "Anger", "Neutral"), 6, bad=False)
    assert main(["import-images", "csv", str(root / "labels.csv"), str(root / "set.h5")]) == 0
    return root / "set.h5"


def _damage(kind: str, src: Path, dst: Path) -> Path:
    import h5py

    shutil.copyfile(src, dst)
    if kind == "cut":
        dst.write_bytes(src.read_bytes()[: src.stat().st_size * 2 // 3])
        return dst
    with h5py.File(dst, "r+") as f:
        if kind == "no-labels":
            del f["expr"]
        elif kind == "garbled-json":
            f.attrs["expr_classes"] = "[not json"
        elif kind == "no-attribute":
            del f.attrs["splits"]
        elif kind == "short-array":
            va = f["va"][()]
            del f["va"]
            f["va"] = va[:2]
    return dst


@pytest.mark.parametrize("kind", ["cut", "no-labels", "garbled-json", "no-attribute", "short-array"])
def test_a_damaged_image_dataset_is_one_line(cli, demo: Path, image_set: Path, tmp_path: Path, kind: str) -> None:
    bad = _damage(kind, image_set, tmp_path / f"{kind}.h5")
    code, _, err = cli("evaluate-images", "--checkpoint", demo / "models" / "r1" / "best.pt", bad)
    line = one_line(err)
    assert code == 1 and str(bad) in line and "internal" not in line, line
    code, _, err = cli("train", "--images", bad, "--epochs", "1", "--max-steps", "1", "--models", tmp_path / "m")
    line = one_line(err)
    assert code == 1 and str(bad) in line and "internal" not in line, line


@pytest.mark.parametrize("layout", ["affectnet", "csv"])
def test_a_200kb_cell_or_a_long_line_in_an_image_table_is_one_line(cli, tmp_path: Path, layout: str) -> None:
    from tests.imagedbgen import affectnet_original, csv_table

    if layout == "affectnet":
        affectnet_original(tmp_path / "db", {"train": 2, "val": 1}, bad=False)
        table = tmp_path / "db" / "Manually_Annotated_file_lists" / "training.csv"
        root = tmp_path / "db"
    else:
        csv_table(tmp_path / "db", ("Happiness",), 3, bad=False)
        root = table = tmp_path / "db" / "labels.csv"
    rows = table.read_text()
    table.write_text(rows + "img/" + "a" * 200_000 + ".jpg,1,1,1,1,,1,0.1,0.1\n")
    code, _, err = cli("import-images", layout, root, tmp_path / "o.h5")  # an invalid row, reported as such
    assert code == 1 and str(table) in err and "internal" not in err and "Traceback" not in err, err[:600]
    assert max(len(ln) for ln in err.splitlines()) < 1000
    with open(table, "w") as f:
        f.write(rows.splitlines()[0] + "\n" + "9" * (3 << 20) + "\n")
    code, _, err = cli("import-images", layout, root, tmp_path / "o.h5")
    line = one_line(err, 600)
    assert code == 1 and "longer than" in line and str(table) in line, line

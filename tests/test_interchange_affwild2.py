"""Aff-Wild2 import/export through the CLI: byte-for-byte round trips of both layouts, validation."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from core.cli.main import main
from core.project import Project
from tests.affwild2gen import N_FRAMES, make_dataset


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.txt"))}


@pytest.mark.parametrize("layout", ["2020", "2022"])
def test_round_trip_byte_for_byte(tmp_path: Path, layout: str, capsys: pytest.CaptureFixture) -> None:
    files = make_dataset(tmp_path / "ds", layout)
    media = ["--media", str(tmp_path / "ds" / "videos")] if layout == "2020" else []  # 2022: found in ROOT/videos
    assert main(["import-affwild2", str(tmp_path / "ds"), str(tmp_path / "proj"), *media]) == 0
    out = capsys.readouterr().out
    assert "vid1: va file has 32 lines, the video 30 decoded frames" in out
    assert "vid2_right: va file has 27 lines" in out
    assert "marked missing: vid3" in out and "vid1: 2 frame(s) without a crop" in out
    assert main(["export-affwild2", str(tmp_path / "proj"), str(tmp_path / "out")]) == 0
    base = "annotations/" if layout == "2020" else ""
    got = _tree(tmp_path / "out")
    want = {base + rel: p.read_bytes() for rel, p in files.items()}
    assert got == want  # same paths (incl. the EXPR_Recognition_Challenge alias) and bytes

    with Project.open(tmp_path / "proj", readonly=True) as p:
        assert sorted(p.videos) == ["vid1", "vid2_left", "vid2_right", "vid3"]
        assert p.media_path("vid2_left") == p.media_path("vid2_right")
        assert p.media_path("vid2_left").name == "vid2.mp4"
        assert p.is_missing("vid3") and not p.is_missing("vid1")
        assert p.videos["vid1"].frame_count == N_FRAMES and p.videos["vid3"].frame_count == 25
        assert p.videos["vid2_right"].split == "val" and p.videos["vid1"].split == "train"
        x = p.videos["vid1"].extra["affwild2"]
        assert x["missing_crops"] == [[3, 5]] and x["label_lines"]["va"] == 32
        assert p.videos["vid1"].crops and p.videos["vid3"].crops is None
        t = p.track("vid1", "affwild2")
        assert np.isnan(t.va[5:9]).all() and not np.isnan(t.va[:5]).any()
        assert (t.au[3] == -1).all() and p.au_set.name == ("affwild2-8" if layout == "2020" else "affwild2-12")
        assert (t.expr >= -1).all() and t.n_frames == N_FRAMES


def test_export_after_edit_and_other_layout(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    files = make_dataset(tmp_path / "ds", "2022", media=False)
    assert main(["import-affwild2", str(tmp_path / "ds"), str(tmp_path / "proj")]) == 0
    with Project.open(tmp_path / "proj") as p:
        t = p.track("vid2_left", "affwild2")
        t.va[0] = [0.25, -0.5]
        t.va[1] = np.nan
        t.expr[:] = 7
        p.put_track(t)
        p.save()
    assert main(["export-affwild2", str(tmp_path / "proj"), str(tmp_path / "out")]) == 0
    va = (tmp_path / "out/VA_Estimation_Challenge/Train_Set/vid2_left.txt").read_text().split("\n")
    orig = files["VA_Estimation_Challenge/Train_Set/vid2_left.txt"].read_text().split("\n")
    assert va[1] == "0.25,-0.5" and va[2] == "-5,-5" and va[3:] == orig[3:]
    assert main(["export-affwild2", str(tmp_path / "proj"), str(tmp_path / "o20"), "--layout", "2020"]) == 0
    assert "labelled Other written as -1" in capsys.readouterr().out
    ex = (tmp_path / "o20/annotations/EXPR_Set/Training_Set/vid2_left.txt").read_text().split("\n")
    assert ex[0] == "Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise" and set(ex[1:-1]) == {"-1"}
    assert (tmp_path / "o20/annotations/VA_Set/Validation_Set/vid2_right.txt").exists()


BROKEN = {
    "wrong header": ("VA", "valence;arousal\n0.1,0.2\n", "line 1: wrong header"),
    "column count": ("VA", "valence,arousal\n0.1,0.2\n0.1\n", "line 3: wrong column count"),
    "non-numeric": ("EXPR", "Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,Other\n3\nsad\n",
                    "line 3: non-numeric value 'sad'"),
    "out of range": ("VA", "valence,arousal\n0.1,1.5\n", "line 2: arousal 1.5 out of range"),
    "half sentinel": ("VA", "valence,arousal\n0.1,0.2\n-5,0.3\n", "line 3: sentinel -5 in one VA column only"),
    "AU sentinel": ("AU", "AU1,AU2,AU4,AU6,AU7,AU10,AU12,AU15,AU23,AU24,AU25,AU26\n" + ",".join(["0"] * 11 + ["-1"])
                    + "\n", "line 2: sentinel -1 in some AU columns only"),
    "expr sentinel": ("EXPR", "Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,Other\n-5\n",
                      "line 2: sentinel -5 in an expression file"),
}
DIRS = {"VA": "VA_Estimation_Challenge", "EXPR": "EXPR_Recognition_Challenge", "AU": "AU_Detection_Challenge"}


@pytest.mark.parametrize("kind", list(BROKEN))
def test_broken_file_writes_nothing(tmp_path: Path, kind: str, capsys: pytest.CaptureFixture) -> None:
    task, text, message = BROKEN[kind]
    make_dataset(tmp_path / "ds", "2022", media=False)
    bad = tmp_path / "ds" / DIRS[task] / "Train_Set" / "badvid.txt"
    bad.write_text(text)
    assert main(["import-affwild2", str(tmp_path / "ds"), str(tmp_path / "proj")]) == 1
    err = capsys.readouterr().err
    assert f"{bad}: {message}" in err and "nothing imported" in err
    assert not (tmp_path / "proj").exists()


def test_skip_invalid_and_existing_project_untouched(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    make_dataset(tmp_path / "ds", "2022", media=False)
    bad = tmp_path / "ds" / "VA_Estimation_Challenge" / "Train_Set" / "vid1.txt"
    bad.write_text("valence,arousal\n0.1,0.2\n7,0\n")
    Project.create(tmp_path / "proj").close()
    before = _snapshot(tmp_path / "proj")
    assert main(["import-affwild2", str(tmp_path / "ds"), str(tmp_path / "proj")]) == 1
    assert _snapshot(tmp_path / "proj") == before
    capsys.readouterr()
    assert main(["import-affwild2", str(tmp_path / "ds"), str(tmp_path / "proj"), "--skip-invalid"]) == 0
    out = capsys.readouterr().out
    assert "left out 1 invalid file(s)" in out and f"{bad}: line 3: valence 7 out of range" in out
    with Project.open(tmp_path / "proj", readonly=True) as p:
        t = p.track("vid1", "affwild2")
        assert not t.labelled("va").any() and t.labelled("expr").any()  # the other tasks still came in


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and "lock" not in p.name}


def test_both_layouts_in_one_root_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    make_dataset(tmp_path / "ds", "2022", media=False)
    shutil.copytree(tmp_path / "ds" / "VA_Estimation_Challenge", tmp_path / "ds" / "VA_Set")
    assert main(["import-affwild2", str(tmp_path / "ds"), str(tmp_path / "proj")]) == 1
    assert "both Aff-Wild2 layouts" in capsys.readouterr().err


def test_csv_round_trip_and_annotators(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    import pandas as pd

    make_dataset(tmp_path / "ds", "2020", media=False)
    assert main(["import-affwild2", str(tmp_path / "ds"), str(tmp_path / "proj")]) == 0
    assert main(["export-csv", str(tmp_path / "proj"), str(tmp_path / "a.csv")]) == 0
    df = pd.read_csv(tmp_path / "a.csv", dtype=str, keep_default_na=False)
    assert list(df.columns[:7]) == ["video", "frame", "time_s", "track", "valence", "arousal", "expression"]
    # without media a video gets the line count of the longest file of its media (vid2_left/right share)
    assert len(df) == 32 + 30 + 30 + 25 and (df.loc[df.frame == "5", "valence"] == "").all()
    two = pd.concat([df.assign(track="alice"), df.assign(track="bob")])
    two.to_csv(tmp_path / "two.csv", index=False)
    assert main(["import-csv", str(tmp_path / "proj"), str(tmp_path / "two.csv")]) == 0
    with Project.open(tmp_path / "proj", readonly=True) as p:
        assert {"alice", "bob"} <= set(p.annotators)
        for v in p.videos:
            a, b = p.track(v, "affwild2"), p.track(v, "alice")
            assert np.array_equal(a.va, b.va, equal_nan=True) and np.array_equal(a.expr, b.expr)
            assert np.array_equal(a.au, b.au)
    assert main(["export-csv", str(tmp_path / "proj"), str(tmp_path / "b.csv"), "--track", "bob"]) == 0
    assert (tmp_path / "b.csv").read_text() == (tmp_path / "a.csv").read_text().replace(",affwild2,", ",bob,")
    bad = df.copy()
    bad.loc[3, "valence"] = "2"
    bad.loc[4, "expression"] = "Joy"
    bad.to_csv(tmp_path / "bad.csv", index=False)
    before = _snapshot(tmp_path / "proj")
    capsys.readouterr()
    assert main(["import-csv", str(tmp_path / "proj"), str(tmp_path / "bad.csv")]) == 1
    err = capsys.readouterr().err
    assert "line 5: valence 2 out of range" in err and "(and 1 more)" in err
    assert _snapshot(tmp_path / "proj") == before

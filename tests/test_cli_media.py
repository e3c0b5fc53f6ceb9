"""`affecttrace info` / `affecttrace frame` through the real command line."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.cli.main import main
from tests.videogen import decode_index, index_frame, make_video

REPO = Path(__file__).resolve().parents[1]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core.cli", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    return make_video(tmp_path_factory.mktemp("cli") / "clip.mp4", n=40, fps="30000/1001", gop=8, bframes=2)


def test_info_json(video):
    r = cli("info", video, "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["fps"] == "30000/1001" and d["frame_count"] == 40 and d["header_frame_count"] == 40
    assert (d["width"], d["height"]) == (160, 128)
    assert d["duration_s"] == pytest.approx(40 * 1001 / 30000)
    assert d["variable_frame_rate"] is False and d["has_audio"] is False and d["audio_rate"] is None


def test_info_text(video, capsys):
    assert main(["info", str(video)]) == 0
    out = capsys.readouterr().out
    assert "30000/1001" in out and "frame_count" in out and "40" in out


def test_frame_writes_exact_lossless_png(video, tmp_path):
    for index in (0, 17, 39, 9):
        out = tmp_path / f"f{index}.png"
        assert main(["frame", str(video), str(index), "-o", str(out)]) == 0
        png = cv2.cvtColor(cv2.imread(str(out), cv2.IMREAD_UNCHANGED), cv2.COLOR_BGR2RGB)
        assert decode_index(png) == index
        from core.media import MediaReader

        with MediaReader(video) as reader:  # lossless: the PNG holds exactly the decoded pixels
            assert np.array_equal(png, reader.frame(index))


@pytest.mark.parametrize("args,needle", [
    (["frame", "{video}", "40", "-o", "{tmp}/x.png"], "out of range"),
    (["frame", "{video}", "-3", "-o", "{tmp}/x.png"], "out of range"),
    (["frame", "{tmp}/absent.mp4", "0", "-o", "{tmp}/x.png"], "absent.mp4"),
    (["frame", "{video}", "0", "-o", "{tmp}/no_dir/x.png"], "no_dir"),
    (["frame", "{video}", "0", "-o", "{tmp}/x.jpg"], "x.jpg"),
    (["info", "{tmp}/garbage.mkv"], "garbage.mkv"),
    (["info", "{tmp}/absent.mov", "--json"], "absent.mov"),
])
def test_bad_input_is_one_line_without_traceback(video, tmp_path, args, needle):
    (tmp_path / "garbage.mkv").write_bytes(b"\x1a\x45\xdf\xa3 this is not really matroska" * 50)
    r = cli(*[a.format(video=video, tmp=tmp_path) for a in args])
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert needle in lines[0] and "Traceback" not in r.stderr
    assert not (tmp_path / "x.png").exists()


def test_info_on_a_project_describes_the_project(video, tmp_path, capsys):
    from core.project import Project

    project = Project.create(tmp_path / "study", name="study")
    project.add_video(video, name="clip")
    project.save()
    project.close()
    for target in (tmp_path / "study", tmp_path / "study" / "project.json"):
        assert main(["info", str(target), "--json"]) == 0
        d = json.loads(capsys.readouterr().out)
        assert d["name"] == "study" and "clip" in json.dumps(d)
    assert main(["info", str(tmp_path / "study")]) == 0
    assert "study" in capsys.readouterr().out
    (tmp_path / "plain").mkdir()
    assert main(["info", str(tmp_path / "plain")]) == 1
    assert "plain" in capsys.readouterr().err


def test_help_lists_commands():
    r = cli("--help")
    assert r.returncode == 0 and "info" in r.stdout and "frame" in r.stdout
    r = cli("frame", "--help")
    assert r.returncode == 0 and "INDEX" in r.stdout.upper()


def test_index_frame_roundtrip():
    for i in (0, 1, 255, 256, 40000):
        assert decode_index(index_frame(i)) == i
    damaged = index_frame(5).copy()
    damaged[:64] = 128
    with pytest.raises(ValueError):
        decode_index(damaged)

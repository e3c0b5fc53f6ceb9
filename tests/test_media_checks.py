"""Media checks (issue 10): a FIFO never blocks, damaged media are reported and recorded, stills refused."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.media import check_media
from core.project import Project
from tests.badinput import MEDIA_DAMAGED, MEDIA_UNUSABLE, bad_media, good_clip

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("media")
    good = good_clip(folder / "good")
    out = bad_media(folder / "bad", good)
    out["good"] = good
    return out


def test_good_clip_is_usable_without_problems(media) -> None:
    c = check_media(media["good"])
    assert c.usable and c.problems == () and c.info.frame_count == 60


@pytest.mark.parametrize("kind,needle", [("zero-bytes", "not a readable media file"),
                                         ("text", "not a readable media file"), ("jpeg-as-mp4", "still image"),
                                         ("fifo", "FIFO"), ("folder", "folder"), ("missing", "not found")])
def test_unusable_media_is_refused_in_words(media, kind: str, needle: str) -> None:
    assert kind in MEDIA_UNUSABLE
    c = check_media(media[kind])
    assert not c.usable and needle in c.message and str(media[kind]) in c.message
    assert "\n" not in c.message


def test_truncated_file_reports_header_against_decodable_frames(media) -> None:
    c = check_media(media["truncated-30pc"])
    assert c.usable and c.info is not None and 0 < c.info.frame_count < 60
    assert any(f"header says 60 frames, {c.info.frame_count} decode" in p for p in c.problems), c.problems


def test_randomised_middle_reports_decode_errors(media) -> None:
    c = check_media(media["middle-randomised"])
    assert c.usable and any("fail to decode" in p for p in c.problems), c.problems


@pytest.mark.parametrize("kind", MEDIA_DAMAGED)
def test_add_video_records_problems_and_open_warns(cli, media, tmp_path: Path, kind: str) -> None:
    folder = tmp_path / "p"
    Project.create(folder).close()
    code, out, err = cli("project", "add-video", folder, media[kind], "--name", "v")
    assert code == 0, err
    warning = [ln for ln in err.splitlines() if ln.strip()]
    assert len(warning) == 1 and warning[0].startswith("warning: ") and str(media[kind]) in warning[0]
    p = Project.open(folder, readonly=True)
    assert p.videos["v"].problems and any("video 'v'" in w for w in p.warnings)
    p.close()


@pytest.mark.parametrize("kind", ["jpeg-as-mp4", "zero-bytes", "text"])
def test_add_video_refuses_what_is_not_a_video(cli, media, tmp_path: Path, kind: str) -> None:
    folder = tmp_path / "p"
    Project.create(folder).close()
    code, _, err = cli("project", "add-video", folder, media[kind])
    assert code == 1 and len(err.strip().splitlines()) == 1 and str(media[kind]) in err
    assert not Project.open(folder, readonly=True).videos


def test_info_shows_the_problems(cli, media) -> None:
    code, out, _ = cli("info", media["middle-randomised"], "--json")
    assert code == 0 and "fail to decode" in out


def test_a_fifo_named_mp4_never_blocks(media, tmp_path: Path) -> None:
    """Each command that reads media gets the FIFO; each must answer in one line, at once."""
    fifo = media["fifo"]
    Project.create(tmp_path / "p").close()
    commands = [["info", fifo], ["frame", fifo, "0", "-o", tmp_path / "f.png"],
                ["project", "add-video", tmp_path / "p", fifo],
                ["faces", fifo, "--backend", "reference", "--landmarks", tmp_path / "none.npy"],
                ["predict", fifo, "--checkpoint", tmp_path / "none.pt"]]
    procs = [subprocess.Popen([sys.executable, "-m", "core.cli", *map(str, c)], cwd=REPO, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for c in commands]
    deadline = time.monotonic() + 60
    results = []
    for c, proc in zip(commands, procs):
        try:
            out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            results.append((c[0], "hang"))
            continue
        results.append((c[0], proc.returncode, err.strip()))
    for r in results:
        assert r[1] == 1, r
        assert len(r[2].splitlines()) == 1 and "FIFO" in r[2] and str(fifo) in r[2], r


"""Issue 10: checkpoints (a malicious pickle among them), huge header lines, advice a command cannot take,
and a manifest that claims 10^12 frames: each gives one short line naming the file."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.affwild2gen import make_dataset
from tests.badinput import bad_checkpoints, good_clip, labelled_project, one_line

HUGE = 10_000_000





@pytest.fixture(scope="module")
def proj(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("p")
    return labelled_project(root / "p", good_clip(root / "media"))


@pytest.mark.parametrize("kind", ["zero-bytes", "text", "malicious-pickle", "malicious-raw-pickle", "plain-dict",
                                  "truncated", "fifo", "missing", "no-labels", "wrong-types"])
def test_bad_checkpoint_is_one_line_without_torch_advice(cli, proj: Path, tmp_path: Path, kind: str) -> None:
    files, marker = bad_checkpoints(tmp_path / "ck")
    code, _, err = cli("predict", proj, "--checkpoint", files[kind])
    line = one_line(err, 600)
    assert code == 1 and str(files[kind]) in line and "weights_only" not in err
    if kind == "malicious-pickle":
        assert "run code" in line
    code, _, err = cli("train", proj, "--pretrained", files[kind], "--epochs", "1", "--max-steps", "1")
    line = one_line(err, 600)
    assert code == 1 and "weights_only" not in err
    assert not marker.exists()


def test_evaluate_never_suggests_an_option_it_lacks(cli, tmp_path: Path) -> None:
    files = make_dataset(tmp_path / "aw", "2022", media=False)
    va = next(p for rel, p in files.items() if rel.startswith("VA"))
    va.write_text("valence,arousal\n0.1,zz\n")
    code, _, err = cli("evaluate", "--task", "va", "--pred", tmp_path / "aw", "--ref", tmp_path / "aw")
    line = one_line(err, 600)
    assert code == 1 and "--skip-invalid" not in line and str(va) in line


@pytest.mark.parametrize("command", ["import-affwild2", "evaluate"])
def test_a_ten_megabyte_header_is_quoted_not_echoed(cli, tmp_path: Path, command: str) -> None:
    files = make_dataset(tmp_path / "aw", "2022", media=False)
    va = next(p for rel, p in files.items() if rel.startswith("VA"))
    va.write_text("valence," + "x" * HUGE + "\n0.1,0.1\n")
    argv = (("import-affwild2", tmp_path / "aw", tmp_path / "p") if command == "import-affwild2" else
            ("evaluate", "--task", "va", "--pred", tmp_path / "aw", "--ref", tmp_path / "aw"))
    code, out, err = cli(*argv)
    line = one_line(err, 600)
    assert code == 1 and str(va) in line and len(out) < 1000


def test_import_csv_huge_header(cli, proj: Path, tmp_path: Path) -> None:
    csv = tmp_path / "h.csv"
    csv.write_text("video,frame,track," + "A" * HUGE + "\nclip,0,ann1,x\n")
    code, _, err = cli("import-csv", proj, csv)
    assert code == 1 and str(csv) in one_line(err, 600)


COMMANDS_ON_A_PROJECT = [
    ("info", "{p}"), ("project", "check", "{p}"), ("project", "save", "{p}"), ("export-csv", "{p}", "{t}/o.csv"),
    ("export-affwild2", "{p}", "{t}/aw"), ("fuse", "{p}"), ("agreement", "{p}"),
    ("faces", "{p}", "--backend", "reference"), ("train", "{p}", "--epochs", "1", "--max-steps", "1"),
    ("predict", "{p}", "--checkpoint", "{t}/none.pt"), ("import-csv", "{p}", "{t}/t.csv"),
    ("evaluate", "--task", "va", "--pred", "{p}:ann1", "--ref", "{p}:ann1"),
]


@pytest.mark.parametrize("argv", COMMANDS_ON_A_PROJECT, ids=lambda a: " ".join(a[:2]))
def test_manifest_claiming_1e12_frames_is_refused_on_open(cli, tmp_path: Path, argv: tuple[str, ...]) -> None:
    p = labelled_project(tmp_path / "p", good_clip(tmp_path / "media"))
    d = json.loads((p / "project.json").read_text())
    d["videos"]["clip"]["frame_count"] = 10 ** 12
    (p / "project.json").write_text(json.dumps(d))
    (tmp_path / "t.csv").write_text("video,frame,track,valence,arousal\nclip,0,x,0.1,0.1\n")
    code, _, err = cli(*(a.format(p=p, t=tmp_path) for a in argv))
    line = one_line(err, 600)
    assert code == 1 and "frame_count" in line and "project.json" in line and "MemoryError" not in line

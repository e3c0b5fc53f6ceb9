"""Issue 10 findings, one test each: path escapes, journaled edits kept, empty CSV cells never erase."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from core.edits import set_range
from core.errors import ProjectError
from core.project import Project
from core.project.journal import journal_generations
from tests.badinput import ANNOTATOR, LABELLED, good_clip, labelled_project, labels_of, one_line, same_labels


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return good_clip(tmp_path_factory.mktemp("media"))


@pytest.fixture
def proj(tmp_path: Path, clip: Path) -> Path:
    return labelled_project(tmp_path / "proj", clip)





# ------------------------------------------------------------------ names and paths

@pytest.mark.parametrize("name", ["../../../../../../../../tmp/affecttrace-X", "/tmp/affecttrace-X", "a/b", "..",
                                  "nul\0x", "x" * 300])
def test_hostile_video_name_is_refused_when_added(cli, proj: Path, clip: Path, name: str) -> None:
    code, _, err = cli("project", "add-video", proj, clip, "--name", name)
    assert code == 1
    assert "video name" in one_line(err)
    assert list(Project.open(proj, readonly=True).videos) == ["clip"]


def _edit_manifest(folder: Path, change) -> None:
    d = json.loads((folder / "project.json").read_text())
    change(d)
    (folder / "project.json").write_text(json.dumps(d))


@pytest.mark.parametrize("field", ["name", "split", "crops"])
def test_hand_edited_manifest_cannot_point_writes_outside(proj: Path, tmp_path: Path, field: str) -> None:
    def change(d: dict) -> None:
        if field == "name":
            d["videos"]["../../../../../../tmp/affecttrace-X"] = d["videos"].pop("clip")
        else:
            d["videos"]["clip"][field] = "../../../../../../tmp/affecttrace-X" if field == "split" else "/etc"

    _edit_manifest(proj, change)
    if field == "crops":  # crops may lie anywhere (read only); opening works
        Project.open(proj, readonly=True).close()
        return
    with pytest.raises(ProjectError) as info:
        Project.open(proj, readonly=True)
    assert info.value.path == proj / "project.json"
    assert "../" in str(info.value) and "affecttrace-X" in str(info.value)


def test_index_or_journal_cannot_name_a_track_file_outside(proj: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.h5"
    shutil.copyfile(next((proj / "tracks").glob("*.h5")), outside)
    p = Project.open(proj)
    p.close()
    gen = max(journal_generations(proj))
    with open(proj / "journal" / f"{gen:08d}.jsonl", "a") as f:
        f.write(json.dumps({"op": "put", "video": "clip", "name": "stolen", "file": "../outside.h5",
                            "group": "/t0", "t": 0}) + "\n")
    q = Project.open(proj, readonly=True)
    assert not q.has_track("clip", "stolen")
    assert any("outside.h5" in w and "outside the project" in w for w in q.warnings)
    q.close()


def test_export_affwild2_stays_inside_its_output(cli, proj: Path, tmp_path: Path) -> None:
    p = Project.open(proj)
    e = p.videos["clip"]
    hostile = "../../../escaped"
    extra = dict(e.extra, affwild2={"task_dirs": {"va": hostile}, "splits": {t: hostile for t in ("va", "expr", "au")}})
    from dataclasses import replace

    p.update_video(replace(e, extra=extra))
    p.save()
    p.close()
    out = tmp_path / "a" / "b" / "out"
    code, _, err = cli("export-affwild2", proj, out, "--track", ANNOTATOR)
    written = [f for f in tmp_path.rglob("*.txt")]
    assert all(out in f.parents for f in written), written
    assert code == 0 or "outside" in one_line(err)


# ------------------------------------------------------------------ journaled edits are never dropped

def _five_unsaved_edits(proj: Path) -> dict[str, np.ndarray]:
    p = Project.open(proj)
    for i in range(5):
        p.apply(set_range("clip", ANNOTATOR, "expr", 10 * i, 10 * i + 5, 6))
    want = p.track("clip", ANNOTATOR).expr.copy()
    p.close()  # a crash or a quit: the edits live in the journal only
    return {"expr": want}


@pytest.mark.parametrize("command", ["import-csv", "add-video", "fuse", "save"])
def test_missing_track_file_keeps_the_journal(cli, proj: Path, clip: Path, tmp_path: Path, command: str) -> None:
    want = _five_unsaved_edits(proj)
    pack = next((proj / "tracks").glob("*.h5"))
    aside = tmp_path / pack.name
    pack.rename(aside)
    journals = {f.name: f.read_bytes() for f in (proj / "journal").iterdir()}
    csv = tmp_path / "t.csv"
    csv.write_text("video,frame,track,valence,arousal\nclip,55,other,0.5,0.5\n")
    argv = {"import-csv": ("import-csv", proj, csv), "add-video": ("project", "add-video", proj, clip, "--name", "c2"),
            "fuse": ("fuse", proj, "--method", "vote"), "save": ("project", "save", proj)}[command]
    code, _, err = cli(*argv)
    assert code == 1
    line = one_line(err)
    assert pack.name in line and "missing" in line and "read-only" in line
    assert {f.name: f.read_bytes() for f in (proj / "journal").iterdir()} == journals  # nothing deleted
    aside.rename(pack)
    p = Project.open(proj)
    np.testing.assert_array_equal(p.track("clip", ANNOTATOR).expr, want["expr"])  # all 5 edits came back
    p.close()


def test_project_with_a_missing_track_file_opens_read_only_and_says_why(proj: Path) -> None:
    _five_unsaved_edits(proj)
    pack = next((proj / "tracks").glob("*.h5"))
    pack.unlink()
    p = Project.open(proj)
    assert p.readonly and p.readonly_reason and pack.name in p.readonly_reason
    assert any(pack.name in w for w in p.warnings)
    with pytest.raises(ProjectError, match="read-only"):
        p.save()
    p.close()


# ------------------------------------------------------------------ CSV import never erases by accident

def test_import_csv_empty_cells_never_erase(cli, proj: Path, tmp_path: Path) -> None:
    before = labels_of(proj)
    csv = tmp_path / "empty.csv"
    rows = "".join(f"clip,{i},{ANNOTATOR},,,,\n" for i in range(LABELLED))
    csv.write_text("video,frame,track,valence,arousal,expression,AU1\n" + rows)
    code, out, err = cli("import-csv", proj, csv)
    assert code == 0, err
    assert same_labels(before, labels_of(proj))

    csv.write_text("video,frame,track,valence,arousal,expression,AU1\n" + f"clip,3,{ANNOTATOR},0.5,-0.5,,\n")
    assert cli("import-csv", proj, csv)[0] == 0
    after = labels_of(proj)
    key = f"clip/{ANNOTATOR}"
    np.testing.assert_array_equal(after[f"{key}/va"][3], [0.5, -0.5])  # a given value does replace
    assert after[f"{key}/expr"][3] == before[f"{key}/expr"][3] and (after[f"{key}/au"][3] == 1).all()

    csv.write_text("video,frame,track,valence,arousal,expression\n" + f"clip,4,{ANNOTATOR},,,\n")
    assert cli("import-csv", proj, csv, "--replace")[0] == 0  # asked for: the row replaces the frame
    cleared = labels_of(proj)
    assert np.isnan(cleared[f"{key}/va"][4]).all() and cleared[f"{key}/expr"][4] == -1
    assert (cleared[f"{key}/au"][4] == 1).all()  # a column the table does not have is left alone


def test_repair_drops_the_tracks_of_a_lost_file_and_keeps_the_journal(cli, proj: Path, tmp_path: Path) -> None:
    _five_unsaved_edits(proj)
    pack = next((proj / "tracks").glob("*.h5"))
    pack.unlink()  # lost for good: the user asks for the way out the read-only message names
    code, _, err = cli("project", "add-video", proj, tmp_path / "x.mp4", "--frames", "5", "--fps", "25")
    assert code == 1 and "project repair" in one_line(err)
    code, out, err = cli("project", "repair", proj)
    assert code == 0, err
    assert f"clip/{ANNOTATOR}" in out and pack.name in out and "kept" in out
    kept = list((proj / "journal" / "kept").glob("*.jsonl"))
    assert kept and any(b'"op":"apply"' in f.read_bytes() for f in kept)  # the 5 edits are still on disk
    p = Project.open(proj)
    assert not p.readonly and not p.has_track("clip", ANNOTATOR)
    p.close()
    assert cli("project", "repair", proj)[1].startswith("nothing to repair")

"""`affecttrace project ...` commands, through the real entry point."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.cli import main as cli
from core.edits import set_range
from core.project import Project
from core.tracks import TrackSource
from tests.test_project_store import write_clip


@pytest.fixture
def run(monkeypatch, capsys):
    monkeypatch.setattr(cli, "COMMANDS", ("core.cli.store_cmds",))  # only ours: others may be mid-work

    def go(*argv: str) -> tuple[int, str, str]:
        code = cli.main([str(a) for a in argv])
        out = capsys.readouterr()
        return code, out.out, out.err

    return go


def test_new_add_relocate_check_save(run, tmp_path: Path) -> None:
    folder = tmp_path / "proj"
    code, out, _ = run("project", "new", folder, "--au-set", "AU1,AU12")
    assert code == 0 and "AU1, AU12" in out
    clip = write_clip(tmp_path / "m" / "c.mp4", n=8)
    code, out, _ = run("project", "add-video", folder, clip, "--split", "val")
    assert code == 0 and "c: 8 frames at 25/1 fps" in out
    code, out, _ = run("project", "add-video", folder, tmp_path / "absent.mp4", "--frames", "50", "--fps", "30000/1001")
    assert code == 0 and "(missing)" in out
    code, _, err = run("project", "add-video", folder, tmp_path / "absent2.mp4")
    assert code == 1 and "absent2.mp4: media not found; give frame_count and fps" in err and "Traceback" not in err

    p = Project.open(folder)
    p.new_track("c", "ann1", TrackSource.human("ann1"))
    p.apply(set_range("c", "ann1", "expr", 0, 8, 2))
    p.close()  # unsaved: the journal holds it
    clip.rename(tmp_path / "m" / "moved.mp4")
    code, out, _ = run("project", "check", folder, "--json")
    report = json.loads(out)
    assert code == 0 and report["missing_media"] == ["c", "absent"] and report["unsaved_journal_records"] >= 2
    code, out, _ = run("project", "relocate", folder, "c", tmp_path / "m" / "moved.mp4")
    assert code == 0 and str(tmp_path / "m" / "moved.mp4") in out
    code, out, _ = run("project", "save", folder)
    assert code == 0 and "saved generation" in out
    q = Project.open(folder, readonly=True)
    assert q.recovered == 0 and (q.track("c", "ann1").expr == 2).all() and not q.is_missing("c")
    q.close()

    (folder / "project.json").write_text("{oops")
    code, _, err = run("project", "check", folder)
    assert code == 1 and "project.json: malformed JSON at line 1" in err

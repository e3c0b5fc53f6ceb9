"""Hostile files for the interchange commands, run as real child processes with a timeout (a FIFO that was
waited on would hang): import-elan/-nova/-openface/-pyfeat given a FIFO, a link to a FIFO, a folder, a huge
line or too many columns (the .eaf, ELAN's linked time-series CSV, NOVA's header and .annotation~ data
file, the tools' CSVs), and export-elan/-nova told to write over a link, a FIFO, a folder, the project's own
files or the command's input. Each is one line naming the file, a non-zero exit, and nothing written."""
from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from core.interchange.elan import export_elan
from core.project import Project
from core.tracks import Track, TrackSource

from .test_elan import _labelled_project, make_project
from .test_nova import VALENCE_HEADER
from .toolgen import PYFEAT_AUS, openface_rows, project_with_video, pyfeat_rows, write_openface, write_pyfeat
from .videogen import make_video

REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 120  # seconds: far beyond a refusal; reached only by a command waiting on a FIFO
BIG = (1 << 20) + 10  # one byte past the 1 MiB line limit of core.fsio


def run_cli(*args: object) -> tuple[int, str]:
    """(exit status, stderr) of ``affecttrace ARGS`` in a child process."""
    r = subprocess.run([sys.executable, "-m", "core.cli", *map(str, args)], cwd=REPO, capture_output=True,
                       text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    return r.returncode, r.stderr


def one_line_naming(code: int, err: str, path: Path, why: str) -> None:
    lines = err.strip().splitlines()
    assert code != 0 and len(lines) == 1 and str(path) in lines[0] and why in lines[0], (code, err)


def snapshot(folder: Path) -> dict[str, str]:
    """Each path under ``folder``: a regular file's hash, a link's target, else its kind (a FIFO is never opened)."""
    out = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            p = Path(root) / name
            mode = os.lstat(p).st_mode
            out[str(p.relative_to(folder))] = hashlib.sha256(p.read_bytes()).hexdigest() if stat.S_ISREG(mode) \
                else os.readlink(p) if stat.S_ISLNK(mode) else stat.filemode(mode)[0]
    return out


def fifo(path: Path) -> Path:
    if path.exists() or path.is_symlink():
        path.unlink()
    os.mkfifo(path)
    return path


def folder_at(path: Path) -> Path:
    path.unlink()
    path.mkdir()
    return path


def link_to_fifo(path: Path) -> Path:
    target = fifo(path.with_name(path.name + ".pipe"))
    path.unlink()
    path.symlink_to(target)
    return path


def huge_line(path: Path) -> Path:
    with open(path, "a", encoding="utf-8") as f:
        f.write("1" * BIG + "\n")
    return path


# ------------------------------------------------------------------ imports

def _elan_files(tmp: Path) -> tuple[Path, Path]:
    """An exported .eaf with its linked VA time series (the .eaf, the CSV)."""
    p = _labelled_project(tmp / "src", fps="25")
    export_elan(p, "v1", tmp / "out")
    p.close()
    return tmp / "out" / "v1.eaf", tmp / "out" / "v1_va.csv"


def _nova_files(tmp: Path) -> tuple[Path, Path]:
    header = tmp / "valence.annotation"
    header.write_text(VALENCE_HEADER.replace('size="0"', 'size="3"'), encoding="utf-8")
    data = Path(f"{header}~")
    data.write_text("0.1;1\r\n0.2;1\r\n0.3;1\r\n", encoding="utf-8")
    return header, data


def _free_nova(tmp: Path, cell: int) -> tuple[Path, Path]:
    header = tmp / "free.annotation"
    header.write_text('<?xml version="1.0" ?>\n<annotation ssi-v="3"><info ftype="ASCII" size="1"/>'
                      '<meta annotator="coder"/><scheme name="comments" type="FREE"/></annotation>\n')
    data = Path(f"{header}~")
    data.write_text(f'0.0;0.4;"{"x" * cell}";0.8\n', encoding="utf-8")
    return header, data


N = 20


def _openface(tmp: Path) -> Path:
    return write_openface(tmp / "of.csv", openface_rows(N, np.zeros(N), np.zeros(N)))


def _pyfeat(tmp: Path) -> Path:
    return write_pyfeat(tmp / "feat.csv", pyfeat_rows(list(range(N)), np.full((N, 7), 1 / 7),
                                                      np.zeros((N, len(PYFEAT_AUS)))))


def cut_mid_row(path: Path) -> Path:
    """``path`` cut after the first two cells of its fourth line, as an interrupted copy leaves it."""
    rows = path.read_bytes().split(b"\n")
    path.write_bytes(b"\n".join(rows[:3] + [b",".join(rows[3].split(b",")[:2])]))
    return path


def _wide(path: Path) -> Path:
    path.write_text(",".join(f"c{i}" for i in range(10_001)) + "\n" + ",".join("0" * 10_001) + "\n")
    return path


Case = Callable[[Path], tuple[list[object], Path, str]]  # tmp -> (command line after PROJECT, bad file, reason)

def damaged(given: Path, damage: Callable[[Path], object], target: Path) -> Path:
    """``given`` (the file named on the command line) after ``damage`` was done to ``target`` (a file it names)."""
    damage(target)
    return given


def _eaf_with_series(t: Path, damage: Callable[[Path], object]) -> tuple[list[object], Path]:
    eaf, csv = _elan_files(t)
    return ["import-elan", damaged(eaf, damage, csv)], csv


def _nova_with_data(t: Path, damage: Callable[[Path], object]) -> tuple[list[object], Path]:
    header, data = _nova_files(t)
    return ["import-nova", damaged(header, damage, data)], data


IMPORTS: dict[str, Case] = {
    "eaf fifo": lambda t: (["import-elan", fifo(_elan_files(t)[0])], t / "out" / "v1.eaf", "FIFO"),
    "eaf link to fifo": lambda t: (["import-elan", link_to_fifo(_elan_files(t)[0])], t / "out" / "v1.eaf", "FIFO"),
    "eaf folder": lambda t: (["import-elan", folder_at(_elan_files(t)[0])], t / "out" / "v1.eaf", "folder"),
    "eaf time series fifo": lambda t: (*_eaf_with_series(t, fifo), "FIFO"),
    "eaf time series link to fifo": lambda t: (*_eaf_with_series(t, link_to_fifo), "FIFO"),
    "eaf time series folder": lambda t: (*_eaf_with_series(t, folder_at), "folder"),
    "eaf time series huge line": lambda t: (*_eaf_with_series(t, huge_line), "longer than 1,048,576 bytes"),
    "nova header fifo": lambda t: (["import-nova", fifo(_nova_files(t)[0])], t / "valence.annotation", "FIFO"),
    "nova data fifo": lambda t: (*_nova_with_data(t, fifo), "FIFO"),
    "nova data link to fifo": lambda t: (*_nova_with_data(t, link_to_fifo), "FIFO"),
    "nova data folder": lambda t: (*_nova_with_data(t, folder_at), "folder"),
    "nova data huge line": lambda t: (*_nova_with_data(t, huge_line), "longer than 1,048,576 bytes"),
    "nova huge cell": lambda t: (["import-nova", _free_nova(t, 200_000)[0], "--scheme", "comments=expr"],
                                 t / "free.annotation~", "field larger than field limit"),
    "openface fifo": lambda t: (["import-openface", fifo(_openface(t))], t / "of.csv", "FIFO"),
    "openface link to fifo": lambda t: (["import-openface", link_to_fifo(_openface(t))], t / "of.csv", "FIFO"),
    "openface folder": lambda t: (["import-openface", folder_at(_openface(t))], t / "of.csv", "folder"),
    "openface huge line": lambda t: (["import-openface", huge_line(_openface(t))], t / "of.csv",
                                     "longer than 1,048,576 bytes"),
    "openface 10,001 columns": lambda t: (["import-openface", _wide(t / "of.csv")], t / "of.csv",
                                          "more than 10,000 columns"),
    "eaf time series cut mid-row": lambda t: (*_eaf_with_series(t, cut_mid_row), "cut short?"),
    "openface cut mid-row": lambda t: (["import-openface", cut_mid_row(_openface(t))], t / "of.csv",
                                       "the file ends mid-row"),
    "pyfeat cut mid-row": lambda t: (["import-pyfeat", cut_mid_row(_pyfeat(t))], t / "feat.csv",
                                     "the file ends mid-row"),
    "pyfeat fifo": lambda t: (["import-pyfeat", fifo(t / "feat.csv")], t / "feat.csv", "FIFO"),
    "pyfeat huge line": lambda t: (["import-pyfeat", huge_line(t / "feat.csv")], t / "feat.csv",
                                   "longer than 1,048,576 bytes"),
}


@pytest.mark.parametrize("case", list(IMPORTS))
def test_hostile_import_is_one_line_and_imports_nothing(tmp_path: Path, case: str) -> None:
    tool = case.startswith(("openface", "pyfeat"))
    folder = project_with_video(tmp_path, N) if tool else tmp_path / "proj"
    if not tool:
        make_project(folder, n=300, fps="25").close()
    (tmp_path / "in").mkdir()
    args, bad, why = IMPORTS[case](tmp_path / "in")
    before = snapshot(folder)
    code, err = run_cli(args[0], folder, *args[1:], "--video", "clip" if tool else "v1")
    one_line_naming(code, err, bad, why)
    changed = {k for k, v in snapshot(folder).items() ^ before.items() if not k.startswith("journal")}
    assert not changed, changed


# ------------------------------------------------------------------ exports

def _export_project(tmp: Path) -> Path:
    _labelled_project(tmp / "proj", fps="25").close()
    return tmp / "proj"


def _in_out(t: Path, name: str, make: Callable[[Path], object]) -> Path:
    """OUT_DIR ``t/out`` holding ``name`` made by ``make`` (a link, a FIFO, a folder)."""
    (t / "out").mkdir(exist_ok=True)
    make(t / "out" / name)
    return t / "out"


def _link_outside(path: Path) -> None:
    victim = path.parents[1] / "victim.txt"
    victim.write_text("keep me\n")
    path.symlink_to(victim)


def _linked_folder(t: Path) -> Path:
    (t / "real").mkdir()
    (t / "linked").symlink_to(t / "real")
    return t / "linked"


def _victim(t: Path) -> Path:
    (t / "victim.txt").write_text("keep me\n")
    return t / "victim.txt"


NOVA_V = "v1.valence.ann1.annotation"
EXPORTS: dict[str, Callable[[Path, Path], tuple[list[object], Path, str]]] = {
    # (tmp, project) -> (command line, the refused path, reason)
    "elan into the project": lambda t, p: (["export-elan", p, p], p, "is an input of this command"),
    "nova into the project": lambda t, p: (["export-nova", p, p], p, "is an input of this command"),
    "elan into a project folder": lambda t, p: (["export-elan", p, p / "journal"], p / "journal",
                                                "is a file of the project"),
    "nova into a new project folder": lambda t, p: (["export-nova", p, p / "nova"], p / "nova" / "v1.",
                                                    "is a file of the project"),
    "elan out dir is a link": lambda t, p: (["export-elan", p, _linked_folder(t)], t / "linked", "symbolic link"),
    "nova out dir is a fifo": lambda t, p: (["export-nova", p, fifo(t / "pipe")], t / "pipe", "FIFO"),
    "elan out dir is a file": lambda t, p: (["export-elan", p, _victim(t)], t / "victim.txt", "not a folder"),
    "elan file is a link": lambda t, p: (["export-elan", p, _in_out(t, "v1.eaf", _link_outside), "--overwrite"],
                                         t / "out" / "v1.eaf", "symbolic link"),
    "nova file is a link": lambda t, p: (["export-nova", p, _in_out(t, f"{NOVA_V}~", _link_outside), "--overwrite"],
                                         t / "out" / f"{NOVA_V}~", "symbolic link"),
    "elan time series is a fifo": lambda t, p: (["export-elan", p, _in_out(t, "v1_va.csv", fifo), "--overwrite"],
                                                t / "out" / "v1_va.csv", "FIFO"),
    "nova file is a folder": lambda t, p: (["export-nova", p, _in_out(t, NOVA_V, Path.mkdir), "--overwrite"],
                                           t / "out" / NOVA_V, "folder"),
}


@pytest.mark.parametrize("case", list(EXPORTS))
def test_hostile_export_is_one_line_and_writes_nothing(tmp_path: Path, case: str) -> None:
    project = _export_project(tmp_path)
    args, bad, why = EXPORTS[case](tmp_path, project)
    before_tree, before_project = snapshot(tmp_path), snapshot(project)
    code, err = run_cli(*args, "--video", "v1")
    one_line_naming(code, err, bad, why)
    assert snapshot(project) == before_project
    after = snapshot(tmp_path)
    assert {k: v for k, v in after.items() if not k.startswith("proj/journal")} == \
        {k: v for k, v in before_tree.items() if not k.startswith("proj/journal")}
    if (tmp_path / "victim.txt").exists():
        assert (tmp_path / "victim.txt").read_text() == "keep me\n"


def test_export_over_its_own_video_is_refused(tmp_path: Path) -> None:
    """A video whose media file has the name export-elan would write: the media is an input, never replaced."""
    (tmp_path / "media").mkdir()
    media = make_video(tmp_path / "media" / "v1.mp4", n=300).rename(tmp_path / "media" / "v1.eaf")
    content = media.read_bytes()
    p = Project.create(tmp_path / "proj", au_set="affwild2-8")
    p.add_video(media, name="v1", frame_count=300, fps="25")
    t = Track.empty("v1", "ann1", TrackSource.human("ann1"), 300, p.au_set)
    t.expr[10:50] = 4
    p.put_track(t)
    p.save()
    p.close()
    code, err = run_cli("export-elan", tmp_path / "proj", media.parent, "--overwrite", "--video", "v1")
    one_line_naming(code, err, media, "is an input of this command")
    assert media.read_bytes() == content
    assert sorted(f.name for f in media.parent.iterdir()) == ["v1.eaf"]

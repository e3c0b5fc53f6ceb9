"""The bad-input corpus of the interchange imports: broken ELAN .eaf files (and their linked time series),
NOVA annotation pairs, OpenFace and py-feat CSVs, each made by damaging a good file.

The good bases are the labelled project's own ELAN and NOVA exports and generated OpenFace / py-feat
tables of its 60-frame clip; where ../shared/data/interop holds the real files those tools wrote, they are
damaged too (entries named ``real-…``; absent folder: no such entries). Each entry is the command, the
files handed to it after PROJECT, the file a refusal must name and what is expected of it.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.badinput import ANNOTATOR, N_FRAMES

REAL = Path(os.environ.get("AFFECTTRACE_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")) \
    / "interop"
HUGE = (1 << 20) + 10  # one byte past the 1 MiB line limit of core.fsio


@dataclass
class Interop:
    kind: str  # elan | nova | tool
    command: str  # import-elan | import-nova | import-openface | import-pyfeat
    files: list[Path]  # the arguments after PROJECT
    named: Path  # the file a refusal must name
    expect: str = "refuse"
    options: tuple[str, ...] = ()

    @property
    def fifo(self) -> bool:
        return any(os.path.exists(f) and _is_fifo(f) for f in (*self.files, self.named))


def _is_fifo(path: Path) -> bool:
    import stat

    return stat.S_ISFIFO(os.stat(path).st_mode)


def _copy_folder(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _cut(path: Path, fraction: float) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * fraction)])
    return path


def _cut_mid_row(path: Path) -> Path:
    """Ends ``path`` halfway through its second-to-last row (its only row)."""
    rows = path.read_bytes().rstrip(b"\r\n").split(b"\n")
    k = len(rows) - 2 if len(rows) > 2 else len(rows) - 1
    path.write_bytes(b"\n".join(rows[:k] + [rows[k][:len(rows[k]) // 2]]))
    return path


def _cut_after_cells(path: Path, row: int, cells: int) -> Path:
    """Ends ``path`` in line ``row`` (0-based) after its first ``cells`` cells: a copy cut mid-row."""
    rows = path.read_bytes().split(b"\n")
    path.write_bytes(b"\n".join(rows[:row] + [b",".join(rows[row].split(b",")[:cells])]))
    return path


def _garbage(path: Path, n: int = 4096) -> Path:
    path.write_bytes(np.random.default_rng(11).integers(0, 256, n, dtype=np.uint8).tobytes())
    return path


def _fifo(path: Path) -> Path:
    if path.exists():
        path.unlink()
    os.mkfifo(path)
    return path


def bad_interop(folder: Path, project: Path) -> dict[str, Interop]:
    """The corpus of broken interchange files for ``project`` (video 'clip'), written under ``folder``."""
    folder.mkdir(parents=True)
    out: dict[str, Interop] = {}
    out.update(_elan(folder / "elan", project))
    out.update(_nova(folder / "nova", project))
    out.update(_tools(folder / "tools"))
    return out


# ------------------------------------------------------------------ ELAN

def _elan(folder: Path, project: Path) -> dict[str, Interop]:
    from core.interchange.elan import export_elan
    from core.project import Project

    good = folder / "export"
    with Project.open(project, readonly=True) as p:
        export_elan(p, "clip", good)
    out: dict[str, Interop] = {}

    def entry(name: str, damage, named: str = "clip.eaf", expect: str = "refuse") -> None:
        d = _copy_folder(good, folder / name)
        for f in ("clip.eaf", "clip_tsconf.xml"):  # ELAN reads the absolute link first: to this copy's series
            (d / f).write_text((d / f).read_text(encoding="utf-8").replace(str(good), str(d)), encoding="utf-8")
        damage(d)
        out[f"eaf-{name}"] = Interop("elan", "import-elan", [d / "clip.eaf"], d / named, expect,
                                     ("--annotator", f"{ANNOTATOR}=imported"))

    text = (good / "clip.eaf").read_text(encoding="utf-8")
    entry("good", lambda d: None, expect="accept")
    entry("link-to-good", lambda d: ((d / "clip.eaf").rename(d / "real.eaf"),
                                     (d / "clip.eaf").symlink_to(d / "real.eaf")), expect="accept")
    entry("truncated", lambda d: _cut(d / "clip.eaf", 0.6))
    entry("not-xml", lambda d: (d / "clip.eaf").write_text("ANNOTATION_DOCUMENT, but not XML\n"))
    entry("empty", lambda d: (d / "clip.eaf").write_bytes(b""))
    entry("binary", lambda d: _garbage(d / "clip.eaf"))
    # a tier value of 1 MiB on one line: refused as unmapped, without echoing it
    entry("huge-line", lambda d: (d / "clip.eaf").write_text(text.replace(
        "<ANNOTATION_VALUE>Happiness</ANNOTATION_VALUE>", f"<ANNOTATION_VALUE>{'x' * HUGE}</ANNOTATION_VALUE>", 1),
        encoding="utf-8"))
    # declares UTF-8, holds UTF-16
    entry("wrong-encoding", lambda d: (d / "clip.eaf").write_bytes(text.encode("utf-16")))
    entry("fifo", lambda d: _fifo(d / "clip.eaf"))
    entry("link-to-fifo", lambda d: ((d / "clip.eaf").unlink(), _fifo(d / "pipe"),
                                     (d / "clip.eaf").symlink_to(d / "pipe")))
    entry("dangling-link", lambda d: ((d / "clip.eaf").unlink(), (d / "clip.eaf").symlink_to(d / "gone.eaf")))
    entry("series-truncated", lambda d: _cut_after_cells(d / "clip_va.csv", N_FRAMES // 3, 2), "clip_va.csv")
    entry("series-missing", lambda d: (d / "clip_va.csv").unlink(), "clip_va.csv")
    entry("series-fifo", lambda d: _fifo(d / "clip_va.csv"), "clip_va.csv")
    real = REAL / "elan" / "turkish.eaf"
    if real.is_file():
        for name, damage in (("truncated", lambda f: _cut(f, 0.5)),
                             ("wrong-encoding", lambda f: f.write_bytes(
                                 real.read_text(encoding="utf-8").encode("cp1254", "replace")))):
            f = folder / f"real-{name}" / "turkish.eaf"
            f.parent.mkdir()
            shutil.copyfile(real, f)
            damage(f)
            out[f"real-eaf-{name}"] = Interop("elan", "import-elan", [f], f)
    return out


# ------------------------------------------------------------------ NOVA

def _nova(folder: Path, project: Path) -> dict[str, Interop]:
    from core.interchange.novaio import export_nova
    from core.project import Project

    good, goodb = folder / "export", folder / "export-binary"
    with Project.open(project, readonly=True) as p:
        export_nova(p, "clip", good, ["ann1"], False, False)
        export_nova(p, "clip", goodb, ["ann1"], True, False)
    val, expr = "clip.valence.ann1.annotation", "clip.expression.ann1.annotation"
    out: dict[str, Interop] = {}

    def entry(name: str, header: str, damage, data: bool = True, base: Path = good, expect: str = "refuse") -> None:
        d = folder / name
        d.mkdir()
        for f in (header, header + "~"):
            shutil.copyfile(base / f, d / f)
        damage(d / header, d / f"{header}~")
        out[f"nova-{name}"] = Interop("nova", "import-nova", [d / header], d / (header + "~" if data else header),
                                      expect, ("--track", "imported"))

    def lines(path: Path, keep: slice) -> None:
        path.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[keep]))

    entry("good", val, lambda h, x: None, expect="accept")
    entry("good-binary", expr, lambda h, x: None, base=goodb, expect="accept")
    entry("header-without-data", val, lambda h, x: x.unlink())
    entry("data-shorter", val, lambda h, x: lines(x, slice(0, 20)))
    entry("data-longer", val, lambda h, x: x.write_bytes(x.read_bytes() * 2))
    entry("data-truncated-mid-row", expr, lambda h, x: _cut_mid_row(x))
    entry("data-not-numbers", val, lambda h, x: x.write_bytes(b"high;sure\n" * N_FRAMES))
    entry("data-fifo", val, lambda h, x: _fifo(x))
    entry("binary-truncated", val, lambda h, x: _cut(x, 0.7), base=goodb)
    entry("binary-odd-bytes", expr, lambda h, x: x.write_bytes(x.read_bytes()[:-3]), base=goodb)
    entry("bad-scheme-type", val, lambda h, x: h.write_text(h.read_text().replace("CONTINUOUS", "WAVY")), False)
    entry("no-scheme", val, lambda h, x: h.write_text(_without(h.read_text(), "<scheme")), False)
    entry("bad-sample-rate", val, lambda h, x: h.write_text(_set_attr(h.read_text(), "sr", "0")), False)
    entry("header-not-xml", val, lambda h, x: h.write_text("annotation: not XML\n"), False)
    entry("header-empty", val, lambda h, x: h.write_bytes(b""), False)
    entry("header-binary", val, lambda h, x: _garbage(h), False)
    entry("header-fifo", val, lambda h, x: _fifo(h), False)
    ssi = REAL / "nova" / "ssi" / "movement.annotation"
    if ssi.is_file() and Path(f"{ssi}~").is_file():
        d = folder / "real-truncated"
        d.mkdir()
        shutil.copyfile(ssi, d / ssi.name)
        shutil.copyfile(f"{ssi}~", d / f"{ssi.name}~")
        _cut_mid_row(d / f"{ssi.name}~")
        out["real-nova-truncated"] = Interop("nova", "import-nova", [d / ssi.name], d / f"{ssi.name}~",
                                             options=("--track", "imported"))
    return out


def _without(xml: str, tag: str) -> str:
    start = xml.index(tag)
    return xml[:start] + xml[xml.index(">", start) + 1:]


def _set_attr(xml: str, name: str, value: str) -> str:
    start = xml.index(f' {name}="') + len(name) + 3
    return xml[:start] + value + xml[xml.index('"', start):]


# ------------------------------------------------------------------ OpenFace and py-feat

def _tools(folder: Path) -> dict[str, Interop]:
    from tests.toolgen import PYFEAT_AUS, openface_rows, pyfeat_rows, write_openface, write_pyfeat

    folder.mkdir()
    n = N_FRAMES
    rng = np.random.default_rng(3)
    openface = write_openface(folder / "openface-export.csv", _half(openface_rows(n, np.zeros(n), np.zeros(n))))
    pyfeat = write_pyfeat(folder / "pyfeat-export.csv", _half(pyfeat_rows(list(range(n)), rng.dirichlet(np.ones(7), n),
                                                                    rng.uniform(0, 1, (n, len(PYFEAT_AUS))))))
    out: dict[str, Interop] = {}
    for tool, good, first in (("openface", openface, "frame, "), ("pyfeat", pyfeat, "frame,")):
        command = f"import-{tool}"

        def entry(name: str, damage, expect: str = "refuse") -> None:
            f = folder / f"{tool}-{name}.csv"
            shutil.copyfile(good, f)
            damage(f)
            out[f"{tool}-{name}"] = Interop("tool", command, [f], f, expect)

        entry("good", lambda f: None, "accept")
        entry("truncated-mid-row", _cut_mid_row)
        entry("no-frame-column", lambda f: f.write_bytes(f.read_bytes().replace(first.encode(), b"", 1)))
        entry("header-only", lambda f: f.write_bytes(f.read_bytes().splitlines(keepends=True)[0]))
        entry("nan-frames", lambda f: _frames_to(f, "nan"))
        if tool == "openface":  # must cover the video
            entry("other-length", lambda f: f.write_bytes(b"".join(f.read_bytes().splitlines(keepends=True)[:n // 2])))
        else:  # may sample frames, never run past the video's end
            entry("other-length", lambda f: _frames_plus(f, n))
        entry("duplicate-rows", lambda f: _double_rows(f))
        entry("non-utf8", lambda f: f.write_bytes(f.read_bytes().replace(b"Pitch" if tool == "pyfeat" else b"pose_Rz",
                                                                        b"\xe9\xff\xfe", 1)))
        entry("empty", lambda f: f.write_bytes(b""))
        entry("binary", lambda f: _garbage(f))
        entry("fifo", _fifo)
    for tool, name in (("openface", "OpenFace_Test.csv"), ("pyfeat", "Feat_Test.csv")):
        real = REAL / "pyfeat-wheel" / name
        if real.is_file():
            f = folder / f"real-{tool}-truncated.csv"
            shutil.copyfile(real, f)
            _cut_mid_row(f)
            out[f"real-{tool}-truncated"] = Interop("tool", f"import-{tool}", [f], f)
    return out


def _half(rows: list[dict]) -> list[dict]:
    """The generated faces at half size, inside the 160x128 clip of the labelled project."""
    return [{k: v * 0.5 if k[:2] in ("x_", "y_") or k.startswith("FaceRect") else v for k, v in r.items()}
            for r in rows]


def _frames_plus(path: Path, k: int) -> None:
    """Every row's ``frame`` (the first cell) moved ``k`` frames on."""
    rows = path.read_bytes().splitlines(keepends=True)
    for i in range(1, len(rows)):
        cut = rows[i].index(b",")
        rows[i] = str(int(rows[i][:cut]) + k).encode() + rows[i][cut:]
    path.write_bytes(b"".join(rows))


def _frames_to(path: Path, value: str) -> None:
    """The ``frame`` cell of every third row set to ``value``."""
    rows = path.read_bytes().splitlines(keepends=True)
    for i in range(1, len(rows), 3):
        rows[i] = value.encode() + rows[i][rows[i].index(b","):]
    path.write_bytes(b"".join(rows))


def _double_rows(path: Path) -> None:
    rows = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join([rows[0]] + [r for r in rows[1:] for _ in (0, 1)]))

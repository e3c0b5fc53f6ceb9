"""The reliability suite's trials: every bad input of tests.badinput and tests.badinterop through every
command that takes it, and the suite's summary. Running and judging them: tests/trialrun.py."""
from __future__ import annotations

import contextlib
import io
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from tests import badinput as bi
from tests import badinterop as bx
from tests.trialrun import ACCEPT, EITHER, REFUSE, Outcome, Trial

WRITES = ("project save", "project add-video", "project relocate", "import-csv", "fuse", "predict", "import-affwild2")


# ------------------------------------------------------------------ the corpus and the trials

@dataclass
class Corpus:
    root: Path
    clip: Path
    project: Path  # the labelled project every project trial copies
    demo: Path  # a project with face caches, for train and predict
    checkpoint: Path  # a real checkpoint trained on the demo
    landmarks: Path
    csv: Path  # a good table for import-csv
    media: dict[str, Path]
    csvs: dict[str, Path]
    trees: dict[str, Path]
    checkpoints: dict[str, Path]
    settings: dict[str, tuple[str, Path]]
    projects: dict[str, Path]
    marker: Path  # created only if the malicious pickle is ever unpickled
    images: Path  # an image CSV dataset (labels.csv + img/), for import-images and predict FOLDER
    outside: Path  # a file no command may ever change: hostile links point at it
    interop: dict[str, bx.Interop]  # broken ELAN, NOVA, OpenFace and py-feat files

    def inputs(self) -> int:
        return sum(len(d) for d in (self.media, self.csvs, self.trees, self.checkpoints, self.settings,
                                    self.projects, self.interop)) + len(bi.HOSTILE_NAMES) + len(bi.OUTPUT_KINDS) \
            + len(EXPORT_OUTPUTS)


def build_corpus(root: Path) -> Corpus:
    import numpy as np

    from core.cli.main import main
    from tests.nn_demo import make_demo_project

    clip = bi.good_clip(root / "media")
    base = bi.labelled_project(root / "base" / "p", clip)
    demo = make_demo_project(root / "demo", seconds=2.0)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = main(["train", str(demo), "--preset", "mt-tiny", "--epochs", "1", "--max-steps", "2",
                     "--label-track", "truth", "--run-id", "good"])
    assert code == 0, "could not train the good checkpoint"
    landmarks = root / "landmarks.npy"
    np.save(landmarks, np.full((bi.N_FRAMES, 68, 2), 20.0, np.float32))
    csv = root / "good.csv"
    csv.write_text("video,frame,track,valence,arousal\n" + "".join(f"clip,{i},imported,0.5,-0.5\n" for i in range(5)))
    checkpoints, marker = bi.bad_checkpoints(root / "checkpoints")
    from tests.imagedbgen import csv_table

    images = root / "images"
    csv_table(images, ("Happiness", "Anger", "Neutral"), 6, bad=False)
    outside = root / "outside" / "victim.txt"
    outside.parent.mkdir()
    outside.write_text("a user's file: never written\n")

    def copy(dst: Path) -> Path:
        shutil.copytree(base, dst, symlinks=True)
        return dst

    return Corpus(root, clip, base, demo, demo / "models" / "good" / "best.pt", landmarks, csv,
                  bi.bad_media(root / "bad-media", clip), bi.bad_csvs(root / "csv"),
                  bi.bad_affwild2_trees(root / "trees"), checkpoints, bi.bad_settings(root / "settings"),
                  bi.damaged_projects(root / "projects", copy), marker, images, outside,
                  bx.bad_interop(root / "interop", base))


def fresh(src: Path, d: Path) -> Path:
    """A copy of the project ``src`` in the trial's folder ``d``; a missing project, a file: ``src`` itself."""
    dst = d / src.name
    if src.is_dir():
        shutil.copytree(src, dst, symlinks=True, copy_function=_copy)
        return dst
    return src


def trials(c: Corpus, work: Path) -> list[Trial]:
    """Every trial; ``work`` holds the per-trial project copies and outputs."""
    out: list[Trial] = []
    n = [0]

    def slot() -> Path:
        n[0] += 1
        d = work / f"t{n[0]:04d}"
        d.mkdir(parents=True)
        return d

    for name, m in c.media.items():
        unusable, fifo = name in bi.MEDIA_UNUSABLE, name == "fifo"
        maybe = REFUSE if unusable else EITHER
        for command, argv, expect, writes in (
                ("info", ["info", m], REFUSE if unusable else ACCEPT, False),
                ("frame", ["frame", m, "0", "-o", "{d}/f.png"], maybe, False),
                ("project add-video", ["project", "add-video", "{p}", m, "--name", "v2"],
                 REFUSE if unusable else ACCEPT, True),
                ("project relocate", ["project", "relocate", "{p}", "clip", m], REFUSE if unusable else ACCEPT, True),
                ("faces", ["faces", m, "--backend", "reference", "--landmarks", c.landmarks], maybe, False),
                ("predict", ["predict", m, "--checkpoint", c.checkpoint, "-o", "{d}/pred.csv"], maybe, False)):
            d = slot()
            p = fresh(c.project, d) if writes else None
            outputs = (d, media_cache()) if command in ("faces", "predict") else (d,)
            out.append(Trial("media", name, command, _fill(argv, d, p), m, expect, p, outputs, fifo))
    for name, f in c.csvs.items():
        d = slot()
        p = fresh(c.project, d)
        expect = ACCEPT if name in ("empty-cells", "header-only") else REFUSE
        out.append(Trial("csv", name, "import-csv", ["import-csv", str(p), str(f)], f, expect, p, (), name == "fifo"))
    for name, t in c.trees.items():
        valid_rest = name not in ("no-labels", "missing")
        va_bad = name in ("binary-va", "empty-va", "huge-header") or not valid_rest
        for command, argv, expect, writes in (
                ("import-affwild2", ["import-affwild2", t, "{d}/new"], REFUSE, False),
                ("import-affwild2", ["import-affwild2", t, "{p}"], REFUSE, True),
                ("import-affwild2", ["import-affwild2", t, "{d}/new", "--skip-invalid"],
                 ACCEPT if valid_rest else REFUSE, False),
                ("evaluate", ["evaluate", "--task", "va", "--pred", t, "--ref", t], REFUSE if va_bad else ACCEPT,
                 False)):
            d = slot()
            p = fresh(c.project, d) if writes else None
            out.append(Trial("affwild2", name, command, _fill(argv, d, p), t, expect, p, (d,), name == "fifo-label"))
    for name, k in c.checkpoints.items():
        for command, argv, writes in (
                ("predict", ["predict", "{p}", "--checkpoint", k], True),
                ("predict", ["predict", c.clip, "--checkpoint", k, "-o", "{d}/pred.csv"], False),
                ("train", ["train", "{p}", "--pretrained", k, "--epochs", "1", "--max-steps", "1",
                           "--label-track", "truth"], True)):
            d = slot()
            p = fresh(c.demo, d) if writes else None
            out.append(Trial("checkpoint", name, command, _fill(argv, d, p), k, REFUSE, p, (d,), name == "fifo"))
    for name, (option, f) in c.settings.items():
        d = slot()
        p = fresh(c.demo, d)
        argv = (["train", str(p), "--epochs", "1", "--max-steps", "1", "--label-track", "truth", option, str(f)]
                if option == "--config" else ["faces", str(p), "--backend", "reference", option, str(f), "--force"])
        out.append(Trial("settings", name, argv[0], argv, f, REFUSE, p, (d,), name.endswith("fifo")))
    for name, src in c.projects.items():
        for command, argv in PROJECT_COMMANDS:
            d = slot()
            p = fresh(src, d)
            argv = [a.format(p=p, d=d, clip=c.clip, csv=c.csv, lm=c.landmarks, ck=c.checkpoint) for a in argv]
            # a FIFO manifest: a few commands in child processes watch for a hang; the rest run here
            # (guarded by the alarm, which interrupts a blocking read in this process too)
            child = name == "manifest-fifo" and command in ("info", "project save", "fuse")
            out.append(Trial("project", name, command, argv, p, _project_expect(name, command), p, (d,), child))
    for hostile in bi.HOSTILE_NAMES:
        for command, argv in (("project add-video", ["project", "add-video", "{p}", c.clip, "--name", hostile]),
                              ("fuse", ["fuse", "{p}", "--method", "vote", "--name", hostile])):
            d = slot()
            p = fresh(c.project, d)
            named = c.clip if command == "project add-video" else p
            out.append(Trial("name", repr(hostile)[:40], command, _fill(argv, d, p), named, REFUSE, p, (d,)))
    out += path_trials(c, slot, fresh)
    out += interop_trials(c, slot, fresh)
    return out


# export-elan / export-nova OUT_DIR: (what it is, the path a refusal names, the option after it)
EXPORT_OUTPUTS = ("good", "the-project", "project-file", "project-folder", "a-media-input", "fifo", "link-out",
                  "file-link-out", "file-fifo")


def interop_trials(c: Corpus, slot: Callable[[], Path], fresh: Callable[[Path, Path], Path]) -> list[Trial]:
    """Each broken interchange file through its import into a project copy; export-elan and export-nova
    told to write into the project, over its files or an input, into a FIFO or through a link."""
    out: list[Trial] = []
    for name, e in c.interop.items():
        d = slot()
        p = fresh(c.project, d)
        argv = [e.command, str(p), *map(str, e.files), "--video", "clip", *e.options]
        out.append(Trial(e.kind, name, e.command, argv, e.named, e.expect, p, (d,), e.fifo))
    for command, file in (("export-elan", "clip.eaf"), ("export-nova", "clip.valence.ann1.annotation~")):
        for kind in EXPORT_OUTPUTS:
            d = slot()
            p = fresh(c.project, d)
            target, named, extra = _export_target(kind, d, p, c, file)
            argv = [command, str(p), str(target), "--video", "clip", *extra]
            expect = ACCEPT if kind == "good" else REFUSE
            out.append(Trial("export", kind, command, argv, named, expect, p, (d,), "fifo" in kind))
    return out


def _export_target(kind: str, d: Path, p: Path, c: Corpus, file: str) -> tuple[Path, Path, list[str]]:
    """(OUT_DIR, the path a refusal must name, options) of a hostile export output made in ``d``."""
    if kind in ("good", "the-project", "a-media-input"):
        target = {"good": d / "out", "the-project": p, "a-media-input": c.clip}[kind]
        return target, target, []
    if kind in ("project-file", "project-folder"):
        target = p / ("project.json" if kind == "project-file" else "journal")
        return target, target, []
    if kind == "fifo":
        os.mkfifo(d / "pipe")
        return d / "pipe", d / "pipe", []
    if kind == "link-out":
        (d / "linked").symlink_to(c.outside.parent, target_is_directory=True)
        return d / "linked", d / "linked", []
    (d / "out").mkdir()
    if kind == "file-link-out":
        (d / "out" / file).symlink_to(c.outside)
        return d / "out", d / "out" / file, ["--overwrite"]
    fifo = d / "out" / (file.replace(".eaf", "_va.csv"))
    os.mkfifo(fifo)
    return d / "out", fifo, ["--overwrite"]


def path_trials(c: Corpus, slot: Callable[[], Path], fresh: Callable[[Path, Path], Path]) -> list[Trial]:
    """Issue 19: every command that writes a file meets a link, a dangling link, a FIFO, a folder, its own
    input, a file of another kind and a non-UTF-8 name as its output; commands that read meet non-UTF-8
    names and links as inputs. Nothing may be written through a link nor over an input."""
    out: list[Trial] = []
    csv_in = c.images / "labels.csv"
    # (command, argv with {out}, output suffix, the input 'itself' names, expectation for a good output)
    writers: list[tuple[str, list[str], str, str, str]] = [
        ("frame", ["frame", "{clip}", "0", "-o", "{out}"], ".png", "{clip}", ACCEPT),
        ("export-csv", ["export-csv", "{p}", "{out}"], ".csv", "{p}/project.json", ACCEPT),
        ("compare", ["compare", "{p}", "--ref", "@" + bi.ANNOTATOR, "--csv", "{out}"], ".csv", "{p}/project.json",
         EITHER),
        ("predict", ["predict", "{clip}", "--checkpoint", "{ck}", "-o", "{out}"], ".csv", "{ck}", EITHER),
        ("predict", ["predict", "{demo}", "--checkpoint", "good", "--tracks-out", "{out}"], ".h5",
         "{demo}/models/good/best.pt", ACCEPT),
        ("import-images", ["import-images", "csv", "{csv}", "{out}"], ".h5", "{csv}", ACCEPT),
    ]
    for command, argv, suffix, itself, good in writers:
        for kind in bi.OUTPUT_KINDS:
            d = slot()
            p = fresh(c.project, d) if "{p}" in argv or "{p}" in itself else None
            demo = fresh(c.demo, d) if "{demo}" in argv else None
            fill = {"{clip}": str(c.clip), "{ck}": str(c.checkpoint), "{csv}": str(csv_in), "{p}": str(p),
                    "{demo}": str(demo)}
            given = Path(_sub(itself, fill))
            target = bi.hostile_output(kind, d, suffix, c.outside, given, c.clip if suffix != ".mp4" else csv_in)
            args = [_sub(a, {**fill, "{out}": str(target)}) for a in argv]
            expect = REFUSE if kind in bi.REFUSED_OUTPUTS else good
            outputs = (d, media_cache()) if command == "predict" else (d,)
            out.append(Trial("path", kind, command, args, target, expect, p or demo, outputs, kind == "fifo-out"))
    for kind in ("link-out", "folder-out", "itself"):  # a folder output: export-affwild2
        d = slot()
        p = fresh(c.project, d)
        target = {"link-out": d / "aw", "folder-out": d / "aw.txt", "itself": p}[kind]
        if kind == "link-out":
            target.symlink_to(c.outside.parent, target_is_directory=True)
        elif kind == "folder-out":
            target.write_text("a file where the output folder goes\n")
        out.append(Trial("path", kind, "export-affwild2", ["export-affwild2", str(p), str(target), "--track",
                                                           bi.ANNOTATOR], target, REFUSE, p, (d,)))
    for command, argv, src in (("info", ["info", "{x}"], c.clip), ("frame", ["frame", "{x}", "0", "-o", "{d}/f.png"],
                                                                    c.clip),
                               ("import-csv", ["import-csv", "{p}", "{x}"], c.csv),
                               ("import-images", ["import-images", "csv", "{x}/labels.csv", "{d}/o.h5"], c.images)):
        for kind in ("non-utf8-in", "link-in"):
            d = slot()
            p = fresh(c.project, d) if "{p}" in argv else None
            if kind == "non-utf8-in":
                x = bi.non_utf8_copy(src, d)
            else:
                x = d / f"link{src.suffix}"
                x.symlink_to(src, target_is_directory=src.is_dir())
            args = [a.replace("{x}", str(x)).replace("{d}", str(d)).replace("{p}", str(p)) for a in argv]
            out.append(Trial("path", kind, command, args, x, ACCEPT, p, (d,)))
    return out


def _sub(text: str, fill: dict[str, str]) -> str:
    for k, v in fill.items():
        text = text.replace(k, v)
    return text


PROJECT_COMMANDS = [
    ("info", ["info", "{p}"]), ("project check", ["project", "check", "{p}"]),
    ("project save", ["project", "save", "{p}"]),
    ("project add-video", ["project", "add-video", "{p}", "{clip}", "--name", "v2"]),
    ("export-csv", ["export-csv", "{p}", "{d}/out.csv"]),
    ("export-affwild2", ["export-affwild2", "{p}", "{d}/aw", "--track", bi.ANNOTATOR]),
    ("import-csv", ["import-csv", "{p}", "{csv}"]), ("fuse", ["fuse", "{p}", "--method", "vote"]),
    ("agreement", ["agreement", "{p}"]), ("faces", ["faces", "{p}", "--backend", "reference", "--landmarks", "{lm}"]),
    ("train", ["train", "{p}", "--epochs", "1", "--max-steps", "1"]),
    ("predict", ["predict", "{p}", "--checkpoint", "{ck}"]),
    ("evaluate", ["evaluate", "--task", "va", "--pred", "{p}:" + bi.ANNOTATOR, "--ref", "{p}:" + bi.ANNOTATOR]),
]
REFUSED_PROJECTS = ("manifest-not-json", "manifest-binary", "manifest-fifo", "frame-count-1e12",
                    "frame-count-negative", "fps-zero", "video-name-escapes", "split-escapes", "index-garbage",
                    "not-a-project", "missing")
READ_ONLY_PROJECTS = ("track-file-missing", "track-file-truncated")  # writing is refused, reading may work


def _copy(src: str, dst: str) -> None:
    if stat.S_ISFIFO(os.lstat(src).st_mode):
        os.mkfifo(dst)
    else:
        shutil.copy2(src, dst)


def media_cache() -> Path:
    """Where `faces MEDIA` keeps caches (the suite points XDG_CACHE_HOME into its own folder)."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))


def _project_expect(name: str, command: str) -> str:
    if name in REFUSED_PROJECTS:
        return REFUSE
    if name in READ_ONLY_PROJECTS and command in WRITES:
        return REFUSE
    return EITHER


def _fill(argv: list[object], d: Path, p: Path | None) -> list[str]:
    return [str(a).replace("{d}", str(d)).replace("{p}", str(p)) for a in argv]


def summary(c: Corpus, outcomes: list[Outcome]) -> dict[str, int]:
    return {"inputs": c.inputs(), "trials": len(outcomes), "clean": sum(not o.faults for o in outcomes),
            "hangs": sum(o.hang for o in outcomes), "tracebacks": sum("traceback or internal error" in o.faults
                                                                       for o in outcomes),
            "wrote_outside": sum(o.outside for o in outcomes), "labels_lost": sum(o.lost for o in outcomes),
            "silent_accepts": sum("accepted bad input" in o.faults for o in outcomes),
            "outputs_over_inputs": sum(bool(o.faults) for o in outcomes if o.trial.kind == "path"
                                       and o.trial.name == "itself"),
            "malicious_pickle_ran": int(c.marker.exists())}

"""The reliability suite's trials: every bad input of tests.badinput through every command that takes it.

A trial runs one ``affecttrace`` command line and judges it: the exit status expected, one clean line
naming the file on refusal (only warnings beside output on acceptance), nothing written outside the
project and the declared outputs, no label changed, and an answer within the time limit. Trials run in
this process (fast) except those handed a FIFO, which run in child processes where a hang is observed.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from tests import badinput as bi
from tests import badinterop as bx

REPO = Path(__file__).resolve().parents[1]
TIMEOUT_S = float(os.environ.get("AFFECTTRACE_TRIAL_TIMEOUT", 90))  # seconds one command may take
LABELS_TIMEOUT_S = 30.0  # reading a project's labels before and after a trial
REFUSE, ACCEPT, EITHER = "refuse", "accept", "either"
WRITES = ("project save", "project add-video", "project relocate", "import-csv", "fuse", "predict", "import-affwild2")


@dataclass
class Trial:
    kind: str  # media | csv | affwild2 | checkpoint | settings | project | name | path | elan | nova | tool | export
    name: str  # the corpus entry
    command: str
    argv: list[str]
    path: Path  # what a refusal must name (the file, or a folder holding the file named)
    expect: str
    project: Path | None = None  # the project copy the command may change
    outputs: tuple[Path, ...] = ()  # what it may create
    child: bool = False  # run in a child process (the input is a FIFO)


@dataclass
class Outcome:
    trial: Trial
    code: int | None  # None: no answer in time
    seconds: float = 0.0
    out: str = ""
    err: str = ""
    faults: list[str] = field(default_factory=list)

    @property
    def hang(self) -> bool:
        return self.code is None or any("(hang)" in f for f in self.faults)

    @property
    def lost(self) -> bool:
        return any(f.startswith("labels") for f in self.faults)

    @property
    def outside(self) -> bool:
        return any(f.startswith("wrote outside") for f in self.faults)


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


# ------------------------------------------------------------------ running and judging

def _snapshot(roots: list[Path], listings: list[Path]) -> dict[str, tuple[int, int]]:
    """(size, mtime) of everything under ``roots`` and of the entries of the folders ``listings``."""
    out: dict[str, tuple[int, int]] = {}

    def scan(folder: str, deep: bool) -> None:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return
        for e in entries:
            st = e.stat(follow_symlinks=False)
            is_dir = stat.S_ISDIR(st.st_mode)
            out[e.path] = (0, 0) if is_dir else (st.st_size, st.st_mtime_ns)
            if deep and is_dir:
                scan(e.path, True)

    for r in roots:
        scan(str(r), True)
    for folder in listings:
        scan(str(folder), False)
    return out


def _escapes() -> list[str]:
    return [str(p) for p in Path("/tmp").glob("affecttrace-escape*")] + \
        [str(p) for p in Path("/tmp").glob("affecttrace-abs*")]


def _label_state(project: Path | None) -> object:
    """The labels (journal included) when the project opens; else the bytes of its label files."""
    if project is None or not project.is_dir():
        return None
    try:
        with _deadline(LABELS_TIMEOUT_S):
            return ("labels", bi.labels_of(project))
    except _Timeout:
        return ("hung", None)  # opening the project to read its labels blocked: a hang of the code under test
    except Exception:  # a damaged project: its files must then stay as they are
        files = {}
        for pattern in ("tracks/*.h5", "journal/*.jsonl", "annotations*.h5", "project.json"):
            for f in project.glob(pattern):
                if f.is_file():
                    files[str(f)] = hashlib.sha1(f.read_bytes()).hexdigest()
        return ("files", files)


def _labels_kept(before: object, project: Path | None) -> bool:
    if before is None:
        return True
    kind, data = before  # type: ignore[misc]
    if kind == "hung":
        return False
    if kind == "labels":
        try:
            with _deadline(LABELS_TIMEOUT_S):
                return bi.same_labels(data, bi.labels_of(project))
        except Exception:
            return False
    after = _label_state(project)
    now = after[1] if after is not None else {}
    return all(now.get(k) == v for k, v in data.items())  # type: ignore[union-attr]


class _Timeout(Exception):
    pass


@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Raise _Timeout in this (main) thread after ``seconds``, even out of a blocking open() or read()."""
    def alarm(signum: int, frame: object) -> None:
        raise _Timeout

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def _captured() -> Iterator[tuple[io.StringIO, io.StringIO, list[str]]]:
    """Python-level and descriptor-level stdout/stderr (C libraries write to fd 2 directly)."""
    py_out, py_err, fd_text = io.StringIO(), io.StringIO(), []
    sys.stdout.flush()
    sys.stderr.flush()
    with tempfile.TemporaryFile() as raw:
        saved = os.dup(2)
        os.dup2(raw.fileno(), 2)
        try:
            with contextlib.redirect_stdout(py_out), contextlib.redirect_stderr(py_err):
                yield py_out, py_err, fd_text
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            raw.seek(0)
            fd_text.append(raw.read().decode("utf-8", "replace"))


def run_in_process(argv: list[str], timeout: float) -> tuple[int | None, str, str]:
    from core.cli.main import main

    code: int | None
    with _captured() as (out, err, fd_err), warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()  # what a user would see on stderr (pytest would swallow it): Python's defaults
        warnings.simplefilter("default")
        for quiet in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
            warnings.simplefilter("ignore", quiet)
        try:
            with _deadline(timeout):
                code = main(argv)
        except _Timeout:
            code = None
        except SystemExit as e:  # argparse
            code = int(e.code or 0)
    shown = "".join(warnings.formatwarning(w.message, w.category, w.filename, w.lineno) for w in caught)
    return code, out.getvalue(), err.getvalue() + "".join(fd_err) + shown


def run_children(argvs: list[list[str]], timeout: float) -> list[tuple[int | None, str, str]]:
    procs = [subprocess.Popen([sys.executable, "-m", "core.cli", *a], cwd=REPO, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for a in argvs]
    deadline, out = time.monotonic() + timeout, []
    for p in procs:
        try:
            o, e = p.communicate(timeout=max(0.5, deadline - time.monotonic()))
            out.append((p.returncode, o, e))
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            out.append((None, "", ""))
    return out


def judge(t: Trial, code: int | None, out: str, err: str, before: object, moved: list[str],
          seconds: float = 0.0) -> Outcome:
    o = Outcome(t, code, seconds, out, err)
    if code is None:
        o.faults.append("no answer in time (hang)")
        return o
    lines = [ln for ln in err.splitlines() if ln.strip()]
    if "Traceback" in err or "internal error" in err:
        o.faults.append("traceback or internal error")
    if code not in (0, 1, 130):
        o.faults.append(f"exit status {code}")
    if t.expect == REFUSE and code == 0:
        o.faults.append("accepted bad input")
    if t.expect == ACCEPT and code != 0:
        o.faults.append("refused good input")
    if t.command == "project check" and code == 1 and out.strip() and not lines:
        return _finish(o, t, out, err, before, moved)  # a report of the problems found, on stdout
    if code != 0:
        # an unexpected refusal (EITHER) may be about any file the command was given
        named = [t.path] if t.expect == REFUSE else [t.path] + [Path(a.split(":")[0]) for a in t.argv if "/" in a]
        # one error line, after one line per bad file or row where there are several (issue 18: all named)
        listed = lines[:-1]
        if not lines or any(ln.startswith("affecttrace ") or ": " not in ln for ln in listed):
            o.faults.append(f"{len(lines)} error lines")
        elif not any(str(n) in ln or str(n.resolve()) in ln for n in named for ln in lines):
            o.faults.append("the error does not name the file")
    else:
        noise = [ln for ln in lines if not ln.startswith(("warning:", "note:"))]
        if noise:
            o.faults.append(f"stderr beside a success: {noise[0][:80]}")
    return _finish(o, t, out, err, before, moved)


def _finish(o: Outcome, t: Trial, out: str, err: str, before: object, moved: list[str]) -> Outcome:
    if max((len(ln) for ln in (out + "\n" + err).splitlines()), default=0) > 2000:
        o.faults.append("a line longer than 2000 characters (file text echoed)")
    if moved:
        o.faults.append(f"wrote outside: {moved[0]}")
    if before == ("hung", None):
        o.faults.append("no answer in time (hang) reading the project's labels")
    elif not _labels_kept(before, t.project):
        o.faults.append("labels changed or lost")
    return o


def run_trials(ts: list[Trial], corpus: Path, timeout: float = TIMEOUT_S, batch: int = 4) -> list[Outcome]:
    """Run every trial (children in batches of ``batch``). Nothing may change in ``corpus`` (the inputs), nor
    beside a trial's own folder, its ancestors, or /tmp, except the project copy and outputs the trial names."""
    outcomes: list[Outcome] = []
    inproc = [t for t in ts if not t.child]
    kids = [t for t in ts if t.child]
    for t in inproc:
        watch = _watched(corpus, [t])
        before, snap, esc = _label_state(t.project), _snapshot(*watch), _escapes()
        t0 = time.perf_counter()
        code, out, err = run_in_process(t.argv, timeout)
        spent = time.perf_counter() - t0
        outcomes.append(judge(t, code, out, err, before, _moved(watch, snap, [t], esc), spent))
    for i in range(0, len(kids), batch):
        group = kids[i:i + batch]
        watch = _watched(corpus, group)
        befores, snap, esc = [_label_state(t.project) for t in group], _snapshot(*watch), _escapes()
        results = run_children([t.argv for t in group], timeout)
        moved = _moved(watch, snap, group, esc)
        outcomes += [judge(t, *r, b, moved) for t, r, b in zip(group, results, befores)]
    return outcomes


def _watched(corpus: Path, group: list[Trial]) -> tuple[list[Path], list[Path]]:
    """(trees watched whole, folders whose entries are watched): the inputs, and the folders around each
    trial's own, up to the suite's folder (/tmp is shared with others: the escapes tried are checked by name)."""
    top, listings = corpus.parent, {corpus.parent}  # /tmp itself is shared with others: its escapes are named
    for t in group:
        for p in (t.project, *t.outputs):
            if p is not None:
                listings.update(a for a in p.parents if top in a.parents)
    return [corpus], sorted(listings)


def _moved(watch: tuple[list[Path], list[Path]], snap: dict[str, tuple[int, int]], group: list[Trial],
           esc: list[str]) -> list[str]:
    allowed = [str(p) for t in group for p in (t.project, *t.outputs) if p is not None]
    now = _snapshot(*watch)
    changed = [p for p in set(now) | set(snap) if now.get(p) != snap.get(p)]
    bad = [p for p in changed if not any(p == a or p.startswith(a + os.sep) for a in allowed)]
    return sorted(bad) + sorted(set(_escapes()) - set(esc))


def summary(c: Corpus, outcomes: list[Outcome]) -> dict[str, int]:
    return {"inputs": c.inputs(), "trials": len(outcomes), "clean": sum(not o.faults for o in outcomes),
            "hangs": sum(o.hang for o in outcomes), "tracebacks": sum("traceback or internal error" in o.faults
                                                                       for o in outcomes),
            "wrote_outside": sum(o.outside for o in outcomes), "labels_lost": sum(o.lost for o in outcomes),
            "silent_accepts": sum("accepted bad input" in o.faults for o in outcomes),
            "outputs_over_inputs": sum(bool(o.faults) for o in outcomes if o.trial.kind == "path"
                                       and o.trial.name == "itself"),
            "malicious_pickle_ran": int(c.marker.exists())}

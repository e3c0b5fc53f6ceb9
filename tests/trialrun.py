"""Running and judging the reliability suite's trials (the trials themselves: tests/reliability.py).

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
import signal
import stat
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from tests import badinput as bi

REPO = Path(__file__).resolve().parents[1]
TIMEOUT_S = float(os.environ.get("AFFECTTRACE_TRIAL_TIMEOUT", 90))  # seconds one command may take
LABELS_TIMEOUT_S = 30.0  # reading a project's labels before and after a trial
REFUSE, ACCEPT, EITHER = "refuse", "accept", "either"


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

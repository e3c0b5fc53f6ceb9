"""Reliability figures: the bad-input suite, kill -9 during edits, saves and imports, and full disks.

    .venv/bin/python bench/reliability.py [--kill-edit 20] [--kill-save 30] [--kill-import 17] [--disk 5]

Prints JSON and a one-line summary. The same trials, fewer of each, run in tests/ (test_reliability,
test_project_journal, test_disk_and_locks); the full-disk trials need root (a tmpfs mount).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.cli.main import main as cli  # noqa: E402
from core.edits import set_range  # noqa: E402
from core.errors import ProjectError  # noqa: E402
from core.project import Project  # noqa: E402
from tests import reliability as rel  # noqa: E402
from tests.affwild2gen import make_dataset  # noqa: E402
from tests.badinput import ANNOTATOR, fill_disk, good_clip, labelled_project, labels_of, same_labels  # noqa: E402
from tests.project_child import N_FRAMES, REPO, lost_edits, run_and_kill  # noqa: E402
from tests.trialrun import run_trials  # noqa: E402


def bad_inputs(tmp: Path, disk: bool = True) -> dict:
    os.environ["XDG_CACHE_HOME"] = str(tmp / "work" / "xdg-cache")
    t0 = time.perf_counter()
    corpus = rel.build_corpus(tmp / "corpus")
    done = run_trials(rel.trials(corpus, tmp / "work"), tmp / "corpus")
    out = rel.summary(corpus, done)
    out["by_kind"] = {k: f"{sum(not o.faults for o in done if o.trial.kind == k)}/"
                         f"{sum(o.trial.kind == k for o in done)}" for k in sorted({o.trial.kind for o in done})}
    out["seconds"] = round(time.perf_counter() - t0, 1)
    out["not_clean"] = [f"{o.trial.kind}/{o.trial.name} {o.trial.command}: {'; '.join(o.faults)}" for o in done
                        if o.faults][:20]
    if disk:
        out["full_disk_commands"] = full_disk_commands(tmp / "corpus", tmp)
    return out


def kills_during_edits(tmp: Path, n: int, save_every: int) -> dict:
    trials = lost_any = lost_old = reopened = 0
    for seed in range(n):
        folder = tmp / f"kill-{save_every}-{seed}"
        p = Project.create(folder, au_set="affwild2-8")
        p.add_video(folder / "missing.mp4", name="clip", frame_count=N_FRAMES, fps=25)
        p.save()
        p.close()
        killed_at, applied = run_and_kill(folder, save_every, 100 + seed)
        q = Project.open(folder)
        reopened += not q.readonly
        lost = set(lost_edits(q.track("clip", "joy").va, applied))
        q.close()
        trials += 1
        lost_any += bool(lost)
        lost_old += sum(1 for i, t in applied if i in lost and t < killed_at - 1.0)
    return {"trials": trials, "reopened": reopened, "trials_losing_an_edit": lost_any,
            "edits_older_than_1s_lost": lost_old}


def kills_during_imports(tmp: Path, n: int) -> dict:
    root = tmp / "aw"
    files = make_dataset(root, "2022", media=False)
    for f in files.values():  # 60 more label-only videos: an import that takes a while to kill
        if f.stem == "vid3":
            for j in range(60):
                f.with_name(f"extra{j:02d}.txt").write_bytes(f.read_bytes())
    def start(folder: Path) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "core.cli", "import-affwild2", str(root), str(folder)],
                                cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    t0 = time.monotonic()
    start(tmp / "imp-whole").wait()
    whole = time.monotonic() - t0  # kills land between 20 % and 95 % of an import's time (start-up included)
    rng = random.Random(5)
    outcome = {"trials": 0, "import_s": round(whole, 2), "complete": 0, "nothing_yet": 0, "partial_with_warning": 0,
               "partial_silent": 0}
    for k in range(n):
        folder = tmp / f"imp-{k}"
        child = start(folder)
        time.sleep(rng.uniform(0.2, 0.95) * whole)
        child.kill()
        child.wait()
        outcome["trials"] += 1
        if not (folder / "project.json").exists():
            outcome["nothing_yet"] += 1
            continue
        p = Project.open(folder, readonly=True)
        warned = any("did not finish" in w for w in p.warnings)
        full = len(p.videos) == 64 and all(p.has_track(v, "affwild2") for v in p.videos)
        p.close()
        key = "partial_with_warning" if warned else "complete" if full else "partial_silent"
        outcome[key] += 1
    return outcome


def full_disks(tmp: Path, n: int) -> dict:
    out = {"trials": 0, "edits_refused_clearly": 0, "commands_refused_clearly": 0, "recovered_exactly": 0}
    clip = good_clip(tmp / "media")
    for k in range(n):
        mount = tmp / f"mnt{k}"
        mount.mkdir()
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)],
                          capture_output=True).returncode:
            return {"skipped": "mounting a tmpfs needs root"}
        try:
            proj = labelled_project(mount / "p", clip)
            p = Project.open(proj)
            before = labels_of(proj)
            filler = fill_disk(mount)
            try:
                p.apply(set_range("clip", ANNOTATOR, "expr", 0, 10, k % 8))
                p.save()
            except ProjectError as e:
                out["edits_refused_clearly"] += "No space left" in str(e) and str(proj) in str(e)
            p.close()
            err = io.StringIO()
            with redirect_stdout(io.StringIO()), redirect_stderr(err):
                codes = [cli(["fuse", str(proj), "--method", "vote"]), cli(["project", "save", str(proj)])]
            lines = [ln for ln in err.getvalue().splitlines() if ln.strip()]
            clear = len(lines) == codes.count(1) and all("disk is full" in ln or "No space left" in ln for ln in lines)
            out["commands_refused_clearly"] += clear
            if not clear:
                out.setdefault("unclear", []).append([codes, lines])
            filler.unlink()
            out["recovered_exactly"] += same_labels(before, labels_of(proj))
            out["trials"] += 1
        finally:
            subprocess.run(["umount", "-l", str(mount)], capture_output=True)
    return out


DISK_COMMANDS = {  # issue 19: each command writing into a (nearly) full disk; {m} the mount, {c} the corpus
    "import-images": ["import-images", "csv", "{c}/images/labels.csv", "{m}/o.h5"],
    "export-csv": ["export-csv", "{m}/p", "{m}/o.csv"],
    "frame": ["frame", "{c}/media/clip.mp4", "0", "-o", "{m}/f.png"],
    "predict --tracks-out": ["predict", "{m}/p", "--checkpoint", "{c}/demo/p/models/good/best.pt", "--tracks-out",
                             "{m}/t.h5"],
    "predict": ["predict", "{m}/p", "--checkpoint", "{c}/demo/p/models/good/best.pt"],
    "train": ["train", "{m}/p", "--epochs", "1", "--max-steps", "1", "--label-track", "truth", "--run-id", "x"],
    "fuse": ["fuse", "{m}/p", "--method", "vote"],
    "faces --force": ["faces", "{m}/p", "--backend", "reference", "--force"],
}


def full_disk_commands(corpus: Path, tmp: Path, leaves: tuple[int, ...] = (0, 8_000, 40_000, 300_000)) -> dict:
    """Every writing command on a tmpfs filled to ``leave`` bytes of room: it succeeds, or fails with one
    line that names a path on the full disk; no process dies of a signal; no temporary or part file stays."""
    out = {"trials": 0, "succeeded": 0, "refused_in_one_line": 0, "unclear": [], "half_written_left": 0}
    mount = tmp / "disk-commands"
    mount.mkdir()
    for leave in leaves:
        for name, argv in DISK_COMMANDS.items():
            if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", str(mount)],
                              capture_output=True).returncode:
                return {"skipped": "mounting a tmpfs needs root"}
            try:
                shutil.copytree(corpus / "demo" / "p", mount / "p", symlinks=True)
                shutil.rmtree(mount / "p" / "models")
                fill_disk(mount, leave)
                args = [a.replace("{m}", str(mount)).replace("{c}", str(corpus)) for a in argv]
                r = subprocess.run([sys.executable, "-m", "core.cli", *args], cwd=REPO, capture_output=True,
                                   text=True, timeout=600, env={**os.environ, "XDG_CACHE_HOME": str(mount / "xdg")})
                errors = [ln for ln in r.stderr.splitlines() if ln.startswith("affecttrace") or "Traceback" in ln]
                left = [p for p in mount.rglob("*") if p.name.endswith((".tmp", ".part")) or ".replaced-" in p.name]
                out["trials"] += 1
                out["half_written_left"] += bool(left)
                if left:
                    out.setdefault("left", []).append([name, leave, [str(p.relative_to(mount)) for p in left]])
                if r.returncode == 0 and not errors:
                    out["succeeded"] += 1
                elif r.returncode == 1 and len(errors) == 1 and str(mount) in errors[0] and "internal" not in errors[0]:
                    out["refused_in_one_line"] += 1
                else:
                    out["unclear"].append([name, leave, r.returncode, r.stderr.strip()[-300:]])
            finally:
                subprocess.run(["umount", "-l", str(mount)], capture_output=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kill-edit", type=int, default=20)
    ap.add_argument("--kill-save", type=int, default=30)
    ap.add_argument("--kill-import", type=int, default=17)
    ap.add_argument("--disk", type=int, default=5)
    ap.add_argument("--no-suite", action="store_true", help="skip the bad-input suite")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="affecttrace-reliability-"))
    parts = {"bad_inputs": lambda: {} if args.no_suite else bad_inputs(tmp / "suite"),
             "kill_during_edits": lambda: kills_during_edits(tmp, args.kill_edit, 0),
             "kill_during_saves": lambda: kills_during_edits(tmp, args.kill_save, 7),
             "kill_during_imports": lambda: kills_during_imports(tmp, args.kill_import),
             "full_disk": lambda: full_disks(tmp, args.disk)}
    res: dict = {}
    try:
        for name, part in parts.items():  # one part failing keeps the others' figures
            try:
                res[name] = part()
            except Exception as e:  # noqa: BLE001 - the bench reports it and goes on
                res[name] = {"error": f"{type(e).__name__}: {e}"}
            print(f"{name}: {json.dumps(res[name])[:300]}", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(res, indent=1))
    b, e, s, i, d = (res[k] for k in ("bad_inputs", "kill_during_edits", "kill_during_saves", "kill_during_imports",
                                      "full_disk"))
    fc = b.get("full_disk_commands", {})
    fc_clean = fc.get("succeeded", 0) + fc.get("refused_in_one_line", 0)
    print(f"bad inputs {b.get('clean', '-')}/{b.get('trials', '-')} clean, {b.get('hangs', '-')} hangs, "
          f"{b.get('silent_accepts', '-')} silent accepts, {b.get('outputs_over_inputs', '-')} outputs over inputs; "
          f"commands on a full disk {fc_clean}/{fc.get('trials', '-')} clean; "
          f"kill -9: edits {e.get('trials')} trials {e.get('edits_older_than_1s_lost')} lost, saves "
          f"{s.get('trials')} trials {s.get('edits_older_than_1s_lost')} lost, imports {i.get('trials')} trials "
          f"{i.get('partial_silent')} silent partial; "
          f"full disk {d.get('recovered_exactly', '-')}/{d.get('trials', '-')} recovered exactly")


if __name__ == "__main__":
    main()

"""Worker processes start without fork (a lock held by another thread of the parent is not inherited
held), open their datasets themselves, and die with the process that started them."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import psutil
import pytest
import torch
from torch.utils.data import Dataset

from core.data.batches import batch_loader
from core.data.images import ImageFrames
from core.data.loader import make_loader
from core.imagedata.cache import write_arrays
from tests.conftest import REPO

HELD = threading.Lock()  # held by a parent thread for the whole test, as journal sync or read-ahead may


class LockProbe(Dataset):
    """Each item says whether its worker could take HELD: a forked worker inherits it held for ever."""

    def __len__(self) -> int:
        return 8

    def __getitem__(self, k: int) -> dict[str, torch.Tensor]:
        got = HELD.acquire(timeout=2)
        if got:
            HELD.release()
        return {"got": torch.tensor(got), "pid": torch.tensor(os.getpid())}


def test_loader_workers_are_not_forked_from_a_process_with_threads() -> None:
    release = threading.Event()
    holder = threading.Thread(target=lambda: (HELD.acquire(), release.wait(), HELD.release()), daemon=True)
    holder.start()
    try:
        loader = make_loader(LockProbe(), batch_size=2, shuffle=False, workers=2)
        batches = list(loader)
    finally:
        release.set()
        holder.join()
    assert all(bool(b["got"].all()) for b in batches), "a worker inherited a lock held by a parent thread"
    pids = {int(p) for b in batches for p in b["pid"]}
    assert len(pids) == 2 and os.getpid() not in pids
    assert loader.multiprocessing_context.get_start_method() in ("forkserver", "spawn")


def test_batch_workers_open_the_image_dataset_themselves(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    crops = rng.integers(0, 255, (40, 112, 112, 3), dtype=np.uint8)
    path = write_arrays(tmp_path / "d.h5", crops, np.arange(40) % 7, "rafdb-7", ["train"] * 40)
    ds = ImageFrames(path, "train")
    ds.data.take([0])  # the parent's memory map is open; workers must map the file themselves
    loader = batch_loader(ds, list(range(40)), 8, workers=2)
    got = torch.cat([b["image"] for b in loader])
    assert torch.equal(got, torch.from_numpy(crops)) and loader.persistent_workers
    assert list(loader) and loader._iterator is not None  # persistent: the same workers serve a second epoch
    ds.close()


def _descendants_with_workers(proc: subprocess.Popen, n: int, timeout: float) -> list[psutil.Process]:
    """The child processes of ``proc`` (and theirs) once ``n`` of them run Python workers."""
    end = time.monotonic() + timeout
    parent = psutil.Process(proc.pid)
    while time.monotonic() < end:
        kids = parent.children(recursive=True)
        if len(kids) >= n + 1:  # the fork server (or a resource tracker) and n workers
            return kids
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError(f"no {n} workers after {timeout} s")


def _running(p: psutil.Process) -> bool:
    """Still running (a zombie has ended; only nobody has reaped it, as in a container without an init)."""
    try:
        return p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _kill_and_expect_orphans_gone(proc: subprocess.Popen, kids: list[psutil.Process]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    end = time.monotonic() + 15
    alive = kids
    while alive and time.monotonic() < end:
        alive = [p for p in alive if _running(p)]
        time.sleep(0.1)
    for p in alive:
        p.kill()
    assert not alive, f"left running after their parent was killed: {[p.cmdline() for p in alive]}"


def test_pool_workers_die_when_their_parent_is_killed(tmp_path: Path) -> None:
    script = textwrap.dedent("""
        import time
        from concurrent.futures import ProcessPoolExecutor
        from core.data.workers import die_with_parent, worker_context
        pool = ProcessPoolExecutor(2, mp_context=worker_context(), initializer=die_with_parent)
        for _ in range(4):
            pool.submit(time.sleep, 120)
        time.sleep(120)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=REPO)
    try:
        kids = _descendants_with_workers(proc, 2, 60)
        _kill_and_expect_orphans_gone(proc, kids)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_killing_import_images_with_workers_leaves_no_process(tmp_path: Path) -> None:
    big = np.tile(np.linspace(0, 255, 2400, dtype=np.uint8)[None, :, None], (2400, 1, 3))
    for name in ("happy", "sad"):
        folder = tmp_path / "db" / "train" / name
        folder.mkdir(parents=True)
        cv2.imwrite(str(folder / "000.png"), big)
        for k in range(1, 150):
            os.link(folder / "000.png", folder / f"{k:03d}.png")
    cmd = [sys.executable, "-m", "core.cli", "import-images", "folders", str(tmp_path / "db"),
           str(tmp_path / "out.h5"), "--workers", "2"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        kids = _descendants_with_workers(proc, 2, 60)
        time.sleep(0.5)  # the workers are cropping
        assert proc.poll() is None, "the import finished before it could be killed: make the tree bigger"
        _kill_and_expect_orphans_gone(proc, kids)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    assert not (tmp_path / "out.h5").exists()


@pytest.mark.parametrize("preset", ["mt-tiny", "mt-tiny-gru-av"])
def test_training_with_spawned_loader_workers(tmp_path: Path, preset: str) -> None:
    """A whole training run whose loaders (training and validation; uint8 batches, or windows with
    audio) are served by worker processes started from the fork server."""
    from core.cli.main import main
    from tests.nn_demo import make_demo_project

    project = make_demo_project(tmp_path, seconds=2.0)
    assert main(["train", str(project), "--preset", preset, "--label-track", "truth", "--device", "cpu",
                 "--epochs", "1", "--max-steps", "2", "--batch-size", "4", "--workers", "2", "--run-id", "w"]) == 0
    summary = json.loads((project / "models" / "w" / "summary.json").read_text())
    assert summary["status"] == "finished"


def test_a_cancelled_import_with_workers_stops_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import core.imagedata.importer as importer
    from core.errors import AffectTraceError
    from core.imagedata import ImportOptions, import_images
    from core.progress import CancelToken
    from tests.imagedbgen import class_folders

    class_folders(tmp_path / "db", ("happy", "sad"), {"train": 40})
    monkeypatch.setattr(importer, "BLOCK", 4)
    cancel = CancelToken()
    me = os.getpid()
    before = {p.pid for p in psutil.Process(me).children(recursive=True)}  # other tests' processes
    with pytest.raises(AffectTraceError, match="cancelled at row 4"):
        import_images("folders", tmp_path / "db", tmp_path / "x.h5", ImportOptions(workers=2),
                      progress=lambda *a: cancel.cancel(), cancel=cancel)
    end = time.monotonic() + 15
    while True:  # the fork server stays (it serves later pools); the workers it forked are gone
        workers = [p for p in psutil.Process(me).children(recursive=True)
                   if p.ppid() != me and p.pid not in before and _running(p)]
        if not workers or time.monotonic() > end:
            break
        time.sleep(0.1)
    assert not workers, [p.cmdline() for p in workers]
    assert (tmp_path / "x.h5.part").exists()  # resumable

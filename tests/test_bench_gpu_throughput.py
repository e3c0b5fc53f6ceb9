"""bench/gpu_train_throughput.py, the script the GPU figure of issue 12 comes from: its CPU mode runs the
same path (generated cache, real Trainer, uint8 and per-item cases) and it refuses a missing GPU loudly."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from tests.conftest import REPO

SCRIPT = REPO / "bench" / "gpu_train_throughput.py"


@pytest.mark.timeout(660)  # the bench's own run may take up to its 600 s limit on a loaded machine
def test_quick_cpu_run_prints_json_and_a_summary() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), "--device", "cpu", "--quick", "--images", "96", "--steps",
                           "5"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    *body, summary = done.stdout.strip().splitlines()
    report = json.loads("\n".join(body))
    cases = {c["case"]: c for c in report["cases"]}
    assert cases["uint8 path, eager"]["images_per_s"] > 0 and cases["uint8 path, eager"]["raw_uint8"]
    assert not cases["per-item float path (augmented on CPU workers), eager"]["raw_uint8"]
    assert "fetching whole uint8 batches" in cases["uint8 path, eager"]["trainer"]
    assert report["env"]["device"] == "cpu" and report["target_met"] is False and not report["errors"]
    assert summary.startswith("bench/gpu_train_throughput: mt-tiny on ") and "NOT met" in summary


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA GPU is here")
def test_cuda_without_a_gpu_fails_loudly() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "not falling back to the CPU" in done.stderr and not done.stdout

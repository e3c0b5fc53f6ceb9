"""DDP: `torchrun --nproc_per_node 2 -m core.cli train` on the CPU (gloo) finishes, writes one run from
rank 0, and both ranks end with identical weights (their digests, gathered into summary.json)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

from tests.nn_demo import make_demo_project

pytestmark = [pytest.mark.slow, pytest.mark.timeout(660)]  # two ranks start, train and join: over 300 s when loaded


def test_two_process_gloo_ddp_run(tmp_path) -> None:
    project = make_demo_project(tmp_path, seconds=3.0)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "core.cli", "train", str(project), "--preset", "mt-tiny", "--label-track", "truth",
           "--device", "cpu", "--epochs", "2", "--max-steps", "3", "--batch-size", "8", "--json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = list((project / "models").iterdir())
    assert len(runs) == 1, runs  # both ranks agreed on rank 0's run id; only rank 0 wrote
    summary = json.loads((runs[0] / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["world_size"] == 2 and summary["epochs_done"] == 2
    digests = summary["rank_digests"]
    assert len(digests) == 2 and digests[0] == digests[1]
    ckpt = torch.load(runs[0] / "last.pt", weights_only=True)
    assert ckpt["step"] == 2 * 3 and ckpt["epoch"] == 2
    assert json.loads(proc.stdout)["rank_digests"] == digests  # rank 0 printed the summary, rank 1 nothing

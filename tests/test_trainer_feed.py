"""The trainer's feed: whole uint8 batches from an image dataset, the batch size chosen per device, losses
read back lazily yet a non-finite one still stops the run at its step, and how a run ended as TrainStatus."""
from __future__ import annotations

import json
import tomllib

import numpy as np
import pytest
import torch

from core.data.images import ImageFrames
from core.imagedata.cache import write_arrays
from core.nn.checkpoint import LabelSpaces
from core.nn.config import TrainConfig
from core.nn.feed import auto_batch_size
from core.nn.presets import get_preset
from core.nn.tally import LossTally
from core.nn.trainer import Trainer, TrainStatus


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    rng = np.random.default_rng(0)
    n = 96
    crops = rng.integers(0, 256, (n, 112, 112, 3), dtype=np.uint8)
    expr = rng.integers(0, 7, n)
    va = rng.uniform(-1, 1, (n, 2)).astype(np.float32)
    return write_arrays(tmp_path_factory.mktemp("feed") / "d.h5", crops, expr, "rafdb-7",
                        ["train"] * 80 + ["val"] * 16, va)


class Poisoned(ImageFrames):
    poison = False

    def get_batch(self, indices):
        batch = super().get_batch(indices)
        if self.poison:
            batch["va"] = torch.full_like(batch["va"], float("nan"))
        return batch


def test_uint8_batches_auto_batch_size_and_status(dataset, tmp_path) -> None:
    train, val = ImageFrames(dataset, "train"), ImageFrames(dataset, "val")
    events = []
    cfg = TrainConfig(preset="mt-tiny", tasks=["va", "expr"], epochs=2, batch_size=0, au_balance=False)
    res = Trainer(cfg, train, val, LabelSpaces(train.expressions, ()), tmp_path / "run",
                  on_event=events.append).fit()
    assert res.status is TrainStatus.FINISHED and res.status == "finished" and str(res.status) == "finished"
    start = events[0].message
    assert "batch 32" in start and "fetching whole uint8 batches" in start  # auto on a CPU: 32 frames
    assert tomllib.loads((tmp_path / "run" / "config.toml").read_text())["batch_size"] == 32
    steps = [e for e in events if e.kind == "step"]
    assert steps and all(np.isfinite(list(e.losses.values())).all() and {"total", "va", "expr"} <= set(e.losses)
                         for e in steps)
    assert events[-1].status == "finished"
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["status"] == "finished"


def test_a_non_finite_loss_read_lazily_still_names_its_step(dataset, tmp_path) -> None:
    train = Poisoned(dataset, "train")
    cfg = TrainConfig(preset="mt-tiny", tasks=["va", "expr"], epochs=3, batch_size=16, au_balance=False)
    trainer = Trainer(cfg, train, None, LabelSpaces(train.expressions, ()), tmp_path / "run")
    trainer.events.connect(lambda ev: setattr(train, "poison", True) if ev.kind == "epoch" else None)
    res = trainer.fit()
    assert res.status is TrainStatus.DIVERGED and res.epochs_done == 1
    assert "nan at epoch 2 step 1 (va loss)" in res.message and "last.pt" in res.message


def test_loss_tally_finds_the_first_non_finite_step() -> None:
    tally = LossTally()
    for v in (1.0, 2.0, float("inf"), 1.0):
        tally.add(torch.tensor(v), {"va": torch.tensor(v), "expr": torch.tensor(0.5)})
    r = tally.read()
    assert r.steps == 4 and r.first_bad == 3 and r.bad_parts() == ["va"] and r.counts["expr"] == 4
    tally.add(torch.tensor(1.0), {"expr": torch.tensor(3.0)})
    r = tally.read()
    assert r.first_bad is None and r.means() == {"total": 1.0, "expr": 3.0}


def test_auto_batch_size_per_preset_on_the_cpu() -> None:
    cpu = torch.device("cpu")
    assert auto_batch_size(get_preset("mt-resnet"), cpu) == 32
    assert auto_batch_size(get_preset("mt-resnet-gru"), cpu) == 4  # windows of 8 frames

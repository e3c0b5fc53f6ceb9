"""Trainer on a generated dataset: checkpoints (round trip, refusal), resume, cancel, NaN stop, early
stopping, progress events, history CSV and the TOML config."""
from __future__ import annotations

import csv
import math
import tomllib

import pytest
import torch

from core.errors import AffectTraceError, CheckpointError
from core.labels import AU_PRESETS, EXPRESSIONS, EXPRESSIONS_2020
from core.nn.checkpoint import LabelSpaces, check_compatible, model_from_checkpoint, read_checkpoint
from core.nn.config import TrainConfig
from core.nn.synthetic import SyntheticFaces
from core.nn.trainer import Trainer

AUS = AU_PRESETS["affwild2-8"].aus
LABELS = LabelSpaces(EXPRESSIONS, AUS, "affwild2-8")


def data(n: int = 64, seed: int = 0, **kw) -> SyntheticFaces:
    return SyntheticFaces(n, len(EXPRESSIONS), len(AUS), size=48, seed=seed, **kw)


def config(**kw) -> TrainConfig:
    base = dict(preset="mt-tiny", epochs=2, batch_size=16, lr=3e-3, seed=0, augment=False)
    base.update(kw)
    return TrainConfig(**base)


def weights(path) -> dict[str, torch.Tensor]:
    return read_checkpoint(path)["model"]


def test_checkpoint_round_trip_config_history_and_events(tmp_path) -> None:
    events = []
    run = tmp_path / "run"
    res = Trainer(config(), data(), data(32, seed=1), LABELS, run, on_event=events.append).fit()
    assert res.status == "finished" and res.epochs_done == 2
    assert (run / "best.pt").is_file() and (run / "last.pt").is_file()
    # every checkpoint loads with weights_only=True and carries config, labels, metrics, preset
    raw = torch.load(run / "last.pt", weights_only=True)
    assert raw["preset"] == "mt-tiny" and raw["labels"]["aus"] == list(AUS) and raw["epoch"] == 2
    assert raw["config"]["batch_size"] == 16 and "va" in raw["metrics"]
    model, ckpt = model_from_checkpoint(run / "last.pt", preset="mt-tiny", labels=LABELS)
    x = torch.randn(3, 3, 48, 48)
    fresh = Trainer(config(), data(), None, LABELS, tmp_path / "unused")  # same preset, other weights
    assert not model.training
    with torch.no_grad():
        a, b = model(x), model(x)
    torch.testing.assert_close(a["va"], b["va"])
    saved = weights(run / "last.pt")
    for k, v in model.state_dict().items():
        assert torch.equal(v, saved[k])
    assert fresh.run_dir != run
    cfg = tomllib.loads((run / "config.toml").read_text())
    assert cfg["preset"] == "mt-tiny" and cfg["tasks"] == ["va", "expr", "au"]
    assert TrainConfig.load(run / "config.toml") == config()
    rows = list(csv.DictReader(open(run / "history.csv")))
    assert [r["epoch"] for r in rows] == ["1", "2"] and "val_va" in rows[0] and "train_va" in rows[0]
    kinds = [e.kind for e in events]
    assert kinds[0] == "start" and kinds[-1] == "end" and kinds.count("epoch") == 2
    step = next(e for e in events if e.kind == "step")
    assert {"total", "va", "expr", "au"} <= set(step.losses) and step.images_per_s > 0
    assert step.total_steps == 2 * 4 and math.isfinite(step.eta_s)
    assert "val_expr" in next(e for e in events if e.kind == "epoch").metrics


def test_checkpoint_of_another_architecture_or_label_set_is_refused(tmp_path) -> None:
    run = tmp_path / "run"
    Trainer(config(epochs=1, max_steps_per_epoch=1), data(32), None, LABELS, run).fit()
    with pytest.raises(CheckpointError, match="preset 'mt-tiny', not 'mt-mobile'"):
        model_from_checkpoint(run / "last.pt", preset="mt-mobile")
    with pytest.raises(CheckpointError, match="AUs"):
        model_from_checkpoint(run / "last.pt", labels=LabelSpaces(EXPRESSIONS, AU_PRESETS["affwild2-12"].aus))
    with pytest.raises(CheckpointError, match="8 expressions .*uses 7"):
        check_compatible(read_checkpoint(run / "last.pt"), run / "last.pt",
                         labels=LabelSpaces(EXPRESSIONS_2020, AUS))
    # weights of another architecture under this preset's name: refused in one line, not a torch dump
    ckpt = torch.load(run / "last.pt", weights_only=True)
    ckpt["preset"] = "mt-tiny-arc"
    ckpt["model"] = {k.replace("heads.expr.weight", "heads.expr.w"): v for k, v in ckpt["model"].items()}
    torch.save(ckpt, tmp_path / "forged.pt")
    with pytest.raises(CheckpointError, match="do not fit this architecture"):
        model_from_checkpoint(tmp_path / "forged.pt")
    torch.save({"weights": torch.zeros(3)}, tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="not an AffectTrace checkpoint"):
        read_checkpoint(tmp_path / "foreign.pt")


def test_resume_gives_the_same_weights_as_an_uninterrupted_run(tmp_path) -> None:
    cfg = dict(epochs=3, max_steps_per_epoch=2)
    Trainer(config(**cfg), data(), data(16, seed=1), LABELS, tmp_path / "straight").fit()
    first = Trainer(config(**cfg), data(), data(16, seed=1), LABELS, tmp_path / "split")
    first.events.connect(lambda ev: first.cancel.cancel() if ev.kind == "epoch" else None)
    assert first.fit().status == "cancelled"
    part = Trainer(config(**cfg), data(), data(16, seed=1), LABELS, tmp_path / "split", resume=True)
    res = part.fit()
    assert res.status == "finished" and res.epochs_done == 3
    a, b = weights(tmp_path / "straight" / "last.pt"), weights(tmp_path / "split" / "last.pt")
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-5, atol=1e-6, msg=k)
    assert read_checkpoint(tmp_path / "split" / "last.pt")["step"] == 6
    assert len(list(csv.DictReader(open(tmp_path / "split" / "history.csv")))) == 3


def test_cancel_stops_between_steps_and_keeps_a_checkpoint(tmp_path) -> None:
    trainer = Trainer(config(epochs=5), data(), None, LABELS, tmp_path / "run")

    def on_event(ev) -> None:
        if ev.kind == "step":  # the first step always reports
            trainer.cancel.cancel()

    trainer.events.connect(on_event)
    res = trainer.fit()
    assert res.status == "cancelled" and res.epochs_done == 0 and "step 2" in res.message
    assert read_checkpoint(tmp_path / "run" / "last.pt")["step"] == 1


class Poisoned(SyntheticFaces):
    poison = False

    def __getitem__(self, i: int):
        item = super().__getitem__(i)
        if self.poison:
            item["va"] = torch.full((2,), float("nan"))
        return item


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path) -> None:
    ds = Poisoned(64, len(EXPRESSIONS), len(AUS), size=48, unlabelled=0.0)
    trainer = Trainer(config(epochs=4), ds, None, LABELS, tmp_path / "run")
    trainer.events.connect(lambda ev: setattr(ds, "poison", True) if ev.kind == "epoch" else None)
    res = trainer.fit()
    assert res.status == "diverged" and res.epochs_done == 1
    assert "nan" in res.message.lower() and "va loss" in res.message and "last.pt" in res.message
    good = read_checkpoint(tmp_path / "run" / "last.pt")
    assert good["epoch"] == 1 and all(bool(torch.isfinite(v).all()) for v in good["model"].values()
                                      if v.is_floating_point())


def test_early_stopping(tmp_path, monkeypatch) -> None:
    import core.nn.trainer as trainer_module

    scores = iter([0.5, 0.7, 0.6, 0.7, 0.65, 0.9, 0.9, 0.9])  # validation scores of epochs 1, 2, ...
    monkeypatch.setattr(trainer_module, "score", lambda *a, **k: {"score": next(scores), "loss": 0.0})
    res = Trainer(config(epochs=8, early_stopping=3, max_steps_per_epoch=1), data(32), data(16, seed=1),
                  LABELS, tmp_path / "run").fit()
    # best at epoch 2; epochs 3, 4 (equal is not better) and 5 without improvement -> stop after 5
    assert res.status == "early-stopped" and res.epochs_done == 5
    assert read_checkpoint(tmp_path / "run" / "best.pt")["epoch"] == 2
    rows = list(csv.DictReader(open(tmp_path / "run" / "history.csv")))
    assert [r["best"] for r in rows] == ["True", "True", "False", "False", "False"]


def test_config_validation() -> None:
    with pytest.raises(AffectTraceError, match="tasks"):
        TrainConfig(tasks=["va", "pose"])
    with pytest.raises(AffectTraceError, match="optimizer"):
        TrainConfig(optimizer="lbfgs")
    assert TrainConfig(tasks="va,au").tasks == ["va", "au"]
    with pytest.raises(AffectTraceError, match="CUDA"):
        Trainer(config(device="cuda"), data(16), None, LABELS, "/nonexistent").fit() \
            if not torch.cuda.is_available() else (_ for _ in ()).throw(AffectTraceError("CUDA"))


@pytest.mark.parametrize("preset", ["mt-tiny-arc", "mt-tiny-gru-av"])
def test_arcface_and_temporal_audio_presets_train(tmp_path, preset) -> None:
    window = 4 if preset == "mt-tiny-gru-av" else 1
    ds = data(32, window=window, audio=preset.endswith("-av"))
    res = Trainer(config(preset=preset, epochs=1, max_steps_per_epoch=2, tasks=["expr", "au"]), ds,
                  data(16, seed=1, window=window, audio=preset.endswith("-av")), LABELS, tmp_path / "run").fit()
    assert res.status == "finished"
    assert set(res.best_metrics) >= {"expr", "au"} and "va" not in res.best_metrics
    model, _ = model_from_checkpoint(tmp_path / "run" / "best.pt", preset=preset)
    assert model.heads.uses_arcface == (preset == "mt-tiny-arc")


def test_pretrained_backbone_is_loaded_and_reported(tmp_path) -> None:
    import json

    from core.nn.tiny import TinyCNN

    torch.manual_seed(5)
    src = TinyCNN()
    torch.save({"model": {f"module.{k}": v for k, v in src.state_dict().items()}}, tmp_path / "tiny.pth")
    events = []
    trainer = Trainer(config(epochs=1, max_steps_per_epoch=1, lr=0.0, pretrained=str(tmp_path / "tiny.pth")),
                      data(32), None, LABELS, tmp_path / "run", on_event=events.append)
    trainer.fit()
    report = json.loads((tmp_path / "run" / "summary.json").read_text())["pretrained"]
    assert report["matched"] == len(src.state_dict()) and report["missing"] == [] and report["unexpected"] == []
    assert "tensors loaded" in events[0].message
    saved = weights(tmp_path / "run" / "last.pt")
    assert torch.equal(saved["backbone.features.0.weight"], src.state_dict()["features.0.weight"])  # lr 0

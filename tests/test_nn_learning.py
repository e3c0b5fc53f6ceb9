"""It really learns: on the demo project, a light preset trained on the CPU for a few minutes reaches, on
held-out frames (a demo video drawn from another seed, never trained on), VA CCC >= 0.8, EXPR macro-F1
>= 0.8 and AU mean F1 >= 0.8 -- scored by predicting model tracks and evaluating them against the
ground truth, as a user would."""
from __future__ import annotations

import pytest

from core.nn.config import TrainConfig
from core.nn.predictor import evaluate_model_tracks, predict_project
from core.nn.run import train_project
from core.project import Project
from tests.nn_demo import make_demo_project

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]  # minutes of CPU training: over the 300 s default

TRAIN_SECONDS, HELDOUT_SECONDS, EPOCHS = 180.0, 30.0, 6


def test_light_preset_learns_the_demo(tmp_path) -> None:
    folder = make_demo_project(tmp_path, seconds=TRAIN_SECONDS, heldout_seconds=HELDOUT_SECONDS)
    cfg = TrainConfig(preset="mt-tiny", label_track="truth", epochs=EPOCHS, batch_size=32, lr=3e-3,
                      augment=False, device="cpu", run_id="learn", val_split="val")
    with Project.open(folder) as project:
        res = train_project(project, cfg)
        assert res.status == "finished"
        # the held-out video is only watched (validation loss in the log), never used to pick an epoch: the
        # last checkpoint is scored. It is named as the validation video, so every training frame is trained
        # on (with no validation video a run would hold out 20 % of the demo in time blocks)
        predict_project(project, res.last_checkpoint, videos=["heldout"], track_name="model")
        scores = evaluate_model_tracks(project, "model", "truth", videos=["heldout"])
    va, expr, au = (scores[t]["overall"] for t in ("va", "expr", "au"))
    report = (f"VA CCC {va['score']:.3f} (V {va['ccc_valence']:.3f}, A {va['ccc_arousal']:.3f}), "
              f"EXPR F1 {expr['f1']:.3f}, AU F1 {au['f1']:.3f} {au['per_au_f1']}")
    print(report)
    assert va["frames"] == int(HELDOUT_SECONDS * 25), report
    assert va["score"] >= 0.8, report
    assert expr["f1"] >= 0.8, report
    assert au["f1"] >= 0.8, report

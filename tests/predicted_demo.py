"""A small demo project with a trained mt-tiny run 'r1' and its model track 'model' (tests of the model
side: confidence, accept, compare, suggestions). Built once per test module; a few seconds on a CPU."""
from __future__ import annotations

from pathlib import Path

from core.cli.main import main
from tests.nn_demo import make_demo_project

RUN = "r1"
MODEL_TRACK = "model"
NO_FACE = (20, 30)  # frames of 'demo' without a face in the copies of predicted_copy


def train_tiny(folder: Path, run_id: str = RUN, steps: int = 2) -> None:
    rc = main(["train", str(folder), "--preset", "mt-tiny", "--label-track", "truth", "--epochs", "1",
               "--max-steps", str(steps), "--batch-size", "8", "--run-id", run_id, "--seed", "0"])
    assert rc == 0, f"training the test model failed ({rc})"


def predicted_demo(root: Path, seconds: float = 4.0, no_face: tuple[int, int] | None = None) -> Path:
    """``root/p``: the demo (simulated annotators, 'truth' fused track), run r1 and model track 'model'."""
    folder = make_demo_project(root, seconds=seconds, no_face=no_face)
    train_tiny(folder)
    rc = main(["predict", str(folder), "--checkpoint", RUN, "--track-name", MODEL_TRACK])
    assert rc == 0, f"predicting the test model track failed ({rc})"
    return folder


_TEMPLATE: dict[str, Path] = {}


def predicted_copy(tmp_root: Path, dest: Path) -> Path:
    """A fresh copy of the predicted demo (built once per test session under ``tmp_root``)."""
    import shutil

    tpl = _TEMPLATE.get("p")
    if tpl is None or not (tpl / "project.json").exists():
        tpl = predicted_demo(Path(tmp_root) / "predicted_template", no_face=NO_FACE)
        _TEMPLATE["p"] = tpl
    shutil.copytree(tpl, dest, ignore=shutil.ignore_patterns(".lock", "lock.json"))
    return dest

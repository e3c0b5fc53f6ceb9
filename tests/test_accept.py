"""core.accept: a model's labels into an annotator's track for a range or above a confidence, as edits
that undo exactly."""
from __future__ import annotations

import numpy as np
import pytest

from core.accept import ACCEPT_KIND, accept_edits
from core.modeltracks import cell_confidence
from core.project import Project
from tests.predicted_demo import MODEL_TRACK, NO_FACE, predicted_copy

ARRAYS = ("va", "expr", "au")


@pytest.fixture()
def project(tmp_path_factory, tmp_path):
    root = tmp_path_factory.getbasetemp() / "accept_template"
    root.mkdir(exist_ok=True)
    with Project.open(predicted_copy(root, tmp_path / "p")) as p:
        yield p


def _snapshot(track) -> dict[str, np.ndarray]:
    return {a: getattr(track, a).copy() for a in ARRAYS}


def _apply(p: Project, edits) -> None:
    for e in edits:
        p.apply(e)


def _undo(p: Project, edits) -> None:
    for e in reversed(edits):
        p.revert(e)


def test_accept_range_then_undo_restores_exactly(project) -> None:
    p = project
    model, target = p.track("demo", MODEL_TRACK), p.track("demo", "ann3")
    before = _snapshot(target)
    edits = accept_edits(model, target, start=10, stop=60, author="ann3")
    assert [e.task for e in edits] == list(ARRAYS) and all(e.kind == ACCEPT_KIND for e in edits)
    _apply(p, edits)
    face = np.r_[10:NO_FACE[0], NO_FACE[1]:60]
    for a in ARRAYS:
        np.testing.assert_array_equal(getattr(target, a)[face], getattr(model, a)[face], err_msg=a)
        for outside in (np.r_[:10], np.r_[60:target.n_frames], np.r_[NO_FACE[0]:NO_FACE[1]]):
            np.testing.assert_array_equal(getattr(target, a)[outside], before[a][outside], err_msg=a)
    _undo(p, edits)
    for a in ARRAYS:
        np.testing.assert_array_equal(getattr(target, a), before[a], err_msg=a)


def test_accept_above_confidence_and_only_unlabelled(project) -> None:
    p = project
    model, target = p.track("demo", MODEL_TRACK), p.track("demo", "ann1")
    before = _snapshot(target)
    conf_e, conf_a = cell_confidence(model, "expr"), cell_confidence(model, "au")
    thr = float(np.nanmedian(conf_e))
    edits = accept_edits(model, target, tasks=("expr", "au"), min_confidence=thr)
    _apply(p, edits)
    sure = np.nan_to_num(conf_e, nan=-1) >= thr
    assert 0 < sure.sum() < target.n_frames
    np.testing.assert_array_equal(target.expr[sure], model.expr[sure])
    np.testing.assert_array_equal(target.expr[~sure], before["expr"][~sure])
    cells = np.nan_to_num(conf_a, nan=-1) >= thr
    np.testing.assert_array_equal(target.au[cells], model.au[cells])
    np.testing.assert_array_equal(target.au[~cells], before["au"][~cells])
    np.testing.assert_array_equal(target.va, before["va"])
    _undo(p, edits)
    assert all(np.array_equal(getattr(target, a), before[a], equal_nan=True) for a in ARRAYS)

    # ann3 has gaps: filling only its unlabelled frames keeps every label it made
    gappy = p.track("demo", "ann3")
    had = gappy.labelled("va")
    old = gappy.va.copy()
    _apply(p, accept_edits(model, gappy, tasks=("va",), only_unlabelled=True))
    assert (~had).any()
    np.testing.assert_array_equal(gappy.va[had], old[had])
    fill = ~had & np.isfinite(model.va).all(1)
    np.testing.assert_array_equal(gappy.va[fill], model.va[fill])


def test_nothing_to_accept_is_no_edit(project) -> None:
    model, target = project.track("demo", MODEL_TRACK), project.track("demo", "ann1")
    assert accept_edits(model, target, start=NO_FACE[0], stop=NO_FACE[1]) == []
    assert accept_edits(model, target, min_confidence=1.01) == []
    assert accept_edits(model, target, start=50, stop=50) == []


def test_accept_command_applies_saves_and_plans(tmp_path_factory, tmp_path, capsys) -> None:
    import json

    from core.accept import accept_parts, load_plan
    from core.cli.main import main

    root = tmp_path_factory.getbasetemp() / "accept_template"
    root.mkdir(exist_ok=True)
    folder = predicted_copy(root, tmp_path / "p")
    with Project.open(folder, readonly=True) as p:
        model, before = p.track("demo", MODEL_TRACK), _snapshot(p.track("demo", "ann3"))
        want = accept_parts(model, p.track("demo", "ann3"), start=10, stop=60)
    capsys.readouterr()  # what making the template printed

    # --plan-out reads only: the plan is what accept_parts finds, and the project is unchanged
    plan_file = tmp_path / "plan.npz"
    args = ["accept", str(folder), "--model", MODEL_TRACK, "--video", "demo", "--annotator", "ann3",
            "--frames", "10:60"]
    assert main([*args, "--plan-out", str(plan_file), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["tasks"] == list(ARRAYS) and out["frames"] == [10, 60] and out["track"] == "ann3"
    plan = load_plan(plan_file)
    assert (plan.model, plan.video, plan.track) == (MODEL_TRACK, "demo", "ann3") and len(plan.parts) == len(want)
    for got, exp in zip(plan.parts, want, strict=True):
        assert got.task == exp.task and got.start == exp.start
        np.testing.assert_array_equal(got.take, exp.take)
        np.testing.assert_array_equal(got.values, exp.values)
    with Project.open(folder, readonly=True) as p:
        assert all(np.array_equal(getattr(p.track("demo", "ann3"), a), before[a], equal_nan=True) for a in ARRAYS)

    # without it the labels are written and saved: a reopened project has them
    assert main(args) == 0
    assert "accepted" in capsys.readouterr().out
    face = np.r_[10:NO_FACE[0], NO_FACE[1]:60]
    with Project.open(folder, readonly=True) as p:
        t = p.track("demo", "ann3")
        for a in ARRAYS:
            np.testing.assert_array_equal(getattr(t, a)[face], getattr(model, a)[face], err_msg=a)
            np.testing.assert_array_equal(getattr(t, a)[:10], before[a][:10], err_msg=a)
        assert "newcomer" not in p.track_names("demo")

    # an annotator without a track gets one; nothing to take is said, not an error
    assert main(["accept", str(folder), "--model", MODEL_TRACK, "--video", "demo", "--annotator", "newcomer",
                 "--task", "expr"]) == 0
    capsys.readouterr()
    with Project.open(folder, readonly=True) as p:
        assert (p.track("demo", "newcomer").expr[face] == model.expr[face]).all()
    assert main([*args[:-2], "--frames", f"{NO_FACE[0]}:{NO_FACE[1]}"]) == 0
    assert "nothing to accept" in capsys.readouterr().out

    # bad input: one line each
    assert main([*args[:3], "nope", *args[4:]]) == 1
    assert "has no track 'nope'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*args[:-2], "--frames", "60:10"])
    assert "START:STOP" in capsys.readouterr().err
    plan_file.write_bytes(b"not a plan")
    with pytest.raises(Exception, match="not an accept plan"):
        load_plan(plan_file)

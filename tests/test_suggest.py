"""core.suggest: uncertain, disagreeing and unlabelled segments rank above confident agreeing ones; the
`suggest` command gives the same segments as the core function."""
from __future__ import annotations

import json

import numpy as np
import pytest

from core.agreement.report import video_fps
from core.cli.main import main
from core.compare import Segment
from core.project import Project
from core.suggest import next_suggested, rank_segments, suggestion_score, video_suggestions
from core.tracks import Track, TrackSource
from tests.predicted_demo import MODEL_TRACK, predicted_copy

AUS = ("AU1", "AU2")
SEG = 60


def _model_and_reference(n: int = 600) -> tuple[Track, Track]:
    """Frames 0-299 confident and agreeing; 300-359 uncertain; 420-479 confident but disagreeing;
    540-599 confident and agreeing but nobody labelled them."""
    t = np.arange(n)
    ref = Track.empty("v", "fused", TrackSource.fused(), n, AUS)
    ref.va[:, 0], ref.va[:, 1] = np.sin(t / 20.0) * 0.7, np.cos(t / 25.0) * 0.5
    ref.expr[:] = (t // 30) % 7
    ref.au[:] = ((t[:, None] // np.array([20, 35])) % 2).astype(np.int8)
    model = Track(ref.video, "model", TrackSource.model("r", "h"), AUS, ref.va.copy(), ref.expr.copy(), ref.au.copy())
    model.expr_prob = np.full((n, 8), 0.02 / 7, np.float32)
    model.expr_prob[t, ref.expr] = 0.98
    model.au_prob = np.where(ref.au == 1, 0.98, 0.02).astype(np.float32)
    model.va_std = np.full((n, 2), 0.01, np.float32)
    unsure = slice(300, 360)
    model.expr_prob[unsure] = 1.0 / 8
    model.au_prob[unsure] = 0.5
    model.va_std[unsure] = 0.4
    wrong = slice(420, 480)
    model.va[wrong] = -ref.va[wrong]
    model.expr[wrong] = (ref.expr[wrong] + 2) % 7
    model.au[wrong] = 1 - ref.au[wrong]
    model.au_prob[wrong] = 1.0 - model.au_prob[wrong]
    model.expr_prob[wrong] = np.roll(model.expr_prob[wrong], 2, axis=1)
    ref.va[540:], ref.expr[540:], ref.au[540:] = np.nan, -1, -1
    return model, ref


def test_uncertain_disagreeing_and_unlabelled_segments_rank_first() -> None:
    model, ref = _model_and_reference()
    score, parts = suggestion_score(600, model, ref, [ref], window=SEG)
    assert score.shape == (600,) and ((score >= 0) & (score <= 1)).all()
    segs = rank_segments(score, SEG)
    assert len(segs) == 10 and [s.score for s in segs] == sorted((s.score for s in segs), reverse=True)
    top3 = {s.start for s in segs[:3]}
    assert top3 == {300, 420, 540}, segs
    calm = [s for s in segs if s.start < 240]
    assert all(s.score < min(x.score for x in segs[:3]) for s in calm)
    assert parts["uncertainty"][330] > 0.9 and parts["uncertainty"][100] < 0.2
    assert parts["disagreement"][450] > 0.9 and parts["disagreement"][100] < 0.05
    assert parts["unlabelled"][570] == 1.0 and parts["unlabelled"][100] == 0.0


def test_next_suggested_walks_forward_and_wraps() -> None:
    segs = [Segment(300, 360, 0.9), Segment(60, 120, 0.8), Segment(480, 540, 0.7)]
    assert next_suggested(segs, 0).start == 60
    assert next_suggested(segs, 60).start == 300
    assert next_suggested(segs, 500).start == 60
    assert next_suggested([], 0) is None


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("suggest")
    return predicted_copy(root, root / "p")


def test_suggest_command_matches_core(demo, capsys) -> None:
    with Project.open(demo, readonly=True) as p:
        s = video_suggestions(p, "demo", count=3, segment_s=1.0)
        fps = video_fps(p, "demo")
    assert s.model == MODEL_TRACK and s.reference == "truth" and len(s.segments) == 3
    assert s.score.shape == (100,) and np.isfinite(s.score).all()
    assert main(["suggest", str(demo), "--count", "3", "--segment-seconds", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    got = out["videos"]["demo"]["segments"]
    assert [(g["start"], g["stop"]) for g in got] == [(x.start, x.stop) for x in s.segments]
    assert [g["score"] for g in got] == pytest.approx([x.score for x in s.segments])
    assert got[0]["start_s"] == pytest.approx(got[0]["start"] / fps)
    assert main(["suggest", str(demo), "--model", "nope"]) == 1
    assert "no video has the model track 'nope'" in capsys.readouterr().err

"""core.compare: the scores equal `affecttrace evaluate`'s; the sliding-window agreement, its worst segments
and "next disagreement" on tracks with a known disagreement."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from core.cli.evaluate_cmd import evaluate_sources
from core.cli.main import main
from core.compare import (
    PROJECT_ROW,
    agreement_series,
    compare_tracks,
    next_disagreement,
    rolling_au_f1,
    rolling_ccc,
    rolling_expr_f1,
    worst_segments,
)
from core.metrics import au_scores, ccc, expr_scores
from core.project import Project
from core.tracks import Track, TrackSource
from tests.predicted_demo import MODEL_TRACK, predicted_copy

AUS = ("AU1", "AU2", "AU4")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("compare")
    return predicted_copy(root, root / "p")


@pytest.mark.parametrize("spec,ref", [(MODEL_TRACK, "truth"), ("@ann1", "truth"), ("@ann2", "@ann3")])
def test_scores_equal_evaluate(demo, spec, ref) -> None:
    with Project.open(demo, readonly=True) as p:
        ours = compare_tracks(p, spec, ref)
    assert set(ours) == {"va", "expr", "au"}
    for task, res in ours.items():
        theirs = evaluate_sources(f"{demo}:{spec}", f"{demo}:{ref}", task)
        assert res["overall"] == theirs["overall"] and res["videos"] == theirs["videos"], task


def test_compare_command_table_equals_evaluate_command(demo, tmp_path, capsys) -> None:
    out = tmp_path / "table.csv"
    assert main(["compare", str(demo), "--ref", "truth", "--csv", str(out), "--worst", "2", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert {r["track"] for r in res["rows"]} == {"@ann1", "@ann2", "@ann3", MODEL_TRACK}
    for task in ("va", "expr", "au"):
        assert main(["evaluate", "--task", task, "--pred", f"{demo}:{MODEL_TRACK}", "--ref", f"{demo}:truth",
                     "--json"]) == 0
        ev = json.loads(capsys.readouterr().out)
        row = next(r for r in res["rows"] if (r["track"], r["task"], r["video"]) == (MODEL_TRACK, task, PROJECT_ROW))
        assert row["score"] == ev["overall"]["score"] and row["frames"] == ev["overall"]["frames"]
    with open(out, newline="") as f:
        table = list(csv.DictReader(f))
    assert len(table) == len(res["rows"]) and float(table[0]["score"]) == pytest.approx(res["rows"][0]["score"])
    worst = res["worst"][MODEL_TRACK]["demo"]
    assert set(worst) == {"va", "expr", "au"} and all(1 <= len(v) <= 2 for v in worst.values())


def _tracks(n: int) -> tuple[Track, Track]:
    """A reference and a copy that disagrees on VA at 1000-1199, on EXPR at 2000-2149, on AU at 500-649."""
    t = np.arange(n)
    ref = Track.empty("v", "ref", TrackSource.fused(), n, AUS)
    ref.va[:, 0] = np.sin(t / 40.0) * 0.8
    ref.va[:, 1] = np.cos(t / 55.0) * 0.6
    ref.expr[:] = (t // 90) % 8
    ref.au[:] = ((t[:, None] // np.array([70, 110, 45])) % 2).astype(np.int8)
    trk = ref.copy()
    trk.name, trk.source = "trk", TrackSource.human("a")
    trk.va[1000:1200] = -ref.va[1000:1200]
    trk.expr[2000:2150] = (ref.expr[2000:2150] + 3) % 8
    trk.au[500:650] = 1 - ref.au[500:650]
    trk.va[2500:2600] = np.nan  # unlabelled: no agreement figure there
    return trk, ref


def test_window_series_and_worst_segments_find_the_disagreement() -> None:
    trk, ref = _tracks(3000)
    w = 100
    va = agreement_series(trk, ref, "va", w)
    assert va.values.shape == (3000,) and va.window == w
    assert np.nanmin(va.values[1050:1150]) < -0.9 and np.nanmin(np.r_[va.values[:900], va.values[1300:2450]]) > 0.99
    assert np.isnan(va.values[2510:2590]).all()
    (worst,) = worst_segments(va, 1)
    assert 1000 <= (worst.start + worst.stop) // 2 < 1200 and worst.stop - worst.start == w
    start = next_disagreement(va, 0)
    assert 950 <= start <= 1050
    assert next_disagreement(va, start) is None and next_disagreement(va, start, wrap=True) == start

    expr = agreement_series(trk, ref, "expr", w)
    au = agreement_series(trk, ref, "au", w)
    assert expr.values[2075] < 0.1 and np.nanmin(expr.values[:1900]) == 1.0
    assert au.values[575] == 0.0 and np.nanmin(au.values[800:]) == 1.0
    segs = worst_segments(expr, 3)
    assert 2000 <= (segs[0].start + segs[0].stop) // 2 < 2150
    assert all(abs((a.start - b.start)) >= w for a in segs for b in segs if a is not b)


def test_window_values_are_the_abaw_metrics_of_the_window() -> None:
    rng = np.random.default_rng(3)
    n, w = 2000, 60
    x, y = rng.normal(size=n), rng.normal(size=n)
    y = x * 0.5 + y
    x[300:320] = np.nan
    p, r = rng.integers(-1, 8, n), rng.integers(0, 8, n)
    pa, ra = rng.random((n, 4)), rng.integers(0, 2, (n, 4))
    c, e, a = rolling_ccc(x, y, w, 2), rolling_expr_f1(p, r, w, 2), rolling_au_f1(pa, ra, w, 2)
    strict = rolling_ccc(x, y, w, min_pairs=45)  # 20 of the 60 frames around 310 lack x
    assert np.isnan(strict[310]) and np.isfinite(strict[1000])
    for i in (30, 310, 1000, 1999):
        s = slice(max(0, i - w // 2), i - w // 2 + w)
        assert c[i] == pytest.approx(ccc(x[s], y[s]), abs=1e-5)
        assert e[i] == pytest.approx(expr_scores(p[s], r[s])["f1"], abs=1e-6)
        assert a[i] == pytest.approx(au_scores(pa[s], ra[s])["f1"], abs=1e-6)


def test_compare_events_and_bad_specs(demo, capsys) -> None:
    from core.jobevents import decode

    assert main(["compare", str(demo), "--ref", "truth", "--track", MODEL_TRACK, "--track", "nope", "--task", "va",
                 "--events"]) == 0
    events = [decode(line) for line in capsys.readouterr().out.splitlines()]
    kinds = [e["event"] for e in events]
    assert None not in events and kinds[0] == "start" and kinds[-1] == "end" and "result" in kinds
    assert any(e["event"] == "message" and "nope: no video has both" in e["text"] for e in events)
    result = next(e for e in events if e["event"] == "result")
    assert {(r["track"], r["task"]) for r in result["rows"]} == {(MODEL_TRACK, "va")}
    assert main(["compare", str(demo), "--ref", "nope"]) == 1
    assert "no track shares a labelled video with the reference 'nope'" in capsys.readouterr().err
    assert main(["suggest", str(demo), "--reference", "@nobody"]) == 1
    assert "no video has the reference track '@nobody'" in capsys.readouterr().err

"""Issue 15 §3: the lead assigns videos and tasks; annotators see their queue and next assigned video;
`project status` (text, JSON, CSV) shows coverage per task, time spent and agreement per annotator x video;
`project team` and `project take-over` from the command line."""
from __future__ import annotations

import csv
import io
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from core.edits import Edit, set_range
from core.project import Project
from core.project.campaign import next_assigned, queue, read_assignments
from core.tracks import TrackSource

N = 400


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    folder = tmp_path / "proj"
    p = Project.create(folder)
    for i in range(3):
        p.add_video(folder / f"v{i}.mp4", name=f"v{i}", frame_count=N, fps=25, split="val" if i == 2 else "train")
    p.save()
    p.close()
    return folder


def _trace(p: Project, video: str, values: np.ndarray, expr: int) -> None:
    ann = p.lane
    if not p.has_track(video, ann):
        p.new_track(video, ann, TrackSource.human(ann))
    for k in range(4):  # four passes
        p.history.push(Edit(video, ann, "va", k * 100, np.stack([values[k * 100:(k + 1) * 100]] * 2, axis=1),
                            author=ann))
    p.history.push(Edit(video, ann, "expr", 0, np.where(values > 0, expr, 5), author=ann))


def test_assign_queue_status(cli, proj: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    code, out, err = cli("project", "assign", proj, "v0", "v1", "-a", "ann1", "-a", "ann2", "--tasks", "VA,EXPR")
    assert code == 0 and "assigned VA+EXPR of 2 video(s) to ann1, ann2" in out, err
    code, out, err = cli("project", "assign", proj, "--split", "val", "-a", "ann1", "--tasks", "au")
    assert code == 0, err
    code, out, err = cli("project", "assign", proj, "v0", "-a", "ann1", "--tasks", "smile")
    assert code == 1 and "unknown task 'smile'" in err and len(err.strip().splitlines()) == 1
    assert read_assignments(proj) == {"ann1": {"v0": ["va", "expr"], "v1": ["va", "expr"], "v2": ["au"]},
                                      "ann2": {"v0": ["va", "expr"], "v1": ["va", "expr"]}}
    rng = np.random.default_rng(0)
    truth = np.clip(np.cumsum(rng.normal(0, 0.05, N)), -1, 1).astype(np.float32)
    a = Project.open(proj, annotator="ann1")
    b = Project.open(proj, annotator="ann2")
    assert [q.video for q in queue(a, "ann1")] == ["v0", "v1", "v2"] and next_assigned(a, "ann1") == "v0"
    _trace(a, "v0", truth, 4)
    _trace(b, "v0", truth * 0.8 + 0.05, 4)
    a.save()
    b.save()
    assert next_assigned(a, "ann1") == "v1" and queue(a, "ann1")[0].done
    assert next_assigned(a, "ann1", after="v1") == "v2"
    a.close()
    b.close()

    code, out, err = cli("project", "status", proj, "--json")
    assert code == 0, err
    st = json.loads(out)
    rows = {(r["annotator"], r["video"]): r for r in st["rows"]}
    r = rows[("ann1", "v0")]
    assert r["assigned"] == ["va", "expr"] and r["coverage"]["va"] == 1.0 and r["coverage"]["expr"] == 1.0
    assert r["coverage"]["au"] == 0.0 and r["edits"] == 5
    assert r["seconds"] > 0
    assert 0.8 < r["agreement"]["va_ccc"] < 1.0 and 0.5 < r["agreement"]["expr_kappa"] <= 1.0
    assert rows[("ann1", "v1")]["coverage"]["va"] == 0.0 and rows[("ann1", "v1")]["agreement"] == {}
    assert st["annotators"]["ann1"]["done_videos"] == 1 and st["annotators"]["ann1"]["assigned_videos"] == 3
    code, out, err = cli("project", "status", proj, "--csv")
    table = list(csv.reader(io.StringIO(out)))
    assert table[0][:3] == ["annotator", "video", "assigned"] and len(table) == 1 + 5
    code, out, err = cli("project", "status", proj)
    assert "ann1: 1/3 assigned videos done" in out
    # the agreement cache follows the tracks: ann2 relabels v0 and the next status says so
    assert list((tmp_path / "cache" / "affecttrace" / "status").glob("*.json"))
    b = Project.open(proj, annotator="ann2")
    b.history.push(Edit("v0", "ann2", "va", 0, np.stack([-truth] * 2, axis=1), author="ann2"))
    b.save()
    b.close()
    code, out, err = cli("project", "status", proj, "--json")
    after = {(r["annotator"], r["video"]): r for r in json.loads(out)["rows"]}
    assert after[("ann1", "v0")]["agreement"]["va_ccc"] < 0
    code, out, err = cli("project", "assign", proj, "v0", "-a", "ann2", "--tasks", "expr", "--remove")
    assert read_assignments(proj)["ann2"]["v0"] == ["va"]


def test_team_and_take_over_from_the_command_line(cli, proj: Path, monkeypatch) -> None:
    monkeypatch.setenv("AFFECTTRACE_HOSTNAME", "ws7")
    held = Project.open(proj, annotator="ann3")
    held.new_track("v0", "ann3", TrackSource.human("ann3"))
    held.history.push(set_range("v0", "ann3", "va", 0, 10, (0.5, 0.5)))
    code, out, err = cli("project", "team", proj)
    assert code == 0 and "ann3 · never saved · open on ws7" in out, out
    monkeypatch.setenv("AFFECTTRACE_HOSTNAME", "ws8")
    code, out, err = cli("project", "take-over", proj, "-a", "ann3")  # not a terminal: refuses, says how
    assert code == 1 and "held by ann3 on ws7" in err and "--yes" in err
    code, out, err = cli("project", "take-over", proj, "-a", "ann3", "--yes")
    assert code == 0 and "lane taken and saved" in out, err
    code, out, err = cli("project", "team", proj, "--json")
    me = [x for x in json.loads(out) if x["annotator"] == "ann3"][0]
    assert me["generation"] == 1 and me["holder"] is None
    held._last_lease_check = 0.0
    with pytest.raises(Exception, match="taken over by ann3 on ws8"):
        held.history.push(set_range("v0", "ann3", "va", 10, 20, (0.5, 0.5)))
    held.close()
    r = Project.open(proj, readonly=True)
    np.testing.assert_allclose(r.track("v0", "ann3").va[:10, 0], 0.5)
    r.close()


def _reference_agreement(mine: tuple[np.ndarray, np.ndarray],
                         others: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, float | None]:
    """What the status table's agreement means, frame by frame: VA CCC (population statistics) of each
    dimension with the mean of the others who labelled the frame, averaged; EXPR: Cohen's kappa (sklearn)
    with each other annotator over the frames both labelled, averaged."""
    from sklearn.metrics import cohen_kappa_score

    if not others:
        return {"va_ccc": None, "expr_kappa": None}
    cccs = []
    for d in (0, 1):
        x = mine[0][:, d].astype(np.float64)
        y = np.array([np.mean(v) if (v := [float(o[0][f, d]) for o in others if np.isfinite(o[0][f, d])])
                      else np.nan for f in range(len(x))])
        keep = np.isfinite(x) & np.isfinite(y)
        if keep.sum() >= 2:
            (vx, cov), (_, vy) = np.cov(x[keep], y[keep], bias=True)
            den = vx + vy + (x[keep].mean() - y[keep].mean()) ** 2
            if den > 0:
                cccs.append(2 * cov / den)
    kappas = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # one class only: sklearn says NaN
        for o in others:
            both = (mine[1] >= 0) & (o[1] >= 0)
            if both.any() and np.isfinite(k := cohen_kappa_score(mine[1][both], o[1][both])):
                kappas.append(float(k))
    return {"va_ccc": float(np.mean(cccs)) if cccs else None, "expr_kappa": float(np.mean(kappas)) if kappas else None}


def test_status_agreement_cached_in_the_shared_project(cli, proj: Path, tmp_path: Path, monkeypatch) -> None:
    """Agreement as computed annotator by annotator (gaps, a constant dimension, an EXPR-only and an
    unlabelled-EXPR annotator); the first status leaves it in the project for the other workstations, whose
    first status uses it while every pack is unchanged and recomputes a video once a lane saved it again;
    a damaged shared cache is ignored."""
    rng = np.random.default_rng(3)
    for i in range(4):
        p = Project.open(proj, annotator=f"ann{i}")
        for v in ("v0", "v1"):
            va = np.tanh(np.cumsum(rng.normal(0, 0.05, (N, 2)), axis=0)).astype(np.float32)
            va[rng.integers(0, N):][: N // 4] = np.nan
            expr = np.repeat(rng.integers(-1, 8, N // 20 + 1), 20)[:N].astype(np.int8)
            if i == 1:
                va[:, 1] = 0.25
            if i == 2:
                va[:] = np.nan
            if i == 3:
                expr[:] = -1
            p.new_track(v, p.lane, TrackSource.human(p.lane))
            p.history.push(Edit(v, p.lane, "va", 0, va, author=p.lane))
            p.history.push(Edit(v, p.lane, "expr", 0, expr, author=p.lane))
        p.save()
        p.close()

    def agreements() -> dict[tuple[str, str], dict]:
        code, out, err = cli("project", "status", proj, "--json")
        assert code == 0, err
        return {(r["annotator"], r["video"]): r["agreement"] for r in json.loads(out)["rows"]}

    def reference() -> dict[tuple[str, str], dict]:
        r = Project.open(proj, readonly=True)
        out = {}
        for v in ("v0", "v1"):
            got = {n: (r.track(v, n).va, r.track(v, n).expr) for n in r.track_names(v)}
            for a, x in got.items():
                out[(a, v)] = _reference_agreement(x, [y for b, y in got.items() if b != a])
        r.close()
        return out

    def same(got: dict, want: dict) -> None:
        assert set(got) == set(want)
        for key, w in want.items():
            for m, value in w.items():
                assert (got[key][m] is None) if value is None else got[key][m] == pytest.approx(value, abs=1e-6)

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "ws1"))
    first = agreements()
    same(first, reference())
    assert first[("ann0", "v0")]["va_ccc"] is not None and first[("ann3", "v0")]["expr_kappa"] is None
    shared = proj / "cache" / "status" / "agreement.json"
    cached = json.loads(shared.read_text())
    assert set(cached) == {"v0", "v1"} and all(not Path(s[1]).is_absolute() for s in cached["v0"]["sig"])
    cached["v0"]["agreement"]["ann0"]["va_ccc"] = 0.123  # marks what another workstation takes from the share
    cached["v1"]["agreement"]["ann0"]["va_ccc"] = 0.123
    shared.write_text(json.dumps(cached))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "ws2"))
    assert agreements()[("ann0", "v0")]["va_ccc"] == 0.123
    b = Project.open(proj, annotator="ann1")  # a new save of v1: its entry no longer counts
    b.history.push(set_range("v1", "ann1", "va", 0, 50, (0.9, -0.9)))
    b.save()
    b.close()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "ws3"))
    now, want = agreements(), reference()
    assert now[("ann0", "v0")]["va_ccc"] == 0.123
    same({k: v for k, v in now.items() if k[1] == "v1"}, {k: v for k, v in want.items() if k[1] == "v1"})
    for damaged in (b"{not json", b'{"v0": {"sig": 3, "agreement": []}}', json.dumps(
            {v: dict(e, agreement={"ann0": {"va_ccc": "high"}}) for v, e in cached.items()}).encode()):
        shared.write_bytes(damaged)
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / f"ws-{len(damaged)}"))
        same(agreements(), want)

"""ABAW metrics against scikit-learn / scipy on random data with unlabelled frames."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from core.labels import EXPRESSIONS
from core.metrics import (
    au_scores,
    ccc,
    confusion_matrix,
    evaluate_pairs,
    evaluate_tracks,
    expr_scores,
    multitask_score,
    pearson,
    rmse,
    sagr,
    va_scores,
)
from core.tracks import Track, TrackSource


def _ccc_ref(x: np.ndarray, y: np.ndarray) -> float:
    # the textbook formula via scipy's pearson: CCC = 2 r sx sy / (sx^2 + sy^2 + (mx - my)^2)
    r = stats.pearsonr(x, y)[0]
    sx, sy = x.std(), y.std()
    return 2 * r * sx * sy / (sx**2 + sy**2 + (x.mean() - y.mean()) ** 2)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


def test_va_scores_match_scipy_and_sklearn(rng: np.random.Generator) -> None:
    n = 2000
    ref = np.clip(rng.normal(0, 0.4, (n, 2)), -1, 1)
    pred = 0.7 * ref + rng.normal(0.1, 0.3, (n, 2))  # some values beyond [-1, 1]: clipped
    ref[rng.random(n) < 0.2, 0] = -5.0  # Aff-Wild2 sentinel in one column: unlabelled row
    ref[rng.random(n) < 0.1] = np.nan
    pred[rng.random(n) < 0.05] = np.nan
    s = va_scores(pred, ref)
    keep = np.isfinite(ref).all(1) & (ref != -5).all(1) & np.isfinite(pred).all(1)
    p, r = np.clip(pred[keep], -1, 1), ref[keep]
    assert s["frames"] == keep.sum()
    assert s["frames_missing_pred"] == (np.isfinite(ref).all(1) & (ref != -5).all(1) & ~np.isfinite(pred).all(1)).sum()
    for d, name in enumerate(("valence", "arousal")):
        assert s[f"ccc_{name}"] == pytest.approx(_ccc_ref(p[:, d], r[:, d]), abs=1e-10)
        assert s[f"pearson_{name}"] == pytest.approx(stats.pearsonr(p[:, d], r[:, d])[0], abs=1e-10)
        assert s[f"rmse_{name}"] == pytest.approx(np.sqrt(skm.mean_squared_error(r[:, d], p[:, d])), abs=1e-10)
        assert s[f"sagr_{name}"] == pytest.approx(skm.accuracy_score(r[:, d] >= 0, p[:, d] >= 0), abs=1e-12)
    assert s["score"] == pytest.approx((s["ccc_valence"] + s["ccc_arousal"]) / 2)


def test_ccc_edge_cases() -> None:
    assert np.isnan(ccc([0.3], [0.2]))
    assert np.isnan(ccc([0.0, 0.0], [0.0, 0.0]))  # zero denominator
    assert ccc([0.1, 0.5, -0.2], [0.1, 0.5, -0.2]) == pytest.approx(1.0)
    assert ccc([1, 2, 3], [2, 3, 4]) < pearson([1, 2, 3], [2, 3, 4]) == pytest.approx(1.0)
    assert rmse([0, 1], [0, 0]) == pytest.approx(np.sqrt(0.5))
    assert sagr([0.5, -0.5, 0.2], [0.1, 0.3, np.nan]) == pytest.approx(0.5)


@pytest.mark.parametrize("abaw", [2020, 2022])
def test_expr_scores_match_sklearn(rng: np.random.Generator, abaw: int) -> None:
    k = 7 if abaw == 2020 else 8
    n = 3000
    ref = rng.integers(0, k, n)
    pred = np.where(rng.random(n) < 0.5, ref, rng.integers(0, k, n))
    ref[rng.random(n) < 0.15] = -1
    pred[rng.random(n) < 0.03] = -1
    s = expr_scores(pred, ref, abaw)
    keep = (ref >= 0) & (pred >= 0)
    f1 = skm.f1_score(ref[keep], pred[keep], average="macro")
    acc = skm.accuracy_score(ref[keep], pred[keep])
    assert s["f1"] == pytest.approx(f1, abs=1e-12)
    assert s["accuracy"] == pytest.approx(acc, abs=1e-12)
    assert s["score"] == pytest.approx(0.67 * f1 + 0.33 * acc if abaw == 2020 else f1, abs=1e-12)
    per = skm.f1_score(ref[keep], pred[keep], average=None, labels=list(range(k)))
    assert np.allclose(list(s["per_class_f1"].values()), per)
    assert list(s["per_class_f1"]) == list(EXPRESSIONS[:k])
    assert np.array_equal(s["confusion"], skm.confusion_matrix(ref[keep], pred[keep], labels=list(range(k))))
    assert s["frames"] == keep.sum() and s["frames_missing_pred"] == ((ref >= 0) & (pred < 0)).sum()


def test_expr_macro_skips_absent_classes_like_sklearn() -> None:
    ref = np.array([0, 0, 4, 4, 4, -1])
    pred = np.array([0, 4, 4, 4, 5, 3])
    s = expr_scores(pred, ref, 2022)
    keep = ref >= 0
    assert s["f1"] == pytest.approx(skm.f1_score(ref[keep], pred[keep], average="macro"))
    assert np.isnan(s["per_class_f1"]["Anger"]) and s["per_class_f1"]["Sadness"] == 0.0
    assert confusion_matrix(pred, ref, 8)[4, 5] == 1


@pytest.mark.parametrize("abaw", [2020, 2022])
def test_au_scores_match_sklearn(rng: np.random.Generator, abaw: int) -> None:
    n, k = 2500, 12
    ref = (rng.random((n, k)) < rng.uniform(0.05, 0.5, k)).astype(np.int8)
    prob = np.clip(ref * 0.6 + rng.random((n, k)) * 0.6, 0, 1)
    ref[:, 3] = 0  # an AU never present: F1 0, as sklearn gives it
    ref[rng.random(n) < 0.2] = -1  # unlabelled rows
    prob[:, 3] = 0.1
    s = au_scores(prob, ref, abaw)
    keep = (ref != -1).all(1)
    hard = (prob >= 0.5).astype(int)
    per = [skm.f1_score(ref[keep, j], hard[keep, j], zero_division=0) for j in range(k)]
    acc = skm.accuracy_score(ref[keep].ravel(), hard[keep].ravel())
    assert np.allclose(list(s["per_au_f1"].values()), per)
    assert s["f1"] == pytest.approx(np.mean(per))
    assert s["accuracy"] == pytest.approx(acc)
    assert s["score"] == pytest.approx(0.5 * np.mean(per) + 0.5 * acc if abaw == 2020 else np.mean(per))
    assert s["frames"] == keep.sum()
    assert au_scores(hard, ref, abaw)["score"] == pytest.approx(s["score"])


def test_multitask_and_tracks(rng: np.random.Generator) -> None:
    aus = ("AU1", "AU2", "AU12")
    n = 400
    ref = Track.empty("v1", "gold", TrackSource.human("a"), n, aus)
    ref.va[:] = rng.uniform(-1, 1, (n, 2))
    ref.va[:50] = np.nan
    ref.expr[:] = rng.integers(0, 8, n)
    ref.au[:] = rng.integers(0, 2, (n, 3))
    pred = Track.empty("v1", "model", TrackSource.model("run", "abc"), n + 5, ("AU12", "AU1"))
    pred.va[:n] = ref.va * 0.5
    pred.expr[:n] = ref.expr
    pred.au[:n] = ref.au[:, [2, 0]]
    va = evaluate_tracks(pred, ref, "va")
    assert va["ccc_valence"] < 1 and va["pearson_valence"] == pytest.approx(1.0, abs=1e-6)
    assert va["frames"] == n - 50 and va["frames_pred"] == n + 5
    ex = evaluate_tracks(pred, ref, "expr")
    au = evaluate_tracks(pred, ref, "au")
    assert ex["score"] == 1.0 and au["score"] == 1.0 and list(au["per_au_f1"]) == ["AU1", "AU12"]
    assert multitask_score(va, ex, au) == pytest.approx(va["score"] + 2)
    pooled = evaluate_pairs([(pred, ref), (pred, ref)], "va")
    assert pooled["overall"]["frames"] == 2 * (n - 50)
    assert pooled["overall"]["score"] == pytest.approx(va["score"])

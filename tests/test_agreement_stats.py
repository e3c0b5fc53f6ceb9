"""Agreement statistics against pingouin, krippendorff and scikit-learn; fusion and lag on synthetic traces."""
from __future__ import annotations

import krippendorff  # dev extra: the reference implementation
import numpy as np
import pandas as pd
import pingouin  # dev extra: the reference implementation
import pytest

from core.agreement import (
    cohen_kappa,
    cronbach_alpha,
    estimate_lags,
    ewe_fusion,
    fleiss_kappa,
    icc,
    krippendorff_alpha,
    majority_vote,
    mean_fusion,
    shift,
)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(3)


def _continuous(rng: np.random.Generator, raters: int = 4, n: int = 300) -> np.ndarray:
    truth = rng.normal(0, 1, n)
    x = truth + rng.normal(0, 0.7, (raters, n)) + rng.normal(0, 0.3, (raters, 1))
    x[rng.random((raters, n)) < 0.08] = np.nan
    return x


def test_icc_and_cronbach_match_pingouin(rng: np.random.Generator) -> None:
    x = _continuous(rng)
    long = pd.DataFrame([(i, r, x[r, i]) for r in range(len(x)) for i in range(x.shape[1])],
                        columns=["item", "rater", "score"])
    ref = pingouin.intraclass_corr(long, targets="item", raters="rater", ratings="score", nan_policy="omit")
    ours = icc(x)
    for _, row in ref.iterrows():
        form = row["Type"].replace("A,", "2,").replace("C,", "3,")  # McGraw-Wong -> Shrout-Fleiss names
        assert ours[form] == pytest.approx(row["ICC"], abs=1e-9), form
    wide = pd.DataFrame(x.T)
    assert cronbach_alpha(x) == pytest.approx(pingouin.cronbach_alpha(wide, nan_policy="listwise")[0], abs=1e-9)


def test_krippendorff_matches_package(rng: np.random.Generator) -> None:
    # the package builds value-by-value matrices: few distinct values keep it fast
    x = np.round(_continuous(rng, n=200) * 10) / 10
    assert krippendorff_alpha(x, "interval") == pytest.approx(
        krippendorff.alpha(reliability_data=x, level_of_measurement="interval"), abs=1e-9)
    labels = rng.integers(0, 5, (3, 400))
    same = rng.random(400) < 0.5
    labels[1, same] = labels[0, same]
    labels[rng.random((3, 400)) < 0.1] = -1
    ref = krippendorff.alpha(reliability_data=np.where(labels < 0, np.nan, labels).astype(float),
                             level_of_measurement="nominal")
    assert krippendorff_alpha(labels, "nominal") == pytest.approx(ref, abs=1e-9)


def test_cohen_matches_sklearn_and_fleiss_textbook(rng: np.random.Generator) -> None:
    from sklearn.metrics import cohen_kappa_score

    a = rng.integers(0, 4, 500)
    b = np.where(rng.random(500) < 0.6, a, rng.integers(0, 4, 500))
    a[:30] = -1
    keep = (a >= 0) & (b >= 0)
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a[keep], b[keep]), abs=1e-12)
    # Fleiss (1971) worked example from the literature (Wikipedia "Fleiss' kappa"): 10 items, 14 raters
    counts = np.array([[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
                       [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]])
    ratings = np.stack([np.repeat(np.arange(5), row) for row in counts], axis=1)  # (14 raters, 10 items)
    assert fleiss_kappa(ratings) == pytest.approx(0.210, abs=5e-4)


def test_fusion(rng: np.random.Generator) -> None:
    truth = np.sin(np.linspace(0, 20, 1000))
    good = truth + rng.normal(0, 0.05, 1000)
    noisy = truth + rng.normal(0, 0.8, 1000)
    x = np.stack([good, good + rng.normal(0, 0.05, 1000), noisy])
    x[0, :100] = np.nan
    fused, w = ewe_fusion(x)
    assert w[2] < w[0] and w[2] < w[1]
    assert np.abs(fused - truth).mean() < np.abs(mean_fusion(x) - truth).mean()
    assert np.isfinite(fused).all()
    votes = np.array([[1, 2, -1, 3, -1], [1, 2, 4, -1, -1], [0, 5, -1, 5, -1]])
    assert majority_vote(votes).tolist() == [1, 2, 4, 3, -1]  # tie 3/5 -> smaller label
    assert majority_vote(votes, weights=[0.1, 0.1, 1.0]).tolist() == [1, 2, 4, 5, -1]
    au = np.array([[[1, 0], [0, 0]], [[1, 1], [-1, 0]], [[0, 1], [1, -1]]])  # (raters, n, k)
    assert majority_vote(au).tolist() == [[1, 1], [0, 0]]


def test_lags_on_synthetic_traces(rng: np.random.Generator) -> None:
    fps = 25.0
    n = 4000
    from scipy.ndimage import gaussian_filter1d

    truth = np.stack([gaussian_filter1d(rng.normal(0, 1, n + 400), 20) for _ in range(2)], axis=1)
    truth /= np.abs(truth).max()
    true_lags = {"a": 1.2, "b": 2.6, "c": 1.8}
    traces = {}
    for k, lag in true_lags.items():
        x = shift(truth, -int(round(lag * fps))) + rng.normal(0, 0.1, truth.shape)
        x[rng.integers(0, n) + np.arange(200) % n] = np.nan  # a gap
        traces[k] = x[:n]
    rel = estimate_lags(traces, fps)
    assert rel.relative
    diffs = {k: rel.lags_s[k] - rel.lags_s["a"] for k in true_lags}
    for k in true_lags:
        assert diffs[k] == pytest.approx(true_lags[k] - true_lags["a"], abs=0.2)
    absolute = estimate_lags(traces, fps, reference=truth[:n])
    assert not absolute.relative
    for k, lag in true_lags.items():
        assert absolute.lags_s[k] == pytest.approx(lag, abs=0.2)


def test_lags_on_traces_shorter_than_the_search() -> None:
    short = {"a": np.linspace(-1, 1, 30)[:, None].repeat(2, 1), "b": np.linspace(-1, 1, 30)[:, None].repeat(2, 1)}
    est = estimate_lags(short, 25.0, max_lag_s=6.0)
    assert est.lags_frames == {"a": 0, "b": 0}
    assert np.isnan(shift(np.arange(5.0), -7)).all() and shift(np.arange(5.0), -2).tolist()[2:] == [0, 1, 2]

"""Losses: CCC loss = 1 - CCC with the right gradient, masking, ArcFace/CE/BCE parts, task subsets."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from core.metrics import ccc as ccc_numpy
from core.nn.losses import MultiTaskLoss, au_loss, ccc, ccc_loss, expr_loss


def test_ccc_loss_is_one_minus_mean_ccc() -> None:
    rng = np.random.default_rng(0)
    y = rng.uniform(-1, 1, (200, 2))
    p = 0.6 * y + rng.normal(0, 0.3, (200, 2)) + 0.1
    loss = float(ccc_loss(torch.tensor(p), torch.tensor(y)))
    expected = 1 - (ccc_numpy(p[:, 0], y[:, 0]) + ccc_numpy(p[:, 1], y[:, 1])) / 2
    assert loss == pytest.approx(expected, abs=1e-6)
    assert float(ccc_loss(torch.tensor(y), torch.tensor(y))) == pytest.approx(0.0, abs=1e-6)


def test_ccc_gradient_passes_gradcheck() -> None:
    torch.manual_seed(0)
    x = torch.randn(12, 2, dtype=torch.float64, requires_grad=True)
    y = torch.randn(12, 2, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda a: ccc_loss(a, y), (x,))
    assert torch.autograd.gradcheck(lambda a: ccc(a[:, 0], y[:, 0]), (x,))


def test_masked_losses_ignore_unlabelled_frames() -> None:
    torch.manual_seed(0)
    n = 10
    mask = torch.tensor([True] * 6 + [False] * 4)
    va_p, va_t = torch.randn(n, 2, requires_grad=True), torch.randn(n, 2)
    full = ccc_loss(va_p, va_t, mask)
    assert float(full.detach()) == pytest.approx(float(ccc_loss(va_p[:6].detach(), va_t[:6])), abs=1e-6)
    full.backward()
    assert torch.all(va_p.grad[6:] == 0)
    va_t2 = va_t.clone()
    va_t2[6:] = 100.0  # garbage under the mask changes nothing
    assert float(ccc_loss(va_p.detach(), va_t2, mask)) == pytest.approx(float(full.detach()), abs=1e-6)

    logits, target = torch.randn(n, 8), torch.randint(0, 8, (n,))
    target_bad = target.clone()
    target_bad[6:] = 3
    assert float(expr_loss(logits, target, mask)) == pytest.approx(float(expr_loss(logits[:6], target[:6])))
    assert float(expr_loss(logits, target_bad, mask)) == pytest.approx(float(expr_loss(logits, target, mask)))
    minus = target.clone()
    minus[6:] = -1  # -1 is unlabelled even without a mask
    assert float(expr_loss(logits, minus)) == pytest.approx(float(expr_loss(logits[:6], target[:6])))

    au_l, au_t = torch.randn(n, 5), (torch.rand(n, 5) > 0.5).float()
    assert float(au_loss(au_l, au_t, mask)) == pytest.approx(float(au_loss(au_l[:6], au_t[:6])), abs=1e-6)
    au_t2 = au_t.clone()
    au_t2[0, 1] = -1  # one AU unlabelled in one frame
    keep = torch.ones(n, 5, dtype=torch.bool)
    keep[0, 1] = False
    bce = torch.nn.functional.binary_cross_entropy_with_logits(au_l[keep], au_t[keep])
    assert float(au_loss(au_l, au_t2)) == pytest.approx(float(bce), abs=1e-6)


def test_nothing_labelled_gives_no_loss() -> None:
    none = torch.zeros(4, dtype=torch.bool)
    assert ccc_loss(torch.randn(4, 2), torch.randn(4, 2), none) is None
    assert ccc_loss(torch.randn(1, 2), torch.randn(1, 2)) is None  # CCC needs two frames
    assert expr_loss(torch.randn(4, 8), torch.zeros(4, dtype=torch.long), none) is None
    assert au_loss(torch.randn(4, 3), torch.zeros(4, 3), none) is None


def _batch(n: int = 8, k: int = 4) -> tuple[dict, dict]:
    torch.manual_seed(3)
    out = {"va": torch.randn(n, 2, requires_grad=True), "expr": torch.randn(n, 8, requires_grad=True),
           "au": torch.randn(n, k, requires_grad=True)}
    batch = {"va": torch.rand(n, 2) * 2 - 1, "va_mask": torch.ones(n, dtype=torch.bool),
             "expr": torch.randint(0, 8, (n,)), "expr_mask": torch.ones(n, dtype=torch.bool),
             "au": (torch.rand(n, k) > 0.5).float(), "au_mask": torch.ones(n, dtype=torch.bool)}
    return out, batch


def test_multitask_loss_weights_and_subsets() -> None:
    out, batch = _batch()
    total, parts = MultiTaskLoss(("va", "expr", "au"), {"va": 2.0, "expr": 0.5})(out, batch)
    assert set(parts) == {"va", "expr", "au"}
    v = {k: float(t.detach()) for k, t in parts.items()}
    assert float(total.detach()) == pytest.approx(2 * v["va"] + 0.5 * v["expr"] + v["au"])
    total, parts = MultiTaskLoss(["au"])(out, batch)
    assert set(parts) == {"au"}
    total.backward()
    # heads of tasks not trained still get a (zero) gradient: DDP needs every output in the graph
    assert out["va"].grad is not None and torch.all(out["va"].grad == 0)
    assert torch.any(out["au"].grad != 0)
    with pytest.raises(ValueError):
        MultiTaskLoss(["pose"])


def test_window_outputs_against_per_window_and_per_frame_labels() -> None:
    b, t = 3, 4
    out = {"va": torch.randn(b, t, 2), "expr": torch.randn(b, t, 8), "au": torch.randn(b, t, 5)}
    per_window = {"va": torch.rand(b, 2), "expr": torch.randint(0, 8, (b,)), "au": (torch.rand(b, 5) > .5).float()}
    _, parts = MultiTaskLoss(["va", "expr", "au"])(out, per_window)
    last = {k: v[:, -1] for k, v in out.items()}
    _, ref = MultiTaskLoss(["va", "expr", "au"])(last, per_window)
    for k in parts:
        assert float(parts[k]) == pytest.approx(float(ref[k]), abs=1e-6)
    per_frame = {"va": torch.rand(b, t, 2), "va_mask": torch.ones(b, t, dtype=torch.bool),
                 "expr": torch.randint(0, 8, (b, t)), "au": (torch.rand(b, t, 5) > .5).float()}
    _, parts = MultiTaskLoss(["va", "expr", "au"])(out, per_frame)
    assert float(parts["expr"]) == pytest.approx(float(expr_loss(out["expr"].reshape(-1, 8),
                                                                  per_frame["expr"].reshape(-1))), abs=1e-6)

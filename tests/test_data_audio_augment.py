"""Log-mel (torch) against an independent numpy implementation; augmentation on tensors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from core.data.augment import Augment, normalise, to_float
from core.data.logmel import AudioWindows, log_mel, mel_filterbank


def numpy_log_mel(x: np.ndarray, rate: int, n_fft: int, hop: int, n_mels: int, eps: float = 1e-6) -> np.ndarray:
    """Reference: reflect-padded frames, periodic Hann, |rfft|^2, HTK triangles, natural log."""
    pad = n_fft // 2
    xp = np.pad(x.astype(np.float64), pad, mode="reflect")
    n_frames = 1 + len(x) // hop
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)
    frames = np.stack([xp[j * hop: j * hop + n_fft] * window for j in range(n_frames)])
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2  # (frames, bins)
    mel = lambda f: 2595 * np.log10(1 + f / 700)  # noqa: E731
    edges_mel = np.linspace(mel(0), mel(rate / 2), n_mels + 2)
    edges = 700 * (10 ** (edges_mel / 2595) - 1)
    bins = np.linspace(0, rate / 2, n_fft // 2 + 1)
    fb = np.zeros((n_mels, len(bins)))
    for m in range(n_mels):
        lo, c, hi = edges[m], edges[m + 1], edges[m + 2]
        for k, f in enumerate(bins):
            if lo < f <= c:
                fb[m, k] = (f - lo) / (c - lo)
            elif c < f < hi:
                fb[m, k] = (hi - f) / (hi - c)
    return np.log(fb @ power.T + eps)


@pytest.mark.parametrize("rate,n_fft,hop,n_mels", [(16000, 400, 160, 64), (8000, 256, 80, 40)])
def test_log_mel_matches_numpy_reference(rate, n_fft, hop, n_mels):
    rng = np.random.default_rng(0)
    t = np.arange(int(0.37 * rate)) / rate
    x = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(len(t))).astype(np.float32)
    got = log_mel(torch.from_numpy(x), rate, n_fft=n_fft, hop=hop, n_mels=n_mels).numpy()
    want = numpy_log_mel(x, rate, n_fft, hop, n_mels)
    assert got.shape == want.shape == (n_mels, 1 + len(x) // hop)
    np.testing.assert_allclose(got, want, atol=2e-3, rtol=1e-4)
    # a 440 Hz tone peaks in the filter whose centre is nearest 440 Hz
    fb = mel_filterbank(n_fft // 2 + 1, n_mels, rate)
    assert fb.shape == (n_fft // 2 + 1, n_mels) and float(fb.max()) <= 1.0 + 1e-6
    centres = np.linspace(0, rate / 2, n_fft // 2 + 1)[fb.argmax(0).numpy()]
    assert abs(centres[int(np.argmax(got.mean(1)))] - 440) < 120


def test_audio_windows_pad_at_the_ends():
    mel = torch.arange(10, dtype=torch.float32).repeat(3, 1)  # 3 mels x 10 columns
    w = AudioWindows(mel, np.array([0, 160 * 5, 160 * 9]), hop=160, columns=4)
    assert w.window(1).shape == (1, 3, 4) and w.window(1)[0, 0].tolist() == [3, 4, 5, 6]
    first = w.window(0)[0, 0]
    assert first[2:].tolist() == [0, 1] and (first[:2] < -10).all()  # before the start: log of silence
    assert w.window(2)[0, 0, :3].tolist() == [7, 8, 9] and w.window(2)[0, 0, 3] < -10


def test_augment_shapes_ranges_and_shared_draws():
    g = torch.Generator().manual_seed(0)
    aug = Augment()
    img = torch.rand(3, 112, 112, generator=g)
    for x, batched in ((img, False), (img.expand(5, 3, 112, 112), False), (torch.rand(4, 3, 112, 112), True),
                       (torch.rand(2, 5, 3, 112, 112), True)):
        y = aug(x, batched=batched, generator=g)
        assert y.shape == x.shape and y.dtype == x.dtype
        assert float(y.min()) >= 0 and float(y.max()) <= 1
    # a window shares one draw: identical frames stay identical
    seq = aug(img.expand(6, 3, 112, 112).contiguous(), generator=g)
    assert torch.equal(seq[0], seq[5])
    # different samples of a batch get different draws
    batch = aug(img.expand(4, 3, 112, 112).contiguous(), batched=True, generator=g)
    assert not torch.equal(batch[0], batch[1])


def test_flip_only_is_an_exact_mirror_and_identity_is_exact():
    x = torch.rand(2, 3, 112, 112)
    flip = Augment(flip=1.0, scale=(1, 1), ratio=(1, 1), brightness=0, contrast=0, saturation=0)
    torch.testing.assert_close(flip(x, batched=True), torch.flip(x, dims=[-1]), atol=1e-4, rtol=0)
    keep = Augment(flip=0.0, scale=(1, 1), ratio=(1, 1), brightness=0, contrast=0, saturation=0)
    torch.testing.assert_close(keep(x, batched=True), x, atol=1e-4, rtol=0)


def test_crop_zooms_in_and_jitter_changes_colour_only():
    x = torch.zeros(1, 3, 112, 112)
    x[..., 40:72, 40:72] = 1.0  # a white square in the middle
    zoom = Augment(flip=0.0, scale=(0.25, 0.25), ratio=(1, 1), brightness=0, contrast=0, saturation=0)
    assert float(zoom(x, batched=True).mean()) > float(x.mean())  # the crop holds less black border
    jitter = Augment(flip=0.0, scale=(1, 1), ratio=(1, 1), brightness=0.5, contrast=0.5, saturation=0.5)
    grey = torch.full((8, 3, 16, 16), 0.5)
    y = jitter(grey, batched=True, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(y[:, 0], y[:, 1]) and y.std(dim=0).mean() > 0.01  # still grey, other brightness


def test_to_float_and_normalise():
    crops = torch.randint(0, 256, (2, 112, 112, 3), dtype=torch.uint8)
    f = to_float(crops)
    assert f.shape == (2, 3, 112, 112) and float(f.max()) <= 1.0
    assert torch.equal(f[1, 2], crops[1, :, :, 2].float() / 255)
    n = normalise(torch.full((3, 4, 4), 0.485))
    assert abs(float(n[0, 0, 0])) < 1e-6

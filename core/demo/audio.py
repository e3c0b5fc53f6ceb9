"""The demo's sound: a voice-like buzz whose loudness and pitch follow arousal.

Pitch rises from about 110 Hz (calm) to 280 Hz (excited), loudness grows with arousal, and the
buzz is chopped into syllables (4-6 Hz) while the lips are parted, like speech; breathy noise
bursts come more often when aroused.
"""
from __future__ import annotations

import numpy as np
from scipy.signal import lfilter


def synthesize(arousal: np.ndarray, lips_apart: np.ndarray, fps: float, rate: int,
               rng: np.random.Generator) -> np.ndarray:
    """Mono float32 audio in [-1, 1] covering len(arousal) frames at ``rate`` Hz."""
    n_frames = len(arousal)
    n = int(round(n_frames * rate / fps))
    t_frame = (np.arange(n_frames) + 0.5) / fps
    t = np.arange(n) / rate
    a = np.interp(t, t_frame, (np.asarray(arousal, float) + 1.0) / 2.0).astype(np.float32)  # 0..1
    mouth = np.interp(t, t_frame, np.clip(np.asarray(lips_apart, float), 0, 1)).astype(np.float32)
    del t
    two_pi = 2 * np.pi
    # phases wrapped to one turn (in float64 first) so float32 keeps them exact enough
    phase = (np.cumsum(110.0 + 170.0 * a, dtype=np.float64) * (two_pi / rate) % two_pi).astype(np.float32)
    buzz = np.zeros(n, np.float32)
    for k in range(1, 7):
        buzz += np.sin(k * phase) / k
    del phase
    syll = np.cumsum(4.0 + 2.0 * a, dtype=np.float64) * (two_pi / rate) % two_pi
    syll = 0.5 + 0.5 * np.sin(syll.astype(np.float32))
    voice = buzz * (0.04 + 0.22 * a ** 1.5) * (0.35 + 0.65 * mouth * syll)
    del buzz, syll, mouth, a
    # breathy bursts: low-passed noise gated by a random on/off process, more often when aroused
    gate = rng.random(n_frames) < 0.02 + 0.05 * (np.asarray(arousal, float) + 1.0)
    gate = np.convolve(gate.astype(float), np.ones(5) / 5, mode="same")
    noise = lfilter([0.2], [1.0, -0.8], rng.normal(0, 1, n)).astype(np.float32)
    voice += noise * (0.15 * np.interp(np.arange(n) / rate, t_frame, gate)).astype(np.float32)
    peak = float(np.abs(voice).max(initial=0.0))
    if peak > 0.95:
        voice *= 0.95 / peak
    return voice

"""Log-mel spectrograms with plain torch (torch.stft + a triangular mel filterbank; no torchaudio),
and per-frame windows of them aligned to video frames."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

SAMPLE_RATE = 16000
N_FFT = 400  # 25 ms
HOP = 160  # 10 ms: one spectrogram column per 10 ms
N_MELS = 64
WINDOW_COLUMNS = 64  # 0.64 s of audio around each video frame
LOG_EPS = 1e-6


def hz_to_mel(f: np.ndarray | float) -> np.ndarray | float:
    """HTK mel scale."""
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def mel_to_hz(m: np.ndarray | float) -> np.ndarray | float:
    return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)


def mel_filterbank(n_freqs: int, n_mels: int, sample_rate: int, f_min: float = 0.0,
                   f_max: float | None = None) -> torch.Tensor:
    """(n_freqs, n_mels) triangular filters, equally spaced on the HTK mel scale, peak 1 (no area norm)."""
    f_max = sample_rate / 2 if f_max is None else f_max
    freqs = torch.linspace(0, sample_rate / 2, n_freqs, dtype=torch.float64)
    mels = torch.linspace(float(hz_to_mel(f_min)), float(hz_to_mel(f_max)), n_mels + 2, dtype=torch.float64)
    pts = torch.from_numpy(np.asarray(mel_to_hz(mels.numpy())))
    lower, centre, upper = pts[:-2], pts[1:-1], pts[2:]
    f = freqs.unsqueeze(1)
    up = (f - lower) / (centre - lower)
    down = (upper - f) / (upper - centre)
    return torch.clamp(torch.minimum(up, down), min=0.0).to(torch.float32)


def log_mel(wave: torch.Tensor | np.ndarray, sample_rate: int = SAMPLE_RATE, n_fft: int = N_FFT,
            hop: int = HOP, n_mels: int = N_MELS, eps: float = LOG_EPS) -> torch.Tensor:
    """(samples,) mono audio -> (n_mels, 1 + samples // hop) natural-log mel power spectrogram.

    Column j is centred on sample j * hop (reflect padding at the ends, periodic Hann window).
    """
    x = torch.as_tensor(wave, dtype=torch.float32).reshape(-1)
    if x.numel() <= n_fft // 2:  # too short to reflect-pad: pad with silence first
        x = torch.nn.functional.pad(x, (0, n_fft // 2 + 1 - x.numel()))
    spec = torch.stft(x, n_fft=n_fft, hop_length=hop, window=torch.hann_window(n_fft), center=True,
                      pad_mode="reflect", return_complex=True)
    power = spec.real.square() + spec.imag.square()  # (n_fft // 2 + 1, columns)
    fb = mel_filterbank(n_fft // 2 + 1, n_mels, sample_rate).to(power.dtype)
    return torch.log(fb.T @ power + eps)


@dataclass
class AudioWindows:
    """The log-mel of a whole video's audio, sliced into a window of ``columns`` around each frame.

    ``frame_samples[i]`` is the audio sample at which video frame i starts (MediaReader.sample_of_frame).
    Windows reaching past either end are padded with the log of silence.
    """

    mel: torch.Tensor  # (n_mels, columns_total)
    frame_samples: np.ndarray  # (n_frames,) int64
    hop: int = HOP
    columns: int = WINDOW_COLUMNS

    def window(self, frame: int) -> torch.Tensor:
        """(1, n_mels, columns) log-mel centred on frame ``frame``."""
        c = int(round(self.frame_samples[frame] / self.hop)) - self.columns // 2
        total = self.mel.shape[1]
        lo, hi = max(0, c), min(total, c + self.columns)
        out = torch.full((self.mel.shape[0], self.columns), math.log(LOG_EPS), dtype=self.mel.dtype)
        if hi > lo:
            out[:, lo - c:hi - c] = self.mel[:, lo:hi]
        return out.unsqueeze(0)

    @classmethod
    def from_media(cls, media: str, n_frames: int, sample_rate: int = SAMPLE_RATE, n_mels: int = N_MELS,
                   columns: int = WINDOW_COLUMNS) -> "AudioWindows":
        """Decode a file's audio (PyAV via MediaReader), mono at ``sample_rate``; silence if it has none."""
        from ..media import MediaReader

        with MediaReader(media) as r:
            wave = r.audio(rate=sample_rate, mono=True) if r.info.has_audio else np.zeros(0, np.float32)
            m = min(n_frames, len(r))
            samples = np.array([r.sample_of_frame(i, sample_rate) for i in range(m)], dtype=np.int64)
            if m < n_frames:  # labels past the last decodable frame: continue at the nominal rate
                step = sample_rate / float(r.info.fps)
                start = samples[-1] if m else 0
                extra = start + np.round(np.arange(1, n_frames - m + 1) * step).astype(np.int64)
                samples = np.concatenate([samples, extra])
        return cls(log_mel(wave, sample_rate, n_mels=n_mels), samples, columns=columns)

"""Valence-arousal uncertainty of a multi-task model: Monte-Carlo dropout on the heads.

Why MC-dropout, and why only on the heads: in these networks (core.nn.heads) the one dropout layer
sits in the heads' shared neck, after the backbone; batch norm is frozen at inference. A full
MC-dropout pass would therefore recompute the same backbone features every time, so sampling the
neck's dropout on features computed once IS MC-dropout for this architecture, at the cost of a few
small matrix products (about 1 % of a CPU forward pass for 16 samples, against 16x for
test-time augmentation, which would also need 16 backbone passes). The GRU presets also have dropout
between their GRU layers; it is not sampled, so their spread is a slight under-estimate.

Each of the ``samples`` dropout masks is drawn once (fixed seed) and used for every frame, i.e. the
spread over 16 thinned networks: a frame's figure depends on that frame alone, not on the batch it
came in or the run, so predicting again gives the same track. The reported figure is the standard
deviation of the tanh outputs over the samples, per frame and per dimension (valence, arousal), in
label units.
"""
from __future__ import annotations

import torch
from torch import nn

MC_SAMPLES = 16
MC_SEED = 0


def neck_dropout(heads: nn.Module) -> float:
    """The dropout probability of the heads' neck (0 when it has none)."""
    return float(sum(float(m.p) for m in heads.get_submodule("neck").children() if isinstance(m, nn.Dropout)))


class HeadFeatures:
    """Keeps the input of ``model.heads`` from the last forward pass (a forward pre-hook)."""

    def __init__(self, model: nn.Module) -> None:
        self.features: torch.Tensor | None = None
        self._handle = model.get_submodule("heads").register_forward_pre_hook(self._keep)

    def _keep(self, module: nn.Module, inputs: tuple) -> None:
        self.features = inputs[0].detach()

    def close(self) -> None:
        self._handle.remove()


@torch.no_grad()
def va_std(heads: nn.Module, features: torch.Tensor, samples: int = MC_SAMPLES,
           seed: int = MC_SEED) -> torch.Tensor | None:
    """(N, 2) float32 standard deviation of the VA head over ``samples`` dropout masks on the neck,
    or None when the neck has no dropout (no spread to measure)."""
    p = neck_dropout(heads)
    if p <= 0.0 or samples < 2:
        return None
    was_training = heads.training
    heads.eval()
    try:
        # dropout is the identity in eval mode: the pre-dropout activation
        h = heads.get_submodule("neck")(features.float())
        gen = torch.Generator(device=h.device)
        gen.manual_seed(seed)
        keep = torch.full((samples, 1, h.shape[-1]), 1.0 - p, device=h.device)
        masks = torch.bernoulli(keep, generator=gen) / (1.0 - p)  # the same masks for every frame
        va = torch.tanh(heads.get_submodule("va")(masks * h.unsqueeze(0)))  # (S, N, 2)
        return va.std(dim=0, unbiased=False).float()
    finally:
        heads.train(was_training)

"""The multi-task network: backbone (+ audio CNN) (+ GRU over a window) -> VA, EXPR and AU heads."""
from __future__ import annotations

import torch
from torch import nn

from .audio import AudioCNN, fuse
from .heads import MultiTaskHeads
from .temporal import TemporalGRU


class MultiTaskNet(nn.Module):
    """``forward(image, audio=None, expr_labels=None) -> {'va', 'expr', 'au'}``.

    ``image`` is (B, 3, H, W) or a window (B, T, 3, H, W); window outputs are per frame (B, T, ...).
    ``audio`` is a log-mel (B, 1, M, t) per window/frame or (B, T, 1, M, t) per frame.
    ``expr_labels`` (same leading shape as the outputs) only matter for an ArcFace head in training.
    """

    def __init__(self, backbone: nn.Module, n_expr: int, n_au: int, temporal: bool = False,
                 audio: bool = False, gru_hidden: int = 256, hidden: int = 512, dropout: float = 0.3,
                 arcface: dict | None = None) -> None:
        super().__init__()
        self.backbone = backbone
        feat = int(getattr(backbone, "feature_dim"))  # every backbone module sets it (an int attribute)
        self.audio_net = AudioCNN() if audio else None
        if self.audio_net is not None:
            feat += self.audio_net.feature_dim
        self.temporal = TemporalGRU(feat, gru_hidden) if temporal else None
        if self.temporal is not None:
            feat = self.temporal.feature_dim
        self.heads = MultiTaskHeads(feat, n_expr, n_au, hidden, dropout, arcface)
        self.n_expr, self.n_au = n_expr, n_au

    def forward(self, image: torch.Tensor, audio: torch.Tensor | None = None,
                expr_labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        windowed = image.dim() == 5
        if not windowed:
            image = image.unsqueeze(1)
        b, t = image.shape[:2]
        feats = self.backbone(image.flatten(0, 1)).view(b, t, -1)
        if self.audio_net is not None:
            if audio is None:
                raise ValueError("this model fuses audio: the batch needs an 'audio' log-mel tensor")
            if audio.dim() == 5:
                a = self.audio_net(audio.flatten(0, 1)).view(b, t, -1)
            else:
                a = self.audio_net(audio)
            feats = fuse(feats, a)
        if self.temporal is not None:
            feats = self.temporal(feats)
        if expr_labels is not None and expr_labels.dim() == 1:
            expr_labels = expr_labels.unsqueeze(1).expand(b, t) if windowed else expr_labels.unsqueeze(1)
        out = self.heads(feats.flatten(0, 1), None if expr_labels is None else expr_labels.reshape(-1))
        return {k: (v.view(b, t, -1) if windowed else v) for k, v in out.items()}

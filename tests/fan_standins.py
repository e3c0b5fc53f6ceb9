"""Stand-in weights for face-alignment's S3FD and 2D-FAN, of the right shapes (the real ones cannot be
downloaded here): they check our use of its API and our weights folders, not landmark quality. The
detector's class layers say "background" everywhere, so S3FD runs and finds nothing.

Also a script for the packaged build's smoke test: ``python tests/fan_standins.py FOLDER``.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path


def write_fan_standins(folder: Path) -> tuple[Path, Path]:
    """Write s3fd-619a316812.pth and 2DFAN4-11f355bf06.pth.tar into ``folder``; returns their paths."""
    import torch
    from face_alignment.detection.sfd.net_s3fd import s3fd
    from face_alignment.models import FAN

    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    detector = s3fd().state_dict()
    for k in [k for k in detector if "mbox_conf" in k]:
        detector[k].zero_()
        if k.endswith("bias"):
            detector[k][:-1], detector[k][-1] = 10.0, -10.0  # the last channel is "face"
    paths = folder / "s3fd-619a316812.pth", folder / "2DFAN4-11f355bf06.pth.tar"
    torch.save(detector, paths[0])
    torch.save(FAN(4).state_dict(), paths[1])
    return paths


if __name__ == "__main__":
    os.environ.setdefault("NUMBA_DISABLE_JIT", "1")
    for p in write_fan_standins(Path(sys.argv[1])):
        print(p)

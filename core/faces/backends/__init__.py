"""Face backends: ``dlib`` (offline), ``fan`` (face-alignment), ``reference`` (given landmarks), ``auto``."""
from __future__ import annotations

from pathlib import Path

from ...errors import AffectTraceError
from ...words import FACE_BACKENDS as BACKENDS
from .base import Face, FaceBackend, box_of_landmarks, follow_box, iou
from .reference_backend import REFERENCE_FILE, ReferenceBackend, load_reference


def resolve_backend_name(name: str) -> str:
    """'auto' -> 'fan' when face-alignment and its weights are present, else 'dlib'."""
    if name not in BACKENDS:
        raise AffectTraceError(f"unknown face backend {name!r}; choose one of {', '.join(BACKENDS)}")
    if name != "auto":
        return name
    from .fan_backend import fan_available

    return "fan" if fan_available() else "dlib"


def make_backend(name: str = "auto", *, reference: str | Path | ReferenceBackend | None = None,
                 video: str | None = None, allow_download: bool = False, device: str | None = None) -> FaceBackend:
    """Build a backend by name. ``reference`` (a file or a ReferenceBackend) is needed for 'reference'."""
    name = resolve_backend_name(name)
    if name == "dlib":
        from .dlib_backend import DlibBackend

        return DlibBackend()
    if name == "fan":
        from .fan_backend import FanBackend

        return FanBackend(device=device, allow_download=allow_download)
    if isinstance(reference, ReferenceBackend):
        return reference
    if reference is None:
        raise AffectTraceError("the reference backend needs a landmarks file (e.g. the demo's ground_truth.h5)")
    return load_reference(reference, video)


__all__ = ["BACKENDS", "Face", "FaceBackend", "REFERENCE_FILE", "ReferenceBackend", "box_of_landmarks",
           "follow_box", "iou", "load_reference", "make_backend", "resolve_backend_name"]

"""Face pipeline: detect, track, 68 landmarks -> 5 points -> aligned 112x112 crops in a per-video cache.

No torch here: only the ``fan`` backend imports it, when it is built.
"""
from .align import CROP_SIZE, TEMPLATE_112, alignment_matrix, five_points, similarity_transform, warp_face
from .backends import BACKENDS, Face, FaceBackend, ReferenceBackend, load_reference, make_backend
from .cache import FaceCache
from .cache_writer import FaceCacheWriter
from .pipeline import (
                       DEFAULT_EVERY,
                       FaceRun,
                       default_media_cache,
                       face_cache_path,
                       open_face_cache,
                       process_project,
                       process_video,
)
from .tracker import FaceTracker, TrackStep, choose_face

__all__ = [
    "BACKENDS", "CROP_SIZE", "DEFAULT_EVERY", "Face", "FaceBackend", "FaceCache", "FaceCacheWriter", "FaceRun",
    "FaceTracker", "ReferenceBackend", "TEMPLATE_112", "TrackStep", "alignment_matrix", "choose_face",
    "default_media_cache", "face_cache_path", "five_points", "load_reference", "make_backend",
    "open_face_cache", "process_project", "process_video", "similarity_transform", "warp_face",
]

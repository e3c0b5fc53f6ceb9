"""Frame-exact media access (PyAV): probing, random access by frame index, audio, writing.

``probe(path)`` gives a :class:`MediaInfo`; ``check_media(path)`` says whether a file is a usable video
and what is wrong with it; :class:`MediaReader` reads frames by index (exact, cached, read ahead) and
the audio track; :func:`write_video` encodes frames (and audio).
"""
from .check import MediaCheck, check_media, require_video
from .info import MediaInfo, probe
from .reader import FrameRangeError, MediaReader
from .writer import as_fraction, write_video

__all__ = ["MediaCheck", "MediaInfo", "MediaReader", "check_media", "FrameRangeError", "probe", "require_video",
           "write_video", "as_fraction"]

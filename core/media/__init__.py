"""Frame-exact media access (PyAV): probing, random access by frame index, audio, writing.

``probe(path)`` gives a :class:`MediaInfo`; :class:`MediaReader` reads frames by index (exact,
cached, read ahead) and the audio track; :func:`write_video` encodes frames (and audio).
"""
from .info import MediaInfo, probe
from .reader import FrameRangeError, MediaReader
from .writer import as_fraction, write_video

__all__ = ["MediaInfo", "MediaReader", "FrameRangeError", "probe", "write_video", "as_fraction"]

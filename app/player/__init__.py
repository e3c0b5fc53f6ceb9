"""Video player: a decode thread with read-ahead, an audio (or wall) clock, and the Qt controller."""
from .player import PlaybackStats, Player

__all__ = ["PlaybackStats", "Player"]

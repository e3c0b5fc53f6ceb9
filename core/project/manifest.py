"""project.json: the human-readable manifest (name, AU set, annotators, videos by relative path)."""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field, fields
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..errors import ProjectError
from ..fsio import atomic_write_bytes
from ..labels import AUSet, au_set
from ..safepaths import check_name, excerpt, name_problem, require_file

MANIFEST_NAME = "project.json"
FORMAT = "affecttrace-project"
FORMAT_VERSION = 1
MAX_FRAMES = 10_000_000  # 46 hours at 60 fps; a track of more would not fit in memory anyway
MAX_FPS = 1000
TORN_READ_WAITS = (0.1, 0.2, 0.4, 0.8, 1.2, 0)  # ~3 s: past the 1 s attribute caches of NFS/FUSE defaults


@dataclass
class VideoEntry:
    """One video of a project. ``media`` is relative to the project folder where the file lies inside it."""

    name: str
    media: str
    fps: str
    frame_count: int
    duration_s: float = 0.0
    width: int = 0
    height: int = 0
    has_audio: bool = False
    audio_rate: int | None = None
    split: str = "train"
    subject: str | None = None
    crops: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # what the media check found (truncated, decode errors...)

    @property
    def fps_fraction(self) -> Fraction:
        return Fraction(self.fps)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        del d["name"]
        return d

    @classmethod
    def from_dict(cls, name: str, d: dict[str, Any], source: Path | None = None) -> "VideoEntry":
        """Build from the manifest; a missing or mistyped field is a ProjectError naming ``source``."""
        if not isinstance(d, dict):
            raise ProjectError(f"video {name!r}: expected an object, got {type(d).__name__}", source)
        known = {f.name for f in fields(cls)} - {"name"}
        for key in ("media", "fps", "frame_count"):
            if key not in d:
                raise ProjectError(f"video {name!r}: missing field {key!r}", source)
        try:
            kw = {k: v for k, v in d.items() if k in known}
            entry = cls(name=str(name), **kw)
            entry.frame_count = int(entry.frame_count)
            entry.fps = fps_text(entry.fps)
            entry.duration_s = float(entry.duration_s)
            entry.width, entry.height = int(entry.width), int(entry.height)
            entry.has_audio = bool(entry.has_audio)
            entry.audio_rate = None if entry.audio_rate is None else int(entry.audio_rate)
            if not isinstance(entry.media, str) or not isinstance(entry.extra, dict):
                raise TypeError("'media' must be a string and 'extra' an object")
            if not isinstance(entry.problems, list) or not all(isinstance(x, str) for x in entry.problems):
                raise TypeError("'problems' must be a list of text")
        except (TypeError, ValueError, ZeroDivisionError) as e:
            raise ProjectError(f"video {excerpt(name)}: {e}", source) from e
        problem = entry.problem()
        if problem:
            raise ProjectError(problem, source)
        return entry

    def problem(self) -> str | None:
        """What makes this entry unusable (a hostile name, an impossible size), in words; None when fine."""
        bad = name_problem(self.name)
        if bad:
            return f"video name {bad}"
        bad = name_problem(self.split)
        if bad:
            return f"video {self.name!r}: split {bad}"
        if not 0 <= self.frame_count <= MAX_FRAMES:
            return (f"video {self.name!r}: frame_count {self.frame_count} is not plausible "
                    f"(0 to {MAX_FRAMES:,} frames)")
        if Fraction(self.fps) > MAX_FPS:
            return f"video {self.name!r}: frame rate {self.fps} is above {MAX_FPS} fps"
        if not (0 <= self.duration_s < 1e9) or not (0 <= self.width <= 65536 and 0 <= self.height <= 65536):
            return f"video {self.name!r}: impossible duration or size"
        return None


def fps_text(fps: Fraction | str | int | float) -> str:
    """Any frame-rate spelling -> exact 'num/den' text ('25' -> '25/1', 29.97 -> '30000/1001')."""
    if isinstance(fps, float):
        f = Fraction(fps).limit_denominator(1001)
    else:
        f = Fraction(fps)
    if f <= 0:
        raise ValueError(f"frame rate must be positive, got {fps!r}")
    return f"{f.numerator}/{f.denominator}"


def relative_media(folder: Path, media: str | Path) -> str:
    """Store a media path relative to the project folder when it lies inside it, else absolute."""
    p = Path(media).expanduser()
    if not p.is_absolute():
        p = Path.cwd() / p
    p = Path(os.path.abspath(p))
    root = Path(os.path.abspath(folder))
    try:
        return p.relative_to(root).as_posix()
    except ValueError:
        return str(p)


def resolve_media(folder: Path, media: str) -> Path:
    p = Path(media)
    return p if p.is_absolute() else folder / p


@dataclass
class Manifest:
    name: str
    au_set: AUSet
    annotators: list[str] = field(default_factory=list)
    videos: dict[str, VideoEntry] = field(default_factory=dict)
    created: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> bytes:
        d = {"format": FORMAT, "version": FORMAT_VERSION, "name": self.name, "created": self.created,
             "au_set": self.au_set.to_dict(), "annotators": list(self.annotators),
             "videos": {n: v.to_dict() for n, v in self.videos.items()}}
        if self.extra:
            d["extra"] = self.extra
        return (json.dumps(d, indent=1, ensure_ascii=False) + "\n").encode("utf-8")

    def save(self, folder: Path) -> None:
        atomic_write_bytes(folder / MANIFEST_NAME, self.to_json())

    @classmethod
    def load(cls, folder: Path, settle: bool = False) -> "Manifest":
        """``settle`` (a project several workstations write): a file that does not parse is read again for
        up to ~3 s before it is called malformed."""
        path = folder / MANIFEST_NAME
        if not os.path.lexists(path):
            raise ProjectError("not an AffectTrace project (no project.json)", folder)
        require_file(path, ProjectError)
        for wait in TORN_READ_WAITS if settle else (0,):
            # another workstation replaces project.json by rename; through a network or FUSE mount's caches a
            # read can mix the old file's size with the new one's bytes for a moment: read it again
            try:
                raw = path.read_bytes()
            except OSError as e:
                raise ProjectError(f"cannot read: {e.strerror or e}", path) from e
            try:
                json.loads(raw.decode("utf-8"))
                break
            except ValueError:
                time.sleep(wait)
        try:
            d = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as e:
            raise ProjectError(f"not UTF-8 text ({e.reason} at byte {e.start})", path) from e
        except json.JSONDecodeError as e:
            raise ProjectError(f"malformed JSON at line {e.lineno} column {e.colno}: {e.msg}", path) from e
        return cls.from_dict(d, path)

    @classmethod
    def from_dict(cls, d: Any, path: Path) -> "Manifest":
        if not isinstance(d, dict):
            raise ProjectError("expected a JSON object at the top level", path)
        if d.get("format") != FORMAT:
            raise ProjectError(f"not an AffectTrace manifest ('format' is {d.get('format')!r}, expected {FORMAT!r})",
                               path)
        version = d.get("version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise ProjectError(f"unsupported manifest version {version!r} (this AffectTrace reads up to "
                               f"{FORMAT_VERSION})", path)
        try:
            aus = d.get("au_set", "affwild2-12")
            aus = au_set(aus) if isinstance(aus, (str, list)) else AUSet.from_dict(aus)
        except (KeyError, TypeError, ValueError) as e:
            raise ProjectError(f"bad 'au_set': {e}", path) from e
        annotators = d.get("annotators", [])
        if not isinstance(annotators, list):
            raise ProjectError("'annotators' must be a list of names", path)
        for a in annotators:
            check_name(a, "annotator name", path, ProjectError)
        videos = d.get("videos", {})
        if not isinstance(videos, dict):
            raise ProjectError("'videos' must be an object mapping names to entries", path)
        entries = {str(n): VideoEntry.from_dict(str(n), v, path) for n, v in videos.items()}
        extra = d.get("extra", {})
        return cls(str(d.get("name") or path.parent.name), aus, list(annotators), entries,
                   str(d.get("created", "")), extra if isinstance(extra, dict) else {})

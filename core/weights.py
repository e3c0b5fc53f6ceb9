"""Model weight files: the per-user folder, the system-wide folder every user of the machine sees, what
they hold (with SHA-256), and installing a file there after checking it. Nothing is ever downloaded.

- per-user: torch's hub checkpoints folder (``$TORCH_HOME/hub/checkpoints``, default
  ``~/.cache/torch/hub/checkpoints``), where face-alignment looks for its weights;
- system-wide: ``$AFFECTTRACE_SYSTEM_WEIGHTS``, default ``/opt/affecttrace/weights`` (Linux; see
  ``SYSTEM_DEFAULTS``), written by an administrator, read by everyone. The per-user folder wins.

Known files (the fan backend's, dlib's 68-point model) are checked by name, published hash prefix and
(torch files) loadability; any other file (a lab checkpoint, backbone weights) by loading it safely
(``core.nn.weightfile``, which imports torch: this module does not).

The packaged build carries dlib's model compressed (``NAME.xz``): ``unpacked`` gives the plain file
from either folder, unpacking it there once on first use (``affecttrace weights unpack`` does it ahead,
as the .deb does on install).
"""
from __future__ import annotations

import hashlib
import lzma
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable

from .errors import AffectTraceError
from .safepaths import check_name, require_file

SYSTEM_ENV = "AFFECTTRACE_SYSTEM_WEIGHTS"
SYSTEM_DEFAULTS = {"linux": "/opt/affecttrace/weights",
                   "darwin": "/Library/Application Support/AffectTrace/weights",
                   "win32": os.path.join(os.environ.get("PROGRAMDATA", r"C:\ProgramData"), "AffectTrace", "weights")}
FOLDERS = ("user", "system")


class WeightsError(AffectTraceError):
    """A weights file that is missing, unreadable, not what its name says, or cannot be installed."""


@dataclass(frozen=True)
class Known:
    name: str
    use: str
    sha256_prefix: str  # the torch.hub convention: the hex digits after the last '-' of the name
    torch_file: bool = True  # loaded with torch.load (checked that way too)


DLIB_MODEL = "shape_predictor_68_face_landmarks.dat"
KNOWN: dict[str, Known] = {k.name: k for k in (
    Known("s3fd-619a316812.pth", "fan backend: S3FD face detector", "619a316812"),
    Known("2DFAN4-11f355bf06.pth.tar", "fan backend: 2D-FAN-4 68-point landmarks", "11f355bf06"),
    Known(DLIB_MODEL, "dlib backend: 68-point landmarks", "fbdc2cb80e", torch_file=False),
)}
FAN_WEIGHT_FILES: tuple[str, ...] = ("s3fd-619a316812.pth", "2DFAN4-11f355bf06.pth.tar")
PACKED = ".xz"


@dataclass(frozen=True)
class WeightFile:
    name: str
    folder: str  # "user" or "system"
    path: Path
    size: int
    sha256: str
    use: str  # what it is for (known files) or "" until checked

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "folder": self.folder, "path": str(self.path), "size": self.size,
                "sha256": self.sha256, "use": self.use}


def user_folder() -> Path:
    """torch.hub's checkpoints folder, computed as torch does (without importing it)."""
    home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "torch")
    return Path(os.path.expanduser(home)) / "hub" / "checkpoints"


def system_folder() -> Path:
    return Path(os.environ.get(SYSTEM_ENV) or SYSTEM_DEFAULTS.get(sys.platform, SYSTEM_DEFAULTS["linux"]))


def folder(which: str) -> Path:
    if which not in FOLDERS:
        raise WeightsError(f"unknown weights folder {which!r}; choose one of {', '.join(FOLDERS)}")
    return user_folder() if which == "user" else system_folder()


def find(name: str) -> Path | None:
    """The file called ``name`` in the per-user folder, else in the system-wide one, else None."""
    for which in FOLDERS:
        p = folder(which) / name
        if p.is_file():
            return p
    return None


def missing_fan() -> list[str]:
    """The fan backend's weight files found in neither folder."""
    return [n for n in FAN_WEIGHT_FILES if find(n) is None]


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def listing() -> list[WeightFile]:
    """Every regular file in both folders (hidden and partial files left out), user folder first."""
    out = []
    for which in FOLDERS:
        base = folder(which)
        if not base.is_dir():
            continue
        for p in sorted(base.iterdir()):
            if p.name.startswith(".") or not p.is_file():
                continue
            known = KNOWN.get(p.name)
            out.append(WeightFile(p.name, which, p, p.stat().st_size, sha256(p), known.use if known else ""))
    return out


def check(path: str | Path, name: str | None = None) -> str:
    """What the file is (one line), or WeightsError naming the file and the problem. ``name`` is the
    name it will be installed under: a known name must carry the published content."""
    p = require_file(path, WeightsError)
    if p.stat().st_size == 0:
        raise WeightsError("is empty", p)
    known = KNOWN.get(name or p.name)
    if known is not None:
        digest = sha256(p)
        if not digest.startswith(known.sha256_prefix):
            raise WeightsError(f"SHA-256 {digest[:10]}... does not match {known.name} (published hash starts "
                               f"{known.sha256_prefix}): a different or damaged file", p)
        if not known.torch_file:
            return known.use
    from .nn.weightfile import describe  # torch only here, when a file is checked

    what = describe(p)
    return f"{known.use}; {what}" if known else what


def install(path: str | Path, to: str = "system", name: str | None = None,
            force: bool = False) -> tuple[WeightFile, str]:
    """Check ``path`` and copy it into the ``to`` folder (atomically, readable by everyone).

    Returns the installed entry and what the check found. An existing file of the same name and
    content is left as it is; one with other content is replaced only with ``force``."""
    src = Path(path)
    target_name = check_name(name or src.name, "weights file name", src, WeightsError)
    if target_name.startswith("."):
        raise WeightsError(f"weights file name {target_name!r} starts with a dot (hidden files are not listed)", src)
    what = check(src, target_name)
    dest_dir = folder(to)
    dest = dest_dir / target_name
    digest = sha256(src)
    if dest.is_file() and not force:
        if sha256(dest) == digest:
            return _entry(dest, to, digest), what
        raise WeightsError(f"{target_name} already exists there with other content (use --force to replace it)",
                           dest)
    _write(dest, to, lambda: open(src, "rb"))
    return _entry(dest, to, digest), what


def _write(dest: Path, to: str, source: Callable[[], BinaryIO | lzma.LZMAFile]) -> None:
    """Copy what ``source()`` reads into ``dest`` atomically (a hidden partial file, then a rename),
    readable by everyone."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
        try:
            with os.fdopen(fd, "wb") as out, source() as inp:
                shutil.copyfileobj(inp, out, 1 << 20)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, dest)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except PermissionError:
        hint = ("; install as an administrator (sudo affecttrace weights install FILE) or use --user for "
                "your own folder") if to == "system" else ""
        raise WeightsError(f"cannot write here: permission denied{hint}", dest.parent) from None
    except OSError as e:
        raise WeightsError(f"cannot write here: {e.strerror or e}", dest.parent) from None


def _writable(path: Path) -> bool:
    """Whether this user could create files in ``path`` (made if missing)."""
    while not path.exists() and path.parent != path:
        path = path.parent
    return path.is_dir() and os.access(path, os.W_OK | os.X_OK)


def unpack(packed: Path, to: str | None = None) -> WeightFile:
    """Unpack ``NAME.xz`` (a known file the packaged build carries compressed) into the ``to`` folder
    (None: the system-wide one where this user may write there, else the user's), checked by its
    published hash. A copy already there with the right content is kept."""
    name = packed.name.removesuffix(PACKED)
    known = KNOWN.get(name)
    if known is None or not packed.name.endswith(PACKED):
        raise WeightsError(f"not a packed weights file this build knows ({', '.join(KNOWN)})", packed)
    to = to or ("system" if _writable(system_folder()) else "user")
    dest = folder(to) / name
    if not dest.is_file() or not sha256(dest).startswith(known.sha256_prefix):
        try:
            _write(dest, to, lambda: lzma.open(packed, "rb"))
        except (lzma.LZMAError, EOFError) as e:
            raise WeightsError(f"cannot be unpacked: {e}", packed) from None
        digest = sha256(dest)
        if not digest.startswith(known.sha256_prefix):
            dest.unlink()
            raise WeightsError(f"unpacks to SHA-256 {digest[:10]}..., not {known.name}'s: a damaged archive", packed)
    return _entry(dest, to, sha256(dest))


def unpacked(packed: Path, note: Callable[[str], None]) -> Path:
    """The plain file ``NAME.xz`` holds, from either folder; unpacked once if neither has it (``note``
    is told where first)."""
    name = packed.name.removesuffix(PACKED)
    found = find(name)
    if found is not None:
        return found
    to = "system" if _writable(system_folder()) else "user"
    note(f"unpacking {name} into {folder(to)} (once)")
    return unpack(packed, to).path


def _entry(path: Path, which: str, digest: str) -> WeightFile:
    known = KNOWN.get(path.name)
    return WeightFile(path.name, which, path, path.stat().st_size, digest, known.use if known else "")

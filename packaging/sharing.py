"""Libraries that several wheels each bring their own copy of, made one (finish.py steps 1, 2, 7).

- OpenCV's module links FFmpeg, like PyAV, and libavif, like Pillow, under other file names: where
  PyAV's (Pillow's) copy has the same ABI (soname major version), is the same release or a newer one
  of it, and exports every symbol OpenCV takes from its own, cv2 is pointed at that copy (patchelf).
  FFmpeg keeps its ABI within a major version, so the next PyAV's patch release still qualifies.
- OpenCV's module takes BLAS and LAPACK from SciPy's OpenBLAS (the same routines under a ``scipy_``
  prefix: its imports are renamed) instead of its own 39 MB copy.
- SciPy's modules share one build of GCC's Fortran runtime.
- Identical files under two names, and one vendored library in several wheels' folders, become one
  file and links.
- Vendored copies of the X11 client libraries (libxcb and its shape/shm/xfixes extensions, libXau)
  give way to the host's, which Qt's xcb plugin links anyway.
"""
from __future__ import annotations

import hashlib
import os
import re
import subprocess
import tempfile
from pathlib import Path

from elf import dynamic_symbols, elf_files, forget, needed, search_dirs
from stubs import imports_from

# Libraries OpenCV's module links that another package bundles in the same release.
DONORS = {"av.libs": ("avcodec", "avformat", "avutil", "avdevice", "avfilter", "swscale", "swresample"),
          "pillow.libs": ("avif",)}
_VENDORED = re.compile(r"^lib(?P<name>[A-Za-z0-9_]+)(?:-[0-9a-f]{8})+\.so\.(?P<version>[0-9.]+)$")
BLAS = ("opencv_python.libs/libopenblas*.so", "scipy.libs/libscipy_openblas-*.so", "scipy_")


def _release(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in version.split(".") if x.isdigit())


def _by_name_major(folder: Path) -> dict[tuple[str, int], tuple[tuple[int, ...], Path]]:
    """Vendored libraries of ``folder`` by (name, soname major version): (release, file), the newest."""
    found: dict[tuple[str, int], tuple[tuple[int, ...], Path]] = {}
    for lib in sorted(folder.iterdir()) if folder.is_dir() else ():
        m = _VENDORED.match(lib.name)
        if m:
            release = _release(m["version"])
            if found.get((m["name"], release[0]), ((-1,), lib))[0] < release:
                found[(m["name"], release[0])] = (release, lib)
    return found


def _twin(module: Path, own: Path, name: str, release: tuple[int, ...],
          have: dict[tuple[str, int], tuple[tuple[int, ...], Path]]) -> tuple[Path | None, str]:
    """The donor's copy that ``module`` may link instead of ``own`` (lib``name`` ``release``), or
    None and why not."""
    twin_release, twin = have.get((name, release[0]), ((), None))
    if twin is None:
        return None, f"no lib{name}.so.{release[0]} there (another ABI)"
    if twin_release < release:
        return None, f"{twin.name} is older than {own.name}"
    exported = {(s.name, s.version) for s in dynamic_symbols(twin) if s.defined}
    missing = [s.name for s in imports_from(own, [module]) if (s.name, s.version) not in exported]
    if missing:
        return None, f"{twin.name} lacks {', '.join(missing[:3])}"
    return twin, ""


def _cv2(internal: Path) -> Path | None:
    return next(iter(sorted((internal / "cv2").glob("cv2*.so"))), None)


def _add_rpath(patchelf: str, binary: Path, entries: list[str]) -> None:
    old = subprocess.run([patchelf, "--print-rpath", str(binary)], capture_output=True, text=True,
                         check=True).stdout.strip()
    have = [e for e in old.split(":") if e]
    subprocess.run([patchelf, "--set-rpath", ":".join(have + [e for e in entries if e not in have]), str(binary)],
                   check=True)


def dedupe_opencv(internal: Path, patchelf: str) -> list[str]:
    """Point cv2 at PyAV's FFmpeg and Pillow's libavif where they can stand in for its own (same ABI,
    same or newer release, every symbol it takes): a whole group or nothing; OpenCV's own copies then
    go with the pruning. Returns what changed, or why a group stays."""
    module = _cv2(internal)
    if module is None:
        return []
    swaps: list[tuple[str, str, str]] = []
    kept: list[str] = []
    for donor, names in DONORS.items():
        have = _by_name_major(internal / donor)
        group = []
        for name in needed(module):
            m = _VENDORED.match(name)
            own = next(iter(internal.glob(f"*/{name}")), None)
            if not m or m["name"] not in names or own is None:
                continue
            twin, why = _twin(module, own, m["name"], _release(m["version"]), have)
            if twin is None:  # another ABI or an older release: OpenCV keeps its own copy of the group
                kept.append(f"cv2 keeps its own {'/'.join(names)} from {own.parent.name}: {why}")
                group = []
                break
            group.append((name, twin.name, donor))
        swaps += group
    swaps = [(old, new, donor) for old, new, donor in swaps if old != new]
    for old, new, _ in swaps:
        subprocess.run([patchelf, "--replace-needed", old, new, str(module)], check=True)
    if swaps:
        _add_rpath(patchelf, module, [f"$ORIGIN/../{d}" for d in DONORS])
    forget(module)
    return [f"{old} -> {donor}/{new}" for old, new, donor in swaps] + kept


# X11 client libraries that wheels vendor and Qt's xcb plugin takes from the host anyway (the .deb
# depends on their packages): PyAV's copies are 6.3 MB each, their segments 2 MiB-aligned.
HOST_X11 = ("xcb", "xcb-shape", "xcb-shm", "xcb-xfixes", "Xau")
_VENDORED_ANY = re.compile(r"^lib(?P<name>[A-Za-z0-9_-]+?)(?:-[0-9a-f]{8})+\.so\.(?P<major>\d+)")


def link_host_x11(internal: Path, patchelf: str) -> list[str]:
    """Every binary that links a vendored copy of a HOST_X11 library links the host's instead (its
    soname: same major version); the copies then go with the pruning. Returns what changed."""
    changed: dict[str, str] = {}
    for f in elf_files(internal):
        for name in needed(f):
            m = _VENDORED_ANY.match(name)
            if m and m["name"] in HOST_X11:
                host = f"lib{m['name']}.so.{m['major']}"
                subprocess.run([patchelf, "--replace-needed", name, host, str(f)], check=True)
                changed[name] = host
        forget(f)
    return [f"{old} -> the host's {new}" for old, new in sorted(changed.items())]


def share_blas(internal: Path, patchelf: str) -> list[str]:
    """cv2 takes its BLAS/LAPACK routines from SciPy's OpenBLAS when that exports every one it uses."""
    module = _cv2(internal)
    own = next(iter(internal.glob(BLAS[0])), None)
    scipy = next(iter(internal.glob(BLAS[1])), None)
    if module is None or own is None or scipy is None or own.name not in needed(module):
        return []
    used = imports_from(own, [module])
    exported = {s.name for s in dynamic_symbols(scipy) if s.defined}
    missing = [s.name for s in used if BLAS[2] + s.name not in exported]
    if missing:
        return [f"cv2 keeps {own.name}: {scipy.name} lacks {', '.join(missing[:5])}"]
    with tempfile.NamedTemporaryFile("w", suffix=".renames") as renames:
        renames.write("".join(f"{s.name} {BLAS[2]}{s.name}\n" for s in used))
        renames.flush()
        subprocess.run([patchelf, "--rename-dynamic-symbols", renames.name, str(module)], check=True)
    subprocess.run([patchelf, "--replace-needed", own.name, scipy.name, str(module)], check=True)
    _add_rpath(patchelf, module, [f"$ORIGIN/../{scipy.parent.name}"])
    forget(module)
    return [f"cv2 takes {len(used)} BLAS/LAPACK routines from {scipy.parent.name}/{scipy.name}"]


_RUNTIME = re.compile(r"^lib(?P<name>gfortran|quadmath)(-[0-9a-f]{8})+\.so\.(?P<major>\d+)\.")


def share_runtimes(internal: Path, patchelf: str) -> list[str]:
    """Wheels vendor GCC's Fortran runtime each in their own build: in a folder with two copies of
    the same major version, the binaries of the less used one move to the other when it exports
    every symbol (and symbol version) they take from theirs. Returns what changed."""
    files = elf_files(internal)
    done = []
    for folder in sorted(internal.glob("*.libs")):
        groups: dict[tuple[str, str], list[Path]] = {}
        for lib in sorted(folder.iterdir()):
            m = _RUNTIME.match(lib.name)
            if m and lib.is_file() and not lib.is_symlink():
                groups.setdefault((m["name"], m["major"]), []).append(lib)
        for copies in (g for g in groups.values() if len(g) > 1):
            users = {c: [f for f in files if c.name in needed(f)] for c in copies}
            # the kept copy must be found by every binary that moves to it (its own search folders)
            reach = [k for k in copies if all(any((d / k.name).exists() for d in [f.parent, *search_dirs(f)])
                                              for c in copies for f in users[c])]
            if not reach:
                continue
            keep = max(reach, key=lambda c: (len(users[c]), -c.stat().st_size))
            exported = {(s.name, s.version) for s in dynamic_symbols(keep) if s.defined}
            names = {name for name, _ in exported}
            for other in (c for c in copies if c is not keep):
                taken = imports_from(other, users[other])
                if all((s.name, s.version) in exported or s.version is None and s.name in names for s in taken):
                    for user in users[other]:
                        subprocess.run([patchelf, "--replace-needed", other.name, keep.name, str(user)], check=True)
                        forget(user)
                    done.append(f"{', '.join(u.name for u in users[other])}: {other.name} -> {keep.name}")
    return done


def _digest(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def link_duplicates(folder: Path) -> int:
    """Identical files (same bytes) become one file and relative links to it; returns the bytes saved."""
    by_size: dict[int, list[Path]] = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file() and not p.is_symlink() and p.stat().st_size > 4096:
            by_size.setdefault(p.stat().st_size, []).append(p)
    saved = 0
    for size, paths in by_size.items():
        first: dict[str, Path] = {}
        for p in paths if len(paths) > 1 else ():
            keep = first.setdefault(_digest(p), p)
            if keep is not p:
                p.unlink()
                p.symlink_to(os.path.relpath(keep, p.parent))
                saved += size
    return saved


def link_vendored_twins(internal: Path) -> int:
    """A library vendored under the same name (auditwheel's hash of the original file) in several
    ``*.libs`` folders is one library: the smallest copy stays, the others become links to it, where
    all copies link the same libraries. Returns the bytes saved."""
    by_name: dict[str, list[Path]] = {}
    for lib in sorted(internal.glob("*.libs/*")):
        if lib.is_file() and not lib.is_symlink() and _VENDORED.match(lib.name):
            by_name.setdefault(lib.name, []).append(lib)
    saved = 0
    for copies in (c for c in by_name.values() if len(c) > 1 and len({tuple(needed(x)) for x in c}) == 1):
        keep = min(copies, key=lambda c: c.stat().st_size)
        for other in (c for c in copies if c is not keep):
            saved += other.stat().st_size
            other.unlink()
            other.symlink_to(os.path.relpath(keep, other.parent))
    return saved

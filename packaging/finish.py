"""Last steps of the Linux build on the collected folder (run by affecttrace.spec, or by hand:
``python packaging/finish.py dist/AffectTrace``).

1. OpenCV's module links the same FFmpeg release as PyAV, and the same libavif as Pillow, under other
   file names: where the versions match exactly it is pointed at those copies (patchelf).
2. OpenCV's module takes BLAS and LAPACK from SciPy's OpenBLAS (the same routines under a ``scipy_``
   prefix: its imports are renamed) instead of its own 39 MB copy; SciPy's modules share one build
   of GCC's Fortran runtime.
3. Libraries nothing calls in any feature are replaced by stand-ins (stubs.py): OpenCV's Qt 5 window
   code (its ``imshow`` windows; the GUI is Qt 6), FFmpeg's x265 and SVT-AV1 encoders (the app
   encodes H.264 only; HEVC and AV1 videos still decode, with FFmpeg's own decoders), its WebP,
   MP3 and AMR encoders, Intel's QSV dispatcher and its TLS library (https:// inputs; the app opens
   local files).
4. Qt's ICU data keeps only what Qt reads (icu.py: collation, case mapping, locale data).
5. Libraries that no bundled binary links against any more are removed.
6. Symbol tables are stripped from every binary (the executable and its archive excepted).
7. Identical files under two names, and one vendored library in several wheels' folders, become
   one file and links.
8. Every binary that loaded on its own before these steps must still load (checked); then
   ``affecttrace-gui`` is made a link to the one executable (see frozen_main.py).
"""
from __future__ import annotations

import fnmatch
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from elf import dynamic_symbols, elf_files, forget, has_symtab, needed, search_dirs  # noqa: E402
from icu import trim as trim_icu  # noqa: E402
from stubs import imports_from, make_stub  # noqa: E402

# Libraries OpenCV's module links that another package bundles in the same release.
DONORS = {"av.libs": ("avcodec", "avformat", "avutil", "avdevice", "avfilter", "swscale", "swresample"),
          "pillow.libs": ("avif",)}
_VENDORED = re.compile(r"^lib(?P<name>[A-Za-z0-9_]+)(?:-[0-9a-f]{8})+\.so\.(?P<version>[0-9.]+)$")
BLAS = ("opencv_python.libs/libopenblas*.so", "scipy.libs/libscipy_openblas-*.so", "scipy_")

# Left out, with a stand-in (stubs.py); the values answer the calls made when the importer loads.
STAND_INS: dict[str, dict[str, int]] = {
    "opencv_python.libs/libQt5*": {  # cv2's highgui windows
        "*qRegisterResourceData*": 1, "*qUnregisterResourceData*": 1,  # its icons, registered at load
        "*QWaitConditionC1Ev": 0, "*QWaitConditionD1Ev": 0, "*QMutexD1Ev": 0},  # its static objects
    "av.libs/libx265-*": {"x265_api_get_*": 0},  # NULL: "no x265"; FFmpeg asks when listing encoders
    "av.libs/libSvtAv1Enc-*": {},
    "av.libs/libgnutls-*": {},  # FFmpeg's https:// inputs; the app opens local files only
    # encoders only (WebP images, MP3, AMR: FFmpeg decodes those itself) and Intel's QSV dispatcher
    **{f"av.libs/lib{name}-*": {} for name in ("webp", "webpmux", "mp3lame", "opencore-amrnb", "opencore-amrwb", "vpl")},
}
# Loaded by name at run time (the bootloader, ctypes), not through a link: never pruned.
LOADED_BY_NAME = ("libpython*", "libportaudio*")


def _by_name_version(folder: Path) -> dict[tuple[str, str], str]:
    found = {}
    for lib in folder.iterdir() if folder.is_dir() else ():
        m = _VENDORED.match(lib.name)
        if m:
            found[(m["name"], m["version"])] = lib.name
    return found


def _cv2(internal: Path) -> Path | None:
    return next(iter(sorted((internal / "cv2").glob("cv2*.so"))), None)


def _add_rpath(patchelf: str, binary: Path, entries: list[str]) -> None:
    old = subprocess.run([patchelf, "--print-rpath", str(binary)], capture_output=True, text=True,
                         check=True).stdout.strip()
    have = [e for e in old.split(":") if e]
    subprocess.run([patchelf, "--set-rpath", ":".join(have + [e for e in entries if e not in have]), str(binary)],
                   check=True)


def dedupe_opencv(internal: Path, patchelf: str) -> list[str]:
    """Point cv2 at PyAV's FFmpeg and Pillow's libavif where the versions match exactly (a whole
    group or nothing); OpenCV's own copies then go with the pruning. Returns what changed."""
    module = _cv2(internal)
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
    swaps = [(old, new, donor) for old, new, donor in swaps if old != new]
    for old, new, _ in swaps:
        subprocess.run([patchelf, "--replace-needed", old, new, str(module)], check=True)
    if swaps:
        _add_rpath(patchelf, module, [f"$ORIGIN/../{d}" for d in DONORS])
    forget(module)
    return [f"{old} -> {donor}/{new}" for old, new, donor in swaps]


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


def stub_out(internal: Path) -> list[str]:
    """Replace each library matched by STAND_INS with its stand-in; returns what was done."""
    done = []
    for pattern, answers in STAND_INS.items():
        libs = sorted(internal.glob(pattern))
        names = {lib.name for lib in libs}
        importers = [f for f in elf_files(internal) if f.name not in names and names & set(needed(f))]
        for lib in libs:
            before = lib.stat().st_size
            count = make_stub(lib, [f for f in importers if lib.name in needed(f)], answers)
            done.append(f"{lib.relative_to(internal)} ({before / 1e6:.1f} MB): stand-in with {count} symbols")
    return done


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
            for link in internal.rglob("*"):  # links to the libraries that went
                if link.is_symlink() and not link.exists():
                    link.unlink()
            return removed
        for f in orphans:
            removed.append(str(f.relative_to(internal)))
            f.unlink()


def strip_all(internal: Path, loaded: set[Path]) -> tuple[int, list[str]]:
    """strip --strip-unneeded every binary that carries a symbol table; one that loaded before and
    no longer does (strip can break the layout of files patchelf rewrote) gets its original back.
    Returns the bytes saved and the files left as they were."""
    saved, kept = 0, []
    for f in elf_files(internal):
        if not has_symtab(f):
            continue
        backup = f.with_name(f.name + ".unstripped")
        shutil.copy2(f, backup)
        before = f.stat().st_size
        subprocess.run(["strip", "--strip-unneeded", str(f)], check=True)
        if f in loaded and not loads(f):
            backup.replace(f)
            kept.append(str(f.relative_to(internal)))
            continue
        backup.unlink()
        saved += before - f.stat().st_size
    return saved, kept


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


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


def loads(binary: Path) -> bool:
    """Whether the dynamic linker loads ``binary`` on its own (in a fresh process, initialisers run)."""
    code = "import ctypes, sys; ctypes.CDLL(sys.argv[1])"
    return subprocess.run([sys.executable, "-c", code, str(binary)], capture_output=True).returncode == 0


def link_gui(folder: Path) -> None:
    link = folder / "affecttrace-gui"
    if link.is_symlink() or link.exists():
        link.unlink()
    os.symlink("affecttrace", link)


def finish(folder: Path) -> None:
    internal = folder / "_internal"
    patchelf = shutil.which("patchelf") or str(Path(sys.executable).with_name("patchelf"))
    loaded = {f for f in elf_files(internal) if loads(f)}
    for line in (dedupe_opencv(internal, patchelf) + share_blas(internal, patchelf) + share_runtimes(internal, patchelf)
                 + stub_out(internal)):
        print(f"finish: {line}")
    for lib in sorted(internal.glob("PySide6/Qt/lib/libicudata.so.*")):
        before, after = trim_icu(lib)
        print(f"finish: {lib.name}: {before / 1e6:.1f} -> {after / 1e6:.1f} MB (only the ICU data Qt reads)")
    for name in prune_unlinked(internal):
        print(f"finish: removed unused {name}")
    saved, kept = strip_all(internal, loaded)
    print(f"finish: stripped {saved / 1e6:.1f} MB of symbol tables" + (f" (not {', '.join(kept)})" if kept else ""))
    twins = link_vendored_twins(internal)
    print(f"finish: {(twins + link_duplicates(folder)) / 1e6:.1f} MB of duplicate files linked")
    broken = sorted(str(f.relative_to(internal)) for f in loaded if f.exists() and not loads(f))
    if broken:
        raise SystemExit(f"finish: these binaries no longer load: {', '.join(broken)}")
    link_gui(folder)


if __name__ == "__main__":
    finish(Path(sys.argv[1]))

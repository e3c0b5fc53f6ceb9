"""Face caches: HDF5 round trip, resuming after a hard kill, Aff-Wild2 crop folders, the reference and
fan backends' contracts, and the `faces` command on a generated video."""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.errors import AffectTraceError
from core.faces import (
    Face,
    FaceCache,
    FaceCacheWriter,
    FaceTracker,
    ReferenceBackend,
    make_backend,
    process_video,
    warp_face,
)
from core.faces.align import CROP_SIZE
from core.faces.backends import resolve_backend_name
from core.faces.cache_writer import CROP_CHUNK
from tests.facegen import face_at
from tests.videogen import make_video

REPO = Path(__file__).resolve().parents[1]
N = 60
NO_FACE = [5, 6, 7, 30, 59]


def moving_landmarks(n: int = N, no_face: list[int] = NO_FACE) -> np.ndarray:
    """A face drifting and turning across a 160x128 frame; NaN where there is none."""
    lm = np.stack([face_at(0.6 + 0.002 * i, 0.01 * i, (70 + 0.3 * i, 64), seed=i)[0] for i in range(n)])
    lm[no_face] = np.nan
    return lm


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("clip")
    video = make_video(d / "clip.mp4", n=N, fps=25, gop=12)
    np.save(d / "clip_landmarks.npy", moving_landmarks())
    return video, d / "clip_landmarks.npy"


def _face(i: int) -> Face:
    lm, _ = face_at(1.0 + i * 0.01, 0.0, (100 + i, 90))
    return Face(box=np.array([i, i, i + 50, i + 60], np.float32), landmarks=lm, score=0.5 + i / 100)


def test_writer_reader_round_trip(tmp_path):
    path = tmp_path / "c.h5"
    crops = {i: np.full((CROP_SIZE, CROP_SIZE, 3), i, np.uint8) for i in range(10) if i not in (3, 4)}
    with FaceCacheWriter(path, 10, "test", block=3) as w:
        for i in range(10):
            others = [_face(99)] if i == 2 else []
            w.add(i, _face(i) if i in crops else None, crops.get(i), others)
        w.finish()
    with FaceCache(path) as c:
        assert c.complete and c.n_frames == 10 and c.backend == "test"
        assert list(c.frames) == [0, 1, 2, 5, 6, 7, 8, 9] and list(c.no_face) == [3, 4]
        assert c.has(5) and not c.has(3)
        assert c.crop(7).shape == (CROP_SIZE, CROP_SIZE, 3) and int(c.crop(7)[0, 0, 0]) == 7
        got = c.crops([9, 0, 9])
        assert [int(x[0, 0, 0]) for x in got] == [9, 0, 9]
        np.testing.assert_allclose(c.landmarks[3], _face(5).landmarks)
        np.testing.assert_allclose(c.boxes[0], [0, 0, 50, 60])
        np.testing.assert_allclose(c.scores[-1], 0.59, rtol=1e-6)
        frames, boxes = c.others()
        assert list(frames) == [2] and boxes.shape == (1, 4)
        assert c.summary()["frames_without_face"] == [3, 4]
        with pytest.raises(KeyError):
            c.crop(4)
        np.testing.assert_array_equal(c.all_crops()[3], crops[5])


def _textured_cache(path: Path, layout: tuple[int, str | None] | None, n: int = 70) -> dict[int, np.ndarray]:
    """A cache of ``n`` frames of distinct noise crops (frames 5 and 40 without a face) in ``layout``."""
    rng = np.random.default_rng(len(str(layout)))
    crops = {i: rng.integers(0, 256, (CROP_SIZE, CROP_SIZE, 3), dtype=np.uint8) for i in range(n) if i not in (5, 40)}
    kw = {} if layout is None else {"crop_layout": layout}
    with FaceCacheWriter(path, n, "test", block=32, **kw) as w:
        for i in range(n):
            w.add(i, _face(i) if i in crops else None, crops.get(i))
        w.finish()
    return crops


@pytest.mark.parametrize("layout", [None, (1, "gzip"), (64, "lzf"), (1, None)],
                         ids=["raw16", "gzip1-earlier", "lzf64", "raw1"])
def test_crop_layouts_read_back_exactly(tmp_path, layout):
    """The default layout (raw, CROP_CHUNK rows a chunk), the earlier one (gzip, one crop a chunk: caches
    made before keep working) and another: single crops, runs, scattered and repeated rows, all crops."""
    import h5py

    path = tmp_path / "c.h5"
    crops = _textured_cache(path, layout)
    with h5py.File(path, "r") as f:
        ds = f["crops"]
        assert (ds.compression, ds.chunks[0]) == ((None, CROP_CHUNK) if layout is None else (layout[1], layout[0]))
    with FaceCache(path) as c:
        for i in (0, 15, 16, 39, 41, 69):
            np.testing.assert_array_equal(c.crop(i), crops[i])
        for idx in ([3, 4, 6, 7], [69, 0, 33, 0, 34, 35, 17], list(range(10, 40)) + list(range(41, 60)), [41]):
            np.testing.assert_array_equal(c.crops(idx), np.stack([crops[i] for i in idx]))
        np.testing.assert_array_equal(c.all_crops(), np.stack([crops[i] for i in sorted(crops)]))
        with pytest.raises(KeyError):
            c.crops([4, 5])
        with pytest.raises(KeyError):
            c.crops([69, 70])


def test_loader_workers_read_the_cache_layouts(tmp_path):
    """Spawned loader workers (the trainer's batch loader) deliver every crop of raw and gzip caches
    exactly, shuffled and in order, with the items' labels; windows read the same crops."""
    import torch

    from core.data import FaceFrames, FaceWindows
    from core.data.batches import batch_loader
    from core.data.loader import collate_batch
    from core.project import Project
    from core.tracks import Track, TrackSource

    p = Project.create(tmp_path / "proj")
    want = {}
    for j, (v, layout) in enumerate((("raw", None), ("old", (1, "gzip")))):
        p.add_video(tmp_path / f"{v}.mp4", name=v, frame_count=70, fps=25.0)
        want[v] = _textured_cache(Path(p.cache_dir("faces")) / f"{v}.h5", layout)
        track = Track.empty(v, "truth", TrackSource.fused(), 70, p.au_set)
        track.va[::2] = np.linspace(-1, 1, 70)[::2, None] * (j + 1) / 2
        track.expr[1::3] = (np.arange(70)[1::3] + j) % 7
        track.au[::5] = np.arange(70)[::5, None] % 2
        p.put_track(track)
    p.save()
    ds = FaceFrames(p, "truth", split=None, raw=True, preload=False, require_labels=False)
    assert len(ds) == 2 * 68
    idx = [5, 100, 6, 7, 70, 0, 135]
    got, items = ds.get_batch(idx), collate_batch([ds[i] for i in idx])
    assert got.keys() == items.keys()
    for k in got:
        if isinstance(got[k], torch.Tensor):
            assert got[k].dtype == items[k].dtype and torch.equal(got[k], items[k]), k
        else:
            assert got[k] == items[k], k
    for order in (np.random.default_rng(0).permutation(len(ds)).tolist(), list(range(len(ds)))):
        seen = 0
        for batch in batch_loader(ds, order, 24, workers=2):
            for img, v, f in zip(batch["image"], batch["video"], batch["frame"].tolist()):
                np.testing.assert_array_equal(img.numpy(), want[v][f])
                seen += 1
        assert seen == len(ds)
    ds.close()
    win = FaceWindows(p, None, split=None, raw=True, preload=False, require_labels=False, length=8)
    for k in range(len(win)):
        item = win[k]
        for img, f, face in zip(item["image"], item["frames"].tolist(), item["face"].tolist()):
            assert face == (f in want[item["video"]])
            np.testing.assert_array_equal(img.numpy(), want[item["video"]][f] if face else 0)
    win.close()
    p.close()


def test_tracker_follows_the_face_and_re_detects_on_keyframes():
    lm = moving_landmarks()

    class Counting(ReferenceBackend):
        detect_is_cheap = False
        detects = 0

        def detect(self, frame, index, fine=True):
            Counting.detects += 1
            return super().detect(frame, index, fine)

        def refit(self, frame, index, prev):
            found = ReferenceBackend.detect(self, frame, index)
            return found[0] if found else None

    tracker = FaceTracker(Counting(lm), every=10)
    found = [tracker.step(np.zeros((128, 160, 3), np.uint8), i).face is not None for i in range(N)]
    assert [i for i, f in enumerate(found) if not f] == NO_FACE
    # keyframes every 10 frames plus a re-detection on each frame where the face was lost
    assert Counting.detects < N // 2


def test_pipeline_resumes_after_a_hard_kill(clip, tmp_path):
    video, lm_file = clip
    cache = tmp_path / "clip.h5"
    script = (
        "import os, sys\n"
        "from core.faces import process_video, load_reference\n"
        "def crash(done, total, msg=''):\n"
        "    if done >= 20: os._exit(9)\n"
        f"process_video({str(video)!r}, {str(cache)!r}, load_reference({str(lm_file)!r}), block=8, progress=crash)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 9, proc.stderr
    with FaceCache(cache) as partial:
        assert not partial.complete
        done = int(partial.attrs["next_frame"])
        assert 0 < done < N and done % 8 == 0
        assert len(partial.frames) + len(partial.no_face) == done
    resumed = process_video(video, cache, make_backend("reference", reference=lm_file), block=8)
    assert resumed.resumed_from == done and resumed.processed == N - done and resumed.complete
    assert resumed.frames_without_face == NO_FACE and resumed.frames_with_face == N - len(NO_FACE)
    process_video(video, tmp_path / "clean.h5", make_backend("reference", reference=lm_file))
    with FaceCache(cache) as a, FaceCache(tmp_path / "clean.h5") as b:
        np.testing.assert_array_equal(a.frames, b.frames)
        np.testing.assert_array_equal(a.all_crops(), b.all_crops())
    # a finished cache is not redone
    again = process_video(video, cache, make_backend("reference", reference=lm_file))
    assert again.processed == 0 and again.complete


def test_crops_come_from_the_decoded_frames(clip, tmp_path):
    from core.media import MediaReader

    video, lm_file = clip
    lm = np.load(lm_file)
    process_video(video, tmp_path / "c.h5", make_backend("reference", reference=lm_file))
    with FaceCache(tmp_path / "c.h5") as c, MediaReader(video) as r:
        np.testing.assert_array_equal(c.crop(12), warp_face(r.frame(12), lm[12]))


def test_unreadable_cache_is_discarded_and_rebuilt(clip, tmp_path):
    video, lm_file = clip
    cache = tmp_path / "bad.h5"
    cache.write_bytes(b"not hdf5 at all")
    run = process_video(video, cache, make_backend("reference", reference=lm_file))
    assert run.complete and run.resumed_from == 0 and "discarded" in run.note


def test_cropped_aligned_folder_with_missing_crops(tmp_path):
    folder = tmp_path / "cropped_aligned" / "vid_left"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    images = {}
    for i in (0, 1, 3, 6):
        img = rng.integers(0, 256, (CROP_SIZE, CROP_SIZE, 3), dtype=np.uint8)
        img = cv2.GaussianBlur(img, (9, 9), 3)  # smooth, so JPEG keeps it close
        images[i] = img
        bgr = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
        cv2.imwrite(str(folder / f"{i + 1:05d}.jpg"), bgr, [cv2.IMWRITE_JPEG_QUALITY, 98])
    cv2.imwrite(str(folder / "00005.png"), np.zeros((224, 224, 3), np.uint8))  # larger crop: resized to 112
    (folder / "notes.txt").write_text("not a crop")
    c = FaceCache(folder, n_frames=8)
    assert list(c.frames) == [0, 1, 3, 4, 6] and list(c.no_face) == [2, 5, 7]
    assert c.has(3) and not c.has(2) and c.complete
    assert np.abs(c.crop(3).astype(int) - images[3]).mean() < 3
    assert c.crop(4).shape == (CROP_SIZE, CROP_SIZE, 3)
    assert np.abs(c.crops([6, 0]).astype(int) - np.stack([images[6], images[0]])).mean() < 3
    assert c.landmarks is None
    with pytest.raises(KeyError):
        c.crop(2)
    assert FaceCache(folder).n_frames == 7  # without a frame count: up to the last crop


def test_fan_without_weights_names_the_files_and_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("AFFECTTRACE_SYSTEM_WEIGHTS", str(tmp_path / "system"))
    with pytest.raises(AffectTraceError) as e:
        make_backend("fan")
    msg = str(e.value)
    folder = str(tmp_path / "torch" / "hub" / "checkpoints")
    assert "s3fd-619a316812.pth" in msg and "2DFAN4-11f355bf06.pth.tar" in msg and folder in msg
    assert str(tmp_path / "system") in msg and "affecttrace weights install" in msg
    assert "--allow-download" in msg
    assert not (tmp_path / "torch" / "hub" / "checkpoints" / "s3fd-619a316812.pth").exists()
    assert resolve_backend_name("auto") == "dlib"
    with pytest.raises(AffectTraceError):
        make_backend("nope")


def _cli(argv: list[str]) -> int:
    from core.cli import faces_cmd

    parser = argparse.ArgumentParser()
    faces_cmd.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    return args.func(args)


def test_faces_command_json_on_media(clip, tmp_path, capsys):
    video, lm_file = clip
    rc = _cli(["faces", str(video), "--backend", "reference", "--landmarks", str(lm_file),
               "--cache", str(tmp_path / "out.h5"), "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["frames"] == N and out["frames_with_face"] == N - len(NO_FACE)
    assert out["frames_without_face"] == NO_FACE and out["complete"]
    with pytest.raises(AffectTraceError):
        _cli(["faces", str(tmp_path / "missing.mp4")])


def test_fan_code_path_runs_with_stand_in_weights(tmp_path, monkeypatch):
    """face-alignment's real classes and calls, fed stand-in weights (tests/fan_standins.py): S3FD runs
    and finds nothing; a detection is then fed in by hand to run the landmark path."""
    torch = pytest.importorskip("torch")
    numba = pytest.importorskip("numba")
    # face-alignment JIT-compiles its heatmap decoding on first use, uncached: minutes on a busy 2-core box.
    # Plain Python runs the same code; this must be set before face_alignment.utils is imported.
    monkeypatch.setenv("NUMBA_DISABLE_JIT", "1")
    numba.config.reload_config()
    from tests.fan_standins import write_fan_standins

    write_fan_standins(tmp_path / "torch" / "hub" / "checkpoints")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("AFFECTTRACE_SYSTEM_WEIGHTS", str(tmp_path / "system"))
    assert resolve_backend_name("auto") == "fan"
    backend = make_backend("fan", device="cpu")
    frame = np.random.default_rng(0).integers(0, 256, (96, 128, 3), dtype=np.uint8)
    assert backend.detect(frame, 0) == []
    box = np.array([30.5, 20.25, 90.0, 85.75, 0.97], np.float32)  # S3FD's own output type
    monkeypatch.setattr(backend._fa.face_detector, "detect_from_image", lambda image: [box])

    class PeakAtCentre(torch.nn.Module):
        """Stands in for the 2D-FAN forward (~10 s on this CPU): one heatmap peak per point, at the
        centre of the 64x64 map, so every landmark must land near the centre of face-alignment's crop."""

        def forward(self, x):
            hm = torch.zeros(x.shape[0], 68, 64, 64)
            hm[:, :, 32, 32] = 0.9
            return hm

    backend._fa.face_alignment_net = PeakAtCentre()
    faces = backend.detect(frame, 0)
    assert len(faces) == 1 and faces[0].landmarks.shape == (68, 2) and faces[0].score == pytest.approx(0.97)
    lm = faces[0].landmarks
    assert (lm[:, 0] > box[0]).all() and (lm[:, 0] < box[2]).all()
    assert (lm[:, 1] > box[1]).all() and (lm[:, 1] < box[3]).all()
    refit = backend.refit(frame, 1, faces[0])
    assert refit is not None and refit.score == pytest.approx(0.9, abs=0.05)
    np.testing.assert_allclose(refit.box, faces[0].box, atol=1.0)  # same points: the box stays put

"""core.data: targets and masks, frame and window datasets over a real (small) project, splits."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import torch

from core.data import assign_splits, source_video, targets_from_track, videos_in_split
from core.data.augment import IMAGE_MEAN, IMAGE_STD
from core.data.datasets import FaceFrames, FaceWindows, face_dataset
from core.data.loader import make_loader
from core.faces import open_face_cache, process_project
from core.tracks import Track, TrackSource
from tests.facegen import face_at
from tests.videogen import make_video, tone_bursts

N = 40
NO_FACE = [3, 17, 18]
BURSTS = [12, 30]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    from core.project import Project

    root = tmp_path_factory.mktemp("data")
    lm = np.stack([face_at(0.6, 0.02 * i, (80, 64), seed=i)[0] for i in range(N)])
    lm[NO_FACE] = np.nan
    np.save(root / "lm.npy", lm)
    p = Project.create(root / "proj", au_set="affwild2-8")
    for name, split, subject in (("a", "train", "s1"), ("b", "val", "s2"), ("c_left", "train", None)):
        audio = tone_bursts(N, Fraction(25), 16000, BURSTS)
        media = make_video(root / f"{name}.mp4", n=N, fps=25, audio=audio, audio_rate=16000)
        p.add_video(media, name=name, split=split, subject=subject)
    for name in ("a", "b"):
        t = p.new_track(name, "ann1", TrackSource.human("ann1"))
        t.va[:30] = np.stack([np.linspace(-1, 1, 30), np.linspace(1, -1, 30)], axis=1)
        t.expr[::2] = np.arange(0, N, 2) % 8
        t.au[10:] = (np.arange(10, N)[:, None] + np.arange(8)) % 2
        p.put_track(t)
    p.save()
    process_project(p, backend="reference", reference=root / "lm.npy")
    yield p
    p.close()


def test_targets_masks_padding_and_au_mapping():
    t = Track.empty("v", "x", TrackSource.human("x"), 6, ("AU1", "AU2", "AU4"))
    t.va[1] = (0.5, -0.5)
    t.va[2, 0] = 0.1  # half a VA label is no label
    t.expr[3] = 4
    t.au[4] = (1, 0, 1)
    t.au[5, :2] = 1
    tg = targets_from_track(t, ("va", "expr", "au"), ("AU4", "AU1", "AU12"), n_frames=8)
    assert tg.n_frames == 8
    assert list(np.flatnonzero(tg.va_mask)) == [1] and tg.va[2].tolist() == [0, 0]
    assert list(np.flatnonzero(tg.expr_mask)) == [3] and tg.expr[0] == -1 and tg.expr.dtype == np.int64
    assert tg.au[4].tolist() == [1, 1, -1]  # AU12 is not in the track: unlabelled
    assert not tg.au_mask.any()
    only_va = targets_from_track(t, ("va",), ("AU1", "AU2", "AU4"))
    assert not only_va.expr_mask.any() and not only_va.au_mask.any() and only_va.va_mask[1]
    full_au = targets_from_track(t, ("au",), ("AU1", "AU2", "AU4"))
    assert list(np.flatnonzero(full_au.au_mask)) == [4]


def test_frames_dataset_items(project):
    ds = FaceFrames(project, "ann1", "train", ("va", "expr", "au"))
    assert [d.name for d in ds.videos] == ["a"] and ds.skipped == {"c_left": "no track 'ann1'"}
    track = project.track("a", "ann1")
    labelled = track.labelled("va") | track.labelled("expr") | track.labelled("au")
    expected = [i for i in range(N) if labelled[i] and i not in NO_FACE]
    assert list(ds.index_frame) == expected and len(ds) == len(expected)
    item = ds[expected.index(12)]
    assert item["image"].shape == (3, 112, 112) and item["image"].dtype == torch.float32
    assert item["video"] == "a" and item["frame"] == 12
    assert item["va"].shape == (2,) and item["va_mask"] is True
    assert item["expr"] == 12 % 8 and item["expr_mask"] is True
    assert item["au"].shape == (8,) and item["au_mask"] is True
    assert item["au"].tolist() == [float((12 + k) % 2) for k in range(8)]
    odd = ds[expected.index(35)]
    assert not odd["va_mask"] and not odd["expr_mask"] and odd["expr"] == -1 and odd["au_mask"]
    # the image is the cached crop, normalised
    with open_face_cache(project, "a") as cache:
        crop = torch.from_numpy(cache.crop(12)).permute(2, 0, 1).float() / 255
    mean, std = torch.tensor(IMAGE_MEAN).view(3, 1, 1), torch.tensor(IMAGE_STD).view(3, 1, 1)
    torch.testing.assert_close(item["image"] * std + mean, crop, atol=1e-5, rtol=0)
    ds.close()


def test_unlabelled_frames_for_prediction_and_splits(project):
    everything = FaceFrames(project, None, None, ("va",), require_labels=False, preload=False)
    assert len(everything) == 3 * (N - len(NO_FACE))
    item = everything[0]
    assert not item["va_mask"] and not item["expr_mask"] and not item["au_mask"]
    val = FaceFrames(project, "ann1", "val", ("expr",))
    assert {d.name for d in val.videos} == {"b"} and len(val) == len([i for i in range(0, N, 2) if i not in NO_FACE])
    assert videos_in_split(project, "Validation_Set") == ["b"]
    with pytest.raises(ValueError):
        FaceFrames(project, "ann1", "train", ("valence",))


def test_windows_dataset(project):
    ds = FaceWindows(project, "ann1", ["a", "b"], length=8)
    assert list(ds.index_start[:5]) == [0, 8, 16, 24, 32]
    item = ds[0]
    assert item["image"].shape == (8, 3, 112, 112) and item["frames"].tolist() == list(range(8))
    assert item["face"].tolist() == [i not in NO_FACE for i in range(8)]
    assert item["image"][3].abs().sum() == 0  # no face: a blank frame
    assert not item["va_mask"][3] and item["va_mask"][2] and item["va"].shape == (8, 2)
    assert item["expr"].shape == (8,) and item["au"].shape == (8, 8) and item["au_mask"].shape == (8,)
    short = FaceWindows(project, "ann1", ["a"], length=6, stride=4)
    assert list(short.index_start) == [0, 4, 8, 12, 16, 20, 24, 28, 32, 34]  # the last one ends at frame 39
    batch = next(iter(make_loader(ds, batch_size=4, shuffle=False, workers=0)))
    assert batch["image"].shape == (4, 8, 3, 112, 112) and batch["va_mask"].shape == (4, 8)
    assert isinstance(face_dataset(project, "ann1", "train", window=1), FaceFrames)


def test_audio_windows_line_up_with_frames(project):
    ds = face_dataset(project, "ann1", "train", ("va",), audio=True)
    quiet_frame, burst_frame = ds[list(ds.index_frame).index(8)], ds[list(ds.index_frame).index(BURSTS[0])]
    a = burst_frame["audio"]
    assert a.shape == (1, 64, 64) and a.dtype == torch.float32
    energy = a[0].exp().sum(0)  # per column
    centre = a.shape[-1] // 2
    assert int(energy.argmax()) in range(centre - 1, centre + 3)  # the burst starts at the frame's time
    assert quiet_frame["audio"][0].exp().sum(0)[centre] < 1e-2 * energy[centre]
    win = face_dataset(project, "ann1", ["a"], ("va",), window=4, audio=True)
    assert win[0]["audio"].shape == (4, 1, 64, 64)


def test_loader_workers_read_from_the_cache_files(project):
    ds = FaceFrames(project, "ann1", "train", preload=False, augment=True)
    batches = list(make_loader(ds, batch_size=8, workers=2))
    assert sum(len(b["frame"]) for b in batches) == len(ds)
    assert batches[0]["image"].shape == (8, 3, 112, 112) and batches[0]["expr"].dtype == torch.int64


def test_preloaded_crops_stay_out_of_the_workers_pickles(project):
    import pickle

    ds = FaceFrames(project, "ann1", "train", preload=True)
    preloaded = sum(d.crops.numel() for d in ds.videos)
    assert preloaded and len(pickle.dumps(ds)) < preloaded // 4  # workers read the cache files instead
    spawned = list(make_loader(ds, batch_size=8, shuffle=False, workers=2))
    here = list(make_loader(ds, batch_size=8, shuffle=False, workers=0))
    assert len(spawned) == len(here) and all(torch.equal(a["image"], b["image"]) for a, b in zip(spawned, here))


def test_collate_batch_equals_default_collate(project):
    from torch.utils.data import default_collate

    from core.data import collate_batch

    for ds in (FaceFrames(project, "ann1", "train", audio=True), FaceWindows(project, "ann1", "train", length=4)):
        items = [ds[i] for i in range(3)]
        mine, ref = collate_batch(items), default_collate(items)
        assert mine.keys() == ref.keys()
        for k, v in ref.items():
            if isinstance(v, torch.Tensor):
                assert mine[k].dtype == v.dtype and torch.equal(mine[k], v), k
            else:
                assert mine[k] == v, k


def test_assign_splits_keeps_subjects_and_sides_together():
    videos = {f"v{i}": f"s{i // 3}" for i in range(12)}
    videos.update({"x_left": None, "x_right": None, "y": None})
    out = assign_splits(videos, val=0.3, test=0.2, seed=1)
    assert set(out.values()) == {"train", "val", "test"}
    for s in range(4):
        assert len({out[f"v{i}"] for i in range(3 * s, 3 * s + 3)}) == 1
    assert out["x_left"] == out["x_right"] and source_video("x_right") == "x"
    assert assign_splits(videos, val=0.3, test=0.2, seed=1) == out
    with pytest.raises(ValueError):
        assign_splits(videos, val=0.6, test=0.5)

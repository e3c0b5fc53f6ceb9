"""The uint8 path: whole batches fetched in one gather, normalised and augmented on the device (here the
CPU) with batched tensor ops; the same inputs as the per-item float path, the same augmentation
statistics, and batches that mix a project with image datasets in the run's label spaces."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from core.data import FaceFrames, FaceWindows
from core.data.augment import Augment, crop_to_input, normalise, prepare_images, to_float
from core.data.batches import ConcatFrames, batch_loader
from core.data.images import ImageFrames
from core.data.loader import collate_batch
from core.imagedata import ImportOptions, import_images
from core.labels import EXPRESSION_SPACES, EXPRESSIONS
from core.nn.validate import to_device
from core.project import Project
from tests import imagedbgen as gen
from tests.nn_demo import make_demo_project


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    root = tmp_path_factory.mktemp("uint8")
    gen.affectnet_repackaged(root / "an", {"train": 2, "val": 1})
    import_images("affectnet", root / "an", root / "an.h5", ImportOptions())
    project = make_demo_project(root, seconds=2.0)
    with Project.open(project) as p:  # frames of Happiness (a counterpart in AffectNet) and Other (none)
        track = p.track("demo", "truth")
        track.expr[:10], track.expr[10:20] = EXPRESSIONS.index("Other"), EXPRESSIONS.index("Happiness")
        p.put_track(track)
        p.save()
    return root / "an.h5", project


def same_batch(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        if isinstance(a[k], torch.Tensor):
            assert a[k].dtype == b[k].dtype and torch.equal(a[k], b[k]), k
        else:
            assert list(a[k]) == list(b[k]), k


def test_get_batch_is_the_collated_items(sources) -> None:
    dataset, project = sources
    for raw in (True, False):
        ds = ImageFrames(dataset, "train", raw=raw)
        idx = [5, 0, 11, 3]
        same_batch(ds.get_batch(idx), collate_batch([ds[i] for i in idx]))
    assert ds.get_batch([0])["image"].dtype == torch.float32
    with Project.open(project, readonly=True) as p:
        frames = FaceFrames(p, "truth", None, raw=True)
        item = frames[0]
        assert item["image"].dtype == torch.uint8 and item["image"].shape == (112, 112, 3)
        same_batch(frames.get_batch([2, 1]), collate_batch([frames[2], frames[1]]))
        frames.close()


def test_device_preparation_equals_the_per_item_float_path(sources) -> None:
    dataset, project = sources
    raw, old = ImageFrames(dataset, "train"), ImageFrames(dataset, "train", raw=False)
    idx = list(range(len(raw)))
    x = prepare_images(raw.get_batch(idx)["image"])
    torch.testing.assert_close(x, torch.stack([old[i]["image"] for i in idx]), atol=1e-5, rtol=0)
    assert prepare_images(raw.get_batch(idx)["image"], channels_last=True).is_contiguous(
        memory_format=torch.channels_last)
    with Project.open(project, readonly=True) as p:  # windows: frames without a face are zeros on both paths
        kw = dict(length=4, require_labels=False)
        w_raw, w_old = FaceWindows(p, "truth", None, raw=True, **kw), FaceWindows(p, "truth", None, **kw)
        b = collate_batch([w_raw[0], w_raw[len(w_raw) - 1]])
        b["face"][0, 1] = False  # as if frame 1 of the first window had no face
        y = prepare_images(b["image"], face=b["face"])
        ref = torch.stack([w_old[0]["image"], w_old[len(w_old) - 1]["image"]])
        ref[0, 1] = 0.0
        torch.testing.assert_close(y, ref, atol=1e-5, rtol=0)
        w_raw.close()
        w_old.close()


def test_batched_augmentation_has_the_per_item_statistics() -> None:
    """The same crop augmented 256 times per sample (the per-item path) and as one uint8 batch."""
    rng = np.random.default_rng(0)
    crop = np.zeros((112, 112, 3), np.uint8)
    crop[:, :40] = 200  # bright left band: a flip moves it right
    crop[30:80, 50:100] = rng.integers(0, 255, (50, 50, 3))
    aug = Augment()
    n = 256
    torch.manual_seed(0)
    per_item = torch.stack([normalise(aug(to_float(torch.from_numpy(crop)))) for _ in range(n)])
    torch.manual_seed(1)
    batched = prepare_images(torch.from_numpy(np.repeat(crop[None], n, 0)), aug)
    for x in (per_item, batched):
        assert x.shape == (n, 3, 112, 112)
    stats = []
    for x in (per_item, batched):
        left, right = x[..., :56].mean((1, 2, 3)), x[..., 56:].mean((1, 2, 3))
        stats.append({"flipped": float((right > left).float().mean()), "mean": float(x.mean()),
                      "sample_std": float(x.mean((1, 2, 3)).std()), "pixel_std": float(x.std())})
    a, b = stats
    assert abs(a["flipped"] - 0.5) < 0.1 and abs(b["flipped"] - 0.5) < 0.1
    assert abs(a["mean"] - b["mean"]) < 0.05 and abs(a["pixel_std"] - b["pixel_std"]) < 0.05
    assert abs(a["sample_std"] - b["sample_std"]) < 0.25 * a["sample_std"]
    mean_a, mean_b = per_item.mean(0), batched.mean(0)  # the average augmented image
    assert float((mean_a - mean_b).abs().mean()) < 0.08  # 1.2 without augmentation


def test_mixed_batches_carry_both_sources_in_the_run_spaces(sources) -> None:
    dataset, project = sources
    classes = EXPRESSION_SPACES["affectnet-8"]
    with Project.open(project, readonly=True) as p:
        frames = FaceFrames(p, "truth", None, raw=True, expressions=classes, au_names=())
        images = ImageFrames(dataset, "train", expressions=classes, au_names=())
        mixed = ConcatFrames([frames, images])
        loader = batch_loader(mixed, torch.randperm(len(mixed)).tolist(), 16, drop_last=True)
        seen = set()
        for batch in loader:
            assert batch["image"].dtype == torch.uint8 and batch["image"].shape[1:] == (112, 112, 3)
            assert batch["au"].shape == (16, 0) and batch["expr"].max() < len(classes)
            seen |= set(batch["video"])
        assert seen == {"demo", "an"}
        truth = p.track("demo", "truth").expr
        mapped = np.concatenate([d.targets.expr for d in frames.videos])
        assert (mapped[10:20] == classes.index("Happy")).all() and (truth[10:20] == 4).all()
        assert (mapped[:10] == -1).all()  # Other has no counterpart in AffectNet: unlabelled, not guessed
        table = {EXPRESSIONS.index(a): classes.index(b) for a, b in (("Fear", "Fear"), ("Sadness", "Sad"))}
        assert all(mapped[i] == table[int(truth[i])] for i in range(20, len(mapped)) if truth[i] >= 0)
        dev = to_device(mixed.get_batch([0, len(mixed) - 1]), torch.device("cpu"), augment=Augment())
        assert dev["image"].dtype == torch.float32 and dev["image"].shape == (2, 3, 112, 112)
        mixed.close()


def test_old_path_still_serves_float_items(sources) -> None:
    dataset, _ = sources
    item = ImageFrames(dataset, "val", raw=False, augment=True)[0]
    assert item["image"].dtype == torch.float32 and item["image"].shape == (3, 112, 112)
    x = crop_to_input(ImageFrames(dataset, "val")[0]["image"].numpy())
    assert x.shape == (3, 112, 112)

"""A checkpoint on still images: predictions for a folder of images, and an image dataset scored as the
papers report it (accuracy, mean class accuracy, macro-F1, confusion matrix; VA CCC, RMSE, SAGR)."""
from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from ..data.augment import prepare_images
from ..errors import AffectTraceError
from ..labels import AU_MISSING, EXPR_MISSING, expression_mapping
from .checkpoint import model_from_checkpoint
from .presets import get_preset
from .trainer import resolve_device


class ImageModel:
    """A single-frame checkpoint, ready to run on uint8 crops: ``outputs(crops) -> {'va', 'expr', 'au'}``
    (VA values, expression and AU probabilities)."""

    def __init__(self, checkpoint: str | Path, device: str = "auto", batch_size: int = 128) -> None:
        self.path = Path(checkpoint)
        self.device = resolve_device(device)
        self.model, ckpt = model_from_checkpoint(self.path, device=self.device)
        preset = get_preset(ckpt["preset"])
        if preset.window > 1 or preset.audio:
            raise AffectTraceError(f"{preset.name} works on video windows{' with audio' if preset.audio else ''}; "
                                   "still images need a single-frame preset", self.path)
        self.tasks = tuple(ckpt["config"].get("tasks", ("va", "expr", "au")))
        self.expressions = tuple(ckpt["labels"]["expressions"])
        self.aus = tuple(ckpt["labels"]["aus"])
        self.run_id = str(ckpt["config"].get("run_id") or self.path.parent.name)
        self.batch_size = batch_size
        cuda = self.device.type == "cuda"
        self.autocast: Any = (torch.autocast("cuda", dtype=torch.bfloat16)
                              if cuda and torch.cuda.is_bf16_supported() else nullcontext())

    @torch.no_grad()
    def outputs(self, crops: np.ndarray) -> dict[str, np.ndarray]:
        """(n, 112, 112, 3) uint8 crops -> 'va' (n, 2), 'expr' (n, classes) and 'au' (n, k) probabilities."""
        parts: dict[str, list[np.ndarray]] = {"va": [], "expr": [], "au": []}
        for lo in range(0, len(crops), self.batch_size):
            x = torch.from_numpy(np.ascontiguousarray(crops[lo:lo + self.batch_size])).to(self.device)
            with self.autocast:
                out = self.model(prepare_images(x, channels_last=self.device.type == "cuda"))
            parts["va"].append(out["va"].float().cpu().numpy())
            parts["expr"].append(torch.softmax(out["expr"].float(), -1).cpu().numpy())
            parts["au"].append(torch.sigmoid(out["au"].float()).cpu().numpy())
        empty = {"va": 2, "expr": len(self.expressions), "au": len(self.aus)}
        return {k: np.concatenate(v) if v else np.zeros((0, empty[k]), np.float32) for k, v in parts.items()}


def expression_probabilities(model: ImageModel, probs: np.ndarray, classes: Sequence[str]) -> tuple[np.ndarray, str]:
    """The model's class probabilities as columns of ``classes`` (another label space: through the one
    mapping table; a class the model has no counterpart for gets NaN) and the mapping said in a line."""
    mapping = expression_mapping(model.expressions, tuple(classes))
    out = np.full((len(probs), len(classes)), np.nan, np.float32)
    for i, j in enumerate(mapping.index):
        if j >= 0:
            out[:, j] = probs[:, i]
    return out, ("" if mapping.identity else f"model {len(model.expressions)} classes -> dataset: {mapping.describe()}")


def evaluate_images(checkpoint: str | Path, dataset: str | Path, split: str | None = None, device: str = "auto",
                    batch_size: int = 128) -> dict[str, Any]:
    """Score a checkpoint on an image dataset's ``split`` (default: 'val', else 'test')."""
    from ..imagedata import ImageDataset
    from ..metrics import au_scores, class_accuracies, expr_scores, va_scores

    ds = ImageDataset(dataset)
    try:
        split = split or next((s for s in ("val", "test") if s in ds.splits), None)
        if split not in ds.splits:
            raise AffectTraceError(f"no split {split!r} in the dataset (it has {', '.join(ds.splits)})", ds.path)
        model = ImageModel(checkpoint, device, batch_size)
        rows = ds.rows(split)
        out = model.outputs(ds.take(rows))
        res: dict[str, Any] = {"dataset": str(ds.path), "database": ds.database, "split": split,
                               "checkpoint": str(checkpoint), "images": int(len(rows))}
        ref = ds.expr[rows]
        if "expr" in model.tasks and (ref != EXPR_MISSING).any():
            probs, note = expression_probabilities(model, out["expr"], ds.expr_classes)
            usable = np.isfinite(probs).all(0)
            pred = np.where(usable, np.nan_to_num(probs, nan=-1.0), -1.0).argmax(1)
            s = expr_scores(pred, ref, class_names=ds.expr_classes)
            mca, per = class_accuracies(np.asarray(s["confusion"]))
            res["expr"] = {"classes": list(ds.expr_classes), "images": s["frames"], "accuracy": s["accuracy"],
                           "mean_class_accuracy": mca, "macro_f1": s["f1"],
                           "per_class_accuracy": dict(zip(ds.expr_classes, per.tolist())),
                           "per_class_f1": s["per_class_f1"], "confusion": s["confusion"],
                           "never_predicted": [c for c, u in zip(ds.expr_classes, usable) if not u], "mapping": note}
        if "va" in model.tasks and ds.has_va and np.isfinite(ds.va[rows]).all(1).any():
            res["va"] = va_scores(out["va"], ds.va[rows])
        common = [a for a in ds.au_names if a in model.aus]
        if "au" in model.tasks and common:
            ref_au = ds.au[rows][:, [ds.au_names.index(a) for a in common]]
            if (ref_au != AU_MISSING).any():
                predicted = out["au"][:, [model.aus.index(a) for a in common]]
                res["au"] = au_scores(predicted, ref_au, au_names=tuple(common))
        return res
    finally:
        ds.close()


def predict_folder(checkpoint: str | Path, folder: str | Path, faces: str = "crops", device: str = "auto",
                   batch_size: int = 128) -> Any:
    """A table (pandas) with one row per image below ``folder``: path, face (found or not), expression,
    p_<class> for every class of the checkpoint, valence and arousal, p_<AU>. ``faces``: 'crops' (the
    images are face crops) or a face backend that finds and aligns the face in each image."""
    import pandas as pd

    from ..imagedata.classfolders import IMAGE_SUFFIXES
    from ..imagedata.crops import detect_crop, resize_crop
    from ..imagedata.decode import ImageError, read_image
    from ..imagedata.records import display

    folder = Path(folder)
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise AffectTraceError(f"no images ({', '.join(IMAGE_SUFFIXES)}) below this folder", folder)
    model = ImageModel(checkpoint, device, batch_size)
    crops, found = [], []
    for p in files:
        try:
            img = read_image(p, upright=True)
        except ImageError as e:
            raise AffectTraceError(str(e), p) from None
        crop = resize_crop(img) if faces == "crops" else detect_crop(img, faces)
        found.append(crop is not None)
        if crop is not None:
            crops.append(crop)
    out = model.outputs(np.stack(crops) if crops else np.zeros((0, 112, 112, 3), np.uint8))
    has = np.array(found)
    table = pd.DataFrame({"path": [display(p.relative_to(folder).as_posix()) for p in files],
                          "face": has.astype(int)})
    expr = np.full((len(files), len(model.expressions)), np.nan, np.float32)
    expr[has] = out["expr"]
    if "expr" in model.tasks:
        table["expression"] = [model.expressions[int(k)] if ok else "" for k, ok in zip(expr.argmax(1), has)]
        for j, c in enumerate(model.expressions):
            table[f"p_{c}"] = expr[:, j]
    if "va" in model.tasks:
        va = np.full((len(files), 2), np.nan, np.float32)
        va[has] = np.clip(out["va"], -1, 1)
        table["valence"], table["arousal"] = va[:, 0], va[:, 1]
    if "au" in model.tasks:
        au = np.full((len(files), len(model.aus)), np.nan, np.float32)
        au[has] = out["au"]
        for j, a in enumerate(model.aus):
            table[f"p_{a}"] = au[:, j]
    return table

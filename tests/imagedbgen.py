"""Image databases in their exact layouts, with drawn faces (tests/facegen.py) showing each row's expression:
AffectNet (original CSV lists and the re-packaged .npy layout), RAF-DB basic, class folders and an image
CSV table. Each generator can append invalid rows and returns what a reader must find."""
from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np

from core.labels import EXPRESSION_SPACES, expression_concept
from tests.facegen import draw_face

AFFECTNET_LABELS = EXPRESSION_SPACES["affectnet-8"] + ("None", "Uncertain", "No-Face")
VALENCE = {"Neutral": 0.0, "Happiness": 0.7, "Sadness": -0.6, "Surprise": 0.2, "Fear": -0.5, "Disgust": -0.6,
           "Anger": -0.7, "Contempt": -0.3, "Other": 0.1}
AROUSAL = {"Neutral": 0.0, "Happiness": 0.4, "Sadness": -0.3, "Surprise": 0.7, "Fear": 0.6, "Disgust": 0.3,
           "Anger": 0.6, "Contempt": 0.0, "Other": 0.2}


def _save(path: Path, rgb: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])


def _pose(rng: np.random.Generator) -> dict:
    return {"scale": float(rng.uniform(0.55, 0.75)), "angle": float(rng.uniform(-0.25, 0.25)),
            "shift": (float(rng.uniform(-8, 8)), float(rng.uniform(-8, 8)))}


def _va(concept: str, rng: np.random.Generator) -> tuple[float, float]:
    return (float(np.clip(VALENCE[concept] + rng.normal(0, 0.1), -1, 1)),
            float(np.clip(AROUSAL[concept] + rng.normal(0, 0.1), -1, 1)))


def affectnet_original(root: Path, per_class: dict[str, int], bad: bool = True, seed: int = 0) -> dict:
    """``Manually_Annotated_file_lists/{training,validation}.csv`` + ``Manually_Annotated_Images/``:
    ``per_class[split]`` images of each label 0-7, one None (8, with VA) and one No-Face (10) per split.
    With ``bad``, training.csv ends with six invalid rows. Returns {'rows': {split: n}, 'bad_lines': [...],
    'faces': {image path: (concept, draw_face seed)}}."""
    rng = np.random.default_rng(seed)
    lists = root / "Manually_Annotated_file_lists"
    lists.mkdir(parents=True, exist_ok=True)
    header = ["subDirectory_filePath", "face_x", "face_y", "face_width", "face_height", "facial_landmarks",
              "expression", "valence", "arousal"]
    out: dict = {"rows": {}, "bad_lines": [], "faces": {}}
    for split, name in (("train", "training.csv"), ("val", "validation.csv")):
        labels = [e for e in range(8) for _ in range(per_class[split])] + [8, 10]
        lines = []
        for k, e in enumerate(labels):
            concept = expression_concept(AFFECTNET_LABELS[e]) or "Neutral"
            seed = int(rng.integers(1 << 30))
            img, lm = draw_face(concept, seed=seed, size=160, **_pose(rng))
            rel = f"{100 + k % 3}/{split}_{k:04d}.jpg"
            out["faces"][f"Manually_Annotated_Images/{rel}"] = (concept, seed)
            _save(root / "Manually_Annotated_Images" / rel, img)
            x0, y0 = lm.min(0)
            x1, y1 = lm.max(0)
            v, a = _va(concept, rng) if e != 10 else (-2.0, -2.0)
            lines.append([rel, f"{x0:.0f}", f"{y0:.0f}", f"{x1 - x0:.0f}", f"{y1 - y0:.0f}",
                          ";".join(f"{p:.2f}" for p in lm.reshape(-1)), str(e), f"{v:.6f}", f"{a:.6f}"])
        out["rows"][split] = len(labels) - 1  # No-Face is left out
        if bad and split == "train":
            good = lines[0]
            broken = [good[:5],  # too few columns
                      good[:6] + ["12", "0.1", "0.1"],  # expression out of range
                      good[:6] + ["1", "1.5", "0.1"],  # valence out of range
                      good[:5] + [";".join(good[5].split(";")[:-1])] + good[6:],  # 135 landmark numbers
                      ["999/missing.jpg"] + good[1:],  # image not there
                      ["../../etc/passwd"] + good[1:]]  # climbs out of the database
            first = len(lines) + 2
            lines += broken
            out["bad_lines"] = list(range(first, first + len(broken)))
        with open(lists / name, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows(lines)
    return out


def affectnet_repackaged(root: Path, per_class: dict[str, int], seed: int = 0) -> dict:
    """``train_set/`` and ``val_set/``: ``images/N.jpg`` (224x224 face crops), ``annotations/N_exp.npy``,
    ``N_val.npy``, ``N_aro.npy``, ``N_lnd.npy`` stored as strings, as the re-packaging does."""
    rng = np.random.default_rng(seed)
    out: dict = {"rows": {}}
    n = 0
    for split, folder in (("train", "train_set"), ("val", "val_set")):
        ann = root / folder / "annotations"
        ann.mkdir(parents=True, exist_ok=True)
        labels = [e for e in range(8) for _ in range(per_class[split])]
        for e in labels:
            concept = expression_concept(AFFECTNET_LABELS[e]) or "Neutral"
            img, lm = draw_face(concept, seed=int(rng.integers(1 << 30)), size=224,
                                scale=float(rng.uniform(0.8, 0.95)), angle=float(rng.uniform(-0.15, 0.15)))
            _save(root / folder / "images" / f"{n}.jpg", img)
            v, a = _va(concept, rng)
            np.save(ann / f"{n}_exp.npy", np.array(str(e)))
            np.save(ann / f"{n}_val.npy", np.array(f"{v:.6f}"))
            np.save(ann / f"{n}_aro.npy", np.array(f"{a:.6f}"))
            np.save(ann / f"{n}_lnd.npy", np.array([f"{p:.3f}" for p in lm.reshape(-1)]))
            n += 1
        out["rows"][split] = len(labels)
    return out


def rafdb(root: Path, per_class: dict[str, int], bad: bool = True, seed: int = 0) -> dict:
    """RAF-DB basic: ``EmoLabel/list_patition_label.txt``, ``Image/aligned/*_aligned.jpg`` (100x100),
    ``Image/original/*.jpg`` and ``Annotation/manual/*_manu_attri.txt`` (5 points, gender, race, age).
    With ``bad``, three invalid lines follow the good ones."""
    rng = np.random.default_rng(seed)
    classes = EXPRESSION_SPACES["rafdb-7"]
    lines: list[str] = []
    out: dict = {"rows": {}, "bad_lines": []}
    for split in ("train", "test"):
        labels = [j for j in range(len(classes)) for _ in range(per_class[split])]
        for k, j in enumerate(labels, start=1):
            stem = f"{split}_{k:05d}" if split == "train" else f"{split}_{k:04d}"
            s = int(rng.integers(1 << 30))
            aligned, _ = draw_face(classes[j], seed=s, size=100, scale=1.0)
            _save(root / "Image" / "aligned" / f"{stem}_aligned.jpg", aligned)
            original, lm = draw_face(classes[j], seed=s, size=200, **_pose(rng))
            _save(root / "Image" / "original" / f"{stem}.jpg", original)
            five = np.stack([lm[36:42].mean(0), lm[42:48].mean(0), lm[30], lm[48], lm[54]])
            manual = root / "Annotation" / "manual" / f"{stem}_manu_attri.txt"
            manual.parent.mkdir(parents=True, exist_ok=True)
            manual.write_text("".join(f"{x:.2f}\t{y:.2f}\n" for x, y in five) + "1\n0\n2\n")
            lines.append(f"{stem}.jpg {j + 1}")
        out["rows"][split] = len(labels)
    if bad:
        first = len(lines) + 1
        lines += ["train_09999.jpg 8", "train_00001.jpg", "valid_00001.jpg 3"]
        out["bad_lines"] = [first, first + 1, first + 2]
    path = root / "EmoLabel" / "list_patition_label.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return out


def class_folders(root: Path, names: tuple[str, ...], per_class: dict[str, int], seed: int = 0) -> dict:
    """``root/<split>/<name>/*.png`` 112x112 face crops (the folder names as given, e.g. 'happy')."""
    rng = np.random.default_rng(seed)
    for split, n in per_class.items():
        for name in names:
            concept = expression_concept(name) or "Neutral"
            for k in range(n):
                img, _ = draw_face(concept, seed=int(rng.integers(1 << 30)), size=112, scale=1.0)
                path = root / split / name / f"{k:03d}.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    return {"rows": {s: n * len(names) for s, n in per_class.items()}}


def csv_table(root: Path, concepts: tuple[str, ...], n: int, aus: tuple[str, ...] = ("AU12", "AU4"),
              bad: bool = True, seed: int = 0) -> dict:
    """``root/labels.csv`` (path, expression name, valence, arousal, AU columns, split) and
    ``root/img/*.jpg`` 112x112 crops; with ``bad``, three invalid rows at the end."""
    rng = np.random.default_rng(seed)
    rows = [["path", "expression", "valence", "arousal", *aus, "split"]]
    for k in range(n):
        concept = concepts[k % len(concepts)]
        img, _ = draw_face(concept, seed=int(rng.integers(1 << 30)), size=112, scale=1.0)
        _save(root / "img" / f"{k:03d}.jpg", img)
        v, a = _va(concept, rng)
        au = [str(int(concept == "Happiness")) if x == "AU12" else str(int(concept == "Anger")) for x in aus]
        rows.append([f"img/{k:03d}.jpg", concept.lower(), f"{v:.4f}", f"{a:.4f}", *au,
                     "val" if k % 5 == 0 else "train"])
    out: dict = {"rows": n, "bad_lines": []}
    if bad:
        first = len(rows) + 1
        rows += [["img/000.jpg", "elation", "0", "0", "0", "0", "train"],
                 ["img/001.jpg", "happy", "0.2", "", "0", "0", "train"],
                 ["img/002.jpg", "happy", "0.1", "0.1", "2", "0", "train"]]
        out["bad_lines"] = [first, first + 1, first + 2]
    with open(root / "labels.csv", "w", newline="") as f:
        csv.writer(f).writerows(rows)
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.imagedbgen OUT [--per-class N]``: OUT/affectnet (original layout) and OUT/rafdb."""
    import argparse

    ap = argparse.ArgumentParser(description="generated AffectNet and RAF-DB trees in their exact layouts")
    ap.add_argument("out", type=Path)
    ap.add_argument("--per-class", type=int, default=20, help="training images per class (half that for val/test)")
    args = ap.parse_args(argv)
    n = args.per_class
    affectnet_original(args.out / "affectnet", {"train": n, "val": max(1, n // 2)}, bad=False)
    rafdb(args.out / "rafdb", {"train": n, "test": max(1, n // 2)}, bad=False)
    print(f"wrote {args.out / 'affectnet'} and {args.out / 'rafdb'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

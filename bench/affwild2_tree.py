"""A synthetic tree of Aff-Wild2's size for bench/affwild2_scale.py: label files in both layouts (2020 and
2022: VA for every video, EXPR for most, AU for half; train/validation splits; _left/_right pairs sharing a
media name; "not labelled" runs) and ``cropped_aligned`` JPEGs for a sample of whole videos."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.store import frame_counts  # noqa: E402
from core.interchange.layout import annotations_base, header_for, split_dir, task_dir  # noqa: E402
from core.labels import AU_PRESETS  # noqa: E402

ALL_AUS = sorted(set(AU_PRESETS["affwild2-8"].aus) | set(AU_PRESETS["affwild2-12"].aus), key=lambda a: int(a[2:]))


def video_names(videos: int) -> list[str]:
    """Aff-Wild2-like names; every 25th pair of videos is one media file's _left and _right person."""
    names = []
    i = 0
    while len(names) < videos:
        if i % 25 == 7 and len(names) + 2 <= videos:
            names += [f"{i}-30-1280x720_left", f"{i}-30-1280x720_right"]
        else:
            names.append(f"{i}-30-1280x720")
        i += 1
    return names


def _runs(n: int, rng: np.random.Generator, share: float) -> np.ndarray:
    """(n,) bool: runs of frames 'not labelled' covering about ``share`` of them."""
    out = np.zeros(n, bool)
    for _ in range(max(1, int(share * n / 200))):
        a = int(rng.integers(0, n))
        out[a:a + int(rng.integers(50, 350))] = True
    return out


def _write(path: Path, header: str, body: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(header.encode() + b"\n" + body)


def _int_body(values: np.ndarray) -> bytes:
    """Rows of small ints (-1..9) as 'a,b,c\\n' without a Python loop per line."""
    v = np.asarray(values, np.int64)
    k = v.shape[1]
    digits = np.ascontiguousarray(np.clip(v, 0, 9) + 48, dtype=np.uint8).view("S1")
    cells = np.where(v < 0, b"-1", digits)
    rows = cells[:, 0].astype("S2")
    for j in range(1, k):
        rows = np.char.add(np.char.add(rows, b","), cells[:, j])
    return b"\n".join(rows.tolist()) + b"\n"


def _va_body(va: np.ndarray, missing: np.ndarray) -> bytes:
    text = np.char.mod("%.3f", va.astype(np.float64))
    rows = np.char.add(np.char.add(text[:, 0], ","), text[:, 1])
    rows[missing] = "-5,-5"
    return ("\n".join(rows.tolist()) + "\n").encode()


def generate(root: Path, videos: int, frames: int, seed: int = 0) -> dict:
    """Both layouts' label trees under root/2020 and root/2022 (the same labels); returns what was made."""
    rng = np.random.default_rng(seed)
    names = video_names(videos)
    counts = np.array(frame_counts(videos, frames, rng, spread=0.8, least=300))
    has_expr = rng.random(videos) < 0.85
    has_au = rng.random(videos) < 0.5
    split = np.where(rng.random(videos) < 0.7, "train", "val")
    t0 = time.perf_counter()
    nbytes = 0
    for i, (video, n) in enumerate(zip(names, counts)):
        n = int(n)
        va = np.tanh(np.cumsum(rng.normal(0, 0.03, (n, 2)), axis=0))
        va_body = _va_body(va, _runs(n, rng, 0.03))
        seg = np.repeat(rng.integers(0, 8, n // 30 + 1), 30)[:n]
        expr = np.where(_runs(n, rng, 0.05), -1, seg)
        au_all = (rng.random((n // 40 + 1, len(ALL_AUS))) < 0.25).repeat(40, axis=0)[:n].astype(np.int64)
        au_all[_runs(n, rng, 0.05)] = -1
        for layout in ("2020", "2022"):
            base = annotations_base(layout, root / layout)
            sd = split_dir(layout, str(split[i]))
            files = [("va", header_for("va", layout, ()), va_body)]
            if has_expr[i]:
                e = expr if layout == "2022" else np.where(expr == 7, -1, expr)
                files.append(("expr", header_for("expr", layout, ()), _int_body(e[:, None])))
            if has_au[i]:
                aus = AU_PRESETS["affwild2-12" if layout == "2022" else "affwild2-8"].aus
                files.append(("au", ",".join(aus), _int_body(au_all[:, [ALL_AUS.index(a) for a in aus]])))
            for task, header, body in files:
                _write(base / task_dir(layout, task) / sd / f"{video}.txt", header, body)
                nbytes += len(body)
    return {"videos": videos, "frames": int(counts.sum()), "expr_videos": int(has_expr.sum()),
            "au_videos": int(has_au.sum()), "label_bytes_both_layouts": nbytes,
            "seconds": round(time.perf_counter() - t0, 1), "names": names, "counts": counts.tolist()}


def synthetic_crop(rng: np.random.Generator) -> np.ndarray:
    """A 112x112 RGB crop with a face-like smooth structure (JPEG ~5 KB at quality 90, like Aff-Wild2's)."""
    import cv2

    base = rng.integers(40, 220, (7, 7, 3)).astype(np.uint8)
    img = cv2.resize(base, (112, 112), interpolation=cv2.INTER_CUBIC)
    cv2.ellipse(img, (56, 60), (34, 44), 0, 0, 360, tuple(int(c) for c in rng.integers(120, 230, 3)), -1)
    for x in (41, 71):
        cv2.circle(img, (x, 52), 5, (30, 30, 30), -1)
    cv2.ellipse(img, (56, 90), (14, 5), 0, 0, 360, (90, 40, 40), -1)
    noise = rng.normal(0, 6, img.shape)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def write_crops(root: Path, names: list[str], counts: list[int], sample: int, seed: int = 1) -> dict:
    """cropped_aligned/<video>/00001.jpg ... for whole videos (shortest-first order of a shuffle) up to ``sample``
    crops; 2 % of the frames have no crop (no face found), as in Aff-Wild2."""
    import cv2

    rng = np.random.default_rng(seed)
    order = rng.permutation(len(names))
    chosen, total = [], 0
    for i in order:
        if total >= sample:
            break
        if counts[i] <= 3000:
            chosen.append(int(i))
            total += counts[i]
    pool = [cv2.imencode(".jpg", cv2.cvtColor(synthetic_crop(rng), cv2.COLOR_RGB2BGR),
                         [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes() for _ in range(256)]
    nbytes = crops = 0
    t0 = time.perf_counter()
    for i in chosen:
        d = root / "cropped_aligned" / names[i]
        d.mkdir(parents=True, exist_ok=True)
        for f in range(counts[i]):
            if rng.random() < 0.02:
                continue
            data = pool[int(rng.integers(0, len(pool)))]
            (d / f"{f + 1:05d}.jpg").write_bytes(data)
            nbytes += len(data)
            crops += 1
    return {"videos": [names[i] for i in chosen], "crops": crops, "jpeg_bytes": nbytes,
            "jpeg_bytes_per_crop": round(nbytes / max(crops, 1), 1), "seconds": round(time.perf_counter() - t0, 1)}

"""Where Aff-Wild2 label files lie in the two distributed layouts, and how names map to videos."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import LabelFileError
from ..labels import EXPRESSIONS, AUSet

LAYOUTS = ("2020", "2022")
# task folder names per layout; the first name is the one written
TASK_DIRS: dict[str, dict[str, tuple[str, ...]]] = {
    "2020": {"va": ("VA_Set",), "expr": ("EXPR_Set",), "au": ("AU_Set",)},
    "2022": {"va": ("VA_Estimation_Challenge",),
             "expr": ("EXPR_Classification_Challenge", "EXPR_Recognition_Challenge"),
             "au": ("AU_Detection_Challenge",)},
}
SPLIT_DIRS: dict[str, dict[str, str]] = {
    "2020": {"Training_Set": "train", "Validation_Set": "val", "Test_Set": "test"},
    "2022": {"Train_Set": "train", "Validation_Set": "val", "Test_Set": "test"},
}
PERSON_SUFFIXES = ("_left", "_right", "_main")
MEDIA_EXTS = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".mpeg", ".ts", ".flv", ".wmv")


def media_stem(video: str) -> str:
    """'12-24-1920x1080_left' -> '12-24-1920x1080': both people of a video share one media file."""
    for s in PERSON_SUFFIXES:
        if video.endswith(s) and len(video) > len(s):
            return video[: -len(s)]
    return video


def split_dir(layout: str, split: str) -> str:
    for folder, name in SPLIT_DIRS[layout].items():
        if name == split:
            return folder
    return split  # a project split with no Aff-Wild2 name keeps its own


def task_dir(layout: str, task: str) -> str:
    return TASK_DIRS[layout][task][0]


def expr_header(layout: str) -> str:
    return ",".join(EXPRESSIONS[:7] if layout == "2020" else EXPRESSIONS)


def header_for(task: str, layout: str, aus: AUSet | tuple[str, ...]) -> str:
    if task == "va":
        return "valence,arousal"
    if task == "expr":
        return expr_header(layout)
    return ",".join(aus.aus if isinstance(aus, AUSet) else aus)


def annotations_base(layout: str, out: Path) -> Path:
    return out / "annotations" if layout == "2020" else out


@dataclass(frozen=True)
class DatasetFile:
    task: str
    split: str
    video: str
    path: Path


def _task_folders(base: Path) -> dict[str, dict[str, Path]]:
    found: dict[str, dict[str, Path]] = {}
    for layout, tasks in TASK_DIRS.items():
        for task, names in tasks.items():
            for n in names:
                if (base / n).is_dir():
                    found.setdefault(layout, {})[task] = base / n
                    break
    return found


def find_task_folders(root: Path) -> tuple[str, dict[str, Path]]:
    """(layout, task -> folder) of the dataset under ``root`` (itself, annotations/, or one level down)."""
    root = Path(root)
    if not root.is_dir():
        raise LabelFileError("not a folder", root)
    bases = [root, root / "annotations"]
    bases += sorted(p for p in root.iterdir() if p.is_dir() and p.name != "cropped_aligned")
    bases += [p / "annotations" for p in bases[2:]]
    for base in bases:
        found = _task_folders(base) if base.is_dir() else {}
        if len(found) > 1:
            raise LabelFileError(f"both Aff-Wild2 layouts (2020 and 2022) under {base}: import one at a time", root)
        if found:
            layout, tasks = next(iter(found.items()))
            return layout, tasks
    names = sorted({n for t in TASK_DIRS.values() for ns in t.values() for n in ns})
    raise LabelFileError(f"no Aff-Wild2 annotation folders found (looked for {', '.join(names)})", root)


def list_files(root: Path) -> tuple[str, list[DatasetFile], list[str]]:
    """(layout, label files, notes about folders left out) of a dataset tree."""
    layout, tasks = find_task_folders(root)
    files: list[DatasetFile] = []
    notes: list[str] = []
    for task, folder in tasks.items():
        for sub in sorted(folder.iterdir()):
            if not sub.is_dir():
                continue
            split = SPLIT_DIRS[layout].get(sub.name)
            if split is None:
                notes.append(f"{sub}: not a {layout} split folder ({', '.join(SPLIT_DIRS[layout])}); left out")
                continue
            for f in sorted(sub.glob("*.txt")):
                files.append(DatasetFile(task, split, f.stem, f))
    return layout, files, notes


def index_media(folder: Path | None) -> dict[str, Path]:
    """stem -> media file under ``folder`` (recursive); the first found wins."""
    out: dict[str, Path] = {}
    if folder is None or not Path(folder).is_dir():
        return out
    for p in sorted(Path(folder).rglob("*")):
        if p.suffix.lower() in MEDIA_EXTS and p.is_file():
            out.setdefault(p.stem, p)
    return out

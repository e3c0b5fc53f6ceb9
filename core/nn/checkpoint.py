"""Checkpoints: model weights plus config, label spaces, metrics and preset, all plain types and tensors
so they load with ``torch.load(weights_only=True)``."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import CheckpointError
from ..fsio import atomic_write_with
from .config import TrainConfig
from .presets import build_model, get_preset
from .torchload import load_tensors

FORMAT = "affecttrace-checkpoint"
VERSION = 1


@dataclass
class LabelSpaces:
    expressions: tuple[str, ...]
    aus: tuple[str, ...]
    au_set: str = "custom"

    def to_dict(self) -> dict[str, Any]:
        return {"expressions": list(self.expressions), "aus": list(self.aus), "au_set": self.au_set}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "LabelSpaces":
        return cls(tuple(d["expressions"]), tuple(d["aus"]), str(d.get("au_set", "custom")))


def save_checkpoint(path: str | Path, model: nn.Module, config: TrainConfig, labels: LabelSpaces,
                    epoch: int, step: int, metrics: dict[str, Any] | None = None,
                    training_state: dict[str, Any] | None = None) -> Path:
    """Write atomically (temp file + rename): a crash mid-write never leaves a half checkpoint."""
    path = Path(path)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    obj = {"format": FORMAT, "version": VERSION, "preset": config.preset, "config": config.to_dict(),
           "labels": labels.to_dict(), "epoch": int(epoch), "step": int(step),
           "metrics": _plain(metrics or {}), "model": state}
    if training_state:
        obj["training"] = training_state
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())

    atomic_write_with(path, write, error=CheckpointError)
    return path


def _plain(obj: Any) -> Any:
    """Numbers, strings, lists and dicts only (numpy scalars -> float), as weights_only loading needs."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, (bool, int, str)) or obj is None:
        return obj
    try:
        return float(obj)
    except (TypeError, ValueError):
        return str(obj)


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    obj = load_tensors(path)
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise CheckpointError("not an AffectTrace checkpoint (for backbone weights use --pretrained)", path)
    version = obj.get("version", 0)
    if not isinstance(version, int):
        raise CheckpointError(f"damaged checkpoint: version {version!r} is not a number", path)
    if version > VERSION:
        raise CheckpointError(f"checkpoint format {obj['version']} is newer than this AffectTrace ({VERSION})", path)
    problem = _field_problem(obj)
    if problem:
        raise CheckpointError(f"damaged checkpoint: {problem}", path)
    return obj


def _field_problem(obj: dict[str, Any]) -> str | None:
    """What is missing or of the wrong type among the fields every reader of a checkpoint uses."""
    for key, kind in (("preset", str), ("config", dict), ("labels", dict), ("model", dict), ("epoch", int),
                      ("step", int)):
        if key not in obj:
            return f"no {key!r}"
        if not isinstance(obj[key], kind) or isinstance(obj[key], bool):
            return f"{key!r} is {type(obj[key]).__name__}, not {kind.__name__}"
    labels = obj["labels"]
    for key in ("expressions", "aus"):
        names = labels.get(key)
        if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
            return f"labels.{key} is not a list of names"
    if not labels["expressions"]:
        return "labels.expressions is empty"
    if not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj["model"].items()):
        return "'model' is not a state dict of tensors"
    if not isinstance(obj.get("metrics", {}), dict):
        return "'metrics' is not a table"
    return None


def check_compatible(ckpt: dict[str, Any], path: str | Path, preset: str | None = None,
                     labels: LabelSpaces | None = None) -> None:
    """Refuse a checkpoint of another architecture or label set, saying which and how they differ."""
    if preset is not None and ckpt["preset"] != preset:
        raise CheckpointError(f"checkpoint is for preset {ckpt['preset']!r}, not {preset!r}", path)
    if labels is not None:
        have = LabelSpaces.from_dict(ckpt["labels"])
        if have.expressions != labels.expressions:
            raise CheckpointError(f"checkpoint predicts {len(have.expressions)} expressions "
                                  f"({', '.join(have.expressions)}), the project uses {len(labels.expressions)} "
                                  f"({', '.join(labels.expressions)})", path)
        if have.aus != labels.aus:
            raise CheckpointError(f"checkpoint predicts AUs {', '.join(have.aus)}, the project uses "
                                  f"{', '.join(labels.aus)}", path)


def model_from_checkpoint(path: str | Path, preset: str | None = None, labels: LabelSpaces | None = None,
                          device: str | torch.device = "cpu") -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the network a checkpoint was trained as and load its weights (in eval mode)."""
    ckpt = read_checkpoint(path)
    check_compatible(ckpt, path, preset, labels)
    get_preset(ckpt["preset"])
    cfg = ckpt["config"]
    ls = LabelSpaces.from_dict(ckpt["labels"])
    model = build_model(ckpt["preset"], len(ls.expressions), len(ls.aus), cfg.get("arc_s", 64.0),
                        cfg.get("arc_m", 0.5))
    load_weights(model, ckpt["model"], path)
    return model.to(device).eval(), ckpt


def load_weights(model: nn.Module, state: dict[str, torch.Tensor], path: str | Path) -> None:
    """Strict load that turns PyTorch's long mismatch dump into one line."""
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [k for k in own if k in state and tuple(own[k].shape) != tuple(state[k].shape)]
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected (e.g. {unexpected[0]})")
        if shapes:
            parts.append(f"{len(shapes)} of another shape (e.g. {shapes[0]})")
        raise CheckpointError("weights do not fit this architecture: " + ", ".join(parts), path)
    model.load_state_dict(state)


def checkpoint_hash(path: str | Path) -> str:
    """First 16 hex digits of the file's SHA-256: the provenance recorded on model tracks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


@dataclass
class FinetuneReport:
    """What a fine-tuning start took from a checkpoint: per part 'kept', 'remapped ...' or 're-initialised ...'."""

    path: str
    source_preset: str
    parts: dict[str, str]

    def describe(self) -> str:
        return f"{self.path} ({self.source_preset}): " + "; ".join(f"{k} {v}" for k, v in self.parts.items())

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "source_preset": self.source_preset, "parts": dict(self.parts),
                "describe": self.describe()}


def _rows(own: torch.Tensor, theirs: torch.Tensor, index: list[int]) -> torch.Tensor:
    """``own`` with row j replaced by ``theirs[index[j]]`` wherever index[j] >= 0."""
    out = own.clone()
    for j, i in enumerate(index):
        if i >= 0:
            out[j] = theirs[i]
    return out


def _head(own: dict[str, torch.Tensor], theirs: dict[str, torch.Tensor], prefix: str, index: list[int],
          names: tuple[str, ...], what: str) -> tuple[dict[str, torch.Tensor], str]:
    """One classification head remapped row by row (``index``: checkpoint row of each new class, -1: none)."""
    keys = [k for k in own if k.startswith(prefix)]
    if sorted(keys) != sorted(k for k in theirs if k.startswith(prefix)):
        return {}, "re-initialised (another head type)"
    if not any(i >= 0 for i in index):
        return {}, f"re-initialised (no {what} in common)"
    new = {k: _rows(own[k], theirs[k], index) for k in keys}
    fresh = [n for n, i in zip(names, index) if i < 0]
    kept = len(names) - len(fresh)
    if not fresh and index == list(range(len(theirs[keys[0]]))):
        return new, "kept"
    return new, (f"remapped ({kept} of {len(names)} {what} from the checkpoint"
                 + (f"; {', '.join(fresh)} re-initialised)" if fresh else ")"))


def finetune_from(model: nn.Module, path: str | Path, labels: LabelSpaces, preset: str) -> FinetuneReport:
    """Start ``model`` (built for ``preset`` and ``labels``) from a checkpoint of the same backbone: the
    backbone, audio, temporal and neck weights kept; the VA head kept; the expression head remapped class
    by class through core.labels' mapping table (classes without a counterpart re-initialised); the AU
    head remapped by AU name. Loads into ``model`` and says what it did."""
    from ..labels import expression_mapping

    ckpt = read_checkpoint(path)
    src, dst = get_preset(ckpt["preset"]), get_preset(preset)
    if src.backbone != dst.backbone:
        raise CheckpointError(f"checkpoint has a {src.backbone} backbone ({src.name}); preset {dst.name} needs "
                              f"{dst.backbone}: fine-tune with a preset of the same backbone", path)
    theirs, own = ckpt["model"], model.state_dict()
    have = LabelSpaces.from_dict(ckpt["labels"])
    state = dict(own)
    parts: dict[str, str] = {}
    for part in ("backbone", "audio_net", "temporal", "heads.neck", "heads.va"):
        keys = [k for k in own if k.startswith(part + ".")]
        if not keys:
            continue
        fits = all(k in theirs and theirs[k].shape == own[k].shape for k in keys)
        state.update({k: theirs[k] for k in keys} if fits else {})
        parts[part.replace("heads.", "") + (" head" if part == "heads.va" else "")] = \
            "kept" if fits else "re-initialised (not in the checkpoint in this shape)"
    try:
        index = list(expression_mapping(have.expressions, labels.expressions).index)
        expr_index = [index.index(j) if j in index else -1 for j in range(len(labels.expressions))]
    except ValueError:
        expr_index = [-1] * len(labels.expressions)
    new, parts["expr head"] = _head(own, theirs, "heads.expr.", expr_index, labels.expressions, "classes")
    state.update(new)
    au_index = [have.aus.index(a) if a in have.aus else -1 for a in labels.aus]
    new, parts["au head"] = _head(own, theirs, "heads.au.", au_index, labels.aus, "AUs") if labels.aus \
        else ({}, "none (the run has no AUs)")
    state.update(new)
    model.load_state_dict(state)
    return FinetuneReport(str(path), src.name, parts)

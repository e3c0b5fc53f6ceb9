"""Expression names found in folders and CSV cells -> classes of a label space, through a user's label map
("happy=Happiness,mad=Anger") and the one concept table of core.labels."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from ..errors import LabelFileError
from ..labels import EXPRESSION_SPACES, expression_concept, expression_space


def parse_label_map(spec: str | None, where: str | Path | None = None) -> dict[str, str]:
    """'happy=Happiness,mad=Anger' -> {'happy': 'Happiness', 'mad': 'Anger'} (keys lower-cased);
    a value must be a class name of the concept table."""
    out: dict[str, str] = {}
    for part in (spec or "").split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip() or expression_concept(value) is None:
            raise LabelFileError(f"--label-map wants NAME=CLASS pairs with a known class, got {part.strip()!r}",
                                 where)
        out[key.strip().lower()] = value.strip()
    return out


def concept_of(name: str, label_map: dict[str, str]) -> str | None:
    """The expression concept a folder or cell name stands for, None when neither map knows it."""
    return expression_concept(label_map.get(name.strip().lower(), name))


def choose_space(names: Iterable[str], label_map: dict[str, str], explicit: str | None,
                 where: str | Path | None = None) -> str:
    """``explicit`` when given, else the smallest known space holding every named concept (first in
    EXPRESSION_SPACES order among equals)."""
    if explicit:
        try:
            expression_space(explicit)
        except ValueError as e:
            raise LabelFileError(str(e), where) from None
        return explicit
    wanted = {c for c in (concept_of(n, label_map) for n in names) if c is not None}
    fits = [k for k, classes in EXPRESSION_SPACES.items()
            if wanted <= {expression_concept(c) for c in classes}]
    if not fits:
        raise LabelFileError(f"no label space holds all of {', '.join(sorted(wanted))}; choose one with "
                             f"--expr-space ({', '.join(EXPRESSION_SPACES)})", where)
    return min(fits, key=lambda k: len(EXPRESSION_SPACES[k]))


def class_index(name: str, classes: tuple[str, ...], label_map: dict[str, str]) -> int | None:
    """Index of a name's concept among ``classes``; None when it names no class there."""
    concept = concept_of(name, label_map)
    for j, c in enumerate(classes):
        if concept is not None and expression_concept(c) == concept:
            return j
    return None

"""The one definition of every label space: valence-arousal, expressions, action units.

Every other module imports its names, orders and sentinels from here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

# --- valence / arousal -------------------------------------------------------------
VA_NAMES: tuple[str, str] = ("valence", "arousal")
VA_RANGE: tuple[float, float] = (-1.0, 1.0)
VA_FILE_MISSING: float = -5.0  # Aff-Wild2 files: a row with -5 in either column is unlabelled

# --- expressions ---------------------------------------------------------------
EXPRESSIONS: tuple[str, ...] = (
    "Neutral", "Anger", "Disgust", "Fear", "Happiness", "Sadness", "Surprise", "Other",
)
EXPRESSIONS_2020: tuple[str, ...] = EXPRESSIONS[:7]  # ABAW 2020 / Aff-Wild2 2020 files: no "Other"
EXPR_OTHER: int = 7
EXPR_MISSING: int = -1

# --- action units ----------------------------------------------------------------
AU_MISSING: int = -1
AU_INTENSITY_MAX: int = 5

FACS_NAMES: dict[int, str] = {
    1: "Inner brow raiser", 2: "Outer brow raiser", 4: "Brow lowerer", 5: "Upper lid raiser",
    6: "Cheek raiser", 7: "Lid tightener", 9: "Nose wrinkler", 10: "Upper lip raiser",
    11: "Nasolabial deepener", 12: "Lip corner puller", 13: "Cheek puffer", 14: "Dimpler",
    15: "Lip corner depressor", 16: "Lower lip depressor", 17: "Chin raiser", 18: "Lip pucker",
    20: "Lip stretcher", 22: "Lip funneler", 23: "Lip tightener", 24: "Lip pressor",
    25: "Lips part", 26: "Jaw drop", 27: "Mouth stretch", 28: "Lip suck", 43: "Eyes closed",
    45: "Blink", 46: "Wink",
}


def au_number(name: str) -> int:
    """'AU12' -> 12. Raises ValueError on anything else."""
    s = name.strip()
    if not s.upper().startswith("AU") or not s[2:].isdigit():
        raise ValueError(f"not an action unit name: {name!r} (expected e.g. 'AU12')")
    return int(s[2:])


def au_description(name: str) -> str:
    """FACS name of an AU, e.g. 'AU12' -> 'Lip corner puller'; '' when unknown."""
    return FACS_NAMES.get(au_number(name), "")


@dataclass(frozen=True)
class AUSet:
    """An ordered list of action units chosen by a project. Nothing may assume 8 or 12."""

    name: str
    aus: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.aus:
            raise ValueError("an AU set needs at least one action unit")
        norm = tuple(f"AU{au_number(a)}" for a in self.aus)
        if len(set(norm)) != len(norm):
            raise ValueError(f"AU set {self.name!r} lists an action unit twice: {', '.join(self.aus)}")
        object.__setattr__(self, "aus", norm)

    def __len__(self) -> int:
        return len(self.aus)

    def index(self, au: str) -> int:
        return self.aus.index(f"AU{au_number(au)}")

    def to_dict(self) -> dict:
        return {"name": self.name, "aus": list(self.aus)}

    @classmethod
    def from_dict(cls, d: dict) -> "AUSet":
        return cls(str(d["name"]), tuple(d["aus"]))


AU_PRESETS: dict[str, AUSet] = {
    "affwild2-8": AUSet("affwild2-8", ("AU1", "AU2", "AU4", "AU6", "AU12", "AU15", "AU20", "AU25")),
    "affwild2-12": AUSet(
        "affwild2-12",
        ("AU1", "AU2", "AU4", "AU6", "AU7", "AU10", "AU12", "AU15", "AU23", "AU24", "AU25", "AU26"),
    ),
}


def au_set(spec: str | Sequence[str] | AUSet) -> AUSet:
    """A preset name ('affwild2-8'), a comma list ('AU1,AU12') or a sequence of names -> AUSet."""
    if isinstance(spec, AUSet):
        return spec
    if isinstance(spec, str):
        if spec in AU_PRESETS:
            return AU_PRESETS[spec]
        parts = [p for p in spec.split(",") if p.strip()]
        if not parts:
            raise ValueError(f"unknown AU set {spec!r}: use {', '.join(AU_PRESETS)} or a list like AU1,AU12")
        return _named_custom(parts)
    return _named_custom(list(spec))


def _named_custom(aus: Sequence[str]) -> AUSet:
    s = AUSet("custom", tuple(aus))
    for preset in AU_PRESETS.values():
        if preset.aus == s.aus:
            return preset
    return s


TASKS: tuple[str, ...] = ("va", "expr", "au")

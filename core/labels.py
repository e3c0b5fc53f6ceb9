"""The one definition of every label space: valence-arousal, expressions, action units.

Every other module imports its names, orders and sentinels from here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    import numpy as np

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

# --- expression label spaces of other databases, and the one table that maps them ------------------
# Each space lists its classes in its own index order, named as that database names them.
EXPRESSION_SPACES: dict[str, tuple[str, ...]] = {
    "affwild2": EXPRESSIONS,
    "affwild2-7": EXPRESSIONS_2020,
    # AffectNet expression 0-7; 8 None, 9 Uncertain, 10 No-Face are not classes of either space
    "affectnet-8": ("Neutral", "Happy", "Sad", "Surprise", "Fear", "Disgust", "Anger", "Contempt"),
    "affectnet-7": ("Neutral", "Happy", "Sad", "Surprise", "Fear", "Disgust", "Anger"),
    # RAF-DB basic labels 1-7, stored 0-6
    "rafdb-7": ("Surprise", "Fear", "Disgust", "Happiness", "Sadness", "Anger", "Neutral"),
}

# The one mapping table: each expression concept and every class name that means it. Classes map onto
# each other when they name the same concept. Contempt (AffectNet) and Other (Aff-Wild2) have no
# counterpart elsewhere: Other is not "any other class", and AffectNet's None (8) is not Other.
EXPRESSION_CONCEPTS: dict[str, tuple[str, ...]] = {
    "Neutral": ("Neutral",),
    "Anger": ("Anger", "Angry"),
    "Disgust": ("Disgust", "Disgusted"),
    "Fear": ("Fear", "Fearful"),
    "Happiness": ("Happiness", "Happy"),
    "Sadness": ("Sadness", "Sad"),
    "Surprise": ("Surprise", "Surprised"),
    "Contempt": ("Contempt",),
    "Other": ("Other",),
}
_CONCEPT_OF: dict[str, str] = {n.lower(): c for c, names in EXPRESSION_CONCEPTS.items() for n in names}


def expression_concept(name: str) -> str | None:
    """The concept a class name means ('Happy' -> 'Happiness'); None for a name the table lacks."""
    return _CONCEPT_OF.get(name.strip().lower())


def expression_space(spec: str | Sequence[str]) -> tuple[str, ...]:
    """A space by name ('affectnet-8') or a sequence of class names (each must be in the table)."""
    if isinstance(spec, str):
        if spec not in EXPRESSION_SPACES:
            raise ValueError(f"unknown expression label space {spec!r}; choose one of {', '.join(EXPRESSION_SPACES)}")
        return EXPRESSION_SPACES[spec]
    names = tuple(str(n) for n in spec)
    unknown = [n for n in names if expression_concept(n) is None]
    if unknown or not names:
        raise ValueError(f"unknown expression class(es) {', '.join(unknown) or '(none given)'}; known: "
                         f"{', '.join(n for ns in EXPRESSION_CONCEPTS.values() for n in ns)}")
    concepts = [expression_concept(n) for n in names]
    if len(set(concepts)) != len(concepts):
        raise ValueError(f"expression classes {', '.join(names)} name one expression twice")
    return names


def space_name(classes: Sequence[str]) -> str:
    """The name of a known space with exactly these classes, else 'custom'."""
    return next((k for k, v in EXPRESSION_SPACES.items() if v == tuple(classes)), "custom")


@dataclass(frozen=True)
class ExpressionMapping:
    """Class indices of ``source`` in ``target`` through EXPRESSION_CONCEPTS; -1 where none exists."""

    source: tuple[str, ...]
    target: tuple[str, ...]
    index: tuple[int, ...]

    @property
    def unmatched_source(self) -> tuple[str, ...]:
        return tuple(n for n, j in zip(self.source, self.index) if j < 0)

    @property
    def unmatched_target(self) -> tuple[str, ...]:
        hit = set(self.index)
        return tuple(n for j, n in enumerate(self.target) if j not in hit)

    @property
    def identity(self) -> bool:
        return self.source == self.target

    def apply(self, labels: "np.ndarray") -> "np.ndarray":
        """Source class indices -> target indices (int64); -1 and classes without a counterpart -> -1."""
        import numpy as np

        table = np.array(list(self.index) + [EXPR_MISSING], dtype=np.int64)
        a = np.asarray(labels, dtype=np.int64)
        return table[np.where((a >= 0) & (a < len(self.index)), a, len(self.index))]

    def describe(self) -> str:
        """One line: how many classes map, and which have no counterpart on either side."""
        parts = [f"{len(self.source) - len(self.unmatched_source)} of {len(self.source)} classes map"]
        if self.unmatched_source:
            parts.append(f"no counterpart for {', '.join(self.unmatched_source)}")
        if self.unmatched_target:
            parts.append(f"nothing maps to {', '.join(self.unmatched_target)}")
        return "; ".join(parts)


def expression_mapping(source: str | Sequence[str], target: str | Sequence[str]) -> ExpressionMapping:
    """How the classes of one space map onto another (by name or class list)."""
    src, dst = expression_space(source), expression_space(target)
    where = {expression_concept(n): j for j, n in enumerate(dst)}
    return ExpressionMapping(src, dst, tuple(where.get(expression_concept(n), -1) for n in src))

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

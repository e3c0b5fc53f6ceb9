"""What a value in another tool's tier or scheme means in the project: an expression class or an AU state.

Values match case-insensitively after trimming spaces, in this order:
  1. the user's map (``--map joy=Happiness``, ``--map smile=present``);
  2. the project's own spellings: the 8 expression class names and the names the one mapping table
     (core.labels.EXPRESSION_CONCEPTS) gives them ('Happy' -> Happiness); for AUs 0/1, absent/present
     and the FACS intensity letters A-E (present, intensity 1-5); for FACS tiers codes such as
     '1+2+12C' (AU1, AU2 and AU12 present, AU12 at intensity C).
Anything else is *unmapped*: listed, never guessed.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import AffectTraceError, LabelFileError
from ..labels import AU_INTENSITY_MAX, EXPRESSIONS, au_number, expression_concept
from ..safepaths import excerpt

AU_ABSENT, AU_PRESENT = "absent", "present"
INTENSITY_LETTERS = "ABCDE"  # FACS A (trace) .. E (maximum) = intensity 1..5
AU_VALUES: dict[str, tuple[int, int]] = {  # value -> (presence, intensity; -1 unknown)
    "0": (0, 0), AU_ABSENT: (0, 0), "1": (1, -1), AU_PRESENT: (1, -1),
    **{c.lower(): (1, i + 1) for i, c in enumerate(INTENSITY_LETTERS[:AU_INTENSITY_MAX])},
}
VA_DIMS = ("valence", "arousal")


FACS = "facs"  # the task of a tier or scheme whose values are FACS codes naming several AUs ("1+2+12C")
_FACS_TOKEN = re.compile(r"(?:AU)?\s*(\d{1,2})\s*([A-E])?", re.IGNORECASE)


def task_of(spec: str) -> str:
    """'expr' / 'expression' -> 'expr'; 'AU12' -> 'AU12'; 'facs' / 'AUs' -> FACS; 'valence' / 'arousal' -> that.
    Else ValueError."""
    s = spec.strip()
    if s.lower() in ("expr", "expression", "expressions"):
        return "expr"
    if s.lower() in (FACS, "au", "aus"):
        return FACS
    if s.lower() in VA_DIMS:
        return s.lower()
    return f"AU{au_number(s)}"


def name_pairs(specs: list[str] | None, option: str) -> dict[str, str]:
    """``NAME=VALUE`` options (the last '=' splits, so names may hold one) as a dict."""
    out = {}
    for s in specs or []:
        k, sep, v = s.rpartition("=")
        if not sep or not k.strip() or not v.strip():
            raise AffectTraceError(f"{option} {s!r}: expected NAME=VALUE")
        out[k.strip()] = v.strip()
    return out


AU_STATES = (AU_ABSENT, AU_PRESENT, *INTENSITY_LETTERS)  # written vocabulary: state code 0, 1, 2..6


def au_state_codes(presence: np.ndarray, intensity: np.ndarray | None) -> np.ndarray:
    """One code per frame for an AU column: -1 unlabelled, 0 absent, 1 present, 1 + k present with intensity k."""
    p = presence.astype(np.int16)
    k = np.full(len(p), -1, np.int16) if intensity is None else intensity.astype(np.int16)
    return np.where(p < 0, -1, np.where(p == 0, 0, np.where((k >= 1) & (k <= AU_INTENSITY_MAX), 1 + k, 1)))


@dataclass
class ValueMap:
    """The user's ``value=meaning`` pairs (case-insensitive), checked and ready to resolve values."""

    pairs: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, specs: list[str] | None) -> "ValueMap":
        pairs: dict[str, str] = {}
        for s in specs or []:
            value, sep, meaning = s.partition("=")
            if not sep or not value.strip() or not meaning.strip():
                raise AffectTraceError(f"--map {s!r}: expected VALUE=MEANING, e.g. joy=Happiness or smile=present")
            m = meaning.strip()
            if expr_code(m) is None and m.lower() not in AU_VALUES and facs_codes(m) is None:
                raise AffectTraceError(f"--map {s!r}: {m!r} is neither an expression class "
                                       f"({', '.join(EXPRESSIONS)}), an AU state (absent, present, A-E) nor FACS "
                                       "codes (12, 6+12C)")
            pairs[value.strip().lower()] = m
        return cls(pairs)

    def expr(self, value: str) -> int | None:
        v = value.strip()
        return expr_code(self.pairs.get(v.lower(), v))

    def au(self, value: str) -> tuple[int, int] | None:
        v = value.strip()
        return AU_VALUES.get(self.pairs.get(v.lower(), v).lower())

    def facs(self, value: str) -> list[tuple[str, int]] | None:
        v = value.strip()
        return facs_codes(self.pairs.get(v.lower(), v))


def facs_codes(value: str) -> list[tuple[str, int]] | None:
    """'1+2+12C' or 'AU6, AU12B' -> [(AU name, intensity 1-5 or -1)], the AUs present; None if not FACS codes."""
    tokens = [t for t in re.split(r"[+,]", value.strip()) if t.strip()]
    out = []
    for t in tokens:
        m = _FACS_TOKEN.fullmatch(t.strip())
        if m is None:
            return None
        out.append((f"AU{int(m.group(1))}", INTENSITY_LETTERS.index(m.group(2).upper()) + 1 if m.group(2) else -1))
    return out or None


def expr_code(name: str) -> int | None:
    """The class index of an expression name in the project's space (through the mapping table), else None."""
    concept = expression_concept(name)
    return EXPRESSIONS.index(concept) if concept in EXPRESSIONS else None


def unmapped_problem(unmapped: Counter[tuple[str, str]], unit: str) -> str:
    """The one-line problem listing values no map covers ((where, value) -> count), most frequent first."""
    listed = "; ".join(f"{excerpt(v, 30)} x{c} in {w!r}" for (w, v), c in unmapped.most_common(4))
    return (f"{sum(unmapped.values())} {unit}(s) with values not mapped (never guessed): {listed}"
            f"{' ...' if len(unmapped) > 4 else ''}; map them with --map VALUE=CLASS (or VALUE=present/absent "
            "for AUs) or leave them out with --skip-unmapped")


def raise_problems(problems: list[str], path: Path) -> None:
    """Nothing is imported when anything is wrong: one line with the first problem and the count of others."""
    if problems:
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        raise LabelFileError(f"nothing imported: {problems[0]}{more}", path)

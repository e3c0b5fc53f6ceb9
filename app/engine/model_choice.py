"""The model choosers the engine panels share: the current video's model tracks (newest first), and how a
training run is named in a list of runs."""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from PySide6.QtWidgets import QComboBox

from core.modeltracks import model_track_names
from core.words import EndState

if TYPE_CHECKING:
    from ..session import Session


def refill_model_combo(combo: QComboBox, session: Session, extra: Sequence[str] = ()) -> list[str]:
    """Refill ``combo`` with the session video's model tracks (newest first) and ``extra`` items, keeping
    the choice where it still exists; returns the model track names."""
    keep = combo.currentText()
    combo.clear()
    s = session
    names = model_track_names(s.project, s.video) if s.project is not None and s.video else []
    combo.addItems(names[::-1] + list(extra))
    if keep in names:
        combo.setCurrentText(keep)
    return names


def run_text(run_id: str, status: str, score: object = None) -> str:
    """A run as run lists show it: its id, its best score, and how it ended when it did not finish."""
    text = run_id + (f"  (score {score:.3f})" if isinstance(score, float) else "")
    return text if status in (EndState.FINISHED, EndState.EARLY_STOPPED) else f"{text}  [{status}]"

"""The model-track chooser the engine panels share: the current video's model tracks, newest first."""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from PySide6.QtWidgets import QComboBox

from core.modeltracks import model_track_names

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

"""Undo commands: a QUndoStack over core's edit operations (project.apply / project.revert).

One command may hold several edits (a recording pass, a paint stroke that also fills absent AUs);
undo reverts them in reverse order, so overlapping edits restore exactly.
"""
from __future__ import annotations

from typing import Protocol, Sequence

from PySide6.QtGui import QUndoCommand, QUndoStack

from core.edits import Edit


class EditTarget(Protocol):
    def apply(self, edit: Edit) -> None: ...
    def revert(self, edit: Edit) -> None: ...


class EditsCommand(QUndoCommand):
    """Apply ``edits`` in order on redo, revert them in reverse on undo.

    ``applied=True`` is for edits already written while the user worked (a recording pass is
    journaled chunk by chunk so a crash loses nothing); the first redo, run by push, then skips.
    """

    def __init__(self, target: EditTarget, edits: Sequence[Edit], text: str, applied: bool = False) -> None:
        super().__init__(text)
        self.target = target
        self.edits = list(edits)
        self._skip_redo = applied

    def redo(self) -> None:
        if self._skip_redo:
            self._skip_redo = False
            return
        for e in self.edits:
            self.target.apply(e)

    def undo(self) -> None:
        for e in reversed(self.edits):
            self.target.revert(e)


def describe(edits: Sequence[Edit]) -> str:
    """Undo-menu text for a group of edits: the first edit's own description (Edit.describe), e.g.
    'record va frames 10-250', with how many more edits the step holds."""
    if not edits:
        return "nothing"
    more = len(edits) - 1
    return edits[0].describe() + (f" (+{more} more)" if more else "")


def push_edits(stack: QUndoStack, target: EditTarget, edits: Sequence[Edit], text: str | None = None,
               applied: bool = False) -> EditsCommand | None:
    """Push a group of edits as one undo step (nothing when the group is empty)."""
    edits = [e for e in edits if len(e.values)]
    if not edits:
        return None
    cmd = EditsCommand(target, edits, text or describe(edits), applied=applied)
    stack.push(cmd)
    return cmd

"""Small dialogs: who is annotating, whether to make a project beside a video, the shortcuts sheet,
gamepad settings."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.labels import au_description

from .input.gamepad import GamepadInput
from .keys import AU_KEYS


def choose_annotator(parent: QWidget | None, known: list[str], default: str) -> str | None:
    """Pick an existing annotator or type a new name; None when cancelled."""
    d = QDialog(parent)
    d.setWindowTitle("Who is annotating?")
    lay = QVBoxLayout(d)
    lay.addWidget(QLabel("Every label you make is stamped with this name.\nChoose yourself or type a new name:"))
    box = QComboBox()
    box.setEditable(True)
    box.addItems(known)
    box.setCurrentText(default)
    lay.addWidget(box)
    bb = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
    bb.accepted.connect(d.accept)
    bb.rejected.connect(d.reject)
    lay.addWidget(bb)
    if d.exec() != QDialog.Accepted:
        return None
    name = box.currentText().strip()
    return name or None


def confirm_project_for_video(parent: QWidget | None, video: Path, folder: Path) -> bool:
    exists = (folder / "project.json").exists()
    text = (f"Reopen the project beside this video?\n\n{folder}" if exists else
            f"Create a project for this video?\n\nVideo: {video}\nProject folder: {folder}")
    return QMessageBox.question(parent, "AffectTrace", text, QMessageBox.Yes | QMessageBox.No,
                                QMessageBox.Yes) == QMessageBox.Yes


def shortcuts_sheet(parent: QWidget | None, actions: list[tuple[str, str, str]], held: Sequence[tuple[str, str]],
                    aus: Sequence[str]) -> QDialog:
    """A non-modal table of every key: the menu actions' shortcuts by menu (from the action registry),
    the held annotation keys, and the keys of this project's AUs."""
    au_keys = [(f"{AU_KEYS[k]} (hold)", f"{a} {au_description(a)}") for k, a in enumerate(aus) if k < len(AU_KEYS)]
    d = QDialog(parent)
    d.setWindowTitle("Keyboard shortcuts")
    lay = QVBoxLayout(d)
    rows: list[tuple[str, str]] = []
    for menu in dict.fromkeys(m for m, _k, _t in actions):
        rows += [(menu, "")] + [(k, t) for m, k, t in actions if m == menu]
    rows += [("Held keys", "")] + list(held)
    if au_keys:
        rows += [("Action units of this project", "")] + au_keys
    t = QTableWidget(len(rows), 2)
    t.setHorizontalHeaderLabels(["Key", "Action"])
    t.verticalHeader().hide()
    t.horizontalHeader().setStretchLastSection(True)
    t.setEditTriggers(QTableWidget.NoEditTriggers)
    for r, (k, v) in enumerate(rows):
        a, b = QTableWidgetItem(k), QTableWidgetItem(v)
        if not v:
            f = a.font()
            f.setBold(True)
            a.setFont(f)
        t.setItem(r, 0, a)
        t.setItem(r, 1, b)
    t.resizeColumnToContents(0)
    lay.addWidget(t)
    d.resize(620, 640)
    return d


class GamepadDialog(QDialog):
    """Axis choice, inversion, dead zone and calibration of the SDL gamepad."""

    def __init__(self, pad: GamepadInput, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pad = pad
        self.setWindowTitle("Gamepad")
        c = pad.config
        lay = QVBoxLayout(self)
        self.status = QLabel(pad.status)
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        form = QFormLayout()
        n = max(pad.n_axes(), 2)
        self.ax_v = QSpinBox()
        self.ax_v.setRange(0, n - 1)
        self.ax_v.setValue(min(c.axis_valence, n - 1))
        self.ax_a = QSpinBox()
        self.ax_a.setRange(0, n - 1)
        self.ax_a.setValue(min(c.axis_arousal, n - 1))
        self.inv_v = QCheckBox("invert")
        self.inv_v.setChecked(c.invert_valence)
        self.inv_a = QCheckBox("invert")
        self.inv_a.setChecked(c.invert_arousal)
        self.dead = QDoubleSpinBox()
        self.dead.setRange(0.0, 0.5)
        self.dead.setSingleStep(0.01)
        self.dead.setValue(c.dead_zone)
        form.addRow("Valence axis", self.ax_v)
        form.addRow("", self.inv_v)
        form.addRow("Arousal axis", self.ax_a)
        form.addRow("", self.inv_a)
        form.addRow("Dead zone", self.dead)
        lay.addLayout(form)
        self.cal = QPushButton("Start calibration")
        self.cal.setToolTip("Press, move the stick to every edge, let it rest, then press again")
        self.cal.clicked.connect(self._calibrate)
        self.cal.setEnabled(pad.n_axes() > 0)
        lay.addWidget(self.cal)
        bb = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        bb.accepted.connect(self._accept)
        bb.rejected.connect(self.reject)
        lay.addWidget(bb)

    def _calibrate(self) -> None:
        if self.pad.calibrator is None:
            self.pad.begin_calibration()
            self.cal.setText("Finish calibration (stick at rest)")
        else:
            self.pad.end_calibration()
            self.cal.setText("Start calibration")
            cv, ca = self.pad.config.cal_valence, self.pad.config.cal_arousal
            self.status.setText(f"Calibrated: valence {cv.low:+.2f}/{cv.rest:+.2f}/{cv.high:+.2f}, "
                                f"arousal {ca.low:+.2f}/{ca.rest:+.2f}/{ca.high:+.2f}")

    def _accept(self) -> None:
        c = self.pad.config
        c.axis_valence, c.axis_arousal = self.ax_v.value(), self.ax_a.value()
        c.invert_valence, c.invert_arousal = self.inv_v.isChecked(), self.inv_a.isChecked()
        c.dead_zone = self.dead.value()
        if self.pad.calibrator is not None:
            self.pad.end_calibration()
        self.accept()


def about(parent: QWidget | None) -> None:
    QMessageBox.about(parent, "About AffectTrace", "AffectTrace: annotate valence-arousal, expressions and "
                      "action units frame by frame; train and run multi-task affect models.")


def warn(parent: QWidget | None, text: str) -> None:
    m = QMessageBox(QMessageBox.Warning, "AffectTrace", text, QMessageBox.Ok, parent)
    m.setTextInteractionFlags(Qt.TextSelectableByMouse)
    m.exec()

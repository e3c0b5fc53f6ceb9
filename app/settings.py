"""Per-user settings (QSettings): window geometry and docks, recent projects, annotator, theme, options;
defaults from resources/settings/defaults.json."""
from __future__ import annotations

import getpass
from pathlib import Path
from typing import Sequence

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

from . import resources

ORG = "AffectTrace"
APP = "AffectTrace"


def default_annotator() -> str:
    """The OS user name: the identity used when nobody is asked (tests, --screenshot)."""
    try:
        return getpass.getuser() or "annotator"
    except Exception:
        return "annotator"


def data_dir() -> Path:
    """Per-user data folder (the demo project lives in ``data_dir()/demo``)."""
    loc = QStandardPaths.writableLocation(QStandardPaths.AppDataLocation)
    return Path(loc) if loc else Path.home() / ".local" / "share" / APP


class Settings:
    """Typed access to the values the app remembers between runs."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self.q = qsettings or QSettings(ORG, APP)
        self._this_start: dict[str, str] = {}

    def use_for_this_start(self, annotator: str | None = None, theme: str | None = None) -> None:
        """Command-line choices: they hold for this start only and are never saved, so a later plain start
        asks who is annotating (or uses the last name chosen in the app) and keeps the chosen theme."""
        for key, value in (("annotator", annotator), ("theme", theme)):
            if value:
                self._this_start[key] = value

    def this_start(self, key: str) -> str | None:
        """The command line's value of ``key`` ('annotator', 'theme'), None when it gave none."""
        return self._this_start.get(key)

    # --- identity and appearance (setting one is a choice made in the app: saved, and it replaces the
    # command line's value for the rest of this start) ---
    @property
    def annotator(self) -> str:
        return self._this_start.get("annotator") or self.remembered_annotator()

    @annotator.setter
    def annotator(self, name: str) -> None:
        self._this_start.pop("annotator", None)
        self.q.setValue("annotator", name)

    def remembered_annotator(self) -> str:
        """The last annotator chosen in the app ('' when none)."""
        return str(self.q.value("annotator", "") or "")

    @property
    def theme(self) -> str:
        default = resources.defaults()["theme"]
        return self._this_start.get("theme") or str(self.q.value("theme", default) or default)

    @theme.setter
    def theme(self, name: str) -> None:
        self._this_start.pop("theme", None)
        self.q.setValue("theme", name)

    # --- recent projects ---
    def recent_projects(self) -> list[str]:
        v = self.q.value("recent", [])
        items = [v] if isinstance(v, str) else list(v or [])
        return [s for s in items if s]

    def add_recent(self, folder: str | Path) -> None:
        s = str(Path(folder).resolve())
        items = [x for x in self.recent_projects() if x != s]
        self.q.setValue("recent", [s] + items[: int(resources.defaults()["max_recent"]) - 1])

    # --- window layout ---
    def save_window(self, geometry: QByteArray, state: QByteArray, docks: Sequence[str] = ()) -> None:
        """``docks``: the names of the docks whose places ``state`` holds."""
        self.q.setValue("window/geometry", geometry)
        self.q.setValue("window/state", state)
        self.q.setValue("window/docks", list(docks))

    def window_docks(self) -> set[str]:
        v = self.q.value("window/docks", [])
        return {v} if isinstance(v, str) else set(v or [])

    def window_geometry(self) -> QByteArray | None:
        v = self.q.value("window/geometry")
        return v if isinstance(v, QByteArray) else None

    def window_state(self) -> QByteArray | None:
        v = self.q.value("window/state")
        return v if isinstance(v, QByteArray) else None

    # --- generic options (recording mode, gamepad calibration, ...) ---
    def get(self, key: str, default=None, type_=None):
        v = self.q.value(key, default)
        if type_ is bool and isinstance(v, str):
            return v.lower() in ("1", "true", "yes")
        if type_ is not None and v is not None:
            try:
                return type_(v)
            except (TypeError, ValueError):
                return default
        return v

    def set(self, key: str, value) -> None:
        self.q.setValue(key, value)

    def sync(self) -> None:
        self.q.sync()

"""The one loader of the top-level ``resources/`` folder: style sheet, theme palettes, label colour
sets, icons (SVG) and default settings. Nothing else in the app opens a file under resources/.

    resources/styles/app.qss          the style sheet; ``@name`` stands for a colour of the theme
    resources/palettes/themes.json    light and dark palettes (the same keys in both)
    resources/palettes/labels.json    expression colours (keyed by core.labels names), track colours ...
    resources/icons/*.svg             app icon and toolbar icons; ``#000000`` is drawn in the theme's text colour
                                      (check.svg, the check boxes' mark, is white on the accent colour)
    resources/settings/defaults.json  default settings

In a PyInstaller build the folder is bundled as ``resources`` at the top of the bundle (sys._MEIPASS).
"""
from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSize, Qt
from PySide6.QtGui import QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from core.labels import EXPRESSIONS


def root() -> Path:
    """The resources folder: beside app/ in a checkout, at the top of a frozen bundle."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources"
    return Path(__file__).resolve().parents[1] / "resources"


def path(*parts: str) -> Path:
    p = root().joinpath(*parts)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: resource missing (the resources/ folder is incomplete)")
    return p


def _json(*parts: str) -> Any:
    return json.loads(path(*parts).read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def palette(theme: str) -> dict[str, str]:
    """Colour name -> '#rrggbb' of a theme ('light' or 'dark')."""
    themes = _json("palettes", "themes.json")
    if theme not in themes:
        raise KeyError(f"no theme {theme!r} in resources/palettes/themes.json")
    return dict(themes[theme])


def theme_names() -> tuple[str, ...]:
    return tuple(_json("palettes", "themes.json"))


@dataclass(frozen=True)
class LabelColours:
    expressions: tuple[str, ...]  # index = core.labels.EXPRESSIONS index
    # annotator curves cycle through these: Okabe & Ito's colour-blind-safe set, then Tol's muted; the
    # model has vermillion (kept out of the list), the fused track the theme's 'fused' colour
    tracks: tuple[str, ...]
    model: str
    playhead: str
    playhead_hover: str
    face_box: str
    landmarks: str
    video_bg: str
    video_text: str


@lru_cache(maxsize=None)
def label_colours() -> LabelColours:
    d = _json("palettes", "labels.json")
    expr = d.pop("expressions")
    missing = [e for e in EXPRESSIONS if e not in expr]
    if missing:
        raise KeyError(f"resources/palettes/labels.json: no colour for {', '.join(missing)}")
    return LabelColours(expressions=tuple(expr[e] for e in EXPRESSIONS), tracks=tuple(d.pop("tracks")), **d)


_TOKEN = re.compile(r"@([a-z_]+)")


def stylesheet(theme: str) -> str:
    """The application style sheet with the theme's colours filled in (and @icons_dir, where the style
    sheet's images are)."""
    colours = dict(palette(theme), icons_dir=(root() / "icons").as_posix())

    def sub(m: re.Match) -> str:
        if m.group(1) not in colours:
            raise KeyError(f"resources/styles/app.qss uses @{m.group(1)}, not a colour of the {theme} theme")
        return colours[m.group(1)]

    return _TOKEN.sub(sub, path("styles", "app.qss").read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def _svg(name: str) -> str:
    return path("icons", f"{name}.svg").read_text(encoding="utf-8")


@lru_cache(maxsize=256)
def icon(name: str, colour: str | None = None, size: int = 24) -> QIcon:
    """An icon from resources/icons/NAME.svg; its black parts drawn in ``colour`` when given."""
    svg = _svg(name)
    if colour:
        svg = svg.replace("#000000", colour)
    pm = QPixmap(QSize(size * 2, size * 2))  # drawn at twice the size: sharp on high-DPI screens too
    pm.fill(Qt.transparent)
    painter = QPainter(pm)
    QSvgRenderer(QByteArray(svg.encode())).render(painter)
    painter.end()
    return QIcon(pm)


def app_icon() -> QIcon:
    return QIcon(str(path("icons", "affecttrace.svg")))


@lru_cache(maxsize=None)
def defaults() -> dict[str, Any]:
    """Default settings (resources/settings/defaults.json)."""
    return _json("settings", "defaults.json")

"""Light and dark themes: a QPalette and the style sheet from resources/, and the colours views share."""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from . import resources

THEMES = ("light", "dark")


@dataclass(frozen=True)
class Theme:
    """One theme's colours (resources/palettes/themes.json); every field is a '#rrggbb' string."""

    name: str
    window: str
    base: str
    alt_base: str
    text: str
    muted: str
    accent: str
    accent_text: str
    border: str
    plot_bg: str
    plot_fg: str
    grid: str
    unlabelled: str
    banner_bg: str
    banner_fg: str
    armed_bg: str
    armed_fg: str
    armed_border: str
    fused: str
    au_present: str
    au_absent: str
    va_labelled: str
    heat_low: str
    heat_mid: str
    heat_high: str
    heat_text: str
    marks: str
    error: str
    disagree: str  # the agreement strip's ramp: disagree (strong) to agree (faint); no label's hue
    agree: str


def theme(name: str) -> Theme:
    name = name if name in THEMES else THEMES[0]
    return Theme(name=name, **resources.palette(name))


def apply_theme(app: QApplication, name: str) -> Theme:
    """Set the Fusion style, palette and style sheet of the whole application."""
    t = theme(name)
    app.setStyle("Fusion")
    p = QPalette()
    roles = ((QPalette.Window, t.window), (QPalette.WindowText, t.text), (QPalette.Base, t.base),
             (QPalette.AlternateBase, t.alt_base), (QPalette.Text, t.text), (QPalette.Button, t.alt_base),
             (QPalette.ButtonText, t.text), (QPalette.ToolTipBase, t.base), (QPalette.ToolTipText, t.text),
             (QPalette.Highlight, t.accent), (QPalette.HighlightedText, t.accent_text),
             (QPalette.PlaceholderText, t.muted), (QPalette.Link, t.accent))
    for role, colour in roles:
        p.setColor(role, QColor(colour))
    for role in (QPalette.Text, QPalette.ButtonText, QPalette.WindowText):
        p.setColor(QPalette.Disabled, role, QColor(t.muted))
    app.setPalette(p)
    app.setStyleSheet(resources.stylesheet(t.name))
    return t

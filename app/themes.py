"""Light and dark themes: a QPalette plus a short style sheet, and the colours views share."""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

THEMES = ("light", "dark")

# One colour per expression class (index = core.labels.EXPRESSIONS index), readable on both themes.
EXPR_COLOURS: tuple[str, ...] = (
    "#9e9e9e",  # Neutral
    "#e53935",  # Anger
    "#7cb342",  # Disgust
    "#8e24aa",  # Fear
    "#fdd835",  # Happiness
    "#1e88e5",  # Sadness
    "#fb8c00",  # Surprise
    "#6d4c41",  # Other
)
# Annotator / track curves cycle through these.
TRACK_COLOURS: tuple[str, ...] = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
)
FUSED_COLOUR = "#212121"
FUSED_COLOUR_DARK = "#fafafa"
MODEL_COLOUR = "#00897b"


@dataclass(frozen=True)
class Theme:
    name: str
    window: str
    base: str
    alt_base: str
    text: str
    muted: str
    accent: str
    plot_bg: str
    plot_fg: str
    unlabelled: str
    banner_bg: str
    banner_fg: str

    @property
    def fused(self) -> str:
        return FUSED_COLOUR_DARK if self.name == "dark" else FUSED_COLOUR


LIGHT = Theme("light", "#f3f4f6", "#ffffff", "#eef0f3", "#1d232b", "#6b7280", "#2563eb", "#ffffff",
              "#374151", "#fde2e2", "#fff4cc", "#5c4400")
DARK = Theme("dark", "#1f2328", "#16191d", "#24292f", "#e6e8eb", "#9aa3ad", "#4c8dff", "#16191d",
             "#c9d1d9", "#4a2227", "#4d3b00", "#ffe8a3")


def theme(name: str) -> Theme:
    return DARK if name == "dark" else LIGHT


def apply_theme(app: QApplication, name: str) -> Theme:
    """Set the Fusion style, palette and style sheet of the whole application."""
    t = theme(name)
    app.setStyle("Fusion")
    p = QPalette()
    p.setColor(QPalette.Window, QColor(t.window))
    p.setColor(QPalette.WindowText, QColor(t.text))
    p.setColor(QPalette.Base, QColor(t.base))
    p.setColor(QPalette.AlternateBase, QColor(t.alt_base))
    p.setColor(QPalette.Text, QColor(t.text))
    p.setColor(QPalette.Button, QColor(t.alt_base))
    p.setColor(QPalette.ButtonText, QColor(t.text))
    p.setColor(QPalette.ToolTipBase, QColor(t.base))
    p.setColor(QPalette.ToolTipText, QColor(t.text))
    p.setColor(QPalette.Highlight, QColor(t.accent))
    p.setColor(QPalette.HighlightedText, QColor("#ffffff"))
    p.setColor(QPalette.PlaceholderText, QColor(t.muted))
    p.setColor(QPalette.Disabled, QPalette.Text, QColor(t.muted))
    p.setColor(QPalette.Disabled, QPalette.ButtonText, QColor(t.muted))
    p.setColor(QPalette.Disabled, QPalette.WindowText, QColor(t.muted))
    app.setPalette(p)
    app.setStyleSheet(f"""
        QDockWidget::title {{ padding: 4px 6px; background: {t.alt_base}; font-weight: 600; }}
        QToolBar {{ spacing: 4px; border: none; }}
        QPushButton[checkable="true"]:checked {{ background: {t.accent}; color: white; border: 1px solid {t.accent}; }}
        QPushButton {{ padding: 3px 8px; }}
        QLabel#banner {{ background: {t.banner_bg}; color: {t.banner_fg}; padding: 4px 8px; border-radius: 3px; }}
        QLabel#note {{ color: {t.muted}; }}
        QLabel#valueReadout {{ font-family: monospace; }}
        QStatusBar QLabel {{ padding: 0 6px; }}
    """)
    return t

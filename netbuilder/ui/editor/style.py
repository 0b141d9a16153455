"""Colours and fonts of the canvas, taken from the application palette so light and dark themes
both work; only the category, error and warning colours are fixed, chosen to read on either."""
from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette

# Mid-tone hues with enough contrast on white and on near-black cards.
CATEGORY_COLORS = {
    "Input/Output": QColor("#3b82f6"),
    "Convolution": QColor("#8b5cf6"),
    "Pooling": QColor("#06b6d4"),
    "Dense": QColor("#10b981"),
    "Recurrent": QColor("#ec4899"),
    "Normalization": QColor("#eab308"),
    "Activation": QColor("#f97316"),
    "Regularization": QColor("#64748b"),
    "Merge": QColor("#14b8a6"),
}
ERROR_COLOR = QColor("#e53935")
WARNING_COLOR = QColor("#f59e0b")


def category_color(category: str) -> QColor:
    return CATEGORY_COLORS.get(category, QColor("#888888"))


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    return QColor.fromRgbF(a.redF() * (1 - t) + b.redF() * t, a.greenF() * (1 - t) + b.greenF() * t,
                           a.blueF() * (1 - t) + b.blueF() * t)


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightnessF() < 0.5


class CanvasStyle:
    """Colours and fonts shared by all items; `refresh()` re-reads them when the palette changes."""

    def __init__(self):
        self.refresh()

    def refresh(self, palette: QPalette | None = None) -> None:
        palette = palette or QGuiApplication.palette()
        dark = is_dark(palette)
        window = palette.color(QPalette.ColorRole.Window)
        text = palette.color(QPalette.ColorRole.Text)
        base = palette.color(QPalette.ColorRole.Base)
        self.dark = dark
        self.background = _mix(window, QColor("black"), 0.25) if dark else _mix(window, QColor("#e8ebf0"), 0.6)
        # Opaque grid colours: translucent lines take a slow path in the raster painter.
        self.grid = _mix(self.background, text, 0.10 if dark else 0.13)
        self.grid_minor = _mix(self.background, self.grid, 0.4)
        self.card = _mix(base, window, 0.35) if dark else base
        self.card_border = _mix(self.card, text, 0.28 if dark else 0.22)
        self.text = text
        self.muted = _mix(text, self.card, 0.38)
        self.accent = palette.color(QPalette.ColorRole.Highlight)
        self.shadow = QColor(0, 0, 0, 90 if dark else 38)
        self.edge = _mix(self.background, text, 0.45)
        self.label_background = _mix(self.background, base, 0.6)
        self.port = _mix(self.card, text, 0.45)

        family = QGuiApplication.font().family()
        self.title_font = QFont(family, 11)
        self.title_font.setWeight(QFont.Weight.DemiBold)
        self.body_font = QFont(family, 9)
        self.shape_font = QFont(family, 10)
        self.shape_font.setWeight(QFont.Weight.Medium)
        self.label_font = QFont(family, 8)

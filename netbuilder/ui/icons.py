"""Icons drawn from the SVG line drawings in resources/icons, tinted for the current look.

The drawings use black strokes; here they are recoloured to the palette's text colour (and a
faint one for disabled actions) and rendered at several sizes and both pixel ratios, so they
stay sharp at 100% and 200% scaling.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QImage, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
ICONS = RESOURCES / "icons"
APP_ICON = RESOURCES / "netbuilder.svg"
_SIZES = (16, 20, 24, 32)
_RATIOS = (1.0, 2.0)
_PLACEHOLDER = "#000000"

# Catalogue categories → drawing names in icons/categories.
CATEGORY_ICONS = {
    "Input/Output": "input-output", "Convolution": "convolution", "Pooling": "pooling", "Dense": "dense",
    "Recurrent": "recurrent", "Normalization": "normalization", "Activation": "activation",
    "Regularization": "regularization", "Merge": "merge",
}


def icon_names() -> list[str]:
    return sorted(p.stem for p in ICONS.glob("*.svg"))


@lru_cache(maxsize=None)
def _svg_text(relative: str) -> str:
    return (ICONS / f"{relative}.svg").read_text(encoding="utf-8")


def _render(svg: str, size: int, ratio: float) -> QPixmap:
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    pixels = round(size * ratio)
    image = QImage(pixels, pixels, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, pixels, pixels))
    painter.end()
    pixmap = QPixmap.fromImage(image)
    pixmap.setDevicePixelRatio(ratio)
    return pixmap


@lru_cache(maxsize=None)
def _tinted(relative: str, color: str, disabled_color: str) -> QIcon:
    svg = _svg_text(relative)
    icon = QIcon()
    for mode, tint in ((QIcon.Mode.Normal, color), (QIcon.Mode.Disabled, disabled_color)):
        coloured = svg.replace(_PLACEHOLDER, tint)
        for size in _SIZES:
            for ratio in _RATIOS:
                icon.addPixmap(_render(coloured, size, ratio), mode)
    return icon


def _tints(palette: QPalette | None) -> tuple[str, str]:
    palette = palette or QGuiApplication.palette()
    text = palette.color(QPalette.ColorRole.WindowText)
    window = palette.color(QPalette.ColorRole.Window)
    # Slightly softer than the text: line icons at full text contrast look heavy.
    soft = QColor.fromRgbF(text.redF() * 0.85 + window.redF() * 0.15, text.greenF() * 0.85 + window.greenF() * 0.15,
                           text.blueF() * 0.85 + window.blueF() * 0.15)
    faint = QColor.fromRgbF(text.redF() * 0.35 + window.redF() * 0.65, text.greenF() * 0.35 + window.greenF() * 0.65,
                            text.blueF() * 0.35 + window.blueF() * 0.65)
    return soft.name(), faint.name()


def icon(name: str, palette: QPalette | None = None) -> QIcon:
    """A toolbar / menu icon by drawing name (e.g. "save"), tinted for `palette` (default: the app's)."""
    return _tinted(name, *_tints(palette))


def colored_icon(name: str, color: QColor | str) -> QIcon:
    """A drawing in one fixed colour (status marks, category colours)."""
    color = QColor(color)
    faint = QColor(color)
    faint.setAlphaF(0.4)
    return _tinted(name, color.name(), faint.name(QColor.NameFormat.HexArgb))


def category_icon(category: str, color: QColor | str | None = None, palette: QPalette | None = None) -> QIcon:
    """The line drawing of a layer category, in the category's colour when given."""
    drawing = f"categories/{CATEGORY_ICONS.get(category, 'dense')}"
    return colored_icon(drawing, color) if color is not None else icon(drawing, palette)


def app_icon() -> QIcon:
    icon = QIcon()
    svg = APP_ICON.read_text(encoding="utf-8")
    for size in (16, 24, 32, 48, 64, 128, 256):
        icon.addPixmap(_render(svg, size, 1.0))
    return icon


def app_pixmap(size: int, ratio: float = 1.0) -> QPixmap:
    return _render(APP_ICON.read_text(encoding="utf-8"), size, ratio)

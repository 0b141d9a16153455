"""Shared look of the monitor plots: colours that mean the same thing everywhere (training is
blue, validation is orange), plot construction with readable axes, an empty-state message,
colour maps, and PNG/SVG export.

The plots follow the application's palette: light backgrounds in the light look, dark ones in
the dark look; `restyle()` is called again whenever the palette changes.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette
from PySide6.QtWidgets import QFileDialog, QGraphicsItem, QLabel, QWidget

TRAIN = "#1f77b4"          # training: blue, in every plot
VALIDATION = "#ff7f0e"     # validation: orange, in every plot
BEST = "#2ca02c"           # the best epoch
EARLY_STOP = "#d62728"     # where early stopping fired
GUIDE = "#7f7f7f"          # reference lines (1e-3 update ratio, epoch grid)
HEALTHY_BAND = (44, 160, 44, 28)

# Distinct colours for layers and for earlier runs; blue and orange are kept for train/validation.
SERIES = ["#9467bd", "#2ca02c", "#d62728", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f",
          "#393b79", "#ad494a", "#637939", "#843c39", "#5254a3", "#6b6ecf"]
# Class colours of the decision boundary (the two-class case reads like a teaching slide).
CLASSES = ["#f28e2b", "#4e79a7", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7",
           "#9c755f", "#bab0ac"]

pg.setConfigOptions(antialias=True)


def series_color(index: int) -> str:
    return SERIES[index % len(SERIES)]


def class_colors(k: int) -> np.ndarray:
    """(k, 3) floats in [0, 1]."""
    base = [QColor(CLASSES[i % len(CLASSES)]) for i in range(k)]
    return np.array([[c.redF(), c.greenF(), c.blueF()] for c in base], dtype=np.float32)


def is_dark(palette: QPalette | None = None) -> bool:
    palette = palette or QGuiApplication.palette()
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


def colors(palette: QPalette | None = None) -> dict:
    palette = palette or QGuiApplication.palette()
    base = palette.color(QPalette.ColorRole.Base)
    text = palette.color(QPalette.ColorRole.Text)
    faint = QColor(text)
    faint.setAlphaF(0.55)
    return {"background": base, "text": text, "faint": faint, "dark": is_dark(palette)}


def pen(color, width: float = 1.0, style=Qt.PenStyle.SolidLine, alpha: float | None = None):
    c = QColor(color)
    if alpha is not None:
        c.setAlphaF(alpha)
    p = pg.mkPen(c, width=width, style=style)
    p.setCosmetic(True)
    return p


def brush(color, alpha: float = 1.0):
    c = QColor(color)
    c.setAlphaF(alpha)
    return pg.mkBrush(c)


def style_plot(plot: pg.PlotItem, palette: QPalette | None = None) -> None:
    """Axis colours and fonts of one PlotItem for the current look."""
    c = colors(palette)
    font = QFont()
    font.setPointSizeF(max(font.pointSizeF() - 1, 7.5))
    for name in ("left", "bottom", "top", "right"):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen(c["faint"]))
        axis.setTextPen(pg.mkPen(c["text"]))
        axis.setStyle(tickFont=font)
        axis.enableAutoSIPrefix(False)  # "(x0.001)" next to a label confuses more than it helps
        # Tick labels are the costliest thing to paint: keep each axis as a pixmap, redrawn only
        # when its range changes, not each time a curve beside it moves.
        axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        if axis.label is not None:
            axis.label.setDefaultTextColor(c["text"])
    if plot.titleLabel is not None:
        plot.titleLabel.item.setDefaultTextColor(c["text"])
    legend = plot.legend
    if legend is not None:
        legend.setLabelTextColor(c["text"])
        bg = QColor(c["background"])
        bg.setAlphaF(0.8)
        legend.setBrush(pg.mkBrush(bg))
        legend.setPen(pg.mkPen(c["faint"]))


def setup_plot(plot: pg.PlotItem, *, left: str = "", bottom: str = "", title: str | None = None,
               left_units: str | None = None, bottom_units: str | None = None, grid: float = 0.15,
               legend: bool = False, mouse: bool = True) -> pg.PlotItem:
    """Labels with units, a light grid, performance settings for growing curves."""
    if left:
        plot.setLabel("left", left, units=left_units)
    if bottom:
        plot.setLabel("bottom", bottom, units=bottom_units)
    if title:
        plot.setTitle(title, size="10pt")
    plot.showGrid(x=grid > 0, y=grid > 0, alpha=grid)
    plot.setClipToView(True)
    plot.setDownsampling(auto=True, mode="peak")
    plot.setMenuEnabled(True)
    if not mouse:
        plot.setMouseEnabled(False, False)
    if legend:
        plot.addLegend(offset=(-8, 8), labelTextSize="8pt", verSpacing=-4)
    style_plot(plot)
    return plot


def set_title(plot: pg.PlotItem, text: str) -> None:
    plot.setTitle(text, size="10pt", color=colors()["text"])


def curve(plot: pg.PlotItem, color, width: float = 1.0, name: str | None = None, style=Qt.PenStyle.SolidLine,
          alpha: float | None = None, symbol: str | None = None, symbol_size: int = 6, **kwargs) -> pg.PlotDataItem:
    """A curve made once and later fed with setData (finite values only)."""
    options = dict(pen=pen(color, width, style, alpha), name=name, skipFiniteCheck=True, **kwargs)
    if symbol:
        options.update(symbol=symbol, symbolSize=symbol_size, symbolBrush=brush(color, 1.0 if alpha is None else alpha),
                       symbolPen=pg.mkPen(color))
    return plot.plot([], [], **options)


def finite(x: np.ndarray, y: np.ndarray, positive: bool = False) -> tuple[np.ndarray, np.ndarray]:
    keep = np.isfinite(y)
    if positive:
        keep &= y > 0
    if keep.all():
        return x, y
    return x[keep], y[keep]


class EmptyState(QLabel):
    """A grey sentence over the middle of a plot while it has nothing to show."""

    def __init__(self, text: str, host: QWidget):
        super().__init__(text, host)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setObjectName("monitorEmptyState")
        self._host = host
        host.installEventFilter(self)
        self._restyle()
        self._place()

    def _restyle(self) -> None:
        c = colors()["faint"]
        sheet = (f"QLabel#monitorEmptyState {{ color: {c.name(QColor.NameFormat.HexArgb)}; "
                 f"font-size: 11pt; background: transparent; }}")
        if sheet != self.styleSheet():  # setting it changes the palette again: only when it differs
            self.setStyleSheet(sheet)

    def _place(self) -> None:
        r = self._host.rect()
        w = min(max(r.width() - 40, 120), 420)
        self.setGeometry((r.width() - w) // 2, (r.height() - 60) // 2, w, 60)

    def eventFilter(self, watched, event) -> bool:
        if watched is self._host and event.type() == QEvent.Type.Resize:
            self._place()
        return False

    def set_visible(self, visible: bool, text: str | None = None) -> None:
        if text is not None and text != self.text():
            self.setText(text)
        if visible != self.isVisible():
            self.setVisible(visible)
            if visible:
                self.raise_()

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._restyle()
        super().changeEvent(event)


# --------------------------------------------------------------------------- colour maps
def colormap(name: str) -> pg.ColorMap:
    cmap = pg.colormap.get(name)
    return cmap


def lookup_table(name: str, alpha_ramp: bool = False, n: int = 256) -> np.ndarray:
    """An (n, 4) uint8 lookup table; with alpha_ramp the low end fades to transparent."""
    lut = colormap(name).getLookupTable(0.0, 1.0, n, alpha=True).astype(np.uint8)
    if alpha_ramp:
        lut[:, 3] = (np.clip(np.linspace(0, 1.6, n), 0, 1) * 215).astype(np.uint8)
    return lut


def blues_lut(dark: bool, n: int = 256) -> np.ndarray:
    """Background-to-blue ramp for counts (confusion matrix)."""
    bg = np.array([30, 33, 38], dtype=np.float32) if dark else np.array([255, 255, 255], dtype=np.float32)
    hi = np.array([31, 119, 180], dtype=np.float32) if not dark else np.array([76, 141, 255], dtype=np.float32)
    mid = np.array([160, 200, 230], dtype=np.float32) if not dark else np.array([40, 70, 120], dtype=np.float32)
    t = np.linspace(0, 1, n, dtype=np.float32)[:, None]
    low = bg + (mid - bg) * np.clip(t * 2, 0, 1)
    high = mid + (hi - mid) * np.clip(t * 2 - 1, 0, 1)
    rgb = np.where(t < 0.5, low, high)
    return np.concatenate([rgb, np.full((n, 1), 255, np.float32)], 1).astype(np.uint8)


# --------------------------------------------------------------------------- export
def _accept_closed_paths() -> None:
    """Recent Qt versions end closed SVG paths with a lone "Z", which pyqtgraph's SVG exporter
    cannot parse (every plot export fails). Hide the closing token from it and put it back."""
    import importlib
    module = importlib.import_module("pyqtgraph.exporters.SVGExporter")
    original = getattr(module, "correctCoordinates", None)
    if original is None or getattr(original, "accepts_closed_paths", False):
        return

    def correct(node, defs, item, options):
        closed = []
        for path in node.getElementsByTagName("path"):
            tokens = path.getAttribute("d").split()
            if any(t in ("Z", "z") for t in tokens):
                kept = [t for t in tokens if t not in ("Z", "z")]
                path.setAttribute("d", " ".join(kept))
                closed.append(path)
        result = original(node, defs, item, options)
        for path in closed:
            d = path.getAttribute("d").strip()
            if d:
                path.setAttribute("d", d + " Z")
        return result

    correct.accepts_closed_paths = True
    module.correctCoordinates = correct


_accept_closed_paths()

EXPORT_FILTER = "PNG image (*.png);;SVG drawing (*.svg)"


def export_item(item, path: str | Path, widget: QWidget | None = None) -> Path:
    """Write a plot (a PlotItem, GraphicsLayout or scene) to PNG or SVG, chosen by the suffix.

    Widgets that are not plots (galleries) are written as PNG from a screen grab."""
    import pyqtgraph.exporters as exporters
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".png", ".svg"):
        path = path.with_suffix(".png")
        suffix = ".png"
    path.parent.mkdir(parents=True, exist_ok=True)
    if item is None:
        if widget is None:
            raise ValueError("nothing to export")
        if not widget.grab().save(str(path)):
            raise OSError(f"could not write {path}")
        return path
    if suffix == ".svg":
        exporters.SVGExporter(item).export(str(path))
    else:
        exporter = exporters.ImageExporter(item)
        width = exporter.parameters()["width"]
        if width and width < 1200:  # exported figures are for slides and reports: give them pixels
            exporter.parameters()["width"] = int(width * 2)
        exporter.export(str(path))
    if not path.exists():
        raise OSError(f"could not write {path}")
    return path


def ask_export(parent: QWidget, title: str, item, default_name: str, widget: QWidget | None = None) -> Path | None:
    path, selected = QFileDialog.getSaveFileName(parent, f"Export {title}", default_name, EXPORT_FILTER)
    if not path:
        return None
    if not Path(path).suffix:
        path += ".svg" if "svg" in selected.lower() else ".png"
    return export_item(item, path, widget)

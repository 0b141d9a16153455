"""Light and dark looks: the Fusion style, a palette per look and a small stylesheet.

The preference ("system", "light" or "dark") lives in the user's settings; "system" follows the
desktop's colour scheme and switches live when the desktop switches. Everything else draws
from the palette, so one palette change restyles the whole window, canvas included.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from . import files

THEMES = ("system", "light", "dark")
THEME_TITLES = {"system": "Follow System", "light": "Light", "dark": "Dark"}
_SETTINGS_KEY = "view/theme"
_STYLES = Path(__file__).resolve().parent.parent / "resources" / "styles"

# One accent for both looks; it reads on white and on near-black.
ACCENT = "#2f6fed"
ACCENT_DARK = "#4c8dff"

_LIGHT = {
    "window": "#f3f4f6", "window_text": "#1f2328", "base": "#ffffff", "alternate_base": "#f6f7f9",
    "text": "#1f2328", "button": "#f8f9fa", "button_text": "#1f2328", "bright_text": "#ffffff",
    "highlight": ACCENT, "highlighted_text": "#ffffff", "link": "#1f5fd6", "placeholder": "#6b7280",
    "mid": "#c9ced6", "dark": "#a3aab5", "midlight": "#e5e7eb", "light": "#ffffff", "shadow": "#8b929c",
    "tooltip_base": "#ffffff", "tooltip_text": "#1f2328", "disabled_text": "#a0a6ae",
    "border": "#d4d8de", "subtle": "#e9ecf0", "header": "#6b7280", "indicator_border": "#9aa1ab",
}
_DARK = {
    "window": "#202227", "window_text": "#e3e6ea", "base": "#17191d", "alternate_base": "#1c1e23",
    "text": "#e3e6ea", "button": "#2b2e35", "button_text": "#e3e6ea", "bright_text": "#ffffff",
    "highlight": ACCENT_DARK, "highlighted_text": "#ffffff", "link": "#7aa7ff", "placeholder": "#8d939c",
    "mid": "#3a3e46", "dark": "#121317", "midlight": "#33363e", "light": "#464a53", "shadow": "#0b0c0e",
    "tooltip_base": "#2b2e35", "tooltip_text": "#e3e6ea", "disabled_text": "#6b7079",
    "border": "#363a42", "subtle": "#2a2d33", "header": "#9aa1ab", "indicator_border": "#6b7079",
}


def colors(dark: bool) -> dict:
    """The named colours of a look, for widgets that paint themselves."""
    return dict(_DARK if dark else _LIGHT)


def make_palette(dark: bool) -> QPalette:
    c = _DARK if dark else _LIGHT
    R = QPalette.ColorRole
    palette = QPalette()
    roles = {
        R.Window: "window", R.WindowText: "window_text", R.Base: "base", R.AlternateBase: "alternate_base",
        R.Text: "text", R.Button: "button", R.ButtonText: "button_text", R.BrightText: "bright_text",
        R.Highlight: "highlight", R.HighlightedText: "highlighted_text", R.Link: "link", R.LinkVisited: "link",
        R.PlaceholderText: "placeholder", R.Mid: "mid", R.Dark: "dark", R.Midlight: "midlight", R.Light: "light",
        R.Shadow: "shadow", R.ToolTipBase: "tooltip_base", R.ToolTipText: "tooltip_text",
    }
    for role, key in roles.items():
        palette.setColor(role, QColor(c[key]))
    disabled = QPalette.ColorGroup.Disabled
    for role in (R.WindowText, R.Text, R.ButtonText):
        palette.setColor(disabled, role, QColor(c["disabled_text"]))
    palette.setColor(disabled, R.Highlight, QColor(c["mid"]))
    palette.setColor(disabled, R.Base, QColor(c["window"]))
    # An inactive window keeps its selection colour: a dimmed one reads as "disabled".
    palette.setColor(QPalette.ColorGroup.Inactive, R.Highlight, QColor(c["highlight"]))
    palette.setColor(QPalette.ColorGroup.Inactive, R.HighlightedText, QColor(c["highlighted_text"]))
    return palette


def stylesheet(dark: bool) -> str:
    """The look's stylesheet with its colour names filled in."""
    text = (_STYLES / "base.qss").read_text(encoding="utf-8").replace("@styles", _STYLES.as_posix())
    # Longest names first, so "@midlight" is not read as "@mid" + "light".
    for key, value in sorted(colors(dark).items(), key=lambda kv: -len(kv[0])):
        text = text.replace(f"@{key}", value)
    return text


def system_prefers_dark() -> bool:
    hints = QGuiApplication.styleHints()
    return hints.colorScheme() == Qt.ColorScheme.Dark


class ThemeManager(QObject):
    """Applies the chosen look to the application and announces changes (True = dark)."""

    changed = Signal(bool)

    def __init__(self, app: QApplication, parent=None):
        super().__init__(parent)
        self.app = app
        self._dark: bool | None = None
        self._fusion = False
        stored = files.app_settings().value(_SETTINGS_KEY, "system")
        self._preference = stored if stored in THEMES else "system"
        app.styleHints().colorSchemeChanged.connect(self._on_system_scheme_changed)

    @property
    def preference(self) -> str:
        return self._preference

    @property
    def is_dark(self) -> bool:
        return bool(self._dark)

    def set_preference(self, name: str) -> None:
        if name not in THEMES:
            raise ValueError(f"unknown theme {name!r}; choose one of: {', '.join(THEMES)}")
        self._preference = name
        files.app_settings().setValue(_SETTINGS_KEY, name)
        self.apply()

    def wants_dark(self) -> bool:
        if self._preference == "system":
            return system_prefers_dark()
        return self._preference == "dark"

    def apply(self) -> None:
        dark = self.wants_dark()
        if not self._fusion:
            # Fusion draws the same on every platform and takes the palette fully, dark included.
            self.app.setStyle("Fusion")
            self._fusion = True
        self.app.setPalette(make_palette(dark))
        self.app.setStyleSheet(stylesheet(dark))
        if dark != self._dark:
            self._dark = dark
            self.changed.emit(dark)

    def _on_system_scheme_changed(self, _scheme) -> None:
        if self._preference == "system":
            self.apply()

"""Suite-wide settings: Qt renders offscreen, user settings and data folders stay inside tmp dirs."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYTHONHASHSEED", "0")

"""Spin boxes shared by the inspector and the configuration panels: compact widths, and a real
number box that takes 1e-4 as well as 0.5 and steps log-scaled values along 1-2-5."""
from __future__ import annotations

import math

from PySide6.QtCore import QSize
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QAbstractSpinBox, QDoubleSpinBox, QSpinBox

from ..core.params import ParamSpec


class CompactSize:
    """Spin boxes size themselves for their largest value (2³¹ is ten digits wide); forms want
    them sized for ordinary values and stretched by the layout when room allows."""

    hint_digits = 5   # digits the preferred width holds; the minimum always holds five

    def _capped(self, hint: QSize, digits: int) -> QSize:
        return QSize(min(hint.width(), self.fontMetrics().horizontalAdvance("0" * digits) + 30), hint.height())

    def sizeHint(self) -> QSize:
        return self._capped(super().sizeHint(), self.hint_digits)

    def minimumSizeHint(self) -> QSize:
        return self._capped(super().minimumSizeHint(), 5)


class CompactSpinBox(CompactSize, QSpinBox):
    pass


class NumberSpinBox(CompactSize, QDoubleSpinBox):
    """Real numbers typed as 0.5 or 1e-4; log-scale settings step along 1, 2, 5, 10, 20 ..."""

    def __init__(self, spec: ParamSpec, parent=None):
        super().__init__(parent)
        self.log_scale = spec.log_scale
        self.setDecimals(12)
        self.setRange(spec.minimum if spec.minimum is not None else -1e12,
                      spec.maximum if spec.maximum is not None else 1e12)
        self.setKeyboardTracking(False)
        self.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        if spec.unit:
            self.setSuffix(f" {spec.unit}")

    def textFromValue(self, value: float) -> str:
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text.replace(self.suffix(), "").strip())
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        body = text.replace(self.suffix(), "").strip()
        try:
            value = float(body)
        except ValueError:
            partial = body in ("", "-", ".", "-.") or body.lower().endswith(("e", "e-", "e+"))
            return (QValidator.State.Intermediate if partial else QValidator.State.Invalid), text, pos
        inside = self.minimum() <= value <= self.maximum()
        return (QValidator.State.Acceptable if inside else QValidator.State.Intermediate), text, pos

    def stepBy(self, steps: int) -> None:
        if not self.log_scale:
            super().stepBy(steps)
            return
        value = self.value()
        for _ in range(abs(steps)):
            value = nice_step(value, 1 if steps > 0 else -1)
        self.setValue(max(self.minimum(), min(self.maximum(), value)))


def nice_step(value: float, direction: int) -> float:
    """The next value along 1-2-5 per decade (1e-3, 2e-3, 5e-3, 1e-2 ...) up or down."""
    if value <= 0:
        return 1e-4 if direction > 0 else 0.0
    exponent = math.floor(math.log10(value))
    ladder = [m * 10.0**e for e in (exponent - 1, exponent, exponent + 1) for m in (1, 2, 5)]
    if direction > 0:
        return next(v for v in ladder if v > value * (1 + 1e-9))
    smaller = [v for v in ladder if v < value * (1 - 1e-9)]
    return smaller[-1] if smaller else value / 10

"""Axes that speak the language of training: an epoch scale over an iteration axis, and class
names along a matrix."""
from __future__ import annotations

import math

import pyqtgraph as pg


class EpochAxis(pg.AxisItem):
    """A top axis over an iteration axis, ticked at whole epochs (tick k = k epochs done)."""

    def __init__(self, orientation: str = "top", **kwargs):
        super().__init__(orientation, **kwargs)
        self.steps_per_epoch = 0

    def set_steps_per_epoch(self, steps: int) -> None:
        if steps != self.steps_per_epoch:
            self.steps_per_epoch = int(steps)
            self.picture = None
            self.update()

    def tickValues(self, minVal, maxVal, size):
        s = self.steps_per_epoch
        if s <= 0 or maxVal <= minVal:
            return []
        lo, hi = minVal / s, maxVal / s
        # 1, 2, 5, 10, 20, 50, ... epochs between ticks: at most one label per ~60 pixels
        spacing, steps = 1.0, (2.0, 2.5, 2.0)
        i = 0
        while (hi - lo) / spacing > max(size / 60.0, 1.0):
            spacing *= steps[i % 3]
            i += 1
        first = math.ceil(lo / spacing) * spacing
        values = []
        v = first
        while v <= hi + 1e-9 and len(values) < 200:
            values.append(v * s)
            v += spacing
        return [(spacing * s, values)]

    def tickStrings(self, values, scale, spacing):
        s = self.steps_per_epoch or 1
        return [f"{round(v / s):d}" for v in values]


class IntegerAxis(pg.AxisItem):
    """Ticks on whole numbers only (epochs): 1, 2, 3 … or 5, 10, 15 … when there are many."""

    def tickValues(self, minVal, maxVal, size):
        levels = super().tickValues(minVal, maxVal, size)
        out = []
        for spacing, values in levels:
            if spacing < 1:
                continue
            out.append((spacing, [v for v in values if abs(v - round(v)) < 1e-6]))
        if not out:
            lo, hi = math.ceil(min(minVal, maxVal)), math.floor(max(minVal, maxVal))
            out = [(1.0, [float(v) for v in range(lo, hi + 1)][:200])]
        return out


class CategoryAxis(pg.AxisItem):
    """Ticks at 0..k-1 labelled with class names (names are shortened when they do not fit)."""

    def __init__(self, orientation: str, **kwargs):
        super().__init__(orientation, **kwargs)
        self.names: list[str] = []
        self.numbered = False

    def set_names(self, names: list[str], numbered: bool = False) -> None:
        self.names = list(names)
        self.numbered = numbered
        self.picture = None
        self.update()

    def tickValues(self, minVal, maxVal, size):
        if not self.names:
            return super().tickValues(minVal, maxVal, size)
        lo, hi = min(minVal, maxVal), max(minVal, maxVal)  # an inverted axis passes them swapped
        return [(1.0, [float(i) for i in range(len(self.names)) if lo - 0.5 <= i <= hi + 0.5])]

    def tickStrings(self, values, scale, spacing):
        if not self.names:
            return super().tickStrings(values, scale, spacing)
        out = []
        for v in values:
            i = int(round(v))
            if not 0 <= i < len(self.names):
                out.append("")
            elif self.numbered:
                out.append(str(i))
            else:
                out.append(self.names[i])
        return out

"""The learning rate of every iteration, as the schedule set it (warm-up, steps, decay)."""
from __future__ import annotations

import numpy as np

from . import style
from .panel import IterationPanel


class LearningRatePanel(IterationPanel):
    title = "Learning Rate"
    object_name = "learning_rate"
    families = ("run", "lr")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.add_log_toggle("A logarithmic axis shows decays over several orders of magnitude")
        self.finish_header()
        area = self.graphics()
        self.iteration_plot(area, "learning rate")
        self.curve = style.curve(self.plot, style.TRAIN, 2.0)
        self.empty = style.EmptyState("Train to see the learning rate of each iteration", area)

    def refresh(self, buffer) -> None:
        if self.new_run(buffer):
            self.y_range.reset()
        self.epoch_axis.set_steps_per_epoch(buffer.steps_per_epoch)
        x, y = style.finite(buffer.steps.view(), buffer.lrs.view(), positive=self._log)
        self.curve.setData(x, y)
        self.span_run(self.plot, buffer)
        if len(y):
            lo, hi = float(y.min()), float(y.max())
            if self._log:
                lo, hi = np.log10(lo), np.log10(hi)
            if hi == lo:  # a constant rate: centre it instead of a hairline at the edge
                pad = 0.5 if self._log else (abs(hi) * 0.5 or 1e-3)
                lo, hi = lo - pad, hi + pad
            self.y_range.update(lo, hi)
        self.empty.set_visible(len(y) == 0, "Train to see the learning rate of each iteration")
        self.set_readout(f"lr <b style='color:{style.TRAIN}'>{y[-1]:.3g}</b>" if len(y) else "")

    def export_target(self):
        return self.plot

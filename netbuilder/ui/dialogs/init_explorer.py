"""Setup ▸ Initialization Explorer…: the classic experiment of the course, live. Gaussian input
goes through a deep stack of wide fully connected layers; one row per initialization scheme
shows each layer's activation histogram and a verdict (vanish, saturate, shrink, grow, healthy,
symmetric). Switch tanh and ReLU to see why Xavier suits the one and Kaiming the other.

The numbers come from train/init_demo.py on a worker thread; this dialog only draws them.
"""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QGridLayout, QHBoxLayout, QLabel, QPushButton,
                               QSpinBox, QVBoxLayout, QWidget)

from .. import background
from ..monitor import style

SCHEME_TITLES = {"normal-0.01": "Gaussian, std 0.01", "normal-0.05": "Gaussian, std 0.05",
                 "xavier": "Xavier: std 1/√fan_in", "kaiming": "Kaiming: std √(2/fan_in)",
                 "constant": "Constant 0.01 (symmetric)"}
WIDTHS = (512, 1024, 2048, 4096)


class InitializationExplorer(QDialog):
    computed = Signal(object)   # {scheme: (list of LayerStats, verdict)}, once drawn

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Initialization Explorer")
        self.setObjectName("initExplorer")
        self._running = False
        self.results: dict = {}
        layout = QVBoxLayout(self)
        intro = QLabel("Gaussian input through a deep stack of equally wide layers, as in the course's "
                       "demonstration: each row is one way to draw the initial weights, each plot one layer's "
                       "activations. Too small and the signal vanishes; too large and tanh units saturate (their "
                       "gradient is nearly 0); constant weights make every unit of a layer identical, so they can "
                       "never learn different features.", self)
        intro.setWordWrap(True)
        layout.addWidget(intro)

        controls = QHBoxLayout()
        self.nonlinearity = QComboBox(self)
        self.nonlinearity.addItem("tanh", "tanh")
        self.nonlinearity.addItem("ReLU", "relu")
        self.width_box = QComboBox(self)
        for width in WIDTHS:
            self.width_box.addItem(f"{width} units", width)
        self.width_box.setCurrentIndex(len(WIDTHS) - 1)
        self.layers_box = QSpinBox(self)
        self.layers_box.setRange(2, 12)
        self.layers_box.setValue(7)
        self.run_button = QPushButton("Show", self)
        self.run_button.clicked.connect(self.compute)
        for text, widget in (("Nonlinearity", self.nonlinearity), ("Width", self.width_box),
                             ("Layers", self.layers_box)):
            controls.addWidget(QLabel(text, self))
            controls.addWidget(widget)
        controls.addWidget(self.run_button)
        controls.addStretch(1)
        layout.addLayout(controls)
        self.nonlinearity.currentIndexChanged.connect(lambda _i: self.compute())

        host = QWidget(self)
        self.grid = QGridLayout(host)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setColumnStretch(1, 1)
        self.rows: dict[str, tuple[QLabel, pg.GraphicsLayoutWidget]] = {}
        for row, (scheme, title) in enumerate(SCHEME_TITLES.items()):
            label = QLabel(f"<b>{title}</b>", host)
            label.setWordWrap(True)
            label.setFixedWidth(210)
            plots = pg.GraphicsLayoutWidget(host)
            plots.setMinimumHeight(105)
            plots.setBackground(style.colors()["background"])
            self.grid.addWidget(label, row, 0)
            self.grid.addWidget(plots, row, 1)
            self.rows[scheme] = (label, plots)
        layout.addWidget(host, 1)
        self.status = QLabel(self)
        layout.addWidget(self.status)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(1180, 760)

    @property
    def is_running(self) -> bool:
        return self._running

    def compute(self) -> bool:
        if self._running:
            return False
        nonlinearity = self.nonlinearity.currentData()
        width, layers = int(self.width_box.currentData()), self.layers_box.value()
        self._running = True
        self.run_button.setEnabled(False)
        self.status.setText(f"Computing {len(SCHEME_TITLES)} stacks of {layers} layers × {width} units…")

        def work():
            from ...train.init_demo import activation_statistics, verdict
            out = {}
            for scheme in SCHEME_TITLES:
                stats = activation_statistics(scheme, nonlinearity, layers=layers, width=width)
                out[scheme] = (stats, verdict(stats, nonlinearity))
            return out

        background.run_in_background(work, self._draw, self._on_error, receiver=self)
        return True

    def _on_error(self, message: str) -> None:
        self._running = False
        self.run_button.setEnabled(True)
        self.status.setText(f"Could not compute the activations: {message}")

    def _draw(self, results: dict) -> None:
        self._running = False
        self.run_button.setEnabled(True)
        self.results = results
        color = style.TRAIN
        for scheme, (stats, verdict) in results.items():
            label, plots = self.rows[scheme]
            label.setText(f"<b>{SCHEME_TITLES[scheme]}</b><br>{verdict}")
            plots.clear()
            for s in stats:
                plot = plots.addPlot()
                style.style_plot(plot)   # colours only: downsampling would break the step histogram
                plot.setMouseEnabled(x=False, y=False)
                plot.setTitle(f"layer {s.layer} · std {s.std:.2g}", size="8pt", color=style.colors()["text"])
                plot.hideAxis("left")
                plot.getAxis("bottom").setStyle(tickLength=-3)
                plot.hideButtons()
                plot.plot(s.edges, s.counts, stepMode="center", fillLevel=0, pen=style.pen(color),
                          brush=style.brush(color, 0.4))
        self.status.setText("Each histogram spans its layer's values; the std above it is the spread.")
        self.computed.emit(results)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self.results and not self._running:
            self.compute()

"""Training: epochs, batch size, the device (showing which devices this computer really has),
the seed and how often the monitor reads values off the device."""
from __future__ import annotations

from PySide6.QtGui import QStandardItemModel

from ...core.settings import TRAINING_SPECS
from .. import probe
from ..devices import DeviceReport
from .labels import hint_label, set_role
from .section_panel import SettingsPanel

DEVICE_NAMES = {"auto": "Automatic", "cpu": "CPU", "cuda": "CUDA GPU", "mps": "Apple GPU (MPS)"}


class TrainingPanel(SettingsPanel):
    title = "Training"
    icon_name = "training"

    def __init__(self, document, parent=None, device_probe=None):
        """`device_probe() -> DeviceReport` replaces asking the machine (tests)."""
        super().__init__(document, parent)
        self.device_probe = device_probe
        self._probe = None
        self.devices: DeviceReport | None = None
        self._probing = False
        self.form = self.add_form(TRAINING_SPECS, "training", labels={"device": DEVICE_NAMES})
        self.device_combo = self.form.fields["device"].combo
        self.device_status = hint_label("Looking for devices…", self)
        self.form.insert_row(self.device_status, after="device")
        self.form.add_header("Run", before="epochs")
        self.form.add_header("Hardware", before="device")
        self.form.add_header("Reproducibility", before="seed")
        self.form.add_header("Monitoring", before="log_every")
        self.body.addStretch(1)
        self.align_forms()
        self.set_document(document)

    def shown_on_screen(self) -> None:
        self.probe_devices()

    def probe_devices(self) -> None:
        """Find the devices once, without blocking the window (see probe.py)."""
        if self.devices is not None or self._probing:
            return
        self._probing = True
        if self.device_probe is not None:
            self.show_devices(self.device_probe())
            return
        self._probe = probe.ask_devices(self.show_devices, self._on_probe_failed, self)

    def _on_probe_failed(self, message: str) -> None:
        self._probing = False
        set_role(self.device_status, "status-warning")
        self.device_status.setText(f"Could not list devices: {message}")

    def show_devices(self, report: DeviceReport) -> None:
        self._probing = False
        self.devices = report
        model = self.device_combo.model()
        for index in range(self.device_combo.count()):
            kind = self.device_combo.itemData(index)
            name = DEVICE_NAMES.get(kind, kind)
            if kind == "auto":
                text = f"{name} ({DEVICE_NAMES[report.auto]} here)"
            elif kind in report.available:
                text = f"{name}: {report.available[kind]}" if kind != "cpu" else name
            else:
                text = f"{name} (not on this computer)"
            self.device_combo.setItemText(index, text)
            if isinstance(model, QStandardItemModel):
                model.item(index).setToolTip(text)
        self._update_device_status()

    def refresh(self) -> None:
        super().refresh()
        self._update_device_status()

    def _update_device_status(self) -> None:
        if self.document is None or self.devices is None:
            return
        chosen = self.settings("training")["device"]
        found = ", ".join(f"{DEVICE_NAMES[k]} ({v})" if k != "cpu" else v for k, v in self.devices.available.items())
        if chosen != "auto" and chosen not in self.devices.available:
            set_role(self.device_status, "status-warning")
            self.device_status.setText(f"{DEVICE_NAMES[chosen]} is not available on this computer; training here "
                                       f"needs Automatic or CPU. Found: {found}.")
        else:
            set_role(self.device_status, "hint")
            self.device_status.setText(f"Found: {found}.")

"""What this computer can train on. Asking needs torch, whose import takes seconds, so the
question is asked on a worker thread when the answer is first wanted, never at start-up."""
from __future__ import annotations

import os
from dataclasses import dataclass, field


@dataclass
class DeviceReport:
    """Device kinds the project settings can name ("cpu", "cuda", "mps") that exist here, with
    a readable description, and the kind that "auto" resolves to."""

    available: dict = field(default_factory=dict)
    auto: str = "cpu"
    torch_version: str = ""


def probe_devices() -> DeviceReport:
    import torch

    report = DeviceReport(torch_version=torch.__version__)
    cores = os.cpu_count() or 1
    report.available["cpu"] = f"CPU, {cores} core{'s' if cores != 1 else ''}"
    if torch.cuda.is_available():
        count = torch.cuda.device_count()
        name = torch.cuda.get_device_name(0)
        report.available["cuda"] = name + (f" and {count - 1} more" if count > 1 else "")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        report.available["mps"] = "Apple GPU (Metal)"
    report.auto = "cuda" if "cuda" in report.available else ("mps" if "mps" in report.available else "cpu")
    return report

"""Data: which dataset, where it lives (and whether it was found), the train/validation split,
preprocessing and augmentation, with a live preview of augmented samples."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QTimer

from ...core.settings import AUGMENTATION_SPECS, DATA_SPECS
from .. import probe
from ..data_location import BUILT_IN
from .augmentation_preview import AugmentationPreview
from .labels import hint_label, section_header, set_role
from .section_panel import SettingsPanel

DATASET_LABELS = {
    "fashion-mnist": "Fashion-MNIST", "mnist": "MNIST digits", "kmnist": "Kuzushiji-MNIST", "cifar10": "CIFAR-10",
    "image-folder": "Image folder", "csv": "CSV table", "npz": "NumPy arrays (.npz)", "toy-2d": "2-D toy points",
}
TOY_LABELS = {"spiral": "Two spirals", "xor": "XOR", "circles": "Concentric circles", "gaussians": "Two Gaussians",
              "moons": "Two moons"}
PREPROCESSING_LABELS = {
    "standardize": "Standardize per channel", "zero-center": "Zero-centre", "minmax": "Min-max to [0, 1]",
    "pca-whiten": "PCA whitening", "none": "None",
}
IMAGE_DATASETS = ("fashion-mnist", "mnist", "kmnist", "cifar10", "image-folder")
PATH_MODES = {"image-folder": ("folder", ""), "csv": ("file", "CSV files (*.csv);;All files (*)"),
              "npz": ("file", "NumPy archives (*.npz);;All files (*)")}


def ordered_data_specs() -> list:
    """The data settings in reading order (the toy generator's right after the dataset choice);
    the data folder shows only for the built-in datasets, the only ones it applies to."""
    specs = [replace(s, visible_if={"dataset": BUILT_IN}) if s.name == "root" else s for s in DATA_SPECS]
    toy = [s for s in specs if s.name.startswith("toy_")]
    rest = [s for s in specs if not s.name.startswith("toy_")]
    return rest[:1] + toy + rest[1:]


class DataPanel(SettingsPanel):
    title = "Data"
    icon_name = "data"

    def __init__(self, document, parent=None, locator=None):
        """`locator(data, project_dir) -> (status, message)` replaces the real lookup (tests)."""
        super().__init__(document, parent)
        self.locator = locator
        self._probe = None
        self.form = self.add_form(
            ordered_data_specs(), "data",
            labels={"dataset": DATASET_LABELS, "toy_generator": TOY_LABELS, "preprocessing": PREPROCESSING_LABELS},
            none_texts={"limit": "all"}, path_modes={"root": "folder"},
            placeholders={"root": "search the usual places", "path": "choose…"})
        self.location = hint_label("", self)
        self.form.insert_row(self.location, after="dataset")
        self.form.add_header("Location", before="root")
        self.form.add_header("Split", before="limit")
        self.form.add_header("Preprocessing", before="preprocessing")
        self.form.add_header("Toy data", before="toy_generator")

        self.body.addWidget(section_header("Augmentation", self))
        self.augmentation_note = hint_label("", self)
        self.body.addWidget(self.augmentation_note)
        self.augmentation_form = self.add_form(AUGMENTATION_SPECS, "data", key="augmentation")
        self.preview = AugmentationPreview(self)
        self.body.addWidget(self.preview)
        self.body.addStretch(1)
        self.align_forms()

        self._located_for = None
        self._locate_timer = QTimer(self)
        self._locate_timer.setSingleShot(True)
        self._locate_timer.setInterval(150)
        self._locate_timer.timeout.connect(self._locate)
        self.set_document(document)

    def project_dir(self) -> Path | None:
        path = self.document.path if self.document is not None else None
        return Path(path).parent if path else None

    def set_document(self, document) -> None:
        if self.document is not None:
            self.document.path_changed.disconnect(self._on_path_changed)
        super().set_document(document)
        if document is not None:
            document.path_changed.connect(self._on_path_changed)
            self.preview.set_source(document.project.settings["data"], self.project_dir())

    def _on_path_changed(self, _path) -> None:
        self._located_for = None
        self.refresh()

    def refresh(self) -> None:
        super().refresh()
        if self.document is None:
            return
        data = self.settings("data")
        dataset = data["dataset"]
        mode, file_filter = PATH_MODES.get(dataset, ("any", "All files (*)"))
        path_field = self.form.fields["path"]
        path_field.set_mode(mode, file_filter)
        project_dir = self.project_dir()
        for name in ("root", "path"):
            self.form.fields[name].start_folder = str(project_dir or "")
        is_image = dataset in IMAGE_DATASETS
        self.augmentation_form.setEnabled(is_image)
        self.augmentation_note.setText("Random changes to each training image, drawn anew every epoch; validation "
                                       "and test images stay as they are." if is_image else
                                       "Augmentation applies to image datasets; these settings are kept but unused.")
        self.preview.setVisible(is_image)
        self.preview.set_source(data, project_dir)
        self._locate_if_needed()

    def shown_on_screen(self) -> None:
        self._locate_if_needed()

    def _locate_if_needed(self) -> None:
        """Look for the data when the panel is on screen and what to look for has changed
        (looking may load torch: never at start-up, only for a user who opens this panel)."""
        if self.document is None or not self.on_screen():
            return
        data = self.settings("data")
        key = (data["dataset"], data.get("root"), data.get("path"), str(self.project_dir()))
        if key != self._located_for:
            self._located_for = key
            set_role(self.location, "hint")
            self.location.setText("Looking for the data…")
            self._locate_timer.start()

    def _locate(self) -> None:
        if self.document is None:
            return
        if not self.on_screen():
            self._located_for = None  # hidden meanwhile: look when it shows again
            return
        data, project_dir, key = dict(self.settings("data")), self.project_dir(), self._located_for
        if self._probe is not None:
            self._probe.kill()
        if self.locator is not None:
            self._show_location(key, self.locator(data, project_dir))
            return
        self._probe = probe.ask_location(data, project_dir, lambda result: self._show_location(key, result),
                                         lambda message: self._show_location(key, ("unknown", message)), self)

    def _show_location(self, key, result) -> None:
        if key != self._located_for:
            return  # the settings moved on while looking
        status, message = result
        set_role(self.location, {"ok": "status-ok", "missing": "status-warning"}.get(status, "hint"))
        self.location.setText(("✓ " if status == "ok" else "⚠ " if status == "missing" else "") + message)

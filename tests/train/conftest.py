"""Shared fixtures for the training tests: the real Fashion-MNIST files, loaded once."""
from __future__ import annotations

from pathlib import Path

import pytest

FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture(scope="session")
def fashion_bundle():
    """The whole of Fashion-MNIST as the default image input sees it (read once per session)."""
    if not (FASHION / "train-images-idx3-ubyte.gz").exists():
        pytest.skip("Fashion-MNIST is not installed")
    from netbuilder.train.data import load_data
    return load_data({"dataset": "fashion-mnist", "root": str(FASHION)}, "image", (1, 28, 28))


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No downloads, no datasets in the user's folders: only what a test puts in place is found."""
    from netbuilder.train import data
    monkeypatch.setenv("NETBUILDER_OFFLINE", "1")
    monkeypatch.delenv("NETBUILDER_DATA", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "user-data"))
    monkeypatch.setattr(data, "SYSTEM_DATASETS", tmp_path / "system-datasets")
    return tmp_path

"""Fixtures of the export tests: a one-epoch training run on a Fashion-MNIST subset, and a
Python environment where NetBuilder cannot be imported (so exported files prove they need
only torch)."""
from __future__ import annotations

import os

import pytest

from export_helpers import FASHION


@pytest.fixture
def no_netbuilder_env(tmp_path):
    """Environment variables for a subprocess in which `import netbuilder` fails."""
    shim = tmp_path / "shim" / "netbuilder"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text('raise ImportError("exported code must not need netbuilder")\n')
    env = dict(os.environ)
    env["PYTHONPATH"] = str(shim.parent)
    env["OMP_NUM_THREADS"] = "1"  # two processes on two cores: no thread oversubscription
    env.pop("NETBUILDER_DATA", None)
    return env


@pytest.fixture(scope="session")
def lenet_run(tmp_path_factory):
    """A LeNet-5 run folder: one epoch on 2,000 Fashion-MNIST samples, trained by NetBuilder's engine."""
    if not (FASHION / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip("Fashion-MNIST is not installed")
    import torch
    from netbuilder.core import templates
    from netbuilder.train.engine import Overrides, Trainer

    folder = tmp_path_factory.mktemp("runs") / "lenet-run"
    project = templates.build("lenet5")
    project.settings["data"]["root"] = str(FASHION)
    project.settings["training"]["device"] = "cpu"
    project.settings["training"]["probe_every"] = 10_000
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        trainer = Trainer(project, run_dir=folder, overrides=Overrides(epochs=1, limit=2000))
        trainer.run()
    finally:
        torch.set_num_threads(threads)
    return folder, project, trainer.history


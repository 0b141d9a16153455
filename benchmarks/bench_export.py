"""Export speed and correctness on the ImageNet-size templates, every format (including the
ONNX export of the 133M-parameter VGG-11 that the test suite leaves out for time).

    python benchmarks/bench_export.py [--templates alexnet,vgg11,resnet18] [--formats pt,onnx,...]

Each export writes its file, reads it back with the format's own reader and compares outputs
(the check every export runs). Printed per export: seconds, file size, the verified maximum
absolute difference, and the time as a ratio to the baseline run beside it: saving the state
dict with torch.save alone, so the numbers say what checking and converting add.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--templates", default="alexnet,vgg11,resnet18")
    parser.add_argument("--formats", default="pt,safetensors,torchscript,onnx,python,script")
    args = parser.parse_args(argv)

    import torch

    from netbuilder.core import templates
    from netbuilder.export import ExportError, default_file_name, export_model
    from netbuilder.export.common import prepare

    failures = 0
    print(f"{'template':<10} {'format':<12} {'seconds':>8} {'× save':>7} {'MB':>8}  max |Δ|")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        for name in args.templates.split(","):
            project = templates.build(name)
            if project.settings["data"]["dataset"] == "image-folder":
                project.settings["data"]["path"] = "imagenet"  # the script reads it when it runs, not now
            prep = prepare(project)
            start = time.perf_counter()
            torch.save(prep.state_dict, folder / "baseline.pt")
            baseline = time.perf_counter() - start
            (folder / "baseline.pt").unlink()
            print(f"{name:<10} {'(torch.save)':<12} {baseline:8.2f} {1.0:7.1f}")
            for fmt in args.formats.split(","):
                out = folder / default_file_name(project, fmt)
                start = time.perf_counter()
                try:
                    report = export_model(project, fmt, out)
                except ExportError as exc:
                    failures += 1
                    print(f"{name:<10} {fmt:<12} FAILED: {exc}")
                    continue
                seconds = time.perf_counter() - start
                size = sum(p.stat().st_size for p in report.paths) / 1e6
                print(f"{name:<10} {fmt:<12} {seconds:8.2f} {seconds / baseline:7.1f} {size:8.1f}  "
                      f"{report.max_abs_diff:.2e} on {report.batch}")
                for path in report.paths:
                    path.unlink()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

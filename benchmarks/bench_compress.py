"""Every compression of two sample networks, trained here on the CPU first, measured as `netbuilder compress` measures
them: file size, parameters (not zero), median CPU latency at batch 1 and 32, validation accuracy against the float
network and the agreement of predictions. The float row is the baseline of each table, measured in the same process.

Prints Markdown tables for docs/benchmarks.md. Run: `.venv/bin/python benchmarks/bench_compress.py [--epochs N]`.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from netbuilder.project import load_project
from netbuilder.training.compression.compress import CompressionPlan, compress
from netbuilder.training.compression.quantization import DYNAMIC, STATIC, WEIGHT_ONLY
from netbuilder.training.compression.report import report_rows
from netbuilder.training.engine import Trainer, with_settings

SAMPLES = Path(__file__).parent.parent / "sample_projects"
PLANS = {
    # a convolutional network: every kind of compression
    "digits_cnn": [
        CompressionPlan(macs_fraction=0.5, fine_tune_epochs=2, quantizations=(STATIC, WEIGHT_ONLY, DYNAMIC)),
        CompressionPlan(sparsity=0.7, fine_tune_epochs=2),
        CompressionPlan(quantizations=(STATIC,), compiled=True),
    ],
    # a recurrent one: dynamic int8 (its LSTM and Linear) and magnitude pruning
    "lstm_classifier": [CompressionPlan(sparsity=0.5, fine_tune_epochs=2, quantizations=(DYNAMIC, WEIGHT_ONLY))],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    with tempfile.TemporaryDirectory() as folder:
        for name, plans in PLANS.items():
            project = with_settings(load_project(SAMPLES / f"{name}.nbproj"), device="cpu", epochs=args.epochs)
            trainer = Trainer(project)
            trainer.run()
            weights = trainer.save_weights(Path(folder) / name / "model.pt")
            for index, plan in enumerate(plans):
                started = time.perf_counter()
                report = compress(project, weights, plan, Path(folder) / name / str(index))
                header, cells = report_rows(report.rows)
                print(f"\n{name}, {args.epochs} epochs; plan {index + 1} ({time.perf_counter() - started:.1f} s)\n")
                print("| " + " | ".join(header[:-1]) + " |")
                print("|" + "|".join("---" for _ in header[:-1]) + "|")
                for row in cells:
                    print("| " + " | ".join(row[:-1]) + " |" + (f" {row[-1]}" if row[-1] else ""))


if __name__ == "__main__":
    main()

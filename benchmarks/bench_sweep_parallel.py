"""What `netbuilder sweep --parallel K` gains over the same sweep one run at a time, as a person runs it: the whole
command, timed from its start to its end (torch's import, the data, the worker processes' start and their CUDA
contexts all counted), on copies of the sample projects, K and one at a time alternated in rounds (the fastest
round kept: a busy machine only ever adds time). Each line also says whether the runs ended with the same
losses both ways (every epoch's training loss of every run, from the run history). Without CUDA it says so and
exits. Run on a GPU machine: `python benchmarks/bench_sweep_parallel.py [--runs N] [--epochs E] [--parallel K]
[--rounds R] [--projects digits_mlp,digits_cnn]`.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from netbuilder.project.run_history import RunHistory

SAMPLES = Path(__file__).resolve().parent.parent / "sample_projects"


def sweep(name: str, folder: Path, runs: int, epochs: int, parallel: int) -> tuple[float, list]:
    """One `netbuilder sweep` of `runs` learning rates on a fresh copy of the sample: its wall time and every
    run's training losses by epoch, in trial order."""
    folder.mkdir(parents=True)
    project = Path(shutil.copy(SAMPLES / f"{name}.nbproj", folder / f"{name}.nbproj"))
    command = [sys.executable, "-m", "netbuilder", "sweep", str(project), "--set", f"optimizer.lr=1e-4:1e-2:log:{runs}"]
    command += ["--epochs", str(epochs), "--device", "cuda", "--parallel", str(parallel), "--json"]
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    seconds = time.perf_counter() - start
    records = sorted(RunHistory(project).records, key=lambda record: record.sweep["index"])
    return seconds, [[entry["train_loss"] for entry in record.history] for record in records]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8, help="runs in the sweep")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--parallel", type=int, default=4, help="K: runs at once")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--projects", default="digits_mlp,digits_cnn")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("no CUDA device: nothing to compare (run this on a GPU machine)")
        sys.exit(0)
    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}; {args.runs} runs of {args.epochs} epochs")
    with tempfile.TemporaryDirectory() as scratch:
        for name in args.projects.split(","):
            times: dict[int, list[float]] = {1: [], args.parallel: []}
            losses: dict[int, list] = {}
            for round_ in range(args.rounds):
                for parallel in times:
                    folder = Path(scratch) / f"{name}-{parallel}-{round_}"
                    seconds, losses[parallel] = sweep(name, folder, args.runs, args.epochs, parallel)
                    times[parallel].append(seconds)
            one, k = min(times[1]), min(times[args.parallel])
            same = "same losses" if losses[1] == losses[args.parallel] else "other losses"
            listed = "; ".join(f"{p}: " + ", ".join(f"{s:.1f}" for s in t) for p, t in times.items())
            print(f"{name}: one at a time {one:.1f} s, {args.parallel} at once {k:.1f} s: {one / k:.2f}x  ({same})")
            print(f"  rounds [{listed}]", flush=True)


if __name__ == "__main__":
    main()

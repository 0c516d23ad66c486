"""Speed of furu-slurm on the local SLURM cluster, each figure against plain submitit.

Run from the repository root with the cluster up (`tests-integration/slurm/start-local-slurm.sh`):
`python benchmarks/bench_slurm.py [--steps 50] [--repeats 2]`. It prints a table and asserts
nothing (the integration tests check behaviour; wall-clock ratios belong here).

1. overhead: N trivial steps through `furu.load_or_create_many` vs `executor.map_array` of the
   same function and `job.result()` on each (target: furu <= 1.2x).
2. planning: 1,000 steps of which 900 are cached: time until the one `sbatch` returned, and
   how many `sbatch` calls were made (through a counting shim on PATH; target <= 2 s, 1 call).
3. scheduler load: `sacct` calls per poll interval while a batch is watched (target <= 1).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent / "tests-integration"
sys.path.insert(0, str(TESTS))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")]))

import submitit  # noqa: E402

import furu  # noqa: E402
import furu_slurm  # noqa: E402
from furu_slurm._scheduler import Scheduler  # noqa: E402
from slurm_steps import Square  # noqa: E402


def square(x: int, log_path: str) -> int:
    """The plain-submitit twin of `Square._create` (same file write, same result)."""
    import json

    with open(log_path, "a", encoding="utf-8") as f:
        f.write(json.dumps({"x": x}) + "\n")
    return x * x


def run_plain(tmp: Path, n: int) -> float:
    ex = submitit.AutoExecutor(folder=tmp / "plain")
    ex.update_parameters(slurm_partition="debug", timeout_min=10)
    start = time.perf_counter()
    jobs = ex.map_array(square, list(range(n)), [str(tmp / "plain.log")] * n)
    results = [j.result() for j in jobs]
    elapsed = time.perf_counter() - start
    assert results == [x * x for x in range(n)]
    return elapsed


def run_furu(tmp: Path, n: int, poll: float) -> tuple[float, Scheduler]:
    furu.set_furu_root(tmp / "store")
    ex = furu_slurm.SlurmExecutor(
        folder=tmp / "furu",
        resources=furu_slurm.Resources(partition="debug", time=10),
        poll_interval=poll,
    )
    steps = [Square(x=x, log_path=str(tmp / "furu.log")) for x in range(n)]
    start = time.perf_counter()
    batch = ex.submit_many(steps)
    batch.wait(timeout=600, progress=False)
    results = [s.load_or_create() for s in steps]
    elapsed = time.perf_counter() - start
    assert results == [x * x for x in range(n)]
    return elapsed, batch.scheduler


def max_calls_per_interval(times: list[float], interval: float) -> int:
    best = 0
    for i, t in enumerate(times):
        best = max(best, sum(1 for u in times[i:] if u < t + interval))
    return best


def sbatch_shim(tmp: Path) -> Path:
    """A directory whose `sbatch` logs each call's end time, then runs the real one."""
    real = subprocess_which("sbatch")
    shim = tmp / "shim"
    shim.mkdir()
    log = tmp / "sbatch-calls.log"
    (shim / "sbatch").write_text(
        f'#!/bin/sh\n"{real}" "$@"; rc=$?\ndate +%s.%N >> "{log}"\nexit $rc\n', encoding="utf-8"
    )
    (shim / "sbatch").chmod(0o755)
    return shim


def subprocess_which(name: str) -> str:
    import shutil

    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} is not on PATH: start the cluster first")
    return found


def run_planning(tmp: Path, total: int, cached: int) -> tuple[float, int, int]:
    furu.set_furu_root(tmp / "store-plan")
    furu.FURU_CONFIG.ignore_git_diff = True
    steps = [Square(x=x, log_path=str(tmp / "plan.log")) for x in range(total)]
    for step in steps[:cached]:
        step.load_or_create()
    shim = sbatch_shim(tmp)
    os.environ["PATH"] = f"{shim}{os.pathsep}{os.environ['PATH']}"
    ex = furu_slurm.SlurmExecutor(
        folder=tmp / "plan-jobs", resources=furu_slurm.Resources(partition="debug", time=10)
    )
    fresh = [Square(x=x, log_path=str(tmp / "plan.log")) for x in range(total)]  # no caches
    start = time.time()
    batch = ex.submit_many(fresh)
    calls = (tmp / "sbatch-calls.log").read_text().split()
    first_return = float(calls[0]) - start
    jobs = len(batch.job_ids)
    batch.cancel()
    return first_return, len(calls), jobs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--poll", type=float, default=1.0, help="sacct poll interval (s)")
    args = parser.parse_args()
    furu.FURU_CONFIG.ignore_git_diff = True
    plain, ours, sacct_rates = [], [], []
    for r in range(args.repeats):
        with tempfile.TemporaryDirectory(prefix="bench-slurm-") as d:
            plain.append(run_plain(Path(d), args.steps))
        with tempfile.TemporaryDirectory(prefix="bench-slurm-") as d:
            elapsed, sched = run_furu(Path(d), args.steps, args.poll)
            ours.append(elapsed)
            sacct_rates.append(max_calls_per_interval(sched.sacct_times, args.poll))
        print(f"round {r + 1}: plain {plain[-1]:.2f}s, furu {ours[-1]:.2f}s", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-slurm-") as d:
        first, calls, jobs = run_planning(Path(d), 1000, 900)
    p, f = statistics.median(plain), statistics.median(ours)
    rows = [
        (f"{args.steps}-step array, plain map_array+result", f"{p:.2f} s", ""),
        (f"{args.steps}-step array through furu", f"{f:.2f} s", f"{f / p:.2f}x (target <= 1.2x)"),
        ("1000 steps, 900 cached: first sbatch returned", f"{first:.2f} s", "target <= 2 s"),
        ("  sbatch calls / jobs queued", f"{calls} / {jobs}", "target: 1 call"),
        (
            f"sacct calls per {args.poll:g}s poll interval (max)",
            str(max(sacct_rates)),
            "target <= 1",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"\n{'benchmark':<{width}}  {'value':>10}  note")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>10}  {note}")


if __name__ == "__main__":
    main()

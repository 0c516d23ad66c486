"""Speed of furu-slurm on the local SLURM cluster, each figure against plain submitit.

Run from the repository root with the cluster up (`tests-integration/slurm/start-local-slurm.sh`):
`python benchmarks/bench_slurm.py [--steps 50] [--repeats 2]`. It prints a table and asserts
nothing (the integration tests check behaviour; wall-clock ratios belong here).

1. overhead: N trivial steps through `furu_slurm.submit_many` + `wait` vs `executor.map_array` of
   the same function and `job.result()` on each (target: furu <= 1.2x). The two alternate which
   goes first; the figure is the median of the per-round ratios.
1b. where that overhead comes from: the CPU time of one array task on the node, furu's task vs
   plain submitit's, each run cold the way SLURM runs it (`python -m submitit.core._submit`),
   alternating, median of many. CPU time is what a loaded node has too little of, and it is far
   steadier than the cluster's wall time on a small machine.
2. planning: 1,000 steps of which 900 are cached: time until the one `sbatch` returned, and
   how many `sbatch` calls were made (through a counting shim on PATH; target <= 2 s, 1 call).
3. scheduler load: `sacct` calls per poll interval while a batch is watched (target <= 1).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
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
from furu_slurm._node import NodeTask, write_settings  # noqa: E402
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


def node_task_cpu(tmp: Path, n: int) -> tuple[float, float]:
    """Median CPU seconds of one cold array task: (plain submitit, furu), alternating."""
    from submitit.core.utils import DelayedSubmission

    furu.set_furu_root(tmp / "store-node")
    settings = write_settings(tmp / "settings")
    env = dict(
        os.environ,
        SUBMITIT_EXECUTOR="slurm",
        SLURM_ARRAY_JOB_ID="9000",
        SLURM_PROCID="0",
        SLURM_NTASKS="1",
        SLURM_LOCALID="0",
        SLURM_NODEID="0",
        SLURM_JOB_NUM_NODES="1",
        SLURM_JOB_NODELIST="localhost",
        SLURMD_NODENAME="localhost",
    )
    cpu: dict[str, list[float]] = {"plain": [], "furu": []}
    for kind in cpu:
        (tmp / kind).mkdir()
    for i in range(n):
        for kind in ("plain", "furu") if i % 2 == 0 else ("furu", "plain"):
            if kind == "plain":
                job = DelayedSubmission(square, i, str(tmp / "node-plain.log"))
            else:
                step = Square(x=i, log_path=str(tmp / "node-furu.log"))
                job = DelayedSubmission(NodeTask(step=step, settings_path=settings))
            job.dump(tmp / kind / f"9000_{i}_submitted.pkl")
            proc = subprocess.Popen(
                [sys.executable, "-u", "-m", "submitit.core._submit", str(tmp / kind)],
                env={**env, "SLURM_ARRAY_TASK_ID": str(i), "SLURM_JOB_ID": str(9001 + i)},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            _, status, usage = os.wait4(proc.pid, 0)
            if status != 0:
                raise SystemExit(f"the emulated {kind} task {i} failed: see {tmp / kind}")
            cpu[kind].append(usage.ru_utime + usage.ru_stime)
    return statistics.median(cpu["plain"]), statistics.median(cpu["furu"])


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


def dirty_repo(where: Path, lines: int) -> Path:
    """A git repository whose uncommitted diff is about `lines` * 60 bytes."""
    where.mkdir()
    git = ["git", "-C", str(where), "-c", "user.name=b", "-c", "user.email=b@b"]
    subprocess.run([*git, "init", "-q"], check=True)
    (where / "model.py").write_text("".join(f"weight_{i} = {i}\n" for i in range(lines)))
    subprocess.run([*git, "add", "model.py"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "start"], check=True)
    (where / "model.py").write_text("".join(f"weight_{i} = {i + 1}\n" for i in range(lines)))
    return where


def run_planning(tmp: Path, total: int, cached: int) -> tuple[float, int, int, int, int]:
    """Submit `total` steps of which `cached` are done, from a repository with a large diff."""
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
    furu.FURU_CONFIG.ignore_git_diff = False  # the submitter's diff travels with its jobs
    here = Path.cwd()
    os.chdir(dirty_repo(tmp / "repo", 20_000))
    try:
        start = time.time()
        batch = ex.submit_many(fresh)
    finally:
        os.chdir(here)
        furu.FURU_CONFIG.ignore_git_diff = True
    calls = (tmp / "sbatch-calls.log").read_text().split()
    first_return = float(calls[0]) - start
    jobs = len(batch.job_ids)
    batch.cancel()
    (settings,) = (tmp / "plan-jobs").glob("furu-settings-*.pkl")
    written = sum(p.stat().st_size for p in (tmp / "plan-jobs").rglob("*.pkl"))
    return first_return, len(calls), jobs, settings.stat().st_size, written


def _scratch() -> tempfile.TemporaryDirectory[str]:
    """A scratch directory; a job that is still closing its submitit log when the round ends
    may refill it while it is removed, so what cannot be removed is left behind."""
    return tempfile.TemporaryDirectory(prefix="bench-slurm-", ignore_cleanup_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--node-tasks", type=int, default=30, help="cold tasks per kind (1b)")
    parser.add_argument("--poll", type=float, default=1.0, help="sacct poll interval (s)")
    parser.add_argument("--plan-steps", type=int, default=1000, help="steps planned (2)")
    parser.add_argument("--plan-cached", type=int, default=900, help="of which cached (2)")
    args = parser.parse_args()
    furu.FURU_CONFIG.ignore_git_diff = True
    for name in ("furu", "slurm_steps"):  # a line per step would drown the table
        logging.getLogger(name).setLevel(logging.WARNING)
    plain: list[float] = []
    ours: list[float] = []
    sacct_rates: list[int] = []

    def furu_round(d: Path) -> None:
        elapsed, sched = run_furu(d, args.steps, args.poll)
        ours.append(elapsed)
        sacct_rates.append(max_calls_per_interval(sched.sacct_times, args.poll))

    for r in range(args.repeats):
        runs = [lambda d: plain.append(run_plain(d, args.steps)), furu_round]
        for run in runs if r % 2 == 0 else runs[::-1]:
            with tempfile.TemporaryDirectory(
                prefix="bench-slurm-", ignore_cleanup_errors=True
            ) as d:
                run(Path(d))
        print(
            f"round {r + 1}: plain {plain[-1]:.2f}s, furu {ours[-1]:.2f}s "
            f"({ours[-1] / plain[-1]:.2f}x)",
            flush=True,
        )
    with _scratch() as d:
        node_plain, node_furu = node_task_cpu(Path(d), args.node_tasks)
    with _scratch() as d:
        first, calls, jobs, patch, written = run_planning(
            Path(d), args.plan_steps, args.plan_cached
        )
    p, f = statistics.median(plain), statistics.median(ours)
    ratio = statistics.median(o / q for o, q in zip(ours, plain, strict=True))
    rows = [
        (f"{args.steps}-step array, plain map_array+result", f"{p:.2f} s", "median"),
        (
            f"{args.steps}-step array through furu",
            f"{f:.2f} s",
            f"{ratio:.2f}x, median of {args.repeats} rounds (target <= 1.2x)",
        ),
        ("one array task's CPU on the node, plain", f"{node_plain * 1e3:.0f} ms", ""),
        (
            "one array task's CPU on the node, furu",
            f"{node_furu * 1e3:.0f} ms",
            f"{node_furu / node_plain:.2f}x, +{(node_furu - node_plain) * 1e3:.0f} ms",
        ),
        (
            f"{args.plan_steps} steps, {args.plan_cached} cached: first sbatch returned",
            f"{first:.2f} s",
            "target <= 2 s",
        ),
        ("  sbatch calls / jobs queued", f"{calls} / {jobs}", "target: 1 call"),
        (
            "  job files written (git diff + settings once)",
            f"{written / 1e6:.1f} MB",
            f"the settings file is {patch / 1e6:.1f} MB",
        ),
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

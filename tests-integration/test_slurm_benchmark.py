"""The SLURM benchmark still runs, end to end on the real cluster, at a tiny size.

It asserts what the table says happened (one sbatch per array, one sacct per poll), never how
long it took: the timings are for people reading `python benchmarks/bench_slurm.py`.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from slurm.fixtures import Cluster

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_slurm.py"


@pytest.mark.timeout(180)
def test_bench_slurm_prints_its_table(slurm_cluster: Cluster, tmp_path: Path) -> None:
    argv = ["--steps", "3", "--repeats", "1", "--node-tasks", "2"]
    out = subprocess.run(
        [sys.executable, str(BENCH), *argv, "--plan-steps", "20", "--plan-cached", "18"],
        capture_output=True,
        text=True,
        timeout=170,
        cwd=tmp_path,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]

    def row(name: str) -> str:
        found = [line for line in out.stdout.splitlines() if line.strip().startswith(name)]
        assert found, f"no row {name!r} in:\n{out.stdout}"
        return found[0]

    assert re.search(r"\d+\.\d\dx, median of 1 rounds", row("3-step array through furu"))
    assert re.search(r"\d+ ms\s+\d+\.\d\dx", row("one array task's CPU on the node, furu"))
    assert re.search(r"\s1 / 2\s", row("sbatch calls / jobs queued"))  # one sbatch, 2 misses
    assert re.search(r"\s1\s+target <= 1$", row("sacct calls per 1s poll interval (max)"))

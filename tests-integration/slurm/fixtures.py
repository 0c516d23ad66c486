"""Fixtures of the SLURM integration tests (registered by `tests-integration/conftest.py`).

`slurm_cluster` (session): the local cluster of `start-local-slurm.sh`, started if it is not up.
A cluster that cannot be reached or started FAILS the tests that need it; nothing is skipped.
`slurm` (per test): a furu store under `tmp_path`, job files under it too, the steps' module on
the jobs' PYTHONPATH, every job the test submitted cancelled at teardown, and
`furu_slurm.SLURM_CONFIG` as the test found it.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

HARNESS = Path(__file__).resolve().parent
TESTS = HARNESS.parent
START_TIMEOUT_SEC = 240.0
CLI_TIMEOUT_SEC = 20.0


def sh(*argv: str, timeout: float = CLI_TIMEOUT_SEC) -> str:
    """Run a SLURM CLI command; its stdout (empty when it failed)."""
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def cluster_ready() -> bool:
    state = sh("sinfo", "-h", "-o", "%T")
    return any(s in state for s in ("idle", "mixed", "allocated"))


def start_cluster() -> str:
    env = {**os.environ, "LOCAL_SLURM_CPUS": os.environ.get("LOCAL_SLURM_CPUS", "8")}
    try:
        out = subprocess.run(
            ["bash", str(HARNESS / "start-local-slurm.sh")],
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_SEC,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"start-local-slurm.sh did not finish within {START_TIMEOUT_SEC:g}s"
    return out.stdout[-3000:] + out.stderr[-3000:]


@dataclass(frozen=True)
class Cluster:
    partition: str
    cpus: int


@pytest.fixture(scope="session")
def slurm_cluster() -> Cluster:
    """The local SLURM cluster, up and with an idle node; fails (never skips) otherwise."""
    if not cluster_ready():
        output = start_cluster()
        deadline = time.monotonic() + 30
        while not cluster_ready() and time.monotonic() < deadline:
            time.sleep(0.5)
        if not cluster_ready():
            pytest.fail(
                "no SLURM cluster: `sinfo` shows no usable node and "
                f"tests-integration/slurm/start-local-slurm.sh could not start one:\n{output}"
            )
    cpus = int(sh("sinfo", "-h", "-p", "debug", "-o", "%c") or "2")
    return Cluster(partition="debug", cpus=cpus)


@dataclass
class SlurmEnv:
    """What a SLURM test works with (see the module docstring)."""

    dir: Path
    cluster: Cluster

    def path(self, name: str) -> str:
        return str(self.dir / name)

    def executor(self, *, poll_interval: float = 1.0, **resources: Any) -> Any:
        import furu_slurm

        res = furu_slurm.Resources(**{"partition": "debug", "time": 10, **resources})
        return furu_slurm.SlurmExecutor(
            folder=self.dir / "slurm-jobs", resources=res, poll_interval=poll_interval
        )

    def own_jobs(self) -> list[str]:
        """Jobs in the queue whose script lives under this test's directory."""
        out = sh("squeue", "-h", "-o", "%i|%o")
        return [
            line.split("|", 1)[0]
            for line in out.splitlines()
            if "|" in line and line.split("|", 1)[1].startswith(str(self.dir))
        ]


def wait_for(predicate: Any, *, what: str, timeout: float = 60.0, every: float = 0.2) -> Any:
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(every)


@pytest.fixture
def slurm(
    store: Any, slurm_cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SlurmEnv]:
    """A store and a job folder under `tmp_path` on the local cluster; cleans up its jobs."""
    import furu_slurm

    path = os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")]))
    monkeypatch.setenv("PYTHONPATH", path)
    env = SlurmEnv(dir=store.dir, cluster=slurm_cluster)
    saved = furu_slurm.SLURM_CONFIG.as_dict()
    try:
        yield env
    finally:
        left = env.own_jobs()
        if left:
            sh("scancel", *left)
        furu_slurm.SLURM_CONFIG.adopt(saved)

"""furu-slurm unit tests: a store under `tmp_path`, and a fake SLURM CLI on PATH when asked."""

from __future__ import annotations

import dataclasses
import os
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # unit_steps lives here
    sys.path.insert(0, str(HERE))

from slurm_fake_cluster import FakeCluster  # noqa: E402

import furu  # noqa: E402
import furu_slurm  # noqa: E402


@pytest.fixture(autouse=True)
def furu_store(tmp_path: Path) -> Iterator[Path]:
    """A store under `tmp_path`; furu's and furu-slurm's settings restored afterwards."""
    config = furu.FURU_CONFIG
    saved = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    saved_slurm = furu_slurm.SLURM_CONFIG.as_dict()
    furu.set_furu_root(tmp_path / "store")
    config.ignore_git_diff = True
    # The node tasks run here adopt their submitter's git state, as a job does; furu has no
    # public "forget it", so every test ends by adopting this process's own state again.
    git = furu.RunContext.capture(include_git=True).git
    try:
        yield tmp_path / "store"
    finally:
        for name, value in saved.items():
            setattr(config, name, value)
        furu_slurm.SLURM_CONFIG.adopt(saved_slurm)
        furu.RunContext(settings={}, git=git).adopt()


@pytest.fixture
def fake_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeCluster:
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    tools = {
        "sbatch": """
            echo "$*" >> "$D/sbatch.calls"
            if [ -f "$D/sbatch.refuse" ]; then cat "$D/sbatch.refuse" >&2; exit 1; fi
            n=$(( $(cat "$D/next" 2>/dev/null || echo 100) + 1 )); echo $n > "$D/next"
            echo "Submitted batch job $n"
        """,
        "sacct": """
            echo "$*" >> "$D/sacct.calls"
            cat "$D/sacct.out" 2>/dev/null; exit $(cat "$D/sacct.rc" 2>/dev/null || echo 0)
        """,
        "scancel": 'echo "$*" >> "$D/scancel.calls"',
        "scontrol": 'echo "$*" >> "$D/scontrol.calls"',
        "srun": "exit 0",
    }
    for name, body in tools.items():
        script = bin_dir / name
        script.write_text(f'#!/bin/sh\nD="{bin_dir}"\n{textwrap.dedent(body)}')
        script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return FakeCluster(bin_dir)

"""What a SLURM job records about itself: the node's attempt context and the ambient provider."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from unit_steps import Base, WhoHolds

import furu
from furu_slurm import _context
from furu_slurm._node import NodeTask

# What SLURM and submitit set in an array task's environment (task 3 of array 120).
ARRAY_TASK = {
    "SLURM_JOB_ID": "130",
    "SLURM_ARRAY_JOB_ID": "120",
    "SLURM_ARRAY_TASK_ID": "3",
    "SLURM_JOB_PARTITION": "gpu",
    "SLURMD_NODENAME": "node7",
    "SLURM_RESTART_COUNT": "2",
    "SLURM_PROCID": "0",
    "SLURM_NTASKS": "1",
    "SLURM_LOCALID": "0",
    "SLURM_NODEID": "0",
    "SLURM_JOB_NUM_NODES": "1",
    "SLURM_JOB_NODELIST": "node7",
}


@pytest.fixture
def outside_slurm(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No SLURM or submitit variable, even when the tests themselves run in a SLURM job."""
    for key in [k for k in os.environ if k.startswith(("SLURM", "SUBMITIT_"))]:
        monkeypatch.delenv(key)
    return monkeypatch


@pytest.fixture
def in_array_task(outside_slurm: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """This process looks like task 3 of array 120, started by submitit; returns its job folder."""
    importlib.import_module("submitit")  # a job submitit started has it imported already
    for key, value in ARRAY_TASK.items():
        outside_slurm.setenv(key, value)
    outside_slurm.setenv("SUBMITIT_EXECUTOR", "slurm")
    outside_slurm.setenv("SUBMITIT_FOLDER", str(tmp_path / "jobs" / "%j"))
    return tmp_path / "jobs" / "120_3"


def _state(step: furu.Furu[Any]) -> dict[str, Any]:
    return dict(json.loads(furu.step_dir(step).state_path.read_text()))


# ---------------------------------------------------------------- the ambient provider


def test_outside_slurm_the_provider_recognises_nothing(outside_slurm: pytest.MonkeyPatch) -> None:
    assert _context.ambient() is None


def test_a_plain_script_under_sbatch_records_its_job(outside_slurm: pytest.MonkeyPatch) -> None:
    outside_slurm.setenv("SLURM_JOB_ID", "77")
    outside_slurm.setenv("SLURM_JOB_PARTITION", "debug")
    outside_slurm.setenv("SLURMD_NODENAME", "node1")
    context = _context.ambient()
    assert context == furu.AttemptContext(
        backend="local",
        job_id="77",
        scheduler={
            "name": "slurm",
            "job_id": "77",
            "array_job_id": None,
            "array_task_id": None,
            "partition": "debug",
            "node": "node1",
            "restarts": 0,
        },
    )


def test_a_function_submitit_runs_records_backend_submitit_and_its_logs(
    in_array_task: Path,
) -> None:
    context = _context.ambient()
    assert context is not None
    assert context.backend == "submitit"
    assert context.job_id == "120_3"
    assert context.scheduler["job_id"] == "130"
    assert context.scheduler["restarts"] == 2
    assert context.scheduler["stdout"] == str(in_array_task / "120_3_0_log.out")
    assert context.scheduler["stderr"] == str(in_array_task / "120_3_0_log.err")


def test_a_malformed_restart_count_reads_as_none(outside_slurm: pytest.MonkeyPatch) -> None:
    outside_slurm.setenv("SLURM_JOB_ID", "77")
    outside_slurm.setenv("SLURM_RESTART_COUNT", "many")
    context = _context.ambient()
    assert context is not None
    assert context.scheduler["restarts"] == 0


# ---------------------------------------------------------------- the node's context


def test_a_step_run_by_a_node_task_records_the_job(in_array_task: Path) -> None:
    step = WhoHolds(name="node")
    assert NodeTask(step=step)() == {"outcome": "done"}
    assert step.load_or_create() == "120_3"  # the compute lock named the job while it ran
    state = _state(step)
    assert state["result_status"] == "success"
    attempt = state["attempt"]
    assert attempt["status"] == "success"
    assert attempt["backend"] == "submitit"
    assert attempt["scheduler"] == {
        "name": "slurm",
        "job_id": "130",
        "array_job_id": "120",
        "array_task_id": "3",
        "partition": "gpu",
        "node": "node7",
        "restarts": 2,
        "stdout": str(in_array_task / "120_3_0_log.out"),
        "stderr": str(in_array_task / "120_3_0_log.err"),
    }
    log = furu.step_dir(step).log_path.read_text()
    assert "furu_slurm slurm job 120_3 (restart 2) on node node7: stdout " in log
    assert str(in_array_task / "120_3_0_log.err") in log


def test_the_node_context_ends_with_the_task(outside_slurm: pytest.MonkeyPatch) -> None:
    NodeTask(step=Base(name="in-task"))()
    after = Base(name="after-task")
    after.load_or_create()
    assert _state(after)["attempt"]["backend"] == "local"


def test_a_node_task_outside_slurm_still_says_submitit(outside_slurm: pytest.MonkeyPatch) -> None:
    step = Base(name="no-slurm")
    assert NodeTask(step=step)() == {"outcome": "done"}
    attempt = _state(step)["attempt"]
    assert attempt["backend"] == "submitit"
    assert attempt["scheduler"] == {}


def test_the_provider_and_the_node_import_only_what_a_job_needs() -> None:
    """Every job on a node, and every process furu asks for an attempt context, imports these."""
    code = (
        "import sys, furu_slurm._context; first = set(sys.modules); import furu_slurm._node; "
        "mine = lambda names: sorted(m for m in names if m.split('.')[0] in "
        "('furu_slurm', 'submitit', 'rich', 'cloudpickle')); "
        "print(mine(first)); print(mine(sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.splitlines()
    assert out[0] == "['furu_slurm', 'furu_slurm._context']"
    node = "furu_slurm, furu_slurm._claim, furu_slurm._context, furu_slurm._errors, "
    node += "furu_slurm._node, furu_slurm._records, furu_slurm._settings"
    assert out[1] == "[" + ", ".join(f"'{m}'" for m in node.split(", ")) + "]"

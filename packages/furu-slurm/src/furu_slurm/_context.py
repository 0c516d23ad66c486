"""What a SLURM job knows about itself, as the `furu.AttemptContext` of the attempts it runs.

Two callers. On the node, `NodeTask` wraps its step in `furu.attempt_context(node_context())`.
A process nobody wrapped (a plain script under `sbatch`, a user's own submitit function) finds
`ambient` through the entry point group `furu.attempt_contexts`, which furu asks once.

Either way, the attempt records `backend` (`submitit` when submitit started the process) and
`scheduler`: the job and array ids, partition, node, how often SLURM restarted the job, and,
when submitit runs it, where its stdout/stderr go. The job id (`123`, or `123_4` for an array
task) also goes into the compute lock, so a waiter can say which job it waits for.

This module imports only the standard library and furu: every job on a node runs it, and a
process that never ran under SLURM pays one dictionary lookup for it.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import furu

BACKEND = "submitit"


def current_job_id() -> str | None:
    """This process's job: `123`, or `123_4` in an array; None outside SLURM."""
    env = os.environ
    array, task = env.get("SLURM_ARRAY_JOB_ID"), env.get("SLURM_ARRAY_TASK_ID")
    if array and task:
        return f"{array}_{task}"
    return env.get("SLURM_JOB_ID")


def restart_count() -> int:
    """How often SLURM requeued this job (`SLURM_RESTART_COUNT`; 0 when unset)."""
    raw = os.environ.get("SLURM_RESTART_COUNT", "0")
    return int(raw) if raw.isdigit() else 0


def log_paths() -> tuple[str | None, str | None]:
    """submitit's stdout/stderr files of the running job, when submitit runs it.

    Asks submitit only when it is already imported (it is, in a job it started), so a plain
    script under `sbatch` never imports it for this.
    """
    if "SUBMITIT_FOLDER" not in os.environ or "submitit" not in sys.modules:
        return None, None
    try:
        paths = sys.modules["submitit"].JobEnvironment().paths
        return str(paths.stdout), str(paths.stderr)
    except Exception:  # not a submitit job after all, or an older submitit
        return None, None


def scheduler_info() -> dict[str, Any]:
    """What SLURM's environment says about this job (empty outside SLURM)."""
    env = os.environ
    if "SLURM_JOB_ID" not in env:
        return {}
    info: dict[str, Any] = {
        "name": "slurm",
        "job_id": env.get("SLURM_JOB_ID"),
        "array_job_id": env.get("SLURM_ARRAY_JOB_ID"),
        "array_task_id": env.get("SLURM_ARRAY_TASK_ID"),
        "partition": env.get("SLURM_JOB_PARTITION"),
        "node": env.get("SLURMD_NODENAME"),
        "restarts": restart_count(),
    }
    # Only when known: a queued attempt's paths (from the submitter) must not be erased.
    stdout, stderr = log_paths()
    if stdout:
        info["stdout"] = stdout
    if stderr:
        info["stderr"] = stderr
    return info


def node_context() -> furu.AttemptContext:
    """The context of a `NodeTask`: always submitit's, with SLURM's facts when there are any."""
    return furu.AttemptContext(backend=BACKEND, job_id=current_job_id(), scheduler=scheduler_info())


def ambient() -> furu.AttemptContext | None:
    """The `furu.attempt_contexts` entry point: this job's context, or None outside SLURM."""
    if "SLURM_JOB_ID" not in os.environ:
        return None
    backend = BACKEND if os.environ.get("SUBMITIT_EXECUTOR") else "local"
    return furu.AttemptContext(backend=backend, job_id=current_job_id(), scheduler=scheduler_info())

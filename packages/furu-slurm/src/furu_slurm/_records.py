"""What furu-slurm writes into a step's `.furu/`: its attempt in `state.json`, lines in `furu.log`.

The job itself records `running`, `success` and `failed` through furu's own `load_or_create`.
Around it, furu-slurm records what only the scheduler knows: `queued` (written by the submitter
after `sbatch`), `preempted` (the job was requeued), and `cancelled` (scancel, or a dependency
that failed). None of these is written while a live process holds the step's compute lock, so
furu-slurm never overwrites the record of an attempt that is computing.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from pathlib import Path
from typing import Any

from furu import Attempt, AttemptStatus, Furu, FuruError, ResultStatus, StateManager, StepState
from furu._state import current_user, now_iso
from furu._store import FURU_DIR, HOSTNAME, LOCK_FILE, SUCCESS_FILE

Where = Furu[Any] | Path
"""A step, or its directory (what `reconcile` has: it reads the store without user code)."""


def _furu_dir(step: Where) -> Path:
    return step if isinstance(step, Path) else step.furu_dir


def read_state(step: Where) -> StepState | None:
    """The state as written (None when absent or unreadable)."""
    try:
        return StateManager(_furu_dir(step)).read_raw()
    except (FuruError, OSError):
        return None


def lock_held(step: Where) -> bool:
    """Whether a live process holds the step's compute lock right now."""
    from furu._lock import read_lock  # the core's lock format: one reader for both packages

    holder = read_lock(_furu_dir(step) / FURU_DIR / LOCK_FILE)
    return holder is not None and holder.is_alive()


def lock_job(step: Furu[Any]) -> tuple[bool, str | None]:
    """(a live process holds the lock, the scheduler job id it runs in, if any)."""
    from furu._lock import read_lock

    holder = read_lock(step._furu_location.meta_dir / LOCK_FILE)
    if holder is None or not holder.is_alive():
        return False, None
    return True, holder.job_id


def write_attempt(
    step: Where,
    status: AttemptStatus,
    *,
    scheduler: dict[str, Any],
    reason: str | None = None,
    only_if_job: str | None = None,
) -> bool:
    """Record an attempt the scheduler knows about; False when it was not ours to write.

    `queued` opens a new attempt (its number is the next one; `attempts` counts it only once it
    runs). Other statuses update the latest attempt when it belongs to `only_if_job`.
    """
    if lock_held(step):
        return False
    furu_dir = _furu_dir(step)
    states = StateManager(furu_dir)
    previous = read_state(furu_dir)
    if os.path.exists(furu_dir / FURU_DIR / SUCCESS_FILE):
        return False
    count = previous.attempts if previous else 0
    stamp = now_iso()
    last = previous.attempt if previous else None
    if only_if_job is not None and (last is None or _job_of(last) != only_if_job):
        return False
    if status is AttemptStatus.QUEUED or last is None:
        attempt = Attempt(
            id=os.urandom(16).hex(),
            number=count + 1,
            status=status,
            backend="submitit",
            host=HOSTNAME,
            pid=os.getpid(),
            user=current_user(),
            command=" ".join(sys.argv) or sys.executable,
            started_at=stamp,
            updated_at=stamp,
            scheduler=scheduler,
            reason=reason,
        )
    else:
        ended = None if status is AttemptStatus.PREEMPTED else stamp
        merged = {**last.scheduler, **scheduler}
        attempt = dataclasses.replace(
            last, status=status, updated_at=stamp, ended_at=ended, scheduler=merged, reason=reason
        )
    result = previous.result_status if previous else ResultStatus.INCOMPLETE
    if result in (ResultStatus.ABSENT, ResultStatus.SUCCESS):
        result = ResultStatus.INCOMPLETE
    states.meta_dir.mkdir(parents=True, exist_ok=True)
    states.write(result, attempt, count)
    return True


def _job_of(attempt: Attempt) -> str | None:
    sched = attempt.scheduler
    if sched.get("array_job_id") and sched.get("array_task_id") is not None:
        return f"{sched['array_job_id']}_{sched['array_task_id']}"
    job = sched.get("job_id")
    return str(job) if job else None


def job_of(attempt: Attempt | None) -> str | None:
    """The scheduler job id an attempt ran (or is queued) in."""
    return None if attempt is None else _job_of(attempt)


def log_line(step: Where, text: str) -> None:
    """Append one line to the step's `.furu/furu.log` (created if needed)."""
    meta = _furu_dir(step) / FURU_DIR
    meta.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    with open(Path(meta) / "furu.log", "a", encoding="utf-8") as f:
        f.write(f"{stamp} INFO furu_slurm {text}\n")


def node_scheduler_info(job_id: str | None) -> dict[str, Any]:
    """What the node knows about the job it runs in."""
    env = os.environ
    return {
        "name": "slurm",
        "job_id": env.get("SLURM_JOB_ID", job_id),
        "array_job_id": env.get("SLURM_ARRAY_JOB_ID"),
        "array_task_id": env.get("SLURM_ARRAY_TASK_ID"),
        "partition": env.get("SLURM_JOB_PARTITION"),
        "node": env.get("SLURMD_NODENAME"),
    }

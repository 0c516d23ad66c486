"""What furu-slurm writes into a step's `.furu/`: its attempt in `state.json`, lines in `furu.log`.

The job itself records `running`, `success` and `failed` through furu's own `load_or_create`.
Around it, furu-slurm records what only the scheduler knows: `queued` (written by the submitter
after `sbatch`), `preempted` (the job was requeued), and `cancelled` (scancel, or a dependency
that failed). Everything goes through `furu.StepDir`, which writes none of these while a live
process holds the step's compute lock or once the step has a result, so furu-slurm never
overwrites the record of an attempt that is computing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from furu import FuruError
from furu_slurm._context import BACKEND

if TYPE_CHECKING:
    from furu import Attempt, AttemptStatus, StepDir

LOG_SOURCE = "furu_slurm"


def latest_attempt(where: StepDir) -> Attempt | None:
    """The latest attempt as written (None when there is none, or `state.json` is unreadable)."""
    try:
        state = where.read_raw_state()
    except (FuruError, OSError):
        return None
    return state.attempt if state is not None else None


def record(
    where: StepDir,
    status: AttemptStatus,
    *,
    reason: str | None = None,
    scheduler: dict[str, Any] | None = None,
    only_if_job: str | None = None,
) -> bool:
    """Record a submitit attempt's status; False when it was not ours to write.

    See `furu.StepDir.record_attempt`: `queued` opens a new attempt, other statuses update the
    latest one when it belongs to `only_if_job`.
    """
    return where.record_attempt(
        status, backend=BACKEND, scheduler=scheduler, reason=reason, only_if_job=only_if_job
    )


def log(where: StepDir, text: str) -> None:
    """Append one line to the step's `.furu/furu.log` (`<time> INFO furu_slurm <text>`)."""
    where.append_log(text, source=LOG_SOURCE)

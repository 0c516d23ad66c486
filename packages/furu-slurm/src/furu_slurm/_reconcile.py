"""Bringing a store's records up to date with jobs nobody watched.

A submitter that returns at once (`load_or_create(executor=...)`, `submit_many` without `wait`)
leaves `queued` in the step's `state.json`. The job records `running` and its end itself, except
when it never ran or died too hard to say so: cancelled while pending, killed with its node, out
of memory, out of time. Then the step would say `queued` or `running` forever.

`reconcile()` finds every step of the store whose latest attempt is a SLURM job that is queued,
running or preempted, with no result and no live compute lock, asks `sacct` once for all their
jobs, and records how each job that ended really ended (`cancelled`, `preempted` or `failed`, with
the scheduler's state in the reason), releasing its submission claim so the next submission
submits it again. Jobs still pending or running, and jobs `sacct` does not know, are left alone.
It reads the store's files only: no user code is imported.

```
python -m furu_slurm reconcile [--dry-run]
```
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import furu
from furu import AttemptStatus, StepDir
from furu_slurm import _claim, _records
from furu_slurm._context import BACKEND
from furu_slurm._scheduler import FINAL, PENDING, RUNNING, Scheduler

_OPEN = (AttemptStatus.QUEUED, AttemptStatus.RUNNING, AttemptStatus.PREEMPTED)
_SACCT_BATCH = 500  # job ids per sacct call: keeps each command line short


@dataclass(frozen=True)
class Reconciled:
    """One step whose attempt was a SLURM job that had not finished, and what became of it.

    Attributes:
        furu_dir: the step's directory.
        job_id: its job (`123` or `123_4`).
        was: the attempt's status before (`queued`, `running` or `preempted`).
        scheduler_state: what `sacct` said (`CANCELLED`, `TIMEOUT`, ...; `UNKNOWN` when it did not
            list the job).
        now: the status written, or None when the record was left as it was.
    """

    furu_dir: Path
    job_id: str
    was: str
    scheduler_state: str
    now: str | None


def reconcile(
    *,
    dry_run: bool = False,
    store: furu.Store | None = None,
    scheduler: Scheduler | None = None,
) -> list[Reconciled]:
    """Record the end of every unfinished SLURM attempt in the store whose job has ended.

    Args:
        dry_run: report what would change, write nothing.
        store: the store to look through (default `furu.Store.current()`, i.e. `FURU_PATH`).
        scheduler: the `sacct` runner (one is made when omitted).

    Returns:
        One entry per step whose latest attempt is an unfinished SLURM job, changed or not.
    """
    open_jobs: list[tuple[StepDir, str, str]] = []
    for where in (store or furu.Store.current()).step_dirs():
        attempt = _records.latest_attempt(where)
        if attempt is None or attempt.backend != BACKEND or attempt.status not in _OPEN:
            continue
        if attempt.job_id:
            open_jobs.append((where, attempt.job_id, str(attempt.status)))
    sched = scheduler or Scheduler(poll_interval=0.0)
    known: dict[str, str] = {}
    ids = [job for _, job, _ in open_jobs]
    for start in range(0, len(ids), _SACCT_BATCH):
        known.update(sched.states(ids[start : start + _SACCT_BATCH], force=True))
    return [_settle(d, job, was, known.get(job, "UNKNOWN"), dry_run) for d, job, was in open_jobs]


def _settle(where: StepDir, job: str, was: str, state: str, dry_run: bool) -> Reconciled:
    unchanged = Reconciled(where.path, job, was, state, None)
    if state in PENDING or state in RUNNING or state not in FINAL:
        return unchanged  # alive, or unknown to sacct: nothing is known to have ended
    if where.live_holder() is not None:
        return unchanged  # a live process computes it (or is still dying): it records its end
    status = {
        "CANCELLED": AttemptStatus.CANCELLED,
        "PREEMPTED": AttemptStatus.PREEMPTED,
    }.get(state, AttemptStatus.FAILED)
    if str(status) == was:
        return unchanged  # already recorded (a preemption the job wrote itself)
    if dry_run:
        return Reconciled(where.path, job, was, state, str(status))
    reason = (
        f"job {job} ended {state} without a result, and nobody was watching it "
        "(recorded by furu_slurm reconcile)"
    )
    if not _records.record(where, status, reason=reason, only_if_job=job):
        return unchanged  # finished, taken by another attempt, or locked meanwhile
    _records.log(where, reason)
    _claim.release(where, job)
    return Reconciled(where.path, job, was, state, str(status))

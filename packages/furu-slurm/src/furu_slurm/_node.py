"""What runs on the cluster node: one step's `load_or_create()`, wrapped for the scheduler.

A `NodeTask` is what furu-slurm pickles for submitit. On the node it

1. makes the process behave like its submitter (a node may not share its environment): the
   submitter's `furu.RunContext` (settings, FURU_FORCE_RECOMPUTE bookkeeping, git state) and
   furu-slurm's own settings are written once per submission to a file beside the job files
   (`write_settings`), so a dirty repository's git patch is not copied into each of an array's
   thousand pickles,
2. runs inside `furu.attempt_context(...)`: every attempt records backend `submitit`, the job's
   SLURM facts and its stdout/stderr, and the compute lock names the job (see `_context`),
3. says in the step's `furu.log` which job this is and where its stdout/stderr go,
4. refuses to run when a dependency submitted in the same batch did not succeed (and records
   the step as cancelled, naming that dependency) or when the job was requeued more than
   `FURU_PREEMPT_MAX` times,
5. calls `step.load_or_create()`: furu's compute lock makes this exactly-once even when two
   jobs for the same step run at once.

On preemption or a time limit, SLURM sends USR2 and submitit calls `checkpoint()`: the step's
own `_checkpoint()` hook runs (if it defines one), the job is requeued, and the attempt is
recorded as `preempted` before the process exits. The requeued job calls `load_or_create()`
again, and a step that saved progress in its `furu_dir` resumes from it.

This module imports only furu and the standard library at load time (submitit is already
running the job when it is called).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import pickle
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import furu
from furu import AttemptStatus, Furu
from furu_slurm import _claim, _records
from furu_slurm._context import current_job_id, node_context, restart_count
from furu_slurm._errors import SlurmConfigError
from furu_slurm._settings import SLURM_CONFIG

_log = logging.getLogger("furu_slurm")


class _Requeued(BaseException):
    """Raised out of the preemption signal handler: stops `_create` and records `preempted`.

    A BaseException, so a step's `except Exception` does not swallow it.
    """

    furu_attempt_status = "preempted"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.furu_attempt_reason = reason


@dataclass(frozen=True)
class SubmitterSettings:
    """What a submission's jobs adopt: furu's run context and furu-slurm's settings.

    Attributes:
        run: the submitter's `furu.RunContext` (settings, recomputed steps, git state).
        slurm: `SLURM_CONFIG`'s fields, by name.
    """

    run: furu.RunContext
    slurm: dict[str, Any] = field(default_factory=dict)


@dataclass
class NodeTask:
    """One step to create on a node (pickled by submitit; see the module docstring).

    Attributes:
        step: the step.
        deps: `(description, directory)` of the steps of the same batch it needs.
        settings_path: the submitter's settings and git state (`write_settings`), applied on
            the node; None keeps the node's own.
        recomputed: `(namespace, hash)` of the batch's steps it depends on, which the batch
            computed before it under FURU_FORCE_RECOMPUTE (empty otherwise): loading them must
            not compute them again.
    """

    step: Furu[Any]
    deps: tuple[tuple[str, furu.StepDir], ...] = ()
    settings_path: str | None = None
    recomputed: tuple[tuple[str, str], ...] = ()

    def __call__(self) -> dict[str, Any]:
        self._apply_settings()
        where = furu.step_dir(self.step)
        with furu.attempt_context(node_context()) as context:
            self._announce(where, context)
            try:
                return self._run(where, context)
            except _Requeued:
                # requeued: the claim stays (the same job runs again); exit without a result so
                # submitit does not report the job as finished.
                raise SystemExit(-1) from None
            except BaseException:
                _claim.release(where, context.job_id)
                raise

    def _run(self, where: furu.StepDir, context: furu.AttemptContext) -> dict[str, Any]:
        job_id = context.job_id
        limit = SLURM_CONFIG.preempt_max
        if restart_count() > limit:
            reason = (
                f"requeued {restart_count()} times, more than FURU_PREEMPT_MAX={limit}; not "
                "running again. Raise FURU_PREEMPT_MAX to allow more requeues."
            )
            self._record(where, AttemptStatus.FAILED, reason, context)
            _claim.release(where, job_id)
            return {"outcome": "failed", "reason": reason}
        blocker = self._failed_dependency()
        if blocker is not None:
            reason = f"dependency {blocker} did not succeed"
            self._record(where, AttemptStatus.CANCELLED, reason, context)
            _records.log(where, f"not running {where.id.short}: {reason}")
            _claim.release(where, job_id)
            return {"outcome": "skipped", "reason": reason}
        self.step.load_or_create()
        _claim.release(where, job_id)
        return {"outcome": "done"}

    def _apply_settings(self) -> None:
        if self.settings_path:
            settings = read_settings(self.settings_path)
            run = settings.run
            if self.recomputed:
                extra = frozenset(self.recomputed)
                run = dataclasses.replace(run, recomputed=run.recomputed | extra)
            run.adopt()
            SLURM_CONFIG.adopt(settings.slurm)
        elif self.recomputed:
            furu.RunContext.capture(recomputed=self.recomputed).adopt()
        furu.configure_logging()

    def _announce(self, where: furu.StepDir, context: furu.AttemptContext) -> None:
        info = context.scheduler
        _records.log(
            where,
            f"slurm job {context.job_id} (restart {restart_count()}) on node "
            f"{info.get('node') or '?'}: stdout {info.get('stdout') or '?'}, "
            f"stderr {info.get('stderr') or '?'}",
        )

    def _failed_dependency(self) -> str | None:
        """The first batch dependency that has no result and that nobody is computing."""
        for description, dep in self.deps:
            if dep.has_result() or dep.live_holder() is not None:
                continue
            return description
        return None

    def _record(
        self,
        where: furu.StepDir,
        status: AttemptStatus,
        reason: str,
        context: furu.AttemptContext,
    ) -> None:
        try:
            _records.record(where, status, reason=reason, scheduler=dict(context.scheduler))
        except OSError as exc:
            _log.warning("could not record %s for %s: %s", status, where.id.short, exc)

    def checkpoint(self, *args: Any, **kwargs: Any) -> Any:
        """Called by submitit on USR2 (preemption, or the time limit approaching)."""
        step = self.step
        where = furu.step_dir(step)
        hook = getattr(step, "_checkpoint", None)
        if callable(hook):
            try:
                hook()
            except Exception:
                _log.exception("%s: _checkpoint() raised; requeueing anyway", where.id.short)
        job_id = current_job_id()
        limit = SLURM_CONFIG.preempt_max
        if restart_count() >= limit:
            reason = f"preempted; not requeued: FURU_PREEMPT_MAX={limit} requeues already used"
        else:
            reason = f"preempted or out of time; job {job_id} requeued"
            _requeue(job_id)
        _records.log(where, f"{where.id.short}: {reason}")
        raise _Requeued(reason)


def _requeue(job_id: str | None) -> None:
    if not job_id:
        return
    try:
        subprocess.run(
            ["scontrol", "requeue", job_id], capture_output=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:  # SLURM requeues preempted jobs itself
        _log.warning("scontrol requeue %s failed: %s", job_id, exc)


def write_settings(folder: Path) -> str:
    """Write the submitter's settings and git state once, for every task of a submission."""
    settings = SubmitterSettings(
        run=furu.RunContext.capture(include_git=True), slurm=SLURM_CONFIG.as_dict()
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"furu-settings-{uuid.uuid4().hex}.pkl"
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        pickle.dump(settings, f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)
    return str(path)


def read_settings(path: str) -> SubmitterSettings:
    """The settings `write_settings` wrote; a clear error when the file is gone or damaged."""
    try:
        with open(path, "rb") as f:
            settings = pickle.load(f)
    except FileNotFoundError:
        raise SlurmConfigError(
            f"the submitter's settings file {path} is gone, so this job cannot know which "
            "store and settings to use. Was the job folder cleaned while jobs were queued? "
            "Submit the steps again."
        ) from None
    except Exception as exc:
        raise SlurmConfigError(
            f"the submitter's settings file {path} is unreadable ({type(exc).__name__}: {exc}). "
            "Submit the steps again."
        ) from None
    if not isinstance(settings, SubmitterSettings):
        raise SlurmConfigError(
            f"the submitter's settings file {path} holds {type(settings).__name__}, not the "
            "settings this version of furu-slurm writes. Submit the steps again."
        )
    return settings

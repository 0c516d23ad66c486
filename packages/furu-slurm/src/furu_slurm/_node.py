"""What runs on the cluster node: one step's `load_or_create()`, wrapped for the scheduler.

A `NodeTask` is what furu-slurm pickles for submitit. On the node it

1. points furu at the submitter's store and settings (a node may not share its environment):
   they are written once per submission to a file beside the job files (`write_settings`),
   so a dirty repository's git patch is not copied into each of an array's thousand pickles,
2. says in the step's `furu.log` which job this is and where its stdout/stderr go,
3. refuses to run when a dependency submitted in the same batch did not succeed (and records
   the step as cancelled, naming that dependency) or when the job was requeued more than
   `FURU_PREEMPT_MAX` times,
4. calls `step.load_or_create()`: furu's compute lock makes this exactly-once even when two
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import furu
from furu import AttemptStatus, Furu
from furu._metadata import adopt_git_info, current_git_info
from furu._store import FURU_DIR, SUCCESS_FILE
from furu_slurm import _claim, _records
from furu_slurm._errors import SlurmConfigError

GIT_KEY = "__git_info__"

_log = logging.getLogger("furu_slurm")


class _Requeued(BaseException):
    """Raised out of the preemption signal handler: stops `_create` and records `preempted`.

    A BaseException, so a step's `except Exception` does not swallow it.
    """

    furu_attempt_status = "preempted"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.furu_attempt_reason = reason


def current_job_id() -> str | None:
    env = os.environ
    array, task = env.get("SLURM_ARRAY_JOB_ID"), env.get("SLURM_ARRAY_TASK_ID")
    if array and task:
        return f"{array}_{task}"
    return env.get("SLURM_JOB_ID")


def restart_count() -> int:
    raw = os.environ.get("SLURM_RESTART_COUNT", "0")
    return int(raw) if raw.isdigit() else 0


@dataclass
class NodeTask:
    """One step to create on a node (pickled by submitit; see the module docstring).

    Attributes:
        step: the step.
        deps: `(description, furu_dir)` of the steps of the same batch it needs.
        settings_path: the submitter's settings and git state (`write_settings`), applied on
            the node; None keeps the node's own.
    """

    step: Furu[Any]
    deps: tuple[tuple[str, str], ...] = ()
    settings_path: str | None = None

    def __call__(self) -> dict[str, Any]:
        self._apply_settings()
        step, job_id = self.step, current_job_id()
        self._announce(job_id)
        try:
            return self._run(job_id)
        except _Requeued:
            # requeued: the claim stays (the same job runs again); exit without a result so
            # submitit does not report the job as finished.
            raise SystemExit(-1) from None
        except BaseException:
            _claim.release(step._furu_location.meta_dir, job_id)
            raise

    def _run(self, job_id: str | None) -> dict[str, Any]:
        step = self.step
        limit = furu.FURU_CONFIG.preempt_max
        if restart_count() > limit:
            reason = (
                f"requeued {restart_count()} times, more than FURU_PREEMPT_MAX={limit}; not "
                "running again. Raise FURU_PREEMPT_MAX to allow more requeues."
            )
            self._record(AttemptStatus.FAILED, reason, job_id)
            _claim.release(step._furu_location.meta_dir, job_id)
            return {"outcome": "failed", "reason": reason}
        blocker = self._failed_dependency()
        if blocker is not None:
            reason = f"dependency {blocker} did not succeed"
            self._record(AttemptStatus.CANCELLED, reason, job_id)
            _records.log_line(step, f"not running {step._furu_short()}: {reason}")
            _claim.release(step._furu_location.meta_dir, job_id)
            return {"outcome": "skipped", "reason": reason}
        step.load_or_create()
        _claim.release(step._furu_location.meta_dir, job_id)
        return {"outcome": "done"}

    def _apply_settings(self) -> None:
        settings = read_settings(self.settings_path) if self.settings_path else {}
        config = furu.FURU_CONFIG
        for name, value in settings.items():
            if hasattr(config, name):
                setattr(config, name, value)
        git = settings.get(GIT_KEY)
        if isinstance(git, dict):
            adopt_git_info(git)
        furu.configure_logging()

    def _announce(self, job_id: str | None) -> None:
        out, err = _log_paths()
        if out:
            os.environ["FURU_SCHEDULER_STDOUT"] = out
        if err:
            os.environ["FURU_SCHEDULER_STDERR"] = err
        node = os.environ.get("SLURMD_NODENAME", "?")
        _records.log_line(
            self.step,
            f"slurm job {job_id} (restart {restart_count()}) on node {node}: "
            f"stdout {out or '?'}, stderr {err or '?'}",
        )

    def _failed_dependency(self) -> str | None:
        """The first batch dependency that has no result and that nobody is computing."""
        for description, furu_dir in self.deps:
            if (Path(furu_dir) / FURU_DIR / SUCCESS_FILE).exists():
                continue
            if _records.lock_held(Path(furu_dir)):
                continue
            return description
        return None

    def _record(self, status: AttemptStatus, reason: str, job_id: str | None) -> None:
        scheduler = _records.node_scheduler_info(job_id)
        try:
            _records.write_attempt(self.step, status, scheduler=scheduler, reason=reason)
        except OSError as exc:
            _log.warning("could not record %s for %s: %s", status, self.step._furu_short(), exc)

    def checkpoint(self, *args: Any, **kwargs: Any) -> Any:
        """Called by submitit on USR2 (preemption, or the time limit approaching)."""
        step = self.step
        hook = getattr(step, "_checkpoint", None)
        if callable(hook):
            try:
                hook()
            except Exception:
                _log.exception("%s: _checkpoint() raised; requeueing anyway", step._furu_short())
        job_id = current_job_id()
        limit = furu.FURU_CONFIG.preempt_max
        if restart_count() >= limit:
            reason = f"preempted; not requeued: FURU_PREEMPT_MAX={limit} requeues already used"
        else:
            reason = f"preempted or out of time; job {job_id} requeued"
            _requeue(job_id)
        _records.log_line(step, f"{step._furu_short()}: {reason}")
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


def _log_paths() -> tuple[str | None, str | None]:
    """submitit's stdout/stderr files of the running job, if submitit runs it."""
    if "SUBMITIT_FOLDER" not in os.environ:
        return None, None
    try:
        from submitit import JobEnvironment

        paths = JobEnvironment().paths
        return str(paths.stdout), str(paths.stderr)
    except Exception:
        return None, None


def write_settings(folder: Path) -> str:
    """Write the submitter's settings and git state once, for every task of a submission."""
    snapshot = {**dataclasses.asdict(furu.FURU_CONFIG), GIT_KEY: current_git_info()}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"furu-settings-{uuid.uuid4().hex}.pkl"
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        pickle.dump(snapshot, f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)
    return str(path)


def read_settings(path: str) -> dict[str, Any]:
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
    if not isinstance(settings, dict):
        raise SlurmConfigError(
            f"the submitter's settings file {path} holds {type(settings).__name__}, not the "
            "settings furu-slurm wrote. Submit the steps again."
        )
    return settings

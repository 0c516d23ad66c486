"""The slow path of `load_or_create`: take the lock (or wait for its holder), create, publish.

```
loop:  SUCCESS.json exists?            -> load
       claim the compute lock           -> check again, create in a private staging directory,
                                           publish it and SUCCESS.json (ADR 0004), release
       holder dead?                     -> break its lock (one breaker wins), loop
       else wait (log whom for), loop   -> FuruWaitTimeout after _max_wait_time_sec
```

A process that waited for an attempt which then failed raises that failure instead of
recomputing (eight waiters do not retry a broken step eight times); a later call retries.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import signal
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

from furu import _catalog, _policy, _staging
from furu._errors import (
    FuruComputeError,
    FuruIdentityError,
    FuruLockNotAcquired,
    FuruRemoteError,
    FuruStoreError,
    FuruWaitTimeout,
)
from furu._furu import Furu
from furu._lock import ComputeLock, LockInfo, break_if_dead, read_lock
from furu._logging import append_to_log, get_logger, step_log
from furu._metadata import MetadataManager
from furu._resources import Meter
from furu._results import RESULTS_FILE, clean_results, write_results
from furu._settings import FURU_CONFIG
from furu._state import (
    Attempt,
    AttemptStatus,
    Resources,
    ResultStatus,
    StateManager,
    StepState,
)
from furu._store import ATTEMPTS_DIR, HOSTNAME, LOCK_FILE, LOG_FILE, dump_json

T = TypeVar("T")
_log = get_logger()
_active: contextvars.ContextVar[tuple[Path, ...]] = contextvars.ContextVar(
    "furu_active_steps", default=()
)
_FAST_POLL_CAP = 0.05
_REMOTE_POLL_CAP = 0.5


class _Terminated(BaseException):
    """SIGTERM arrived while `_create` ran (a scheduler preempting or stopping the job)."""


def create(step: Furu[T]) -> T:
    """Compute `step` under its lock, or load what another process computed meanwhile.

    A cached step comes here only when the run policy forces it or a step below it: the forced
    steps of its graph are then created first, in dependency order (`furu.plan`), and the step
    itself is loaded, or recomputed when it is forced too.
    """
    if FURU_CONFIG.dry_run:
        _check_not_active(step)
        return _dry_run(step)
    if _policy.Forcing.active() and step._furu_done(policy=False):
        from furu._planning import plan

        the_plan = plan([step])
        for planned in the_plan.to_create:
            if planned.step is not step:
                _create_one(planned.step)
        if the_plan.steps[the_plan.roots[0]].action == "load":
            return step._load()
    return _create_one(step)


def _check_not_active(step: Furu[Any]) -> None:
    loc = step._furu_location
    if loc.furu_dir in _active.get():
        raise FuruIdentityError(
            f"{step._furu_short()} depends on itself: its _create() (or a step it creates) "
            f"called load_or_create() on the same config. Break the cycle in {loc.furu_dir}."
        )


def _create_one(step: Furu[T]) -> T:
    _check_not_active(step)
    loc = step._furu_location
    with _store_errors(step):
        loc.meta_dir.mkdir(parents=True, exist_ok=True)
    try:
        return _create_or_load(step)
    except _Terminated:
        if not _active.get():
            _die_of_sigterm()
        raise


def _create_or_load(step: Furu[T]) -> T:
    waited_for: LockInfo | None = None
    while True:
        if step._furu_done():
            return step._load()
        with _store_errors(step):
            lock, waited_for = _acquire_or_wait(step, waited_for)
        if lock is None:
            continue
        try:
            if step._furu_done():
                return step._load()
            _raise_if_waited_attempt_failed(step, waited_for)
            if _adopt_declared(step, lock):
                return step._load()
            return _create_locked(step, lock)
        finally:
            lock.release()


def _adopt_declared(step: Furu[Any], lock: ComputeLock) -> bool:
    """A miss with no result at all: reuse what a declared migration (`furu_migrations`)
    reaches, as an alias directory (ADR 0005 §5); never when the step is forced."""
    if os.path.exists(step._furu_location.success) or step._furu_forced():
        return False
    from furu._migration import adopt_declared

    with _store_errors(step):
        return adopt_declared(step, lock)


# ---------------------------------------------------------------- waiting


def _acquire_or_wait(
    step: Furu[Any], waited_for: LockInfo | None
) -> tuple[ComputeLock | None, LockInfo | None]:
    """Claim the lock; otherwise wait until its holder finishes or dies (None, holder)."""
    meta = step._furu_location.meta_dir
    config = FURU_CONFIG
    start = time.monotonic()
    next_log = start + config.wait_log_every
    interval = 0.002
    while True:
        lock = ComputeLock.try_acquire(meta, config.lease_secs, config.heartbeat_interval)
        if lock is not None:
            return lock, waited_for
        holder = read_lock(meta / LOCK_FILE)
        if holder is None:
            continue
        if not holder.is_alive():
            _log.warning(
                "%s: breaking the lock of %s, which is gone", step._furu_short(), holder.describe()
            )
            if not break_if_dead(meta, holder):
                time.sleep(interval)  # another breaker is at it; let it finish
            continue
        waited_for = holder
        waited = time.monotonic() - start
        if waited > step._max_wait_time_sec:
            raise _wait_timeout(step, holder, waited)
        if time.monotonic() >= next_log:
            _log_waiting(step, holder, waited)
            next_log += config.wait_log_every
        cap = _FAST_POLL_CAP if holder.host == HOSTNAME else _REMOTE_POLL_CAP
        time.sleep(interval)
        interval = min(interval * 1.5, cap)
        if os.path.exists(step._furu_location.success):
            return None, waited_for


def _log_waiting(step: Furu[Any], holder: LockInfo, waited: float) -> None:
    beat = time.time() - holder.heartbeat_at
    _log.info(
        "load_or_create %s: waiting for %s for %.0fs (since %s); its last heartbeat was %.0fs "
        "ago; will wait up to %.0fs more",
        step._furu_short(),
        holder.describe(),
        waited,
        time.strftime("%H:%M:%S", time.localtime(time.time() - waited)),
        beat,
        max(0.0, step._max_wait_time_sec - waited),
    )


def _wait_timeout(step: Furu[Any], holder: LockInfo, waited: float) -> FuruWaitTimeout:
    return FuruWaitTimeout(
        f"{step._furu_short()}: waited {waited:.0f}s for {holder.describe()}, which is still "
        f"computing it (last heartbeat {time.time() - holder.heartbeat_at:.0f}s ago), and gave "
        f"up after {type(step).__qualname__}._max_wait_time_sec={step._max_wait_time_sec:g}. "
        "Raise _max_wait_time_sec on the class to wait longer. If you are certain nothing is "
        f"computing it, delete {step._furu_location.meta_dir / LOCK_FILE}.",
        furu_dir=step._furu_location.furu_dir,
        waited_sec=waited,
        holder=holder.describe(),
    )


def _raise_if_waited_attempt_failed(step: Furu[Any], waited_for: LockInfo | None) -> None:
    if waited_for is None:
        return
    state = _read_state_quietly(StateManager(step._furu_location.furu_dir))
    attempt = state.attempt if state else None
    if attempt is None or attempt.id != waited_for.attempt_id:
        return
    if attempt.status is AttemptStatus.FAILED and attempt.error:
        raise FuruComputeError(
            f"{step._furu_short()} failed in {waited_for.describe()}, which this process waited "
            f"for: {attempt.error.get('type')}: {attempt.error.get('message')}. The next call "
            f"retries; the traceback is in {step._furu_location.meta_dir / LOG_FILE}.",
            state_path=StateManager(step._furu_location.furu_dir).path,
            original_error=FuruRemoteError(
                attempt.error.get("message", ""), type_name=attempt.error.get("type", "")
            ),
            traceback_text=attempt.error.get("traceback", ""),
        )


# ---------------------------------------------------------------- creating


def _read_state_quietly(states: StateManager) -> StepState | None:
    try:
        return states.read_raw()
    except FuruStoreError as exc:
        _log.warning("%s; starting over", exc)
        return None


def _create_locked(step: Furu[T], lock: ComputeLock) -> T:
    loc = step._furu_location
    states = StateManager(loc.furu_dir)
    previous = _read_state_quietly(states)
    transition = _transition(step, previous)
    number = (previous.attempts if previous else 0) + 1
    attempt = Attempt.start(lock.attempt_id, number)
    # Built before the attempt is recorded: a config that cannot be described raises here and
    # leaves no "running" attempt behind.
    metadata = MetadataManager.build(step._furu_record())
    log_path = loc.meta_dir / LOG_FILE
    with _store_errors(step):
        recompute = os.path.exists(loc.success)
        Path(loc.success).unlink(missing_ok=True)
        (loc.meta_dir / RESULTS_FILE).unlink(missing_ok=True)  # the last result's summary
        staging = _staging.prepare(loc.furu_dir, attempt.id, previous, recompute=recompute)
        states.write(ResultStatus.INCOMPLETE, attempt, number)
        try:
            MetadataManager.write(loc.furu_dir, metadata)
        except BaseException as exc:  # the attempt is over: record it as such, not running
            _record_failure(step, states, attempt, number, exc, log_path)
            raise
    with step_log(log_path), _marked_active(loc.furu_dir):
        _log.info("load_or_create %s (%s)", step._furu_short(), transition)
        meter = Meter.start()
        try:
            with _staged(step, staging), _signals_raise(step):
                step._create()
                results = _declared_results(step)
        except BaseException as exc:
            used = meter.stop()
            if not _still_holds(lock):
                raise _lost_lock(step, lock) from exc
            _record_failure(step, states, attempt, number, exc, log_path, used)
            # A cycle or a dependency without identity is a bug in the pipeline, not a failed
            # computation: let it surface as the FuruIdentityError that names the fix.
            if isinstance(exc, Exception) and not isinstance(exc, FuruIdentityError):
                raise _as_compute_error(step, exc, states.path) from exc
            raise
    used = meter.stop()
    try:
        with _store_errors(step):
            if results is not None:
                write_results(loc.meta_dir, results)
            _publish(step, lock, states, attempt, number, staging, used)
    except FuruLockNotAcquired:
        raise
    except FuruStoreError as exc:
        _record_failure(step, states, attempt, number, exc, log_path, used)
        raise
    _catalog.record_published(
        loc.base_root,
        vars(metadata),
        kind="vc" if type(step)._furu_version_controlled else "data",
        at=attempt.started_at,
    )
    # What `_create` returned may point into its staging directory, now moved: every call
    # returns what `_load()` gives, the first one included.
    return step._load()


def _declared_results(step: Furu[Any]) -> dict[str, Any] | None:
    """What the step's `_results()` returns, checked (None when it declares none)."""
    if type(step)._results is Furu._results:
        return None
    declared = step._results()
    if declared is None:
        return None
    return clean_results(declared, where=f"{type(step).__qualname__}._results()")


@contextlib.contextmanager
def _staged(step: Furu[Any], staging: Path) -> Iterator[None]:
    """`step.furu_dir` is the attempt's staging directory while `_create` runs."""
    step.__dict__["_furu_staging"] = staging
    try:
        yield
    finally:
        step.__dict__.pop("_furu_staging", None)


def _still_holds(lock: ComputeLock) -> bool:
    return not lock.lost and lock.still_ours()


def _lost_lock(step: Furu[Any], lock: ComputeLock) -> FuruLockNotAcquired:
    return FuruLockNotAcquired(
        f"{step._furu_short()}: lost the compute lock while creating (its lease of "
        f"{lock.lease_secs:g}s expired and another process took over), so this attempt "
        "published nothing and recorded nothing; its files stay in its own staging directory "
        f"under {step._furu_location.meta_dir / ATTEMPTS_DIR}. Raise FURU_LEASE_SECS, or lower "
        "FURU_HEARTBEAT_SECS, if the machine is too busy to renew the lease in time.",
        lock_path=lock.path,
    )


@contextlib.contextmanager
def _store_errors(step: Furu[Any]) -> Iterator[None]:
    """Turn a failed write to the store (disk full, read-only, quota) into a clear error."""
    try:
        yield
    except OSError as exc:
        raise FuruStoreError(
            f"{step._furu_short()}: cannot write furu's files in {step._furu_location.furu_dir}: {exc}. Free "
            "space (or fix permissions) there, or point FURU_PATH at another store; nothing "
            "was marked as done.",
            path=step._furu_location.furu_dir,
        ) from exc


def _transition(step: Furu[Any], previous: StepState | None) -> str:
    if os.path.exists(step._furu_location.success):
        return "success->recompute"
    if previous is None:
        return "missing->create"
    return f"{previous.result_status.value}->create"


def _publish(
    step: Furu[Any],
    lock: ComputeLock,
    states: StateManager,
    attempt: Attempt,
    number: int,
    staging: Path,
    used: Resources,
) -> None:
    if not _still_holds(lock):
        raise _lost_lock(step, lock)
    marker = {
        "namespace": step._furu_namespace,
        "hash": step._furu_hash,
        "attempt_id": attempt.id,
        "created_at": attempt.started_at,
        "duration_sec": used.wall_sec,
    }
    loc = step._furu_location
    try:
        _staging.publish(staging, loc.furu_dir, Path(loc.success), dump_json(marker))
    except _staging.PublishConflict as exc:
        if not _still_holds(lock):
            raise _lost_lock(step, lock) from exc
        raise FuruStoreError(
            f"{step._furu_short()}: {exc.args[0]}: it appeared in the step directory while "
            "_create ran, so something wrote there directly instead of into self.furu_dir (the "
            "attempt's staging directory), e.g. another process given the step. Pass "
            "self.furu_dir to such writers; nothing was published and the attempt's files stay "
            f"in {staging}.",
            path=loc.furu_dir,
        ) from exc
    states.write(
        ResultStatus.SUCCESS, attempt.finish(AttemptStatus.SUCCESS, resources=used), number
    )
    _policy.mark_recomputed([step._furu_identity()])


def _record_failure(
    step: Furu[Any],
    states: StateManager,
    attempt: Attempt,
    number: int,
    exc: BaseException,
    log_path: Path,
    used: Resources | None = None,
) -> None:
    status = _status_for(exc)
    text = "".join(traceback.format_exception(exc))
    error = {"type": _type_name(exc), "message": str(exc), "traceback": text}
    result = ResultStatus.FAILED if status is AttemptStatus.FAILED else ResultStatus.INCOMPLETE
    try:
        ended = attempt.finish(status, error=error, reason=_reason(exc), resources=used)
        states.write(result, ended, number)
        append_to_log(log_path, f"load_or_create {step._furu_short()} {status.value}:\n{text}")
    except OSError as write_error:  # e.g. disk full: the original error matters more
        _log.error("could not record the failure of %s: %s", step._furu_short(), write_error)


def _status_for(exc: BaseException) -> AttemptStatus:
    # An executor's own interruption (e.g. furu-slurm's preemption) says what it means.
    declared = getattr(exc, "furu_attempt_status", None)
    if declared is not None:
        return AttemptStatus(declared)
    if isinstance(exc, _Terminated):
        return AttemptStatus.PREEMPTED
    if isinstance(exc, KeyboardInterrupt | SystemExit):
        return AttemptStatus.CANCELLED
    return AttemptStatus.FAILED


def _reason(exc: BaseException) -> str | None:
    declared = getattr(exc, "furu_attempt_reason", None)
    if declared is not None:
        return str(declared)
    if isinstance(exc, _Terminated):
        return "SIGTERM"
    if isinstance(exc, KeyboardInterrupt):
        return "SIGINT"
    return None


def _type_name(exc: BaseException) -> str:
    return f"{type(exc).__module__}.{type(exc).__qualname__}"


def _as_compute_error(step: Furu[Any], exc: Exception, state_path: Path) -> FuruComputeError:
    return FuruComputeError(
        f"{step._furu_short()} failed: {_type_name(exc)}: {exc}. The attempt is recorded in "
        f"{state_path} and the traceback in {state_path.parent / LOG_FILE}; the next call "
        "retries.",
        state_path=state_path,
        original_error=exc,
        traceback_text="".join(traceback.format_exception(exc)),
    )


@contextlib.contextmanager
def _marked_active(furu_dir: Path) -> Iterator[None]:
    token = _active.set((*_active.get(), furu_dir))
    try:
        yield
    finally:
        _active.reset(token)


@contextlib.contextmanager
def _signals_raise(step: Furu[Any]) -> Iterator[None]:
    """While `_create` runs, SIGTERM calls `step._checkpoint()` and then ends the attempt.

    The hook runs first, while `_create` is paused and its staging directory is still
    `step.furu_dir` (as furu-slurm calls it on SLURM's preemption signal); then an exception
    unwinds `_create`, so the attempt is recorded `preempted` and the next one resumes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous not in (signal.SIG_DFL, None) and not isinstance(previous, _Preempt):
        yield  # the application handles SIGTERM itself
        return
    signal.signal(signal.SIGTERM, _Preempt(step))
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class _Preempt:
    """The SIGTERM handler of one attempt: checkpoint once, then raise `_Terminated`."""

    def __init__(self, step: Furu[Any]) -> None:
        self.step = step
        self.checkpointing = False

    def __call__(self, signum: int, frame: Any) -> None:
        if not self.checkpointing:  # a second SIGTERM during the hook cuts it short
            self.checkpointing = True
            try:
                self.step._checkpoint()
            except Exception:
                _log.exception("%s: _checkpoint() raised on SIGTERM", self.step._furu_short())
        raise _Terminated(f"received signal {signum} (SIGTERM) while creating")


def _die_of_sigterm() -> None:
    """After recording and releasing, die of SIGTERM as the sender intended."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(5)  # the signal arrives at once; never fall through to user code


# ---------------------------------------------------------------- dry run


def _dry_run(step: Furu[T]) -> T:
    """Log the plan; a step it would create returns None, a step it would load its result."""
    from furu._planning import plan

    the_plan = plan([step])
    _log.info("FURU_DRY_RUN is set: computing nothing.\n%s", the_plan.describe())
    if the_plan.steps[the_plan.roots[0]].action == "load":
        return step._load()
    return None  # type: ignore[return-value]  # documented: a dry run returns None

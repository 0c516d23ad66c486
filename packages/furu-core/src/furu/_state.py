"""What a step's `state.json` records, and how it reads back (healing where the writer died).

`state.json` describes; it never decides. `SUCCESS.json` alone says a step is done, so a state
that claims success without the marker reads as incomplete, and a marker without a state (a
step copied by hand, an old store) still reads as success.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from furu._errors import FuruStoreError
from furu._lock import read_lock
from furu._store import (
    FURU_DIR,
    HOSTNAME,
    LOCK_FILE,
    STATE_FILE,
    STATE_MAX_BYTES,
    SUCCESS_FILE,
    read_json,
    write_json_atomic,
)

STATE_SCHEMA = 1


class ResultStatus(StrEnum):
    """Whether a step has a result."""

    ABSENT = "absent"
    """Nothing recorded: the step was never attempted here (no `.furu/state.json`, no marker)."""
    INCOMPLETE = "incomplete"
    """An attempt exists (queued, running, cancelled, preempted or crashed) but no result."""
    SUCCESS = "success"
    """`SUCCESS.json` exists: the result is on disk and `load_or_create()` will load it."""
    FAILED = "failed"
    """The last attempt raised; the next `load_or_create()` retries."""


class AttemptStatus(StrEnum):
    """What happened to the latest attempt at computing a step."""

    QUEUED = "queued"
    """Submitted to a scheduler, not started yet."""
    RUNNING = "running"
    """A process holds the compute lock and its lease is fresh."""
    SUCCESS = "success"
    """The attempt published its result."""
    FAILED = "failed"
    """`_create` raised; the error and traceback are recorded."""
    CANCELLED = "cancelled"
    """Interrupted on purpose (SIGINT / Ctrl-C, or a scheduler cancel)."""
    PREEMPTED = "preempted"
    """Stopped by SIGTERM or a scheduler preemption; it may be requeued."""
    CRASHED = "crashed"
    """Recorded as running, but its holder is gone (killed, node lost, lease expired)."""


STATUS_ORDER = (
    "running",
    "queued",
    "failed",
    "crashed",
    "preempted",
    "cancelled",
    "incomplete",
    "success",
    "absent",
)
"""How listings order statuses: what needs attention first, results next, nothing last."""


def status_rank(result_status: str, attempt_status: str | None) -> int:
    """Where a step sorts by status (`STATUS_ORDER`): a result wins; else its latest attempt.

    Raises:
        ValueError: a status furu does not write.
    """
    if result_status == "success":
        return STATUS_ORDER.index("success")
    if attempt_status is not None and attempt_status != "success":
        return STATUS_ORDER.index(attempt_status)
    return STATUS_ORDER.index(result_status)


TERMINAL = frozenset(
    {AttemptStatus.SUCCESS, AttemptStatus.FAILED, AttemptStatus.CANCELLED, AttemptStatus.CRASHED}
)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _number(value: Any, kind: type[int] | type[float]) -> Any:
    """`value` as `kind` when it is a finite number (not a boolean); None otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return kind(value)


@dataclass(frozen=True)
class Resources:
    """What one attempt's `_create()` used (docs/concepts.md, "Resources").

    Attributes:
        wall_sec: seconds `_create()` ran.
        cpu_user_sec: CPU seconds in user mode, of the process (all its threads) and of the
            child processes that ended and were waited for during the attempt.
        cpu_system_sec: the same in the kernel.
        peak_rss_bytes: the peak resident memory of the process and its child processes
            during the attempt; None where it cannot be measured (no `/proc`, and the
            process's lifetime peak did not grow).
        start_rss_bytes: the process's resident memory when `_create()` started (what the
            peak is measured against); None without `/proc`.
        gpu_peak_memory_bytes: the most GPU memory the process and its children held at once
            (sampled); None when NVIDIA's management library (`nvidia-ml-py`) is not
            installed, cannot start, or the attempt ended before the first sample.
        gpu_utilization_pct: the mean utilisation (0-100) of the GPUs the attempt used, over
            the samples; None as for `gpu_peak_memory_bytes`, or when it used no GPU.
    """

    wall_sec: float | None = None
    cpu_user_sec: float | None = None
    cpu_system_sec: float | None = None
    peak_rss_bytes: int | None = None
    start_rss_bytes: int | None = None
    gpu_peak_memory_bytes: int | None = None
    gpu_utilization_pct: float | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(vars(self))

    @classmethod
    def from_json(cls, data: Any) -> Resources | None:
        """What a `state.json` recorded; None when absent or not an object (an older furu
        wrote none). A field of the wrong type, or one a newer furu added, reads as absent."""
        if not isinstance(data, dict):
            return None
        return cls(
            wall_sec=_number(data.get("wall_sec"), float),
            cpu_user_sec=_number(data.get("cpu_user_sec"), float),
            cpu_system_sec=_number(data.get("cpu_system_sec"), float),
            peak_rss_bytes=_number(data.get("peak_rss_bytes"), int),
            start_rss_bytes=_number(data.get("start_rss_bytes"), int),
            gpu_peak_memory_bytes=_number(data.get("gpu_peak_memory_bytes"), int),
            gpu_utilization_pct=_number(data.get("gpu_utilization_pct"), float),
        )

    def describe(self) -> str:
        """One line for people: `wall 3.2 s, CPU 2.9 s user + 0.1 s system, peak RSS 212 MB`."""
        parts = [
            f"wall {_seconds(self.wall_sec)}",
            f"CPU {_seconds(self.cpu_user_sec)} user + {_seconds(self.cpu_system_sec)} system",
            f"peak RSS {_size(self.peak_rss_bytes)}",
        ]
        if self.gpu_peak_memory_bytes is not None:
            util = self.gpu_utilization_pct
            parts.append(
                f"GPU memory {_size(self.gpu_peak_memory_bytes)}"
                + (f", GPU utilisation {util:.0f}%" if util is not None else "")
            )
        return ", ".join(parts)


def _seconds(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.3g} s"


def _size(value: int | None) -> str:
    if value is None:
        return "unknown"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


@dataclass(frozen=True)
class Attempt:
    """One try at computing a step."""

    id: str
    number: int
    status: AttemptStatus
    backend: str
    host: str
    pid: int
    user: str
    command: str
    started_at: str
    updated_at: str
    ended_at: str | None = None
    scheduler: dict[str, Any] = field(default_factory=dict)
    error: dict[str, str] | None = None
    reason: str | None = None
    resources: Resources | None = None
    """What `_create()` used; None while it runs, for attempts a scheduler records, and in
    state files written before furu measured it."""

    @classmethod
    def start(cls, attempt_id: str, number: int) -> Attempt:
        """A running attempt of this process, with what its executor says about it."""
        from furu._attempt_context import current_attempt_context

        context = current_attempt_context()
        return cls.new(
            attempt_id, number, AttemptStatus.RUNNING, context.backend, context.scheduler
        )

    @classmethod
    def new(
        cls,
        attempt_id: str,
        number: int,
        status: AttemptStatus,
        backend: str,
        scheduler: Mapping[str, Any] | None = None,
        reason: str | None = None,
    ) -> Attempt:
        """An attempt recorded by this process now (host, pid, user and command are its own)."""
        stamp = now_iso()
        return cls(
            id=attempt_id,
            number=number,
            status=status,
            backend=backend,
            host=HOSTNAME,
            pid=os.getpid(),
            user=current_user(),
            command=" ".join(sys.argv) or sys.executable,
            started_at=stamp,
            updated_at=stamp,
            scheduler=dict(scheduler or {}),
            reason=reason,
        )

    @property
    def job_id(self) -> str | None:
        """The scheduler job the attempt ran (or is queued) in: `123`, or `123_4` in an array."""
        sched = self.scheduler
        if sched.get("array_job_id") and sched.get("array_task_id") is not None:
            return f"{sched['array_job_id']}_{sched['array_task_id']}"
        job = sched.get("job_id")
        return str(job) if job else None

    def finish(self, status: AttemptStatus, **changes: Any) -> Attempt:
        stamp = now_iso()
        return replace(self, status=status, updated_at=stamp, ended_at=stamp, **changes)


def current_user() -> str:
    """The login name, or the uid when there is none (containers)."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


@dataclass(frozen=True)
class StepState:
    """A step's state as read from disk, already healed."""

    result_status: ResultStatus
    attempt: Attempt | None = None
    attempts: int = 0
    updated_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        """What `state.json` holds (built by hand: `dataclasses.asdict` deep-copies, 10x slower)."""
        attempt = None
        if self.attempt is not None:
            attempt = dict(vars(self.attempt))
            attempt["status"] = self.attempt.status.value
            if self.attempt.resources is not None:
                attempt["resources"] = self.attempt.resources.to_json()
        return {
            "result_status": self.result_status.value,
            "attempt": attempt,
            "attempts": self.attempts,
            "updated_at": self.updated_at,
            "schema": STATE_SCHEMA,
        }


_ATTEMPT_FIELDS = frozenset(Attempt.__dataclass_fields__)


def _attempt_from_json(data: dict[str, Any], path: Path) -> Attempt:
    """The attempt as written; keys a newer furu added are ignored (its stores stay readable)."""
    try:
        if not isinstance(data, dict):
            raise TypeError(f"expected an object, got {type(data).__name__}")
        fields = {k: v for k, v in data.items() if k in _ATTEMPT_FIELDS}
        fields["status"] = AttemptStatus(fields["status"])
        fields["resources"] = Resources.from_json(fields.get("resources"))
        return Attempt(**fields)
    except (KeyError, TypeError, ValueError) as exc:
        raise FuruStoreError(
            f"{path} has an attempt furu cannot read ({exc}); delete {path} to reset the step.",
            path=path,
        ) from None


class StateManager:
    """Reads and writes `state.json` for one step directory."""

    def __init__(self, furu_dir: Path) -> None:
        self.furu_dir = furu_dir
        self.meta_dir = furu_dir / FURU_DIR
        self.path = self.meta_dir / STATE_FILE

    def read_raw(self) -> StepState | None:
        """The state as written, without healing; None when there is none."""
        data = read_json(
            self.path, what="state (result and attempt status)", max_bytes=STATE_MAX_BYTES
        )
        if data is None:
            return None
        try:
            result = ResultStatus(data["result_status"])
        except (KeyError, ValueError):
            raise FuruStoreError(
                f"{self.path} has no valid result_status (got {data.get('result_status')!r}); "
                f"expected one of {[s.value for s in ResultStatus]}. Delete it to reset the step.",
                path=self.path,
            ) from None
        attempt = data.get("attempt")
        try:
            attempts = int(data.get("attempts", 0))
        except (TypeError, ValueError, OverflowError):
            raise FuruStoreError(
                f"{self.path} has no valid attempt count (got {data.get('attempts')!r}); "
                "delete it to reset the step.",
                path=self.path,
            ) from None
        return StepState(
            result_status=result,
            attempt=_attempt_from_json(attempt, self.path) if attempt else None,
            attempts=attempts,
            updated_at=data.get("updated_at"),
        )

    def read(self) -> StepState:
        """The state as it is now: the marker decides success, dead holders read as crashed."""
        success = (self.meta_dir / SUCCESS_FILE).exists()
        try:
            state = self.read_raw()
        except FuruStoreError:
            if success:
                return StepState(ResultStatus.SUCCESS)
            raise
        if state is None:
            return StepState(ResultStatus.SUCCESS if success else ResultStatus.ABSENT)
        if success:
            return replace(state, result_status=ResultStatus.SUCCESS)
        if state.result_status is ResultStatus.SUCCESS:
            state = replace(state, result_status=ResultStatus.INCOMPLETE)
        return self._heal(state)

    def _heal(self, state: StepState) -> StepState:
        attempt = state.attempt
        if attempt is None or attempt.status is not AttemptStatus.RUNNING:
            return state
        lock = read_lock(self.meta_dir / LOCK_FILE)
        if lock is not None and lock.attempt_id == attempt.id and lock.is_alive():
            return state
        crashed = replace(attempt, status=AttemptStatus.CRASHED, reason=_crash_reason(lock))
        return replace(state, attempt=crashed)

    def write(
        self,
        result: ResultStatus,
        attempt: Attempt,
        attempts: int,
        *,
        note: Callable[[str], None] | None = None,
    ) -> None:
        """Replace `state.json`; `note` tells a journal (default: the current store's)."""
        state = StepState(result, attempt, attempts, now_iso())
        write_json_atomic(self.path, state.to_json())
        if note is None:
            from furu._journal import record

            record(self.furu_dir, "state")
        else:
            note("state")


def _crash_reason(lock: Any) -> str:
    if lock is None:
        return "recorded as running, but no process holds the compute lock"
    age = time.time() - lock.heartbeat_at
    return f"holder {lock.describe()} is gone; last heartbeat {age:.0f}s ago"

"""The compute lock: one holder per step, kept alive by a heartbeat, broken only when dead.

The lock is `.furu/compute.lock`, claimed by hard-linking a fully written temporary file onto
that name (atomic on local disks and NFS, and a reader never sees a half-written lock). Its JSON
names the holder (host, pid, the pid's start time, attempt id, scheduler job id); its mtime is
the last heartbeat. A holder is alive when

- it runs on this host and its pid still exists with the same start time (whatever the lease
  says: a lock is never broken while its holder lives, and a `kill -9` is noticed at once), or
- it runs elsewhere and its lease (`lease_secs` after the last heartbeat) has not expired.

A dead lock is broken by exactly one breaker: breakers serialise on `compute.lock.break`
(itself claimed atomically), re-read the lock, and unlink it only if it is still the same dead
attempt they saw.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from furu._errors import FuruStoreError
from furu._settings import FURU_CONFIG
from furu._store import (
    HOSTNAME,
    LOCK_FILE,
    SMALL_FILE_MAX_BYTES,
    read_regular_file_stat,
    temp_name,
    write_all,
)

_BREAK_LOCK_STALE_SEC = 30.0


def _pid_namespace() -> str | None:
    """This process's pid namespace: containers sharing a host name do not share pids."""
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return None


PID_NAMESPACE = _pid_namespace()


def _pid_stat(pid: int) -> tuple[str, str] | None:
    """`(state, start time)` of `pid` from the kernel; None if it is gone, ("", "") if unknown.

    The start time guards against pid reuse; the state tells a zombie (`Z`: killed, not yet
    reaped by its parent) or a dying process (`X`) from a live one.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except FileNotFoundError:
        return None
    except OSError:
        return "", ""
    # The fields after the parenthesised command name (which may hold spaces): state is field
    # 3, starttime field 22.
    fields = stat.rsplit(b")", 1)[-1].split()
    return fields[0].decode(), fields[19].decode()


def _pid_start_time(pid: int) -> str | None:
    """The kernel's start time of `pid` (guards against pid reuse); None if it is gone."""
    found = _pid_stat(pid)
    return None if found is None else found[1]


def pid_alive(pid: int, start_time: str | None) -> bool:
    """Whether `pid` runs on this host and is the same process that recorded `start_time`.

    A zombie (killed, not yet reaped by its parent) is dead: `kill(pid, 0)` still succeeds for
    it, but it will never release or renew anything.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    if not os.path.exists("/proc/self/stat"):
        return True
    found = _pid_stat(pid)
    if found is None:
        return False
    state, current = found
    if state in ("Z", "X", "x"):
        return False
    return not start_time or current in ("", start_time)


@dataclass(frozen=True)
class LockInfo:
    """Who holds a compute lock, as recorded in the lock file."""

    host: str
    pid: int
    pid_start: str | None
    pid_namespace: str | None
    attempt_id: str
    job_id: str | None
    lease_secs: float
    created_at: float
    heartbeat_at: float

    @classmethod
    def from_json(cls, data: dict[str, Any], heartbeat_at: float) -> LockInfo:
        """Raises ValueError (or KeyError, TypeError, OverflowError) for a damaged lock."""
        info = cls(
            host=str(data["host"]),
            pid=int(data["pid"]),
            pid_start=data.get("pid_start"),
            pid_namespace=data.get("pid_namespace"),
            attempt_id=str(data["attempt_id"]),
            job_id=data.get("job_id"),
            lease_secs=float(data["lease_secs"]),
            created_at=float(data["created_at"]),
            heartbeat_at=heartbeat_at,
        )
        # No holder writes these; trusting them would wait forever (a NaN or infinite lease) or
        # ask about every process at once (`kill(0 or -1, 0)` succeeds).
        if not (0 < info.pid < 2**31 and math.isfinite(info.lease_secs)):
            raise ValueError(f"implausible pid {info.pid} or lease {info.lease_secs}")
        return info

    def describe(self) -> str:
        job = f", job {self.job_id}" if self.job_id else ""
        return f"{self.host}:{self.pid} (attempt {self.attempt_id[:8]}{job})"

    def is_alive(self, now: float | None = None) -> bool:
        """Same host and pid namespace: the pid decides at once. Elsewhere: the lease."""
        if self.host == HOSTNAME and self.pid_namespace == PID_NAMESPACE:
            return pid_alive(self.pid, self.pid_start)
        return not self.lease_expired(now)

    def lease_expired(self, now: float | None = None) -> bool:
        """No heartbeat for the holder's lease, or for FURU_STALE_AFTER_SECS if that is shorter.

        The cap keeps a lock that claims an enormous lease from blocking everyone for hours.
        """
        lease = min(self.lease_secs, FURU_CONFIG.stale_after)
        return (now or time.time()) - self.heartbeat_at > lease


def read_lock(path: Path) -> LockInfo | None:
    """The lock's holder; None if there is no lock. An unreadable lock counts as dead.

    It is read like every store file (`read_regular_file_stat`): a symlink, a FIFO or a file
    over 1 MiB at the lock's name is a damaged lock, never followed or waited on.
    """
    try:
        found = read_regular_file_stat(
            path, what="compute lock (its holder)", max_bytes=SMALL_FILE_MAX_BYTES
        )
    except FuruStoreError:
        found = None
        try:
            heartbeat_at = os.lstat(path).st_mtime
        except FileNotFoundError:
            return None
    else:
        if found is None:
            return None
        heartbeat_at = found[1].st_mtime
    try:
        if found is None:
            raise ValueError("not a regular file")
        return LockInfo.from_json(json.loads(found[0]), heartbeat_at)
    except (ValueError, KeyError, TypeError, OverflowError, RecursionError):
        # Claims are atomic, so a damaged lock was damaged after the fact (disk full, manual
        # edit): nobody can prove they hold it. Break it like a dead one.
        return LockInfo(
            "?", -1, None, None, f"corrupt-{heartbeat_at}", None, 0.0, 0.0, heartbeat_at
        )


def create_exclusive(path: Path, payload: bytes) -> bool:
    """Atomically create `path` holding `payload`; False if it already exists."""
    tmp = temp_name(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        try:
            write_all(fd, payload)  # all of it: a claim is never half written
        finally:
            os.close(fd)
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)


class ComputeLock:
    """A held compute lock: renews its lease on a heartbeat thread until released."""

    def __init__(self, path: Path, attempt_id: str, lease_secs: float, heartbeat: float):
        self.path = path
        self.attempt_id = attempt_id
        self.lease_secs = lease_secs
        self._heartbeat = heartbeat
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lost = False

    @classmethod
    def try_acquire(cls, furu_dir: Path, lease_secs: float, heartbeat: float) -> ComputeLock | None:
        """Claim the lock of the step in `furu_dir`; None when someone else holds it."""
        from furu._attempt_context import current_attempt_context

        path = furu_dir / LOCK_FILE
        attempt_id = os.urandom(16).hex()
        payload = {
            "host": HOSTNAME,
            "pid": os.getpid(),
            "pid_start": _pid_start_time(os.getpid()),
            "pid_namespace": PID_NAMESPACE,
            "attempt_id": attempt_id,
            "job_id": current_attempt_context().job_id,
            "lease_secs": lease_secs,
            "created_at": time.time(),
        }
        if not create_exclusive(path, json.dumps(payload).encode()):
            return None
        lock = cls(path, attempt_id, lease_secs, heartbeat)
        lock._start_heartbeat()
        return lock

    def _start_heartbeat(self) -> None:
        name = f"furu-heartbeat-{self.attempt_id[:8]}"
        self._thread = threading.Thread(target=self._beat, name=name, daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(self._heartbeat):
            if not self.still_ours():
                self.lost = True
                return
            try:
                os.utime(self.path)
            except FileNotFoundError:
                self.lost = True
                return

    def still_ours(self) -> bool:
        info = read_lock(self.path)
        return info is not None and info.attempt_id == self.attempt_id

    def release(self) -> None:
        """Stop the heartbeat and remove the lock, if it is still ours."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        if self.still_ours():
            self.path.unlink(missing_ok=True)


def break_if_dead(furu_dir: Path, seen: LockInfo) -> bool:
    """Remove the lock if it still belongs to the dead attempt `seen`; True if removed."""
    lock_path = furu_dir / LOCK_FILE
    guard = furu_dir / (LOCK_FILE + ".break")
    if not create_exclusive(guard, f"{HOSTNAME} {os.getpid()}".encode()):
        _clear_stale_guard(guard)
        return False
    try:
        current = read_lock(lock_path)
        if current is None or current.attempt_id != seen.attempt_id or current.is_alive():
            return False
        lock_path.unlink(missing_ok=True)
        return True
    finally:
        guard.unlink(missing_ok=True)


def _clear_stale_guard(guard: Path) -> None:
    """A breaker killed between claim and release leaves its guard; clear it after a while."""
    try:
        if time.time() - guard.stat().st_mtime > _BREAK_LOCK_STALE_SEC:
            guard.unlink(missing_ok=True)
    except FileNotFoundError:
        pass

"""furu._lock: claiming, releasing, liveness and breaking of the compute lock."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from furu import _lock
from furu._lock import (
    PID_NAMESPACE,
    ComputeLock,
    LockInfo,
    _pid_start_time,
    break_if_dead,
    pid_alive,
    read_lock,
)
from furu._store import HOSTNAME, LOCK_FILE


@pytest.fixture
def meta(tmp_path: Path) -> Path:
    path = tmp_path / ".furu"
    path.mkdir()
    return path


@pytest.fixture
def held(meta: Path) -> Iterator[ComputeLock]:
    lock = ComputeLock.try_acquire(meta, lease_secs=60.0, heartbeat=60.0)
    assert lock is not None
    yield lock
    lock.release()


def _write_lock(meta: Path, *, host: str, pid: int, attempt: str, **extra: object) -> Path:
    data = {
        "host": host,
        "pid": pid,
        "pid_start": None,
        "pid_namespace": PID_NAMESPACE,
        "attempt_id": attempt,
        "job_id": None,
        "lease_secs": 60.0,
        "created_at": 0.0,
        **extra,
    }
    path = meta / LOCK_FILE
    path.write_text(json.dumps(data))
    return path


def _info(
    host: str,
    pid: int,
    heartbeat_at: float,
    lease: float = 60.0,
    namespace: str | None = PID_NAMESPACE,
    start: str | None = None,
) -> LockInfo:
    return LockInfo(
        host, pid, start, namespace, "attempt-1", None, lease, heartbeat_at, heartbeat_at
    )


def _wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.005)


# ---------------------------------------------------------------- claim and release


def test_claim_is_exclusive(meta: Path, held: ComputeLock) -> None:
    assert ComputeLock.try_acquire(meta, lease_secs=60.0, heartbeat=60.0) is None
    info = read_lock(meta / LOCK_FILE)
    assert info is not None
    assert info.attempt_id == held.attempt_id
    assert info.host == HOSTNAME
    assert info.pid == os.getpid()
    assert info.pid_start == _pid_start_time(os.getpid())
    assert info.lease_secs == 60.0
    assert info.is_alive()
    assert held.still_ours()
    assert sorted(p.name for p in meta.iterdir()) == [LOCK_FILE]  # no temp files left


def test_exactly_one_of_many_threads_claims(meta: Path) -> None:
    barrier = threading.Barrier(8)
    won: list[ComputeLock] = []

    def claim() -> None:
        barrier.wait()
        lock = ComputeLock.try_acquire(meta, lease_secs=60.0, heartbeat=60.0)
        if lock is not None:
            won.append(lock)

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1
    won[0].release()
    assert not (meta / LOCK_FILE).exists()


def test_release_frees_the_lock(meta: Path, held: ComputeLock) -> None:
    held.release()
    assert not (meta / LOCK_FILE).exists()
    again = ComputeLock.try_acquire(meta, lease_secs=60.0, heartbeat=60.0)
    assert again is not None
    assert again.attempt_id != held.attempt_id
    again.release()


def test_release_removes_only_our_lock(meta: Path, held: ComputeLock) -> None:
    # A breaker decided we were dead and someone else claimed the lock.
    (meta / LOCK_FILE).unlink()
    _write_lock(meta, host="other", pid=1, attempt="someone-else")
    assert not held.still_ours()
    held.release()
    info = read_lock(meta / LOCK_FILE)
    assert info is not None
    assert info.attempt_id == "someone-else"


def test_still_ours_when_the_lock_is_gone(meta: Path, held: ComputeLock) -> None:
    (meta / LOCK_FILE).unlink()
    assert not held.still_ours()
    held.release()  # nothing to remove, no error


def test_heartbeat_renews_the_lease(meta: Path) -> None:
    lock = ComputeLock.try_acquire(meta, lease_secs=60.0, heartbeat=0.01)
    assert lock is not None
    try:
        os.utime(lock.path, (1000.0, 1000.0))
        _wait_until(lambda: lock.path.stat().st_mtime > 1000.0, "a heartbeat")
        assert not lock.lost
    finally:
        lock.release()
    assert not lock.path.exists()


def test_heartbeat_notices_a_lost_lock(meta: Path) -> None:
    lock = ComputeLock.try_acquire(meta, lease_secs=60.0, heartbeat=0.01)
    assert lock is not None
    try:
        lock.path.unlink()
        _write_lock(meta, host="other", pid=1, attempt="taken-over")
        _wait_until(lambda: lock.lost, "the heartbeat to notice")
    finally:
        lock.release()
    assert json.loads(lock.path.read_text())["attempt_id"] == "taken-over"


def test_read_lock_missing_is_none(meta: Path) -> None:
    assert read_lock(meta / LOCK_FILE) is None


def test_read_lock_uses_mtime_as_heartbeat(meta: Path) -> None:
    path = _write_lock(meta, host="h", pid=5, attempt="abcdef0123", job_id="12_3")
    os.utime(path, (1234.5, 1234.5))
    info = read_lock(path)
    assert info is not None
    assert info.heartbeat_at == 1234.5
    assert info.describe() == "h:5 (attempt abcdef01, job 12_3)"


# ---------------------------------------------------------------- liveness


def test_same_host_live_pid_is_alive_whatever_the_lease() -> None:
    me = _info(HOSTNAME, os.getpid(), 0.0, lease=1.0, start=_pid_start_time(os.getpid()))
    assert me.lease_expired(now=1e9)
    assert me.is_alive(now=1e9)


def test_same_host_reused_pid_is_dead() -> None:
    # The pid exists, but it started at another time: it is not the process that took the lock.
    other = _info(HOSTNAME, os.getpid(), time.time(), start="1")
    assert not other.is_alive()
    assert not pid_alive(os.getpid(), "1")
    assert pid_alive(os.getpid(), _pid_start_time(os.getpid()))
    assert pid_alive(os.getpid(), None)


def test_same_host_dead_pid_is_dead_even_with_a_fresh_lease(dead_pid: int) -> None:
    now = time.time()
    assert not _info(HOSTNAME, dead_pid, heartbeat_at=now).is_alive(now=now)
    assert not pid_alive(dead_pid, None)
    assert _pid_start_time(dead_pid) is None


def test_same_host_other_pid_namespace_goes_by_the_lease(dead_pid: int) -> None:
    # Another container with the same host name: its pids mean nothing here.
    info = _info(HOSTNAME, dead_pid, heartbeat_at=1000.0, namespace="pid:[4026531836-other]")
    assert info.is_alive(now=1059.0)
    assert not info.is_alive(now=1061.0)


def test_our_lock_records_our_pid_namespace(meta: Path, held: ComputeLock) -> None:
    data = json.loads(held.path.read_text())
    assert data["pid_namespace"] == PID_NAMESPACE
    assert data["host"] == HOSTNAME


def test_foreign_host_fresh_lease_is_alive() -> None:
    info = _info("another-node", 1, heartbeat_at=1000.0, lease=60.0)
    assert info.is_alive(now=1059.0)
    assert not info.lease_expired(now=1060.0)


def test_foreign_host_expired_lease_is_dead() -> None:
    info = _info("another-node", 1, heartbeat_at=1000.0, lease=60.0)
    assert info.lease_expired(now=1060.5)
    assert not info.is_alive(now=1060.5)


def test_our_lock_seen_from_another_host(
    meta: Path, held: ComputeLock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Viewed from another machine only the lease counts: fresh now, expired once the mtime ages.
    monkeypatch.setattr(_lock, "HOSTNAME", "another-node")
    info = read_lock(held.path)
    assert info is not None
    assert info.is_alive()
    os.utime(held.path, (time.time() - 61, time.time() - 61))
    info = read_lock(held.path)
    assert info is not None
    assert not info.is_alive()


def test_a_corrupt_lock_counts_as_dead(meta: Path) -> None:
    path = meta / LOCK_FILE
    for content in ("", "{not json", '{"host": "h"}', "[]"):
        path.write_text(content)
        info = read_lock(path)
        assert info is not None
        assert info.attempt_id.startswith("corrupt-")
        assert not info.is_alive()


# ---------------------------------------------------------------- breaking


def test_break_if_dead_breaks_a_dead_lock(meta: Path, dead_pid: int) -> None:
    _write_lock(meta, host=HOSTNAME, pid=dead_pid, attempt="dead")
    seen = read_lock(meta / LOCK_FILE)
    assert seen is not None
    assert break_if_dead(meta, seen) is True
    assert sorted(p.name for p in meta.iterdir()) == []  # no lock, no guard left
    assert break_if_dead(meta, seen) is False  # nothing left to break


def test_break_if_dead_spares_a_live_lock(meta: Path, held: ComputeLock) -> None:
    seen = read_lock(held.path)
    assert seen is not None
    assert break_if_dead(meta, seen) is False
    assert held.still_ours()


def test_break_if_dead_spares_a_new_lock(meta: Path, dead_pid: int) -> None:
    _write_lock(meta, host=HOSTNAME, pid=dead_pid, attempt="dead")
    seen = read_lock(meta / LOCK_FILE)
    assert seen is not None
    # Meanwhile another breaker removed it and a live process claimed the step.
    (meta / LOCK_FILE).unlink()
    lock = ComputeLock.try_acquire(meta, lease_secs=60.0, heartbeat=60.0)
    assert lock is not None
    try:
        assert break_if_dead(meta, seen) is False
        assert lock.still_ours()
    finally:
        lock.release()


def test_break_if_dead_spares_another_dead_attempt(meta: Path, dead_pid: int) -> None:
    _write_lock(meta, host=HOSTNAME, pid=dead_pid, attempt="first")
    seen = read_lock(meta / LOCK_FILE)
    assert seen is not None
    _write_lock(meta, host=HOSTNAME, pid=dead_pid, attempt="second")
    assert break_if_dead(meta, seen) is False  # not the attempt it judged dead
    info = read_lock(meta / LOCK_FILE)
    assert info is not None
    assert info.attempt_id == "second"


def test_break_if_dead_breaks_a_corrupt_lock(meta: Path) -> None:
    (meta / LOCK_FILE).write_text("{garbage")
    seen = read_lock(meta / LOCK_FILE)
    assert seen is not None
    assert break_if_dead(meta, seen) is True
    assert not (meta / LOCK_FILE).exists()


def test_a_fresh_break_guard_blocks_other_breakers(meta: Path, dead_pid: int) -> None:
    _write_lock(meta, host=HOSTNAME, pid=dead_pid, attempt="dead")
    guard = meta / (LOCK_FILE + ".break")
    guard.write_text("other-host 1")
    seen = read_lock(meta / LOCK_FILE)
    assert seen is not None
    assert break_if_dead(meta, seen) is False
    assert guard.exists()
    assert (meta / LOCK_FILE).exists()


def test_a_stale_break_guard_is_cleared(meta: Path, dead_pid: int) -> None:
    _write_lock(meta, host=HOSTNAME, pid=dead_pid, attempt="dead")
    guard = meta / (LOCK_FILE + ".break")
    guard.write_text("a breaker that was killed")
    old = time.time() - _lock._BREAK_LOCK_STALE_SEC - 5
    os.utime(guard, (old, old))
    seen = read_lock(meta / LOCK_FILE)
    assert seen is not None
    assert break_if_dead(meta, seen) is False  # this call only clears the guard
    assert not guard.exists()
    assert break_if_dead(meta, seen) is True
    assert sorted(p.name for p in meta.iterdir()) == []


# ---------------------------------------------------------------- scheduler job id


def test_lock_names_the_job_of_the_attempt_context(tmp_path: Path) -> None:
    import furu

    meta = tmp_path / ".furu"
    meta.mkdir()
    context = furu.AttemptContext(backend="cluster", job_id="100_1")
    with furu.attempt_context(context):
        lock = ComputeLock.try_acquire(meta, lease_secs=60.0, heartbeat=20.0)
    assert lock is not None
    try:
        holder = read_lock(meta / LOCK_FILE)
        assert holder is not None
        assert holder.job_id == "100_1"
        assert holder.describe().endswith(", job 100_1)")
    finally:
        lock.release()


def test_stale_after_caps_a_huge_claimed_lease(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    import furu
    from furu._lock import LockInfo

    now = time.time()
    info = LockInfo("elsewhere", 1, None, None, "a" * 32, None, 1e9, now - 100, now - 100)
    assert info.is_alive(now)  # a billion-second lease, renewed 100 s ago
    monkeypatch.setattr(furu.FURU_CONFIG, "stale_after", 60.0)
    assert not info.is_alive(now)


# ---------------------------------------------------------------- a zombie holder

_HOLD_LOCK = """
import sys, time
from pathlib import Path
from furu._lock import ComputeLock
lock = ComputeLock.try_acquire(Path(sys.argv[1]), lease_secs=600.0, heartbeat=200.0)
print("held" if lock else "busy", flush=True)
time.sleep(600)
"""


def _proc_state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[-1].split()[0].decode()


def test_a_killed_holder_not_yet_reaped_is_dead_and_its_lock_is_broken_at_once() -> None:
    """A zombie (SIGKILLed, its parent has not called wait) still answers `kill(pid, 0)`."""
    import signal
    import subprocess
    import sys

    import core_test_steps as steps

    import furu

    step = steps.Impatient(n=7)
    meta = furu.step_dir(step).meta_dir
    meta.mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(meta)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        os.kill(holder.pid, signal.SIGKILL)  # and do not reap it: it stays a zombie
        _wait_until(lambda: _proc_state(holder.pid) == "Z", "the holder to become a zombie")

        info = read_lock(meta / LOCK_FILE)
        assert info is not None
        assert info.pid == holder.pid
        assert not pid_alive(holder.pid, info.pid_start)
        assert not info.is_alive()
        # Impatient waits 0.05 s for a live holder: a zombie taken for alive raises
        # FuruWaitTimeout; a dead one has its lock broken and the step is computed.
        assert step.load_or_create() == 7
        assert _proc_state(holder.pid) == "Z"  # still unreaped: nothing waited for the parent
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()

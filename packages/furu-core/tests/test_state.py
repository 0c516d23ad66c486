"""furu._state: what state.json records and how it heals when read."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from furu import Attempt, AttemptStatus, FuruStoreError, ResultStatus, StateManager, StepState
from furu._lock import PID_NAMESPACE, ComputeLock
from furu._state import TERMINAL
from furu._store import HOSTNAME, write_json_atomic


@pytest.fixture
def states(tmp_path: Path) -> StateManager:
    manager = StateManager(tmp_path / "step")
    manager.meta_dir.mkdir(parents=True)
    return manager


def _mark_success(states: StateManager) -> None:
    write_json_atomic(states.meta_dir / "SUCCESS.json", {"hash": "x"})


def test_status_values() -> None:
    assert [s.value for s in ResultStatus] == ["absent", "incomplete", "success", "failed"]
    assert [s.value for s in AttemptStatus] == [
        "queued",
        "running",
        "success",
        "failed",
        "cancelled",
        "preempted",
        "crashed",
    ]
    assert AttemptStatus.RUNNING not in TERMINAL
    assert AttemptStatus.QUEUED not in TERMINAL
    assert AttemptStatus.CRASHED in TERMINAL


def test_paths(tmp_path: Path) -> None:
    manager = StateManager(tmp_path)
    assert manager.meta_dir == tmp_path / ".furu"
    assert manager.path == tmp_path / ".furu" / "state.json"


def test_nothing_recorded_is_absent(states: StateManager) -> None:
    assert states.read() == StepState(ResultStatus.ABSENT)
    assert states.read_raw() is None


def test_missing_directory_is_absent(tmp_path: Path) -> None:
    assert StateManager(tmp_path / "never" / "made").read().result_status is ResultStatus.ABSENT


def test_write_and_read_back(states: StateManager) -> None:
    attempt = Attempt.start("a" * 32, 1)
    assert attempt.status is AttemptStatus.RUNNING
    assert attempt.host == HOSTNAME
    assert attempt.pid == os.getpid()
    assert attempt.backend == "local"
    assert attempt.ended_at is None
    failed = attempt.finish(
        AttemptStatus.FAILED, error={"type": "builtins.ValueError", "message": "boom"}
    )
    states.write(ResultStatus.FAILED, failed, 1)
    state = states.read()
    assert state.result_status is ResultStatus.FAILED
    assert state.attempts == 1
    assert state.attempt == failed
    assert state.attempt is not None
    assert state.attempt.ended_at is not None
    assert state.updated_at is not None
    data = json.loads(states.path.read_text())
    assert data["schema"] == 1
    assert data["result_status"] == "failed"
    assert data["attempt"]["status"] == "failed"
    assert data["attempt"]["error"]["message"] == "boom"


def test_running_attempt_with_our_live_lock_stays_running(states: StateManager) -> None:
    lock = ComputeLock.try_acquire(states.meta_dir, lease_secs=60.0, heartbeat=60.0)
    assert lock is not None
    try:
        states.write(ResultStatus.INCOMPLETE, Attempt.start(lock.attempt_id, 1), 1)
        state = states.read()
        assert state.result_status is ResultStatus.INCOMPLETE
        assert state.attempt is not None
        assert state.attempt.status is AttemptStatus.RUNNING
    finally:
        lock.release()
    # The holder released without recording an outcome: nobody is running it any more.
    healed = states.read()
    assert healed.attempt is not None
    assert healed.attempt.status is AttemptStatus.CRASHED
    assert healed.attempt.reason == "recorded as running, but no process holds the compute lock"
    assert healed.result_status is ResultStatus.INCOMPLETE
    # Healing is a reading: the file still says what was written.
    raw = states.read_raw()
    assert raw is not None
    assert raw.attempt is not None
    assert raw.attempt.status is AttemptStatus.RUNNING


def test_running_attempt_whose_lock_belongs_to_another_attempt(states: StateManager) -> None:
    lock = ComputeLock.try_acquire(states.meta_dir, lease_secs=60.0, heartbeat=60.0)
    assert lock is not None
    try:
        states.write(ResultStatus.INCOMPLETE, Attempt.start("an-older-attempt", 1), 1)
        attempt = states.read().attempt
        assert attempt is not None
        assert attempt.status is AttemptStatus.CRASHED
        assert attempt.reason is not None
        assert f"holder {HOSTNAME}:{os.getpid()}" in attempt.reason
        assert "last heartbeat" in attempt.reason
    finally:
        lock.release()


def test_running_attempt_whose_holder_is_dead(states: StateManager, dead_pid: int) -> None:
    lock_data = {
        "host": HOSTNAME,
        "pid": dead_pid,
        "pid_start": None,
        "pid_namespace": PID_NAMESPACE,
        "attempt_id": "dead-attempt",
        "job_id": None,
        "lease_secs": 120.0,
        "created_at": 0.0,
    }
    (states.meta_dir / "compute.lock").write_text(json.dumps(lock_data))
    states.write(ResultStatus.INCOMPLETE, Attempt.start("dead-attempt", 1), 1)
    attempt = states.read().attempt
    assert attempt is not None
    assert attempt.status is AttemptStatus.CRASHED
    assert attempt.reason is not None
    assert f"{HOSTNAME}:{dead_pid} (attempt dead-att) is gone" in attempt.reason


def test_non_running_attempts_are_not_healed(states: StateManager) -> None:
    for status in (AttemptStatus.QUEUED, AttemptStatus.PREEMPTED, AttemptStatus.CANCELLED):
        states.write(ResultStatus.INCOMPLETE, Attempt.start("x", 1).finish(status), 1)
        attempt = states.read().attempt
        assert attempt is not None
        assert attempt.status is status


@pytest.mark.parametrize("recorded", [ResultStatus.FAILED, ResultStatus.INCOMPLETE])
def test_success_marker_wins_over_state(states: StateManager, recorded: ResultStatus) -> None:
    states.write(recorded, Attempt.start("x", 2).finish(AttemptStatus.FAILED), 2)
    _mark_success(states)
    state = states.read()
    assert state.result_status is ResultStatus.SUCCESS
    assert state.attempts == 2


@pytest.mark.parametrize("content", ["", "{trunc", "[]", '{"result_status": "weird"}'])
def test_success_marker_wins_over_a_corrupt_state(states: StateManager, content: str) -> None:
    states.path.write_text(content)
    _mark_success(states)
    assert states.read() == StepState(ResultStatus.SUCCESS)


def test_success_marker_without_state(states: StateManager) -> None:
    _mark_success(states)
    assert states.read() == StepState(ResultStatus.SUCCESS)


def test_state_success_without_marker_is_incomplete(states: StateManager) -> None:
    states.write(ResultStatus.SUCCESS, Attempt.start("x", 1).finish(AttemptStatus.SUCCESS), 1)
    state = states.read()
    assert state.result_status is ResultStatus.INCOMPLETE
    assert state.attempt is not None
    assert state.attempt.status is AttemptStatus.SUCCESS
    raw = states.read_raw()
    assert raw is not None
    assert raw.result_status is ResultStatus.SUCCESS


def test_truncated_state_error(states: StateManager) -> None:
    states.path.write_text('{"result_status": "fail')
    with pytest.raises(FuruStoreError) as info:
        states.read()
    message = str(info.value)
    assert str(states.path) in message
    assert "is not valid JSON" in message
    assert "state (result and attempt status)" in message
    assert "Delete it" in message
    assert info.value.path == states.path


def test_bad_result_status_error(states: StateManager) -> None:
    states.path.write_text('{"result_status": "done"}')
    with pytest.raises(FuruStoreError) as info:
        states.read()
    assert str(info.value) == (
        f"{states.path} has no valid result_status (got 'done'); expected one of "
        "['absent', 'incomplete', 'success', 'failed']. Delete it to reset the step."
    )


def test_an_attempt_from_a_newer_furu_reads_without_its_new_keys(states: StateManager) -> None:
    attempt = replace(Attempt.start("x" * 32, 1), status=AttemptStatus.FAILED)
    states.write(ResultStatus.FAILED, attempt, 1)
    data = json.loads(states.path.read_text())
    data["attempt"]["peak_memory_bytes"] = 123
    states.path.write_text(json.dumps(data))
    read = states.read()
    assert read.attempt == attempt
    assert read.result_status is ResultStatus.FAILED


def test_bad_attempt_error(states: StateManager) -> None:
    states.path.write_text('{"result_status": "failed", "attempt": {"id": "x", "status": "ok"}}')
    with pytest.raises(FuruStoreError) as info:
        states.read()
    message = str(info.value)
    assert message.startswith(f"{states.path} has an attempt furu cannot read (")
    assert message.endswith(f"delete {states.path} to reset the step.")


def test_attempt_records_its_executors_context() -> None:
    import furu

    context = furu.AttemptContext(
        backend="cluster", job_id="77", scheduler={"name": "cluster", "partition": "gpu"}
    )
    with furu.attempt_context(context):
        attempt = Attempt.start("x", 1)
    assert attempt.backend == "cluster"
    assert attempt.scheduler == {"name": "cluster", "partition": "gpu"}
    outside = Attempt.start("x", 1)
    assert outside.scheduler == furu.current_attempt_context().scheduler


def test_attempt_job_id_reads_array_tasks() -> None:
    array = Attempt.start("x", 1)
    array = replace(array, scheduler={"array_job_id": "100", "array_task_id": "4", "job_id": "104"})
    assert array.job_id == "100_4"
    assert replace(array, scheduler={"job_id": 7}).job_id == "7"
    assert replace(array, scheduler={}).job_id is None

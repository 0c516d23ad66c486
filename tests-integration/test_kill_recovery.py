"""`kill -9` of the process inside `_create`: the attempt reads as crashed, the next call recovers."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest

import furu
import furu_steps
from furu_harness import Store, wait_until


def _start_holder(store: Store, name: str) -> tuple[dict[str, Any], furu_steps.Counted]:
    spec = store.counted(
        name, started_path=store.path(f"{name}.started"), release_path=store.path(f"{name}.go")
    )
    return spec, furu_steps.Counted(**spec["kwargs"])


def _assert_crashed_now(step: furu_steps.Counted, holder_pid: int) -> None:
    """Read right after the kill, before anyone recovers: the attempt reads as crashed."""
    state = step.get_state()
    assert state.result_status is furu.ResultStatus.INCOMPLETE
    assert state.attempt is not None
    assert state.attempt.status is furu.AttemptStatus.CRASHED, state
    assert state.attempt.pid == holder_pid
    assert state.attempt.reason
    raw = furu.StateManager(step.furu_dir).read_raw()
    assert raw is not None
    assert raw.attempt is not None
    assert raw.attempt.status is furu.AttemptStatus.RUNNING  # the file says running; it healed
    assert not (step.furu_dir / ".furu" / "SUCCESS.json").exists()


def _assert_recovered(step: furu_steps.Counted, out: dict[str, Any], pid: int) -> None:
    assert out["results"] == [f"{step.name} made by pid {pid}"]
    assert (
        len(Path(step.counter_path).read_text().splitlines()) == 2
    )  # the killed attempt, and exactly one more
    state = step.get_state()
    assert state.result_status is furu.ResultStatus.SUCCESS
    assert state.attempt is not None
    assert state.attempt.status is furu.AttemptStatus.SUCCESS
    assert state.attempt.pid == pid
    assert state.attempt.number == 2
    assert state.attempts == 2
    assert not (step.furu_dir / ".furu" / "compute.lock").exists()


@pytest.mark.timeout(120)
def test_kill_9_of_the_holder_then_a_new_process_recovers(store: Store) -> None:
    spec, step = _start_holder(store, "killed")
    holder = store.start({"step": spec}, name="holder")
    wait_until(
        lambda: Path(step.started_path).exists(), what="the holder in _create", procs=[holder]
    )

    os.kill(holder.pid, signal.SIGKILL)
    assert holder.wait() == -signal.SIGKILL
    assert (step.furu_dir / ".furu" / "compute.lock").exists()  # nobody cleaned up
    _assert_crashed_now(step, holder.pid)

    furu_steps.write_marker(step.release_path, "go")
    recoverer = store.start({"step": spec}, name="recoverer")
    _assert_recovered(step, recoverer.ok(), recoverer.pid)


@pytest.mark.timeout(120)
def test_kill_9_of_the_holder_while_another_process_waits_for_it(store: Store) -> None:
    spec, step = _start_holder(store, "killed-waited")
    holder = store.start({"step": spec}, name="holder")
    wait_until(
        lambda: Path(step.started_path).exists(), what="the holder in _create", procs=[holder]
    )
    waiter = store.start({"step": spec}, name="waiter", FURU_WAIT_LOG_EVERY_SECS="0.05")
    wait_until(
        lambda: "waiting for" in waiter.stderr,
        what="the waiter to report whom it waits for",
        procs=[waiter, holder],
    )
    assert f":{holder.pid} (attempt" in waiter.stderr

    os.kill(holder.pid, signal.SIGKILL)
    assert holder.wait() == -signal.SIGKILL
    furu_steps.write_marker(step.release_path, "go")  # lets the waiter's own attempt finish

    out = waiter.ok()
    _assert_recovered(step, out, waiter.pid)
    assert "breaking the lock" in waiter.stderr

"""Leases: a waiter keeps waiting while the holder lives, and breaks a lock whose lease expired."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import furu
import furu_steps
from furu_harness import Store, furu_config, wait_until


@pytest.mark.timeout(120)
def test_waiter_outlives_a_short_lease_while_the_holder_is_alive(store: Store) -> None:
    started = store.path("holder.started")
    spec = store.counted("long", sleep_secs=4.0, started_path=started)
    holder = store.start({"step": spec}, name="holder", FURU_LEASE_SECS="1")
    wait_until(lambda: Path(started).exists(), what="the holder to enter _create", procs=[holder])

    waiter = store.start({"step": spec}, name="waiter", FURU_LEASE_SECS="1")

    holder_out, waiter_out = holder.ok(), waiter.ok()
    assert waiter_out["results"] == holder_out["results"]
    assert holder_out["results"][0] == f"long made by pid {holder.pid}"
    assert store.count(spec["kwargs"]["counter_path"]) == 1
    assert "lost the compute lock" not in holder.stderr + waiter.stderr
    state = furu.StateManager(Path(holder_out["furu_dir"])).read()
    assert state.attempts == 1
    assert state.attempt is not None
    assert state.attempt.pid == holder.pid


def _foreign_lock(lease_secs: float) -> dict[str, Any]:
    """A lock as another host's process writes it (see furu/_lock.py)."""
    return {
        "host": "another-node.invalid",
        "pid": 4242,
        "pid_start": "12345",
        "attempt_id": "f" * 32,
        "job_id": "777",
        "lease_secs": lease_secs,
        "created_at": time.time(),
    }


@pytest.mark.timeout(60)
def test_lock_of_another_host_is_honoured_while_fresh_and_broken_after_its_lease(
    store: Store,
) -> None:
    lease = 2.0
    step = furu_steps.Counted(name="foreign", counter_path=store.path("foreign.count"))
    lock_path = step.furu_dir / ".furu" / "compute.lock"
    lock_path.parent.mkdir(parents=True)
    lock_path.write_text(json.dumps(_foreign_lock(lease)))
    outcome: dict[str, Any] = {}

    def wait_for_it() -> None:
        try:
            outcome["result"] = step.load_or_create()
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            outcome["finished_at"] = time.monotonic()

    with furu_config(lease_secs=lease, wait_log_every=0.5):
        waiter = threading.Thread(target=wait_for_it, name="foreign-lock-waiter")
        waiter.start()
        try:
            # The other host's heartbeat: keep the lease fresh for several lease lengths.
            heartbeat_until = time.monotonic() + 2.5 * lease
            while time.monotonic() < heartbeat_until:
                os.utime(lock_path)
                assert waiter.is_alive(), outcome
                assert store.count(step.counter_path) == 0
                time.sleep(0.05)
            assert lock_path.exists()
            # The other host dies: no more heartbeats. The waiter breaks the lock and computes.
            last_beat = time.monotonic()
        finally:
            waiter.join(timeout=45)
    assert not waiter.is_alive(), "the waiter never broke the expired lock"
    assert "error" not in outcome, outcome
    assert outcome["result"] == f"foreign made by pid {os.getpid()}"
    assert outcome["finished_at"] - last_beat >= lease * 0.9  # not before the lease expired
    assert store.count(step.counter_path) == 1
    assert not lock_path.exists()
    state = step.get_state()
    assert state.result_status is furu.ResultStatus.SUCCESS
    assert state.attempt is not None
    assert state.attempt.status is furu.AttemptStatus.SUCCESS

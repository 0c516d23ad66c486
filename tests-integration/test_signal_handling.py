"""SIGTERM and SIGINT of the process inside `_create`: recorded, released, retried next time."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest

import furu
import furu_steps
from furu_harness import Proc, Store, wait_until


def _interrupt_holder(store: Store, name: str, signum: int) -> tuple[dict[str, Any], Proc]:
    """Start a holder, send it `signum` inside `_create`; return the step's spec and the holder."""
    spec = store.counted(
        name, started_path=store.path(f"{name}.started"), release_path=store.path(f"{name}.go")
    )
    step = furu_steps.Counted(**spec["kwargs"])
    holder = store.start({"step": spec}, name=f"{name}-holder")
    wait_until(
        lambda: Path(step.started_path).exists(), what="the holder in _create", procs=[holder]
    )
    os.kill(holder.pid, signum)
    holder.wait()
    assert holder.stdout.strip() == "", holder.describe()  # it never finished
    return spec, holder


def _assert_released_and_recorded(
    step: furu_steps.Counted, status: furu.AttemptStatus, reason: str
) -> None:
    meta = step.furu_dir / ".furu"
    assert not (meta / "compute.lock").exists()
    assert not (meta / "SUCCESS.json").exists()
    raw = furu.StateManager(step.furu_dir).read_raw()  # as written by the holder, not healed
    assert raw is not None
    assert raw.attempt is not None
    assert raw.result_status is furu.ResultStatus.INCOMPLETE
    assert raw.attempt.status is status
    assert raw.attempt.reason == reason
    assert raw.attempt.ended_at is not None
    assert step.get_state().attempt == raw.attempt
    assert f"load_or_create Counted {step._furu_hash[:9]} {status.value}" in (
        (meta / "furu.log").read_text()
    )


def _assert_later_call_recomputes(store: Store, spec: dict[str, Any]) -> None:
    step = furu_steps.Counted(**spec["kwargs"])
    furu_steps.write_marker(step.release_path, "go")
    out = store.start({"step": spec}, name="retry")
    result = out.ok()
    assert result["furu_dir"] == str(step.furu_dir)
    assert result["results"] == [f"{step.name} made by pid {out.pid}"]
    assert store.count(step.counter_path) == 2
    state = step.get_state()
    assert state.result_status is furu.ResultStatus.SUCCESS
    assert state.attempts == 2


@pytest.mark.timeout(120)
def test_sigterm_in_create_records_preempted_releases_and_dies_of_sigterm(store: Store) -> None:
    spec, holder = _interrupt_holder(store, "terminated", signal.SIGTERM)

    assert holder.popen.returncode == -signal.SIGTERM, holder.describe()
    step = furu_steps.Counted(**spec["kwargs"])
    _assert_released_and_recorded(step, furu.AttemptStatus.PREEMPTED, "SIGTERM")
    _assert_later_call_recomputes(store, spec)


@pytest.mark.timeout(120)
def test_sigint_in_create_records_cancelled_and_releases(store: Store) -> None:
    spec, holder = _interrupt_holder(store, "interrupted", signal.SIGINT)

    # An uncaught KeyboardInterrupt makes Python exit "killed by SIGINT".
    assert holder.popen.returncode == -signal.SIGINT, holder.describe()
    assert "KeyboardInterrupt" in holder.stderr
    step = furu_steps.Counted(**spec["kwargs"])
    _assert_released_and_recorded(step, furu.AttemptStatus.CANCELLED, "SIGINT")
    _assert_later_call_recomputes(store, spec)

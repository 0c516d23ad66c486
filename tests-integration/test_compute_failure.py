"""A `_create` that raises: recorded, reported to waiters without retrying, retried next call."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

import furu
import furu_steps
from furu_harness import Store, wait_until


@pytest.mark.timeout(60)
def test_failed_create_is_recorded_and_the_next_call_retries(store: Store) -> None:
    flag = Path(store.path("fail.flag"))
    flag.write_text("fail")
    step = furu_steps.Counted(
        name="flaky", counter_path=store.path("flaky.count"), fail_flag=str(flag)
    )
    meta = step.furu_dir / ".furu"

    with pytest.raises(furu.FuruComputeError) as info:
        step.load_or_create()

    err = info.value
    assert err.state_path == meta / "state.json"
    assert isinstance(err.original_error, ValueError)
    assert str(err.original_error) == f"flaky was told to fail by {flag}"
    assert err.__cause__ is err.original_error
    assert "ValueError" in str(err)
    assert str(meta / "state.json") in str(err)
    assert "ValueError" in err.traceback_text
    assert not (meta / "SUCCESS.json").exists()
    assert not (meta / "compute.lock").exists()
    state = step.get_state()
    assert state.result_status is furu.ResultStatus.FAILED
    assert state.attempt is not None
    assert state.attempt.status is furu.AttemptStatus.FAILED
    assert state.attempt.error is not None
    assert state.attempt.error["type"] == "builtins.ValueError"
    assert "Traceback (most recent call last)" in state.attempt.error["traceback"]
    assert "was told to fail" in state.attempt.error["traceback"]
    log = (meta / "furu.log").read_text()
    assert "Traceback (most recent call last)" in log
    assert "ValueError: flaky was told to fail" in log

    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is furu.FuruComputeError
    assert str(copy) == str(err)
    assert copy.state_path == err.state_path
    assert type(copy.original_error) is ValueError
    assert copy.original_error.args == err.original_error.args
    assert copy.traceback_text == err.traceback_text

    flag.unlink()
    assert step.load_or_create() == f"flaky made by pid {os.getpid()}"
    assert store.count(step.counter_path) == 2
    state = step.get_state()
    assert state.result_status is furu.ResultStatus.SUCCESS
    assert state.attempts == 2
    assert state.attempt is not None
    assert state.attempt.error is None


@pytest.mark.timeout(120)
def test_a_waiter_reports_the_failure_it_waited_for_instead_of_recomputing(store: Store) -> None:
    flag = Path(store.path("fail.flag"))
    flag.write_text("fail")
    spec = store.counted(
        "shared-failure",
        started_path=store.path("holder.started"),
        release_path=store.path("holder.go"),
        fail_flag=str(flag),
    )
    holder = store.start({"step": spec}, name="holder")
    wait_until(
        lambda: Path(spec["kwargs"]["started_path"]).exists(),
        what="the holder in _create",
        procs=[holder],
    )
    waiter = store.start({"step": spec}, name="waiter", FURU_WAIT_LOG_EVERY_SECS="0.05")
    wait_until(
        lambda: "waiting for" in waiter.stderr,
        what="the waiter to wait for the holder",
        procs=[waiter, holder],
    )
    furu_steps.write_marker(spec["kwargs"]["release_path"], "go")

    held, waited = holder.result(), waiter.result()

    assert holder.popen.returncode == 3
    assert waiter.popen.returncode == 3
    assert held["error_type"] == waited["error_type"] == "FuruComputeError"
    assert held["original_type"] == "ValueError"
    assert waited["original_type"] == "FuruRemoteError"
    assert waited["original_type_name"] == "builtins.ValueError"
    assert f":{holder.pid} (attempt" in waited["message"]
    assert "shared-failure was told to fail" in waited["message"]
    assert waited["state_path"] == held["state_path"]
    assert store.count(spec["kwargs"]["counter_path"]) == 1  # the waiter did not retry

    flag.unlink()
    retry = store.start({"step": spec}, name="retry")
    assert retry.ok()["results"] == [f"shared-failure made by pid {retry.pid}"]
    assert store.count(spec["kwargs"]["counter_path"]) == 2

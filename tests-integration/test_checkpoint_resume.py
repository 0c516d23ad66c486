"""A long `_create` that saves its progress resumes from it in the next attempt, locally.

Each test stops a real process counting to 10 at unit 4, the way a laptop or a node stops one:
SIGTERM (preemption; the step's `_checkpoint()` runs first), `kill -9` (a crash; the next
process breaks the dead holder's lock), and `_create` raising (a retry). The next process
resumes at 4: every unit of work is done exactly once across the attempts.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

import furu
from checkpoint_steps import CountTo, lines
from furu_harness import Proc, Store, wait_until

N = 10
ALL_UNITS = [str(i) for i in range(1, N + 1)]


def _step(store: Store, **fields: int) -> CountTo:
    control = store.dir / "control"
    control.mkdir(exist_ok=True)
    return CountTo(n=N, control=str(control), **fields)


def _run(store: Store, step: CountTo, name: str) -> Proc:
    code = (
        "import json, checkpoint_steps as s\n"
        f"step = s.CountTo(n={step.n}, control={step.control!r}, save_every={step.save_every})\n"
        "print(json.dumps({'result': step.load_or_create()}))\n"
    )
    return store.start_code(code, name=name)


def _control(step: CountTo, name: str) -> Path:
    return Path(step.control) / name


def _stop_at_unit_4(store: Store, step: CountTo, signum: int) -> Proc:
    _control(step, "pause-at").write_text("4\n")
    holder = _run(store, step, "holder")
    wait_until(
        lambda: lines(_control(step, "paused")) == ["4"],
        what="the holder paused at unit 4",
        procs=[holder],
    )
    os.kill(holder.pid, signum)
    assert holder.wait() == -signum, holder.describe()
    _control(step, "pause-at").unlink()
    return holder


def _assert_resumed_at_4(store: Store, step: CountTo) -> Proc:
    resumer = _run(store, step, "resumer")
    assert resumer.wait() == 0, resumer.describe()
    assert json.loads(resumer.stdout.splitlines()[-1]) == {"result": N}
    assert lines(_control(step, "starts")) == ["0", "4"]
    assert lines(_control(step, "units")) == ALL_UNITS  # nothing done twice, nothing skipped
    assert "resuming from the files of attempt" in resumer.stderr
    state = step.get_state()
    assert state.result_status is furu.ResultStatus.SUCCESS
    assert state.attempts == 2
    assert state.attempt is not None
    assert state.attempt.pid == resumer.pid
    where = furu.step_dir(step)
    assert json.loads((where.path / "progress.json").read_text()) == {"count": N}
    assert not (where.meta_dir / "attempts").exists()  # published: no staging left
    assert step.load_existing() == N
    return resumer


@pytest.mark.timeout(120)
def test_sigterm_checkpoints_then_the_next_attempt_resumes(store: Store) -> None:
    # Saving only every 3 units, the files say 3 at unit 4: only _checkpoint() saves the 4th.
    step = _step(store, save_every=3)
    holder = _stop_at_unit_4(store, step, signal.SIGTERM)
    assert lines(_control(step, "checkpointed")) == ["4"]
    raw = furu.StateManager(furu.step_dir(step).path).read_raw()
    assert raw is not None
    assert raw.attempt is not None
    assert raw.attempt.status is furu.AttemptStatus.PREEMPTED
    assert raw.attempt.pid == holder.pid
    assert raw.attempt.reason == "SIGTERM"
    _assert_resumed_at_4(store, step)


@pytest.mark.timeout(120)
def test_kill_9_then_a_new_process_breaks_the_lock_and_resumes(store: Store) -> None:
    step = _step(store)
    holder = _stop_at_unit_4(store, step, signal.SIGKILL)
    assert lines(_control(step, "checkpointed")) == []  # nothing runs after kill -9
    assert (furu.step_dir(step).meta_dir / "compute.lock").exists()  # nobody released it
    state = step.get_state()
    assert state.attempt is not None
    assert state.attempt.status is furu.AttemptStatus.CRASHED
    assert state.attempt.pid == holder.pid
    resumer = _assert_resumed_at_4(store, step)
    assert "breaking the lock" in resumer.stderr


@pytest.mark.timeout(120)
def test_a_retry_after_create_raised_resumes(store: Store) -> None:
    step = _step(store)
    _control(step, "fail-at").write_text("4\n")
    failed = _run(store, step, "failed")
    assert failed.wait() == 1, failed.describe()
    assert "RuntimeError: unit 4 failed" in failed.stderr
    state = step.get_state()
    assert state.result_status is furu.ResultStatus.FAILED
    assert state.attempt is not None
    assert state.attempt.status is furu.AttemptStatus.FAILED
    _assert_resumed_at_4(store, step)

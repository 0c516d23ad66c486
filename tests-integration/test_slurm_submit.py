"""One step on the real cluster: `load_or_create(executor=...)` submits, returns, records the job."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import submitit

import furu
import furu_slurm
from slurm.fixtures import SlurmEnv, wait_for
from slurm_steps import Square, lines


def _state(step: furu.Furu[object]) -> dict[str, object]:
    return json.loads((step.furu_dir / ".furu" / "state.json").read_text(encoding="utf-8"))


def _add(a: int, b: int) -> int:
    return a + b


@pytest.mark.timeout(60)
def test_plain_submitit_runs_on_the_cluster(slurm: SlurmEnv) -> None:
    executor = submitit.AutoExecutor(folder=slurm.path("plain"))
    assert executor.cluster == "slurm"
    executor.update_parameters(slurm_partition="debug", timeout_min=5)
    assert executor.submit(_add, 2, 40).result() == 42


@pytest.mark.timeout(90)
def test_raw_submitit_executor_submits_and_records_the_job(slurm: SlurmEnv) -> None:
    executor = submitit.AutoExecutor(folder=slurm.path("jobs"))
    executor.update_parameters(slurm_partition="debug", timeout_min=5)
    step = Square(x=7, log_path=slurm.path("square.log"))

    started = time.monotonic()
    job = step.load_or_create(executor=executor)
    assert time.monotonic() - started < 5  # returns at once, without waiting for the job
    assert isinstance(job, furu_slurm.StepJob)
    assert job.submitted
    assert job.job_id

    queued = _state(step)["attempt"]
    assert isinstance(queued, dict)
    assert queued["backend"] == "submitit"
    assert queued["scheduler"]["job_id"] == job.job_id
    assert queued["scheduler"]["partition"] == "debug"
    assert queued["status"] in ("queued", "running", "success")

    assert job.result(timeout=60) == 49
    state = _state(step)
    attempt = state["attempt"]
    assert isinstance(attempt, dict)
    assert state["result_status"] == "success"
    assert attempt["status"] == "success"
    assert attempt["backend"] == "submitit"
    assert attempt["scheduler"]["job_id"] == job.job_id
    assert attempt["scheduler"]["node"]
    assert attempt["scheduler"]["partition"] == "debug"
    assert len(lines(slurm.path("square.log"))) == 1

    log = (step.furu_dir / ".furu" / "furu.log").read_text(encoding="utf-8")
    assert f"slurm job {job.job_id}" in log
    assert str(job.stdout_path) in log
    assert "squaring 7" in log  # the step's own logging still lands in furu.log
    assert job.stdout_path is not None
    assert Path(job.stdout_path).exists()
    assert job.stderr_path is not None
    assert Path(job.stderr_path).exists()


@pytest.mark.timeout(90)
def test_a_done_step_submits_nothing_and_a_queued_one_is_not_submitted_twice(
    slurm: SlurmEnv,
) -> None:
    executor = slurm.executor()
    step = Square(x=3, log_path=slurm.path("square.log"), sleep_secs=3)
    first = step.load_or_create(executor=executor)
    second = step.load_or_create(executor=executor)  # while the first is queued or running
    assert first.submitted
    assert not second.submitted
    assert second.job_id == first.job_id

    assert second.result(timeout=60) == 9
    assert first.result(timeout=60) == 9
    third = step.load_or_create(executor=executor)
    assert third.job_id is None
    assert not third.submitted
    assert third.state == "done"
    assert third.result() == 9
    assert len(lines(slurm.path("square.log"))) == 1
    assert wait_for(lambda: not slurm.own_jobs(), what="the queue to empty", timeout=30)

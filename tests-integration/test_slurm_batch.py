"""Many steps on the real cluster: arrays, dependencies, failures and cancellation."""

from __future__ import annotations

import json
import threading

import pytest

import furu
import furu_slurm
from furu_slurm._scheduler import Scheduler
from slurm.fixtures import SlurmEnv, sh, wait_for
from slurm_steps import After, Broken, Dataset, Hold, Square, Train, lines


def _events(path: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in lines(path)]


def _attempt(step: furu.Furu[object]) -> dict[str, object]:
    state = json.loads((step.furu_dir / ".furu" / "state.json").read_text(encoding="utf-8"))
    attempt = state["attempt"]
    assert isinstance(attempt, dict)
    return attempt


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_sweep_over_a_shared_dependency_runs_as_one_array_after_it(slurm: SlurmEnv) -> None:
    log = slurm.path("events.log")
    dataset = Dataset(name="shared", log_path=log, sleep_secs=2)
    sweep = [Train(dataset=dataset, i=i, log_path=log) for i in range(20)]
    executor = slurm.executor()

    before = Scheduler.calls["sbatch"]
    results = furu.load_or_create_many(sweep, executor=executor, progress=False)

    assert results == [i * i for i in range(20)]
    assert Scheduler.calls["sbatch"] - before == 2  # the dependency, then one array of 20
    events = _events(log)
    assert [e["event"] for e in events].count("dataset-start") == 1
    trains = [e for e in events if e["event"] == "train"]
    assert len(trains) == 20
    assert all(e["ready"] for e in trains)
    dataset_end = next(e["t"] for e in events if e["event"] == "dataset-end")
    assert all(float(e["t"]) >= float(dataset_end) for e in trains)  # type: ignore[arg-type]
    arrays = {e["array"] for e in trains}
    assert len(arrays) == 1
    assert None not in arrays
    assert {e["task"] for e in trains} == {str(i) for i in range(20)}
    attempt = _attempt(sweep[5])
    assert attempt["status"] == "success"
    assert attempt["backend"] == "submitit"
    assert attempt["scheduler"]["array_job_id"] == next(iter(arrays))


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_a_failed_step_skips_its_dependents_and_says_so(slurm: SlurmEnv) -> None:
    log = slurm.path("events.log")
    broken = Broken(name="upstream")
    dependents = [After(upstream=broken, tag=i, log_path=log) for i in range(3)]
    unrelated = Square(x=4, log_path=log)
    executor = slurm.executor()

    with pytest.raises(furu.FuruBatchError) as caught:
        furu.load_or_create_many([*dependents, unrelated], executor=executor, progress=False)

    err = caught.value
    assert [name for name, _ in err.failures] == [furu.step_id(broken).short]
    assert "broken on purpose: upstream" in str(err)
    assert sorted(err.skipped) == sorted(furu.step_id(d).short for d in dependents)
    assert f"dependency {furu.step_id(broken).short} did not succeed" in str(err)
    assert unrelated.exists()
    assert unrelated.load_or_create() == 16
    assert not any(e["event"] == "after" for e in _events(log))  # never started
    for dep in dependents:
        attempt = _attempt(dep)
        assert attempt["status"] == "cancelled"
        assert furu.step_id(broken).short in str(attempt["reason"])
    assert _attempt(broken)["status"] == "failed"
    wait_for(lambda: not slurm.own_jobs(), what="the dependents' jobs to leave the queue")


@pytest.mark.timeout(120)
def test_cancelling_a_submitted_step_cancels_its_job_and_records_it(slurm: SlurmEnv) -> None:
    started = slurm.path("started")
    hold = Hold(name="long", started_path=started, release_path=slurm.path("never"))
    job = hold.load_or_create(executor=slurm.executor())
    wait_for(lambda: lines(started), what="the step to start on the node")
    assert job.cancel()

    wait_for(lambda: not slurm.own_jobs(), what="the job to leave the queue", timeout=30)
    assert job.state == "failed"
    with pytest.raises(furu_slurm.SlurmJobError, match="cancelled"):
        job.result(timeout=30)
    attempt = _attempt(hold)
    assert attempt["status"] in ("cancelled", "running", "crashed")
    assert not hold.exists()


@pytest.mark.timeout(120)
def test_a_job_cancelled_in_slurm_is_reported_failed_with_its_state(slurm: SlurmEnv) -> None:
    started = slurm.path("started")
    hold = Hold(name="victim", started_path=started, release_path=slurm.path("never"))
    after = After(upstream=hold, tag=1, log_path=slurm.path("events.log"))
    batch = furu_slurm.submit_many([after], executor=slurm.executor())
    assert batch.sbatch_calls == 2
    wait_for(lambda: lines(started), what="the step to start on the node")
    sh("scancel", *[j for j in batch.job_ids if j != batch.tracked[1].job_id])

    counts = batch.wait(timeout=60, progress=False)
    assert counts == {"queued": 0, "running": 0, "done": 0, "failed": 1, "skipped": 1}
    errors = dict(batch.errors())
    assert "cancelled in SLURM" in str(errors[furu.step_id(hold).short])
    assert _attempt(hold)["status"] == "cancelled"
    assert _attempt(after)["status"] == "cancelled"
    assert lines(slurm.path("events.log")) == []


@pytest.mark.timeout(120)
def test_interrupting_a_wait_cancels_the_batch_jobs(slurm: SlurmEnv) -> None:
    started = slurm.path("started")
    steps = [
        Hold(name=f"h{i}", started_path=started, release_path=slurm.path("never")) for i in range(3)
    ]
    batch = furu_slurm.submit_many(steps, executor=slurm.executor())
    wait_for(lambda: slurm.own_jobs(), what="the jobs to be queued")
    timer = threading.Timer(1.0, lambda: _interrupt_main())
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        batch.wait(timeout=60, progress=True)
    wait_for(lambda: not slurm.own_jobs(), what="the jobs to be cancelled", timeout=30)
    assert batch.counts()["failed"] == 3


def _interrupt_main() -> None:
    import _thread

    _thread.interrupt_main()


@pytest.mark.timeout(120)
def test_reconcile_records_a_job_cancelled_while_nobody_watched(slurm: SlurmEnv) -> None:
    later = Square(x=7, log_path=slurm.path("events.log"))
    runs = Square(x=8, log_path=slurm.path("events.log"))
    ex = slurm.executor(sbatch_args={"begin": "now+1hour"})  # pending until cancelled
    batch = furu_slurm.submit_many([later], executor=ex)  # and nobody waits for it
    job = batch.tracked[0].job_id
    assert job
    assert _attempt(later)["status"] == "queued"
    furu_slurm.submit_many([runs], executor=slurm.executor()).wait(timeout=60, progress=False)
    sh("scancel", job)
    wait_for(
        lambda: "CANCELLED" in sh("sacct", "-n", "-X", "-P", "-o", "State", "-j", job),
        what="sacct to list the job as cancelled",
    )

    rows = {r.job_id: r for r in furu_slurm.reconcile()}
    assert rows[job].scheduler_state == "CANCELLED"
    assert rows[job].now == "cancelled"
    assert _attempt(later)["status"] == "cancelled"
    assert "nobody was watching" in str(_attempt(later)["reason"])
    assert _attempt(runs)["status"] == "success"  # a finished step is not an open attempt
    again = furu_slurm.submit_many([later], executor=slurm.executor())
    assert again.sbatch_calls == 1
    assert again.wait(timeout=60, progress=False)["done"] == 1
    assert later.load_or_create() == 49

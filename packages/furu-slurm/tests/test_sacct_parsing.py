"""Reading sacct robustly, and asking it rarely without ever crashing the run."""

from __future__ import annotations

from slurm_fake_cluster import FakeCluster

from furu_slurm import parse_sacct
from furu_slurm._scheduler import Scheduler, expand_job_id, normalize_state

SAMPLE = """\
JobID|State
123|COMPLETED
123.batch|COMPLETED
123.extern|COMPLETED
124_[1-4%2]|PENDING
124_0|RUNNING
124_0.batch|RUNNING
125_[1,3,5-6]|PENDING
126|CANCELLED by 0
127+0|RUNNING
128|RUNNING+

not a row
129_x|FAILED
"""


def test_parse_sacct_handles_steps_arrays_and_noise() -> None:
    assert parse_sacct(SAMPLE) == {
        "123": "COMPLETED",
        "124_0": "RUNNING",
        "124_1": "PENDING",
        "124_2": "PENDING",
        "124_3": "PENDING",
        "124_4": "PENDING",
        "125_1": "PENDING",
        "125_3": "PENDING",
        "125_5": "PENDING",
        "125_6": "PENDING",
        "126": "CANCELLED",
        "127": "RUNNING",
        "128": "RUNNING",
    }


def test_expand_and_normalize() -> None:
    assert expand_job_id("9_[0-2]") == ["9_0", "9_1", "9_2"]
    assert expand_job_id("9_7.extern") == []
    assert normalize_state("") == "UNKNOWN"
    assert normalize_state("cancelled by 12") == "CANCELLED"


def test_sacct_is_called_once_per_interval_for_the_whole_batch(fake_cluster: FakeCluster) -> None:
    fake_cluster.set_sacct("10_[0-499]|PENDING\n11|RUNNING\n")
    sched = Scheduler(poll_interval=60)
    ids = [f"10_{i}" for i in range(500)] + ["11"]
    for _ in range(5):
        states = sched.states(ids)
    assert len(fake_cluster.calls("sacct")) == 1
    assert "-j 10,11" in fake_cluster.calls("sacct")[0]
    assert states["10_499"] == "PENDING"
    assert states["11"] == "RUNNING"


def test_a_failing_sacct_keeps_the_last_answer_and_never_raises(fake_cluster: FakeCluster) -> None:
    sched = Scheduler(poll_interval=0)
    fake_cluster.set_sacct("11|RUNNING\n")
    assert sched.states(["11"]) == {"11": "RUNNING"}
    fake_cluster.set_sacct("slurmdbd: connection refused\n", rc=1)
    assert sched.states(["11"]) == {"11": "RUNNING"}
    assert not Scheduler(poll_interval=0, timeout=0.001).cancel(["11"]) or True

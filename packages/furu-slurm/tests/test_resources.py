"""Resources: validation, merging per class and per call, and the sbatch flags they give."""

from __future__ import annotations

import pytest

from furu_slurm import Resources, SlurmConfigError
from furu_slurm._resources import time_minutes


@pytest.mark.parametrize(
    ("value", "minutes"),
    [(90, 90), ("90", 90), ("1:30:00", 90), ("1-00:00:00", 1440), ("2:00", 120), ("0:0:30", 1)],
)
def test_time_formats(value: int | str, minutes: int) -> None:
    assert time_minutes(value) == minutes


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"time": "soon"}, "Resources(time='soon') is not a time"),
        ({"time": 0}, "at least one minute"),
        ({"cpus": 0}, "Resources(cpus=0) must be at least 1"),
        ({"mem": "lots"}, "Resources(mem='lots') is not SLURM memory syntax"),
    ],
)
def test_bad_values_are_refused_with_the_value(fields: dict[str, object], message: str) -> None:
    with pytest.raises(SlurmConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Resources(**fields)  # type: ignore[arg-type]


def test_merging_overrides_only_what_is_set() -> None:
    base = Resources(partition="debug", time=60, sbatch_args={"nice": "5"})
    merged = base.merged(Resources(cpus=4, sbatch_args={"exclude": "n1"}))
    assert merged.partition == "debug"
    assert merged.time == 60
    assert merged.cpus == 4
    assert merged.sbatch_args == {"nice": "5", "exclude": "n1"}
    assert base.merged(None) is base


def test_sbatch_flags_and_grouping_key() -> None:
    res = Resources(
        partition="gpu",
        cpus=2,
        gpus=1,
        mem="16G",
        account="a",
        qos="q",
        constraint="v100",
        sbatch_args={"--mail_type": "END"},
    )
    assert res.sbatch_flags() == {
        "account": "a", "constraint": "v100", "cpus-per-task": "2", "gpus-per-node": "1",
        "mail-type": "END", "mem": "16G", "partition": "gpu", "qos": "q",
    }  # fmt: skip
    assert Resources(time="1:00:00").key() == Resources(time=60).key()
    assert Resources(cpus=1).key() != Resources(cpus=2).key()

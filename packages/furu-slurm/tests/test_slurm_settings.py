"""`furu_slurm.SLURM_CONFIG`: the scheduler settings furu-core no longer holds, same variables."""

from __future__ import annotations

import os

import pytest

import furu
import furu_slurm
from furu_slurm import SlurmConfig


@pytest.fixture(autouse=True)
def no_furu_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove every FURU_* variable, so `SlurmConfig.from_env()` sees only what a test sets."""
    for key in [k for k in os.environ if k.startswith("FURU_")]:
        monkeypatch.delenv(key)


def test_defaults_without_any_variable() -> None:
    config = SlurmConfig.from_env()
    assert config.poll_interval == 10.0
    assert config.preempt_max == 5
    assert config.cancelled_is_preempted is False
    assert config == SlurmConfig()


def test_every_variable_is_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FURU_POLL_INTERVAL_SECS", "2.5")
    monkeypatch.setenv("FURU_PREEMPT_MAX", "9")
    monkeypatch.setenv("FURU_CANCELLED_IS_PREEMPTED", " On ")
    config = SlurmConfig.from_env()
    assert config == SlurmConfig(poll_interval=2.5, preempt_max=9, cancelled_is_preempted=True)


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("FURU_CANCELLED_IS_PREEMPTED", "x", "FURU_CANCELLED_IS_PREEMPTED='x' is not a boolean"),
        (
            "FURU_POLL_INTERVAL_SECS",
            "-1",
            "FURU_POLL_INTERVAL_SECS='-1' must be a finite number of at least 0.01",
        ),
        ("FURU_POLL_INTERVAL_SECS", "nan", "FURU_POLL_INTERVAL_SECS='nan' must be a finite"),
        ("FURU_POLL_INTERVAL_SECS", "often", "FURU_POLL_INTERVAL_SECS='often' is not a number"),
        ("FURU_PREEMPT_MAX", "five", "FURU_PREEMPT_MAX='five' is not a whole number"),
        ("FURU_PREEMPT_MAX", "-1", "FURU_PREEMPT_MAX='-1' must not be negative"),
    ],
)
def test_bad_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(furu_slurm.SlurmConfigError) as info:
        SlurmConfig.from_env()
    assert expected in str(info.value)
    assert isinstance(info.value, furu.FuruConfigError)  # caught with furu's own settings errors


def test_bad_values_say_how_to_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FURU_POLL_INTERVAL_SECS", "soon")
    with pytest.raises(furu_slurm.SlurmConfigError, match="Set FURU_POLL_INTERVAL_SECS to a num"):
        SlurmConfig.from_env()
    monkeypatch.setenv("FURU_POLL_INTERVAL_SECS", "")
    monkeypatch.setenv("FURU_CANCELLED_IS_PREEMPTED", "maybe")
    with pytest.raises(furu_slurm.SlurmConfigError, match="one of 1/true/yes/on or 0/false"):
        SlurmConfig.from_env()


def test_empty_numbers_mean_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FURU_PREEMPT_MAX", " ")
    monkeypatch.setenv("FURU_POLL_INTERVAL_SECS", "")
    assert SlurmConfig.from_env() == SlurmConfig()


def test_reload_rereads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FURU_POLL_INTERVAL_SECS", "7")
    monkeypatch.setenv("FURU_PREEMPT_MAX", "2")
    furu_slurm.SLURM_CONFIG.reload()
    assert furu_slurm.SLURM_CONFIG.poll_interval == 7.0
    assert furu_slurm.SLURM_CONFIG.preempt_max == 2


def test_adopt_takes_known_fields_and_ignores_others() -> None:
    config = SlurmConfig()
    config.adopt({"preempt_max": 3, "from_a_newer_version": True})
    assert config == SlurmConfig(preempt_max=3)
    assert config.as_dict() == {
        "poll_interval": 10.0,
        "preempt_max": 3,
        "cancelled_is_preempted": False,
    }


def test_the_executor_polls_as_often_as_the_setting_says(tmp_path) -> None:
    furu_slurm.SLURM_CONFIG.poll_interval = 3.0
    assert furu_slurm.SlurmExecutor(folder=tmp_path).poll_interval == 3.0
    assert furu_slurm.SlurmExecutor(folder=tmp_path, poll_interval=0.5).poll_interval == 0.5

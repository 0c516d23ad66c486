"""Integers beyond Python's int-to-decimal limit (4,300 digits by default) in a config: the step
is hashed, recorded, rebuilt and rendered like any other; and nothing that fails between
recording an attempt and `_create` leaves that attempt "running"."""

from __future__ import annotations

import json
import sys

import core_test_steps as steps
import pytest

import furu
from furu import FuruConfigError
from furu._serialization import from_dict, to_dict, to_python

HUGE = 7 * 10**5000 + 1


def test_a_config_int_over_the_digit_limit_works_end_to_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    previous = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(4300)  # Python's default limit, whatever this process set
    try:
        _works_end_to_end()
    finally:
        sys.set_int_max_str_digits(previous)


def _works_end_to_end() -> None:
    step = steps.BigNumber(n=HUGE, more=(-HUGE, 3))
    assert step.load_or_create() == HUGE
    assert step.load_or_create() == HUGE  # and loads
    where = furu.step_dir(step)
    assert where.read_state().result_status is furu.ResultStatus.SUCCESS

    metadata = where.read_metadata()
    assert metadata is not None
    record = metadata["furu_obj"]
    assert record["n"] == {"__int__": hex(HUGE)}
    assert record["more"] == {"__tuple__": [{"__int__": hex(-HUGE)}, 3]}
    assert furu.Furu.from_dict(json.loads(json.dumps(record))) == step
    python = metadata["furu_python_def"]
    assert eval(python, {"BigNumber": steps.BigNumber}) == step
    rendered = furu.render_config(record)
    assert eval(rendered.expression, {"BigNumber": steps.BigNumber}) == step
    leaves = dict(furu.config_leaves(record))
    assert leaves["n"] == hex(HUGE)
    assert leaves["more.1"] == 3


def test_ints_below_the_limit_stay_plain_json() -> None:
    big_but_fine = 10**600
    assert to_dict(big_but_fine) == big_but_fine
    assert to_python(big_but_fine) == repr(big_but_fine)
    assert to_dict(10**640) == {"__int__": hex(10**640)}
    assert to_dict(True) is True


def test_a_damaged_int_tag_is_a_config_error() -> None:
    with pytest.raises(FuruConfigError, match="which is not a hexadecimal integer"):
        from_dict({"__int__": "0xg; import os"})
    with pytest.raises(FuruConfigError, match="which is not a hexadecimal integer"):
        furu.render_config({"__class__": "pkg:Step", "n": {"__int__": ["0x1"]}})


def test_a_config_that_cannot_be_described_leaves_no_attempt_behind() -> None:
    step = steps.HoldsLoudStr(text=steps.LoudStr("hashes fine"))
    with pytest.raises(RuntimeError, match="LoudStr has no repr"):
        step.load_or_create()
    where = furu.step_dir(step)
    assert where.read_raw_state() is None  # nothing recorded, not a "running" attempt
    assert not where.lock_path.exists()


def test_a_metadata_write_that_fails_ends_the_attempt() -> None:
    step = steps.Dataset(name="metadata cannot be written")
    where = furu.step_dir(step)
    where.metadata_path.mkdir(parents=True)  # os.replace cannot put a file over a directory
    with pytest.raises(furu.FuruStoreError, match="cannot write furu's files"):
        step.load_or_create()
    state = where.read_raw_state()
    assert state is not None
    assert state.attempt is not None
    assert state.attempt.status is furu.AttemptStatus.FAILED

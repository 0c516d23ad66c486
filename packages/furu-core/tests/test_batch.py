"""furu._batch and furu._executor: `load_or_create_many` on the inline and local executors."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import core_test_steps as steps
import pytest
from core_test_steps import CALLS

import furu
from furu import FuruBatchError, FuruComputeError, InlineExecutor, Job, LocalExecutor
from furu._batch import jobs_of


def test_results_in_the_order_asked() -> None:
    asked = [steps.Counted(value=3), steps.Counted(value=1), steps.Counted(value=2)]
    assert furu.load_or_create_many(asked, executor=InlineExecutor(), progress=False) == [6, 2, 4]
    assert CALLS["Counted"] == 3
    assert furu.load_or_create_many(asked, executor=InlineExecutor(), progress=False) == [6, 2, 4]
    assert CALLS["Counted"] == 3


def test_duplicates_and_dependencies_are_created_once() -> None:
    asked = [steps.Evaluate(), steps.TrainTextModel(), steps.Evaluate()]
    results = furu.load_or_create_many(asked, executor=InlineExecutor(), progress=False)
    assert results == [
        "evaluated trained on data toy",
        "trained on data toy",
        "evaluated trained on data toy",
    ]
    assert (CALLS["Evaluate"], CALLS["TrainTextModel"], CALLS["Dataset"]) == (1, 1, 1)


def test_cached_steps_are_only_loaded(caplog: pytest.LogCaptureFixture) -> None:
    steps.Counted(value=5).load_or_create()
    caplog.set_level(logging.INFO, logger="furu")
    result = furu.load_or_create_many(
        [steps.Counted(value=5), steps.Counted(value=6)], executor=InlineExecutor(), progress=False
    )
    assert result == [10, 12]
    assert CALLS["Counted"] == 2
    assert "plan: 1 to create, 1 cached" in caplog.messages
    assert f"created {steps.Counted(value=6)._furu_short()} (1/1)" in caplog.messages


def test_a_failure_stops_only_its_dependents() -> None:
    bad = steps.Failing(message="batch boom")
    dependent = steps.NeedsFailing(dep=bad)
    fine = steps.Counted(value=9)
    with pytest.raises(FuruBatchError) as info:
        furu.load_or_create_many([dependent, fine], executor=InlineExecutor(), progress=False)
    err = info.value
    assert fine.exists()
    assert not dependent.exists()
    assert CALLS["NeedsFailing"] == 0  # skipped, never started
    assert CALLS["Failing"] == 1
    assert [name for name, _ in err.failures] == [bad._furu_short()]
    failure = err.failures[0][1]
    assert isinstance(failure, FuruComputeError)
    assert isinstance(failure.original_error, ValueError)
    assert err.skipped == [dependent._furu_short()]
    assert str(err) == "\n".join(
        [
            "1 step(s) failed and 1 were skipped because a dependency failed; everything else "
            "was created:",
            f"  failed  {bad._furu_short()}: ValueError: batch boom",
            f"  skipped {dependent._furu_short()}: dependency {bad._furu_short()} did not succeed",
            "Fix the failures and call again: what succeeded is cached.",
        ]
    )


def test_skips_propagate_down_a_chain() -> None:
    bad = steps.Failing(message="chain")
    middle = steps.NeedsFailing(dep=bad)
    top = steps.Combine(parts=())  # independent
    with pytest.raises(FuruBatchError) as info:
        furu.load_or_create_many([middle, top, bad], executor=InlineExecutor(), progress=False)
    assert len(info.value.failures) == 1
    assert info.value.skipped == [middle._furu_short()]
    assert top.exists()


def test_dry_run_creates_nothing(furu_store: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="furu")
    furu.FURU_CONFIG.dry_run = True
    asked = [steps.Evaluate(), steps.Counted(value=1)]
    assert furu.load_or_create_many(asked, executor=InlineExecutor(), progress=False) == [
        None,
        None,
    ]
    assert CALLS == {}
    assert not furu_store.exists() or not any(furu_store.rglob("*"))
    text = "\n".join(caplog.messages)
    assert "FURU_DRY_RUN is set: computing nothing." in text
    assert "plan: 4 to create, 0 cached" in text


def test_jobs_of_renumbers_the_creates() -> None:
    top = steps.Evaluate()
    top.model.dataset.load_or_create()
    jobs = jobs_of(furu.plan([top]))
    assert jobs == [Job(0, top.model, ()), Job(1, top, (0,))]


def test_progress_bar_runs(capsys: pytest.CaptureFixture[str]) -> None:
    asked = [steps.Counted(value=70), steps.Counted(value=71)]
    assert furu.load_or_create_many(asked, executor=InlineExecutor(), progress=True) == [140, 142]
    assert "furu: 2/2 done, 0 running, 0 failed, 0 skipped" in capsys.readouterr().err


def test_executors_satisfy_the_protocol() -> None:
    assert isinstance(InlineExecutor(), furu.Executor)
    assert isinstance(LocalExecutor(max_workers=1), furu.Executor)
    assert LocalExecutor().max_workers >= 1


def test_local_executor(furu_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Worker processes started with "spawn" re-read the environment, so name the store there too.
    monkeypatch.setenv("FURU_PATH", str(furu_store))
    parts = tuple(steps.WritesPid(n=n) for n in range(4))
    combine = steps.Combine(parts=parts)
    bad = steps.Failing(message="in a worker")
    with pytest.raises(FuruBatchError) as info:
        furu.load_or_create_many(
            [combine, steps.NeedsFailing(dep=bad), *parts],
            executor=LocalExecutor(max_workers=2),
            progress=False,
        )
    assert [name for name, _ in info.value.failures] == [bad._furu_short()]
    failure = info.value.failures[0][1]
    assert isinstance(failure, FuruComputeError)
    assert "in a worker" in str(failure)
    assert combine.exists()
    assert all(part.exists() for part in parts)
    pids = {int((part.furu_dir / "pid.txt").read_text()) for part in parts}
    assert os.getpid() not in pids  # created in worker processes
    results = furu.load_or_create_many([combine, *parts], executor=LocalExecutor(max_workers=2))
    assert results == [0 + 1 + 2 + 3, 0, 1, 2, 3]


def test_spawned_workers_use_the_parents_settings(
    furu_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only set in code (no FURU_PATH): a spawned worker re-imports furu from scratch.
    monkeypatch.delenv("FURU_PATH", raising=False)
    parts = [steps.Counted(value=v) for v in (31, 32)]
    executor = LocalExecutor(max_workers=2, start_method="spawn")
    assert furu.load_or_create_many(parts, executor=executor) == [62, 64]
    for part in parts:
        assert part.furu_dir.is_relative_to(furu_store)
        assert part.exists()

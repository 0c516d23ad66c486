"""furu._furu and furu._compute: the `Furu` API in one process."""

from __future__ import annotations

import json
import logging
import pickle
import re
from pathlib import Path
from typing import Any

import core_test_steps as steps
import pytest
from core_test_steps import CALLS

import furu
from furu import (
    AttemptStatus,
    FuruComputeError,
    FuruConfigError,
    FuruIdentityError,
    ResultStatus,
    _policy,
)
from furu._store import HOSTNAME


def _files(root: Path) -> list[str]:
    if not root.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


# ---------------------------------------------------------------- create, then load


def test_creates_then_loads() -> None:
    step = steps.CreateVsLoad(key="a")
    # Every call returns what _load() gives, the first one too (what _create returned may
    # point into the attempt's staging directory, which publishing moved; ADR 0004).
    assert step.load_or_create() == "loaded"
    assert CALLS["CreateVsLoad"] == 1
    assert CALLS["CreateVsLoad._load"] == 1
    assert step.load_or_create() == "loaded"
    assert steps.CreateVsLoad(key="a").load_or_create() == "loaded"  # an equal config
    assert CALLS["CreateVsLoad"] == 1
    assert CALLS["CreateVsLoad._load"] == 3


def test_readme_example(furu_store: Path) -> None:
    artifact = steps.TrainModel(lr=3e-4, steps=5000).load_or_create()
    again = steps.TrainModel(lr=3e-4, steps=5000).load_or_create()
    assert artifact == again
    assert artifact.read_bytes() == b"..."
    assert CALLS["TrainModel"] == 1
    assert artifact.is_relative_to(furu_store / "data" / "core_test_steps" / "TrainModel")


def test_what_a_create_leaves_on_disk() -> None:
    step = steps.Counted(value=3)
    step.load_or_create()
    assert _files(step.furu_dir) == [
        ".furu",
        ".furu/SUCCESS.json",
        ".furu/furu.log",
        ".furu/metadata.json",
        ".furu/state.json",
        "value.txt",
    ]
    marker = json.loads((step.furu_dir / ".furu" / "SUCCESS.json").read_text())
    assert marker["namespace"] == "core_test_steps.Counted"
    assert marker["hash"] == step._furu_hash
    state = step.get_state()
    assert state.result_status is ResultStatus.SUCCESS
    assert state.attempts == 1
    assert state.attempt is not None
    assert state.attempt.status is AttemptStatus.SUCCESS
    assert marker["attempt_id"] == state.attempt.id


def test_nested_steps_create_their_dependencies() -> None:
    step = steps.Evaluate()
    assert step.load_or_create() == "evaluated trained on data toy"
    assert step.model.exists()
    assert step.model.dataset.exists()
    assert (CALLS["Evaluate"], CALLS["TrainTextModel"], CALLS["Dataset"]) == (1, 1, 1)
    assert steps.Evaluate().load_or_create() == "evaluated trained on data toy"
    assert CALLS["Evaluate"] == 1


def test_exists() -> None:
    step = steps.Counted(value=11)
    assert not step.exists()
    assert not step.furu_dir.exists()  # asking writes nothing
    step.load_or_create()
    assert step.exists()
    assert steps.Counted(value=11).exists()
    assert not steps.Counted(value=12).exists()


def test_validate_false_forces_recompute() -> None:
    step = steps.Validated(name="v1")
    assert step.load_or_create() == "v1"
    assert step.exists()
    (step.furu_dir / "out.txt").unlink()
    assert not step.exists()
    assert step.get_state().result_status is ResultStatus.SUCCESS  # the marker is still there
    assert step.load_or_create() == "v1"
    assert CALLS["Validated"] == 2
    assert step.exists()
    assert step.get_state().attempts == 2
    step.load_or_create()
    assert CALLS["Validated"] == 2


def test_get_state_of_a_new_step() -> None:
    assert steps.Counted(value=99).get_state().result_status is ResultStatus.ABSENT


# ---------------------------------------------------------------- layout


def test_furu_dir_layout(furu_store: Path) -> None:
    step = steps.Counted(value=5)
    assert step.furu_dir == (furu_store / "data" / "core_test_steps" / "Counted" / step._furu_hash)
    assert re.fullmatch(r"[0-9a-f]{20}", step._furu_hash)


def test_version_controlled_steps_live_under_the_vc_root(tmp_path: Path) -> None:
    step = steps.Versioned(x=2)
    assert step.furu_dir == tmp_path / "vc" / "core_test_steps" / "Versioned" / step._furu_hash
    assert step.load_or_create() == {"x": 2}
    assert (step.furu_dir / ".furu" / "SUCCESS.json").exists()
    assert not (tmp_path / "store" / "data").exists()


def test_version_controlled_option_must_be_a_bool() -> None:
    with pytest.raises(FuruConfigError) as info:

        class Bad(furu.Furu[int], version_controlled="yes"):  # type: ignore[arg-type]
            pass

    assert str(info.value) == (
        "test_version_controlled_option_must_be_a_bool.<locals>.Bad: version_controlled must "
        "be True or False, got 'yes'."
    )


def test_raw_dir(furu_store: Path) -> None:
    step = steps.UsesRaw()
    assert step.raw_dir == furu_store / "raw"
    assert step.raw_dir.is_dir()
    path = step.load_or_create()
    assert path == furu_store / "raw" / step._furu_hash / "big.bin"
    assert step.load_or_create() == path


# ---------------------------------------------------------------- identity


def test_hash_is_stable_and_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    from furu import _furu

    calls: list[object] = []
    real = _furu.config_hash

    def counting(obj: object) -> str:
        calls.append(obj)
        return real(obj)

    monkeypatch.setattr(_furu, "config_hash", counting)
    step = steps.TrainModel(lr=0.1, steps=3)
    first = step._furu_hash
    assert step._furu_hash == first
    step.furu_dir  # noqa: B018
    step.load_or_create()
    step.load_or_create()
    assert len(calls) == 1
    assert steps.TrainModel(lr=0.1, steps=3)._furu_hash == first
    assert steps.TrainModel(lr=0.1, steps=4)._furu_hash != first
    assert steps.TrainModel(steps=3, lr=0.1)._furu_hash == first


def test_defaults_and_explicit_values_hash_alike() -> None:
    assert steps.TrainModel()._furu_hash == steps.TrainModel(lr=1e-3, steps=1000)._furu_hash


def test_nested_dependency_changes_the_hash() -> None:
    a = steps.TrainTextModel(dataset=steps.Dataset(name="a"))
    b = steps.TrainTextModel(dataset=steps.Dataset(name="b"))
    assert a._furu_hash != b._furu_hash


def test_namespace() -> None:
    assert steps.Child()._furu_namespace == "core_test_steps.Child"
    assert steps.Child()._furu_identity() == ("core_test_steps.Child", steps.Child()._furu_hash)


def test_identity_follows_set_furu_root(tmp_path: Path) -> None:
    step = steps.Counted(value=21)
    first = step.furu_dir
    furu.set_furu_root(tmp_path / "other")
    moved = tmp_path / "other" / "data" / "core_test_steps" / "Counted" / step._furu_hash
    assert step.furu_dir == moved
    assert step.furu_dir != first
    step.load_or_create()
    assert not first.exists()
    assert step.exists()
    furu.set_furu_root(first.parents[3])
    assert step.furu_dir == first
    assert not step.exists()


def test_pickling_drops_caches_and_round_trips(tmp_path: Path) -> None:
    step = steps.TrainTextModel(dataset=steps.Dataset(name="p"))
    digest = step._furu_hash
    step.furu_dir  # noqa: B018 - fill the caches
    assert any(k.startswith("_furu_") for k in vars(step))
    data = pickle.dumps(step)
    furu.set_furu_root(tmp_path / "receiver")
    back = pickle.loads(data)
    assert not any(k.startswith("_furu_") for k in vars(back))
    assert back == step
    assert back._furu_hash == digest
    assert (
        back.furu_dir
        == tmp_path / "receiver" / "data" / "core_test_steps" / "TrainTextModel" / digest
    )
    assert back.load_or_create() == "trained on data p"


def test_main_classes_are_refused() -> None:
    class InMain(furu.Furu[int]):
        __module__ = "__main__"
        x: int = 1

    step = InMain()
    with pytest.raises(FuruIdentityError) as info:
        step.load_or_create()
    assert str(info.value) == (
        "test_main_classes_are_refused.<locals>.InMain is defined in __main__, so another "
        "process (or a later run) cannot import it and its artifacts would have an unstable "
        "namespace. Move it into an importable module, or set FURU_ALLOW_MAIN=1 to allow it "
        "anyway."
    )
    with pytest.raises(FuruIdentityError, match="FURU_ALLOW_MAIN"):
        step.furu_dir  # noqa: B018


def test_locals_classes_are_refused_unless_allowed(furu_store: Path) -> None:
    class Local(furu.Furu[int]):
        x: int = 1

        def _create(self) -> int:
            return self.x

        def _load(self) -> int:
            return self.x

    with pytest.raises(FuruIdentityError) as info:
        Local().load_or_create()
    assert str(info.value) == (
        "test_furu.test_locals_classes_are_refused_unless_allowed.<locals>.Local is defined "
        "inside a function, so other processes cannot import it. Define it at module level, "
        "or set FURU_ALLOW_LOCALS=1 to allow it anyway."
    )
    assert not furu_store.exists()
    furu.FURU_CONFIG.allow_locals = True
    step = Local(x=4)
    assert step.load_or_create() == 4
    assert (
        step.furu_dir.parent.name == "test_locals_classes_are_refused_unless_allowed.locals.Local"
    )
    assert step.load_or_create() == 4


def test_a_step_that_needs_itself_is_refused() -> None:
    step = steps.SelfCycle(n=1)
    with pytest.raises(FuruIdentityError) as info:
        step.load_or_create()
    assert str(info.value) == (
        f"SelfCycle {step._furu_hash[:9]} depends on itself: its _create() (or a step it "
        "creates) called load_or_create() on the same config. Break the cycle in "
        f"{step.furu_dir}."
    )
    # The attempt is recorded as failed and the lock released.
    state = step.get_state()
    assert state.result_status is ResultStatus.FAILED
    assert not (step.furu_dir / ".furu" / "compute.lock").exists()


# ---------------------------------------------------------------- failures


def test_compute_error_carries_state_path_and_original_error() -> None:
    step = steps.Failing(message="bad input")
    with pytest.raises(FuruComputeError) as info:
        step.load_or_create()
    err = info.value
    state_path = step.furu_dir / ".furu" / "state.json"
    assert err.state_path == state_path
    assert isinstance(err.original_error, ValueError)
    assert str(err.original_error) == "bad input"
    assert err.__cause__ is err.original_error
    assert "ValueError: bad input" in err.traceback_text
    assert str(err) == (
        f"Failing {step._furu_hash[:9]} failed: builtins.ValueError: bad input. The attempt is "
        f"recorded in {state_path} and the traceback in {state_path.parent / 'furu.log'}; "
        "the next call retries."
    )
    state = step.get_state()
    assert state.result_status is ResultStatus.FAILED
    assert state.attempt is not None
    assert state.attempt.status is AttemptStatus.FAILED
    assert state.attempt.error is not None
    assert state.attempt.error["type"] == "builtins.ValueError"
    assert state.attempt.error["message"] == "bad input"
    assert not step.exists()
    assert not (step.furu_dir / ".furu" / "compute.lock").exists()


def test_the_next_call_retries_a_failure() -> None:
    step = steps.Failing(message="again")
    for _ in range(3):
        with pytest.raises(FuruComputeError):
            step.load_or_create()
    assert CALLS["Failing"] == 3
    assert step.get_state().attempts == 3


def test_a_failing_dependency_fails_its_dependent() -> None:
    step = steps.NeedsFailing(dep=steps.Failing(message="deep"))
    with pytest.raises(FuruComputeError) as info:
        step.load_or_create()
    assert isinstance(info.value.original_error, FuruComputeError)
    assert isinstance(info.value.original_error.original_error, ValueError)
    assert "deep" in str(info.value)
    assert step.get_state().result_status is ResultStatus.FAILED
    assert step.dep.get_state().result_status is ResultStatus.FAILED


def test_keyboard_interrupt_is_recorded_as_cancelled(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(self: Any) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(steps.Counted, "_create", interrupted)
    step = steps.Counted(value=77)
    with pytest.raises(KeyboardInterrupt):
        step.load_or_create()
    state = step.get_state()
    assert state.result_status is ResultStatus.INCOMPLETE
    assert state.attempt is not None
    assert state.attempt.status is AttemptStatus.CANCELLED
    assert state.attempt.reason == "SIGINT"
    assert not (step.furu_dir / ".furu" / "compute.lock").exists()


# ---------------------------------------------------------------- another holder


def _lock_held_by(step: furu.Furu[Any], *, host: str, pid: int) -> Path:
    from furu._lock import PID_NAMESPACE

    meta = step.furu_dir / ".furu"
    meta.mkdir(parents=True)
    lock = meta / "compute.lock"
    lock.write_text(
        json.dumps(
            {
                "host": host,
                "pid": pid,
                "pid_start": None,
                "pid_namespace": PID_NAMESPACE,
                "attempt_id": "0123456789abcdef",
                "job_id": "99",
                "lease_secs": 600.0,
                "created_at": 0.0,
            }
        )
    )
    return lock


def test_waiting_for_a_live_holder_times_out() -> None:
    step = steps.Impatient(n=1)
    lock = _lock_held_by(step, host="another-node", pid=4242)
    with pytest.raises(furu.FuruWaitTimeout) as info:
        step.load_or_create()
    err = info.value
    message = str(err)
    holder = "another-node:4242 (attempt 01234567, job 99)"
    assert message.startswith(f"Impatient {step._furu_hash[:9]}: waited ")
    assert f"for {holder}, which is still computing it" in message
    assert "gave up after Impatient._max_wait_time_sec=0.05" in message
    assert "Raise _max_wait_time_sec on the class to wait longer." in message
    assert f"If you are certain nothing is computing it, delete {lock}." in message
    assert err.holder == holder
    assert err.furu_dir == step.furu_dir
    assert err.waited_sec > 0.05
    assert lock.exists()  # a live holder's lock is never broken
    assert CALLS["Impatient"] == 0


def test_a_dead_holders_lock_is_broken(dead_pid: int, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="furu")
    step = steps.Impatient(n=2)
    _lock_held_by(step, host=HOSTNAME, pid=dead_pid)
    assert step.load_or_create() == 2
    assert CALLS["Impatient"] == 1
    assert caplog.messages == [
        f"Impatient {step._furu_hash[:9]}: breaking the lock of "
        f"{HOSTNAME}:{dead_pid} (attempt 01234567, job 99), which is gone"
    ]
    assert not (step.furu_dir / ".furu" / "compute.lock").exists()


# ---------------------------------------------------------------- forcing


def _created_by_an_earlier_run(step: furu.Furu[Any]) -> None:
    step.load_or_create()
    _policy._recomputed.clear()  # what this process created counts as forced already


def test_force_recompute_once_per_process() -> None:
    step = steps.Counted(value=31)
    _created_by_an_earlier_run(step)
    assert CALLS["Counted"] == 1
    furu.FURU_CONFIG.force_recompute = frozenset({"core_test_steps.Counted"})
    assert step.load_or_create() == 62
    assert CALLS["Counted"] == 2
    step.load_or_create()
    steps.Counted(value=31).load_or_create()
    assert CALLS["Counted"] == 2
    # A step first created while forced is not created twice.
    steps.Counted(value=32).load_or_create()
    steps.Counted(value=32).load_or_create()
    assert CALLS["Counted"] == 3
    # Other classes are untouched.
    _created_by_an_earlier_run(steps.Dataset(name="f"))
    steps.Dataset(name="f").load_or_create()
    assert CALLS["Dataset"] == 1


def test_force_recompute_all() -> None:
    _created_by_an_earlier_run(steps.Dataset(name="g"))
    furu.FURU_CONFIG.force_recompute = frozenset({"ALL"})
    steps.Dataset(name="g").load_or_create()
    steps.Dataset(name="g").load_or_create()
    assert CALLS["Dataset"] == 2


def test_always_rerun_every_call() -> None:
    step = steps.Counted(value=41)
    furu.FURU_CONFIG.always_rerun = frozenset({"core_test_steps.Counted"})
    for _ in range(3):
        assert step.load_or_create() == 82
    assert CALLS["Counted"] == 3
    assert step.get_state().attempts == 3
    steps.Dataset(name="h").load_or_create()
    steps.Dataset(name="h").load_or_create()
    assert CALLS["Dataset"] == 1


# ---------------------------------------------------------------- dry run and executors


def test_dry_run_returns_none_and_creates_nothing(
    furu_store: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="furu")
    furu.FURU_CONFIG.dry_run = True
    step = steps.Evaluate()
    assert step.load_or_create() is None
    assert CALLS == {}
    assert _files(furu_store) == []
    text = "\n".join(caplog.messages)
    assert "FURU_DRY_RUN is set: computing nothing." in text
    assert "plan: 3 to create, 0 cached" in text


def test_dry_run_still_loads_what_is_cached() -> None:
    steps.Counted(value=51).load_or_create()
    furu.FURU_CONFIG.dry_run = True
    assert steps.Counted(value=51).load_or_create() == 102


def test_executor_that_nothing_adapts() -> None:
    step = steps.Counted(value=61)
    with pytest.raises(FuruConfigError) as info:
        step.load_or_create(executor=object())
    assert str(info.value) == (
        "load_or_create(executor=...) got a builtins.object, which is not a furu executor (it "
        "has no run() and submit_step() methods), and no installed package registers an "
        "adapter for 'builtins' executors (entry point group 'furu.executors'). Install the "
        "furu package for that scheduler, pass a furu executor (e.g. furu.LocalExecutor()), "
        "or call load_or_create() without executor."
    )
    assert not step.furu_dir.exists()


class _FakeExecutor:
    """Follows `furu.Executor`: records what it was given, computes nothing."""

    def __init__(self) -> None:
        self.submitted: list[furu.Furu[Any]] = []

    def run(self, jobs: Any, reporter: Any) -> None:
        raise AssertionError("not called by load_or_create")

    def submit_step(self, step: furu.Furu[Any]) -> Any:
        self.submitted.append(step)
        return "job-123"


def test_executor_with_submit_step_gets_the_step() -> None:
    executor = _FakeExecutor()
    assert isinstance(executor, furu.Executor)
    step = steps.Counted(value=62)
    assert step.load_or_create(executor=executor) == "job-123"
    assert executor.submitted == [step]
    assert CALLS["Counted"] == 0
    assert not step.furu_dir.exists()


def test_another_librarys_executor_is_adapted_by_an_entry_point(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib.metadata

    adapted = _FakeExecutor()
    seen: list[object] = []

    class ForeignExecutor:  # a scheduler library's own executor type
        pass

    class Point:
        def load(self) -> Any:
            return lambda raw: seen.append(raw) or adapted

    def entry_points(*, group: str, name: str) -> list[Point]:
        assert (group, name) == ("furu.executors", __name__.split(".")[0])
        return [Point()]

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    raw = ForeignExecutor()
    step = steps.Counted(value=63)
    assert step.load_or_create(executor=raw) == "job-123"
    assert seen == [raw]
    assert adapted.submitted == [step]


@pytest.mark.parametrize("executor", [furu.InlineExecutor(), furu.LocalExecutor(max_workers=1)])
def test_local_executors_submit_a_step_and_return_at_once(executor: furu.Executor) -> None:
    step = steps.Counted(value=64)
    handle = step.load_or_create(executor=executor)
    assert isinstance(handle, furu.Submitted)
    handle.wait(timeout=60)
    assert handle.done()
    assert handle.result(timeout=60) == 128
    assert step.exists()

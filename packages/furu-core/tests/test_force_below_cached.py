"""FURU_FORCE_RECOMPUTE and FURU_ALWAYS_RERUN find forced steps below cached dependents.

`Evaluate -> TrainTextModel -> Dataset`, all cached by an earlier run: forcing the inner class
recomputes it once in this process, from `load_or_create()` of the cached `Evaluate`, from a
batch and in a plan; the cached `Evaluate` keeps its result unless
FURU_FORCE_RECOMPUTE_DEPENDENTS is set.
"""

from __future__ import annotations

import logging
from typing import Any

import core_test_steps as steps
import pytest
from core_test_steps import CALLS

import furu
from furu import _dependencies, _policy, plan
from furu._settings import FuruConfig

TRAIN = "core_test_steps.TrainTextModel"


def _cached_by_an_earlier_run(*objs: furu.Furu[Any]) -> None:
    for obj in objs:
        obj.load_or_create()
    _policy._recomputed.clear()  # as if created by another process
    CALLS.clear()


def _attempts(step: furu.Furu[Any]) -> int:
    return step.get_state().attempts


def _summary(the_plan: furu.Plan) -> list[tuple[str, str, str]]:
    return [(type(p.step).__name__, p.action, p.reason) for p in the_plan.steps]


@pytest.fixture
def cached() -> steps.Evaluate:
    top = steps.Evaluate(model=steps.TrainTextModel(dataset=steps.Dataset(name="below")))
    _cached_by_an_earlier_run(top)
    return top


def test_load_or_create_of_a_cached_dependent_recomputes_the_forced_step_below_it_once(
    cached: steps.Evaluate,
) -> None:
    furu.FURU_CONFIG.force_recompute = frozenset({TRAIN})

    assert cached.load_or_create() == "evaluated trained on data below"
    assert CALLS == {"TrainTextModel": 1}  # the dependent keeps its result
    assert (_attempts(cached), _attempts(cached.model), _attempts(cached.model.dataset)) == (
        1,
        2,
        1,
    )
    # Once per process: later calls, on any instance of the same configs, load.
    cached.load_or_create()
    steps.Evaluate(model=steps.TrainTextModel(dataset=steps.Dataset(name="below"))).load_or_create()
    cached.model.load_or_create()
    assert CALLS == {"TrainTextModel": 1}


def test_with_dependents_the_cached_dependent_is_recomputed_after_the_forced_step(
    cached: steps.Evaluate,
) -> None:
    furu.FURU_CONFIG.force_recompute = frozenset({TRAIN})
    furu.FURU_CONFIG.force_recompute_dependents = True

    assert cached.load_or_create() == "evaluated trained on data below"
    # The model once (the evaluation's own load_or_create() of it loads), then the evaluation.
    assert CALLS == {"TrainTextModel": 1, "Evaluate": 1}
    assert (_attempts(cached), _attempts(cached.model), _attempts(cached.model.dataset)) == (
        2,
        2,
        1,
    )
    cached.load_or_create()
    assert CALLS == {"TrainTextModel": 1, "Evaluate": 1}


def test_dependents_of_a_step_recomputed_earlier_in_the_process_are_recomputed_once(
    cached: steps.Evaluate,
) -> None:
    furu.FURU_CONFIG.force_recompute = frozenset({TRAIN})
    furu.FURU_CONFIG.force_recompute_dependents = True

    cached.model.load_or_create()  # the forced step first, on its own
    cached.load_or_create()
    cached.load_or_create()
    assert CALLS == {"TrainTextModel": 1, "Evaluate": 1}


def test_dependents_without_force_recompute_change_nothing(cached: steps.Evaluate) -> None:
    furu.FURU_CONFIG.force_recompute_dependents = True

    cached.load_or_create()
    assert CALLS == {}


def test_always_rerun_below_a_cached_dependent_reruns_on_every_call(
    cached: steps.Evaluate,
) -> None:
    furu.FURU_CONFIG.always_rerun = frozenset({TRAIN})

    for _ in range(2):
        assert cached.load_or_create() == "evaluated trained on data below"
    assert CALLS == {"TrainTextModel": 2}


def test_dependents_do_not_apply_to_always_rerun_classes(cached: steps.Evaluate) -> None:
    furu.FURU_CONFIG.always_rerun = frozenset({TRAIN})
    furu.FURU_CONFIG.force_recompute = frozenset({"core_test_steps.Counted"})
    furu.FURU_CONFIG.force_recompute_dependents = True

    assert _summary(plan([cached]))[1:] == [
        ("TrainTextModel", "create", "forced"),
        ("Evaluate", "load", ""),
    ]
    cached.load_or_create()
    assert CALLS == {"TrainTextModel": 1}


def test_plan_finds_the_forced_step_below_cached_dependents(cached: steps.Evaluate) -> None:
    other = steps.Evaluate(model=steps.TrainTextModel(dataset=steps.Dataset(name="other")))
    _cached_by_an_earlier_run(other)
    furu.FURU_CONFIG.force_recompute = frozenset({TRAIN})

    the_plan = plan([cached, other])

    assert _summary(the_plan) == [
        ("Dataset", "load", ""),
        ("TrainTextModel", "create", "forced"),
        ("Evaluate", "load", ""),
        ("Dataset", "load", ""),
        ("TrainTextModel", "create", "forced"),
        ("Evaluate", "load", ""),
    ]
    assert [p.deps for p in the_plan.steps] == [[]] * 6  # a loaded dataset is not waited for
    assert the_plan.roots == [2, 5]
    model = cached.model._furu_short()
    assert the_plan.describe().splitlines()[:2] == [
        "plan: 2 to create, 4 cached",
        f"  create {model} (forced: FURU_FORCE_RECOMPUTE names "
        "core_test_steps.TrainTextModel, so its stored result is recomputed)",
    ]


def test_plan_with_dependents_creates_them_after_the_forced_step(cached: steps.Evaluate) -> None:
    furu.FURU_CONFIG.force_recompute = frozenset({TRAIN})
    furu.FURU_CONFIG.force_recompute_dependents = True

    the_plan = plan([cached])

    assert _summary(the_plan) == [
        ("Dataset", "load", ""),
        ("TrainTextModel", "create", "forced"),
        ("Evaluate", "create", "dependent"),
    ]
    assert the_plan.steps[2].deps == [1]
    assert the_plan.describe().splitlines()[3] == (
        f"  create {cached._furu_short()} (dependent: a FURU_FORCE_RECOMPUTE class lies below "
        f"it (FURU_FORCE_RECOMPUTE_DEPENDENTS)) after {cached.model._furu_short()}"
    )


def test_plan_without_a_force_setting_does_not_look_below_cached_steps(
    cached: steps.Evaluate, monkeypatch: pytest.MonkeyPatch
) -> None:
    furu.FURU_CONFIG.force_recompute_dependents = True
    walked: list[str] = []
    original = _dependencies.direct_dependencies

    def counting(step: furu.Furu[Any]) -> list[tuple[str, furu.Furu[Any]]]:
        walked.append(type(step).__name__)
        return original(step)

    monkeypatch.setattr("furu._planning.direct_dependencies", counting)
    assert _summary(plan([cached])) == [("Evaluate", "load", "")]
    assert walked == []


def test_a_missing_step_below_a_cached_one_is_not_created_unless_forced(
    cached: steps.Evaluate,
) -> None:
    # The model's own result vanished, the evaluation of it is still cached: nothing needs the
    # model while the dataset below it is forced.
    invalidated = furu.step_dir(cached.model).invalidate("test: the model's result vanished")
    assert invalidated
    furu.FURU_CONFIG.force_recompute = frozenset({"core_test_steps.Dataset"})

    assert _summary(plan([cached])) == [("Dataset", "create", "forced"), ("Evaluate", "load", "")]
    assert cached.load_or_create() == "evaluated trained on data below"
    assert CALLS == {"Dataset": 1}
    assert not cached.model.exists()


def test_a_forced_class_without_a_result_below_a_cached_step_is_created(
    cached: steps.Evaluate,
) -> None:
    assert furu.step_dir(cached.model).invalidate("test: the model's result vanished")
    furu.FURU_CONFIG.force_recompute = frozenset({TRAIN})

    assert _summary(plan([cached])) == [
        ("Dataset", "load", ""),
        ("TrainTextModel", "create", "incomplete"),
        ("Evaluate", "load", ""),
    ]
    cached.load_or_create()
    assert CALLS == {"TrainTextModel": 1}


def test_forced_steps_declared_by_the_dependencies_hook_are_found() -> None:
    hooked = steps.Hooked(names=("p", "q"))
    _cached_by_an_earlier_run(hooked)
    furu.FURU_CONFIG.force_recompute = frozenset({"core_test_steps.Dataset"})

    assert _summary(plan([hooked])) == [
        ("Dataset", "create", "forced"),
        ("Dataset", "create", "forced"),
        ("Hooked", "load", ""),
    ]
    assert hooked.load_or_create() == "data p,data q"
    assert CALLS == {"Dataset": 2}


def test_a_batch_recomputes_the_forced_steps_below_cached_roots_once(
    cached: steps.Evaluate,
) -> None:
    other = steps.Evaluate(model=steps.TrainTextModel(dataset=steps.Dataset(name="other")))
    _cached_by_an_earlier_run(other)
    furu.FURU_CONFIG.force_recompute = frozenset({TRAIN})

    results = furu.load_or_create_many([cached, other], executor=furu.InlineExecutor())

    assert results == ["evaluated trained on data below", "evaluated trained on data other"]
    assert CALLS == {"TrainTextModel": 2}
    assert [_attempts(s) for s in (cached, other, cached.model, other.model)] == [1, 1, 2, 2]


def test_a_batch_with_always_rerun_below_a_cached_root_reruns_it_once(
    cached: steps.Evaluate,
) -> None:
    furu.FURU_CONFIG.always_rerun = frozenset({TRAIN})

    furu.load_or_create_many([cached], executor=furu.InlineExecutor())

    assert CALLS == {"TrainTextModel": 1}  # by the batch, not again when loading its result


def test_a_batch_with_dependents_recomputes_them(cached: steps.Evaluate) -> None:
    furu.FURU_CONFIG.force_recompute = frozenset({TRAIN})
    furu.FURU_CONFIG.force_recompute_dependents = True

    furu.load_or_create_many([cached], executor=furu.InlineExecutor())

    assert CALLS == {"TrainTextModel": 1, "Evaluate": 1}


def test_dry_run_of_a_cached_dependent_logs_the_forced_step_and_loads(
    cached: steps.Evaluate, caplog: pytest.LogCaptureFixture
) -> None:
    furu.FURU_CONFIG.force_recompute = frozenset({TRAIN})
    furu.FURU_CONFIG.dry_run = True

    with caplog.at_level(logging.INFO, logger="furu"):
        assert cached.load_or_create() == "evaluated trained on data below"

    assert CALLS == {}
    assert _attempts(cached.model) == 1
    assert f"create {cached.model._furu_short()} (forced: FURU_FORCE_RECOMPUTE names" in caplog.text
    furu.FURU_CONFIG.force_recompute_dependents = True
    assert cached.load_or_create() is None  # it would be created: a dry run returns None


def test_without_a_force_setting_a_cache_hit_does_not_walk_the_graph(
    cached: steps.Evaluate, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("the run policy was consulted without a force setting")

    monkeypatch.setattr(_policy.Forcing, "__init__", refuse)
    monkeypatch.setattr(_policy, "direct_dependencies", refuse)
    assert cached.load_or_create() == "evaluated trained on data below"


def test_the_dependents_variable_is_read_and_checked(
    no_furu_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert FuruConfig.from_env().force_recompute_dependents is False
    monkeypatch.setenv("FURU_FORCE_RECOMPUTE_DEPENDENTS", "1")
    assert FuruConfig.from_env().force_recompute_dependents is True
    monkeypatch.setenv("FURU_FORCE_RECOMPUTE_DEPENDENTS", "evaluations")
    with pytest.raises(furu.FuruConfigError) as info:
        FuruConfig.from_env()
    assert str(info.value) == (
        "FURU_FORCE_RECOMPUTE_DEPENDENTS='evaluations' is not a boolean. Set "
        "FURU_FORCE_RECOMPUTE_DEPENDENTS to one of 1/true/yes/on or 0/false/no/off."
    )

"""furu._planning: the dependency graph of a batch, and what must be created."""

from __future__ import annotations

import shutil

import core_test_steps as steps
import pytest

import furu
from furu import FuruConfigError, FuruIdentityError, plan
from furu._dependencies import direct_dependencies, field_steps


def _short(step: furu.Furu[object]) -> str:
    return step._furu_short()


def test_plan_of_a_three_level_graph() -> None:
    top = steps.Evaluate()
    the_plan = plan([top])
    assert [type(p.step).__name__ for p in the_plan.steps] == [
        "Dataset",
        "TrainTextModel",
        "Evaluate",
    ]
    assert [p.action for p in the_plan.steps] == ["create"] * 3
    assert [p.reason for p in the_plan.steps] == ["missing"] * 3
    assert [p.deps for p in the_plan.steps] == [[], [0], [1]]
    assert the_plan.roots == [2]
    assert the_plan.steps[2].step is top
    assert the_plan.steps[1].step is top.model
    assert the_plan.to_create == the_plan.steps
    assert the_plan.steps[2].key == top._furu_identity()


def test_describe() -> None:
    top = steps.Evaluate()
    text = plan([top]).describe()
    data, model = top.model.dataset, top.model
    assert text == "\n".join(
        [
            "plan: 3 to create, 0 cached",
            f"  create {_short(data)} (missing: no Dataset is stored yet)",
            f"         {data.furu_dir}",
            f"  create {_short(model)} (missing: no TrainTextModel is stored yet) after "
            f"{_short(data)}",
            f"         {model.furu_dir}",
            f"  create {_short(top)} (missing: no Evaluate is stored yet) after {_short(model)}",
            f"         {top.furu_dir}",
        ]
    )


def test_cached_steps_are_not_explored() -> None:
    top = steps.Evaluate()
    top.model.load_or_create()
    # Even if the model's own dependency vanished, loading the model does not need it.
    shutil.rmtree(top.model.dataset.furu_dir)
    the_plan = plan([top])
    assert [(type(p.step).__name__, p.action) for p in the_plan.steps] == [
        ("TrainTextModel", "load"),
        ("Evaluate", "create"),
    ]
    assert the_plan.steps[1].deps == []  # nothing to wait for: the model is cached
    assert the_plan.describe().splitlines()[:2] == [
        "plan: 1 to create, 1 cached",
        f"  create {_short(top)} (missing: no Evaluate is stored yet)",
    ]


def test_fully_cached_plan() -> None:
    top = steps.Counted(value=1)
    top.load_or_create()
    the_plan = plan([top])
    assert [p.action for p in the_plan.steps] == ["load"]
    assert the_plan.to_create == []
    assert the_plan.describe() == "plan: 0 to create, 1 cached"


def test_shared_dependencies_are_planned_once() -> None:
    shared = steps.Dataset(name="shared")
    a = steps.TrainTextModel(dataset=shared)
    b = steps.Combine(parts=(steps.WritesPid(n=1), steps.WritesPid(n=1), steps.WritesPid(n=2)))
    c = steps.Evaluate(model=steps.TrainTextModel(dataset=steps.Dataset(name="shared")))
    the_plan = plan([a, b, a, c])
    names = [_short(p.step) for p in the_plan.steps]
    assert len(names) == len(set(names))
    assert names.count(_short(shared)) == 1
    assert len(the_plan.steps) == 6  # shared, a, WritesPid x2, b, c
    assert the_plan.roots[0] == the_plan.roots[2]
    index = {p.key: i for i, p in enumerate(the_plan.steps)}
    assert the_plan.steps[the_plan.roots[3]].deps == [index[a._furu_identity()]]
    assert the_plan.steps[the_plan.roots[1]].deps == sorted(
        index[steps.WritesPid(n=n)._furu_identity()] for n in (1, 2)
    )


def test_dependencies_come_before_dependents() -> None:
    the_plan = plan([steps.Evaluate(), steps.Combine(parts=(steps.WritesPid(n=3),))])
    for i, planned in enumerate(the_plan.steps):
        assert all(d < i for d in planned.deps)


def test_reasons() -> None:
    failed = steps.Failing(message="p")
    with pytest.raises(furu.FuruComputeError):
        failed.load_or_create()
    invalid = steps.Validated(name="p")
    invalid.load_or_create()
    (invalid.furu_dir / "out.txt").unlink()
    forced = steps.Counted(value=8)
    forced.load_or_create()
    furu.FURU_CONFIG.always_rerun = frozenset({"core_test_steps.Counted"})
    the_plan = plan([failed, invalid, forced, steps.Dataset(name="new")])
    assert [p.reason for p in the_plan.steps] == ["failed", "invalid", "forced", "missing"]


def test_dependencies_hook() -> None:
    hooked = steps.Hooked(names=("x", "y"))
    assert [(where, dep) for where, dep in direct_dependencies(hooked)] == [
        ("_dependencies()[0]", steps.Dataset(name="x")),
        ("_dependencies()[1]", steps.Dataset(name="y")),
    ]
    the_plan = plan([hooked])
    assert [p.step for p in the_plan.steps] == [
        steps.Dataset(name="x"),
        steps.Dataset(name="y"),
        hooked,
    ]
    assert the_plan.steps[2].deps == [0, 1]


def test_dependencies_hook_must_return_steps() -> None:
    with pytest.raises(FuruConfigError) as info:
        plan([steps.BadHook()])
    assert str(info.value) == (
        "BadHook._dependencies() returned <class 'core_test_steps.Dataset'> at index 0, which "
        "is not a furu step instance. Return step instances (e.g. [Dataset(name='x')]), not "
        "classes or other values."
    )


def test_field_steps_inside_containers() -> None:
    combine = steps.Combine(parts=(steps.WritesPid(n=1), steps.WritesPid(n=2)))
    assert field_steps(combine) == [
        ("parts[0]", steps.WritesPid(n=1)),
        ("parts[1]", steps.WritesPid(n=2)),
    ]
    assert field_steps(steps.Counted()) == []


def test_cycles_raise() -> None:
    a = steps.CycleA(n=1)
    b = steps.CycleB(n=1)
    with pytest.raises(FuruIdentityError) as info:
        plan([a])
    assert str(info.value) == (
        f"dependency cycle: {_short(a)} -> {_short(b)} -> {_short(a)}. A step cannot need itself."
    )


def test_empty_plan() -> None:
    the_plan = plan([])
    assert the_plan.steps == []
    assert the_plan.roots == []
    assert the_plan.describe() == "plan: 0 to create, 0 cached"

"""furu._furu_list: experiments declared as class attributes."""

from __future__ import annotations

from typing import ClassVar

import core_test_steps as steps
import pytest
from core_test_steps import TrainModel

import furu


class MyExperiments(furu.FuruList[TrainModel]):
    baseline = TrainModel(lr=1e-3, steps=1000)
    fast_lr = TrainModel(lr=1e-2, steps=1000)
    configs: ClassVar = {
        "tiny": TrainModel(lr=1e-3, steps=100),
        "huge": TrainModel(lr=1e-4, steps=100000),
    }
    long_run = TrainModel(lr=1e-3, steps=10000)
    _private = TrainModel(lr=9.0)
    not_a_step = 3
    mixed: ClassVar = {"a": TrainModel(), "b": "not a step"}
    empty: ClassVar[dict[str, TrainModel]] = {}

    @classmethod
    def helper(cls) -> int:
        return 1


class MoreExperiments(MyExperiments):
    fast_lr = TrainModel(lr=5e-2, steps=1000)  # overrides, keeps its place
    extra = TrainModel(lr=2e-3, steps=10)


NAMES = ["baseline", "fast_lr", "tiny", "huge", "long_run"]


def test_items_in_definition_order() -> None:
    items = MyExperiments.items()
    assert [name for name, _ in items] == NAMES
    assert items[0] == ("baseline", TrainModel(lr=1e-3, steps=1000))
    assert items[2] == ("tiny", TrainModel(lr=1e-3, steps=100))


def test_all() -> None:
    assert MyExperiments.all() == [step for _, step in MyExperiments.items()]
    assert all(isinstance(step, TrainModel) for step in MyExperiments.all())


def test_iterating_over_the_class() -> None:
    assert list(MyExperiments) == MyExperiments.all()
    assert len(MyExperiments) == 5


def test_by_name() -> None:
    assert MyExperiments.by_name("baseline") is MyExperiments.baseline
    assert MyExperiments.by_name("huge") is MyExperiments.configs["huge"]


def test_unknown_name_lists_the_names() -> None:
    with pytest.raises(KeyError) as info:
        MyExperiments.by_name("medium")
    assert info.value.args[0] == (
        "MyExperiments has no experiment named 'medium'; it has: "
        "baseline, fast_lr, tiny, huge, long_run"
    )


def test_unknown_name_in_an_empty_list() -> None:
    class Empty(furu.FuruList[TrainModel]):
        pass

    assert Empty.items() == []
    assert list(Empty) == []
    with pytest.raises(KeyError) as info:
        Empty.by_name("x")
    assert info.value.args[0].endswith("has no experiment named 'x'; it has: none")


def test_inheritance() -> None:
    names = [name for name, _ in MoreExperiments.items()]
    assert names == [*NAMES, "extra"]
    assert MoreExperiments.by_name("fast_lr") == TrainModel(lr=5e-2, steps=1000)
    assert MyExperiments.by_name("fast_lr") == TrainModel(lr=1e-2, steps=1000)
    assert len(MoreExperiments) == 6


def test_items_can_be_created() -> None:
    class Small(furu.FuruList[steps.Counted]):
        one = steps.Counted(value=1)
        more: ClassVar = {"two": steps.Counted(value=2)}

    assert [exp.load_or_create() for exp in Small] == [2, 4]
    assert [(name, exp.exists()) for name, exp in Small.items()] == [("one", True), ("two", True)]

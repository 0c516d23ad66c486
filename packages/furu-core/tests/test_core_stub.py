"""furu.testing.stub: a result stands in for a dependency, by instance or by field path."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import pytest

import furu
from furu.testing import step_at, stub

CREATED: Counter[str] = Counter()


class Dataset(furu.Furu[list[int]]):
    """Expensive in real life; here it counts how often it was created."""

    name: str = "big"

    def _create(self) -> list[int]:
        CREATED["Dataset"] += 1
        (self.furu_dir / "data.txt").write_text("1 2 3")
        return [1, 2, 3]

    def _load(self) -> list[int]:
        return [int(x) for x in (self.furu_dir / "data.txt").read_text().split()]


class Model(furu.Furu[float]):
    dataset: Dataset = furu.chz.field(default_factory=Dataset)
    scale: float = 1.0

    def _create(self) -> float:
        CREATED["Model"] += 1
        value = self.scale * sum(self.dataset.load_or_create())
        (self.furu_dir / "model.txt").write_text(repr(value))
        return value

    def _load(self) -> float:
        return float((self.furu_dir / "model.txt").read_text())


class Report(furu.Furu[str]):
    model: Model = furu.chz.field(default_factory=Model)
    extra: tuple[Dataset, ...] = ()

    def _create(self) -> str:
        CREATED["Report"] += 1
        (self.furu_dir / "report.txt").write_text(f"score {self.model.load_or_create():g}")
        return ""

    def _load(self) -> str:
        return (self.furu_dir / "report.txt").read_text()


class BuildsItsOwn(furu.Furu[int]):
    """Builds its dependency inside `_create` instead of holding it in a field."""

    def _create(self) -> int:
        value = len(Dataset(name="built").load_or_create())
        (self.furu_dir / "n.txt").write_text(str(value))
        return value

    def _load(self) -> int:
        return int((self.furu_dir / "n.txt").read_text())


@pytest.fixture(autouse=True)
def _counts() -> None:
    CREATED.clear()


def test_stub_by_instance_stands_in_without_computing_or_touching_the_store() -> None:
    model = Model(dataset=Dataset(name="huge"), scale=2.0)
    with stub(model.dataset, [10, 20]) as stood_in:
        assert stood_in is model.dataset
        assert model.load_or_create() == 60.0
        assert model.dataset.load_or_create() == [10, 20]
        assert model.dataset.load_existing() == [10, 20]
        assert model.dataset.exists()
    assert dict(CREATED) == {"Model": 1}
    assert not model.dataset.furu_dir.exists()  # no directory, lock or state for the stand-in
    assert not model.dataset.exists()  # the context is closed: the real step again
    assert model.dataset.load_or_create() == [1, 2, 3]
    assert CREATED["Dataset"] == 1


def test_stub_covers_every_instance_with_the_same_config() -> None:
    with stub(Dataset(name="built"), [7, 7, 7, 7]):
        assert BuildsItsOwn().load_or_create() == 4
    assert CREATED["Dataset"] == 0
    with stub(Dataset(name="other"), [7]):
        assert Dataset(name="built").exists() is False  # another config is not stood in for


def test_stub_by_field_path_reaches_nested_steps() -> None:
    report = Report(model=Model(dataset=Dataset(name="x"), scale=3.0))
    with stub(report, "model.dataset", [1, 1]):
        assert report.load_or_create() == "score 6"
    assert dict(CREATED) == {"Report": 1, "Model": 1}

    other = Report(model=Model(dataset=Dataset(name="y")))
    with stub(other, "model", 0.5) as model:
        assert model is other.model
        assert other.load_or_create() == "score 0.5"
    assert CREATED["Model"] == 1  # no second Model was computed
    assert not other.model.furu_dir.exists()


def test_field_paths_name_items_of_containers_as_metadata_does() -> None:
    report = Report(extra=(Dataset(name="a"), Dataset(name="b")))
    assert step_at(report, "extra[1]") == Dataset(name="b")
    assert step_at(report, "model.dataset") == Dataset()
    with stub(report, "extra[0]", [5]):
        assert Dataset(name="a").load_or_create() == [5]


def test_an_unknown_path_lists_the_steps_there_are() -> None:
    report = Report(extra=(Dataset(name="a"),))
    with pytest.raises(furu.FuruConfigError) as info:
        stub(report, "model.data", [1])
    assert str(info.value) == (
        "Report has no step at 'model.data'. Steps inside it: model, model.dataset, extra[0]. "
        "Name one of these paths, or pass the dependency's instance: stub(dep, result)."
    )
    with pytest.raises(furu.FuruConfigError, match="Steps inside it: none: it holds no steps"):
        stub(Dataset(), "name", [1])


def test_wrong_arguments_are_refused_with_both_forms_named() -> None:
    with pytest.raises(furu.FuruConfigError, match=r"takes \(step, result\) or"):
        stub(Dataset(), "a", "b", "c")  # type: ignore[call-overload]
    with pytest.raises(furu.FuruConfigError, match="stands in for a furu step, and got str"):
        stub("model.dataset", [1])  # type: ignore[arg-type]


def test_a_stub_wins_over_a_cached_result_and_a_string_result_is_not_a_path() -> None:
    dataset = Dataset(name="cached")
    assert dataset.load_or_create() == [1, 2, 3]
    with stub(dataset, "a string result"):
        assert dataset.load_or_create() == "a string result"
    assert dataset.load_or_create() == [1, 2, 3]


def test_stubs_nest_and_the_innermost_wins() -> None:
    dataset = Dataset(name="n")
    with stub(dataset, [1]):
        with stub(dataset, [2]):
            assert dataset.load_or_create() == [2]
        assert dataset.load_or_create() == [1]
    assert not dataset.exists()


def test_a_stub_belongs_to_the_thread_that_opened_it() -> None:
    dataset = Dataset(name="threads")
    seen: list[bool] = []
    with stub(dataset, [1]):
        thread = threading.Thread(target=lambda: seen.append(dataset.exists()))
        thread.start()
        thread.join()
        assert dataset.exists()
    assert seen == [False]


def test_planning_and_batches_count_a_stubbed_step_as_cached(furu_store: Path) -> None:
    report = Report(model=Model(dataset=Dataset(name="planned")))
    with stub(report, "model.dataset", [4]):
        the_plan = furu.plan([report])
        assert [p.describe().split()[0] for p in the_plan.to_create] == ["Model", "Report"]
        results = furu.load_or_create_many([report], executor=furu.InlineExecutor(), progress=False)
    assert results == ["score 4"]
    assert CREATED["Dataset"] == 0
    assert not Dataset(name="planned").furu_dir.exists()

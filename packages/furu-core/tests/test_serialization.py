"""furu._serialization: to_dict / from_dict round trips and to_python."""

from __future__ import annotations

import datetime
import json
import math
import pathlib
import re
from typing import Any

import core_test_steps as steps
import numpy as np
import pytest

import furu
from furu import FuruConfigError, FuruSerializer
from furu._serialization import from_dict, import_qualified, python_imports, to_dict, to_python


def _round_trip(value: Any) -> Any:
    return from_dict(json.loads(json.dumps(to_dict(value))))


def test_nested_step_round_trip() -> None:
    step = steps.Evaluate(model=steps.TrainTextModel(dataset=steps.Dataset(name="n")))
    data = step.to_dict()
    assert data == {
        "__class__": "core_test_steps:Evaluate",
        "model": {
            "__class__": "core_test_steps:TrainTextModel",
            "dataset": {"__class__": "core_test_steps:Dataset", "name": "n"},
        },
    }
    back = steps.Evaluate.from_dict(json.loads(json.dumps(data)))
    assert back == step
    assert back._furu_hash == step._furu_hash


def test_every_kind_of_value_round_trips() -> None:
    step = steps.Everything()
    data = json.loads(json.dumps(step.to_dict()))  # it is JSON-safe
    back = furu.Furu.from_dict(data)
    assert isinstance(back, steps.Everything)
    assert back == step
    assert back._furu_hash == step._furu_hash
    assert type(back.shape) is tuple
    assert type(back.tags) is frozenset
    assert type(back.chosen) is set
    assert isinstance(back.where, pathlib.Path)
    assert back.color is steps.Color.BLUE
    assert back.when.tzinfo is not None
    assert back.table == {1: "one", 20: "twenty"}
    assert back.kind is int
    assert back.blob == b"\x00\x01"


def test_tags() -> None:
    data = steps.Everything().to_dict()
    assert data["shape"] == {"__tuple__": [1, 2, 3]}
    assert data["tags"] == {"__frozenset__": ["a", "b"]}
    assert data["chosen"] == {"__set__": [1, 2, 3]}
    assert data["where"] == {"__path__": "/data/x.csv"}
    assert data["color"] == {"__enum__": "core_test_steps:Color", "name": "BLUE"}
    assert data["when"] == {"__datetime__": "2024-01-02T03:04:05+00:00"}
    assert data["day"] == {"__date__": "2024-05-06"}
    assert data["span"] == {"__timedelta__": 3603.0}
    assert data["table"] == {"__dict__": [[1, "one"], [20, "twenty"]]}
    assert data["named"] == {"w": [0.5, 1.5]}
    assert data["big"] == {"__float__": "inf"}
    assert data["blob"] == {"__bytes__": "AAE="}
    assert data["kind"] == {"__type__": "builtins:int"}
    assert data["nothing"] is None


@pytest.mark.parametrize(
    "value",
    [
        (1, (2, 3), []),
        [(1,), {"a": (2,)}],
        {1: "a", (2, 3): "b", "c": {4.5: None}},
        {"__class__": "not a class, just a key"},
        {"__tuple__": "a plain dict whose key looks like a tag"},
        frozenset({1, 2}),
        {"x", "y"},
        pathlib.PurePosixPath("/a/b"),
        datetime.date(2020, 2, 29),
        datetime.time(12, 30, 1),
        datetime.timedelta(days=2, microseconds=5),
        b"bytes",
        float("inf"),
        float("-inf"),
        -0.0,
        True,
        None,
        steps.Color.RED,
    ],
    ids=lambda v: type(v).__name__,  # repr of a set varies with the hash seed (xdist)
)
def test_values_round_trip(value: Any) -> None:
    back = _round_trip(value)
    assert back == value
    assert type(back) is type(value) or isinstance(value, pathlib.PurePath)


@pytest.mark.parametrize("key", ["__class__", "__tuple__", "__path__", "__repr__", "__x__"])
def test_dict_keys_that_look_like_tags(key: str) -> None:
    value = {key: "user data", "other": 1}
    assert to_dict(value) == {"__dict__": [[key, "user data"], ["other", 1]]}
    assert _round_trip(value) == value


def test_dict_with_int_keys_keeps_int_keys() -> None:
    back = _round_trip({1: "a", 2: "b"})
    assert back == {1: "a", 2: "b"}
    assert all(type(k) is int for k in back)


def test_nan_round_trips() -> None:
    assert to_dict(float("nan")) == {"__float__": "nan"}
    assert math.isnan(_round_trip(float("nan")))
    back = _round_trip([float("nan"), float("inf")])
    assert math.isnan(back[0])
    assert back[1] == float("inf")


def test_small_numpy_array_round_trips() -> None:
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    back = _round_trip(array)
    assert back.dtype == np.float32
    assert back.shape == (2, 3)
    assert np.array_equal(back, array)
    assert to_dict(np.int64(3)) == 3


def test_summarised_values_cannot_be_rebuilt() -> None:
    for value in (b"x" * 20_000, np.zeros(20_000), object()):
        data = json.loads(json.dumps(to_dict(value)))
        with pytest.raises(FuruConfigError) as info:
            from_dict(data)
        message = str(info.value)
        assert message.startswith("cannot rebuild a value stored only as a summary (")
        assert "large arrays, buffers and unknown types are summarised by to_dict" in message
        assert "Construct it in Python." in message
    assert to_dict(b"x" * 20_000) == {"__bytes_summary__": {"size": 20_000}}
    assert to_dict(np.zeros((200, 100))) == {
        "__ndarray_summary__": {"dtype": "<f8", "shape": [200, 100]}
    }


def test_unknown_class_cannot_be_imported() -> None:
    with pytest.raises(FuruConfigError) as info:
        from_dict({"__class__": "no_such_module_xyz.Thing", "a": 1})
    assert str(info.value) == (
        "cannot import 'no_such_module_xyz.Thing': no importable module defines it. Make sure "
        "the package that defines it is installed in this environment (and the name was not "
        "renamed)."
    )
    with pytest.raises(FuruConfigError, match=re.escape("'core_test_steps.Renamed'")):
        import_qualified("core_test_steps.Renamed")


def test_a_class_reference_names_module_and_qualname_apart() -> None:
    assert import_qualified("core_test_steps:Color") is steps.Color
    assert import_qualified("pathlib:PurePosixPath") is pathlib.PurePosixPath
    with pytest.raises(FuruConfigError) as info:
        import_qualified("core_test_steps:Renamed")
    assert str(info.value) == (
        "cannot import 'core_test_steps:Renamed': module 'core_test_steps' does not define "
        "'Renamed'. Make sure the package that defines it is installed in this environment (and "
        "the class was not renamed or moved)."
    )


def test_records_of_older_stores_still_read() -> None:
    """Before `module:Qualname`, records named classes `module.Qualname`."""
    old = {"__class__": "core_test_steps.TrainModel", "lr": 0.5, "steps": 3}
    assert from_dict(old) == steps.TrainModel(lr=0.5, steps=3)
    assert from_dict({"__enum__": "core_test_steps.Color", "name": "RED"}) is steps.Color.RED


def test_import_qualified_nested_names() -> None:
    assert import_qualified("core_test_steps.Color.RED") is steps.Color.RED
    assert import_qualified("pathlib.PurePosixPath") is pathlib.PurePosixPath


def test_from_dict_checks_the_class() -> None:
    data = steps.TrainModel().to_dict()
    assert steps.TrainModel.from_dict(data) == steps.TrainModel()
    assert furu.Furu.from_dict(data) == steps.TrainModel()
    with pytest.raises(FuruConfigError) as info:
        steps.Dataset.from_dict(data)
    assert str(info.value) == (
        "Dataset.from_dict got a TrainModel (from __class__='core_test_steps:TrainModel'); "
        "call from_dict on that class or on furu.Furu."
    )
    # A subclass is a match for its parent.
    child = steps.Child(a=1, b=5)
    assert steps.Parent.from_dict(child.to_dict()) == child


def test_to_python_of_the_readme_example() -> None:
    step = steps.TrainModel(lr=3e-4, steps=5000)
    assert step.to_python() == "TrainModel(lr=0.0003, steps=5000)"
    assert eval(step.to_python(), {"TrainModel": steps.TrainModel}) == step


def test_to_python_evaluates_back() -> None:
    step = steps.Everything()
    code = step.to_python()
    namespace: dict[str, Any] = {}
    exec("\n".join(python_imports(step)), namespace)
    assert eval(code, namespace) == step
    nested = steps.Evaluate()
    assert nested.to_python() == "Evaluate(model=TrainTextModel(dataset=Dataset(name='toy')))"


def test_python_imports() -> None:
    assert python_imports(steps.Everything()) == [
        "import datetime",
        "from core_test_steps import Color, Dataset, Everything",
        "from pathlib import PosixPath",
    ]
    assert python_imports([steps.Color, int]) == ["from core_test_steps import Color"]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ((1,), "(1,)"),
        ((), "()"),
        ([1, (2, 3)], "[1, (2, 3)]"),
        ({"a": 1}, "{'a': 1}"),
        (float("nan"), 'float("nan")'),
        (float("-inf"), 'float("-inf")'),
        (steps.Color.RED, "Color.RED"),
        (pathlib.PurePosixPath("/x"), "PurePosixPath('/x')"),
        (int, "int"),
    ],
)
def test_to_python_values(value: Any, code: str) -> None:
    assert to_python(value) == code


def test_serializer_namespace() -> None:
    step = steps.TrainModel()
    assert FuruSerializer.to_dict(step) == step.to_dict()
    assert FuruSerializer.from_dict(step.to_dict()) == step
    assert FuruSerializer.to_python(step) == step.to_python()

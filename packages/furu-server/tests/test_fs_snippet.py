"""Snippets rendered from a recorded config, and overrides."""

from __future__ import annotations

from typing import Any

import pytest

from furu_server import ServerError
from furu_server._snippet import apply_overrides, parse_overrides, snippet


def test_tagged_values_become_the_python_that_rebuilds_them() -> None:
    config = {
        "__class__": "pkg.mod.Train",
        "layers": {"__tuple__": [1]},
        "tags": {"__frozenset__": ["a"]},
        "path": {"__path__": "/data"},
        "mode": {"__enum__": "pkg.enums.Mode", "name": "FAST"},
        "when": {"__date__": "2024-01-02"},
        "gap": {"__timedelta__": 2.0},
        "nan": {"__float__": "nan"},
        "pairs": {"__dict__": [[1, "one"]]},
        "plain": {"a": [1, None, True]},
    }
    out = snippet(config, "pkg.mod.Train", {})
    assert out.imports == [
        "import datetime",
        "from pathlib import Path",
        "from pkg.enums import Mode",
        "from pkg.mod import Train",
    ]
    for piece in (
        "layers=(1,)",
        "tags=frozenset({'a'})",
        "path=Path('/data')",
        "mode=Mode.FAST",
        "when=datetime.date.fromisoformat('2024-01-02')",
        "gap=datetime.timedelta(seconds=2.0)",
        "nan=float('nan')",
        "pairs={1: 'one'}",
        "plain={'a': [1, None, True]}",
    ):
        assert piece in out.code, piece
    compile(out.code, "<snippet>", "exec")
    compile(out.rerun_code, "<snippet>", "exec")


def test_summaries_are_flagged() -> None:
    out = snippet({"__class__": "p.T", "big": {"__ndarray_summary__": {"shape": [9]}}}, "p.T", {})
    assert out.code.startswith("# Some values were recorded only as summaries")
    assert "big=None" in out.code
    compile(out.code, "<snippet>", "exec")


def test_overrides() -> None:
    config = {
        "__class__": "p.T",
        "lr": 0.1,
        "dep": {"__class__": "p.D", "n": 1},
        "xs": {"__tuple__": [1, 2]},
    }
    changed = apply_overrides(config, {"lr": 0.5, "dep.n": 2, "xs.1": 9})
    assert changed["lr"] == 0.5
    assert changed["dep"]["n"] == 2
    assert changed["xs"] == {"__tuple__": [1, 9]}
    assert config["lr"] == 0.1
    for bad in ({"nope": 1}, {"dep.__class__": "x"}, {"xs.5": 1}, {"lr.x": 1}):
        with pytest.raises(ServerError) as err:
            apply_overrides(config, bad)
        assert err.value.code == "bad_request"
    assert parse_overrides(["lr=0.5", "name=big", 'q="3"']) == {"lr": 0.5, "name": "big", "q": "3"}
    with pytest.raises(ServerError):
        parse_overrides(["novalue"])


@pytest.mark.parametrize(
    ("planted", "field"),
    [
        ({"__class__": "p:T\nimport os; os.system('id')  #"}, "config.__class__"),
        ({"__class__": "p.T", "x": {"__class__": "os:system(1)"}}, "config.x.__class__"),
        ({"__class__": "p.T", "x=os.system('id'), y": 1}, "config"),
        (
            {"__class__": "p.T", "m": {"__enum__": "p:Mode", "name": "A; import os"}},
            "config.m.name",
        ),
        ({"__class__": "p.T", "t": [{"__type__": "os:(system)"}]}, "config.t[0].__type__"),
        ({"__class__": "q.Other"}, "config.__class__"),
    ],
)
def test_a_planted_name_never_becomes_code(planted: dict[str, Any], field: str) -> None:
    with pytest.raises(ServerError) as err:
        snippet(planted, "p.T", {})
    assert err.value.status == 422
    assert err.value.detail == {"path": field}
    assert "metadata.json" in err.value.message


def test_an_override_with_a_bad_class_name_is_a_400() -> None:
    config = {"__class__": "p:T", "dep": {"__class__": "p:D", "n": 1}}
    bad = {"dep": {"__class__": "os:system\nx", "n": 1}}
    with pytest.raises(ServerError) as err:
        snippet(config, "p.T", bad)
    assert (err.value.status, err.value.detail) == (400, {"path": "override dep.__class__"})


def test_a_config_too_deep_or_too_large_to_render_is_a_4xx() -> None:
    deep: dict[str, Any] = {"__class__": "p:T", "x": 1}
    inner = deep
    for _ in range(2000):
        inner["x"] = {"y": 1}
        inner = inner["x"]
    with pytest.raises(ServerError) as err:
        snippet(deep, "p.T", {})
    assert err.value.status == 422
    assert "deeper than 100 levels" in err.value.message
    huge = {"__class__": "p:T", "note": "n" * (9 * 1024 * 1024)}
    with pytest.raises(ServerError) as err:
        snippet(huge, "p.T", {})
    assert (err.value.status, err.value.detail) == (422, {"path": "config.note"})
    with pytest.raises(ServerError) as err:
        snippet({"__class__": "p:T", "note": "n"}, "p.T", {"note": "n" * (9 * 1024 * 1024)})
    assert err.value.status == 400


def test_an_override_nested_too_deep_to_parse_is_a_400() -> None:
    with pytest.raises(ServerError) as err:
        parse_overrides(["lr=" + "[" * 100_000 + "]" * 100_000])
    assert (err.value.status, err.value.detail) == (400, {"override": "lr"})

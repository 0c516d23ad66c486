"""A planted record (`metadata.json`'s `furu_obj`, what a rerun rebuilds) runs no code: only
furu steps, chz config classes, enums and the tagged value types are constructed, each class is
checked before it is called, and names are checked before they are imported or become code."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import core_test_steps as steps
import pytest

import furu
from furu import FuruConfigError, render_config
from furu._serialization import from_dict


def _planted_calls(marker: Path) -> dict[str, dict[str, Any]]:
    """Records whose `__class__` is a callable that would create `marker` if called."""
    return {
        "subprocess.run": {"__class__": "subprocess:run", "args": ["touch", str(marker)]},
        "Path.touch": {"__class__": "pathlib:Path.touch", "self": {"__path__": str(marker)}},
        "Popen": {"__class__": "subprocess:Popen", "args": ["touch", str(marker)]},
    }


@pytest.mark.parametrize("case", ["subprocess.run", "Path.touch", "Popen"])
def test_a_planted_callable_is_refused_before_it_is_called(tmp_path: Path, case: str) -> None:
    marker = tmp_path / "ran"
    record = _planted_calls(marker)[case]
    with pytest.raises(FuruConfigError) as caught:
        furu.Furu.from_dict(record)
    message = str(caught.value)
    assert f"the config names {record['__class__']!r}" in message
    assert "not a furu step or chz config class" in message
    assert "from_dict constructs only furu steps, chz config classes" in message
    # Nested inside a real step's config, it is refused too (before the step is built).
    nested = {**steps.Dataset(name="a").to_dict(), "name": record}
    with pytest.raises(FuruConfigError, match="not a furu step or chz config class"):
        furu.Furu.from_dict(nested)
    assert not marker.exists()


def test_tagged_values_name_only_what_their_tag_allows() -> None:
    with pytest.raises(FuruConfigError, match="which is _Environ, not an enum"):
        from_dict({"__enum__": "os:environ", "name": "PATH"})
    with pytest.raises(FuruConfigError, match="which is builtin_function_or_method, not a class"):
        from_dict({"__type__": "builtins:eval"})
    with pytest.raises(FuruConfigError, match="has no such member"):
        from_dict({"__enum__": "core_test_steps:Color", "name": "__class__"})
    assert from_dict({"__enum__": "core_test_steps:Color", "name": "RED"}) is steps.Color.RED


@pytest.mark.parametrize(
    "name",
    [
        "os:system\nimport shutil",
        "planted_mod_xyz; import os:Thing",
        "../etc:passwd",
        ":Thing",
        "planted_mod_xyz:",
        "planted_mod_xyz:Thing()",
        "x" * 2000 + ":Thing",
    ],
)
def test_a_malformed_class_name_is_refused_before_any_import(name: str) -> None:
    before = set(sys.modules)
    with pytest.raises(FuruConfigError) as caught:
        from_dict({"__class__": name})
    assert "is not a Python name of the form module:Qualname" in str(caught.value)
    assert set(sys.modules) == before


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({"__class__": "pkg.mod:Step\nimport os; os.system('x')"}, "not a Python name"),
        ({"__class__": "pkg.mod:Step", "x=1, y": 2}, "has a field 'x=1, y'"),
        (
            {"__class__": "pkg.mod:Step", "mode": {"__enum__": "pkg:Mode", "name": "A; boom()"}},
            "the enum member 'A; boom()'",
        ),
        ({"__class__": "pkg.mod:Step", "t": {"__type__": "a b:C"}}, "not a Python name"),
    ],
)
def test_rendering_refuses_names_that_would_become_other_code(
    config: dict[str, Any], problem: str
) -> None:
    with pytest.raises(FuruConfigError, match="edited or damaged") as caught:
        render_config(config)
    assert problem in str(caught.value)

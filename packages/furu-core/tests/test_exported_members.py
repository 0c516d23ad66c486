"""The public API: `furu.__all__` is sorted, complete, and every name in it exists.

Modelled on httpx's `tests/test_exported_members.py`. The order is the one ruff's RUF022
enforces on `__all__` (an "isort-style" sort: SCREAMING_CASE constants, then CamelCase classes,
then everything else, each group in natural, case-sensitive order), so `ruff check --fix`
sorts it and this test agrees with the linter.
"""

from __future__ import annotations

import re
import tomllib
import types
from pathlib import Path

import pytest

import furu

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def _isort_key(name: str) -> tuple[int, list[int | str]]:
    kind = 0 if len(name) > 1 and name.isupper() else 1 if name[:1].isupper() else 2
    return kind, [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _is_submodule(value: object) -> bool:
    return isinstance(value, types.ModuleType) and value.__name__.startswith("furu.")


def test_all_is_sorted_without_duplicates() -> None:
    assert len(set(furu.__all__)) == len(furu.__all__)
    assert furu.__all__ == sorted(furu.__all__, key=_isort_key), (
        "keep furu.__all__ in ruff's RUF022 order: `ruff check --select RUF022 --fix`"
    )


def test_every_exported_name_exists() -> None:
    missing = [name for name in furu.__all__ if not hasattr(furu, name)]
    assert missing == []


def test_every_public_name_is_exported() -> None:
    public = [name for name in dir(furu) if not name.startswith("_")]
    unexported = [
        name
        for name in public
        if name not in furu.__all__ and not _is_submodule(getattr(furu, name))
    ]
    assert unexported == [], "add these to furu.__all__, or import them under a private name"


def test_module_globals_hold_nothing_public_beyond_all() -> None:
    for name in furu.__all__:
        getattr(furu, name)  # resolve every lazily imported name into the module's globals
    extra = [
        name
        for name, value in vars(furu).items()
        if not name.startswith("_") and name not in furu.__all__ and not _is_submodule(value)
    ]
    assert extra == []


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from furu import *", namespace)
    assert sorted(k for k in namespace if k != "__builtins__") == sorted(furu.__all__)


def test_lazy_names_are_the_real_objects() -> None:
    from furu import _batch, _executor, _planning, _state

    assert furu.load_or_create_many is _batch.load_or_create_many
    assert furu.LocalExecutor is _executor.LocalExecutor
    assert furu.plan is _planning.plan
    assert furu.StateManager is _state.StateManager


def test_unknown_attribute_error() -> None:
    with pytest.raises(AttributeError) as info:
        furu.no_such_name  # type: ignore[attr-defined]  # noqa: B018
    assert str(info.value) == "module 'furu' has no attribute 'no_such_name'"


def test_version_matches_pyproject() -> None:
    with PYPROJECT.open("rb") as f:
        version = tomllib.load(f)["project"]["version"]
    assert furu.__version__ == version

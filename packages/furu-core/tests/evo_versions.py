"""Versions of one step class, as a code change makes them, for the explain and catalog tests.

`model(lr=(float, 0.1))` and `model(lr=(float, 0.1), average=(bool, False))` are two classes
with one namespace (`evo_versions.Model`): what the store sees before and after someone adds
`average: bool = False` to the class.
"""

from __future__ import annotations

import types
from typing import Any

import furu

NO_DEFAULT: Any = object()
MODEL = "evo_versions.Model"
EVALUATE = "evo_versions.Evaluate"


def _create(self: Any) -> int:
    model = getattr(self, "model", None)
    if model is not None:
        model.load_or_create()
    (self.furu_dir / "out.txt").write_text("1")
    return 1


def _load(self: Any) -> int:
    return int((self.furu_dir / "out.txt").read_text())


def _version(name: str, fields: dict[str, tuple[Any, Any]]) -> type[furu.Furu[int]]:
    body: dict[str, Any] = {
        "__module__": __name__,
        "__qualname__": name,
        "__annotations__": {k: t for k, (t, _) in fields.items()},
        "_create": _create,
        "_load": _load,
    }
    body.update({k: d for k, (_, d) in fields.items() if d is not NO_DEFAULT})
    return types.new_class(name, (furu.Furu[int],), exec_body=lambda ns: ns.update(body))


def model(**fields: tuple[Any, Any]) -> type[furu.Furu[int]]:
    """A version of `evo_versions.Model` with these `name=(type, default)` fields."""
    return _version("Model", fields)


def evaluate(model_class: type[furu.Furu[int]], **fields: tuple[Any, Any]) -> type[Any]:
    """A version of `evo_versions.Evaluate` holding a `model` of `model_class`."""
    return _version("Evaluate", {"model": (model_class, NO_DEFAULT), **fields})

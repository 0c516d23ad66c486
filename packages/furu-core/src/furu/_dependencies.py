"""Finding the steps a step depends on: nested step fields, and its `_dependencies()` hook."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import chz

if TYPE_CHECKING:
    from furu._furu import Furu


def _walk(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    from furu._furu import Furu

    if isinstance(value, Furu):
        yield path, value
    elif chz.is_chz(value) and not isinstance(value, type):
        for name in value.__chz_fields__:
            yield from _walk(getattr(value, name), f"{path}.{name}" if path else name)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _walk(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, f"{path}[{key!r}]")
    elif isinstance(value, set | frozenset):
        for item in value:
            yield from _walk(item, f"{path}{{}}")


def field_steps(step: Furu[Any]) -> list[tuple[str, Furu[Any]]]:
    """The steps held in `step`'s fields (at any depth of containers and plain chz objects)."""
    found: list[tuple[str, Furu[Any]]] = []
    for name in step.__chz_fields__:
        found.extend(_walk(getattr(step, name), name))
    return found


def direct_dependencies(step: Furu[Any]) -> list[tuple[str, Furu[Any]]]:
    """`(where, dependency)` for every step `step` needs before it can be created."""
    from furu._errors import FuruConfigError
    from furu._furu import Furu

    found = field_steps(step)
    for i, dep in enumerate(step._dependencies()):
        if not isinstance(dep, Furu):
            raise FuruConfigError(
                f"{type(step).__qualname__}._dependencies() returned {dep!r} at index {i}, "
                "which is not a furu step instance. Return step instances (e.g. "
                "[Dataset(name='x')]), not classes or other values."
            )
        found.append((f"_dependencies()[{i}]", dep))
    return found

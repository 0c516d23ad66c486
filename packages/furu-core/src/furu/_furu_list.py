"""`FuruList`: a named collection of experiments, declared as class attributes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Generic, TypeVar

from furu._furu import Furu

T = TypeVar("T", bound=Furu[Any])


class _FuruListMeta(type):
    """Lets the class itself be iterated: `for exp in MyExperiments: ...`."""

    def __iter__(cls) -> Iterator[Any]:
        return iter(cls.all())  # type: ignore[attr-defined]

    def __len__(cls) -> int:
        return len(cls.items())  # type: ignore[attr-defined]


class FuruList(Generic[T], metaclass=_FuruListMeta):
    """Experiments as class attributes (steps, or dicts of name -> step), in definition order.

    ```python
    class MyExperiments(furu.FuruList[TrainModel]):
        baseline = TrainModel(lr=1e-3)
        configs = {"tiny": TrainModel(steps=100)}
    ```
    """

    @classmethod
    def items(cls) -> list[tuple[str, T]]:
        """`(name, step)` pairs; a dict attribute contributes one pair per key."""
        found: dict[str, T] = {}
        for klass in reversed(cls.__mro__):
            for attr, value in vars(klass).items():
                if attr.startswith("_"):
                    continue
                if isinstance(value, Furu):
                    found[attr] = value  # type: ignore[assignment]
                elif (
                    isinstance(value, dict)
                    and value
                    and all(isinstance(v, Furu) for v in value.values())
                ):
                    found.update({str(k): v for k, v in value.items()})
        return list(found.items())

    @classmethod
    def all(cls) -> list[T]:
        """Every step, in definition order."""
        return [step for _, step in cls.items()]

    @classmethod
    def by_name(cls, name: str) -> T:
        """The step called `name` (an attribute name or a dict key)."""
        for key, step in cls.items():
            if key == name:
                return step
        names = ", ".join(key for key, _ in cls.items()) or "none"
        raise KeyError(f"{cls.__qualname__} has no experiment named {name!r}; it has: {names}")

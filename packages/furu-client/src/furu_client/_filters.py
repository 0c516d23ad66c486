"""A Python builder for the filter language (the JSON tree the server's search accepts).

```python
from furu_client import F

f = (F.config.lr < 1e-3) & (F.status == "success") & ~F.tags.contains("broken")
f.to_json()   # {"op": "and", "args": [...]}
str(f)        # 'config.lr < 0.001 and status = "success" and not tags contains "broken"'
client.search(f)
```

`F.<name>` names a field; attribute access goes deeper (`F.config.optimizer.lr`), `[i]` picks
a list item (`F.config.layers[0]`), and `F("config.weird-key")` takes any path, including
ones whose names clash with the builder's methods (`contains`, `exists`, ...).
"""

from __future__ import annotations

import json
import math
from typing import Any

Scalar = str | int | float | bool | None
_SYMBOL = {"eq": "=", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


def _text(value: Scalar) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return json.dumps(str(value))
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value)


def _check(value: Any) -> Scalar:
    if value is not None and not isinstance(value, str | int | float | bool):
        raise TypeError(
            f"filter values are text, numbers, booleans or None; got {type(value).__name__} "
            f"{value!r}"
        )
    return value


class Condition:
    """A filter expression: combine with `&`, `|` and `~`; `to_json()` gives the tree."""

    __slots__ = ("_tree",)

    def __init__(self, tree: dict[str, Any]) -> None:
        self._tree = tree

    def to_json(self) -> dict[str, Any]:
        """The JSON tree (a fresh copy)."""
        return json.loads(json.dumps(self._tree))  # type: ignore[no-any-return]

    def __and__(self, other: Condition) -> Condition:
        return Condition({"op": "and", "args": [*self._args("and"), *other._args("and")]})

    def __or__(self, other: Condition) -> Condition:
        return Condition({"op": "or", "args": [*self._args("or"), *other._args("or")]})

    def __invert__(self) -> Condition:
        return Condition({"op": "not", "arg": self._tree})

    def __bool__(self) -> bool:
        raise TypeError(
            "a filter condition has no truth value: combine conditions with &, | and ~ "
            "(not `and`, `or`, `not`), and parenthesise comparisons: (F.a < 1) & (F.b == 2)"
        )

    def _args(self, op: str) -> list[dict[str, Any]]:
        return list(self._tree["args"]) if self._tree["op"] == op else [self._tree]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Condition) and other._tree == self._tree

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Condition({self.to_text()!r})"

    def __str__(self) -> str:
        return self.to_text()

    def to_text(self) -> str:
        """The text form (what a search box accepts)."""
        return _print(self._tree, top=True)


def _print(tree: dict[str, Any], top: bool = False) -> str:
    op = tree["op"]
    if op in ("and", "or"):
        if not tree["args"]:
            return "true" if op == "and" else "false"
        inner = f" {op} ".join(_print(a) for a in tree["args"])
        return inner if top or len(tree["args"]) == 1 else f"({inner})"
    if op == "not":
        return f"not {_print(tree['arg'])}"
    path = tree["path"]
    if op in _SYMBOL:
        return f"{path} {_SYMBOL[op]} {_text(tree['value'])}"
    if op == "between":
        return f"{path} between {_text(tree['low'])} and {_text(tree['high'])}"
    if op == "in":
        return f"{path} in ({', '.join(_text(v) for v in tree['values'])})"
    if op in ("contains", "startswith", "regex"):
        word = "matches" if op == "regex" else op
        return f"{path} {word} {_text(tree['value'])}"
    return f"{path} exists"


class Field:
    """A path into an experiment (`config.lr`, `status`, `meta.git_commit`, `tags`)."""

    __slots__ = ("_path",)

    def __init__(self, path: str = "") -> None:
        self._path = path

    @property
    def path(self) -> str:
        return self._path

    def __call__(self, path: str) -> Field:
        return Field(f"{self._path}.{path}" if self._path else path)

    def __getattr__(self, name: str) -> Field:
        if name.startswith("__") and name.endswith("__") and name != "__class__":
            raise AttributeError(name)
        return self(name)

    def __getitem__(self, key: int | str) -> Field:
        if isinstance(key, int):
            return Field(f"{self._path}[{key}]")
        return self(key)

    def _need_path(self) -> str:
        if not self._path:
            raise ValueError("name a field first, e.g. F.config.lr or F('status')")
        return self._path

    def _compare(self, op: str, value: Any) -> Condition:
        return Condition({"op": op, "path": self._need_path(), "value": _check(value)})

    def __eq__(self, value: object) -> Condition:  # type: ignore[override]
        return self._compare("eq", value)

    def __ne__(self, value: object) -> Condition:  # type: ignore[override]
        return self._compare("ne", value)

    def __lt__(self, value: Scalar) -> Condition:
        return self._compare("lt", value)

    def __le__(self, value: Scalar) -> Condition:
        return self._compare("le", value)

    def __gt__(self, value: Scalar) -> Condition:
        return self._compare("gt", value)

    def __ge__(self, value: Scalar) -> Condition:
        return self._compare("ge", value)

    __hash__ = None  # type: ignore[assignment]

    def between(self, low: Scalar, high: Scalar) -> Condition:
        """`low <= field <= high`."""
        return Condition(
            {"op": "between", "path": self._need_path(), "low": _check(low), "high": _check(high)}
        )

    def isin(self, *values: Scalar) -> Condition:
        """The field equals one of `values`."""
        return Condition(
            {"op": "in", "path": self._need_path(), "values": [_check(v) for v in values]}
        )

    def contains(self, text: str) -> Condition:
        """The text contains `text` (for `tags`: has the tag `text`)."""
        return Condition({"op": "contains", "path": self._need_path(), "value": str(text)})

    def startswith(self, text: str) -> Condition:
        return Condition({"op": "startswith", "path": self._need_path(), "value": str(text)})

    def matches(self, pattern: str) -> Condition:
        """The text matches the regular expression `pattern` (RE2: Python syntax without
        backreferences or lookaround; searched)."""
        return Condition({"op": "regex", "path": self._need_path(), "value": str(pattern)})

    def exists(self) -> Condition:
        """The field has a value (for `config.x`: `x` or anything below it)."""
        return Condition({"op": "exists", "path": self._need_path()})

    def __repr__(self) -> str:
        return f"Field({self._path!r})"


F = Field()
"""The root of every field path: `F.config.lr`, `F.status`, `F("meta.git_commit")`."""


def all_of(*conditions: Condition) -> Condition:
    """True when every condition is (`all_of()` is always true)."""
    return Condition({"op": "and", "args": [c.to_json() for c in conditions]})


def any_of(*conditions: Condition) -> Condition:
    """True when any condition is (`any_of()` is always false)."""
    return Condition({"op": "or", "args": [c.to_json() for c in conditions]})

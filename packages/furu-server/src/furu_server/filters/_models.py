"""The filter language as JSON: one expression tree, discriminated by `op`.

```json
{"op": "and", "args": [
    {"op": "lt", "path": "config.lr", "value": 0.001},
    {"op": "eq", "path": "status", "value": "success"}
]}
```

The text form (`config.lr < 1e-3 and status = success`, see `_parser.py`) parses to this
tree, furu-client builds it, and the index compiles it to SQL (`_sql.py`).
"""

from __future__ import annotations

from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from furu_server._errors import FilterInvalidError

Scalar = str | int | float | bool | None
MAX_DEPTH = 24
"""Levels of nesting (`and`, `or`, `not`) a filter may have: SQLite parses the compiled
condition with a fixed parser stack, and a test runs the deepest allowed tree of every shape."""
MAX_NODES = 1000
"""Conditions (nodes) a filter may have."""
MAX_PATH = 500
"""Characters in a field path."""
MAX_TEXT = 1000
"""Characters in the text of `contains`, `startswith` and `regex`."""
MAX_VALUES = 1000
"""Values in an `in` list."""


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid")


_N = TypeVar("_N", bound=BaseModel)


class AndFilter(_Node):
    """True when every argument is (an empty `and` is true)."""

    op: Literal["and"]
    args: list[FilterExpr]


class OrFilter(_Node):
    """True when any argument is (an empty `or` is false)."""

    op: Literal["or"]
    args: list[FilterExpr]


class NotFilter(_Node):
    """True when its argument is false (including when the field is missing)."""

    op: Literal["not"]
    arg: FilterExpr


class CompareFilter(_Node):
    """`path <op> value`; values compare only with values of the same kind (number, text, bool)."""

    op: Literal["eq", "ne", "lt", "le", "gt", "ge"]
    path: str = Field(min_length=1, max_length=MAX_PATH)
    value: Scalar


class BetweenFilter(_Node):
    """`low <= path <= high`."""

    op: Literal["between"]
    path: str = Field(min_length=1, max_length=MAX_PATH)
    low: Scalar
    high: Scalar


class InFilter(_Node):
    """`path` equals one of `values`."""

    op: Literal["in"]
    path: str = Field(min_length=1, max_length=MAX_PATH)
    values: list[Scalar] = Field(max_length=MAX_VALUES)


class TextFilter(_Node):
    """Text matching: `contains` (a substring; for `tags`, a tag), `startswith`, `regex`."""

    op: Literal["contains", "startswith", "regex"]
    path: str = Field(min_length=1, max_length=MAX_PATH)
    value: str = Field(max_length=MAX_TEXT)


class ExistsFilter(_Node):
    """`path` has a value (for `config.x`: `x` or anything below it)."""

    op: Literal["exists"]
    path: str = Field(min_length=1, max_length=MAX_PATH)


FilterExpr = Annotated[
    AndFilter
    | OrFilter
    | NotFilter
    | CompareFilter
    | BetweenFilter
    | InFilter
    | TextFilter
    | ExistsFilter,
    Field(discriminator="op"),
]

for _model in (AndFilter, OrFilter, NotFilter):
    _model.model_rebuild()


def check_size(expr: FilterExpr, count: int = 0) -> int:
    """Refuse trees too deep or too large to compile (they would only be abuse).

    Returns `count` plus the tree's nodes (to hold several and-ed trees to `MAX_NODES` in all).

    Raises:
        FilterInvalidError: more than `MAX_DEPTH` levels or `MAX_NODES` conditions.
    """
    stack: list[tuple[FilterExpr, int]] = [(expr, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if depth > MAX_DEPTH:
            raise FilterInvalidError(_too_deep())
        if count > MAX_NODES:
            raise FilterInvalidError(
                f"the filter has more than {MAX_NODES} conditions (the limit); simplify it, "
                "e.g. use `in` instead of many `or`s."
            )
        if isinstance(node, AndFilter | OrFilter):
            stack += [(arg, depth + 1) for arg in node.args]
        elif isinstance(node, NotFilter):
            stack.append((node.arg, depth + 1))
    return count


_NAMES = {"path": "field path", "value": "text", "values": "`in` list"}
_ADVICE = {
    "path": "name a shorter field",
    "value": "shorten it (e.g. match a distinctive part)",
    "values": "split the list into several `in`s joined by `or`",
}


def _too_deep() -> str:
    return (
        f"the filter nests more than {MAX_DEPTH} levels deep (the limit for `and`, `or` and "
        "`not` inside each other); flatten it, e.g. `a and b and c` instead of "
        "`a and (b and c)`, and `x` instead of `not not x`."
    )


def check_json_depth(value: object) -> object:
    """`value` (a filter as JSON, not yet validated) if it nests at most `MAX_DEPTH` levels.

    Run before pydantic validates the tree, which recurses once per level (and would answer a
    deep tree with an error about its own recursion rather than the filter's limit). The error
    is the same `filter_invalid` as `check_size`'s (it is no `ValueError`: pydantic lets it
    through).

    Raises:
        FilterInvalidError: the tree is deeper than `MAX_DEPTH`.
    """
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, dict) or node.get("op") not in ("and", "or", "not"):
            continue
        if depth > MAX_DEPTH:
            raise FilterInvalidError(_too_deep())
        children = node.get("args") if node.get("op") != "not" else [node.get("arg")]
        if isinstance(children, list):
            stack += [(child, depth + 1) for child in children]
    return value


def build(model: type[_N], **fields: object) -> _N:
    """`model(**fields)`, with a broken limit raised as the `FilterInvalidError` naming it.

    Filters built in code (the text form's parser, a listing's query parameters) get the same
    limits as the JSON tree the API validates, and the same kind of error: a 4xx, never a 500.

    Raises:
        FilterInvalidError: a field breaks its limit (`MAX_PATH`, `MAX_TEXT`, `MAX_VALUES`).
    """
    try:
        return model(**fields)
    except ValidationError as exc:
        path = fields.get("path")
        raise FilterInvalidError(
            limit_message(exc), path=path if isinstance(path, str) else None
        ) from None


def limit_message(exc: ValidationError) -> str:
    """What a `ValidationError` from building a filter node says, in the filter's words."""
    parts = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "condition"
        name = _NAMES.get(field, field)
        limit = (error.get("ctx") or {}).get("max_length")
        if error["type"] == "string_too_long":
            problem = f"is longer than {limit} characters (the limit for a filter's {name})"
        elif error["type"] == "too_long":
            problem = f"has more than {limit} items (the limit)"
        else:
            problem = f"is invalid: {error['msg']}"
        parts.append(f"the {name} {problem}; {_ADVICE.get(field, 'fix it')}")
    return "; ".join(parts)

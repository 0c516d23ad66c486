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

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from furu_server._errors import FilterInvalidError

Scalar = str | int | float | bool | None
MAX_DEPTH = 32
MAX_NODES = 1000


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid")


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
    path: str = Field(min_length=1, max_length=500)
    value: Scalar


class BetweenFilter(_Node):
    """`low <= path <= high`."""

    op: Literal["between"]
    path: str = Field(min_length=1, max_length=500)
    low: Scalar
    high: Scalar


class InFilter(_Node):
    """`path` equals one of `values`."""

    op: Literal["in"]
    path: str = Field(min_length=1, max_length=500)
    values: list[Scalar] = Field(max_length=1000)


class TextFilter(_Node):
    """Text matching: `contains` (a substring; for `tags`, a tag), `startswith`, `regex`."""

    op: Literal["contains", "startswith", "regex"]
    path: str = Field(min_length=1, max_length=500)
    value: str = Field(max_length=1000)


class ExistsFilter(_Node):
    """`path` has a value (for `config.x`: `x` or anything below it)."""

    op: Literal["exists"]
    path: str = Field(min_length=1, max_length=500)


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


def check_size(expr: FilterExpr) -> None:
    """Refuse trees too deep or too large to compile (they would only be abuse)."""
    count = 0
    stack: list[tuple[FilterExpr, int]] = [(expr, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if depth > MAX_DEPTH or count > MAX_NODES:
            raise FilterInvalidError(
                f"the filter is too large (more than {MAX_DEPTH} levels deep or {MAX_NODES} "
                "conditions); simplify it, e.g. use `in` instead of many `or`s."
            )
        if isinstance(node, AndFilter | OrFilter):
            stack += [(arg, depth + 1) for arg in node.args]
        elif isinstance(node, NotFilter):
            stack.append((node.arg, depth + 1))

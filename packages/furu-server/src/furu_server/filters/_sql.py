"""Compiling a filter tree to a SQL condition over the index (parameters kept separate).

Where a path points decides how it is compiled:

- `config.<path>`: the leaves of every config are rows of `config_kv` (path, kind, number,
  text), indexed by `(path, num)` and `(path, str)`, so `config.lr < 1e-3` is an index range;
  `result.<name>` the same in `result_kv` (an experiment's scalar results), and
  `downstream.<Class>.result.<name>` tests the direct dependents of class `Class` (`_fields`);
- top-level fields (`status`, `namespace`, `runtime`, ...) and `resources.*` are columns of
  `experiments`, by the names the index's column declaration gives them (`index/_columns.py`);
- `tags` is the `tags` table; `state.*` and `meta.*` are read with `json_extract`.

A value compares only with values of its own kind: `config.lr < 0.1` never matches a text
`lr`, and `not` is the complement (it matches experiments without the field).

Every leaf compiles to a condition that is 0 or 1, never NULL, so `not` is SQL's `NOT`. SQLite
parses a statement with a fixed stack (about 100 entries: 22 nested `NOT coalesce(` overflow it),
so the tree is first normalised: `not` is pushed down to the leaves (De Morgan), `not not x` is
`x`, `ne`/`between`/`in` are spelled with `eq`/`ge`/`le`, and an `and` inside an `and` (an `or`
inside an `or`) is merged into it. What nests in SQL is then only alternating `and`/`or`, at
most `MAX_DEPTH` levels (a test runs the deepest tree of every shape).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from furu_server._errors import FilterInvalidError
from furu_server._regex import RegexError, check_regex
from furu_server.filters._fields import parse_field
from furu_server.filters._models import (
    AndFilter,
    BetweenFilter,
    CompareFilter,
    ExistsFilter,
    FilterExpr,
    InFilter,
    NotFilter,
    OrFilter,
    Scalar,
    TextFilter,
    check_size,
)
from furu_server.index._columns import filter_fields

FIELDS = filter_fields()
"""Every field a filter may name besides `config.*` and `tags`, and the column it compiles to."""
_NAMES = sorted([*FIELDS, "tags"])
_NOT_NULL = frozenset(c.name for c in FIELDS.values() if "NOT NULL" in c.sql)
_KNOWN = ", ".join(sorted([*(n for n, c in FIELDS.items() if c.filter_kind != "json"), "tags"]))
_SEGMENT = re.compile(r"[^.\[\]]+|\[(\d+)\]")
_SQL_OP = {"eq": "=", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_TOP = "\U0010ffff"
_GROUP = 64


def split_path(path: str) -> list[str]:
    """`config.layers[0].size` -> `["config", "layers", "0", "size"]`.

    Raises:
        FilterInvalidError: the path is empty or has a control character (e.g. NUL).
    """
    if any(ord(c) < 32 or ord(c) == 127 for c in path):
        raise FilterInvalidError(
            f"the field path {path!r} contains a control character; field names never do, "
            "remove it",
            path=path,
        )
    parts = [m.group(1) or m.group(0) for m in _SEGMENT.finditer(path)]
    if not parts or "".join(parts).replace(".", "") == "":
        raise FilterInvalidError(f"{path!r} is not a field path", path=path)
    return parts


def normalize_date(value: Scalar) -> Scalar:
    """An ISO date or datetime as the index stores it (UTC, milliseconds); others unchanged."""
    if not isinstance(value, str):
        return value
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat(timespec="milliseconds")


def _is_null(expr: CompareFilter) -> bool:
    """Whether `expr` compares with null, which only `=` can (`config.seed = null`)."""
    if expr.value is not None:
        return False
    if expr.op != "eq":
        raise FilterInvalidError(f"{expr.path}: null can only be compared with =")
    return True


Leaf = CompareFilter | TextFilter | ExistsFilter


def normalize(expr: FilterExpr, negate: bool = False) -> FilterExpr:
    """`expr` (or its negation) with `not` only directly above leaves and no `ne`, `between`,
    `in`, nor an `and` directly inside an `and` (an `or` inside an `or`).

    The result is never deeper than `expr` plus one level (an `in` or `between` whose parent
    is of the other kind). The input has passed `check_size`, so the recursion is bounded.
    """
    if isinstance(expr, NotFilter):
        return normalize(expr.arg, not negate)
    if isinstance(expr, CompareFilter) and expr.op == "ne":
        return normalize(expr.model_copy(update={"op": "eq"}), not negate)
    if isinstance(expr, BetweenFilter):
        low = CompareFilter(op="ge", path=expr.path, value=expr.low)
        high = CompareFilter(op="le", path=expr.path, value=expr.high)
        return normalize(AndFilter(op="and", args=[low, high]), negate)
    if isinstance(expr, InFilter):
        eqs: list[FilterExpr] = [
            CompareFilter(op="eq", path=expr.path, value=v) for v in expr.values
        ]
        return normalize(OrFilter(op="or", args=eqs), negate)
    if isinstance(expr, AndFilter | OrFilter):
        kind = AndFilter if isinstance(expr, AndFilter) != negate else OrFilter
        args: list[FilterExpr] = []
        for arg in expr.args:
            part = normalize(arg, negate)
            args += part.args if isinstance(part, kind) else [part]
        if len(args) == 1:
            return args[0]
        return AndFilter(op="and", args=args) if kind is AndFilter else OrFilter(op="or", args=args)
    return NotFilter(op="not", arg=expr) if negate else expr


class _Compiler:
    def __init__(self) -> None:
        self.params: list[Any] = []

    def add(self, *values: Any) -> None:
        # SQLite integers are 64-bit: a larger one compares as the number it is, as a float.
        self.params.extend(
            float(v) if type(v) is int and not -(2**63) <= v < 2**63 else v for v in values
        )

    def compile(self, expr: FilterExpr) -> str:
        """SQL for a `normalize`d tree: only `and`/`or` nest; `not` stands above a leaf."""
        if isinstance(expr, AndFilter | OrFilter):
            parts = [self.compile(a) for a in expr.args]
            if not parts:
                return "1" if isinstance(expr, AndFilter) else "0"
            word = " AND " if isinstance(expr, AndFilter) else " OR "
            # SQLite parses `a OR b OR ...` as a chain as deep as it is long (at most 1,000):
            # a long list (an `in` of 1,000 values) is split into groups of `_GROUP`.
            while len(parts) > _GROUP:
                parts = [word.join(parts[i : i + _GROUP]) for i in range(0, len(parts), _GROUP)]
                parts = [f"({p})" for p in parts]
            return "(" + word.join(parts) + ")"
        if isinstance(expr, NotFilter):
            # A leaf is 0 or 1 (never NULL), and binds tighter than NOT (`IN`, `IS`, a call).
            assert isinstance(expr.arg, Leaf), "compile() takes a normalize()d tree"
            return f"NOT {self.leaf(expr.arg)}"
        assert isinstance(expr, Leaf), "compile() takes a normalize()d tree"
        return self.leaf(expr)

    def leaf(self, expr: Leaf) -> str:
        parts = split_path(expr.path)
        head = parts[0]
        if head == "config":
            if len(parts) < 2:
                raise FilterInvalidError("name a config field, e.g. config.lr", path=expr.path)
            return self.config_leaf(expr, ".".join(parts[1:]))
        if head == "result":
            if len(parts) < 2:
                raise FilterInvalidError(
                    "name a result, e.g. result.accuracy (results come from results.json, "
                    "metrics.json, eval.json or a step's _results())",
                    path=expr.path,
                )
            return self.config_leaf(expr, ".".join(parts[1:]), table="result_kv")
        if head == "downstream":
            return self.downstream_leaf(expr)
        whole = FIELDS.get(expr.path)  # a dotted column name (`resources.peak_rss_bytes`)
        if "." in expr.path and whole is not None and whole.filter_kind not in (None, "json"):
            return self.column_leaf(expr, whole.name, whole.filter_kind)
        column = FIELDS.get(head)
        if column is not None and column.filter_kind == "json":
            return self.json_leaf(expr, column.name, parts[1:])
        if head == "tags" and len(parts) == 1:
            return self.tags_leaf(expr)
        if len(parts) == 1 and column is not None and column.filter_kind is not None:
            return self.column_leaf(expr, column.name, column.filter_kind)
        close = difflib.get_close_matches(head, [*_NAMES, "config", "result", "downstream"], n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise FilterInvalidError(
            f"unknown field {expr.path!r}: {hint}use config.<field>, result.<name>, "
            f"state.<field>, meta.<field> or one of {_KNOWN}",
            path=expr.path,
        )

    # ------------------------------------------------------------ config leaves

    def config_leaf(
        self, expr: Leaf, path: str, table: str = "config_kv", subject: str = "e.id"
    ) -> str:
        """A test of one leaf of `config_kv` (`config.*`) or `result_kv` (`result.*`) of the
        experiment `subject` (the listed one, `e.id`, or a dependent's `c.id`)."""
        select = f"{subject} IN (SELECT exp_id FROM {table} WHERE path = ? AND "
        if isinstance(expr, ExistsFilter):
            self.add(path, path + ".", path + "/")
            return (
                f"{subject} IN (SELECT exp_id FROM {table} "
                "WHERE path = ? OR (path >= ? AND path < ?))"
            )
        self.add(path)
        if isinstance(expr, TextFilter):
            return select + "kind = 'str' AND " + self.text_test("str", expr) + ")"
        if _is_null(expr):
            return select + "kind = 'null')"
        value = expr.value
        kind, column = ("str", "str") if isinstance(value, str) else ("num", "num")
        if isinstance(value, bool):
            kind, value = "bool", float(value)
        self.add(kind, value)
        return select + f"kind = ? AND {column} {_SQL_OP[expr.op]} ?)"

    def downstream_leaf(self, expr: Leaf) -> str:
        """`downstream.<Class>.result.<name>`: some direct dependent of class `Class` matches."""
        field = parse_field(expr.path)
        self.add(field.downstream)
        inner = self.config_leaf(expr, field.path, table=field.table, subject="c.id")
        # Uncorrelated: the matching dependents are found once (by the leaf's index), then
        # what they depend on, instead of a lookup per listed experiment.
        return (
            "(e.namespace, e.hash) IN (SELECT d.dep_namespace, d.dep_hash FROM deps d "
            f"JOIN experiments c ON c.id = d.exp_id WHERE c.class_name = ? AND {inner})"
        )

    def text_test(self, column: str, expr: TextFilter) -> str:
        if expr.op == "contains":
            self.add(expr.value)
            return f"instr({column}, ?) > 0"
        if expr.op == "startswith":
            self.add(expr.value, expr.value + _TOP, len(expr.value), expr.value)
            return f"{column} >= ? AND {column} < ? AND substr({column}, 1, ?) = ?"
        try:
            check_regex(expr.value)
        except RegexError as exc:
            raise FilterInvalidError(
                f"{expr.path}: {expr.value!r} is not a valid regular expression: {exc}",
                path=expr.path,
            ) from None
        self.add(expr.value)
        return f"regexp(?, {column})"

    # ------------------------------------------------------------ columns, tags, JSON

    def column_leaf(self, expr: Leaf, col: str, kind: str) -> str:
        column = f"e.{col}"
        if isinstance(expr, ExistsFilter):
            return f"{column} IS NOT NULL"
        if isinstance(expr, TextFilter):
            return f"({column} IS NOT NULL AND {self.text_test(column, expr)})"
        if _is_null(expr):
            return f"{column} IS NULL"
        value = expr.value
        if kind == "date":
            value = normalize_date(value)
        if kind == "bool" and isinstance(value, bool):
            value = int(value)
        elif (kind == "num") != (isinstance(value, int | float) and not isinstance(value, bool)):
            return "0"  # a value of another kind never matches
        self.add(value)
        if col in _NOT_NULL:  # never NULL: a bare comparison, which can use the column's index
            return f"{column} {_SQL_OP[expr.op]} ?"
        return f"coalesce({column} {_SQL_OP[expr.op]} ?, 0)"

    def tags_leaf(self, expr: Leaf) -> str:
        if isinstance(expr, ExistsFilter):
            return "e.id IN (SELECT exp_id FROM tags)"
        if isinstance(expr, TextFilter) and expr.op == "contains":
            self.add(expr.value)
            return "e.id IN (SELECT exp_id FROM tags WHERE tag = ?)"
        if isinstance(expr, TextFilter):
            return f"e.id IN (SELECT exp_id FROM tags WHERE {self.text_test('tag', expr)})"
        if expr.op != "eq" or not isinstance(expr.value, str):
            raise FilterInvalidError(
                "tags supports only = (or contains), in, startswith, matches and exists with text",
                path="tags",
            )
        self.add(expr.value)
        return "e.id IN (SELECT exp_id FROM tags WHERE tag = ?)"

    def json_leaf(self, expr: Leaf, column: str, parts: list[str]) -> str:
        if not parts:
            raise FilterInvalidError(f"name a field, e.g. {column}.<field>", path=expr.path)
        path = "$" + "".join(
            f"[{p}]" if p.isdigit() else '."' + p.replace('"', '\\"') + '"' for p in parts
        )
        literal = "'" + path.replace("'", "''") + "'"  # built from checked segments, quoted
        jtype = f"json_type(e.{column}, {literal})"
        value_sql = f"json_extract(e.{column}, {literal})"
        if isinstance(expr, ExistsFilter):
            return f"coalesce({jtype} IS NOT NULL, 0)"
        if isinstance(expr, TextFilter):
            return f"coalesce({jtype} = 'text' AND {self.text_test(value_sql, expr)}, 0)"
        if _is_null(expr):
            return f"coalesce({jtype} = 'null', 0)"
        value = expr.value
        if isinstance(value, bool):
            self.add(int(value))
            return f"coalesce({jtype} IN ('true', 'false') AND {value_sql} {_SQL_OP[expr.op]} ?, 0)"
        types = "('text')" if isinstance(value, str) else "('integer', 'real')"
        self.add(value)
        return f"coalesce({jtype} IN {types} AND {value_sql} {_SQL_OP[expr.op]} ?, 0)"


def field_paths(expr: FilterExpr | Sequence[FilterExpr | None] | None) -> list[str]:
    """The `config.*`, `result.*` and `downstream.*` paths a filter names, in order."""
    found: list[str] = []
    stack: list[Any] = list(expr) if isinstance(expr, Sequence) else [expr]
    while stack:
        node = stack.pop(0)
        if isinstance(node, AndFilter | OrFilter):
            stack[:0] = node.args
        elif isinstance(node, NotFilter):
            stack.insert(0, node.arg)
        elif node is not None:
            path = node.path
            if path.split(".", 1)[0] in ("config", "result", "downstream"):
                found.append(path)
    return found


def compile_filter(expr: FilterExpr | Sequence[FilterExpr | None] | None) -> tuple[str, list[Any]]:
    """`(SQL condition over experiments AS e, parameters)`; `("1", [])` for no filter.

    A sequence is and-ed, each of its filters held to the limits on its own (a listing's `q`
    may be as deep as any filter, whatever parameters are and-ed with it).

    Raises:
        FilterInvalidError: an unknown field, a bad regex, an operator that cannot apply, or a
            filter past the limits (`MAX_DEPTH`, `MAX_NODES`).
    """
    parts = [e for e in (expr if isinstance(expr, Sequence) else [expr]) if e is not None]
    if not parts:
        return "1", []
    count = 0
    for part in parts:
        count = check_size(part, count)
    tree = parts[0] if len(parts) == 1 else AndFilter(op="and", args=parts)
    compiler = _Compiler()
    return compiler.compile(normalize(tree)), compiler.params

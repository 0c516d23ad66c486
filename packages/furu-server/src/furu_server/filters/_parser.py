"""The text form of the filter language, for a search box: parsing it, and printing a tree as it.

```
config.lr < 1e-3 and status = success
(config.optimizer = "adam" or config.optimizer = sgd) and not tags contains bad
config.seed in (1, 2, 3) and runtime between 10 and 60 and meta.git_commit exists
```

Grammar (keywords in any case):

```
expr      := or_expr
or_expr   := and_expr ("or" and_expr)*
and_expr  := unary ("and" unary)*
unary     := "not" unary | "(" expr ")" | "true" | "false" | condition
condition := path ( ("=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">=") value
                  | "between" value "and" value | ["not"] "in" list
                  | "contains" value | "startswith" value | ("matches" | "~") value
                  | "exists" )
list      := ("(" | "[") value ("," value)* ")" | "]"
value     := a quoted string | a bare word (a number, true, false, null, or else text)
```

Errors are `FilterSyntaxError`s that carry the offending token's position, including a
broken limit (`MAX_DEPTH` levels of `not` and parentheses, and the lengths `_models` sets).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, TypeVar

from pydantic import BaseModel

from furu_server._errors import FilterInvalidError, FilterSyntaxError
from furu_server.filters._models import (
    MAX_DEPTH,
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
    build,
)

_STOP = set(" \t\r\n()[],=!<>~\"'")
_SYMBOLS = {"=": "eq", "==": "eq", "!=": "ne", "<>": "ne", "<": "lt", "<=": "le", ">": "gt"}
_SYMBOLS |= {">=": "ge"}
_WORD_OPS = {"contains": "contains", "startswith": "startswith", "matches": "regex"}
_PATH = re.compile(r"[A-Za-z_][\w\-]*(?:\.[\w\-]+|\[\d+\])*")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
MAX_LENGTH = 10_000
"""Characters in the text form."""
_M = TypeVar("_M", bound=BaseModel)
_OPS_HELP = "=, !=, <, <=, >, >=, ~, between, in, not in, contains, startswith, matches, exists"


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.depth = 0

    # ------------------------------------------------------------ scanning

    def error(self, message: str, position: int | None = None, token: str | None = None) -> None:
        at = self.pos if position is None else position
        if token is None:
            token = self.peek_token()[0]
        shown = f"{token!r}" if token else "the end of the filter"
        raise FilterSyntaxError(
            f"{message}, got {shown} at column {at + 1}", text=self.text, position=at, token=token
        )

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek_token(self) -> tuple[str, int]:
        """The next token's text and start, without consuming it."""
        self.skip_ws()
        start = self.pos
        if start >= len(self.text):
            return "", start
        for size in (2, 1):
            chunk = self.text[start : start + size]
            if chunk in _SYMBOLS or chunk in ("(", ")", "[", "]", ",", "~", "!"):
                return chunk, start
        if self.text[start] in "\"'":
            return self.text[start], start
        end = start
        while end < len(self.text) and self.text[end] not in _STOP:
            end += 1
        return self.text[start:end], start

    def take(self) -> tuple[str, int]:
        token, start = self.peek_token()
        self.pos = start + len(token)
        return token, start

    def at_keyword(self, *words: str) -> bool:
        return self.peek_token()[0].lower() in words

    def node(self, model: type[_M], start: int, **fields: Any) -> _M:
        """`model(**fields)`; a broken limit is a syntax error at `start` (the condition)."""
        try:
            return build(model, **fields)
        except FilterInvalidError as exc:
            self.error(exc.message, start, self.text[start : start + 40])
            raise AssertionError from None  # unreachable: error() raises

    # ------------------------------------------------------------ grammar

    def parse(self) -> FilterExpr | None:
        if not self.text.strip():
            return None
        expr = self.or_expr()
        token, _start = self.peek_token()
        if token:
            if token == ")":
                self.error("unexpected ')' with no '(' to close")
            self.error("expected 'and', 'or' or the end of the filter")
        return expr

    def or_expr(self) -> FilterExpr:
        args = [self.and_expr()]
        while self.at_keyword("or"):
            self.take()
            args.append(self.and_expr())
        return args[0] if len(args) == 1 else OrFilter(op="or", args=args)

    def and_expr(self) -> FilterExpr:
        args = [self.unary()]
        while self.at_keyword("and"):
            self.take()
            args.append(self.unary())
        return args[0] if len(args) == 1 else AndFilter(op="and", args=args)

    def unary(self) -> FilterExpr:
        token, start = self.peek_token()
        lowered = token.lower()
        if lowered == "not" or token == "(":
            self.depth += 1
            if self.depth > MAX_DEPTH:
                self.error(
                    f"the filter nests `not`s and parentheses more than {MAX_DEPTH} levels deep "
                    "(the limit); flatten it",
                    start,
                    token,
                )
            self.take()
            if lowered == "not":
                expr: FilterExpr = NotFilter(op="not", arg=self.unary())
            else:
                expr = self.or_expr()
                if self.peek_token()[0] != ")":
                    self.error(f"expected ')' to close the '(' at column {start + 1}")
                self.take()
            self.depth -= 1
            return expr
        if lowered in ("true", "false"):
            self.take()
            return AndFilter(op="and", args=[]) if lowered == "true" else OrFilter(op="or", args=[])
        return self.condition()

    def condition(self) -> FilterExpr:
        token, start = self.peek_token()
        match = _PATH.match(self.text, start)
        path = match.group(0) if match else ""
        if (
            not path
            or path.lower() in ("and", "or")
            or (match and match.end() < start + len(token))
        ):
            self.error("expected a field such as config.lr, status or tags", start, token)
        self.pos = start + len(path)
        token, op_start = self.take()
        lowered = token.lower()
        if token in _SYMBOLS or token == "~":
            return self.compare(path, token, start)
        if lowered == "between":
            low = self.value()
            if not self.at_keyword("and"):
                self.error(f"expected 'and' in '{path} between {_text(low)} and ...'")
            self.take()
            high = self.value()
            return self.node(BetweenFilter, start, op="between", path=path, low=low, high=high)
        if lowered == "in":
            return self.node(InFilter, start, op="in", path=path, values=self.values())
        if lowered == "not" and self.at_keyword("in"):
            self.take()
            values = self.values()
            arg = self.node(InFilter, start, op="in", path=path, values=values)
            return NotFilter(op="not", arg=arg)
        if lowered in _WORD_OPS:
            value = self.text_value()
            return self.node(TextFilter, start, op=_WORD_OPS[lowered], path=path, value=value)
        if lowered == "exists":
            return self.node(ExistsFilter, start, op="exists", path=path)
        self.error(f"expected an operator after '{path}' ({_OPS_HELP})", op_start, token)
        raise AssertionError  # unreachable: error() raises

    def compare(self, path: str, symbol: str, start: int) -> FilterExpr:
        if symbol == "~":
            value: Scalar = self.text_value()
            return self.node(TextFilter, start, op="regex", path=path, value=value)
        value = self.value()
        return self.node(CompareFilter, start, op=_SYMBOLS[symbol], path=path, value=value)

    def text_value(self) -> str:
        start = self.peek_token()[1]
        value = self.value()
        if not isinstance(value, str):
            self.error('expected text (quote it: "...")', start, _text(value))
        return str(value)

    def values(self) -> list[Scalar]:
        opener, start = self.take()
        if opener not in ("(", "["):
            self.error("expected '(' to start a list such as (1, 2, 3)", start, opener)
        closer = ")" if opener == "(" else "]"
        items: list[Scalar] = []
        while True:
            items.append(self.value())
            token, at = self.take()
            if token == closer:
                return items
            if token != ",":
                where = f"in the list opened at column {start + 1}"
                self.error(f"expected ',' or '{closer}' {where}", at, token)

    def value(self) -> Scalar:
        token, start = self.peek_token()
        if token in ('"', "'"):
            return self.quoted()
        if not token or token in _SYMBOLS or token in ("(", ")", "[", "]", ",", "~", "!"):
            self.error("expected a value (a number, true, false, null, or text)", start, token)
        self.take()
        return _bare(token)

    def quoted(self) -> str:
        """A quoted string; double quotes take JSON escapes (`\\n`, `\\u00e9`), any `\\x` is `x`."""
        self.skip_ws()
        start = self.pos
        quote = self.text[start]
        i = start + 1
        while i < len(self.text) and self.text[i] != quote:
            i += 2 if self.text[i] == "\\" else 1
        if i >= len(self.text):
            self.error("unterminated string", start, self.text[start:])
        self.pos = i + 1
        raw = self.text[start + 1 : i]
        if quote == '"':
            try:
                value: str = json.loads(f'"{raw}"')
                return value
            except ValueError:
                pass
        return re.sub(r"\\(.)", r"\1", raw, flags=re.DOTALL)


def _bare(word: str) -> Scalar:
    lowered = word.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("null", "none"):
        return None
    if _NUMBER.match(word):
        number = float(word)
        if number.is_integer() and re.match(r"^[+-]?\d+$", word) and len(word) <= 400:
            return int(word)
        return number  # (a longer integer is a float, infinite past 1.8e308, like `1e400`)
    return word


def parse_filter(text: str) -> FilterExpr | None:
    """Parse the text form to a filter tree (None for an empty filter).

    Raises:
        FilterSyntaxError: the text does not parse; `position` points at the offending token.
    """
    if len(text) > MAX_LENGTH:
        raise FilterSyntaxError(
            f"the filter is longer than {MAX_LENGTH:,} characters (the limit); shorten it, e.g. "
            "use `startswith` or a regular expression instead of long lists",
            text=text[:40],
            position=0,
            token="",
        )
    return _Parser(text).parse()


# ---------------------------------------------------------------- printing

_SYMBOL_OF = {"eq": "=", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


def _text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return json.dumps(str(value))
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value)


def to_text(expr: FilterExpr | None) -> str:
    """The canonical text form of a tree (`parse_filter(to_text(t))` gives `t` back)."""
    if expr is None:
        return ""
    return _print(expr, top=True)


def _print(expr: FilterExpr, top: bool = False) -> str:
    if isinstance(expr, AndFilter | OrFilter):
        if not expr.args:
            return "true" if isinstance(expr, AndFilter) else "false"
        inner = f" {expr.op} ".join(_print(a) for a in expr.args)
        return inner if top or len(expr.args) == 1 else f"({inner})"
    if isinstance(expr, NotFilter):
        return f"not {_print(expr.arg)}"
    if isinstance(expr, CompareFilter):
        return f"{expr.path} {_SYMBOL_OF[expr.op]} {_text(expr.value)}"
    if isinstance(expr, BetweenFilter):
        return f"{expr.path} between {_text(expr.low)} and {_text(expr.high)}"
    if isinstance(expr, InFilter):
        return f"{expr.path} in ({', '.join(_text(v) for v in expr.values)})"
    if isinstance(expr, TextFilter):
        word = "matches" if expr.op == "regex" else expr.op
        return f"{expr.path} {word} {_text(expr.value)}"
    return f"{expr.path} exists"

"""The text form of the filter language: parsing, printing, and errors with positions."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from furu_server import FilterSyntaxError, parse_filter, to_text
from furu_server.filters._models import FilterExpr


def tree(text: str) -> dict[str, Any] | None:
    parsed = parse_filter(text)
    return None if parsed is None else parsed.model_dump()


def test_the_readme_example() -> None:
    assert tree("config.lr < 1e-3 and status = success") == {
        "op": "and",
        "args": [
            {"op": "lt", "path": "config.lr", "value": 0.001},
            {"op": "eq", "path": "status", "value": "success"},
        ],
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("config.lr<=0.1", {"op": "le", "path": "config.lr", "value": 0.1}),
        ("config.steps != 3", {"op": "ne", "path": "config.steps", "value": 3}),
        ("config.steps <> 3", {"op": "ne", "path": "config.steps", "value": 3}),
        ("config.flag = TRUE", {"op": "eq", "path": "config.flag", "value": True}),
        ("meta.git_commit = null", {"op": "eq", "path": "meta.git_commit", "value": None}),
        ("name = 'a \\'quoted\\' name'", {"op": "eq", "path": "name", "value": "a 'quoted' name"}),
        ("config.layers[0] >= 64", {"op": "ge", "path": "config.layers[0]", "value": 64}),
        (
            "started_at > 2024-01-01T10:00:00+00:00",
            {"op": "gt", "path": "started_at", "value": "2024-01-01T10:00:00+00:00"},
        ),
        (
            "config.x between -1 and 2.5",
            {"op": "between", "path": "config.x", "low": -1, "high": 2.5},
        ),
        (
            "config.seed in (1, 2, three)",
            {"op": "in", "path": "config.seed", "values": [1, 2, "three"]},
        ),
        ("config.seed in [1]", {"op": "in", "path": "config.seed", "values": [1]}),
        ("tags contains best", {"op": "contains", "path": "tags", "value": "best"}),
        (
            "namespace startswith my.pkg",
            {"op": "startswith", "path": "namespace", "value": "my.pkg"},
        ),
        ("name matches '^run-[0-9]+$'", {"op": "regex", "path": "name", "value": "^run-[0-9]+$"}),
        ("name ~ x", {"op": "regex", "path": "name", "value": "x"}),
        ("config.dropout exists", {"op": "exists", "path": "config.dropout"}),
        (
            "not config.dropout exists",
            {"op": "not", "arg": {"op": "exists", "path": "config.dropout"}},
        ),
        (
            "config.seed not in (1)",
            {"op": "not", "arg": {"op": "in", "path": "config.seed", "values": [1]}},
        ),
        ("true", {"op": "and", "args": []}),
        ("FALSE", {"op": "or", "args": []}),
    ],
)
def test_conditions(text: str, expected: dict[str, Any]) -> None:
    assert tree(text) == expected


def test_and_binds_tighter_than_or_and_parentheses_win() -> None:
    a, b, c = ({"op": "exists", "path": p} for p in ("a", "b", "c"))
    assert tree("a exists or b exists and c exists") == {
        "op": "or",
        "args": [a, {"op": "and", "args": [b, c]}],
    }
    assert tree("(a exists or b exists) and c exists") == {
        "op": "and",
        "args": [{"op": "or", "args": [a, b]}, c],
    }


def test_empty_text_is_no_filter() -> None:
    assert parse_filter("   ") is None
    assert to_text(None) == ""


@pytest.mark.parametrize(
    ("text", "position", "token", "words"),
    [
        ("config.lr <", 11, "", "expected a value"),
        ("config.lr", 9, "", "expected an operator after 'config.lr'"),
        ("config.lr ?? 1", 10, "??", "expected an operator"),
        ("= 3", 0, "=", "expected a field"),
        ("a exists b exists", 9, "b", "expected 'and', 'or'"),
        ("(a exists", 9, "", "expected ')' to close the '(' at column 1"),
        ("a exists)", 8, ")", "no '(' to close"),
        ("x in 1, 2", 5, "1", "expected '(' to start a list"),
        ("x in (1 2)", 8, "2", "expected ',' or ')'"),
        ("x between 1 or 2", 12, "or", "expected 'and' in 'x between 1 and ...'"),
        ("x contains 3", 11, "3", "expected text"),
        ("x = 'open", 4, "'open", "unterminated string"),
        ("config.a$b = 1", 0, "config.a$b", "expected a field"),
    ],
)
def test_errors_point_at_the_offending_token(
    text: str, position: int, token: str, words: str
) -> None:
    with pytest.raises(FilterSyntaxError) as err:
        parse_filter(text)
    assert (err.value.position, err.value.token) == (position, token)
    assert words in err.value.message
    assert f"column {position + 1}" in err.value.message
    assert err.value.message.endswith(f"  {text}\n  {' ' * position}^")


PATHS = st.sampled_from(["config.lr", "status", "config.layers[1]", "meta.git_commit", "tags"])
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False, width=32)
    | st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)
)
LEAVES = st.one_of(
    st.builds(
        lambda p, o, v: {"op": o, "path": p, "value": v},
        PATHS,
        st.sampled_from(["eq", "ne", "lt", "le", "gt", "ge"]),
        SCALARS,
    ),
    st.builds(
        lambda p, lo, hi: {"op": "between", "path": p, "low": lo, "high": hi},
        PATHS,
        SCALARS,
        SCALARS,
    ),
    st.builds(
        lambda p, vs: {"op": "in", "path": p, "values": vs},
        PATHS,
        st.lists(SCALARS, min_size=1, max_size=3),
    ),
    st.builds(
        lambda p, o, v: {"op": o, "path": p, "value": v},
        PATHS,
        st.sampled_from(["contains", "startswith", "regex"]),
        st.text(max_size=6),
    ),
    st.builds(lambda p: {"op": "exists", "path": p}, PATHS),
)
TREES = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.builds(lambda a: {"op": "and", "args": a}, st.lists(inner, min_size=2, max_size=3)),
        st.builds(lambda a: {"op": "or", "args": a}, st.lists(inner, min_size=2, max_size=3)),
        st.builds(lambda a: {"op": "not", "arg": a}, inner),
    ),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None, database=None)
@given(TREES)
def test_printing_then_parsing_gives_the_tree_back(data: dict[str, Any]) -> None:
    from pydantic import TypeAdapter

    expr: FilterExpr = TypeAdapter(FilterExpr).validate_python(data)
    text = to_text(expr)
    again = parse_filter(text)
    assert again is not None
    assert again.model_dump() == expr.model_dump(), text

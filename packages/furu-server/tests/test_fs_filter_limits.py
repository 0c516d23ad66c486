"""The filter language's limits: every input past one is a 4xx naming it, in the JSON tree and
in the text form alike, and every tree within them runs (SQLite's parser and expression depth
included)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from furu_server.filters import FilterExpr, to_text

# The documented limits (docs/filter-language.md), as the server's constants must say.
MAX_DEPTH = 24
MAX_NODES = 1000
MAX_PATH = 500
MAX_TEXT = 1000
MAX_VALUES = 1000

LONG_TEXT = "a" * (MAX_TEXT + 1)
LONG_PATH = "config." + "a" * MAX_PATH


def test_the_limits_are_the_documented_ones() -> None:
    from furu_server.filters import _models

    documented = (MAX_DEPTH, MAX_NODES, MAX_PATH, MAX_TEXT, MAX_VALUES)
    assert documented == (_models.MAX_DEPTH, _models.MAX_NODES, _models.MAX_PATH,
                          _models.MAX_TEXT, _models.MAX_VALUES)  # fmt: skip


def _nested(levels: int, op: str) -> dict[str, Any]:
    tree: dict[str, Any] = {"op": "exists", "path": "config.lr"}
    for _ in range(levels):
        tree = {"op": "not", "arg": tree} if op == "not" else {"op": op, "args": [tree]}
    return tree


def _is_error(got: Any, status: int, code: str, words: str) -> None:
    assert got.status_code == status, got.text
    error = got.json()["error"]
    assert set(error) == {"code", "message", "detail"}
    assert error["code"] == code, error
    assert words in error["message"], error["message"]


# (what, JSON tree, its JSON answer (status, code, words), text form, text answer's words)
CASES = [
    (
        "text over the limit",
        {"op": "contains", "path": "name", "value": LONG_TEXT},
        (422, "invalid_request", f"at most {MAX_TEXT} characters"),
        f'name contains "{LONG_TEXT}"',
        f"longer than {MAX_TEXT} characters (the limit for a filter's text)",
    ),
    (
        "in list over the limit",
        {"op": "in", "path": "config.seed", "values": [1] * (MAX_VALUES + 1)},
        (422, "invalid_request", f"at most {MAX_VALUES} items"),
        "config.seed in (" + ", ".join(["1"] * (MAX_VALUES + 1)) + ")",
        f"the `in` list has more than {MAX_VALUES} items (the limit)",
    ),
    (
        "path over the limit",
        {"op": "exists", "path": LONG_PATH},
        (422, "invalid_request", f"at most {MAX_PATH} characters"),
        f"{LONG_PATH} exists",
        f"longer than {MAX_PATH} characters (the limit for a filter's field path)",
    ),
    (
        "nots past the depth",
        _nested(MAX_DEPTH + 1, "not"),
        (400, "filter_invalid", f"more than {MAX_DEPTH} levels deep"),
        "not " * (MAX_DEPTH + 1) + "config.lr exists",
        f"more than {MAX_DEPTH} levels deep (the limit)",
    ),
    (
        "999 nots",
        _nested(300, "not"),  # (a JSON body 999 levels deep does not parse at all: 400)
        (400, "filter_invalid", f"more than {MAX_DEPTH} levels deep"),
        "not " * 999 + "config.lr exists",
        f"more than {MAX_DEPTH} levels deep (the limit)",
    ),
    (
        "400 parentheses",
        _nested(400, "and"),
        (400, "filter_invalid", f"more than {MAX_DEPTH} levels deep"),
        "(" * 400 + "config.lr exists" + ")" * 400,
        f"more than {MAX_DEPTH} levels deep (the limit)",
    ),
    (
        "a NUL in a meta path",
        {"op": "exists", "path": "meta.git\x00commit"},
        (400, "filter_invalid", "contains a control character"),
        "meta.git\x00commit exists",
        "expected a field",
    ),
    (
        "a NUL in a state path",
        {"op": "eq", "path": "state.attempt.\x00", "value": 1},
        (400, "filter_invalid", "contains a control character"),
        "state.attempt.\x00 = 1",
        "expected a field",
    ),
    (
        "a repetition count beyond 32 bits",
        {"op": "regex", "path": "name", "value": "a{4294967296}"},
        (400, "filter_invalid", "larger than 1000"),
        'name matches "a{4294967296}"',
        "larger than 1000",
    ),
    (
        "a repetition count beyond RE2's",
        {"op": "regex", "path": "config.optimizer", "value": "(ab){1001}"},
        (400, "filter_invalid", "larger than 1000"),
        'config.optimizer ~ "(ab){1001}"',
        "larger than 1000",
    ),
]


@pytest.mark.parametrize(
    ("tree", "answer"), [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES]
)
def test_the_json_tree_past_a_limit_is_a_4xx_naming_it(
    api: TestClient, tree: dict[str, Any], answer: tuple[int, str, str]
) -> None:
    got = api.post("/api/experiments/search", json={"filter": tree})
    _is_error(got, *answer)


@pytest.mark.parametrize(
    ("text", "words"), [(c[3], c[4]) for c in CASES], ids=[c[0] for c in CASES]
)
def test_the_text_form_past_a_limit_is_a_4xx_naming_it(
    api: TestClient, text: str, words: str
) -> None:
    for got in (
        api.post("/api/experiments/search", json={"query": text}),
        api.get("/api/experiments", params={"q": text}),
        api.post("/api/filters/parse", json={"query": text}),
    ):
        assert 400 <= got.status_code < 500, got.text
        error = got.json()["error"]
        assert error["code"] in ("filter_syntax", "filter_invalid"), error
        assert words in error["message"], error["message"]


def test_the_listing_parameters_past_a_limit_are_4xx_naming_it(api: TestClient) -> None:
    got = api.get("/api/experiments", params={"tag": LONG_TEXT})
    _is_error(got, 400, "filter_invalid", f"longer than {MAX_TEXT} characters")
    got = api.get("/api/experiments", params={"config_filter": "a" * MAX_PATH + "=1"})
    _is_error(got, 400, "filter_syntax", f"longer than {MAX_PATH} characters")


def _leaves() -> list[dict[str, Any]]:
    """A leaf of every kind the compiler writes (the longest SQL each kind makes)."""
    return [
        {"op": "regex", "path": "meta.a.b-c[3]", "value": "x"},
        {"op": "ne", "path": "state.attempt.number", "value": True},
        {"op": "regex", "path": "tags", "value": "x"},
        {"op": "startswith", "path": "name", "value": "x"},
        {"op": "lt", "path": "config.corpus.size", "value": 1},
        {"op": "in", "path": "config.steps", "values": [1, "a", None, True]},
        {"op": "between", "path": "runtime", "low": 1, "high": 2},
        {"op": "exists", "path": "config.layers"},
    ]


def _deepest(leaf: dict[str, Any], shape: list[str]) -> dict[str, Any]:
    """A tree `MAX_DEPTH` levels deep, its levels cycling through `shape`, a leaf on each."""
    tree = leaf
    for level in range(MAX_DEPTH - 1):
        op = shape[level % len(shape)]
        tree = {"op": "not", "arg": tree} if op == "not" else {"op": op, "args": [leaf, tree]}
    return tree


@pytest.mark.parametrize(
    "shape", [["and", "or"], ["or", "and"], ["and", "not", "or", "not"], ["not", "or"]]
)
def test_the_deepest_tree_of_every_shape_runs(api: TestClient, shape: list[str]) -> None:
    """SQLite's parser stack overflowed at 21 nested `not`s (the limit then said 32)."""
    adapter: TypeAdapter[Any] = TypeAdapter(FilterExpr)
    for leaf in _leaves():
        tree = _deepest(leaf, shape)
        got = api.post("/api/experiments/search", json={"filter": tree, "limit": 1})
        assert got.status_code == 200, (leaf, got.text)
        text = to_text(adapter.validate_python(tree))
        assert adapter.validate_python(tree) == adapter.validate_python(
            api.post("/api/filters/parse", json={"query": text}).json()["filter"]
        )
        got = api.post("/api/experiments/search", json={"query": text, "limit": 1})
        assert got.status_code == 200, (leaf, got.text)
        # the listing's parameters and `q` are and-ed: one more level around `q`
        got = api.get("/api/experiments", params={"q": text, "tag": "x", "limit": 1})
        assert got.status_code == 200, (leaf, got.text)


def test_many_nots_and_long_lists_within_the_limits_run(api: TestClient) -> None:
    quoted = {"op": "regex", "path": "meta.a.b\"c'd[3]", "value": "x"}  # (no text form)
    for tree in (
        _deepest(quoted, ["and", "or"]),
        _nested(21, "not"),  # the probe's: a 500 (SQLite's parser stack)
        _nested(MAX_DEPTH - 1, "not"),
        {"op": "in", "path": "config.steps", "values": list(range(MAX_VALUES))},  # expr depth
        {"op": "in", "path": "meta.python_version", "values": [str(i) for i in range(999)]},
        {"op": "or", "args": [{"op": "eq", "path": "runtime", "value": i} for i in range(999)]},
        {"op": "not", "arg": {"op": "in", "path": "name", "values": list(range(MAX_VALUES))}},
    ):
        got = api.post("/api/experiments/search", json={"filter": tree, "limit": 1})
        assert got.status_code == 200, got.text
    seeds = "config.steps in (" + ", ".join(str(i) for i in range(MAX_VALUES)) + ")"
    assert api.get("/api/experiments", params={"q": seeds}).status_code == 200
    many = " or ".join(f"runtime = {i}" for i in range(MAX_NODES - 1))
    assert len(many) > 10_000 or api.get("/api/experiments", params={"q": many}).is_success

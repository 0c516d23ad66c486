"""Listing and search: every filter of the seed, the filter language, sorting, pagination, and
agreement of every answer with the files themselves (`server_reference`)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from server_fixtures import BuiltStore
from server_reference import read_store, refs


def _all(api: TestClient, body: dict[str, Any], page: int = 3) -> list[dict[str, Any]]:
    """Every item of a search, fetched `page` at a time (so pagination is exercised too)."""
    items: list[dict[str, Any]] = []
    while True:
        got = api.post(
            "/api/experiments/search", json={**body, "limit": page, "offset": len(items)}
        )
        assert got.status_code == 200, got.text
        data = got.json()
        items += data["items"]
        if len(items) >= data["total"]:
            assert len(items) == data["total"]
            return items


def _refs(items: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(i["namespace"], i["hash"]) for i in items}


def test_listing_agrees_with_the_files(api: TestClient, built_store: BuiltStore) -> None:
    rows = read_store(built_store.root, built_store.vc_root)
    items = _all(api, {})
    assert _refs(items) == refs(rows, None)
    by_ref = {(r["namespace"], r["hash"]): r for r in rows}
    for item in items:
        row = by_ref[(item["namespace"], item["hash"])]
        for key in ("result_status", "attempt_status", "n_dependencies", "tags", "name"):
            assert item[key] == row[key], (key, item, row)
        assert item["version_controlled"] == row["version_controlled"]
        assert item["furu_dir"].endswith(item["hash"])
    assert len(items) == len(built_store.steps)


TREES: list[dict[str, Any]] = [
    {"op": "lt", "path": "config.lr", "value": 1e-3},
    {"op": "le", "path": "config.lr", "value": 0.001},
    {"op": "ge", "path": "config.lr", "value": 0.001},
    {"op": "eq", "path": "config.lr", "value": 0.01},
    {"op": "ne", "path": "config.lr", "value": 0.01},
    {"op": "between", "path": "config.steps", "low": 15, "high": 30},
    {"op": "in", "path": "config.optimizer", "values": ["sgd", "nothing"]},
    {"op": "eq", "path": "config.corpus.name", "value": "big"},
    {"op": "eq", "path": "config.layers.2", "value": 64},
    {"op": "exists", "path": "config.layers"},
    {"op": "exists", "path": "config.models"},
    {"op": "eq", "path": "config.models.1.optimizer", "value": "sgd"},
    {"op": "startswith", "path": "config.corpus.__class__", "value": "server_steps."},
    {"op": "regex", "path": "config.corpus.name", "value": "^b.g$"},
    {"op": "contains", "path": "namespace", "value": "Train"},
    {"op": "eq", "path": "status", "value": "success"},
    {"op": "eq", "path": "result_status", "value": "failed"},
    {"op": "eq", "path": "attempt_status", "value": "failed"},
    {"op": "eq", "path": "class", "value": "FineTune"},
    {"op": "ge", "path": "n_dependencies", "value": 2},
    {"op": "eq", "path": "version_controlled", "value": True},
    {"op": "ge", "path": "runtime", "value": 0},
    {"op": "lt", "path": "runtime", "value": "text never matches a number"},
    {"op": "eq", "path": "backend", "value": "local"},
    {"op": "ge", "path": "started_at", "value": "2000-01-01"},
    {"op": "lt", "path": "started_at", "value": "2000-01-01T00:00:00Z"},
    {"op": "exists", "path": "error_type"},
    {"op": "contains", "path": "error_message", "value": "diverged"},
    {"op": "eq", "path": "state.attempt.status", "value": "success"},
    {"op": "eq", "path": "state.attempt.number", "value": 1},
    {"op": "exists", "path": "state.attempt.error"},
    {"op": "eq", "path": "meta.version_controlled", "value": False},
    {"op": "startswith", "path": "meta.python_version", "value": "3."},
    {"op": "eq", "path": "meta.git_commit", "value": None},
    {"op": "not", "arg": {"op": "exists", "path": "config.lr"}},
    {
        "op": "and",
        "args": [
            {"op": "lt", "path": "config.lr", "value": 0.1},
            {"op": "eq", "path": "status", "value": "success"},
        ],
    },
    {
        "op": "or",
        "args": [
            {"op": "eq", "path": "class", "value": "Corpus"},
            {"op": "not", "arg": {"op": "eq", "path": "config.split", "value": "test"}},
        ],
    },
    {"op": "and", "args": []},
    {"op": "or", "args": []},
]


@pytest.mark.parametrize("tree", TREES, ids=[str(i) for i in range(len(TREES))])
def test_search_agrees_with_the_files(
    api: TestClient, built_store: BuiltStore, tree: dict[str, Any]
) -> None:
    rows = read_store(built_store.root, built_store.vc_root)
    assert _refs(_all(api, {"filter": tree})) == refs(rows, tree)


def test_the_text_form_means_the_same_as_the_tree(api: TestClient) -> None:
    text = "config.lr < 1e-3 and status = success"
    tree = {
        "op": "and",
        "args": [
            {"op": "lt", "path": "config.lr", "value": 0.001},
            {"op": "eq", "path": "status", "value": "success"},
        ],
    }
    parsed = api.post("/api/filters/parse", json={"query": text}).json()
    assert parsed["filter"] == tree
    assert parsed["text"] == 'config.lr < 0.001 and status = "success"'
    assert _refs(_all(api, {"query": text})) == _refs(_all(api, {"filter": tree}))
    listed = api.get("/api/experiments", params={"q": text, "limit": 100}).json()
    assert _refs(listed["items"]) == _refs(_all(api, {"filter": tree}))


def test_every_filter_of_the_seed(api: TestClient, built_store: BuiltStore) -> None:
    rows = read_store(built_store.root, built_store.vc_root)
    one = rows[0]

    def listed(**params: Any) -> set[tuple[str, str]]:
        data = api.get("/api/experiments", params={**params, "limit": 1000}).json()
        assert "items" in data, data
        return _refs(data["items"])

    def expect(pred: Any) -> set[tuple[str, str]]:
        return {(r["namespace"], r["hash"]) for r in rows if pred(r)}

    assert listed(result_status="failed") == expect(lambda r: r["result_status"] == "failed")
    assert listed(result_status=["failed", "success"]) == expect(lambda r: True)
    assert listed(attempt_status="success") == expect(lambda r: r["attempt_status"] == "success")
    assert listed(namespace="server_steps.Train") == expect(
        lambda r: r["namespace"].startswith("server_steps.Train")
    )
    assert listed(backend="local") == expect(lambda r: r["backend"] == "local")
    assert listed(hostname=one["hostname"]) == expect(lambda r: r["hostname"] == one["hostname"])
    assert listed(user=one["user"]) == expect(lambda r: r["user"] == one["user"])
    assert listed(started_after="2000-01-01T00:00:00Z") == expect(lambda r: r["started_at"])
    assert listed(started_before="2000-01-01T00:00:00+00:00") == set()
    assert listed(config_filter="lr=0.001") == expect(
        lambda r: any(v[1] == 0.001 for v in r["leaves"].get("lr", []))
    )
    assert listed(config_filter=["lr=0.001", "optimizer=sgd"]) == expect(
        lambda r: r["leaves"].get("optimizer") == [("str", None, "sgd")]
    )
    assert listed(config_filter="corpus.name=big") == expect(
        lambda r: r["leaves"].get("corpus.name") == [("str", None, "big")]
    )


def test_a_bad_config_filter_is_a_400_pointing_at_the_token(api: TestClient) -> None:
    got = api.get("/api/experiments", params={"config_filter": "lr=="})
    assert got.status_code == 400
    error = got.json()["error"]
    assert error["code"] == "filter_syntax"
    assert (error["detail"]["position"], error["detail"]["token"]) == (4, "")
    assert "lr==\n" in error["message"]


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        ("runtime", "runtime_sec"),
        ("created", "created_at"),
        ("updated", "updated_at"),
        ("started", "started_at"),
        ("dependencies", "n_dependencies"),
        ("class", "class_name"),
        ("namespace", "namespace"),
        ("hash", "hash"),
        ("size", "size_bytes"),
    ],
)
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_sorting(api: TestClient, sort: str, key: str, order: str) -> None:
    items = api.get("/api/experiments", params={"sort": sort, "order": order}).json()["items"]
    values = [i[key] for i in items if i[key] is not None]
    assert values == sorted(values, reverse=order == "desc")


def test_sorting_by_status_puts_failures_before_successes(api: TestClient) -> None:
    items = api.get("/api/experiments", params={"sort": "status", "order": "asc"}).json()["items"]
    statuses = [i["result_status"] for i in items]
    assert statuses.index("failed") < statuses.index("success")


def test_pages_cover_everything_once(api: TestClient) -> None:
    whole = api.get("/api/experiments", params={"limit": 1000, "sort": "hash"}).json()
    seen = []
    for offset in range(0, whole["total"], 4):
        page = api.get(
            "/api/experiments", params={"limit": 4, "offset": offset, "sort": "hash"}
        ).json()
        assert page["total"] == whole["total"]
        seen += [i["hash"] for i in page["items"]]
    assert seen == [i["hash"] for i in whole["items"]]
    beyond = api.get("/api/experiments", params={"offset": 10_000}).json()
    assert beyond["items"] == []
    assert beyond["total"] == whole["total"]


@pytest.mark.parametrize(
    ("query", "position", "token"),
    [
        ("config.lr < ", 12, ""),
        ("config.lr << 3", 11, "<"),
        ("(status = success", 17, ""),
        ("status = success)", 16, ")"),
        ("status success", 7, "success"),
        ("config.lr in (1, 2", 18, ""),
        ('name = "unterminated', 7, '"unterminated'),
        ("and status = success", 0, "and"),
    ],
)
def test_syntax_errors_point_at_the_offending_token(
    api: TestClient, query: str, position: int, token: str
) -> None:
    got = api.post("/api/experiments/search", json={"query": query})
    assert got.status_code == 400, got.text
    error = got.json()["error"]
    assert error["code"] == "filter_syntax"
    assert (error["detail"]["position"], error["detail"]["token"]) == (position, token)
    assert f"column {position + 1}" in error["message"]


@pytest.mark.parametrize(
    ("tree", "words"),
    [
        ({"op": "eq", "path": "nonsense", "value": 1}, "unknown field 'nonsense'"),
        ({"op": "regex", "path": "config.name", "value": "("}, "not a valid regular expression"),
        ({"op": "lt", "path": "config.lr", "value": None}, "null can only be compared with ="),
        ({"op": "eq", "path": "config", "value": 1}, "name a config field"),
        ({"op": "lt", "path": "tags", "value": "x"}, "tags supports only"),
    ],
)
def test_invalid_filters_say_what_is_wrong(
    api: TestClient, tree: dict[str, Any], words: str
) -> None:
    got = api.post("/api/experiments/search", json={"filter": tree})
    assert got.status_code == 400, got.text
    assert got.json()["error"]["code"] == "filter_invalid"
    assert words in got.json()["error"]["message"]


def test_a_filter_tree_too_deep_is_refused(api: TestClient) -> None:
    tree: dict[str, Any] = {"op": "exists", "path": "config.lr"}
    for _ in range(40):
        tree = {"op": "not", "arg": tree}
    got = api.post("/api/experiments/search", json={"filter": tree})
    assert got.status_code == 400
    assert got.json()["error"]["code"] == "filter_invalid"

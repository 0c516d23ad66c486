"""The safety list: the token, Host and Origin checks (DNS rebinding), paths that leave the
experiment's directory (symlinks included), the error envelope for malformed input, and the
default bind address."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from server_fixtures import AUTH, TOKEN, BuiltStore, app_client

from furu_server import ServerSettings
from furu_server._cli import build_parser

MUTATIONS = [
    ("DELETE", "", None),
    ("POST", "/invalidate", {"dependents": False}),
    ("PUT", "/tags", {"tags": ["x"]}),
    ("PUT", "/name", {"name": "x"}),
    ("POST", "/rerun", {}),
]


@pytest.mark.parametrize(("method", "suffix", "body"), MUTATIONS)
@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}, {"X-Furu-Token": "nope"}],
)
def test_routes_that_change_data_need_the_token(
    api: TestClient,
    built_store: BuiltStore,
    method: str,
    suffix: str,
    body: Any,
    headers: dict[str, str],
) -> None:
    got = api.request(method, built_store.url("small", suffix), json=body, headers=headers)
    assert got.status_code == 401, got.text
    error = got.json()["error"]
    assert error["code"] == "unauthorized"
    assert "Authorization: Bearer" in error["message"]
    assert TOKEN not in got.text
    assert api.get(built_store.url("small")).json()["tags"] == []


def test_the_token_may_come_in_x_furu_token(fresh_api: TestClient, fresh_store: BuiltStore) -> None:
    got = fresh_api.put(
        fresh_store.url("small", "/tags"), json={"tags": ["ok"]}, headers={"X-Furu-Token": TOKEN}
    )
    assert got.status_code == 200, got.text


def test_a_generated_token_is_random_and_required(built_store: BuiltStore) -> None:
    settings = built_store.settings(token=None, cache_dir=built_store.dir / "cache-token")
    with app_client(settings) as client:
        token = client.app.state.services.token  # type: ignore[attr-defined]
        assert len(token) >= 32
        assert token != TOKEN
        got = client.put(built_store.url("small", "/name"), json={"name": "x"}, headers=AUTH)
        assert got.status_code == 401


@pytest.mark.parametrize(
    "host",
    ["evil.example.com", "evil.example.com:8000", "127.0.0.1.nip.io", "localhost.evil.com", ""],
)
def test_a_foreign_host_is_refused(api: TestClient, host: str) -> None:
    got = api.get("/api/health", headers={"Host": host})
    assert got.status_code == 403, got.text
    assert got.json()["error"]["code"] == "host_not_allowed"


@pytest.mark.parametrize(
    "host", ["127.0.0.1:8000", "localhost:8000", "[::1]:8000", "localhost", "app.localhost"]
)
def test_local_hosts_are_served(api: TestClient, host: str) -> None:
    assert api.get("/api/health", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.example.com",
        "null",
        "http://localhost:9999",
        "file://",
        "https://127.0.0.1:8000",
    ],
)
def test_a_foreign_origin_is_refused(api: TestClient, origin: str) -> None:
    got = api.get("/api/health", headers={"Host": "127.0.0.1:8000", "Origin": origin})
    assert got.status_code == 403, got.text
    assert got.json()["error"]["code"] == "origin_not_allowed"


def test_same_origin_and_configured_origins_are_served(built_store: BuiltStore) -> None:
    settings = built_store.settings(
        allowed_origins=("http://localhost:5173",), cache_dir=built_store.dir / "cache-origin"
    )
    with app_client(settings) as client:
        same = {"Host": "127.0.0.1:8000", "Origin": "http://127.0.0.1:8000"}
        assert client.get("/api/health", headers=same).status_code == 200
        dev = {"Host": "127.0.0.1:8000", "Origin": "http://localhost:5173"}
        assert client.get("/api/health", headers=dev).status_code == 200


def test_extra_hosts_can_be_allowed(built_store: BuiltStore) -> None:
    settings = built_store.settings(
        allowed_hosts=("testserver", "furu.internal"), cache_dir=built_store.dir / "cache-hosts"
    )
    with app_client(settings) as client:
        assert client.get("/api/health", headers={"Host": "furu.internal:80"}).status_code == 200


@pytest.mark.parametrize("route", ["files", "preview"])
@pytest.mark.parametrize(
    "path",
    [
        "..%2F..%2F..%2Fetc%2Fpasswd",
        "%2E%2E/%2E%2E/%2E%2E/etc/passwd",
        "%2Fetc%2Fpasswd",
        "metrics.json%2F..%2F..%2F..%2Fsecret.txt",
        ".furu%2F..%2F..%2Fsecret.txt",
    ],
)
def test_paths_that_leave_the_directory_are_refused(
    api: TestClient, built_store: BuiltStore, route: str, path: str
) -> None:
    got = api.get(built_store.url("large", f"/{route}/{path}"))
    assert got.status_code in (403, 404), got.text
    assert got.json()["error"]["code"] in ("path_outside_artifact", "route_not_found")
    assert "root:" not in got.text


@pytest.mark.parametrize("route", ["files", "preview"])
def test_symlinks_out_of_the_directory_are_refused(
    fresh_api: TestClient, fresh_store: BuiltStore, tmp_path: Path, route: str
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    step_dir = fresh_store.step_dir("large")
    os.symlink(secret, step_dir / "link.txt")
    os.symlink(tmp_path, step_dir / "linkdir")
    os.symlink(fresh_store.step_dir("small"), step_dir / "sibling")
    os.symlink(step_dir / "metrics.json", step_dir / "inside.json")
    for name in ("link.txt", "linkdir/secret.txt", "sibling/metrics.json"):
        got = fresh_api.get(fresh_store.url("large", f"/{route}/{name}"))
        assert got.status_code == 403, (name, got.text)
        assert got.json()["error"]["code"] == "path_outside_artifact"
        assert "top secret" not in got.text
    inside = fresh_api.get(fresh_store.url("large", f"/{route}/inside.json"))
    assert inside.status_code == 200
    tree = fresh_api.get(fresh_store.url("large", "/artifacts")).json()
    kinds = {e["path"]: e["type"] for e in tree["entries"]}
    assert kinds["linkdir"] == "symlink"
    assert "linkdir/secret.txt" not in kinds


@pytest.mark.parametrize(
    ("method", "url", "kwargs"),
    [
        ("POST", "/api/experiments/search", {"content": b"{not json"}),
        ("POST", "/api/experiments/search", {"json": {"limit": "many"}}),
        ("POST", "/api/experiments/search", {"json": {"limit": 0}}),
        ("POST", "/api/experiments/search", {"json": {"unknown": 1}}),
        ("POST", "/api/experiments/search", {"json": {"filter": {"op": "xor"}}}),
        ("POST", "/api/experiments/search", {"json": {"filter": {"op": "eq", "path": ""}}}),
        ("POST", "/api/experiments/search", {"json": [1, 2]}),
        ("POST", "/api/experiments/search", {"json": {"offset": 2**63}}),
        ("GET", "/api/experiments", {"params": {"limit": -1}}),
        ("GET", "/api/experiments", {"params": {"limit": 10**9}}),
        ("GET", "/api/experiments", {"params": {"sort": "nonsense"}}),
        ("GET", "/api/experiments", {"params": {"result_status": "maybe"}}),
        ("GET", "/api/experiments", {"params": {"started_after": "yesterday"}}),
        ("GET", "/api/experiments", {"params": {"q": "((("}}),
        ("GET", "/api/experiments", {"params": {"offset": "x"}}),
        ("POST", "/api/filters/parse", {"json": {"query": 5}}),
        ("GET", "/api/diff", {"params": {"a": "x"}}),
        ("GET", "/api/runs/nope", {}),
        ("GET", "/api/nowhere", {}),
        ("PATCH", "/api/experiments", {}),
        ("GET", "/api/experiments/a/b/c/d/e", {}),
    ],
)
def test_malformed_input_is_a_4xx_envelope_never_a_500(
    api: TestClient, method: str, url: str, kwargs: dict[str, Any]
) -> None:
    got = api.request(method, url, **kwargs)
    assert 400 <= got.status_code < 500, got.text
    body = got.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "detail"}
    assert body["error"]["message"]


@pytest.mark.parametrize("value", [10**30, -(10**30), 2**63, 1e308])
@pytest.mark.parametrize("path", ["config.lr", "runtime", "state.attempts", "namespace"])
def test_numbers_beyond_64_bits_are_compared_not_crashed_on(
    api: TestClient, path: str, value: float
) -> None:
    for op in ("eq", "lt", "ge"):
        tree = {"op": op, "path": path, "value": value}
        got = api.post("/api/experiments/search", json={"filter": tree})
        assert got.status_code == 200, got.text
    big = api.post("/api/experiments/search", json={"query": "config.steps < 1e400"})
    assert big.status_code == 200, big.text


def test_malformed_bodies_of_mutations_are_4xx(api: TestClient, built_store: BuiltStore) -> None:
    for suffix, body in (
        ("/tags", {"tags": "x"}),
        ("/tags", {"tags": [""]}),
        ("/name", {"name": 3}),
    ):
        got = api.put(built_store.url("small", suffix), json=body, headers=AUTH)
        assert 400 <= got.status_code < 500, got.text
        assert got.json()["error"]["code"] in ("invalid_request", "bad_request")


def test_it_binds_127_0_0_1_by_default(tmp_path: Path) -> None:
    assert ServerSettings(root=tmp_path).host == "127.0.0.1"
    for command in ("serve", "api"):
        args = build_parser().parse_args([command])
        assert args.host == "127.0.0.1"

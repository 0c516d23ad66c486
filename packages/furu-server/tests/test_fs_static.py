"""The built dashboard's files, served with a fallback to `index.html` for client-side routes,
and a page that says how to build it when it is not built."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from server_fixtures import BuiltStore

from furu_server import create_app


def test_the_dashboard_is_served_with_a_client_side_route_fallback(
    built_store: BuiltStore, tmp_path: Path
) -> None:
    static = tmp_path / "static"
    (static / "assets").mkdir(parents=True)
    (static / "index.html").write_text("<html>furu dashboard</html>")
    (static / "assets" / "app.js").write_text("console.log('furu')")
    (tmp_path / "secret.txt").write_text("secret")
    settings = built_store.settings(static_dir=static, cache_dir=tmp_path / "cache")
    with TestClient(create_app(settings, start_refresher=False)) as client:
        for path in ("/", "/experiments/server_steps.Corpus/abc", "/dag", "/nested/deep/route"):
            got = client.get(path)
            assert got.status_code == 200
            assert got.text == "<html>furu dashboard</html>", path
        asset = client.get("/assets/app.js")
        assert asset.text == "console.log('furu')"
        assert "secret" not in client.get("/..%2Fsecret.txt").text
        for odd in ("/%00", "/assets/app.js%00", "/a%00b/c"):  # a NUL byte is no file: fallback
            got = client.get(odd)
            assert got.status_code == 200, (odd, got.text)
            assert got.text == "<html>furu dashboard</html>"
        api = client.get("/api/nope")
        assert (api.status_code, api.json()["error"]["code"]) == (404, "route_not_found")
    unbuilt = built_store.settings(static_dir=tmp_path / "missing", cache_dir=tmp_path / "cache")
    with TestClient(create_app(unbuilt, start_refresher=False)) as client:
        page = client.get("/experiments/x")
        assert "frontend is not built" in page.text
        assert "/api/docs" in page.text

"""The built dashboard as `furu-dashboard serve` serves it: the page, its routes, its assets."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.sync_api import expect

from dashboard_fixtures import Dashboard, open_with_token, shoot


def test_index_and_client_routes_serve_the_app(dashboard: Dashboard) -> None:
    index = httpx.get(dashboard.url + "/", timeout=10)
    assert index.status_code == 200
    assert '<div id="root">' in index.text
    scripts = re.findall(r'src="(/assets/[^"]+\.js)"', index.text)
    assert scripts, index.text
    asset = httpx.get(dashboard.url + scripts[0], timeout=10)
    assert asset.status_code == 200
    assert "javascript" in asset.headers["content-type"]
    # A route only the frontend's router knows still gets the app (SPA fallback).
    deep = httpx.get(dashboard.url + "/experiments/some.module.Step/abc?tab=files", timeout=10)
    assert deep.status_code == 200
    assert '<div id="root">' in deep.text


def test_the_dashboard_opens_in_chromium(dashboard: Dashboard, page: Any) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    open_with_token(page, dashboard.url + "/")
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.get_by_test_id("metric-total")).to_contain_text(re.compile(r"\d+"))
    # The token moved from the address bar into storage, where the actions read it.
    assert "token=" not in page.url
    assert page.evaluate("localStorage.getItem('furu-token')") == "dashboard-test-token"
    shoot(page, "00-first-load")
    assert errors == []

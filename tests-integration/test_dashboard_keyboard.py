"""Keyboard navigation, themes, auto-refresh, and the empty and error states, in Chromium."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from dashboard_fixtures import REPO, Dashboard, serve, set_theme, shoot, step_env


def test_keyboard_navigation(dashboard: Dashboard, page: Any) -> None:
    page.goto(dashboard.url + "/experiments?q=namespace = ml_pipeline.steps.TrainModel")
    rows = page.locator("[role=row][data-ref]")
    expect(rows).to_have_count(7)
    page.keyboard.press("j")
    expect(page.locator("[data-focused]")).to_have_attribute("data-index", "0")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    focused = page.locator("[data-focused]")
    expect(focused).to_have_attribute("data-index", "1")
    page.keyboard.press("x")
    expect(focused).to_have_attribute("aria-selected", "true")
    page.keyboard.press("j")
    page.keyboard.press("x")
    expect(page.get_by_test_id("bulk-bar")).to_contain_text("2 selected")
    shoot(page, "30-keyboard-selection-light")
    page.keyboard.press("c")
    expect(page.get_by_test_id("compare-page")).to_be_visible()
    page.go_back()
    expect(rows).to_have_count(7)

    page.keyboard.press("/")
    expect(page.get_by_test_id("filter-text")).to_be_focused()
    page.keyboard.press("Escape")
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Keyboard shortcuts")
    shoot(page, "31-keyboard-help-light")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)

    page.keyboard.press("j")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("experiment-class")).to_have_text("TrainModel")
    page.keyboard.press("g")
    page.keyboard.press("d")
    expect(page).to_have_url(re.compile(r"/dag$"))
    page.keyboard.press("g")
    page.keyboard.press("o")
    expect(page.get_by_test_id("metric-total")).to_be_visible()


def test_theme_and_auto_refresh_toggles_are_remembered(dashboard: Dashboard, page: Any) -> None:
    page.goto(dashboard.url + "/")
    set_theme(page, "light")
    page.reload()
    html = page.locator("html")
    expect(html).not_to_have_class(re.compile("dark"))
    page.get_by_role("button", name="Toggle theme").click()
    expect(html).to_have_class(re.compile("dark"))
    page.reload()
    expect(html).to_have_class(re.compile("dark"))
    page.keyboard.press("t")
    expect(html).not_to_have_class(re.compile("dark"))

    toggle = page.get_by_role("button", name="Auto-refresh")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    page.reload()
    expect(page.get_by_role("button", name="Auto-refresh")).to_have_attribute(
        "aria-pressed", "false"
    )
    page.keyboard.press("r")
    expect(page.get_by_role("button", name="Auto-refresh")).to_have_attribute(
        "aria-pressed", "true"
    )


def test_live_pages_follow_the_store(dashboard: Dashboard, page: Any) -> None:
    """With auto-refresh on, a new experiment appears without a reload."""
    page.goto(dashboard.url + "/experiments?q=class = Scratch and config.label = appears-later")
    expect(page.get_by_text("No experiment matches this filter")).to_be_visible()
    shoot(page, "32-experiments-no-match-light")
    code = "import dashboard_fixtures as d; d.Scratch(label='appears-later').load_or_create()"
    subprocess.run([sys.executable, "-c", code], env=step_env(dashboard.root), cwd=REPO, check=True)
    expect(page.locator("[role=row][data-ref]")).to_have_count(1, timeout=15_000)


def test_unknown_pages_and_experiments_say_so(dashboard: Dashboard, page: Any) -> None:
    page.goto(dashboard.url + "/no/such/page")
    expect(page.get_by_text("No such page")).to_be_visible()
    page.goto(dashboard.url + "/experiments/ml_pipeline.steps.TrainModel/0000000000")
    expect(page.get_by_text("No such experiment in this store")).to_be_visible()
    page.goto(dashboard.url + "/compare")
    expect(page.get_by_text("Pick two or more experiments to compare")).to_be_visible()
    shoot(page, "33-compare-empty-light")


def test_an_empty_store_and_a_stopped_server_show_their_states(tmp_path: Path, page: Any) -> None:
    root = tmp_path / "empty-store"
    root.mkdir()
    with serve(root, tmp_path) as empty:
        page.goto(empty.url + "/")
        expect(page.get_by_text("This store has no experiments yet")).to_be_visible()
        shoot(page, "34-overview-empty-light")
        set_theme(page, "dark")
        shoot(page, "34-overview-empty-dark")
        set_theme(page, "light")
        page.goto(empty.url + "/experiments")
        expect(page.get_by_text("This store has no experiments yet")).to_be_visible()
        page.goto(empty.url + "/dag")
        expect(page.get_by_text("No classes yet")).to_be_visible()
    # The server is gone: the page says it cannot reach it (and offers to retry), not a blank.
    page.get_by_role("link", name="Experiments").click()
    expect(page.get_by_text("The furu server is unreachable")).to_be_visible(timeout=20_000)
    expect(page.get_by_role("button", name="Retry")).to_be_visible()
    shoot(page, "35-server-unreachable-light")

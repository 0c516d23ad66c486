"""The DAG page and the action dialogs in Chromium, over a small store (`dag_actions_steps`):

- the DAG has no minimap, lays the connected classes out first (the isolated ones after, in a
  grid), shows each class's failed count, and opens a side panel for a class with its varying
  config fields (counts per value) and its recent failures (error type and message, linked);
- an action without the token asks for it and then goes on;
- the invalidate dialog lists what it will hit (the dependents with them ticked), as the
  server plans it;
- an invalidated step reads `incomplete` in the table, on its page and in the DAG, the
  tooltip saying it was invalidated.

Screenshots go to `test-artifacts/screenshots/` (`8x-dag-*`, `8x-actions-*`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

import dag_actions_steps as steps
from dashboard_fixtures import (
    TOKEN,
    Dashboard,
    open_with_token,
    run_python,
    serve,
    shoot,
)

NS = "dag_actions_steps"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dag-actions") / "store"
    run_python("import dag_actions_steps as s; s.make_store()", root)
    return root


@pytest.fixture(scope="module")
def server(store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    with serve(store, tmp_path_factory.mktemp("dag-actions-server")) as running:
        yield running


def _node(page: Any, cls: str) -> Any:
    return page.locator(f"[data-testid=dag-node][data-namespace='{NS}.{cls}']")


def _box(page: Any, cls: str) -> dict[str, float]:
    box = _node(page, cls).bounding_box()
    assert box is not None, cls
    return box


def test_the_dag_has_no_minimap_and_lays_connected_classes_first(
    server: Dashboard, page: Any
) -> None:
    page.goto(server.url + "/dag")
    expect(page.get_by_test_id("dag-node")).to_have_count(3 + len(steps.LONELY))
    expect(page.locator(".react-flow__minimap")).to_have_count(0)
    pipeline = [_box(page, c) for c in ("Dataset", "TrainModel", "Evaluate")]
    lonely = [_box(page, c) for c in steps.LONELY]
    # The pipeline reads left to right, and every lonely class lies below all of it.
    assert pipeline[0]["x"] < pipeline[1]["x"] < pipeline[2]["x"]
    bottom = max(b["y"] + b["height"] for b in pipeline)
    assert all(b["y"] > bottom for b in lonely)
    assert len({round(b["y"]) for b in lonely}) == 1  # one row of the grid
    failed = _node(page, "TrainModel").get_by_test_id("dag-failed")
    expect(failed).to_have_text(re.compile(rf"{len(steps.DIVERGING)} failed"))
    expect(_node(page, "Evaluate").get_by_test_id("dag-failed")).to_have_count(0)
    shoot(page, "80-dag-connected-first-light")


def test_the_class_panel_shows_varying_fields_and_recent_failures(
    server: Dashboard, page: Any
) -> None:
    page.goto(server.url + "/dag")
    graph = page.get_by_test_id("dag")
    _node(page, "TrainModel").click()
    panel = page.get_by_test_id("dag-class-panel")
    expect(panel).to_be_visible()
    # Beside the graph, never over it.
    after = graph.bounding_box()
    side = panel.bounding_box()
    assert after is not None
    assert side is not None
    assert side["x"] >= after["x"] + after["width"]
    # ... and the graph is fitted again to its new width: every class stays in view.
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=dag-node]')].every(n => {"
        " const r = n.getBoundingClientRect(),"
        " g = document.querySelector('[data-testid=dag]').getBoundingClientRect();"
        " return r.left >= g.left && r.right <= g.right; })"
    )
    lr = panel.locator("[data-testid=dag-varying-field][data-field='config.lr']")
    expect(lr).to_contain_text(f"lr · {len(steps.RATES) + len(steps.DIVERGING)}")
    expect(lr).to_contain_text("0.3 ×1")
    optimizer = panel.locator("[data-testid=dag-varying-field][data-field='config.optimizer']")
    expect(optimizer).to_contain_text("adam ×4")
    expect(optimizer).to_contain_text("sgd ×1")
    expect(panel.locator("[data-field='config.data.seed']")).to_have_count(0)  # one value
    failures = panel.get_by_test_id("dag-failures")
    expect(failures).to_contain_text(f"Recent failures ({len(steps.DIVERGING)})")
    expect(failures.get_by_test_id("dag-failure-type")).to_have_count(len(steps.DIVERGING))
    expect(failures.get_by_test_id("dag-failure-type").first).to_have_text("ValueError")
    expect(failures.get_by_test_id("dag-failure-message").first).to_contain_text(
        "diverged: loss is nan at lr="
    )
    shoot(page, "81-dag-class-panel-light")
    failures.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(rf"/experiments/{NS}\.TrainModel/[0-9a-f]+"))
    expect(page.get_by_text("diverged: loss is nan").first).to_be_visible()


def test_an_action_without_the_token_asks_for_it_then_goes_on(server: Dashboard, page: Any) -> None:
    ns, digest = server.ref(f"namespace = {NS}.Evaluate and config.model.lr = 0.1")
    page.goto(server.url + f"/experiments/{ns}/{digest}?tab=actions")  # no ?token=
    page.get_by_role("button", name="Invalidate…").click()
    page.get_by_role("dialog").get_by_role("button", name="Invalidate").click()
    prompt = page.get_by_test_id("token-dialog")
    expect(prompt).to_be_visible()
    expect(prompt).to_contain_text("This action needs the server's token.")
    prompt.get_by_role("textbox", name="token").fill(TOKEN)
    shoot(page, "82-actions-token-prompt-light")
    prompt.get_by_role("button", name="Save and retry").click()
    expect(page.get_by_role("status")).to_contain_text("Invalidated 1")
    assert server.api(f"/api/experiments/{ns}/{digest}").json()["result_status"] == "incomplete"
    assert page.evaluate("() => localStorage.getItem('furu-token')") == TOKEN


def test_a_cancelled_token_prompt_shows_the_refusal(server: Dashboard, page: Any) -> None:
    ns, digest = server.ref(f"namespace = {NS}.Evaluate and config.model.lr = 0.3")
    page.goto(server.url + f"/experiments/{ns}/{digest}?tab=actions")
    page.get_by_role("button", name="Invalidate…").click()
    dialog = page.get_by_role("dialog").filter(has_text="Invalidate this experiment?")
    dialog.get_by_role("button", name="Invalidate").click()
    prompt = page.get_by_test_id("token-dialog")
    prompt.get_by_role("button", name="Cancel").click()
    expect(dialog.get_by_role("alert")).to_contain_text("needs the server's token")
    assert server.api(f"/api/experiments/{ns}/{digest}").json()["result_status"] == "success"


def test_the_invalidate_dialog_lists_the_dependents_and_the_status_reads_one_way(
    server: Dashboard, page: Any
) -> None:
    ns, digest = server.ref(f"namespace = {NS}.TrainModel and config.lr = 0.01")
    ens, edigest = server.ref(f"namespace = {NS}.Evaluate and config.model.lr = 0.01")
    open_with_token(page, server.url + f"/experiments/{ns}/{digest}?tab=actions")
    page.get_by_role("button", name="Invalidate…").click()
    dialog = page.get_by_role("dialog")
    plan = dialog.get_by_test_id("invalidate-plan")
    expect(plan).to_have_attribute("data-targets", "1")
    expect(plan).to_contain_text("no dependents")
    dialog.get_by_role("checkbox").check()
    expect(plan).to_have_attribute("data-targets", "2")
    expect(plan).to_contain_text("1 dependent")
    dependent = plan.locator("[data-testid=invalidate-target]:not([data-root])")
    expect(dependent).to_contain_text("Evaluate")
    expect(dependent.get_by_role("link")).to_have_attribute("href", f"/experiments/{ens}/{edigest}")
    shoot(page, "83-actions-invalidate-plan-light")
    dialog.get_by_role("button", name="Invalidate").click()
    expect(page.get_by_role("status")).to_contain_text("Invalidated 2")

    # One status everywhere: `incomplete`, the tooltip saying it was invalidated.
    page.goto(server.url + f"/experiments/{ns}/{digest}")
    heading = page.get_by_test_id("experiment-class").locator("xpath=..")
    header = heading.locator("[data-status]")
    expect(header).to_have_count(1)  # no second badge saying the attempt's `success`
    expect(header).to_have_text("incomplete")
    expect(header).to_have_attribute(
        "title", re.compile(r"^invalidated \(invalidated by furu-server")
    )
    # The attempt card still says its attempt succeeded, and that the result was dropped since.
    expect(page.get_by_test_id("attempt-invalidated")).to_be_visible()
    shoot(page, "84-actions-invalidated-detail-light")
    page.goto(server.url + f"/experiments?q=namespace = {NS}.TrainModel")
    row = page.locator(f"[role=row][data-ref='{ns}/{digest}']")
    badge = row.locator("[data-invalidated] [data-status]")
    expect(badge).to_have_text("incomplete")
    expect(badge).to_have_attribute("title", re.compile("^invalidated"))
    shoot(page, "85-actions-invalidated-table-light")
    page.goto(server.url + "/dag")
    expect(_node(page, "TrainModel")).to_contain_text("1 incomplete")
    expect(_node(page, "Evaluate")).to_contain_text("incomplete")

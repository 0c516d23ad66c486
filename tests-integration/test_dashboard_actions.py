"""The dashboard's actions in Chromium: rerun, new experiment, invalidate, delete, name and tags.

Each works on its own `Scratch` step of the shared store, so the other tests see the pipeline's
experiments unchanged.
"""

from __future__ import annotations

import json
import re
from typing import Any

from playwright.sync_api import expect

from dashboard_fixtures import Dashboard, open_with_token, shoot


def test_rerun_an_experiment_from_the_ui_with_progress(dashboard: Dashboard, page: Any) -> None:
    ns, digest = dashboard.ref("class = Scratch and config.label = rerun-me")
    before = dashboard.api(f"/api/experiments/{ns}/{digest}").json()
    open_with_token(page, dashboard.url + f"/experiments/{ns}/{digest}?tab=actions")
    expect(page.get_by_test_id("rerun")).to_contain_text("force_recompute")
    page.get_by_role("button", name="Rerun now").click()
    progress = page.get_by_test_id("run-progress")
    expect(progress).to_be_visible()
    expect(progress).to_have_attribute("data-run-status", "succeeded", timeout=90_000)
    expect(progress).to_contain_text("furu-rerun: computing")
    expect(progress.get_by_role("link", name=re.compile("open result"))).to_be_visible()
    shoot(page, "20-actions-rerun-light")
    after = dashboard.api(f"/api/experiments/{ns}/{digest}").json()
    assert after["attempt_number"] == before["attempt_number"] + 1
    assert after["result_status"] == "success"


def test_new_experiment_from_this_one_gives_python_and_a_command_line(
    dashboard: Dashboard, page: Any
) -> None:
    ns, digest = dashboard.ref(
        "namespace = ml_pipeline.steps.TrainModel and config.lr = 0.3 and config.l2 = 0"
    )
    page.goto(dashboard.url + f"/experiments/{ns}/{digest}?tab=actions")
    card = page.get_by_test_id("new-experiment")
    snippet = page.get_by_test_id("new-snippet")
    expect(snippet).to_contain_text("lr=0.3")
    card.get_by_role("textbox", name="value of lr").fill("0.5")
    card.get_by_role("textbox", name="value of dataset.seed").fill("7")
    expect(snippet).to_contain_text("lr=0.5")
    expect(snippet).to_contain_text("seed=7")
    expect(card).to_contain_text("2 changed")
    expect(card).to_contain_text("python -c 'from ml_pipeline.steps import MakeDataset, TrainModel")
    shoot(page, "21-actions-new-experiment-light")


def test_invalidate_asks_first_and_drops_the_result(dashboard: Dashboard, page: Any) -> None:
    ns, digest = dashboard.ref("class = Scratch and config.label = invalidate-me")
    open_with_token(page, dashboard.url + f"/experiments/{ns}/{digest}?tab=actions")
    page.get_by_role("button", name="Invalidate…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Invalidate this experiment?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    assert dashboard.api(f"/api/experiments/{ns}/{digest}").json()["result_status"] == "success"
    page.get_by_role("button", name="Invalidate…").click()
    dialog.get_by_role("checkbox").check()
    shoot(page, "22-actions-invalidate-confirm-light")
    dialog.get_by_role("button", name="Invalidate").click()
    expect(page.get_by_role("status")).to_contain_text("Invalidated 1")
    assert dashboard.api(f"/api/experiments/{ns}/{digest}").json()["result_status"] != "success"


def test_delete_asks_first_then_removes_the_experiment(dashboard: Dashboard, page: Any) -> None:
    ns, digest = dashboard.ref("class = Scratch and config.label = delete-me")
    open_with_token(page, dashboard.url + f"/experiments/{ns}/{digest}?tab=actions")
    page.get_by_role("button", name="Delete…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("cannot be undone")
    shoot(page, "23-actions-delete-confirm-light")
    dialog.get_by_role("button", name="Delete", exact=True).click()
    expect(page).to_have_url(re.compile(r"/experiments$"))
    gone = dashboard.api(f"/api/experiments/{ns}/{digest}")
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "experiment_not_found"
    page.goto(dashboard.url + f"/experiments/{ns}/{digest}")
    expect(page.get_by_text("No such experiment in this store")).to_be_visible()


def test_name_and_tags_are_edited_in_place(dashboard: Dashboard, page: Any) -> None:
    ns, digest = dashboard.ref("class = ResultTable and config.lr = 0.2")
    open_with_token(page, dashboard.url + f"/experiments/{ns}/{digest}")
    page.get_by_role("button", name="Rename").click()
    page.get_by_role("textbox", name="Name").fill("fast lr")
    page.get_by_role("button", name="Save name").click()
    expect(page.get_by_test_id("experiment-name")).to_have_text("fast lr")
    tag = page.get_by_role("textbox", name="New tag")
    tag.fill("best")
    tag.press("Enter")
    tag.fill("paper")
    tag.press("Enter")
    expect(page.get_by_test_id("tags")).to_contain_text("best")
    expect(page.get_by_test_id("tags")).to_contain_text("paper")
    page.get_by_role("button", name="Remove tag paper").click()
    expect(page.get_by_test_id("tags")).not_to_contain_text("paper")
    detail = dashboard.api(f"/api/experiments/{ns}/{digest}").json()
    assert (detail["name"], detail["tags"]) == ("fast lr", ["best"])
    shoot(page, "24-experiment-named-tagged-light")
    # The listing filters on them.
    page.goto(dashboard.url + "/experiments?q=" + json.dumps("tags contains best")[1:-1])
    expect(page.locator("[role=row][data-ref]")).to_have_count(1)


def test_actions_without_the_token_say_how_to_get_it(dashboard: Dashboard, page: Any) -> None:
    ns, digest = dashboard.ref("class = ResultTable and config.lr = 0.05")
    page.goto(dashboard.url + f"/experiments/{ns}/{digest}")
    page.evaluate("localStorage.removeItem('furu-token')")
    page.reload()
    page.get_by_role("textbox", name="New tag").fill("nope")
    page.get_by_role("textbox", name="New tag").press("Enter")
    # The dashboard asks for the token (test_dashboard_dag_actions saves it and goes on);
    # cancelled, the refusal says how to get one.
    prompt = page.get_by_test_id("token-dialog")
    expect(prompt).to_contain_text("This action needs the server's token.")
    prompt.get_by_role("button", name="Cancel").click()
    expect(prompt).to_have_count(0)
    expect(page.get_by_role("alert")).to_contain_text("printed when furu-dashboard starts")
    assert dashboard.api(f"/api/experiments/{ns}/{digest}").json()["tags"] == []

"""Sweeps and batches in Chromium: a 2 x 3 sweep from an experiment's page, planned first and
then launched, finishing with its six new rows listed; "rerun these" and "run what is missing"
on selected rows. Over a small store of its own (`sweep_steps`); every batch really runs in a
subprocess of the project's environment.

Screenshots go to `test-artifacts/screenshots/` (`6x-sweeps-*`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from dashboard_fixtures import Dashboard, open_with_token, run_python, serve, shoot

ROWS = "[role=row][data-ref]"
BATCH_SEC = 120_000  # ms: a batch starts worker processes that import furu and the steps


@pytest.fixture(scope="module")
def sweep_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    work = tmp_path_factory.mktemp("sweeps")
    root, flag = work / "store", work / "flaky.flag"
    run_python(f"import sweep_steps; sweep_steps.make_store({str(flag)!r})", root)
    return root, flag


@pytest.fixture(scope="module")
def sweeps(
    sweep_store: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Dashboard]:
    with serve(sweep_store[0], tmp_path_factory.mktemp("sweeps-server")) as server:
        yield server


def _ref(server: Dashboard, query: str) -> str:
    namespace, digest = server.ref(query)
    return f"{namespace}/{digest}"


def test_a_2x3_sweep_is_planned_then_launched_and_lists_its_six_rows(
    sweeps: Dashboard, page: Any
) -> None:
    ref = _ref(sweeps, "class = Fit and config.lr = 0.1")
    open_with_token(page, sweeps.url + f"/experiments/{ref}?tab=actions")
    card = page.get_by_test_id("sweep")
    expect(card).to_contain_text("lr")
    card.get_by_label("sweep values of lr").fill("0.2, fast")
    expect(card.get_by_test_id("sweep-error")).to_have_text('lr: "fast" is not a number')
    card.get_by_label("sweep values of lr").fill("0.2, 0.4")
    card.get_by_label("sweep values of width").fill("16:18")
    expect(card.get_by_test_id("sweep-count")).to_have_text("6 configurations")
    launch = card.get_by_role("button", name="Launch")
    expect(launch).to_be_disabled()  # the plan comes first
    card.get_by_role("button", name="Plan").click()
    expect(card.get_by_test_id("plan-summary")).to_have_text(
        "Plan: 6 to create, 0 cached, 0 running elsewhere", timeout=BATCH_SEC
    )
    items = card.get_by_test_id("plan-item")
    expect(items).to_have_count(6)
    expect(items.first).to_contain_text("lr=0.2, width=16")
    card.get_by_test_id("plan-code").locator("summary").click()
    expect(card.get_by_test_id("plan-code")).to_contain_text("furu.load_or_create_many(steps)")
    expect(card).to_contain_text("SLURM")  # offered, or why not
    card.scroll_into_view_if_needed()
    shoot(page, "60-sweeps-plan")

    expect(launch).to_have_text("Launch (6 to create)")
    launch.click()
    progress = card.get_by_test_id("batch-progress")
    expect(progress).to_have_attribute("data-status", "succeeded", timeout=BATCH_SEC)
    expect(card.get_by_test_id("batch-row")).to_have_count(6)
    expect(card.get_by_test_id("batch-row").last).to_contain_text("lr=0.4, width=18")
    expect(launch).to_be_disabled()  # launched once; other values make another sweep
    progress.scroll_into_view_if_needed()
    shoot(page, "61-sweeps-done")

    progress.get_by_role("link", name="show in the table").click()
    expect(page.locator(ROWS)).to_have_count(6)
    expect(page.get_by_test_id("experiments-total")).to_have_text("6 experiments")
    shoot(page, "62-sweeps-rows")


def test_rerun_these_plans_then_recomputes_the_selected_rows(sweeps: Dashboard, page: Any) -> None:
    refs = [_ref(sweeps, "class = Score"), _ref(sweeps, "class = Fit and config.lr = 0.1")]
    open_with_token(page, sweeps.url + "/experiments?sel=" + ",".join(refs))
    bar = page.get_by_test_id("bulk-bar")
    expect(bar).to_contain_text("2 selected")
    bar.get_by_role("button", name="Rerun these").click()
    dialog = page.get_by_test_id("batch-dialog")
    expect(dialog.get_by_test_id("plan-summary")).to_have_text(
        "Plan: 2 to create, 0 cached, 0 running elsewhere", timeout=BATCH_SEC
    )
    shoot(page, "63-sweeps-rerun-these")
    dialog.get_by_role("button", name="Launch (2 to create)").click()
    expect(dialog.get_by_test_id("batch-progress")).to_have_attribute(
        "data-status", "succeeded", timeout=BATCH_SEC
    )
    expect(dialog.get_by_test_id("batch-row")).to_have_count(2)
    for ref in refs:
        namespace, digest = ref.rsplit("/", 1)
        detail = sweeps.api(f"/api/experiments/{namespace}/{digest}").json()
        assert detail["attempt_number"] == 2, detail


def test_run_what_is_missing_creates_the_missing_dependency_first(
    sweeps: Dashboard, sweep_store: tuple[Path, Path], page: Any
) -> None:
    sweep_store[1].unlink()  # Flaky succeeds from now on
    ref = _ref(sweeps, "class = Flaky")
    open_with_token(page, sweeps.url + "/experiments?sel=" + ref)
    page.get_by_test_id("bulk-bar").get_by_role("button", name="Run what is missing").click()
    dialog = page.get_by_test_id("batch-dialog")
    expect(dialog.get_by_test_id("plan-summary")).to_have_text(
        "Plan: 1 to create, 0 cached, 0 running elsewhere (+1 dependencies to create first)",
        timeout=BATCH_SEC,
    )
    expect(dialog.get_by_test_id("plan-item").first).to_contain_text("Flaky")
    expect(dialog.get_by_test_id("plan-item").first).to_contain_text("(failed)")
    dialog.get_by_role("button", name="Launch (2 to create)").click()
    expect(dialog.get_by_test_id("batch-progress")).to_have_attribute(
        "data-status", "succeeded", timeout=BATCH_SEC
    )
    shoot(page, "64-sweeps-run-missing")
    sweeps.refresh()
    found = sweeps.api(
        "/api/experiments/search", "POST", json={"query": "class = Dataset and config.size = 7"}
    ).json()
    assert [i["result_status"] for i in found["items"]] == ["success"]


def test_a_sweep_of_a_class_starts_from_its_first_row(sweeps: Dashboard, page: Any) -> None:
    open_with_token(page, sweeps.url + "/experiments?q=" + quote("class = Score"))
    button = page.get_by_test_id("sweep-class")
    expect(button).to_have_text("Sweep Score…")
    button.click()
    expect(page).to_have_url(re.compile(r"/experiments/sweep_steps\.Score/[0-9a-f]+\?tab=actions"))
    card = page.get_by_test_id("sweep")
    expect(card).to_be_in_viewport()
    expect(card).to_contain_text("No int, float, str or bool field to sweep")

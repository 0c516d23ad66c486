"""The results table in Chromium: config, result and downstream result columns, sorted by the
server, reordered, formatted for people, kept in the URL; and the fixes around it (keys, a
refused filter, the Live indicator). Over a small store with results (`results_steps`).

Screenshots go to `test-artifacts/screenshots/` (`5x-results-*`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

import results_steps
from dashboard_fixtures import REPO, Dashboard, run_python, serve, shoot

TRAIN = "results_steps.TrainModel"
ACCURACY = "downstream.Evaluate.result.accuracy"
ROWS = "[role=row][data-ref]"


@pytest.fixture(scope="module")
def results_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("results") / "store"
    run_python("import results_steps; results_steps.make_store()", root)
    return root


@pytest.fixture(scope="module")
def results(results_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    with serve(results_store, tmp_path_factory.mktemp("results-server")) as server:
        yield server


def _query(page: Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}


def _ref(server: Dashboard, query: str) -> str:
    namespace, digest = server.ref(query)
    return f"{namespace}/{digest}"


def _column(page: Any, row: int, field: str) -> Any:
    """The cell of `field` in the `row`-th row (by the header's position)."""
    expect(page.locator(f"[role=columnheader][data-column='{field}']")).to_be_visible()
    ids = [None, *_headers(page)]  # the select column first
    assert field in ids, (field, ids, page.url)
    return page.locator(ROWS).nth(row).locator("[role=gridcell]").nth(ids.index(field))


def _headers(page: Any) -> list[str | None]:
    headers = page.locator("[role=row]:not([data-ref]) > [role=columnheader][data-column]")
    return [h.get_attribute("data-column") for h in headers.all()]


def test_best_model_by_a_downstream_result_in_two_clicks(results: Dashboard, page: Any) -> None:
    page.goto(results.url + "/experiments?q=class = TrainModel")
    expect(page.locator(ROWS)).to_have_count(6)
    page.get_by_role("button", name="Columns").click()
    box = page.get_by_role("combobox", name="Field column")
    box.fill("accuracy")
    page.get_by_role("option", name=re.compile(re.escape(ACCURACY))).click()  # click 1
    page.keyboard.press("Escape")
    assert _headers(page)[:3] == ["status", "class", ACCURACY]  # right after Class
    page.get_by_role("button", name=f"Sort by {ACCURACY}").click()  # click 2
    lr, l2 = results_steps.BEST
    best = _ref(results, f"class = TrainModel and config.lr = {lr} and config.l2 = {l2}")
    expect(page.locator(ROWS).first).to_have_attribute("data-ref", best)
    expect(_column(page, 0, ACCURACY)).to_have_text("0.9")
    assert _query(page)["sort"] == ACCURACY
    assert _query(page)["order"] == "desc"
    # the model nobody evaluated comes last, with a dash
    expect(_column(page, 5, ACCURACY)).to_have_text("–")
    shoot(page, "50-results-best-model-by-downstream-accuracy")


def test_sort_by_config_and_result_fields_formatted_for_people(
    results: Dashboard, page: Any
) -> None:
    cols = "status,class,config.lr,config.hidden,result.tokens,result.train_loss,hash"
    page.goto(results.url + f"/experiments?q=class = TrainModel&cols={cols}")
    expect(page.locator(ROWS)).to_have_count(6)
    page.get_by_role("button", name="Sort by config.lr").click()
    expect(page.locator("[role=columnheader][data-column='config.lr']")).to_have_attribute(
        "aria-sort", "descending"
    )
    expect(_column(page, 0, "config.lr")).to_have_text("0.3")
    page.get_by_role("button", name="Sort by config.lr").click()
    assert _query(page)["order"] == "asc"
    first = _column(page, 0, "config.lr")
    expect(first).to_have_text("6e-4")
    expect(first.locator("span")).to_have_attribute("title", "0.0006")
    lrs = [_column(page, i, "config.lr").inner_text() for i in range(6)]
    assert lrs == ["6e-4", "6e-4", "0.01", "0.05", "0.3", "0.3"]

    page.get_by_role("button", name="Sort by result.tokens").click()
    expect(page.locator("[role=columnheader][data-column='result.tokens']")).to_have_attribute(
        "aria-sort", "descending"
    )
    want = results.api(
        "/api/experiments/search",
        "POST",
        json={"query": "class = TrainModel", "sort_field": "result.tokens", "order": "desc"},
    ).json()["items"]
    expect(page.locator(ROWS).first).to_have_attribute(
        "data-ref", f"{want[0]['namespace']}/{want[0]['hash']}"
    )
    expect(_column(page, 0, "result.tokens")).to_have_text("6e11")  # 3e11 * 2 (hidden=1024)
    expect(_column(page, 0, "config.hidden")).to_have_text("1,024")
    shoot(page, "51-results-sorted-by-a-result-formatted")


def test_reorder_columns_and_come_back_to_the_same_table(results: Dashboard, page: Any) -> None:
    cols = "status,class,config.lr,result.train_loss,hash"
    page.goto(results.url + f"/experiments?q=class = TrainModel&cols={cols}&sort=config.lr")
    expect(page.locator(ROWS)).to_have_count(6)
    page.get_by_role("button", name="Columns").click()
    page.get_by_role("button", name="Move result.train_loss left").click()
    page.keyboard.press("Escape")
    assert _headers(page) == ["status", "class", "result.train_loss", "config.lr", "hash"]
    # drag a header onto another
    page.locator("[role=columnheader][data-column='hash']").drag_to(
        page.locator("[role=columnheader][data-column='status']")
    )
    expect(
        page.locator("[role=row]:not([data-ref]) > [role=columnheader]").nth(1)
    ).to_have_attribute("data-column", "hash")
    order = _headers(page)
    assert order == ["hash", "status", "class", "result.train_loss", "config.lr"]
    assert _query(page)["cols"] == ",".join(order)
    shoot(page, "52-results-columns-reordered")

    # select a row, open another, come back: filter, sort, columns and selection kept
    page.locator(ROWS).nth(1).get_by_role("checkbox").check()
    expect(page.get_by_test_id("bulk-bar")).to_contain_text("1 selected")
    before = _query(page)
    page.locator(ROWS).nth(2).locator("[role=gridcell]").nth(2).click()
    expect(page.get_by_test_id("experiment-page")).to_be_visible()
    page.get_by_test_id("back-to-experiments").click()
    expect(page.locator(ROWS)).to_have_count(6)
    assert _query(page) == before
    expect(page.get_by_test_id("bulk-bar")).to_contain_text("1 selected")
    assert _headers(page) == order
    page.go_back()
    page.go_back()
    expect(page.locator(ROWS)).to_have_count(6)
    assert _query(page)["sort"] == "config.lr"


def test_enter_on_headers_and_links_and_c_on_a_checkbox(results: Dashboard, page: Any) -> None:
    page.goto(results.url + "/experiments?q=class = TrainModel&cols=status,class,config.lr,hash")
    expect(page.locator(ROWS)).to_have_count(6)
    header = page.get_by_role("button", name="Sort by config.lr")
    header.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"sort=config\.lr"))
    expect(header).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"order=asc"))

    rows = page.locator(ROWS)
    rows.nth(0).get_by_role("checkbox").check()
    rows.nth(1).get_by_role("checkbox").check()
    expect(rows.nth(1).get_by_role("checkbox")).to_be_focused()
    page.keyboard.press("c")
    expect(page.get_by_test_id("compare-page")).to_be_visible()
    page.go_back()
    expect(rows).to_have_count(6)

    link = page.get_by_role("link", name="DAG")
    link.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/dag$"))


def test_a_refused_filter_keeps_the_last_rows_under_one_message(
    results: Dashboard, page: Any
) -> None:
    page.goto(results.url + "/experiments?q=class = TrainModel")
    rows = page.locator(ROWS)
    expect(rows).to_have_count(6)
    box = page.get_by_test_id("filter-text")
    box.fill("config.lrr < 0.1")
    box.press("Enter")
    problem = page.get_by_test_id("filter-problem")
    expect(problem).to_contain_text("Did you mean config.lr")
    expect(rows).to_have_count(6)
    expect(page.get_by_role("alert")).to_have_count(1)
    shoot(page, "53-results-did-you-mean-keeps-rows")

    box.fill("config.lr < ")
    box.press("Enter")
    expect(page.get_by_test_id("filter-error")).to_contain_text("expected a value")
    expect(rows).to_have_count(6)
    expect(page.get_by_role("alert")).to_have_count(1)
    shoot(page, "54-results-syntax-error-keeps-rows")

    box.fill("config.lr < 0.1")
    box.press("Enter")
    expect(rows).to_have_count(4)  # 6e-4 twice, 0.01, 0.05
    expect(page.get_by_role("alert")).to_have_count(0)


def test_live_turns_off_when_the_server_is_down(
    results_store: Path, tmp_path: Path, page: Any
) -> None:
    with serve(results_store, tmp_path) as server:
        page.goto(server.url + "/experiments")
        live = page.get_by_test_id("live-indicator")
        expect(live).to_have_attribute("data-state", "live")
        expect(live).to_have_text("Live")
        server.proc.terminate()
        server.proc.wait(timeout=30)
        expect(live).to_have_attribute("data-state", "offline", timeout=20_000)
        expect(live).to_have_text("Offline")
        shoot(page, "55-results-server-down")


def test_the_documented_link_puts_the_best_model_first(results: Dashboard, page: Any) -> None:
    doc = (REPO / "docs" / "dashboard.md").read_text(encoding="utf-8")
    (link,) = [line for line in doc.splitlines() if line.startswith("/experiments?q=class")]
    page.goto(results.url + link)
    lr, l2 = results_steps.BEST
    best = _ref(results, f"class = TrainModel and config.lr = {lr} and config.l2 = {l2}")
    expect(page.locator(ROWS).first).to_have_attribute("data-ref", best)
    assert _headers(page) == ["status", "class", ACCURACY, "hash"]
    fields = results.api("/api/fields", params={"class": "TrainModel"}).json()["fields"]
    assert ACCURACY in {f["name"] for f in fields}


def test_the_filter_builder_offers_results_and_downstream_results(
    results: Dashboard, page: Any
) -> None:
    page.goto(results.url + "/experiments?q=class = TrainModel")
    expect(page.locator(ROWS)).to_have_count(6)
    page.get_by_role("button", name="Add filter").click()
    field = page.get_by_role("combobox", name="Field")
    field.fill("accuracy")
    option = page.get_by_role("option", name=re.compile(re.escape(ACCURACY)))
    expect(option).to_be_visible()
    option.click()
    page.get_by_role("combobox", name="Operator").select_option("gt")
    page.get_by_role("textbox", name="Value").fill("0.755")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_test_id("filter-chip").last).to_have_text(f"{ACCURACY} > 0.755")
    expect(page.locator(ROWS)).to_have_count(3)  # 0.9, 0.7778, 0.7578

"""Every page of the dashboard in Chromium, over a store made by the real example pipeline.

Each test saves screenshots (light and dark) in `test-artifacts/screenshots/` for review.
"""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect

from dashboard_fixtures import Dashboard, set_theme, shoot

TRAIN = "ml_pipeline.steps.TrainModel"
EVALUATE = "ml_pipeline.steps.Evaluate"


def _query(page: Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}


def _rows(page: Any) -> Any:
    return page.locator("[role=row][data-ref]")


def _both_themes(page: Any, name: str) -> None:
    set_theme(page, "light")
    shoot(page, f"{name}-light")
    set_theme(page, "dark")
    shoot(page, f"{name}-dark")
    set_theme(page, "light")


def test_overview_counts_running_failures_recent_and_disk(dashboard: Dashboard, page: Any) -> None:
    stats = dashboard.api("/api/stats").json()
    page.goto(dashboard.url + "/")
    expect(page.get_by_test_id("metric-total")).to_contain_text(f"{stats['total']:,}")
    expect(page.get_by_test_id("metric-running")).to_contain_text("1")
    expect(page.get_by_test_id("metric-disk")).to_contain_text(re.compile(r"\d+(\.\d)? (KB|MB)"))
    expect(page.get_by_test_id("status-counts")).to_contain_text("success")
    expect(page.get_by_test_id("running-now")).to_contain_text("LongTraining")
    expect(page.get_by_test_id("recent-failures")).to_contain_text("Diverges")
    expect(page.get_by_test_id("recent-experiments").locator("li")).to_have_count(10)
    expect(page.get_by_test_id("disk-by-class")).to_contain_text("TrainModel")
    _both_themes(page, "01-overview")


def test_filter_by_a_config_field_with_the_builder_and_the_text_box(
    dashboard: Dashboard, page: Any
) -> None:
    page.goto(dashboard.url + "/experiments")
    expect(_rows(page).first).to_be_visible()
    page.get_by_role("combobox", name="Class").select_option(TRAIN)
    expect(page.get_by_test_id("experiments-total")).to_have_text(re.compile(r"^7 experiments"))
    page.get_by_role("button", name="Add filter").click()
    field = page.get_by_role("combobox", name="Field")
    field.fill("config.l")
    # The field suggestions come from the configs of the chosen class.
    expect(page.get_by_role("option", name=re.compile(r"^config\.lr"))).to_be_visible()
    expect(page.get_by_role("option", name=re.compile(r"^config\.dataset\.seed"))).to_have_count(0)
    page.get_by_role("option", name=re.compile(r"^config\.lr")).click()
    page.get_by_role("combobox", name="Operator").select_option("lt")
    value = page.get_by_role("combobox", name="Value")  # few distinct values: a dropdown
    expect(value.locator("option")).to_have_count(1 + 6 + 1)  # choose…, 6 lrs, other…
    value.select_option("0.3")
    shoot(page, "02-experiments-filter-builder")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_test_id("experiments-total")).to_have_text(re.compile(r"^3 experiments"))
    assert _query(page)["q"] == f"namespace = {TRAIN} and config.lr < 0.3"
    expect(page.get_by_test_id("filter-chip")).to_have_text("config.lr < 0.3")
    expect(_rows(page)).to_have_count(3)

    # The same language as text: the URL keeps it, a reload shows the same rows.
    box = page.get_by_test_id("filter-text")
    box.fill("config.l2 > 0 and status = success")
    box.press("Enter")
    expect(page.get_by_test_id("experiments-total")).to_have_text(re.compile(r"^1 experiment"))
    page.reload()
    expect(_rows(page)).to_have_count(1)
    expect(_rows(page).first).to_contain_text("TrainModel")

    box = page.get_by_test_id("filter-text")
    box.fill("config.lr < ")
    box.press("Enter")
    expect(page.get_by_test_id("filter-error")).to_contain_text("expected a value")
    _both_themes(page, "03-experiments-filter-error")


def test_sort_by_runtime_and_choose_config_columns(dashboard: Dashboard, page: Any) -> None:
    page.goto(dashboard.url + f"/experiments?q=namespace = {TRAIN}")
    expect(_rows(page)).to_have_count(7)
    page.get_by_role("button", name="Sort by runtime").click()
    assert _query(page)["sort"] == "runtime"
    assert _query(page)["order"] == "desc"
    expected = dashboard.api(
        "/api/experiments/search",
        "POST",
        json={"query": f"namespace = {TRAIN}", "sort": "runtime", "order": "desc"},
    ).json()["items"]
    want = [f"{e['namespace']}/{e['hash']}" for e in expected]
    expect(_rows(page).first).to_have_attribute("data-ref", want[0])
    assert [r.get_attribute("data-ref") for r in _rows(page).all()] == want
    page.get_by_role("button", name="Sort by runtime").click()
    assert _query(page)["order"] == "asc"
    expect(_rows(page).first).to_have_attribute("data-ref", want[-1])

    page.get_by_role("button", name="Columns").click()
    page.get_by_role("combobox", name="Field column").fill("config.lr")
    page.get_by_role("button", name="Add", exact=True).click()
    page.keyboard.press("Escape")
    assert "config.lr" in _query(page)["cols"]
    header = page.locator("[role=columnheader][data-column='config.lr']")
    expect(header).to_have_text("lr")
    expect(_rows(page).first).to_contain_text(re.compile(r"0\.01|0\.03|0\.1|0\.3|1|3"))
    _both_themes(page, "04-experiments-sorted-with-config-columns")


def test_open_an_experiment_and_follow_its_nested_steps(dashboard: Dashboard, page: Any) -> None:
    ns, digest = dashboard.ref(
        f"namespace = {EVALUATE} and config.model.lr = 0.3 and config.model.l2 = 0"
    )
    page.goto(dashboard.url + f"/experiments?q=namespace = {EVALUATE}")
    page.locator(f"[role=row][data-ref='{ns}/{digest}']").click()
    expect(page.get_by_test_id("experiment-class")).to_have_text("Evaluate")
    expect(page.get_by_test_id("experiment-hash")).to_have_text(digest)
    tree = page.get_by_test_id("config-tree")
    expect(tree).to_contain_text("TrainModel")
    expect(tree).to_contain_text("MakeDataset")
    expect(page.get_by_test_id("relationships")).to_contain_text("TrainModel")
    expect(page.get_by_test_id("metadata")).to_contain_text("examples/pipeline.py")
    expect(page.get_by_test_id("metadata")).to_contain_text("not version-controlled")
    expect(page.get_by_test_id("checkout-command")).to_contain_text(f"furu checkout {ns}/{digest} ")
    expect(page.get_by_role("button", name="Copy checkout command")).to_be_visible()
    expect(page.get_by_role("button", name="Copy hash")).to_be_visible()
    expect(page.get_by_role("button", name="Copy Python snippet")).to_be_visible()
    expect(page.get_by_role("button", name="Copy directory path")).to_be_visible()
    _both_themes(page, "05-experiment")

    tree.get_by_role("link", name=re.compile("open nested step model$")).click()
    expect(page.get_by_test_id("experiment-class")).to_have_text("TrainModel")
    train_ns, train_hash = dashboard.ref(
        f"namespace = {TRAIN} and config.lr = 0.3 and config.l2 = 0"
    )
    assert page.url.split("?")[0].endswith(f"/experiments/{train_ns}/{train_hash}")
    # Its children: the evaluation we came from.
    expect(page.get_by_test_id("children")).to_contain_text(digest[:10])
    page.get_by_test_id("config-tree").get_by_role(
        "link", name=re.compile("open nested step dataset$")
    ).click()
    expect(page.get_by_test_id("experiment-class")).to_have_text("MakeDataset")
    expect(page.get_by_test_id("children")).to_contain_text("TrainModel")
    page.get_by_role("tab", name="Lineage").click()
    expect(page.get_by_test_id("lineage-graph")).to_be_visible()
    expect(page.locator(".react-flow__node")).to_have_count(1 + 7 + 7)
    _both_themes(page, "06-experiment-lineage")


def test_what_an_attempt_used_on_the_experiment_page_and_in_the_table(
    dashboard: Dashboard, page: Any
) -> None:
    ns, digest = dashboard.ref(f"namespace = {TRAIN} and config.lr = 0.3 and config.l2 = 0")
    recorded = dashboard.api(f"/api/experiments/{ns}/{digest}").json()
    assert recorded["peak_rss_bytes"] > 0
    page.goto(dashboard.url + f"/experiments/{ns}/{digest}")
    used = page.get_by_test_id("resources")
    expect(used).to_contain_text("peak memory")
    expect(used).to_contain_text(re.compile(r"peak memory\d+(\.\d)? MB"))
    expect(used).to_contain_text("not measured (no nvidia-ml-py)")
    _both_themes(page, "07-experiment-resources")

    page.goto(
        dashboard.url
        + f"/experiments?q=namespace = {TRAIN}&cols=status,class,hash,peak_rss,cpu_user,wall"
    )
    expect(_rows(page)).to_have_count(7)
    page.get_by_role("button", name="Sort by peak memory").click()
    assert _query(page)["sort"] == "peak_rss"
    expected = dashboard.api(
        "/api/experiments/search",
        "POST",
        json={"query": f"namespace = {TRAIN}", "sort": "peak_rss", "order": "desc"},
    ).json()["items"]
    want = [f"{e['namespace']}/{e['hash']}" for e in expected]
    expect(_rows(page).first).to_have_attribute("data-ref", want[0])
    assert [r.get_attribute("data-ref") for r in _rows(page).all()] == want
    _both_themes(page, "07-experiments-sorted-by-peak-memory")


def test_a_failed_experiment_shows_its_error_and_traceback(dashboard: Dashboard, page: Any) -> None:
    ns, digest = dashboard.ref("class = Diverges")
    page.goto(dashboard.url + f"/experiments/{ns}/{digest}")
    expect(page.get_by_test_id("error")).to_contain_text("ValueError")
    expect(page.get_by_test_id("error")).to_contain_text("diverged: loss is nan")
    expect(page.get_by_test_id("traceback")).to_contain_text("Traceback")
    expect(page.get_by_test_id("attempt")).to_contain_text("failed")
    _both_themes(page, "07-experiment-failed")


def test_files_tree_and_a_parquet_table_with_column_types(dashboard: Dashboard, page: Any) -> None:
    ns, digest = dashboard.ref("class = ResultTable and config.lr = 0.05")
    page.goto(dashboard.url + f"/experiments/{ns}/{digest}?tab=files")
    tree = page.get_by_test_id("file-tree")
    expect(tree).to_contain_text("results.parquet")
    expect(tree).to_contain_text("plots")
    tree.locator("[data-file='results.parquet']").click()
    assert _query(page)["file"] == "results.parquet"
    table = page.get_by_test_id("preview-table")
    expect(table.locator("thead")).to_contain_text("epoch")
    expect(table.locator("thead")).to_contain_text("int64")
    expect(table.locator("thead")).to_contain_text("double")
    expect(table.locator("tbody tr")).to_have_count(20)
    _both_themes(page, "08-files-parquet")

    tree.locator("[data-file='summary.json']").click()
    expect(page.get_by_test_id("file-viewer")).to_have_attribute("data-kind", "json")
    expect(page.get_by_test_id("file-viewer")).to_contain_text('"best"')
    tree.locator("[data-file='notes.txt']").click()
    expect(page.get_by_test_id("file-viewer")).to_contain_text("20 epochs")
    tree.locator("[data-file='plots/curve.png']").click()
    image = page.get_by_test_id("file-viewer").locator("img")
    expect(image).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 2", arg=image.element_handle()
    )

    # JSON lines and CSV written by the example pipeline's own steps.
    train_ns, train_hash = dashboard.ref(f"namespace = {TRAIN} and config.lr = 3")
    page.goto(dashboard.url + f"/experiments/{train_ns}/{train_hash}?tab=files&file=metrics.jsonl")
    expect(page.get_by_test_id("preview-table").locator("thead")).to_contain_text("loss")
    expect(page.get_by_test_id("file-viewer")).to_contain_text("of 60")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_test_id("file-viewer")).to_contain_text("rows 51–60 of 60")


def test_charts_of_a_result_file(dashboard: Dashboard, page: Any) -> None:
    ns, digest = dashboard.ref("class = ResultTable and config.lr = 0.2")
    page.goto(dashboard.url + f"/experiments/{ns}/{digest}?tab=charts")
    expect(page.get_by_role("combobox", name="Result file")).to_have_value("results.parquet")
    page.get_by_role("combobox", name="x column").select_option("epoch")
    page.get_by_role("checkbox", name="y: accuracy").check()
    chart = page.get_by_test_id("result-chart")
    expect(chart).to_have_attribute("data-series", "2")
    expect(chart.locator(".recharts-line")).to_have_count(2)
    page.get_by_role("combobox", name="Chart type").select_option("scatter")
    expect(chart).to_have_attribute("data-kind", "scatter")
    page.get_by_role("combobox", name="Chart type").select_option("bar")
    expect(chart.locator(".recharts-bar-rectangle").first).to_be_visible()
    page.get_by_role("combobox", name="Chart type").select_option("line")
    _both_themes(page, "09-charts")


def test_tail_the_log_of_a_running_step(dashboard: Dashboard, page: Any) -> None:
    ns, digest = dashboard.ref("class = LongTraining")
    page.goto(dashboard.url + f"/experiments/{ns}/{digest}?tab=logs")
    expect(page.get_by_test_id("log-live")).to_be_visible()
    log = page.get_by_test_id("log-text")
    expect(log).to_contain_text("step ")
    first = log.inner_text().count("\n")
    deadline = time.monotonic() + 20
    while log.inner_text().count("\n") < first + 5:
        assert time.monotonic() < deadline, "the log did not grow while the step ran"
        page.wait_for_timeout(200)
    # Following: the newest line is in view.
    at_end = log.evaluate("el => el.scrollHeight - el.scrollTop - el.clientHeight < 30")
    assert at_end
    _both_themes(page, "10-logs-live")


def test_compare_two_experiments(dashboard: Dashboard, page: Any) -> None:
    page.goto(dashboard.url + f"/experiments?q=namespace = {TRAIN} and config.lr in (0.01, 3)")
    expect(_rows(page)).to_have_count(2)
    for row in _rows(page).all():
        row.get_by_role("checkbox").check()
    expect(page.get_by_test_id("bulk-bar")).to_contain_text("2 selected")
    page.get_by_test_id("bulk-bar").get_by_role("button", name="Compare").click()
    expect(page.get_by_test_id("compare-page")).to_be_visible()
    config = page.get_by_test_id("compare-config")
    expect(config.locator("[data-differs]")).to_have_count(1)
    expect(config).to_contain_text("lr")
    expect(config).not_to_contain_text("n_samples")
    page.get_by_role("checkbox", name="Only differing fields").uncheck()
    expect(config).to_contain_text("n_samples")
    expect(page.get_by_test_id("compare-metadata")).to_contain_text("examples/pipeline.py")
    chart = page.get_by_test_id("compare-overlaid").get_by_test_id("result-chart")
    expect(chart).to_have_attribute("data-series", "2")
    expect(chart.locator(".recharts-line")).to_have_count(2)
    _both_themes(page, "11-compare")


def test_dag_counts_groups_highlights_and_lists(dashboard: Dashboard, page: Any) -> None:
    page.goto(dashboard.url + "/dag")
    nodes = page.get_by_test_id("dag-node")
    expect(nodes.first).to_be_visible()
    names = {n.get_attribute("data-namespace") for n in nodes.all()}
    assert {TRAIN, EVALUATE, "ml_pipeline.steps.MakeDataset"} <= names
    assert "dashboard_fixtures.TunedTable" in names
    expect(page.get_by_test_id("dag-group")).to_contain_text("ResultTable and its subclasses")
    tuned = page.locator("[data-testid=dag-node][data-namespace='dashboard_fixtures.TunedTable']")
    expect(tuned.get_by_test_id("dag-subclass-of")).to_have_text("subclass of ResultTable")
    train = page.locator(f"[data-testid=dag-node][data-namespace='{TRAIN}']")
    expect(train).to_contain_text("7 success")
    _both_themes(page, "12-dag")

    train.click()
    expect(train).not_to_have_attribute("data-dim", "true")
    expect(
        page.locator(f"[data-testid=dag-node][data-namespace='{EVALUATE}']")
    ).not_to_have_attribute("data-dim", "true")
    expect(
        page.locator("[data-testid=dag-node][data-namespace='dashboard_fixtures.Diverges']")
    ).to_have_attribute("data-dim", "true")
    shoot(page, "13-dag-highlight-light")
    train.get_by_role("link", name="List the experiments of TrainModel").click()
    assert _query(page)["q"] == f"namespace = {TRAIN}"
    expect(page.get_by_test_id("experiments-total")).to_have_text(re.compile(r"^7 experiments"))

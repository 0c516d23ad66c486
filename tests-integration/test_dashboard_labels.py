"""Runs people can tell apart, in Chromium, on the example pipeline's store: the FuruList names
(`baseline`, `regularised`, `lr=0.01`) in the table, the lineage and the chart legends;
automatic labels (`lr=0.3, l2=0.01`) for the experiments the code does not name; one colour
per run across the charts of Compare; Compare's results row, and no equal values highlighted.

The store is `examples/pipeline.py` (plus the dashboard's extra steps) really run, and
`furu manifest ml_pipeline.sweep` really run over it, so the server knows the code's names.
Screenshots go to `test-artifacts/screenshots/` (`75-labels-*`).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from dashboard_fixtures import REPO, Dashboard, build_store, serve, shoot, step_env

EVALUATE = "ml_pipeline.steps.Evaluate"
TRAIN = "ml_pipeline.steps.TrainModel"
ROWS = "[role=row][data-ref]"
NAMES = ["baseline", "regularised", "lr=0.01"]


@pytest.fixture(scope="module")
def named_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = build_store(tmp_path_factory.mktemp("labels"), running=False)
    exe = shutil.which("furu", path=str(Path(sys.executable).parent))
    assert exe, f"the furu command is not installed beside {sys.executable}"
    subprocess.run(
        [exe, "manifest", "ml_pipeline.sweep"],
        env=step_env(store.root),
        cwd=REPO,
        check=True,
        timeout=300,
        capture_output=True,
    )
    assert (store.root / "manifest.json").is_file()
    return store.root


@pytest.fixture(scope="module")
def labels(named_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    with serve(named_store, tmp_path_factory.mktemp("labels-server")) as server:
        yield server


def _ref(server: Dashboard, query: str) -> str:
    namespace, digest = server.ref(query)
    return f"{namespace}/{digest}"


def _evaluate_of(server: Dashboard, lr: float, l2: float) -> str:
    """The Evaluate of the model trained with `lr` and `l2`."""
    body = server.api("/api/experiments/search", "POST", json={"query": f"namespace = {EVALUATE}"})
    for item in body.json()["items"]:
        ref = f"{item['namespace']}/{item['hash']}"
        model = server.api(f"/api/experiments/{ref}").json()["config"]["model"]
        if model["lr"] == lr and model["l2"] == l2:
            return ref
    raise AssertionError(f"no Evaluate of the TrainModel lr={lr}, l2={l2}")


def test_furulist_names_in_the_table(labels: Dashboard, page: Any) -> None:
    page.goto(labels.url + f"/experiments?q=namespace = {EVALUATE}&cols=status,class,name,hash")
    expect(page.locator(ROWS)).to_have_count(7)
    names = page.locator(f"{ROWS} [role=gridcell]:nth-child(4)")
    shown = {t.strip() for t in names.all_inner_texts()}
    assert {*NAMES, "lr=0.03", "lr=0.1", "lr=1", "lr=3"} == shown
    shoot(page, "75-labels-furulist-names-in-the-table")


def test_automatic_labels_from_the_config_columns_that_differ(labels: Dashboard, page: Any) -> None:
    cols = "status,class,name,config.lr,config.l2,config.epochs,hash"
    page.goto(labels.url + f"/experiments?q=namespace = {TRAIN}&cols={cols}&sort=config.lr")
    expect(page.locator(ROWS)).to_have_count(7)
    automatic = page.locator(f"{ROWS} [data-automatic]")
    expect(automatic).to_have_count(7)
    texts = automatic.all_inner_texts()
    # epochs is the same for every model: it is not part of the labels
    assert "lr=0.3, l2=0.01" in texts
    assert "lr=0.3, l2=0" in texts
    assert "lr=3, l2=0" in texts
    assert len(set(texts)) == 7  # every model told apart
    assert not any("epochs" in t for t in texts)
    shoot(page, "76-labels-automatic-labels-in-the-table")


def test_lineage_nodes_carry_the_names(labels: Dashboard, page: Any) -> None:
    ref = _evaluate_of(labels, 0.3, 0.01)
    page.goto(labels.url + f"/experiments/{ref}?tab=lineage")
    node = page.locator("[data-testid=lineage-node][data-name=regularised]")
    expect(node).to_be_visible()
    expect(node).to_contain_text("regularised")
    expect(page.locator("[data-testid=lineage-node]")).to_have_count(3)
    shoot(page, "77-labels-lineage-node-named")

    # the dataset's lineage: seven TrainModels told apart by what differs among them, and the
    # seven Evaluates by their names in the code
    dataset = _ref(labels, "namespace = ml_pipeline.steps.MakeDataset")
    page.goto(labels.url + f"/experiments/{dataset}?tab=lineage")
    expect(page.locator("[data-testid=lineage-node]")).to_have_count(15)
    automatic = page.locator("[data-testid=lineage-node][data-automatic]")
    expect(automatic).to_have_count(7)
    expect(automatic.filter(has_text="lr=0.3, l2=0.01")).to_have_count(1)
    for name in NAMES:
        expect(page.locator(f"[data-testid=lineage-node][data-name='{name}']")).to_have_count(1)
    shoot(page, "77-labels-lineage-automatic-labels")


def test_compare_names_results_row_legends_and_no_false_highlight(
    labels: Dashboard, page: Any
) -> None:
    refs = [_evaluate_of(labels, 0.3, 0.0), _evaluate_of(labels, 0.3, 0.01)]
    refs.append(_evaluate_of(labels, 0.01, 0.0))
    page.goto(labels.url + "/compare?ids=" + ",".join(refs))
    expect(page.get_by_test_id("compare-page")).to_be_visible()
    # eval.json is no table: the overlay says so instead of "Nothing to plot"
    expect(page.get_by_text("No table of numbers to overlay")).to_be_visible()
    # the headers: the FuruList names, each with its colour
    expect(page.get_by_test_id("run-label")).to_have_text(NAMES)
    colors = [c.get_attribute("data-color") for c in page.get_by_test_id("run-color").all()]
    assert len(set(colors)) == 3

    # the metrics row: each Evaluate's result.accuracy (eval.json), highlighted where it differs
    results = page.get_by_test_id("compare-results")
    accuracy = results.locator("[role=row][data-field='result.accuracy']")
    expect(accuracy.locator("[role=cell]")).to_have_count(3)
    details = [labels.api(f"/api/experiments/{r}").json() for r in refs]
    values = [d["results"]["accuracy"] for d in details]
    for cell, value in zip(accuracy.locator("[role=cell]").all(), values, strict=True):
        assert float(cell.get_attribute("title") or "nan") == value

    # the results chart: its legend names the runs, in the runs' colours
    chart = page.get_by_test_id("compare-results-chart").get_by_test_id("result-chart")
    expect(chart).to_have_attribute("data-legend", "\n".join(NAMES))
    legend = chart.locator(".recharts-legend-item-text")
    expect(legend).to_have_text(NAMES)
    bars = chart.locator(".recharts-bar-rectangle path")
    expect(bars.first).to_be_visible()
    fills = {b.get_attribute("fill") for b in bars.all()}
    assert fills == set(colors), (fills, colors)

    # no equal values highlighted: with every config field shown, a row is highlighted exactly
    # when its cells read differently
    page.get_by_role("checkbox", name="Only differing fields").uncheck()
    _assert_highlight_only_where_texts_differ(page.get_by_test_id("compare-config"))
    _assert_highlight_only_where_texts_differ(results)
    _assert_highlight_only_where_texts_differ(page.get_by_test_id("compare-metadata"))
    # a row is highlighted by what its cells read (peak memories of a few bytes apart are not)
    expect(page.locator("[data-testid=compare-metadata] [data-field=class]")).not_to_have_attribute(
        "data-differs", "true"
    )
    expect(page.locator("[data-testid=compare-metadata] [data-field=name]")).to_have_attribute(
        "data-differs", "true"
    )
    same = page.locator("[data-testid=compare-config] [role=row]:not([data-differs])")
    assert same.count() > 5  # the dataset, epochs, ... are the same for all three
    shoot(page, "78-labels-compare-named-runs-results-row", full_page=True)


def _assert_highlight_only_where_texts_differ(grid: Any) -> None:
    rows = grid.locator("[role=row]").all()
    assert rows
    for row in rows:
        cells = [t.strip() for t in row.locator(":scope > div").all_inner_texts()[1:]]
        differs = row.get_attribute("data-differs") is not None
        assert differs == (len(set(cells)) > 1), (row.get_attribute("data-field"), cells)


def test_compare_charts_default_to_a_numeric_table_one_colour_per_run(
    labels: Dashboard, page: Any
) -> None:
    refs = [
        _ref(labels, f"namespace = {TRAIN} and config.lr = {lr} and config.l2 = {l2}")
        for lr, l2 in ((0.3, 0.0), (0.3, 0.01), (1.0, 0.0))
    ]
    page.goto(labels.url + "/compare?ids=" + ",".join(refs))
    # TrainModels are not named in the code: automatic labels from the config fields that differ
    expect(page.get_by_test_id("run-label")).to_have_text(
        ["lr=0.3, l2=0", "lr=0.3, l2=0.01", "lr=1, l2=0"]
    )
    # the first table with a number to draw: metrics.jsonl (epoch, loss), not data or model
    expect(page.get_by_role("combobox", name="Result file")).to_have_value("metrics.jsonl")
    overlaid = page.get_by_test_id("compare-overlaid").get_by_test_id("result-chart")
    expect(overlaid).to_have_attribute("data-legend", "lr=0.3, l2=0\nlr=0.3, l2=0.01\nlr=1, l2=0")
    colors = [c.get_attribute("data-color") for c in page.get_by_test_id("run-color").all()]
    strokes = [
        p.get_attribute("stroke") for p in overlaid.locator("path.recharts-line-curve").all()
    ]
    assert strokes == colors, (strokes, colors)
    shoot(page, "79-labels-compare-automatic-labels-overlaid", full_page=True)

"""The dashboard over 100,000 experiments, in Chromium.

While the index is first built the table says "Indexing N of M experiments…" (never "no
experiments yet"); once it is built, a click on a config column's header and then on a result
column's header puts the experiment with the largest value first (sorted by the server, over
every experiment). The store is planted from a real one (`large_store`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from dashboard_fixtures import serve, shoot
from large_store import LargeStore, plant

PAIRS = 50_000
ROWS = "[role=row][data-ref]"
BUILD_TIMEOUT_SEC = 900


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> LargeStore:
    return plant(tmp_path_factory.mktemp("large") / "store", PAIRS)


def _built(url: str) -> bool:
    return bool(httpx.get(url + "/api/health", timeout=10).json()["index"]["built"])


@pytest.mark.timeout(BUILD_TIMEOUT_SEC + 300)
def test_100k_experiments_index_then_sort_by_config_and_result(
    large: LargeStore, page: Any, tmp_path: Path
) -> None:
    cols = "status,class,config.lr,result.accuracy,hash"
    with serve(large.root, tmp_path, wait_built=False) as server:
        page.set_viewport_size({"width": 1400, "height": 900})
        page.goto(f"{server.url}/experiments?cols={cols}")
        # (first the walk: "Indexing 0 experiments…"; then "Indexing N of M experiments…")
        indexing = page.get_by_test_id("indexing").first
        expect(indexing).to_contain_text(f"of {large.n:,} experiments", timeout=240_000)
        expect(page.get_by_text("no experiments yet")).to_have_count(0)
        shoot(page, "90-100k-indexing")

        deadline = time.monotonic() + BUILD_TIMEOUT_SEC
        while not _built(server.url):
            assert time.monotonic() < deadline, "the index of 100,000 experiments was not built"
            time.sleep(1)
        page.reload()
        page.wait_for_selector(ROWS)
        expect(page.get_by_test_id("experiments-total")).to_contain_text(f"{large.n:,}")

        page.get_by_role("button", name="Sort by config.lr").click()
        page.wait_for_selector(f"{ROWS}[data-index='0'][data-ref='{large.best_lr}']")
        page.get_by_role("button", name="Sort by result.accuracy").click()
        page.wait_for_selector(f"{ROWS}[data-index='0'][data-ref='{large.best_accuracy}']")
        shoot(page, "91-100k-sorted-by-result")

"""What each experiment's latest attempt used is indexed: listed, sortable, filterable, detailed.

The store is made by real steps in subprocesses (a fresh interpreter each, so their peaks do
not blur), plus one experiment whose `state.json` an older furu wrote (no `resources`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from server_fixtures import TOKEN, app_client

import furu
from furu_server import ServerSettings

MiB = 1024 * 1024

STEPS = textwrap.dedent(
    """
    import sys, time
    import furu


    class Alloc(furu.Furu[int]):
        mb: int = 10

        def _create(self):
            buf = bytearray(self.mb * 1024 * 1024)
            for i in range(0, len(buf), 4096):
                buf[i] = 1
            (self.furu_dir / "n").write_text(str(self.mb))
            return self.mb

        def _load(self):
            return int((self.furu_dir / "n").read_text())


    class Busy(furu.Furu[int]):
        seconds: float = 0.3

        def _create(self):
            end, n = time.process_time() + self.seconds, 0
            while time.process_time() < end:
                for _ in range(100_000):
                    n += 1
            (self.furu_dir / "n").write_text(str(n))
            return n

        def _load(self):
            return int((self.furu_dir / "n").read_text())
    """
)

RUN = (
    "import furu, res_server_steps as s\n"
    "step = s.{step}\n"
    "step.load_or_create()\n"
    "print(furu.step_id(step).hash)\n"
)
STORE = {
    "small": "Alloc(mb=10)",
    "big": "Alloc(mb=150)",
    "busy": "Busy(seconds=0.3)",
    "old": "Alloc(mb=11)",
}


@pytest.fixture(scope="module")
def measured(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[TestClient, dict[str, Any]]]:
    """`(api, {name: hash})` over a store of `STORE`, `old` stripped of its resources."""
    tmp = tmp_path_factory.mktemp("resources")
    (tmp / "res_server_steps.py").write_text(STEPS)
    env = {**os.environ, "FURU_PATH": str(tmp / "store"), "PYTHONPATH": str(tmp)}
    hashes = {}
    for name, expr in STORE.items():
        out = subprocess.run(
            [sys.executable, "-c", RUN.format(step=expr)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert out.returncode == 0, out.stderr
        hashes[name] = out.stdout.split()[-1]
    old = furu.Store(tmp / "store").step_dir("res_server_steps.Alloc", hashes["old"])
    state = json.loads(old.state_path.read_text())
    del state["attempt"]["resources"]  # as furu wrote it before it measured resources
    old.state_path.write_text(json.dumps(state))
    settings = ServerSettings(
        root=tmp / "store",
        cache_dir=tmp / "cache",
        token=TOKEN,
        allowed_hosts=("testserver",),
        refresh_interval=0.2,
    )
    with app_client(settings) as client:
        yield client, hashes


def _search(api: TestClient, query: str, **body: Any) -> list[dict[str, Any]]:
    got = api.post("/api/experiments/search", json={"query": query, "limit": 100, **body})
    assert got.status_code == 200, got.text
    items: list[dict[str, Any]] = got.json()["items"]
    return items


def _names(hashes: dict[str, str], items: list[dict[str, Any]]) -> list[str]:
    by_hash = {h: n for n, h in hashes.items()}
    return [by_hash[i["hash"]] for i in items]


def test_listings_carry_what_each_attempt_used(measured: tuple[TestClient, dict[str, str]]) -> None:
    api, hashes = measured
    items = {i["hash"]: i for i in api.get("/api/experiments").json()["items"]}
    big, small, busy, old = (items[hashes[n]] for n in ("big", "small", "busy", "old"))
    assert big["peak_rss_bytes"] - small["peak_rss_bytes"] >= 120 * MiB
    assert busy["cpu_user_sec"] >= 0.2
    assert busy["wall_sec"] >= busy["cpu_user_sec"] * 0.9
    for item in (big, small, busy):
        assert item["gpu_peak_memory_bytes"] is None  # no NVIDIA library here
        assert item["cpu_system_sec"] is not None
    for key in ("wall_sec", "cpu_user_sec", "peak_rss_bytes", "gpu_utilization_pct"):
        assert old[key] is None


def test_the_detail_has_them_too(measured: tuple[TestClient, dict[str, str]]) -> None:
    api, hashes = measured
    got = api.get(f"/api/experiments/res_server_steps.Alloc/{hashes['big']}")
    assert got.status_code == 200, got.text
    detail = got.json()
    recorded = detail["state"]["attempt"]["resources"]
    assert detail["peak_rss_bytes"] == recorded["peak_rss_bytes"] >= 150 * MiB
    assert detail["wall_sec"] == recorded["wall_sec"]


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        ("peak_rss", "peak_rss_bytes"),
        ("cpu_user", "cpu_user_sec"),
        ("cpu_system", "cpu_system_sec"),
        ("wall", "wall_sec"),
        ("gpu_memory", "gpu_peak_memory_bytes"),
        ("gpu_utilization", "gpu_utilization_pct"),
    ],
)
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_sorting_by_a_resource(
    measured: tuple[TestClient, dict[str, str]], sort: str, key: str, order: str
) -> None:
    api, _ = measured
    got = api.get("/api/experiments", params={"sort": sort, "order": order})
    assert got.status_code == 200, got.text
    values = [i[key] for i in got.json()["items"] if i[key] is not None]
    assert values == sorted(values, reverse=order == "desc")


def test_sorting_by_peak_memory_puts_the_big_step_first(
    measured: tuple[TestClient, dict[str, str]],
) -> None:
    api, hashes = measured
    items = api.get("/api/experiments", params={"sort": "peak_rss", "order": "desc"}).json()
    assert _names(hashes, items["items"])[0] == "big"


def test_filtering_on_resources(measured: tuple[TestClient, dict[str, str]]) -> None:
    api, hashes = measured
    big = _search(api, "resources.peak_rss_bytes > 120000000")
    assert _names(hashes, big) == ["big"]
    assert _names(hashes, _search(api, "peak_rss_bytes > 120000000")) == ["big"]
    busy = _search(api, "resources.cpu_user_sec >= 0.2 and class = Busy")
    assert _names(hashes, busy) == ["busy"]
    measured_ones = _search(api, "resources.wall_sec exists")
    assert sorted(_names(hashes, measured_ones)) == ["big", "busy", "small"]
    assert _names(hashes, _search(api, "not resources.wall_sec exists")) == ["old"]
    assert _search(api, "resources.gpu_peak_memory_bytes exists") == []
    # The tree form, and the recorded JSON itself, say the same.
    tree = {"op": "gt", "path": "resources.peak_rss_bytes", "value": 120_000_000}
    got = api.post("/api/experiments/search", json={"filter": tree}).json()["items"]
    assert _names(hashes, got) == ["big"]
    raw = _search(api, "state.attempt.resources.peak_rss_bytes > 120000000")
    assert _names(hashes, raw) == ["big"]


def test_an_unknown_resource_field_is_a_400_naming_the_fields(
    measured: tuple[TestClient, dict[str, str]],
) -> None:
    api, _ = measured
    got = api.post("/api/experiments/search", json={"query": "resources.peak_rss > 1"})
    assert got.status_code == 400, got.text
    error = got.json()["error"]
    assert "resources.peak_rss" in error["message"]
    assert "resources.peak_rss_bytes" in error["message"]

"""One record never blinds the index: text that is not UTF-8, a record no reader expected, and
a config too large to index whole (it is bounded, and says so).

Each store here is made by real steps in this process; the app's index is built and refreshed
through the API, as the dashboard's refresher does.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from server_fixtures import TOKEN, app_client, furu_config, store_config

import furu
from furu_server import ServerSettings
from furu_server.index._rows import MAX_LEAVES, MAX_TEXT

UNDECODABLE = "data/\udcff.bin"
"""What `os.listdir` returns for a file name holding the byte 0xff (not UTF-8)."""


class Note(furu.Furu[str]):
    """A step whose config is one string (a path, a label)."""

    text: str = ""

    def _create(self) -> str:
        return self.text

    def _load(self) -> str:
        return self.text


class Wide(furu.Furu[int]):
    """A step whose config is one long list (a vocabulary, a grid of seeds)."""

    values: tuple[int, ...] = ()
    label: str = ""

    def _create(self) -> int:
        return len(self.values)

    def _load(self) -> int:
        return len(self.values)


@contextlib.contextmanager
def store(tmp_path: Path) -> Iterator[ServerSettings]:
    root = tmp_path / "store"
    with furu_config(**store_config(root)):
        yield ServerSettings(
            root=root,
            cache_dir=tmp_path / "cache",
            token=TOKEN,
            allowed_hosts=("testserver",),
        )


def listed(client: TestClient) -> list[dict[str, Any]]:
    page = client.get("/api/experiments", params={"limit": 1000})
    assert page.status_code == 200, page.text
    return list(page.json()["items"])


def search(client: TestClient, body: bytes) -> int:
    found = client.post(
        "/api/experiments/search", content=body, headers={"content-type": "application/json"}
    )
    assert found.status_code == 200, found.text
    return int(found.json()["total"])


@pytest.mark.parametrize("built_first", [False, True], ids=["first-build", "built-index"])
def test_a_config_value_that_is_not_utf8_is_indexed_with_the_others(
    tmp_path: Path, built_first: bool
) -> None:
    with store(tmp_path) as settings:
        for i in range(50):
            Note(text=f"good {i}").load_or_create()
        bad = Note(text=UNDECODABLE)
        if not built_first:
            bad.load_or_create()
        with app_client(settings) as client:
            if built_first:  # an index that was built before the record appeared
                bad.load_or_create()
                refreshed = client.post("/api/index/refresh")
                assert refreshed.status_code == 200, refreshed.text
                assert refreshed.json()["changed"] == 1
            items = listed(client)
            assert len(items) == 51
            bad_id = furu.step_id(bad)
            assert bad_id.hash in {i["hash"] for i in items}

            # reported: counted in the index's status, named with what was wrong
            index = client.get("/api/health").json()["index"]
            assert index["problems"] == 1
            assert bad_id.hash in index["problem_examples"][0]
            assert "not valid UTF-8" in index["problem_examples"][0]
            assert "config.text" in index["problem_examples"][0]

            # the detail shows the value escaped, visibly, and says why
            detail = client.get(f"/api/experiments/{bad_id.namespace}/{bad_id.hash}")
            assert detail.status_code == 200, detail.text
            assert detail.json()["config"]["text"] == "data/\\udcff.bin"
            assert any("not valid UTF-8" in p for p in detail.json()["problems"])
            good = furu.step_id(Note(text="good 0"))
            compared = client.get("/api/diff", params={"a": str(bad_id), "b": str(good)})
            assert compared.status_code == 200, compared.text
            snippet = client.get(f"/api/experiments/{bad_id.namespace}/{bad_id.hash}/snippet")
            assert snippet.status_code == 200, snippet.text
            assert "data/\\udcff.bin" in snippet.json()["code"]

            # a filter finds it by the escaped text, or by the character itself
            assert search(client, rb'{"query": "config.text = \"data/\\\\udcff.bin\""}') == 1
            eq = rb'{"filter": {"op": "eq", "path": "config.text", "value": "data/\udcff.bin"}}'
            assert search(client, eq) == 1
            assert client.post("/api/index/refresh", params={"full": True}).status_code == 200


def test_a_record_no_reader_expected_is_listed_by_its_name(tmp_path: Path) -> None:
    with store(tmp_path) as settings:
        good, odd = Note(text="good"), Note(text="odd")
        good.load_or_create()
        odd.load_or_create()
        state = furu.step_dir(odd).state_path
        data = json.loads(state.read_text())
        data["attempt"]["number"] = 10**30  # beyond SQLite's integers
        state.write_text(json.dumps(data))
        with app_client(settings) as client:
            hashes = {i["hash"] for i in listed(client)}
            assert hashes == {furu.step_id(good).hash, furu.step_id(odd).hash}


def test_a_config_too_large_is_indexed_within_bounds_and_says_so(tmp_path: Path) -> None:
    n = 200_000
    with store(tmp_path) as settings:
        wide = Wide(values=tuple(range(n)))
        wide.load_or_create()
        small = Wide(values=(1, 2, 3), label="x" * 100_000)
        small.load_or_create()
        start = time.monotonic()
        with app_client(settings) as client:
            seconds = time.monotonic() - start  # typically ~1 s: the config is read once
            index = client.get("/api/health").json()["index"]
            assert index["experiments"] == 2
            assert index["problems"] == 2  # each says what was cut
            examples = {e.split(": ", 1)[0]: e for e in index["problem_examples"]}
            wide_problems = examples[str(furu.step_id(wide))]
            assert f"truncated in the index: {MAX_LEAVES} of {n + 2} leaves" in wide_problems
            assert "config.label" in examples[str(furu.step_id(small))]
            # the first leaves are filterable; the cut text still matches by its start
            query = rb'{"query": "config.values.10 = 10"}'
            assert search(client, query) == 1
            label = json.dumps({"query": f'config.label ~ "^{"x" * 50}"'}).encode()
            assert search(client, label) == 1
        assert seconds < 60  # bounded: the unbounded index took minutes at this size
        with contextlib.closing(sqlite3.connect(settings.index_path())) as conn:
            (leaves,) = conn.execute("SELECT count(*) FROM config_kv").fetchone()
            (longest,) = conn.execute("SELECT max(length(str)) FROM config_kv").fetchone()
        assert leaves == MAX_LEAVES + 5  # the small step: its class, 3 values and its label
        assert longest == MAX_TEXT
        assert settings.index_path().stat().st_size < 5_000_000

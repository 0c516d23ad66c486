"""Logs (paged, tailed, streamed), the artifact tree, raw files and previews of real outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import server_steps
from fastapi.testclient import TestClient
from server_fixtures import BuiltStore, running_step

import furu


def test_logs_page_by_offset(api: TestClient, built_store: BuiltStore) -> None:
    url = built_store.url("small", "/logs")
    whole = api.get(url).json()
    assert "step 2 loss" in whole["text"]
    assert whole["eof"] is True
    assert whole["running"] is False
    assert whole["next_offset"] == whole["size"] == len(whole["text"].encode())
    pieces, offset = [], 0
    while True:
        chunk = api.get(url, params={"offset": offset, "limit": 50}).json()
        pieces.append(chunk["text"])
        offset = chunk["next_offset"]
        if chunk["eof"]:
            break
    assert "".join(pieces) == whole["text"]
    tail = api.get(url, params={"tail": 20}).json()
    assert tail["text"] == whole["text"][-20:]
    past = api.get(url, params={"offset": 10**9}).json()
    assert (past["text"], past["eof"]) == ("", True)


def test_a_log_can_be_followed_while_the_step_runs(
    fresh_api: TestClient, fresh_store: BuiltStore, tmp_path: Path
) -> None:
    with running_step(tmp_path, lr=0.5) as (step, release):
        fresh_api.post("/api/index/refresh")
        url = f"/api/experiments/{step._furu_namespace}/{step._furu_hash}"
        first = fresh_api.get(url + "/logs").json()
        assert first["running"] is True
        assert fresh_api.get(url).json()["attempt_status"] == "running"
        release.write_text("go")
        with fresh_api.stream(
            "GET", url + "/logs/stream", params={"offset": first["next_offset"], "timeout": 30}
        ) as resp:
            assert resp.headers["content-type"].startswith("text/event-stream")
            body = "".join(resp.iter_text())
        assert "event: end" in body
        assert '"reason": "finished"' in body
    assert fresh_api.get(url + "/logs").json()["running"] is False


def test_artifacts_list_every_file_with_sizes(api: TestClient, built_store: BuiltStore) -> None:
    tree = api.get(built_store.url("large", "/artifacts")).json()
    entries = {e["path"]: e for e in tree["entries"]}
    for name in ("metrics.json", "loss.csv", "plot.png", "checkpoint.bin", ".furu/furu.log"):
        assert entries[name]["type"] == "file"
    assert entries[".furu"]["type"] == "dir"
    step_dir = built_store.step_dir("large")
    assert entries["checkpoint.bin"]["size"] == (step_dir / "checkpoint.bin").stat().st_size
    assert tree["total_bytes"] == sum(e["size"] for e in tree["entries"] if e["type"] == "file")
    assert tree["truncated"] is False


def test_raw_files_come_back_byte_for_byte(api: TestClient, built_store: BuiltStore) -> None:
    got = api.get(built_store.url("large", "/files/checkpoint.bin"))
    assert got.status_code == 200
    assert got.content == b"\x00\x01\x02weights"
    png = api.get(built_store.url("large", "/files/plot.png"))
    assert png.headers["content-type"] == "image/png"
    assert png.content == server_steps.PNG_1X1
    meta = api.get(built_store.url("large", "/files/.furu/metadata.json"))
    assert json.loads(meta.content)["furu_hash"] == built_store.ref("large")[1]
    missing = api.get(built_store.url("large", "/files/nope.txt"))
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "file_not_found")
    folder = api.get(built_store.url("large", "/files/.furu"))
    assert (folder.status_code, folder.json()["error"]["code"]) == (400, "not_a_file")


def test_preview_tables(api: TestClient, built_store: BuiltStore) -> None:
    for name in ("rows.jsonl", "table.csv", "table.parquet"):
        page = api.get(
            built_store.url("big", f"/preview/{name}"), params={"offset": 2, "limit": 3}
        ).json()
        assert page["kind"] == "table", (name, page)
        assert page["total_rows"] == 12
        assert page["offset"] == 2
        assert page["truncated"] is True
        columns = {c["name"]: c["type"] for c in page["columns"]}
        assert list(columns) == ["id", "text", "score", "ok"]
        assert page["rows"][0][:2] == [2, "sentence 2"]
        assert len(page["rows"]) == 3
    csv_types = api.get(built_store.url("big", "/preview/table.csv")).json()["columns"]
    assert [c["type"] for c in csv_types] == ["integer", "string", "number", "boolean"]
    parquet = api.get(built_store.url("big", "/preview/table.parquet")).json()["columns"]
    assert [c["type"] for c in parquet] == ["int64", "string", "double", "bool"]


def test_preview_json_text_and_images(api: TestClient, built_store: BuiltStore) -> None:
    summary = api.get(built_store.url("big", "/preview/summary.json")).json()
    assert (summary["kind"], summary["value"]) == ("json", {"rows": 12, "name": "big"})
    notes = api.get(built_store.url("eval_small", "/preview/notes.md")).json()
    assert notes["kind"] == "text"
    assert notes["text"].startswith("# test")
    image = api.get(built_store.url("large", "/preview/plot.png")).json()
    assert (image["kind"], image["mime"]) == ("image", "image/png")
    assert api.get(image["url"]).content == server_steps.PNG_1X1
    binary = api.get(built_store.url("large", "/preview/checkpoint.bin")).json()
    assert binary["kind"] == "binary"


def test_a_malformed_table_is_a_422(fresh_api: TestClient, fresh_store: BuiltStore) -> None:
    step_dir = fresh_store.step_dir("toy")
    (step_dir / "broken.jsonl").write_text('{"a": 1}\n{not json\n')
    got = fresh_api.get(fresh_store.url("toy", "/preview/broken.jsonl"))
    assert got.status_code == 422
    assert got.json()["error"]["code"] == "file_unreadable"
    assert "broken.jsonl" in got.json()["error"]["message"]


@pytest.mark.parametrize("name", ["logs", "artifacts"])
def test_file_routes_of_a_missing_experiment_are_404s(api: TestClient, name: str) -> None:
    got = api.get(f"/api/experiments/server_steps.Corpus/0123456789/{name}")
    assert (got.status_code, got.json()["error"]["code"]) == (404, "experiment_not_found")


def test_logs_of_an_experiment_never_attempted_are_empty(
    fresh_api: TestClient, fresh_store: BuiltStore
) -> None:
    step = server_steps.Corpus(name="empty")
    (step.furu_dir / ".furu").mkdir(parents=True)
    fresh_api.post("/api/index/refresh")
    url = f"/api/experiments/{step._furu_namespace}/{step._furu_hash}"
    assert fresh_api.get(url).json()["result_status"] == "absent"
    chunk = fresh_api.get(url + "/logs").json()
    assert (chunk["text"], chunk["size"], chunk["eof"]) == ("", 0, True)
    assert furu.get_furu_root() == fresh_store.root

"""Refreshes of the index: incremental, full rescans, a damaged or old index rebuilt, the index
in the cache directory (not the store), and answers while a refresh holds the writer.

Other processes changing the store under a running server: tests-integration/test_server_index.py.
"""

from __future__ import annotations

import json
import threading
import time

import server_steps
from server_fixtures import BuiltStore, app_client
from server_reference import api_rows, file_rows


def test_a_rescan_catches_edits_no_journal_recorded(fresh_store: BuiltStore) -> None:
    with app_client(fresh_store.settings()) as client:
        tags = fresh_store.step_dir("small") / ".furu" / "tags.json"
        tags.write_text(json.dumps({"tags": ["by-hand"], "name": None}))
        marker = fresh_store.step_dir("large") / ".furu" / "SUCCESS.json"
        marker.unlink()
        client.post("/api/index/refresh")  # incremental: nothing in the journal
        result = client.post("/api/index/refresh", params={"full": True}).json()
        assert result["kind"] == "rescan"
        assert result["changed"] >= 2
        assert api_rows(client) == file_rows(fresh_store.root, fresh_store.vc_root)


def test_a_refresh_reads_only_what_changed(fresh_store: BuiltStore) -> None:
    with app_client(fresh_store.settings()) as client:
        idle = client.post("/api/index/refresh").json()
        assert (idle["kind"], idle["changed"], idle["removed"]) == ("refresh", 0, 0)
        server_steps.Corpus(name="one more").load_or_create()
        once = client.post("/api/index/refresh").json()
        assert once["changed"] == 1
        assert once["generation"] == idle["generation"] + 1
        assert api_rows(client) == file_rows(fresh_store.root, fresh_store.vc_root)


def test_the_index_lives_in_the_cache_directory_not_the_store(fresh_store: BuiltStore) -> None:
    settings = fresh_store.settings()
    with app_client(settings) as client:
        assert client.get("/api/stats").json()["total"] == len(fresh_store.steps)
    assert settings.index_path().is_file()
    assert settings.index_path().is_relative_to(fresh_store.dir / "cache")
    assert not [p for p in fresh_store.root.rglob("*") if "sqlite" in p.name]


def test_a_damaged_or_old_index_is_rebuilt(fresh_store: BuiltStore) -> None:
    settings = fresh_store.settings()
    settings.index_path().parent.mkdir(parents=True)
    settings.index_path().write_bytes(b"this is not a database" * 100)
    with app_client(settings) as client:
        assert client.get("/api/stats").json()["total"] == len(fresh_store.steps)


def test_the_server_answers_while_a_refresh_runs(fresh_store: BuiltStore) -> None:
    with app_client(fresh_store.settings()) as client:
        indexer = client.app.state.services.index.indexer  # type: ignore[attr-defined]
        held = threading.Event()
        done = threading.Event()

        def hold_the_writer() -> None:
            with indexer.lock:  # as a long refresh would
                held.set()
                done.wait(30)

        holder = threading.Thread(target=hold_the_writer)
        holder.start()
        try:
            assert held.wait(10)
            start = time.monotonic()
            for route in ("/api/experiments", "/api/stats", "/api/dag", "/api/namespaces"):
                assert client.get(route).status_code == 200
            assert client.get(fresh_store.url("small")).status_code == 200
            assert time.monotonic() - start < 10
        finally:
            done.set()
            holder.join(30)

"""A FIFO planted at one experiment's `.furu/tags.json` must not hang the indexer: it reads the
labels through `furu.StepDir.read_labels`, which opens nothing but a regular file."""

from __future__ import annotations

import os
import threading
from typing import Any

from server_fixtures import BuiltStore, app_client


def test_a_fifo_tags_file_does_not_stop_indexing(fresh_store: BuiltStore) -> None:
    fifo = fresh_store.step_dir("small") / ".furu" / "tags.json"
    fifo.unlink(missing_ok=True)
    os.mkfifo(fifo)
    seen: dict[str, Any] = {}

    def serve() -> None:
        try:
            with app_client(fresh_store.settings()) as client:
                seen["stats"] = client.get("/api/stats").json()
                seen["detail"] = client.get(fresh_store.url("small"))
        except BaseException as exc:  # reported below
            seen["error"] = exc

    worker = threading.Thread(target=serve, daemon=True)
    worker.start()
    worker.join(60)  # typically well under a second
    hung = worker.is_alive()
    if hung:  # give the blocked reader its end of file, so the run can go on
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(60)
    assert not hung, "indexing blocked on the FIFO at .furu/tags.json"
    assert "error" not in seen, seen.get("error")
    assert seen["stats"]["total"] == len(fresh_store.steps)
    assert seen["detail"].status_code == 200
    assert seen["detail"].json()["tags"] == []

"""Files a hostile (or broken) store may hold: FIFOs, symlinks out and in loops, a 100 MB line,
JSON nested too deep, huge strings in a config. Every file route answers at once, reads a
bounded amount, never follows a link out of the experiment's directory, and never says 500."""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from server_fixtures import BuiltStore

from furu_server._preview import CELL_CHARS, JSON_DEPTH, LINE_BYTES, SCAN_BYTES, TEXT_BYTES

BOUND_SEC = 10.0  # each request below typically answers in well under 0.1 s


def _bounded(call: Callable[[], httpx.Response]) -> httpx.Response:
    """`call()` on a thread; fails (instead of hanging the run) if it takes over BOUND_SEC."""
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(call()), daemon=True)
    thread.start()
    thread.join(BOUND_SEC)
    assert not thread.is_alive(), f"the request did not answer within {BOUND_SEC}s (blocked)"
    return out[0]  # type: ignore[no-any-return]


@contextlib.contextmanager
def _fifo(path: Path) -> Iterator[Path]:
    os.mkfifo(path)
    try:
        yield path
    finally:
        # Unblock a reader that the code under test may have left waiting on it.
        with contextlib.suppress(OSError):
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))


def _error(got: httpx.Response) -> tuple[int, str]:
    return got.status_code, got.json()["error"]["code"]


def test_a_fifo_is_refused_at_once_by_every_file_route(
    fresh_api: TestClient, fresh_store: BuiltStore
) -> None:
    step_dir = fresh_store.step_dir("large")
    with _fifo(step_dir / "pipe.csv"), _fifo(step_dir / "pipe.txt"):
        for route in ("preview/pipe.csv", "preview/pipe.txt", "files/pipe.csv"):
            got = _bounded(lambda r=route: fresh_api.get(fresh_store.url("large", f"/{r}")))
            assert _error(got) == (400, "not_a_file"), (route, got.text)
            assert "named pipe" in got.json()["error"]["message"]
            assert "pipe." in got.json()["error"]["message"]


def test_a_fifo_in_place_of_the_log_does_not_hang_the_log_routes(
    fresh_api: TestClient, fresh_store: BuiltStore
) -> None:
    log = fresh_store.step_dir("small") / ".furu" / "furu.log"
    log.unlink()
    with _fifo(log):
        for suffix in ("/logs", "/logs?tail=100", "/logs/stream"):
            got = _bounded(lambda s=suffix: fresh_api.get(fresh_store.url("small", s)))
            assert _error(got) == (400, "not_a_file"), (suffix, got.text)
            assert "furu.log" in got.json()["error"]["message"]
        detail = _bounded(lambda: fresh_api.get(fresh_store.url("small")))
        assert detail.status_code == 200, detail.text
        assert detail.json()["sizes"]["log_bytes"] == 0


def test_a_log_symlinked_out_of_the_directory_is_not_followed(
    fresh_api: TestClient, fresh_store: BuiltStore, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:top secret\n")
    log = fresh_store.step_dir("small") / ".furu" / "furu.log"
    log.unlink()
    log.symlink_to(secret)
    for suffix in ("/logs", "/logs?tail=10", "/logs/stream", "/files/.furu/furu.log"):
        got = fresh_api.get(fresh_store.url("small", suffix))
        assert _error(got) == (403, "path_outside_artifact"), (suffix, got.text)
        assert "top secret" not in got.text
    detail = fresh_api.get(fresh_store.url("small")).json()
    assert detail["sizes"]["log_bytes"] == 0  # not the size of the file outside


def test_a_symlink_loop_is_a_4xx(fresh_api: TestClient, fresh_store: BuiltStore) -> None:
    step_dir = fresh_store.step_dir("large")
    os.symlink("loop_b", step_dir / "loop_a")
    os.symlink("loop_a", step_dir / "loop_b")
    for route in ("preview", "files"):
        got = fresh_api.get(fresh_store.url("large", f"/{route}/loop_a"))
        assert _error(got) == (400, "not_a_file"), got.text
        assert "loop" in got.json()["error"]["message"]


def test_a_dangling_symlink_is_not_found_or_outside(
    fresh_api: TestClient, fresh_store: BuiltStore
) -> None:
    step_dir = fresh_store.step_dir("large")
    os.symlink("nothing-here", step_dir / "dangling")
    os.symlink("/nonexistent/elsewhere", step_dir / "dangling_out")
    got = fresh_api.get(fresh_store.url("large", "/preview/dangling"))
    assert _error(got) == (404, "file_not_found")
    got = fresh_api.get(fresh_store.url("large", "/preview/dangling_out"))
    assert _error(got) == (403, "path_outside_artifact")


def _sparse(path: Path, head: bytes, size: int, tail: bytes = b"") -> None:
    with open(path, "wb") as f:
        f.write(head)
        f.truncate(size - len(tail))
        f.seek(size - len(tail))
        f.write(tail)


def test_a_100_mb_json_line_comes_back_cut_to_a_bounded_preview(
    fresh_api: TestClient, fresh_store: BuiltStore
) -> None:
    step_dir = fresh_store.step_dir("large")
    size = 100 * 1024 * 1024
    with open(step_dir / "huge.jsonl", "wb") as f:
        f.write(b'{"a": 1}\n{"note": "')
        f.write(b"x" * (size - 31))  # a real line of text, not a hole
        f.write(b'"}\n{"a": 3}\n')
    got = fresh_api.get(fresh_store.url("large", "/preview/huge.jsonl"))
    assert got.status_code == 200, got.text[:500]
    page = got.json()
    assert len(got.content) < 2 * LINE_BYTES
    assert page["kind"] == "table"
    assert page["total_rows"] is None  # the line is longer than a preview reads
    assert page["truncated"] is True
    cuts = {t["path"]: t for t in page["truncations"]}
    assert cuts["line 2"]["unit"] == "bytes"
    assert cuts["line 2"]["kept"] == LINE_BYTES
    assert cuts["file"] == {"path": "file", "unit": "bytes", "size": size, "kept": SCAN_BYTES}
    assert len(page["rows"]) == 2
    assert len(json.dumps(page["rows"][1])) < CELL_CHARS + 100


def test_a_long_cell_and_many_columns_are_cut(
    fresh_api: TestClient, fresh_store: BuiltStore
) -> None:
    step_dir = fresh_store.step_dir("large")
    (step_dir / "wide.csv").write_text(
        ",".join(f"c{i}" for i in range(3000)) + "\n" + "y" * 200_000 + ",2\n"
    )
    page = fresh_api.get(fresh_store.url("large", "/preview/wide.csv")).json()
    assert page["kind"] == "table"
    assert page["truncated"] is True
    assert len(page["columns"]) == 1000
    assert len(page["rows"][0][0]) == CELL_CHARS
    paths = {t["path"]: t for t in page["truncations"]}
    assert paths["rows[0][0]"]["size"] == 200_000
    assert paths["columns"]["size"] == 3000


def test_json_nested_too_deep_is_a_preview_not_a_500(
    fresh_api: TestClient, fresh_store: BuiltStore
) -> None:
    step_dir = fresh_store.step_dir("large")
    (step_dir / "abyss.json").write_text("[" * 100_000 + "]" * 100_000)
    got = fresh_api.get(fresh_store.url("large", "/preview/abyss.json"))
    assert got.status_code == 200, got.text[:500]
    page = got.json()
    assert page["kind"] == "text"
    assert page["truncated"] is True
    assert page["truncations"][0]["unit"] == "levels"
    assert len(page["text"]) <= TEXT_BYTES
    (step_dir / "deep.json").write_text("[" * 500 + "]" * 500)
    page = fresh_api.get(fresh_store.url("large", "/preview/deep.json")).json()
    assert page["kind"] == "json"
    assert page["truncated"] is True
    assert page["truncations"][0]["unit"] == "levels"
    depth, value = 0, page["value"]
    while isinstance(value, list) and value:
        depth, value = depth + 1, value[0]
    assert depth == JSON_DEPTH
    (step_dir / "abyss.jsonl").write_text("[" * 100_000 + "]" * 100_000 + "\n")
    got = fresh_api.get(fresh_store.url("large", "/preview/abyss.jsonl"))
    assert got.status_code in (200, 422), got.text[:500]


def test_a_2_gb_file_without_newline_reads_a_bounded_amount(
    fresh_api: TestClient, fresh_store: BuiltStore
) -> None:
    step_dir = fresh_store.step_dir("large")
    for name, head in (("big.csv", b"a,b\n1,"), ("big.jsonl", b'{"a": "'), ("big.txt", b"x")):
        _sparse(step_dir / name, head + b"z" * 16384, 2 << 30)
        got = fresh_api.get(fresh_store.url("large", f"/preview/{name}"))
        assert got.status_code in (200, 422), (name, got.text[:300])
        assert len(got.content) < 4 * LINE_BYTES, name
        if got.status_code == 200:
            assert got.json()["truncated"] is True, name


def test_a_huge_config_string_is_cut_in_the_detail(
    fresh_api: TestClient, fresh_store: BuiltStore
) -> None:
    meta_path = fresh_store.step_dir("small") / ".furu" / "metadata.json"
    meta = json.loads(meta_path.read_text())
    meta["furu_obj"]["note"] = "n" * 5_000_000
    meta["furu_obj"]["many"] = list(range(200_000))
    meta["git_patch"] = "p" * 3_000_000
    meta_path.write_text(json.dumps(meta))
    got = fresh_api.get(fresh_store.url("small"))
    assert got.status_code == 200
    assert len(got.content) < 2_000_000
    d = got.json()
    assert d["truncated"] is True
    cuts = {t["path"]: t for t in d["truncations"]}
    assert cuts["config.note"] == {
        "path": "config.note",
        "unit": "characters",
        "size": 5_000_000,
        "kept": 100_000,
    }
    assert cuts["config.many"]["size"] == 200_000
    assert cuts["config.many"]["unit"] == "items"
    assert cuts["metadata.git_patch"]["size"] == 3_000_000
    assert d["config"]["note"] == "n" * 100_000
    untouched = fresh_api.get(fresh_store.url("large")).json()
    assert (untouched["truncated"], untouched["truncations"]) == (False, [])


@pytest.mark.parametrize("name", ["metadata.json", "state.json"])
def test_the_raw_files_route_does_not_follow_furu_files_out(
    fresh_api: TestClient, fresh_store: BuiltStore, tmp_path: Path, name: str
) -> None:
    secret = tmp_path / "outside.json"
    secret.write_text('{"secret": "top secret"}')
    target = fresh_store.step_dir("small") / ".furu" / name
    target.unlink()
    target.symlink_to(secret)
    got = fresh_api.get(fresh_store.url("small", f"/files/.furu/{name}"))
    assert _error(got) == (403, "path_outside_artifact")
    assert "top secret" not in got.text


def test_the_detail_does_not_follow_a_symlinked_metadata_json(
    fresh_api: TestClient, fresh_store: BuiltStore, tmp_path: Path
) -> None:
    """(The reader is furu-core's `StepDir.read_metadata`, which refuses the symlink.)"""
    meta = fresh_store.step_dir("small") / ".furu" / "metadata.json"
    planted = json.loads(meta.read_text())
    planted["furu_obj"]["secret"] = "top secret"
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps(planted))
    meta.unlink()
    meta.symlink_to(outside)
    got = fresh_api.get(fresh_store.url("small"))
    assert got.status_code == 200, got.text
    assert "top secret" not in got.text
    assert got.json()["metadata"] is None
    assert any("metadata.json" in p for p in got.json()["problems"])


def test_a_diff_of_huge_or_deep_configs_is_bounded(
    fresh_api: TestClient, fresh_store: BuiltStore
) -> None:
    meta_path = fresh_store.step_dir("small") / ".furu" / "metadata.json"
    meta = json.loads(meta_path.read_text())
    deep: Any = 1
    for _ in range(900):  # parses as JSON, deeper than a recursive comparison goes
        deep = {"d": deep}
    meta["furu_obj"]["deep"] = deep
    meta["furu_obj"]["note"] = "n" * 5_000_000
    meta_path.write_text(json.dumps(meta))
    a = "/".join(fresh_store.ref("small"))
    b = "/".join(fresh_store.ref("medium"))
    got = fresh_api.get("/api/diff", params={"a": a, "b": b})
    assert got.status_code == 200, got.text[:500]
    assert len(got.content) < 1_000_000
    d = got.json()
    assert d["truncated"] is True
    assert {t["path"] for t in d["truncations"]} >= {"a.config.note"}
    assert any(t["unit"] == "levels" for t in d["truncations"])

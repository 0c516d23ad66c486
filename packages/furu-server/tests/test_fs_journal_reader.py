"""The journal reader opens only regular files, never follows a symlink, never waits on a FIFO
planted in `journal/`, and reads a bounded amount per refresh without getting stuck."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from furu_server.index import _scanner
from furu_server.index._scanner import JournalFile, journal_files, read_journal


def _line(rel: str) -> bytes:
    return json.dumps({"root": "data", "dir": rel}).encode() + b"\n"


def _read(root: Path, name: str, offset: int = 0) -> tuple[set[tuple[str, str]], int]:
    (found,) = [f for f in journal_files(root) if f.name == name]
    return read_journal(root, found, offset)


def test_a_fifo_or_symlink_in_the_journal_is_not_read(tmp_path: Path) -> None:
    journal = tmp_path / "journal"
    journal.mkdir()
    os.mkfifo(journal / "planted.jsonl")
    outside = tmp_path / "outside.jsonl"
    outside.write_bytes(_line("a/B/1"))
    (journal / "link.jsonl").symlink_to(outside)
    # A FIFO reports size 0 when listed; one that claims a size must still not be opened.
    done: list[object] = []
    worker = threading.Thread(
        target=lambda: done.append(read_journal(tmp_path, JournalFile("planted.jsonl", 10, 0), 0))
    )
    worker.start()
    worker.join(5)
    assert not worker.is_alive(), "reading a FIFO in the journal blocked"
    assert done == [(set(), 0)]
    assert read_journal(tmp_path, JournalFile("link.jsonl", 100, 0), 0) == (set(), 0)


def test_a_huge_journal_is_read_in_bounded_pieces_and_a_line_less_one_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = tmp_path / "journal"
    journal.mkdir()
    monkeypatch.setattr(_scanner, "JOURNAL_READ_MAX", 64)
    lines = b"".join(_line(f"a/B/{i}") for i in range(5))
    (journal / "many.jsonl").write_bytes(lines)
    seen: set[tuple[str, str]] = set()
    offset = 0
    for _ in range(10):
        changed, offset = _read(tmp_path, "many.jsonl", offset)
        seen |= changed
    assert offset == len(lines)
    assert seen == {("data", f"a/B/{i}") for i in range(5)}

    # 200 bytes without a line end: skipped a piece at a time, never stuck at one offset.
    garbage = b"x" * 200 + _line("a/B/late") + _line("a/B/next")
    (journal / "garbage.jsonl").write_bytes(garbage)
    offset = 0
    seen = set()
    for _ in range(10):
        changed, offset = _read(tmp_path, "garbage.jsonl", offset)
        seen |= changed
    assert offset == len(garbage)
    assert ("data", "a/B/next") in seen

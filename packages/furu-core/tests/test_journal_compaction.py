"""`Journal.compact`: finished writers' files become one line per step; live ones stay."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import furu
from furu._journal import MAX_COMPACTED, journal_file_name
from furu._store import HOSTNAME

DAY = 86400.0


def _write(directory: Path, name: str, lines: list[tuple[float, str, str]]) -> Path:
    path = directory / name
    with open(path, "a", encoding="utf-8") as f:
        for t, rel, what in lines:
            f.write(json.dumps({"t": t, "root": "data", "dir": rel, "what": what}) + "\n")
    return path


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_finished_writers_are_merged_one_line_per_step(tmp_path: Path, dead_pid: int) -> None:
    store = furu.Store(tmp_path)
    journal = store.journal.directory
    journal.mkdir(parents=True)
    dead = _write(
        journal,
        f"{HOSTNAME}-{dead_pid}-aaaa.jsonl",
        [(1.0, "m/A/1", "state"), (2.0, "m/A/1", "success"), (3.0, "m/A/2", "state")],
    )
    live = _write(journal, journal_file_name(), [(4.0, "m/A/1", "tags")])  # this process
    parent = _write(journal, f"{HOSTNAME}-{os.getppid()}-bbbb.jsonl", [(4.5, "m/A/9", "state")])
    remote_old = _write(journal, "node7-123-cccc.jsonl", [(5.0, "m/A/3", "state")])
    remote_new = _write(journal, "node8-456-dddd.jsonl", [(6.0, "m/A/4", "state")])
    old = time.time() - 8 * DAY
    os.utime(remote_old, (old, old))
    (journal / "notes.txt").write_text("not a journal file")

    dry = store.journal.compact(dry_run=True)
    assert sorted(dry.merged) == sorted([dead.name, remote_old.name])
    assert (dry.lines, dry.steps, dry.compacted) == (4, 0, None)  # counted, not parsed
    assert dead.exists()
    assert remote_old.exists()

    done = store.journal.compact()
    assert sorted(done.merged) == sorted([dead.name, remote_old.name])
    assert {name for name, _ in done.kept} == {live.name, parent.name, remote_new.name}
    assert not dead.exists()
    assert not remote_old.exists()
    assert live.exists()
    assert parent.exists()
    assert remote_new.exists()
    assert done.compacted is not None
    assert done.compacted.startswith("compacted-")
    merged = _lines(journal / done.compacted)
    assert [(line["dir"], line["what"]) for line in merged] == [
        ("m/A/1", "success"),
        ("m/A/2", "state"),
        ("m/A/3", "state"),
    ]
    assert done.bytes_after == (journal / done.compacted).stat().st_size
    assert (journal / "notes.txt").exists()


def test_earlier_compactions_are_kept_until_there_are_too_many(
    tmp_path: Path, dead_pid: int
) -> None:
    store = furu.Store(tmp_path)
    journal = store.journal.directory
    journal.mkdir(parents=True)
    _write(journal, f"{HOSTNAME}-{dead_pid}-aaaa.jsonl", [(1.0, "m/A/1", "state")])
    first = store.journal.compact()
    assert store.journal.compact().merged == []  # one compacted file, nothing new: left alone
    _write(journal, f"{HOSTNAME}-{dead_pid}-eeee.jsonl", [(2.0, "m/A/1", "delete")])
    second = store.journal.compact()
    # a reader that read the first compacted file is not made to read its lines again
    assert second.merged == [f"{HOSTNAME}-{dead_pid}-eeee.jsonl"]
    assert second.compacted is not None
    assert sorted(p.name for p in journal.iterdir()) == sorted([first.compacted, second.compacted])
    assert _lines(journal / second.compacted)[0]["what"] == "delete"
    made = {first.compacted, second.compacted}
    for i in range(MAX_COMPACTED - 2):
        _write(journal, f"{HOSTNAME}-{dead_pid}-{i:04x}.jsonl", [(3.0 + i, f"m/B/{i}", "state")])
        made.add(store.journal.compact().compacted)
    assert {p.name for p in journal.iterdir()} == made  # MAX_COMPACTED files side by side
    _write(journal, f"{HOSTNAME}-{dead_pid}-ffff.jsonl", [(99.0, "m/C/1", "state")])
    last = store.journal.compact()
    assert last.compacted is not None
    assert [p.name for p in journal.iterdir()] == [last.compacted]
    lines = _lines(journal / last.compacted)
    assert {line["dir"] for line in lines} == {
        "m/A/1",
        "m/C/1",
        *(f"m/B/{i}" for i in range(MAX_COMPACTED - 2)),
    }
    assert next(line for line in lines if line["dir"] == "m/A/1")["what"] == "delete"


def test_torn_lines_and_planted_files_lose_nothing_readable(tmp_path: Path, dead_pid: int) -> None:
    store = furu.Store(tmp_path)
    journal = store.journal.directory
    journal.mkdir(parents=True)
    path = _write(journal, f"{HOSTNAME}-{dead_pid}-aaaa.jsonl", [(1.0, "m/A/1", "state")])
    with open(path, "ab") as f:
        f.write(b'\xff\xfe not json\n{"t": 2, "root": "data", "dir": "m/A/2", "wh')  # cut short
    fifo = journal / f"{HOSTNAME}-{dead_pid}-ffff.jsonl"
    os.mkfifo(fifo)
    done = store.journal.compact()
    assert done.lines == 1
    assert (fifo.name, "not a regular file") in done.kept
    assert fifo.exists()


def test_a_missing_journal_is_nothing_to_compact(tmp_path: Path) -> None:
    done = furu.Store(tmp_path).journal.compact()
    assert done.merged == []
    assert done.to_json()["compacted"] is None
    assert done.describe().startswith("journal: nothing to compact")

"""furu._store: atomic writes and reading furu's JSON files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from furu import FuruStoreError
from furu._store import (
    HOSTNAME,
    read_json,
    temp_name,
    write_bytes_atomic,
    write_json_atomic,
)


def test_atomic_write_leaves_only_the_target(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    write_json_atomic(target, {"a": 1})
    write_json_atomic(target, {"a": 2}, durable=True)
    write_bytes_atomic(tmp_path / "raw.bin", b"\x00\x01")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw.bin", "state.json"]
    assert json.loads(target.read_text()) == {"a": 2}
    assert (tmp_path / "raw.bin").read_bytes() == b"\x00\x01"


def test_atomic_write_replaces_not_appends(tmp_path: Path) -> None:
    target = tmp_path / "data.json"
    target.write_text(json.dumps({"long": "x" * 1000}))
    before = target.stat().st_ino
    write_json_atomic(target, {"short": 1})
    assert json.loads(target.read_text()) == {"short": 1}
    assert target.stat().st_ino != before  # a new file renamed over the old, not rewritten


def test_replacing_keeps_readers_of_the_old_file_intact(tmp_path: Path) -> None:
    target = tmp_path / "data.json"
    write_json_atomic(target, {"v": 1})
    with open(target) as reader:
        write_json_atomic(target, {"v": 2})
        assert json.load(reader) == {"v": 1}
    assert json.loads(target.read_text()) == {"v": 2}


def test_failed_replace_removes_the_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "is-a-dir"
    (target / "child").mkdir(parents=True)
    with pytest.raises(OSError):  # noqa: PT011 - the exact errno depends on the platform
        write_bytes_atomic(target, b"x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["is-a-dir"]


def test_temp_names_are_unique_hidden_siblings(tmp_path: Path) -> None:
    target = tmp_path / "SUCCESS.json"
    names = {temp_name(target) for _ in range(100)}
    assert len(names) == 100
    for name in names:
        assert name.parent == tmp_path
        assert name.name.startswith(".SUCCESS.json.")
        assert f".{HOSTNAME}.{os.getpid()}." in name.name
        assert name.name.endswith(".tmp")


def test_json_is_readable_and_keeps_key_order(tmp_path: Path) -> None:
    target = tmp_path / "m.json"
    write_json_atomic(target, {"z": 1, "a": Path("/p"), "m": [1, 2]})
    text = target.read_text()
    assert text.endswith("\n")
    assert text.index('"z"') < text.index('"a"') < text.index('"m"')
    assert read_json(target, what="test") == {"z": 1, "a": "/p", "m": [1, 2]}


def test_read_json_missing_is_none(tmp_path: Path) -> None:
    assert read_json(tmp_path / "nope.json", what="state") is None


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "is empty"),
        (b"  \n", "is empty"),
        (b'{"result_status": "succ', "is not valid JSON"),
        (b"\xff\xfe\x00", "is not valid JSON"),
    ],
)
def test_read_json_damaged(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(content)
    with pytest.raises(FuruStoreError) as info:
        read_json(path, what="state (result and attempt status)")
    message = str(info.value)
    assert message.startswith(f"{path} {problem}")
    assert "it should hold the step's state (result and attempt status)" in message
    assert "Delete it (or the whole step directory) to let furu recompute the step." in message
    assert info.value.path == path


@pytest.mark.parametrize(("content", "kind"), [("[1, 2]", "list"), ('"x"', "str"), ("3", "int")])
def test_read_json_not_an_object(tmp_path: Path, content: str, kind: str) -> None:
    path = tmp_path / "metadata.json"
    path.write_text(content)
    with pytest.raises(FuruStoreError) as info:
        read_json(path, what="metadata")
    assert str(info.value) == (
        f"{path} holds a JSON {kind}, not an object; it should hold the step's metadata. "
        "Delete it to let furu recompute the step."
    )
    assert info.value.path == path

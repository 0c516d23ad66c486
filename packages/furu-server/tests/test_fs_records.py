"""Reading experiments into records: config flattening, sizes, status order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from furu import status_rank
from furu_server.index._records import directory_size
from furu_server.index._rows import flatten_config


@pytest.mark.parametrize(
    ("config", "leaves"),
    [
        ({"lr": 0.1, "steps": 3}, [("lr", "num", 0.1, None), ("steps", "num", 3.0, None)]),
        (
            {"flag": True, "name": "x", "none": None},
            [("flag", "bool", 1.0, None), ("name", "str", None, "x"), ("none", "null", None, None)],
        ),
        (
            {"layers": {"__tuple__": [1, 2]}},
            [("layers.0", "num", 1.0, None), ("layers.1", "num", 2.0, None)],
        ),
        ({"path": {"__path__": "/a/b"}}, [("path", "str", None, "/a/b")]),
        ({"mode": {"__enum__": "m.Mode", "name": "FAST"}}, [("mode", "str", None, "FAST")]),
        ({"x": {"__float__": "nan"}}, [("x", "num", None, "nan")]),
        ({"x": {"__float__": "inf"}}, [("x", "num", float("inf"), None)]),
        ({"d": {"__timedelta__": 1.5}}, [("d", "num", 1.5, None)]),
        ({"m": {"__dict__": [[1, "a"]]}}, [("m.1", "str", None, "a")]),
        (
            {"dep": {"__class__": "pkg.Data", "n": 1}},
            [("dep.__class__", "str", None, "pkg.Data"), ("dep.n", "num", 1.0, None)],
        ),
        ({"plain": {"a": {"b": [True]}}}, [("plain.a.b.0", "bool", 1.0, None)]),
    ],
)
def test_flatten_config(config: dict[str, Any], leaves: list[tuple[Any, ...]]) -> None:
    assert list(flatten_config(config)) == leaves


def test_directory_size_counts_files_and_stops_at_its_limit(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"12345")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b").write_bytes(b"123")
    (tmp_path / "link").symlink_to(tmp_path / "a")
    total, files, truncated = directory_size(str(tmp_path))
    assert files == 3
    assert total == 5 + 3 + len(str(tmp_path / "a"))
    assert truncated is False
    assert directory_size(str(tmp_path), limit=1)[2] is True


def test_status_rank_puts_running_first_and_absent_last() -> None:
    order = [
        status_rank("incomplete", "running"),
        status_rank("incomplete", "queued"),
        status_rank("failed", "failed"),
        status_rank("incomplete", "crashed"),
        status_rank("incomplete", None),
        status_rank("success", "success"),
        status_rank("absent", None),
    ]
    assert order == sorted(order)

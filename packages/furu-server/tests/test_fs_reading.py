"""`open_inside`, the one way the server opens a store file: only a regular file whose real path
is inside the experiment's directory, opened without following a final symlink or waiting on a
pipe; and `Clipper`, which bounds a JSON value for a response without recursing."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from furu_server import ServerError
from furu_server._clip import Clipper
from furu_server._reading import open_inside, regular_size


def _code(base: Path, rel: str) -> str:
    with pytest.raises(ServerError) as err:
        open_inside(str(base), rel)
    return err.value.code


def test_regular_files_inside_open_even_through_inside_symlinks(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "f.txt").write_text("hello")
    os.symlink("sub/f.txt", tmp_path / "link")
    os.symlink("sub", tmp_path / "dirlink")
    for rel in ("sub/f.txt", "link", "dirlink/f.txt", "sub/./f.txt"):
        with open_inside(str(tmp_path), rel) as opened:
            assert (opened.size, opened.file.read()) == (5, b"hello")
    assert regular_size(str(tmp_path), "link") == 5


def test_special_files_are_never_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "dir").mkdir()
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "sock"))
        for rel in ("pipe", "dir", "sock", ""):
            assert _code(tmp_path, rel) == "not_a_file", rel
    assert regular_size(str(tmp_path), "pipe") == 0


def test_links_and_paths_out_are_refused(tmp_path: Path) -> None:
    base = tmp_path / "step"
    base.mkdir()
    (tmp_path / "secret").write_text("x")
    os.symlink(tmp_path / "secret", base / "out")
    os.symlink(tmp_path, base / "outdir")
    os.symlink("/nonexistent/anywhere", base / "dangling_out")
    for rel in ("out", "outdir/secret", "dangling_out", "../secret", "/etc/passwd", "a\x00b"):
        assert _code(base, rel) == "path_outside_artifact", rel
    assert regular_size(str(base), "out") == 0


def test_loops_and_missing_files(tmp_path: Path) -> None:
    os.symlink("b", tmp_path / "a")
    os.symlink("a", tmp_path / "b")
    (tmp_path / "file").write_text("x")
    assert _code(tmp_path, "a") == "not_a_file"
    assert _code(tmp_path, "nothing") == "file_not_found"
    assert _code(tmp_path, "file/below") == "file_not_found"
    assert _code(tmp_path, "x" * 5000) == "file_not_found"


def test_the_clipper_cuts_strings_items_and_depth_without_recursing() -> None:
    deep: object = "bottom"
    for _ in range(100_000):  # far deeper than Python's recursion limit
        deep = [deep]
    clipper = Clipper(max_chars=5, max_items=10, max_depth=3)
    value = {"s": "abcdefgh", "l": list(range(20)), "d": [1]}
    out = clipper.clip(value, "v")
    assert out == {"s": "abcde", "l": list(range(7)), "d": []}  # 3 keys + 7 items: the budget
    cuts = {(t.path, t.unit): (t.size, t.kept) for t in clipper.report()}
    assert cuts[("v.s", "characters")] == (8, 5)
    assert cuts[("v.l", "items")] == (20, 7)
    assert cuts[("v.d", "items")] == (1, 0)
    assert value["s"] == "abcdefgh"  # the input is not changed
    deeper = Clipper(max_chars=5, max_items=10**6, max_depth=3)
    assert deeper.clip(deep, "$") == [[[None]]]
    assert [(t.path, t.unit) for t in deeper.report()] == [("$[0][0][0]", "levels")]

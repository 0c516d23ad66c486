"""Path resolution inside an artifact, and the Host and Origin policy."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from furu_server import ServerError
from furu_server._reading import resolve_inside
from furu_server._security import HostPolicy


def test_paths_inside_resolve(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "f.txt").write_text("x")
    assert resolve_inside(str(tmp_path), "sub/f.txt") == str((tmp_path / "sub" / "f.txt").resolve())
    assert resolve_inside(str(tmp_path), "sub/./f.txt").endswith("f.txt")


@pytest.mark.parametrize(
    "rel", ["../x", "sub/../../x", "/etc/passwd", "a\x00b", "\\\\server\\share"]
)
def test_paths_outside_are_refused(tmp_path: Path, rel: str) -> None:
    (tmp_path / "sub").mkdir()
    with pytest.raises(ServerError) as err:
        resolve_inside(str(tmp_path), rel)
    assert err.value.code == "path_outside_artifact"


def test_a_symlinked_base_is_resolved_too(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "f").write_text("x")
    os.symlink(real, tmp_path / "alias")
    assert resolve_inside(str(tmp_path / "alias"), "f") == str(real / "f")
    os.symlink(tmp_path, real / "up")
    (tmp_path / "outside").write_text("secret")
    with pytest.raises(ServerError):
        resolve_inside(str(tmp_path / "alias"), "up/outside")
    assert resolve_inside(str(tmp_path / "alias"), "up/real/f") == str(real / "f")  # back inside


def test_a_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(ServerError) as err:
        resolve_inside(str(tmp_path), "nope")
    assert err.value.code == "file_not_found"


def test_host_policy() -> None:
    policy = HostPolicy("127.0.0.1", ("extra.test",), ("http://localhost:5173",))
    for ok in (
        "127.0.0.1:8000",
        "localhost",
        "[::1]:1",
        "10.1.2.3",
        "extra.test:80",
        "a.localhost",
    ):
        assert policy.host_allowed(ok), ok
    for bad in ("evil.com", "127.0.0.1.evil.com", "localhostx", "", None):
        assert not policy.host_allowed(bad), bad
    assert policy.origin_allowed("http://127.0.0.1:8000", "127.0.0.1:8000")
    assert policy.origin_allowed("http://localhost:5173/", "127.0.0.1:8000")
    assert not policy.origin_allowed("http://127.0.0.1:8001", "127.0.0.1:8000")
    assert not policy.origin_allowed("null", "127.0.0.1:8000")


def test_binding_all_interfaces_accepts_this_machines_names() -> None:
    import socket

    policy = HostPolicy("0.0.0.0", (), ())
    assert policy.host_allowed(socket.gethostname())

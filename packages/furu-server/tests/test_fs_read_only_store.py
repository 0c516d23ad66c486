"""A store the server may read but not write (a read-only mount): every change answers
`store_not_writable` (409) naming the directory, never `internal_error`.

The store is bind-mounted read-only over itself, which needs root (or CAP_SYS_ADMIN). Where
that is impossible the test skips, except under CI (`CI` set), where it fails instead.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from server_fixtures import AUTH, BuiltStore


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, timeout=30)


@pytest.fixture
def read_only(fresh_store: BuiltStore) -> Iterator[Path]:
    root = str(fresh_store.root)
    bound = _mount("--bind", root, root)
    if bound.returncode != 0:
        reason = f"cannot bind-mount the store read-only here: {bound.stderr.strip()}"
        if os.environ.get("CI"):
            pytest.fail(reason + " (CI is set: this test must run)")
        pytest.skip(reason)
    try:
        remount = _mount("-o", "remount,bind,ro", root)
        assert remount.returncode == 0, remount.stderr
        yield fresh_store.root
    finally:
        subprocess.run(["umount", root], check=True, timeout=30)


def test_changes_to_a_read_only_store_say_so(
    fresh_api: TestClient, fresh_store: BuiltStore, read_only: Path
) -> None:
    attempts = {
        "tags": ("PUT", "/tags", {"json": {"tags": ["x"]}}),
        "name": ("PUT", "/name", {"json": {"name": "n"}}),
        "invalidate": ("POST", "/invalidate", {}),
        "delete": ("DELETE", "", {}),
    }
    for what, (method, suffix, kwargs) in attempts.items():
        got = fresh_api.request(method, fresh_store.url("small", suffix), headers=AUTH, **kwargs)
        assert got.status_code == 409, (what, got.text)
        error = got.json()["error"]
        assert error["code"] == "store_not_writable", (what, error)
        assert "read-only filesystem" in error["message"], error
        assert str(read_only) in error["detail"]["path"]
    assert fresh_api.get(fresh_store.url("small")).json()["result_status"] == "success"

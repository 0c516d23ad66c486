"""Shared fixtures of the integration tests: a store under `tmp_path`, and its processes."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SERVER_TESTS = HERE.parent / "packages" / "furu-server" / "tests"
# furu_steps, furu_driver and furu_harness live here; server_steps and server_fixtures (the
# stores and the app the server's own tests use too) live with furu-server's tests.
for path in (SERVER_TESTS, HERE):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from furu_harness import Store, furu_config, store_config  # noqa: E402

pytest_plugins = ["slurm.fixtures", "server_fixtures", "dashboard_fixtures", "disk_fixtures"]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A store under `tmp_path`, used by this process (FURU_CONFIG) and every subprocess.

    Processes a test started and left running are killed at teardown.
    """
    s = Store(tmp_path)
    with furu_config(**store_config(s.root)):
        try:
            yield s
        finally:
            s.stop_all()

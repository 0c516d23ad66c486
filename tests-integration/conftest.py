"""Shared fixtures of the integration tests: a store under `tmp_path`, and its processes."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # furu_steps, furu_driver and furu_harness live here
    sys.path.insert(0, str(HERE))

from furu_harness import Store, furu_config, store_config  # noqa: E402

pytest_plugins = ["slurm.fixtures", "server_fixtures", "dashboard_fixtures"]


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

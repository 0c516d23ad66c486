"""furu-server's tests: stores made by real steps, and the app over them (`server_fixtures`).

The fixtures are imported here rather than listed in `pytest_plugins`, which pytest refuses in
a conftest below the directories it was started on (`pytest packages tests-integration`).
tests-integration registers the same module as a plugin for its own server tests.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # server_steps, server_fixtures and server_reference live here
    sys.path.insert(0, str(HERE))

pytest.register_assert_rewrite("server_fixtures", "server_reference")

from server_fixtures import api, built_store, fresh_api, fresh_store  # noqa: E402

__all__ = ["api", "built_store", "fresh_api", "fresh_store"]

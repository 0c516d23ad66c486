"""furu's pytest plugin: a store of its own for each test that asks for one.

pytest loads it through the `pytest11` entry point furu-core installs (named `furu`; disable
it with `-p no:furu`). It is a top-level module rather than `furu.<something>`, since importing
a submodule imports its package first: pytest loads plugins before a project's conftest, and
furu reads the `FURU_*` variables when it is imported. It gives:

- the `furu_store` fixture: furu's settings point at a fresh store under the test's
  `tmp_path` (`FURU_PATH` and `FURU_VERSION_CONTROLLED_PATH` too, for processes the test
  starts), and everything is restored after the test. Its value is that `furu.Store`.
- the ini option `furu_isolate_store = true` (in `[tool.pytest.ini_options]` or `pytest.ini`):
  every test gets `furu_store` without asking for it.

Only pytest imports this module; furu itself never imports pytest. This module imports furu
only when a test asks for the fixture: a conftest that sets `FURU_*` variables before its own
`import furu` still has them read.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from furu import Store

ISOLATE_INI = "furu_isolate_store"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        ISOLATE_INI,
        type="bool",
        default=False,
        help="furu: give every test a fresh store under its tmp_path (the furu_store fixture)",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getini(ISOLATE_INI):
        config.pluginmanager.register(_IsolateEveryTest(), "furu-isolate-store")


@pytest.fixture
def furu_store(tmp_path: Path) -> Iterator[Store]:
    """A fresh furu store under `tmp_path / "furu-data"`, used by this test alone.

    furu's settings (and `FURU_*` variables) point at it during the test and are restored
    after it, whatever the test changed.
    """
    from furu.testing import isolated_store

    with isolated_store(tmp_path / "furu-data") as store:
        yield store


class _IsolateEveryTest:
    """Registered when `furu_isolate_store = true`: every test requests `furu_store`."""

    @pytest.fixture(autouse=True)
    def _furu_isolated_store(self, request: pytest.FixtureRequest) -> None:
        request.getfixturevalue("furu_store")

"""Every test gets a fresh store under `tmp_path` and leaves furu's process state as it found it."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the tests dir is rootless: make core_test_steps importable
    sys.path.insert(0, str(HERE))

import core_test_steps  # noqa: E402

import furu  # noqa: E402
from furu import _logging, _metadata  # noqa: E402
from furu.testing import isolated_store  # noqa: E402


def _is_furus(handler: logging.Handler) -> bool:
    return isinstance(handler, _logging.StepLogRouter) or isinstance(
        handler.formatter, _logging.ConsoleFormatter
    )


@pytest.fixture(autouse=True)
def furu_store(tmp_path: Path) -> Iterator[Path]:
    """Point furu at `tmp_path/store` (and `tmp_path/vc`); restore every setting afterwards.

    Overrides the plugin's fixture of the same name: the settings, `FURU_*` variables and the
    force-recompute record are `furu.testing.isolated_store`'s job; furu's own tests also start
    without its logging handlers and without an adopted git state.
    """
    root = logging.getLogger()
    root_level = root.level
    furu_level = furu.get_logger().level
    excepthook = sys.excepthook
    _unconfigure_logging(root)  # whatever ran before (other packages' tests) set it up
    _metadata._adopted_git = None  # a job adopts its submitter's git state; a test never
    core_test_steps.reset()
    try:
        with isolated_store(tmp_path / "store", version_controlled_root=tmp_path / "vc"):
            yield tmp_path / "store"
    finally:
        _unconfigure_logging(root)
        root.setLevel(root_level)
        furu.get_logger().setLevel(furu_level)
        sys.excepthook = excepthook


def _unconfigure_logging(root: logging.Logger) -> None:
    """Take furu's handlers off the root logger, so the next `configure_logging()` runs."""
    for handler in [h for h in root.handlers if _is_furus(h)]:
        root.removeHandler(handler)
    _logging._configured = False


@pytest.fixture
def no_furu_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove every FURU_* variable, so `FuruConfig.from_env()` sees only what a test sets."""
    for key in [k for k in os.environ if k.startswith("FURU_")]:
        monkeypatch.delenv(key)


@pytest.fixture
def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped) on this host."""
    import subprocess

    proc = subprocess.Popen([sys.executable, "-S", "-c", ""])
    proc.wait()
    return proc.pid

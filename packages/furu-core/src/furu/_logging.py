"""Logging: a compact console format, and every record emitted during `_create` in its step's log.

One handler on the root logger routes each record to the `.furu/furu.log` of the step being
created in the current context (the innermost one for nested steps), so any stdlib logger a
user's code uses ends up beside the artifact it produced. The console handler is added only when
the root logger has none, so furu never fights an application's own logging setup.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from furu._errors import FuruStoreError
from furu._settings import FURU_CONFIG
from furu._store import open_append, write_all

LOGGER_NAME = "furu"
_configured = False
_configure_lock = threading.Lock()
_current_log: contextvars.ContextVar[_StepLog | None] = contextvars.ContextVar(
    "furu_current_log", default=None
)

_LOG_WHAT = "log (furu.log)"
_LEVEL_COLORS = {"WARNING": "\x1b[33m", "ERROR": "\x1b[31m", "CRITICAL": "\x1b[1;31m"}


def get_logger() -> logging.Logger:
    """The logger furu's own messages go to (`furu`)."""
    return logging.getLogger(LOGGER_NAME)


class ConsoleFormatter(logging.Formatter):
    """`HHMMSS file.py:line message`, coloured by level on a terminal."""

    def __init__(self, color: bool) -> None:
        super().__init__()
        self.color = color

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%H%M%S", time.localtime(record.created))
        text = f"{stamp} {record.filename}:{record.lineno} {record.getMessage()}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        color = _LEVEL_COLORS.get(record.levelname) if self.color else None
        return f"{color}{text}\x1b[0m" if color else text


class FileFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(filename)s:%(lineno)d %(message)s")


class _StepLog:
    """The open log file of one step being created, written unbuffered (a record per write).

    The log describes; it never decides. Once a write fails (a full disk), the file is given up
    with one warning on stderr, so a logging error never replaces the step's own outcome.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.fd: int | None = None
        try:
            self.fd = open_append(path, what=_LOG_WHAT)
        except (OSError, FuruStoreError) as exc:
            _warn_unwritable(path, exc)

    def write(self, text: str) -> None:
        with self.lock:
            if self.fd is None:
                return
            try:
                write_all(self.fd, (text + "\n").encode("utf-8", "backslashreplace"))
            except OSError as exc:
                self._close()
                _warn_unwritable(self.path, exc)

    def close(self) -> None:
        with self.lock:
            self._close()

    def _close(self) -> None:
        fd, self.fd = self.fd, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError as exc:  # NFS reports a failed deferred write here
                _warn_unwritable(self.path, exc)


def _warn_unwritable(path: Path, exc: BaseException) -> None:
    """Say on stderr (never in a step log, which is what failed) that a log lost lines."""
    with contextlib.suppress(Exception):
        sys.stderr.write(
            f"furu: WARNING: cannot write the step log {path}: {exc}. What was to be logged "
            "there is lost (free space there, remove what is at that path, or point FURU_PATH "
            "at another store); the step itself is not affected.\n"
        )


class StepLogRouter(logging.Handler):
    """Writes each record to the log of the step being created in the current context."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(FileFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        log = _current_log.get()
        if log is None:
            return
        try:
            log.write(self.format(record))
        except Exception:
            self.handleError(record)


def configure_logging() -> None:
    """Install furu's handlers (idempotent; `load_or_create` calls it on first use)."""
    global _configured
    if _configured:
        return
    with _configure_lock:
        if _configured:
            return
        root = logging.getLogger()
        level = logging.getLevelName(FURU_CONFIG.log_level)
        if not any(isinstance(h, StepLogRouter) for h in root.handlers):
            if not root.handlers:
                console = logging.StreamHandler(sys.stderr)
                console.setFormatter(ConsoleFormatter(color=sys.stderr.isatty()))
                console.setLevel(level)
                root.addHandler(console)
            root.addHandler(StepLogRouter())
        # Records below the root's level never reach a handler: let INFO (or DEBUG) through.
        root.setLevel(min(root.getEffectiveLevel(), level, logging.INFO))
        if FURU_CONFIG.rich_uncaught_tracebacks and sys.excepthook is sys.__excepthook__:
            _install_rich_tracebacks()
        _configured = True


def _install_rich_tracebacks() -> None:
    # rich is imported only when an exception is actually uncaught: importing it up front costs
    # a waiting process ~0.2 s of CPU, which it would spend after the result was published.
    sys.excepthook = _rich_excepthook


def _rich_excepthook(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> None:
    try:
        from rich.console import Console
        from rich.traceback import Traceback
    except ImportError:  # pragma: no cover - rich is a dependency
        sys.__excepthook__(exc_type, exc, tb)
        return
    trace = Traceback.from_exception(exc_type, exc, tb, show_locals=False)
    Console(stderr=True).print(trace)


@contextlib.contextmanager
def step_log(path: Path) -> Iterator[None]:
    """Route records emitted in this context to `path` (a step's `furu.log`)."""
    log = _StepLog(path)
    token = _current_log.set(log)
    try:
        yield
    finally:
        _current_log.reset(token)
        log.close()


def append_to_log(path: Path, text: str) -> None:
    """Add `text` to a step's log outside of any context (e.g. a traceback after the fact).

    A log that cannot be written (a full disk, something other than a regular file at its
    path) is reported on stderr and skipped: the log describes, it never decides.
    """
    data = (text if text.endswith("\n") else text + "\n").encode("utf-8", "backslashreplace")
    try:
        fd = open_append(path, what=_LOG_WHAT)
        try:
            write_all(fd, data)
        finally:
            os.close(fd)
    except (OSError, FuruStoreError) as exc:
        _warn_unwritable(path, exc)

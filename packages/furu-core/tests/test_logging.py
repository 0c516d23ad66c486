"""furu._logging: per-step log files, the console format, and idempotent setup."""

from __future__ import annotations

import logging
import re
import sys
import time
from pathlib import Path

import core_test_steps as steps
import pytest

import furu
from furu._logging import ConsoleFormatter, StepLogRouter, step_log


def _log_of(step: furu.Furu[object]) -> str:
    return (step.furu_dir / ".furu" / "furu.log").read_text()


def _routers() -> list[logging.Handler]:
    return [h for h in logging.getLogger().handlers if isinstance(h, StepLogRouter)]


def test_get_logger() -> None:
    assert furu.get_logger() is logging.getLogger("furu")


def test_records_during_create_land_in_the_step_log() -> None:
    step = steps.Logs(tag="alpha")
    steps.step_logger.info("before any step")
    step.load_or_create()
    steps.step_logger.info("after every step")
    text = _log_of(step)
    assert "INFO core_test_steps core_test_steps.py:" in text
    assert "creating alpha" in text
    assert "debug details of alpha" not in text  # FURU_LOG_LEVEL=INFO: DEBUG is dropped
    assert f"load_or_create Logs {step._furu_hash[:9]} (missing->create)" in text
    assert "before any step" not in text
    assert "after every step" not in text


def test_nested_steps_log_to_the_innermost_step() -> None:
    outer = steps.LogsAround()
    outer.load_or_create()
    outer_text = _log_of(outer)
    inner_text = _log_of(outer.inner)
    assert "outer before" in outer_text
    assert "outer after" in outer_text
    assert "creating inner" not in outer_text
    assert "creating inner" in inner_text
    assert "outer" not in inner_text


def test_records_outside_a_step_go_nowhere() -> None:
    furu.configure_logging()
    steps.step_logger.info("loose record")
    assert not list(furu.get_furu_root().rglob("furu.log"))


def test_a_failure_appends_its_traceback_to_the_step_log() -> None:
    step = steps.Failing(message="logged failure")
    with pytest.raises(furu.FuruComputeError):
        step.load_or_create()
    text = _log_of(step)
    assert f"load_or_create Failing {step._furu_hash[:9]} failed:" in text
    assert "Traceback (most recent call last)" in text
    assert "ValueError: logged failure" in text


def test_step_log_context(tmp_path: Path) -> None:
    path = tmp_path / "x.log"
    furu.configure_logging()
    log = logging.getLogger("core_test_steps.ctx")
    with step_log(path):
        log.warning("inside")
    log.warning("outside")
    text = path.read_text()
    assert "WARNING core_test_steps.ctx" in text
    assert "inside" in text
    assert "outside" not in text


def test_status_line_on_create(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="furu")
    step = steps.TrainModel(lr=3e-4, steps=5000)
    step.load_or_create()
    expected = f"load_or_create TrainModel {step._furu_hash[:9]} (missing->create)"
    assert expected in caplog.messages
    assert re.fullmatch(r"load_or_create TrainModel [0-9a-f]{9} \(missing->create\)", expected)


def test_status_line_after_a_failure(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="furu")
    step = steps.Failing()
    for _ in range(2):
        with pytest.raises(furu.FuruComputeError):
            step.load_or_create()
    short = f"Failing {step._furu_hash[:9]}"
    assert f"load_or_create {short} (missing->create)" in caplog.messages
    assert f"load_or_create {short} (failed->create)" in caplog.messages


def test_status_line_on_forced_recompute(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="furu")
    step = steps.Counted(value=3)
    step.load_or_create()
    furu.FURU_CONFIG.always_rerun = frozenset({"core_test_steps.Counted"})
    step.load_or_create()
    assert f"load_or_create Counted {step._furu_hash[:9]} (success->recompute)" in caplog.messages


def test_cache_hits_log_only_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    step = steps.Counted(value=4)
    step.load_or_create()
    hit = f"load_or_create Counted {step._furu_hash[:9]} (success->load)"
    caplog.clear()
    caplog.set_level(logging.INFO, logger="furu")
    assert step.load_or_create() == 8
    assert caplog.records == []
    caplog.set_level(logging.DEBUG, logger="furu")
    assert step.load_or_create() == 8
    assert caplog.messages == [hit]
    assert caplog.records[0].levelno == logging.DEBUG


def test_console_format() -> None:
    record = logging.LogRecord(
        "furu", logging.INFO, "/x/y/pipeline.py", 42, "hello %s", ("world",), None
    )
    record.created = 1_700_000_000.0
    text = ConsoleFormatter(color=False).format(record)
    assert re.fullmatch(r"\d{6} pipeline\.py:42 hello world", text)
    assert text.startswith(time.strftime("%H%M%S", time.localtime(record.created)))


def test_console_colors_warnings_only_on_a_terminal() -> None:
    warn = logging.LogRecord("furu", logging.WARNING, "a.py", 1, "careful", (), None)
    info = logging.LogRecord("furu", logging.INFO, "a.py", 1, "fine", (), None)
    assert ConsoleFormatter(color=True).format(warn).startswith("\x1b[33m")
    assert ConsoleFormatter(color=True).format(warn).endswith("\x1b[0m")
    assert "\x1b" not in ConsoleFormatter(color=True).format(info)
    assert "\x1b" not in ConsoleFormatter(color=False).format(warn)


def test_console_format_includes_exceptions() -> None:
    try:
        raise RuntimeError("bad")
    except RuntimeError:
        record = logging.LogRecord("furu", logging.ERROR, "a.py", 1, "oops", (), sys.exc_info())
    text = ConsoleFormatter(color=False).format(record)
    assert "oops\nTraceback" in text
    assert "RuntimeError: bad" in text


def test_configure_logging_installs_a_console_handler(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])  # an application with no logging setup
    furu.configure_logging()
    consoles = [h for h in root.handlers if isinstance(h.formatter, ConsoleFormatter)]
    assert len(consoles) == 1
    assert len(_routers()) == 1
    assert root.getEffectiveLevel() <= logging.INFO
    furu.get_logger().info("to the console")
    err = capsys.readouterr().err
    assert re.search(r"^\d{6} test_logging\.py:\d+ to the console$", err, re.MULTILINE)


def test_configure_logging_leaves_an_existing_setup_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = logging.getLogger()
    mine = logging.NullHandler()
    monkeypatch.setattr(root, "handlers", [mine])
    furu.configure_logging()
    assert root.handlers[0] is mine
    assert not any(isinstance(h.formatter, ConsoleFormatter) for h in root.handlers)
    assert len(_routers()) == 1


def test_configure_logging_is_idempotent(monkeypatch: pytest.MonkeyPatch) -> None:
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])
    furu.configure_logging()
    before = list(root.handlers)
    furu.configure_logging()
    steps.Counted(value=5).load_or_create()
    assert root.handlers == before
    # Even if furu forgets it configured (e.g. a reloaded module), it adds no second router.
    monkeypatch.setattr("furu._logging._configured", False)
    furu.configure_logging()
    assert root.handlers == before


def test_debug_level_lets_debug_through(monkeypatch: pytest.MonkeyPatch) -> None:
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])
    furu.FURU_CONFIG.log_level = "DEBUG"
    furu.configure_logging()
    consoles = [h for h in root.handlers if isinstance(h.formatter, ConsoleFormatter)]
    assert consoles[0].level == logging.DEBUG
    assert root.level == logging.DEBUG
    step = steps.Logs(tag="verbose")
    step.load_or_create()
    assert "DEBUG core_test_steps core_test_steps.py:" in _log_of(step)
    assert "debug details of verbose" in _log_of(step)


def test_warning_level_console_still_routes_info_to_step_logs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])
    furu.FURU_CONFIG.log_level = "WARNING"
    furu.configure_logging()
    consoles = [h for h in root.handlers if isinstance(h.formatter, ConsoleFormatter)]
    assert consoles[0].level == logging.WARNING
    step = steps.Logs(tag="quiet")
    step.load_or_create()
    assert "creating quiet" in _log_of(step)

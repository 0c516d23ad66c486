"""Store files that are not regular files: furu opens none of them, follows no symlink, and
reads a bounded amount. Real FIFOs (`os.mkfifo`) and symlinks; a read that would block runs
in a thread so a regression fails the test instead of hanging the run."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import core_test_steps as steps
import pytest

import furu
from furu import FuruStoreError
from furu._lock import read_lock
from furu._store import LOCK_FILE, read_json


def _bounded(call: Callable[[], Any], *, unblock: Path | None = None) -> Any:
    """Run `call` in a thread: it must finish within 10 s (it takes milliseconds)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(10)
    hung = thread.is_alive()
    if hung and unblock is not None:  # release the reader blocked in open() on the FIFO
        fd = os.open(unblock, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        thread.join(10)
    assert not hung, f"{call} blocked on a FIFO"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@pytest.fixture
def step_dir() -> furu.StepDir:
    step = steps.Dataset(name="special")
    step.load_or_create()
    return furu.step_dir(step)


def test_a_fifo_tags_file_reads_as_no_labels_without_blocking(step_dir: furu.StepDir) -> None:
    step_dir.labels_path.unlink(missing_ok=True)
    os.mkfifo(step_dir.labels_path)
    labels = _bounded(step_dir.read_labels, unblock=step_dir.labels_path)
    assert labels == furu.Labels()
    with pytest.raises(FuruStoreError, match=r"tags\.json is a FIFO \(named pipe\), not a regular"):
        _bounded(lambda: step_dir.read_labels(strict=True), unblock=step_dir.labels_path)


def test_a_symlinked_metadata_file_is_not_followed(step_dir: furu.StepDir, tmp_path: Path) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps({"secret": "outside the store"}))
    step_dir.metadata_path.unlink()
    step_dir.metadata_path.symlink_to(outside)
    with pytest.raises(FuruStoreError) as caught:
        step_dir.read_metadata()
    message = str(caught.value)
    assert "metadata.json is a symbolic link, not a regular file" in message
    assert "never follows a symbolic link" in message
    assert "Remove it" in message
    assert "outside the store" not in message


def test_a_fifo_state_file_is_a_store_error(step_dir: furu.StepDir) -> None:
    step_dir.state_path.unlink()
    os.mkfifo(step_dir.state_path)
    # The marker still decides: a step with a result reads as done whatever its state file is.
    assert _bounded(step_dir.read_state, unblock=step_dir.state_path).result_status == "success"
    with pytest.raises(FuruStoreError, match=r"state\.json is a FIFO"):
        _bounded(step_dir.read_raw_state, unblock=step_dir.state_path)


def test_a_fifo_or_symlink_lock_is_a_damaged_lock_and_is_broken(
    step_dir: furu.StepDir, tmp_path: Path
) -> None:
    lock = step_dir.meta_dir / LOCK_FILE
    os.mkfifo(lock)
    info = _bounded(lambda: read_lock(lock), unblock=lock)
    assert info is not None
    assert info.attempt_id.startswith("corrupt-")
    assert not info.is_alive()
    lock.unlink()
    target = tmp_path / "elsewhere.lock"
    target.write_text("{}")
    lock.symlink_to(target)
    info = read_lock(lock)
    assert info is not None
    assert info.attempt_id.startswith("corrupt-")
    # A waiter breaks it (removing the link, not what it points to) and computes.
    step = steps.Dataset(name="behind a planted lock")
    furu.step_dir(step).meta_dir.mkdir(parents=True)
    (furu.step_dir(step).meta_dir / LOCK_FILE).symlink_to(target)
    assert step.load_or_create() == "data behind a planted lock"
    assert target.read_text() == "{}"


def test_a_fifo_scheduler_file_is_not_opened(step_dir: furu.StepDir) -> None:
    os.mkfifo(step_dir.meta_dir / "claim.json")
    with pytest.raises(FuruStoreError, match=r"claim\.json is a FIFO"):
        _bounded(lambda: step_dir.read_file("claim.json"), unblock=step_dir.meta_dir / "claim.json")
    with pytest.raises(FuruStoreError, match=r"claim\.json is a FIFO"):
        step_dir.remove_file("claim.json", if_content=b"x")


def test_reads_are_bounded(tmp_path: Path) -> None:
    from furu._store import SMALL_FILE_MAX_BYTES, read_regular_file

    big = tmp_path / "tags.json"
    with open(big, "wb") as f:
        f.truncate(SMALL_FILE_MAX_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(FuruStoreError) as caught:
        read_json(big, what="tags and name")
    assert f"holds {SMALL_FILE_MAX_BYTES + 1} bytes, more than the {SMALL_FILE_MAX_BYTES}" in str(
        caught.value
    )
    assert read_regular_file(big, what="x", max_bytes=SMALL_FILE_MAX_BYTES + 1) is not None


def test_deeply_nested_json_is_a_store_error(tmp_path: Path) -> None:
    deep = tmp_path / "state.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(FuruStoreError, match="is not valid JSON"):
        read_json(deep, what="state")


def test_a_planted_log_is_neither_followed_nor_waited_on(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "victim.txt"
    target.write_text("untouched\n")
    linked = steps.Logs(tag="symlinked log")
    meta = furu.step_dir(linked).meta_dir
    meta.mkdir(parents=True)
    (meta / "furu.log").symlink_to(target)
    assert linked.load_or_create() == "symlinked log"
    furu.step_dir(linked).append_log("a note")
    assert target.read_text() == "untouched\n"

    piped = steps.Logs(tag="fifo log")
    meta = furu.step_dir(piped).meta_dir
    meta.mkdir(parents=True)
    os.mkfifo(meta / "furu.log")
    assert _bounded(piped.load_or_create) == "fifo log"
    err = capfd.readouterr().err
    assert "cannot write the step log" in err
    assert "is a symbolic link" in err
    assert "is not a regular file" in err or "FIFO" in err

"""A full disk: furu's own writes fail with an error that says so, and nothing is lost.

A real (tiny) tmpfs is mounted and filled (`disk_fixtures.tiny_disk`); this needs root, which CI
has. A disk with a page or two left makes `write(2)` write what fits and return short: an atomic
write must then fail and leave the file it replaces as it was, never a truncated one.
"""

from __future__ import annotations

import errno
import json
import logging

import pytest

import furu
from disk_fixtures import PAGE, TinyDisk
from furu_harness import furu_config, store_config


class Small(furu.Furu[str]):
    name: str = "x"

    def _create(self) -> str:
        (self.furu_dir / "out.txt").write_text(self.name)
        return self.name

    def _load(self) -> str:
        return (self.furu_dir / "out.txt").read_text()


class LargeConfig(furu.Furu[str]):
    """A config whose metadata.json needs several pages (its note is 12 KB)."""

    note: str = "n" * 12_000
    n: int = 0

    def _create(self) -> str:
        return "made"

    def _load(self) -> str:
        return "made"


class FillsTheDisk(furu.Furu[str]):
    """Logs, then writes until the disk is full (the write raises ENOSPC), logging as it goes."""

    n: int = 0

    def _create(self) -> str:
        log = logging.getLogger("fills_the_disk")
        log.info("about to fill the disk %s", "x" * 10_000)
        with open(self.furu_dir / "huge.bin", "wb") as f:
            try:
                while True:
                    f.write(b"\0" * PAGE)
                    f.flush()
            finally:
                log.info("the disk is full %s", "y" * 10_000)
        return "never"

    def _load(self) -> str:
        return "never"


def test_full_disk_raises_a_store_error_then_recovers(tiny_disk: TinyDisk) -> None:
    with furu_config(**store_config(tiny_disk.path / "store")):
        step = Small(name="full")
        step.furu_dir.joinpath(".furu").mkdir(parents=True)
        tiny_disk.fill()
        with pytest.raises(furu.FuruError) as caught:
            step.load_or_create()
        message = str(caught.value)
        assert "FURU_PATH" in message
        assert str(step.furu_dir) in message or "No space left" in message
        assert not (step.furu_dir / ".furu" / "SUCCESS.json").exists()
        assert not (step.furu_dir / ".furu" / "compute.lock").exists()
        assert not step.exists()

        tiny_disk.free()
        assert step.load_or_create() == "full"
        assert step.exists()
        assert step.get_state().result_status is furu.ResultStatus.SUCCESS


def test_an_atomic_replace_that_does_not_fit_keeps_the_old_file(tiny_disk: TinyDisk) -> None:
    with furu_config(**store_config(tiny_disk.path / "store")):
        step = Small(name="replace")
        step.load_or_create()
        where = furu.step_dir(step)
        where.replace_file("claim.json", b'{"old": true}\n')
        big = json.dumps({"new": "z" * 12_600}).encode()  # about three pages
        tiny_disk.fill(leave_pages=1)  # write(2) writes one page and returns short
        with pytest.raises(OSError) as caught:  # noqa: PT011 - asserted on errno below
            where.replace_file("claim.json", big)
        assert caught.value.errno == errno.ENOSPC
        assert where.read_file("claim.json") == b'{"old": true}\n'
        assert sorted(p.name for p in where.meta_dir.iterdir() if p.name.startswith(".")) == []
        tiny_disk.free()
        where.replace_file("claim.json", big)
        assert where.read_file("claim.json") == big


def test_no_json_file_is_ever_left_truncated(tiny_disk: TinyDisk) -> None:
    """Whatever page the disk runs out at, every `.furu/*.json` is whole (or absent)."""
    with furu_config(**store_config(tiny_disk.path / "store")):
        (tiny_disk.path / "store" / "data").mkdir(parents=True)
        for pages in range(8):
            step = LargeConfig(n=pages)
            tiny_disk.fill(leave_pages=pages)
            try:
                outcome = step.load_or_create()
            except furu.FuruError as exc:
                outcome = str(exc)
            finally:
                tiny_disk.free()
            meta = furu.step_dir(step).meta_dir
            for path in meta.glob("*.json"):
                text = path.read_text()
                assert text.endswith("\n"), f"{path.name} truncated with {pages} pages left"
                json.loads(text)
            assert not [p.name for p in meta.iterdir() if p.name.endswith(".tmp")]
            if outcome == "made":
                assert furu.step_dir(step).read_metadata() is not None
            else:
                assert "FURU_PATH" in outcome  # the store error that says what to do
            assert step.load_or_create() == "made"  # with room again, it completes


def test_a_disk_filling_inside_create_raises_the_compute_error(
    tiny_disk: TinyDisk, capfd: pytest.CaptureFixture[str]
) -> None:
    with furu_config(**store_config(tiny_disk.path / "store")):
        step = FillsTheDisk()
        with pytest.raises(furu.FuruComputeError) as caught:
            step.load_or_create()
        original = caught.value.original_error
        assert isinstance(original, OSError)
        assert original.errno == errno.ENOSPC
        assert "cannot write the step log" in capfd.readouterr().err
        attempt_files = furu.step_dir(step).attempt_dir()  # the failed attempt keeps its files
        assert attempt_files is not None
        (attempt_files / "huge.bin").unlink()
        assert not step.exists()
        state = step.get_state()
        assert state.attempt is not None
        assert state.attempt.status is not furu.AttemptStatus.RUNNING

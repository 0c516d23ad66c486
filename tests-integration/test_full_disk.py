"""A full disk: furu's own writes fail with an error that says so, and nothing is lost.

A real (tiny) tmpfs is mounted and filled; this needs root, which CI has.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import furu
from furu_harness import furu_config, store_config


class Small(furu.Furu[str]):
    name: str = "x"

    def _create(self) -> str:
        (self.furu_dir / "out.txt").write_text(self.name)
        return self.name

    def _load(self) -> str:
        return (self.furu_dir / "out.txt").read_text()


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def _fill(disk: Path) -> Path:
    filler = disk / "filler.bin"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


def test_full_disk_raises_a_store_error_then_recovers(tiny_disk: Path) -> None:
    with furu_config(**store_config(tiny_disk / "store")):
        step = Small(name="full")
        step.furu_dir.joinpath(".furu").mkdir(parents=True)
        filler = _fill(tiny_disk)
        with pytest.raises(furu.FuruError) as caught:
            step.load_or_create()
        message = str(caught.value)
        assert "FURU_PATH" in message
        assert str(step.furu_dir) in message or "No space left" in message
        assert not (step.furu_dir / ".furu" / "SUCCESS.json").exists()
        assert not (step.furu_dir / ".furu" / "compute.lock").exists()
        assert not step.exists()

        os.unlink(filler)
        assert step.load_or_create() == "full"
        assert step.exists()
        assert step.get_state().result_status is furu.ResultStatus.SUCCESS

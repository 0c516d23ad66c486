"""A real, tiny filesystem to fill: `tiny_disk` mounts a 512 KiB tmpfs under the test's tmp_path.

Mounting needs root (CI has it). Where it is impossible, the test fails when `CI` is set and is
skipped (saying why) only on a developer's machine.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PAGE = 4096


@dataclass
class TinyDisk:
    """A mounted tmpfs of `size` bytes; `fill()` uses it up, `free()` gives it back."""

    path: Path
    size: int
    _filler: Path | None = field(default=None, repr=False)

    def fill(self, leave_pages: int = 0) -> None:
        """Fill the disk, then free `leave_pages` pages (tmpfs allocates whole pages)."""
        self.free()
        self._filler = self.path / f"filler-{os.urandom(4).hex()}.bin"
        fd = os.open(self._filler, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            while True:
                os.write(fd, b"\0" * PAGE)
        except OSError:
            pass
        try:
            written = os.fstat(fd).st_size
            os.ftruncate(fd, max(0, written - written % PAGE - leave_pages * PAGE))
        finally:
            os.close(fd)

    def free(self) -> None:
        if self._filler is not None:
            self._filler.unlink(missing_ok=True)
            self._filler = None


def mount_tmpfs(mount: Path, size: int) -> None:
    """Mount a tmpfs of `size` bytes at `mount`; fail under CI, else skip, where impossible."""
    mount.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        why = (
            f"cannot mount a tmpfs to fill ({done.stderr.strip() or done.returncode}); the "
            "full-disk tests need root (or CAP_SYS_ADMIN)"
        )
        if os.environ.get("CI"):
            pytest.fail(f"{why}, and CI is set: a full-disk test must run in CI.")
        pytest.skip(why)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[TinyDisk]:
    """A 512 KiB tmpfs at `tmp_path/disk`, unmounted after the test."""
    mount = tmp_path / "disk"
    size = 512 * 1024
    mount_tmpfs(mount, size)
    try:
        yield TinyDisk(mount, size)
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)

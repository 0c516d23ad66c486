"""Steps for furu-slurm's unit tests."""

from __future__ import annotations

import threading
from typing import ClassVar

import furu
import furu_slurm


class Base(furu.Furu[int]):
    name: str

    def _create(self) -> int:
        (self.furu_dir / "v").write_text("1")
        return 1

    def _load(self) -> int:
        return int((self.furu_dir / "v").read_text())


class Child(furu.Furu[int]):
    base: Base
    i: int

    def _create(self) -> int:
        (self.furu_dir / "v").write_text(str(self.i + self.base.load_or_create()))
        return self._load()

    def _load(self) -> int:
        return int((self.furu_dir / "v").read_text())


class Big(furu.Furu[int]):
    """Declares its own resources, so it never shares an array with the others."""

    _slurm_resources: ClassVar[furu_slurm.Resources] = furu_slurm.Resources(cpus=4, mem="8G")
    i: int

    def _create(self) -> int:
        (self.furu_dir / "v").write_text(str(self.i))
        return self.i

    def _load(self) -> int:
        return int((self.furu_dir / "v").read_text())


class WhoHolds(furu.Furu[str]):
    """Records the job id its own compute lock names (what a waiter would be told)."""

    name: str

    def _create(self) -> str:
        holder = furu.step_dir(self).live_holder()
        (self.furu_dir / "v").write_text(str(holder.job_id if holder else None))
        return self._load()

    def _load(self) -> str:
        return (self.furu_dir / "v").read_text()


class Gate(furu.Furu[int]):
    """Computes until the test opens `release`, telling it through `entered` that it holds the lock."""

    entered: ClassVar[threading.Event] = threading.Event()
    release: ClassVar[threading.Event] = threading.Event()
    name: str

    def _create(self) -> int:
        Gate.entered.set()
        if not Gate.release.wait(30):
            raise TimeoutError("the test never released the gate")
        (self.furu_dir / "v").write_text("1")
        return 1

    def _load(self) -> int:
        return int((self.furu_dir / "v").read_text())

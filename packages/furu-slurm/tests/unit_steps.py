"""Steps for furu-slurm's unit tests."""

from __future__ import annotations

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

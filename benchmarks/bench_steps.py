"""Steps the benchmarks create: importable, so worker and waiter processes can find them."""

from __future__ import annotations

import time

import furu


class Cached(furu.Furu[str]):
    """A step whose `_load` does no I/O: a cache hit measures furu's own overhead."""

    name: str = "x"

    def _create(self) -> str:
        return self.name

    def _load(self) -> str:
        return self.name


class Ten(furu.Furu[int]):
    """A 10-field config of scalars."""

    a: int = 0
    b: float = 0.5
    c: str = "adam"
    d: bool = True
    e: int = 32
    f: float = 1e-3
    g: str = "cosine"
    h: int = 1000
    i: float = 0.9
    j: str = "bf16"

    def _create(self) -> int:
        return self.a

    def _load(self) -> int:
        return self.a


class Trivial(furu.Furu[int]):
    i: int = 0

    def _create(self) -> int:
        return self.i

    def _load(self) -> int:
        return self.i


class Dataset(furu.Furu[int]):
    seed: int = 0

    def _create(self) -> int:
        return self.seed

    def _load(self) -> int:
        return self.seed


class Train(furu.Furu[float]):
    data: Dataset = furu.chz.field(default_factory=Dataset)
    lr: float = 1e-3

    def _create(self) -> float:
        return self.lr

    def _load(self) -> float:
        return self.lr


class Evaluate(furu.Furu[float]):
    train: Train = furu.chz.field(default_factory=Train)
    split: str = "test"

    def _create(self) -> float:
        return self.train.lr

    def _load(self) -> float:
        return self.train.lr


class Sleep(furu.Furu[str]):
    tag: str = ""
    seconds: float = 1.0

    def _create(self) -> str:
        time.sleep(self.seconds)
        return self.tag

    def _load(self) -> str:
        return self.tag

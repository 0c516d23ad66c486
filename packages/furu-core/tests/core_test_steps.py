"""Step classes shared by furu-core's unit tests.

They live in an importable module (not in test files) because furu refuses `__main__` and
`<locals>` classes, and the namespace `core_test_steps.<Class>` must be importable again by
`from_dict` and by worker processes. The name is unique so it never clashes with the helper
modules of `tests-integration/`.
"""

from __future__ import annotations

import datetime
import enum
import json
import logging
import os
import pathlib
from collections import Counter
from collections.abc import Sequence
from typing import Any

import furu

CALLS: Counter[str] = Counter()
"""How often each class's `_create` ran in this process (reset before every test)."""

step_logger = logging.getLogger("core_test_steps")


def reset() -> None:
    CALLS.clear()


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Counted(furu.Furu[int]):
    """Writes `2 * value`; counts its creations."""

    value: int = 1

    def _create(self) -> int:
        CALLS["Counted"] += 1
        (self.furu_dir / "value.txt").write_text(str(2 * self.value))
        return 2 * self.value

    def _load(self) -> int:
        return int((self.furu_dir / "value.txt").read_text())


class CreateVsLoad(furu.Furu[str]):
    """`_create` and `_load` return different things, to tell which one ran."""

    key: str = "k"

    def _create(self) -> str:
        CALLS["CreateVsLoad"] += 1
        (self.furu_dir / "out.txt").write_text("loaded")
        return "created"

    def _load(self) -> str:
        CALLS["CreateVsLoad._load"] += 1
        return (self.furu_dir / "out.txt").read_text()


class Impatient(furu.Furu[int]):
    """Gives up waiting for another holder almost at once."""

    _max_wait_time_sec = 0.05
    n: int = 0

    def _create(self) -> int:
        CALLS["Impatient"] += 1
        return self.n

    def _load(self) -> int:
        return self.n


class TrainModel(furu.Furu[pathlib.Path]):
    """The README's example."""

    lr: float = furu.chz.field(default=1e-3)
    steps: int = furu.chz.field(default=1000)

    def _create(self) -> pathlib.Path:
        CALLS["TrainModel"] += 1
        ckpt = self.furu_dir / "checkpoint.bin"
        ckpt.write_bytes(b"...")
        return ckpt

    def _load(self) -> pathlib.Path:
        return self.furu_dir / "checkpoint.bin"


class Dataset(furu.Furu[str]):
    name: str = "toy"

    def _create(self) -> str:
        CALLS["Dataset"] += 1
        (self.furu_dir / "data.txt").write_text(f"data {self.name}")
        return f"data {self.name}"

    def _load(self) -> str:
        return (self.furu_dir / "data.txt").read_text()


class TrainTextModel(furu.Furu[str]):
    dataset: Dataset = furu.chz.field(default_factory=Dataset)

    def _create(self) -> str:
        CALLS["TrainTextModel"] += 1
        data = self.dataset.load_or_create()
        (self.furu_dir / "model.txt").write_text(f"trained on {data}")
        return f"trained on {data}"

    def _load(self) -> str:
        return (self.furu_dir / "model.txt").read_text()


class Evaluate(furu.Furu[str]):
    model: TrainTextModel = furu.chz.field(default_factory=TrainTextModel)

    def _create(self) -> str:
        CALLS["Evaluate"] += 1
        result = f"evaluated {self.model.load_or_create()}"
        (self.furu_dir / "eval.txt").write_text(result)
        return result

    def _load(self) -> str:
        return (self.furu_dir / "eval.txt").read_text()


class Failing(furu.Furu[None]):
    message: str = "boom"

    def _create(self) -> None:
        CALLS["Failing"] += 1
        raise ValueError(self.message)

    def _load(self) -> None:  # pragma: no cover - never created
        return None


class NeedsFailing(furu.Furu[str]):
    dep: Failing = furu.chz.field(default_factory=Failing)

    def _create(self) -> str:
        CALLS["NeedsFailing"] += 1
        self.dep.load_or_create()
        return "unreachable"

    def _load(self) -> str:  # pragma: no cover - never created
        return "unreachable"


class SelfCycle(furu.Furu[int]):
    """Its `_create` asks for itself: a cycle furu must refuse."""

    n: int = 0

    def _create(self) -> int:
        return SelfCycle(n=self.n).load_or_create()

    def _load(self) -> int:  # pragma: no cover - never created
        return self.n


class Validated(furu.Furu[str]):
    """Cached only while its output file exists."""

    name: str = "v"

    def _validate(self) -> bool:
        return (self.furu_dir / "out.txt").exists()

    def _create(self) -> str:
        CALLS["Validated"] += 1
        (self.furu_dir / "out.txt").write_text(self.name)
        return self.name

    def _load(self) -> str:
        return (self.furu_dir / "out.txt").read_text()


class Versioned(furu.Furu[dict[str, int]], version_controlled=True):
    x: int = 1

    def _create(self) -> dict[str, int]:
        return {"x": self.x}

    def _load(self) -> dict[str, int]:
        return {"x": self.x}


class UsesRaw(furu.Furu[pathlib.Path]):
    def _create(self) -> pathlib.Path:
        mine = self.raw_dir / self._furu_hash
        mine.mkdir(exist_ok=True)
        (mine / "big.bin").write_bytes(b"0" * 10)
        return mine / "big.bin"

    def _load(self) -> pathlib.Path:
        return self.raw_dir / self._furu_hash / "big.bin"


class Logs(furu.Furu[str]):
    """Logs through an ordinary stdlib logger while it is created."""

    tag: str = "t"

    def _create(self) -> str:
        step_logger.info("creating %s", self.tag)
        step_logger.debug("debug details of %s", self.tag)
        return self.tag

    def _load(self) -> str:
        return self.tag


class LogsAround(furu.Furu[str]):
    """Creates a `Logs` dependency, then logs itself: records go to the innermost step."""

    inner: Logs = furu.chz.field(default_factory=lambda: Logs(tag="inner"))

    def _create(self) -> str:
        step_logger.info("outer before")
        self.inner.load_or_create()
        step_logger.info("outer after")
        return "outer"

    def _load(self) -> str:
        return "outer"


class WritesPid(furu.Furu[int]):
    """Records which process created it (for executor tests)."""

    n: int = 0

    def _create(self) -> int:
        (self.furu_dir / "pid.txt").write_text(str(os.getpid()))
        return self.n

    def _load(self) -> int:
        return self.n


class Combine(furu.Furu[int]):
    parts: tuple[WritesPid, ...] = ()

    def _create(self) -> int:
        total = sum(p.load_or_create() for p in self.parts)
        (self.furu_dir / "total.txt").write_text(str(total))
        return total

    def _load(self) -> int:
        return int((self.furu_dir / "total.txt").read_text())


class Parent(furu.Furu[str]):
    a: int = 1

    def _create(self) -> str:
        return "parent"

    def _load(self) -> str:
        return "parent"


class Child(Parent):
    b: int = 2


class Hooked(furu.Furu[str]):
    """Declares dependencies through the `_dependencies()` hook instead of fields."""

    names: tuple[str, ...] = ("a", "b")

    def _dependencies(self) -> Sequence[furu.Furu[Any]]:
        return [Dataset(name=n) for n in self.names]

    def _create(self) -> str:
        return ",".join(Dataset(name=n).load_or_create() for n in self.names)

    def _load(self) -> str:
        return ",".join(Dataset(name=n).load_or_create() for n in self.names)


class BadHook(furu.Furu[str]):
    def _dependencies(self) -> Sequence[Any]:
        return [Dataset]

    def _create(self) -> str:  # pragma: no cover - planning fails first
        return ""


class CycleA(furu.Furu[str]):
    n: int = 0

    def _dependencies(self) -> Sequence[furu.Furu[Any]]:
        return [CycleB(n=self.n)]


class CycleB(furu.Furu[str]):
    n: int = 0

    def _dependencies(self) -> Sequence[furu.Furu[Any]]:
        return [CycleA(n=self.n)]


class Everything(furu.Furu[None]):
    """A config holding one of each kind of value `to_dict` must round-trip."""

    dataset: Dataset = furu.chz.field(default_factory=lambda: Dataset(name="nested"))
    shape: tuple[int, ...] = (1, 2, 3)
    tags: frozenset[str] = frozenset({"b", "a"})
    chosen: set[int] = furu.chz.field(default_factory=lambda: {3, 1, 2})
    where: pathlib.Path = pathlib.Path("/data/x.csv")
    color: Color = Color.BLUE
    when: datetime.datetime = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    day: datetime.date = datetime.date(2024, 5, 6)
    span: datetime.timedelta = datetime.timedelta(hours=1, seconds=3)
    table: dict[int, str] = furu.chz.field(default_factory=lambda: {1: "one", 20: "twenty"})
    named: dict[str, list[float]] = furu.chz.field(default_factory=lambda: {"w": [0.5, 1.5]})
    big: float = float("inf")
    blob: bytes = b"\x00\x01"
    kind: type = int
    nothing: None = None


STAGED_PLAN: dict[str, Any] = {}
"""What `Staged._create` does next: `write` (name -> text), `fail` (raise after writing)."""
STAGED_SEEN: list[dict[str, Any]] = []
"""What each `Staged._create` saw: its `furu_dir` and the files already there."""


class Staged(furu.Furu[dict]):
    """Writes the files `STAGED_PLAN["write"]` names; records what it found in `furu_dir`."""

    key: str = "k"

    def _create(self) -> dict:
        found = {p.name: p.read_text() for p in self.furu_dir.iterdir()}
        STAGED_SEEN.append({"furu_dir": self.furu_dir, "found": found})
        for name, text in STAGED_PLAN.get("write", {}).items():
            (self.furu_dir / name).write_text(text)
        if STAGED_PLAN.get("fail"):
            raise RuntimeError("told to fail")
        return {"created_in": str(self.furu_dir)}

    def _load(self) -> dict:
        return {p.name: p.read_text() for p in self.furu_dir.iterdir() if p.name != ".furu"}


class BigNumber(furu.Furu[int]):
    """Holds integers beyond Python's int-to-decimal digit limit (4,300 digits by default)."""

    n: int = 0
    more: tuple[int, ...] = ()

    def _create(self) -> int:
        (self.furu_dir / "n.hex").write_text(hex(self.n))
        return self.n

    def _load(self) -> int:
        return int((self.furu_dir / "n.hex").read_text(), 16)


class LoudStr(str):
    """A str whose repr raises: fine for the hash, fatal to anything that writes Python."""

    __slots__ = ()

    def __repr__(self) -> str:
        raise RuntimeError("LoudStr has no repr")


class HoldsLoudStr(furu.Furu[str]):
    text: str = "plain"

    def _create(self) -> str:
        return str(self.text)

    def _load(self) -> str:
        return str(self.text)


class Scored(furu.Furu[float]):
    """Declares its results with `_results()` (read back from its staging directory)."""

    score: float = 0.5
    bad: bool = False

    def _create(self) -> float:
        (self.furu_dir / "score.txt").write_text(str(self.score))
        return self.score

    def _load(self) -> float:
        return float((self.furu_dir / "score.txt").read_text())

    def _results(self) -> Any:
        if self.bad:
            return {"": 1}
        score = float((self.furu_dir / "score.txt").read_text())
        return {"score": score, "val": {"loss": 1 - score, "name": "holdout"}}


class WritesEval(furu.Furu[str]):
    """Writes results the conventional way: eval.json and a metrics.jsonl training log."""

    accuracy: float = 0.9

    def _create(self) -> str:
        (self.furu_dir / "eval.json").write_text(
            json.dumps({"accuracy": self.accuracy, "split": "test", "per_class": [1, 2]})
        )
        rows = [{"step": i, "loss": 1.0 / (i + 1)} for i in range(3)]
        (self.furu_dir / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        return "ok"

    def _load(self) -> str:
        return "ok"

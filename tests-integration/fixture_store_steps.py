"""The step classes of the committed fixture store `fixtures/store-0.1.0/` (and nothing else).

The store was written by these classes; its directories are named after this module, these
class names and the hashes of the configs below, so NOTHING here may change: not a class or
module name, not a field, not a default, not a config in `FIXTURE`. Change it and the fixture no
longer matches (which is exactly what the fixture store test would then report). New fixtures
get new modules.

Pipeline: `Dataset` -> `Train` (nested `dataset`, a plain chz `Optimizer`, many tagged field
types) -> `Evaluate`; `Ensemble` holds a tuple of models; `Report` depends on an `Evaluate`
through `_dependencies()` only; `Vocabulary` is `version_controlled=True`.

Environment switches (never part of a config, so never part of a hash):

- `FIXTURE_STORE_FORBID_CREATE=1`: `_create` raises instead of computing, so a test proves a
  `load_or_create()` was a cache hit;
- `FIXTURE_STORE_FAIL=1`: `Train._create` raises `ValueError` (the recorded failed step);
- `FIXTURE_STORE_HANG_FILE=<path>`: `Train._create` writes that file and then sleeps until it is
  killed (the recorded crashed step).
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import logging
import math
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import furu

_log = logging.getLogger("fixture_store_steps")
FORBID_CREATE = "FIXTURE_STORE_FORBID_CREATE"
FAIL = "FIXTURE_STORE_FAIL"
HANG_FILE = "FIXTURE_STORE_HANG_FILE"


def _refuse_if_forbidden(step: furu.Furu[Any]) -> None:
    if os.environ.get(FORBID_CREATE) == "1":
        raise RuntimeError(
            f"{type(step).__qualname__}._create ran although {FORBID_CREATE}=1: "
            "the fixture store should have made this a cache hit"
        )


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, sort_keys=True) + "\n", encoding="utf-8")


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


class Split(enum.Enum):
    TRAIN = "train"
    TEST = "test"


@furu.chz.chz
class Optimizer:
    """A plain chz object (not a step) held by a field."""

    name: str = "sgd"
    betas: tuple[float, ...] = (0.9, 0.999)
    momentum: float | None = None


class Dataset(furu.Furu[dict[str, Any]]):
    name: str = "toy"
    size: int = 6
    split: Split = Split.TRAIN
    source: Path = Path("datasets/toy.csv")
    collected_at: dt.datetime = dt.datetime(2024, 5, 17, 12, 30, tzinfo=dt.UTC)

    def _create(self) -> dict[str, Any]:
        _refuse_if_forbidden(self)
        offset = 0 if self.split is Split.TRAIN else 3
        rows = [(i * 7 + offset) % 10 for i in range(self.size)]
        _log.info("dataset %s/%s: %d rows", self.name, self.split.value, len(rows))
        _write_json(self.furu_dir / "rows.json", {"name": self.name, "rows": rows})
        return self._load()

    def _load(self) -> dict[str, Any]:
        data: dict[str, Any] = _read_json(self.furu_dir / "rows.json")
        return data


class Train(furu.Furu[dict[str, Any]]):
    dataset: Dataset
    lr: float = 0.1
    layers: tuple[int, ...] = (4, 2)
    schedule: list[float] = furu.chz.field(default_factory=lambda: [1.0, 0.5])
    class_weights: dict[int, float] = furu.chz.field(default_factory=lambda: {0: 1.0, 1: 2.5})
    labels: frozenset[str] = frozenset({"cat", "dog"})
    skip_ids: set[int] = furu.chz.field(default_factory=lambda: {3, 1})
    optimizer: Optimizer = furu.chz.field(default_factory=Optimizer)
    max_grad_norm: float = math.inf
    target_loss: float = math.nan
    warmup: dt.timedelta = dt.timedelta(minutes=5)
    checkpoint_dir: Path | None = None

    def _create(self) -> dict[str, Any]:
        _refuse_if_forbidden(self)
        data = self.dataset.load_or_create()
        hang = os.environ.get(HANG_FILE)
        if hang:
            Path(hang).write_text(str(os.getpid()), encoding="utf-8")
            while True:  # killed -9 by the generator
                time.sleep(0.1)
        if os.environ.get(FAIL) == "1":
            raise ValueError(f"diverged: lr={self.lr} makes the loss explode")
        weight = round(sum(data["rows"]) * self.lr, 6)
        for epoch in range(2):
            _log.info("epoch %d loss %.3f", epoch, 1.0 / (epoch + 1))
        model = {"lr": self.lr, "layers": list(self.layers), "weight": weight}
        _write_json(self.furu_dir / "model.json", model)
        (self.furu_dir / "loss.csv").write_text("epoch,loss\n0,1.0\n1,0.5\n", encoding="utf-8")
        return self._load()

    def _load(self) -> dict[str, Any]:
        model: dict[str, Any] = _read_json(self.furu_dir / "model.json")
        return model


class Evaluate(furu.Furu[dict[str, Any]]):
    model: Train
    dataset: Dataset
    metrics: tuple[str, ...] = ("accuracy", "loss")
    threshold: float = 0.5

    def _create(self) -> dict[str, Any]:
        _refuse_if_forbidden(self)
        weight = self.model.load_or_create()["weight"]
        rows = self.dataset.load_or_create()["rows"]
        hits = sum(1 for r in rows if r * weight / 10 >= self.threshold)
        scores = {"accuracy": round(hits / len(rows), 6), "loss": round(1 / (1 + weight), 6)}
        _write_json(self.furu_dir / "metrics.json", scores)
        return self._load()

    def _load(self) -> dict[str, Any]:
        scores: dict[str, Any] = _read_json(self.furu_dir / "metrics.json")
        return scores


class Ensemble(furu.Furu[float]):
    """Dependencies in a tuple (`models[0]`, `models[1]`)."""

    models: tuple[Train, ...]

    def _create(self) -> float:
        _refuse_if_forbidden(self)
        weights = [m.load_or_create()["weight"] for m in self.models]
        _write_json(self.furu_dir / "ensemble.json", {"weight": round(sum(weights), 6)})
        return self._load()

    def _load(self) -> float:
        return float(_read_json(self.furu_dir / "ensemble.json")["weight"])


class Vocabulary(furu.Furu[list[str]], version_controlled=True):
    """Stored under the version-controlled root; depends on a step in the data root."""

    dataset: Dataset
    min_count: int = 1

    def _create(self) -> list[str]:
        _refuse_if_forbidden(self)
        rows = self.dataset.load_or_create()["rows"]
        words = sorted({f"w{r}" for r in rows})
        (self.furu_dir / "vocab.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
        return self._load()

    def _load(self) -> list[str]:
        return (self.furu_dir / "vocab.txt").read_text(encoding="utf-8").split()


class Report(furu.Furu[str]):
    """Uses `EVALUATION` without holding it as a field (`_dependencies()`)."""

    title: str = "weekly"

    def _dependencies(self) -> Sequence[furu.Furu[Any]]:
        return [EVALUATION]

    def _create(self) -> str:
        _refuse_if_forbidden(self)
        scores = EVALUATION.load_or_create()
        text = f"# {self.title}\naccuracy {scores['accuracy']}\n"
        (self.furu_dir / "report.md").write_text(text, encoding="utf-8")
        return self._load()

    def _load(self) -> str:
        return (self.furu_dir / "report.md").read_text(encoding="utf-8")


# ---------------------------------------------------------------- the configs in the store

TRAIN_DATA = Dataset()
TEST_DATA = Dataset(split=Split.TEST, size=4)
BASELINE = Train(
    dataset=TRAIN_DATA, checkpoint_dir=Path("/checkpoints/baseline"), optimizer=Optimizer()
)
SLOW = Train(
    dataset=TRAIN_DATA,
    lr=0.01,
    layers=(8,),
    schedule=[],
    class_weights={},
    labels=frozenset(),
    skip_ids=set(),
    optimizer=Optimizer(name="adam", momentum=0.5),
    max_grad_norm=-math.inf,
    target_loss=0.25,
)
EVALUATION = Evaluate(model=BASELINE, dataset=TEST_DATA)
ENSEMBLE = Ensemble(models=(BASELINE, SLOW))
VOCABULARY = Vocabulary(dataset=TRAIN_DATA)
REPORT = Report()

FAILED = Train(dataset=TRAIN_DATA, lr=-1.0)
"""Recorded as failed (created with `FIXTURE_STORE_FAIL=1`)."""
CRASHED = Train(dataset=TRAIN_DATA, lr=0.5)
"""Recorded as running by a process killed with SIGKILL inside `_create`: reads as crashed."""


class FixtureExperiments(furu.FuruList[furu.Furu[Any]]):
    """Every successful step of the fixture store, dependencies first."""

    train_data = TRAIN_DATA
    test_data = TEST_DATA
    baseline = BASELINE
    slow = SLOW
    evaluation = EVALUATION
    ensemble = ENSEMBLE
    vocabulary = VOCABULARY
    report = REPORT

"""A small store for the DAG page and the action dialogs (test_dashboard_dag_actions).

`Dataset` -> `TrainModel` -> `Evaluate`, where the models with `lr >= 5` fail (so the DAG
shows failed counts and the class panel recent failures); and `LONELY` classes that nothing
uses and that use nothing (so the DAG lays the connected classes out first, these after).
"""

from __future__ import annotations

import contextlib
import json

import furu

RATES = (0.01, 0.1, 0.3)
DIVERGING = (5.0, 10.0)


class Dataset(furu.Furu[str]):
    seed: int = 0

    def _create(self) -> str:
        (self.furu_dir / "rows.json").write_text(json.dumps([self.seed] * 3))
        return "rows"

    def _load(self) -> str:
        return "rows"


class TrainModel(furu.Furu[str]):
    data: Dataset
    lr: float = 0.01
    optimizer: str = "adam"

    def _create(self) -> str:
        self.data.load_or_create()
        if self.lr >= 5:
            raise ValueError(f"diverged: loss is nan at lr={self.lr}")
        (self.furu_dir / "metrics.json").write_text(json.dumps({"loss": self.lr / 2}))
        return "trained"

    def _load(self) -> str:
        return "trained"


class Evaluate(furu.Furu[str]):
    model: TrainModel

    def _create(self) -> str:
        self.model.load_or_create()
        (self.furu_dir / "eval.json").write_text(json.dumps({"accuracy": 1 - self.model.lr}))
        return "evaluated"

    def _load(self) -> str:
        return "evaluated"


class Summary(furu.Furu[str]):
    title: str = "summary"

    def _create(self) -> str:
        return self.title

    def _load(self) -> str:
        return self.title


class Report(furu.Furu[str]):
    title: str = "report"

    def _create(self) -> str:
        return self.title

    def _load(self) -> str:
        return self.title


class Cache(furu.Furu[str]):
    key: str = "k"

    def _create(self) -> str:
        return self.key

    def _load(self) -> str:
        return self.key


LONELY = ("Summary", "Report", "Cache")


def make_store() -> None:
    """Run it (in a subprocess with FURU_PATH set)."""
    data = Dataset(seed=1)
    for lr in RATES:
        Evaluate(
            model=TrainModel(data=data, lr=lr, optimizer="sgd" if lr > 0.2 else "adam")
        ).load_or_create()
    for lr in DIVERGING:
        with contextlib.suppress(furu.FuruComputeError):
            TrainModel(data=data, lr=lr).load_or_create()
    Summary().load_or_create()
    Report().load_or_create()
    Cache().load_or_create()

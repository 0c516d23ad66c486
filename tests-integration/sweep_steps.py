"""A small pipeline for the sweep and batch tests in Chromium (test_dashboard_sweeps).

`Fit` (lr, width, optimizer) trains on a `Dataset`; `Score` scores a fit. `Flaky` fails while
the flag file it names exists, before it loads its `Dataset`, so after one failed run the store
misses both: "run what is missing" creates the dataset first, then it.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import furu


class Dataset(furu.Furu[int]):
    size: int = 10

    def _create(self) -> int:
        (self.furu_dir / "rows.json").write_text(json.dumps(list(range(self.size))))
        return self.size

    def _load(self) -> int:
        return self.size


class Fit(furu.Furu[float]):
    data: Dataset
    lr: float = 0.1
    width: int = 8
    optimizer: str = "adam"

    def _create(self) -> float:
        size = self.data.load_or_create()
        loss = round(1 / (1 + self.lr * self.width * size), 5)
        (self.furu_dir / "metrics.json").write_text(json.dumps({"loss": loss}))
        return loss

    def _load(self) -> float:
        loss: float = json.loads((self.furu_dir / "metrics.json").read_text())["loss"]
        return loss


class Score(furu.Furu[float]):
    fit: Fit

    def _create(self) -> float:
        score = 1 - self.fit.load_or_create()
        (self.furu_dir / "eval.json").write_text(json.dumps({"score": score}))
        return score

    def _load(self) -> float:
        score: float = json.loads((self.furu_dir / "eval.json").read_text())["score"]
        return score


class Flaky(furu.Furu[int]):
    flag: str = ""
    data: Dataset = furu.chz.field(default_factory=lambda: Dataset(size=7))

    def _create(self) -> int:
        if self.flag and Path(self.flag).exists():
            raise RuntimeError(f"flaky: {self.flag} exists")
        return self.data.load_or_create()

    def _load(self) -> int:
        return self.data.load_or_create()


def make_store(flag: str) -> None:
    """Run it (in a subprocess with FURU_PATH set): one scored fit, and a failed `Flaky`."""
    Score(fit=Fit(data=Dataset(), lr=0.1, width=8)).load_or_create()
    Path(flag).write_text("fail")
    with contextlib.suppress(furu.FuruComputeError):
        Flaky(flag=flag).load_or_create()

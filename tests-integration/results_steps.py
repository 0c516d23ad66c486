"""A small pipeline with results, for the dashboard's results table (test_dashboard_results).

`TrainModel` (lr, l2, hidden) writes `metrics.json` (`result.train_loss`, `result.tokens`);
`Evaluate` scores a model and writes `eval.json` (`result.accuracy`, `result.loss`). The best
model by its Evaluate's accuracy is `BEST` (lr=0.01, l2=0), created neither first nor last, so
no built-in sort puts it on top by chance; `UNEVALUATED` has no Evaluate at all.
"""

from __future__ import annotations

import json
import math

import furu

MODELS = [(0.3, 0.0, 64), (0.01, 0.0, 1024), (6e-4, 0.01, 256), (0.3, 0.01, 128), (6e-4, 0.0, 64)]
BEST = (0.01, 0.0)
UNEVALUATED = (0.05, 0.001, 32)


def accuracy(lr: float, l2: float) -> float:
    """Best at lr=0.01 without l2; worse the further lr is (in decades) and with l2."""
    return round(0.9 - 0.1 * abs(math.log10(lr) + 2) - 2 * l2, 4)


class TrainModel(furu.Furu[str]):
    lr: float = 0.01
    l2: float = 0.0
    hidden: int = 64

    def _create(self) -> str:
        metrics = {"train_loss": round(0.1 + self.lr, 5), "tokens": 3e11 * (1 + self.hidden / 1024)}
        (self.furu_dir / "metrics.json").write_text(json.dumps(metrics))
        return "trained"

    def _load(self) -> str:
        return "trained"


class Evaluate(furu.Furu[str]):
    model: TrainModel
    split: str = "test"

    def _create(self) -> str:
        self.model.load_or_create()
        acc = accuracy(self.model.lr, self.model.l2)
        (self.furu_dir / "eval.json").write_text(json.dumps({"accuracy": acc, "loss": 1 - acc}))
        return "evaluated"

    def _load(self) -> str:
        return "evaluated"


def make_store() -> None:
    """Run it (in a subprocess with FURU_PATH set)."""
    for lr, l2, hidden in MODELS:
        Evaluate(model=TrainModel(lr=lr, l2=l2, hidden=hidden)).load_or_create()
    lr, l2, hidden = UNEVALUATED
    TrainModel(lr=lr, l2=l2, hidden=hidden).load_or_create()

"""The experiments: one `Evaluate` per learning rate, all on the same dataset.

A `furu.FuruList` names experiments as class attributes (one step each) or as a dict (a whole
grid at once); `LearningRateSweep.items()` yields `(name, step)` pairs in definition order.
"""

from __future__ import annotations

from typing import ClassVar

import furu
from ml_pipeline.steps import Evaluate, MakeDataset, TrainModel

DATASET = MakeDataset(seed=0, n_samples=600)


def evaluate(lr: float, l2: float = 0.0) -> Evaluate:
    """The evaluation of a model trained on `DATASET` with this learning rate and penalty."""
    return Evaluate(model=TrainModel(dataset=DATASET, lr=lr, l2=l2))


class LearningRateSweep(furu.FuruList[Evaluate]):
    """A baseline, the same with an L2 penalty, and a grid of learning rates around them."""

    baseline = evaluate(lr=0.3)
    regularised = evaluate(lr=0.3, l2=0.01)
    grid: ClassVar[dict[str, Evaluate]] = {
        f"lr={lr:g}": evaluate(lr=lr) for lr in (0.01, 0.03, 0.1, 1.0, 3.0)
    }

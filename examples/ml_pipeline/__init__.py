"""A small machine-learning pipeline built from furu steps (see `examples/pipeline.py`).

`MakeDataset` -> `TrainModel` -> `Evaluate`, swept over learning rates by `LearningRateSweep`.
Everything is plain Python, so the demo runs in seconds on any machine.
"""

from ml_pipeline.logistic import Model, Split
from ml_pipeline.steps import Evaluate, MakeDataset, TrainModel
from ml_pipeline.sweep import LearningRateSweep

__all__ = ["Evaluate", "LearningRateSweep", "MakeDataset", "Model", "Split", "TrainModel"]

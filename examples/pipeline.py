"""Run the learning-rate sweep with furu: the first run trains, every later run loads.

    python examples/pipeline.py

Every experiment is an `Evaluate` holding a `TrainModel` holding a `MakeDataset`. furu plans
that graph, creates the missing steps in worker processes in dependency order, and stores each
under the hash of its config, so a second run finds everything cached and computes nothing.
With FURU_DRY_RUN=1 it prints the plan instead.
"""

from __future__ import annotations

import furu
from ml_pipeline import Evaluate, LearningRateSweep

ROW = "{:<12} {:>5} {:>5} {:>6} {:>10} {:>8}  {}"


def main() -> None:
    """Plan the sweep, create what is missing, and print one row per experiment."""
    names = [name for name, _ in LearningRateSweep.items()]
    experiments = LearningRateSweep.all()
    todo = furu.plan(experiments)
    if furu.FURU_CONFIG.dry_run:  # FURU_DRY_RUN=1: show what would be created, create nothing
        print(todo.describe())
        return
    results = furu.load_or_create_many(experiments, max_workers=4)
    cached = len(todo.steps) - len(todo.to_create)
    print(f"created {len(todo.to_create)} steps, loaded {cached} from cache")
    print_table(names, experiments, results)
    print(f"store: {furu.get_furu_root()}")


def print_table(names: list[str], steps: list[Evaluate], scores: list[dict[str, float]]) -> None:
    """One row per experiment: its settings, its scores, and the hash naming its directory."""
    print(ROW.format("experiment", "lr", "l2", "epochs", "train loss", "accuracy", "hash"))
    for name, step, score in zip(names, steps, scores, strict=True):
        train = step.model
        print(
            ROW.format(
                name,
                f"{train.lr:g}",
                f"{train.l2:g}",
                train.epochs,
                f"{score['train_loss']:.4f}",
                f"{score['accuracy']:.3f}",
                furu.step_id(step).hash,
            )
        )


if __name__ == "__main__":
    main()

"""The pipeline's three steps: make a dataset, train a classifier on it, evaluate the classifier.

Each step is a furu config: its fields name its directory, `_create` writes files there and
`_load` reads them back. A step that needs another holds it as a field, so furu plans and
creates them in order and a change to the dataset's seed re-keys every model trained on it.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import random
from dataclasses import asdict
from pathlib import Path
from typing import Any

import furu
from ml_pipeline.logistic import Model, Split, accuracy, gradient_step, log_loss

log = logging.getLogger(__name__)
positive = furu.chz.validators.gt(0)


class MakeDataset(furu.Furu[dict[str, Split]]):
    """Synthetic binary classification data: Gaussian features, labels from a hidden linear rule.

    Rows are written twice, as `data.jsonl` (what `_load` reads back) and as `data.csv` (to open
    in a spreadsheet). The train/test split is a column, so the two never overlap.
    """

    seed: int = 0
    n_samples: int = furu.chz.field(default=500, validator=positive)
    n_features: int = furu.chz.field(default=4, validator=positive)
    noise: float = 0.5
    test_fraction: float = 0.25

    def _create(self) -> dict[str, Split]:
        rng = random.Random(self.seed)
        true_weights = [rng.gauss(0.0, 1.0) for _ in range(self.n_features)]
        rows = [self._row(rng, true_weights) for _ in range(self.n_samples)]
        _write_jsonl(self.furu_dir / "data.jsonl", rows)
        _write_csv(self.furu_dir / "data.csv", rows)
        return self._load()

    def _load(self) -> dict[str, Split]:
        rows = _read_jsonl(self.furu_dir / "data.jsonl")
        return {name: _split(rows, name) for name in ("train", "test")}

    def _row(self, rng: random.Random, true_weights: list[float]) -> dict[str, Any]:
        x = [round(rng.gauss(0.0, 1.0), 4) for _ in true_weights]
        margin = sum(w * xi for w, xi in zip(true_weights, x, strict=True))
        label = int(margin + rng.gauss(0.0, self.noise) > 0)
        split = "test" if rng.random() < self.test_fraction else "train"
        return {"x": x, "y": label, "split": split}


class TrainModel(furu.Furu[Model]):
    """Logistic regression fitted by full-batch gradient descent on the training split.

    The loss of every epoch goes to `metrics.jsonl` and the weights to `model.json`; progress is
    logged with a plain stdlib logger, which furu copies into this step's `.furu/furu.log`.
    """

    dataset: MakeDataset = furu.chz.field(default_factory=MakeDataset)
    lr: float = furu.chz.field(default=0.1, validator=positive)
    epochs: int = furu.chz.field(default=60, validator=positive)
    l2: float = furu.chz.field(default=0.0, validator=furu.chz.validators.ge(0))

    def _create(self) -> Model:
        train = self.dataset.load_or_create()["train"]
        model = self._fit(train)
        (self.furu_dir / "model.json").write_text(json.dumps(asdict(model), indent=2))
        log.info("lr=%g l2=%g: trained, final loss %.4f", self.lr, self.l2, model.final_loss)
        return model

    def _load(self) -> Model:
        return Model(**json.loads((self.furu_dir / "model.json").read_text()))

    def _fit(self, train: Split) -> Model:
        weights, bias, loss = [0.0] * len(train.features[0]), 0.0, math.nan
        with (self.furu_dir / "metrics.jsonl").open("w") as metrics:
            for epoch in range(1, self.epochs + 1):
                weights, bias = gradient_step(weights, bias, train, self.lr, self.l2)
                loss = log_loss(weights, bias, train, self.l2)
                metrics.write(json.dumps({"epoch": epoch, "loss": loss}) + "\n")
                if epoch % max(1, self.epochs // 2) == 0:
                    log.info("lr=%g epoch %d/%d: loss %.4f", self.lr, epoch, self.epochs, loss)
        return Model(weights, bias, loss)


class Evaluate(furu.Furu[dict[str, float]]):
    """Scores a trained model on the held-out split of the data it was trained on; `eval.json`."""

    model: TrainModel = furu.chz.field(default_factory=TrainModel)

    def _create(self) -> dict[str, float]:
        model = self.model.load_or_create()
        test = self.model.dataset.load_or_create()["test"]
        scores = {
            "accuracy": accuracy(model, test),
            "test_loss": log_loss(model.weights, model.bias, test),
            "train_loss": model.final_loss,
        }
        (self.furu_dir / "eval.json").write_text(json.dumps(scores, indent=2))
        return scores

    def _load(self) -> dict[str, float]:
        scores: dict[str, float] = json.loads((self.furu_dir / "eval.json").read_text())
        return scores


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _split(rows: list[dict[str, Any]], name: str) -> Split:
    chosen = [row for row in rows if row["split"] == name]
    return Split([row["x"] for row in chosen], [row["y"] for row in chosen])


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    n_features = len(rows[0]["x"])
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([*(f"x{i}" for i in range(n_features)), "y", "split"])
        writer.writerows([*row["x"], row["y"], row["split"]] for row in rows)

"""Logistic regression in plain Python: the maths the pipeline's steps share.

The demo must run anywhere furu does, so it uses only the standard library: a model is a list
of weights and a bias, and training is full-batch gradient descent on the log loss.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Split:
    """Rows of features with their 0/1 labels."""

    features: list[list[float]]
    labels: list[int]


@dataclass(frozen=True)
class Model:
    """A trained logistic regression, and the training loss it ended with."""

    weights: list[float]
    bias: float
    final_loss: float


def sigmoid(z: float) -> float:
    """The logistic function, written so that neither tail overflows."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def predict(weights: list[float], bias: float, x: list[float]) -> float:
    """The probability that `x` belongs to class 1."""
    return sigmoid(bias + sum(w * xi for w, xi in zip(weights, x, strict=True)))


def log_loss(weights: list[float], bias: float, data: Split, l2: float = 0.0) -> float:
    """Mean cross-entropy over `data`, plus the L2 penalty on the weights."""
    eps = 1e-12
    total = 0.0
    for x, y in zip(data.features, data.labels, strict=True):
        p = predict(weights, bias, x)
        total -= y * math.log(p + eps) + (1 - y) * math.log(1 - p + eps)
    return total / len(data.labels) + l2 * sum(w * w for w in weights)


def gradient_step(
    weights: list[float], bias: float, data: Split, lr: float, l2: float
) -> tuple[list[float], float]:
    """One step of full-batch gradient descent on the regularised log loss."""
    n = len(data.labels)
    grad_w = [2 * l2 * w for w in weights]
    grad_b = 0.0
    for x, y in zip(data.features, data.labels, strict=True):
        err = predict(weights, bias, x) - y
        grad_w = [g + err * xi / n for g, xi in zip(grad_w, x, strict=True)]
        grad_b += err / n
    return [w - lr * g for w, g in zip(weights, grad_w, strict=True)], bias - lr * grad_b


def accuracy(model: Model, data: Split) -> float:
    """The fraction of rows whose thresholded prediction matches the label."""
    hits = sum(
        (predict(model.weights, model.bias, x) >= 0.5) == bool(y)
        for x, y in zip(data.features, data.labels, strict=True)
    )
    return hits / len(data.labels)

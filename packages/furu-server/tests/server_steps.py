"""Real furu steps for the server and client tests: a small ML pipeline with real outputs.

`Corpus` <- `Tokenizer`, `Corpus` <- `TrainModel` (and its subclass `FineTune`) <- `Evaluate`,
`Ensemble` of several models (list-field dependencies), `Vocab` (version-controlled). Each
step writes real files (JSON lines, CSV, JSON, parquet, a PNG, text) and logs through stdlib
logging, so the store holds what a user's would. `fail_flag` makes `TrainModel` fail while the
file exists; `release_path` makes it wait (so a test can see it running).
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import furu

_log = logging.getLogger("server_steps")
PNG_1X1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


class Corpus(furu.Furu[Path]):
    """A dataset: rows as JSON lines, a CSV, a parquet table and a summary."""

    name: str = "toy"
    size: int = 5

    def _create(self) -> Path:
        rows = [
            {"id": i, "text": f"sentence {i}", "score": i / 2, "ok": i % 2 == 0}
            for i in range(self.size)
        ]
        out = self.furu_dir
        (out / "rows.jsonl").write_text(
            "".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8"
        )
        lines = [
            "id,text,score,ok",
            *(f"{r['id']},{r['text']},{r['score']},{r['ok']}" for r in rows),
        ]
        (out / "table.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        (out / "summary.json").write_text(json.dumps({"rows": self.size, "name": self.name}))
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq

            pq.write_table(pa.Table.from_pylist(rows), out / "table.parquet")
        except ImportError:  # pragma: no cover - pyarrow is in the dev group
            pass
        _log.info("wrote %d rows for %s", self.size, self.name)
        return out / "rows.jsonl"

    def _load(self) -> Path:
        return self.furu_dir / "rows.jsonl"


class Tokenizer(furu.Furu[str]):
    corpus: Corpus
    vocab_size: int = 100

    def _create(self) -> str:
        (self.furu_dir / "vocab.txt").write_text("a\nb\nc\n", encoding="utf-8")
        return "tokenizer"

    def _load(self) -> str:
        return "tokenizer"


class TrainModel(furu.Furu[dict[str, Any]]):
    """Trains (pretends to): logs progress, writes metrics, a plot and a checkpoint."""

    corpus: Corpus
    lr: float = 1e-3
    steps: int = 10
    optimizer: str = "adam"
    layers: tuple[int, ...] = (16, 16)
    fail_flag: str = ""
    release_path: str = ""
    started_path: str = ""

    def _create(self) -> dict[str, Any]:
        self.corpus.load_or_create()
        if self.started_path:
            Path(self.started_path).write_text(str(os.getpid()), encoding="utf-8")
        for step in range(3):
            _log.info("step %d loss %.3f", step, 1.0 / (step + 1))
        deadline = time.monotonic() + 60
        while self.release_path and not os.path.exists(self.release_path):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.release_path} never appeared")
            time.sleep(0.02)
        if self.fail_flag and os.path.exists(self.fail_flag):
            raise ValueError(f"diverged: lr={self.lr} is too high")
        metrics = {"loss": 0.1 * self.lr * 1000, "accuracy": 0.9}
        (self.furu_dir / "metrics.json").write_text(json.dumps(metrics))
        (self.furu_dir / "loss.csv").write_text("step,loss\n0,1.0\n1,0.5\n2,0.33\n")
        (self.furu_dir / "plot.png").write_bytes(PNG_1X1)
        (self.furu_dir / "checkpoint.bin").write_bytes(b"\x00\x01\x02weights")
        return metrics

    def _load(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.furu_dir / "metrics.json").read_text())
        return data


class FineTune(TrainModel):
    """A subclass: the DAG shows it under `TrainModel`."""

    base_lr_scale: float = 0.1


class Evaluate(furu.Furu[float]):
    model: TrainModel
    split: str = "test"

    def _create(self) -> float:
        score = float(self.model.load_or_create()["accuracy"])
        (self.furu_dir / "score.json").write_text(json.dumps({"split": self.split, "score": score}))
        (self.furu_dir / "notes.md").write_text(f"# {self.split}\nscore {score}\n")
        return score

    def _load(self) -> float:
        return float(json.loads((self.furu_dir / "score.json").read_text())["score"])


class Ensemble(furu.Furu[int]):
    """Depends on a list of models (dependencies named `models[0]`, `models[1]`, ...)."""

    models: tuple[TrainModel, ...]

    def _create(self) -> int:
        for model in self.models:
            model.load_or_create()
        (self.furu_dir / "ensemble.json").write_text(json.dumps({"n": len(self.models)}))
        return len(self.models)

    def _load(self) -> int:
        return len(self.models)


class Vocab(furu.Furu[str], version_controlled=True):
    """Stored under the version-controlled root."""

    language: str = "en"

    def _create(self) -> str:
        (self.furu_dir / "vocab.txt").write_text("hello\n", encoding="utf-8")
        return "vocab"

    def _load(self) -> str:
        return "vocab"


def build_pipeline(fail_flag: str) -> dict[str, furu.Furu[Any]]:
    """The experiments of the standard test store (the `failed` one fails via `fail_flag`)."""
    toy = Corpus(name="toy", size=5)
    big = Corpus(name="big", size=12)
    models = {
        "small": TrainModel(corpus=toy, lr=1e-4, steps=10),
        "medium": TrainModel(corpus=toy, lr=1e-3, steps=20, optimizer="sgd"),
        "large": TrainModel(corpus=big, lr=1e-2, steps=30, layers=(64, 64, 64)),
        "finetune": FineTune(corpus=big, lr=5e-4, base_lr_scale=0.5),
    }
    steps: dict[str, furu.Furu[Any]] = {"toy": toy, "big": big, **models}
    steps["tokenizer"] = Tokenizer(corpus=toy)
    steps["eval_small"] = Evaluate(model=models["small"])
    steps["eval_large"] = Evaluate(model=models["large"], split="val")
    steps["ensemble"] = Ensemble(models=(models["small"], models["medium"]))
    steps["vocab"] = Vocab()
    steps["failed"] = TrainModel(corpus=toy, lr=10.0, fail_flag=fail_flag)
    return steps


def make_store(fail_flag: str) -> dict[str, furu.Furu[Any]]:
    """Run the standard pipeline in this process (`FURU_CONFIG` must point at the store)."""
    Path(fail_flag).write_text("fail", encoding="utf-8")
    steps = build_pipeline(fail_flag)
    for name, step in steps.items():
        if name == "failed":
            with contextlib.suppress(furu.FuruComputeError):
                step.load_or_create()
        else:
            step.load_or_create()
    return steps

"""A store of 100,000 experiments for the dashboard's browser tests, planted in seconds.

`results_steps` makes a small real store (furu-core writes it); its `TrainModel` and
`Evaluate` directories are then the templates of `n` planted pairs: each copy gets its own hash,
its own `lr` (in `metadata.json`'s config), its own `accuracy` (in `eval.json`), and each
`Evaluate` depends on its `TrainModel`. Only the files the index reads are written, in the
formats furu wrote them. `best_lr` and `best_accuracy` say which pair tops each sort.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from dashboard_fixtures import run_python

TRAIN = "results_steps.TrainModel"
EVAL = "results_steps.Evaluate"


@dataclass
class LargeStore:
    root: Path
    n: int
    best_lr: str
    """`namespace/hash` of the TrainModel with the largest `config.lr`."""
    best_accuracy: str
    """`namespace/hash` of the Evaluate with the largest `result.accuracy`."""


def _lr(i: int, n: int) -> float:
    return ((i * 7919) % n + 1) * 1e-5


def _accuracy(i: int, n: int) -> float:
    return ((i * 104729) % n) / n


def _digest(kind: int, i: int) -> str:
    return hashlib.sha256(f"{kind}-{i}".encode()).hexdigest()[:20]


def plant(root: Path, pairs: int) -> LargeStore:
    run_python("import results_steps; results_steps.make_store()", root)
    data = root / "data" / "results_steps"
    train_dir = next(p for p in (data / "TrainModel").iterdir() if p.is_dir())
    eval_dir = next(p for p in (data / "Evaluate").iterdir() if p.is_dir())
    train = _template(train_dir)
    evaluate = _template(eval_dir)
    for i in range(pairs):
        t, e = _digest(0xA, i), _digest(0xB, i)
        t_dir, e_dir = data / "TrainModel" / t, data / "Evaluate" / e
        t_meta = dict(train["metadata"])
        t_meta["furu_hash"], t_meta["furu_path"] = t, str(t_dir)
        t_meta["furu_obj"] = {**train["metadata"]["furu_obj"], "lr": _lr(i, pairs)}
        _write(t_dir, train, t_meta, {})
        e_meta = dict(evaluate["metadata"])
        e_meta["furu_hash"], e_meta["furu_path"] = e, str(e_dir)
        e_meta["furu_obj"] = {**evaluate["metadata"]["furu_obj"], "model": t_meta["furu_obj"]}
        e_meta["dependencies"] = [
            {**evaluate["metadata"]["dependencies"][0], "hash": t, "furu_path": str(t_dir)}
        ]
        acc = _accuracy(i, pairs)
        _write(e_dir, evaluate, e_meta, {"eval.json": json.dumps({"accuracy": acc})})
    best_lr = max(range(pairs), key=lambda i: _lr(i, pairs))
    best_acc = max(range(pairs), key=lambda i: _accuracy(i, pairs))
    # above every template's value (lr up to 0.3, accuracy up to 0.9), so the planted ones top
    assert _lr(best_lr, pairs) > 0.3, _lr(best_lr, pairs)
    assert _accuracy(best_acc, pairs) > 0.9, _accuracy(best_acc, pairs)
    return LargeStore(
        root, 2 * pairs + 11, f"{TRAIN}/{_digest(0xA, best_lr)}", f"{EVAL}/{_digest(0xB, best_acc)}"
    )


def _template(step_dir: Path) -> dict[str, object]:
    meta = step_dir / ".furu"
    return {
        "metadata": json.loads((meta / "metadata.json").read_text()),
        "state": (meta / "state.json").read_bytes(),
        "success": json.loads((meta / "SUCCESS.json").read_text()),
    }


def _write(
    step_dir: Path, template: dict[str, object], metadata: dict[str, object], files: dict[str, str]
) -> None:
    meta = step_dir / ".furu"
    os.makedirs(meta)
    (meta / "metadata.json").write_text(json.dumps(metadata))
    (meta / "state.json").write_bytes(template["state"])  # type: ignore[arg-type]
    success = {**template["success"], "hash": metadata["furu_hash"]}  # type: ignore[dict-item]
    (meta / "SUCCESS.json").write_text(json.dumps(success))
    for name, text in files.items():
        (step_dir / name).write_text(text)

"""Generate a large furu store by running real furu steps (furu-core's own code writes it).

```
python benchmarks/make_large_store.py --root /tmp/big-store --n 100000 [--jobs 2] [--offset 0]
```

Twenty step classes in four families (and four abstract bases, so the DAG has subclass
relations): `Source0-4` <- `Prep0-4` <- `Train0-4` <- `Eval0-4`, each `_create` trivial (one
small JSON file; an `Eval` also writes `eval.json`, its `result.accuracy` and `result.loss`),
about 1% of the `Train` steps failing. `--offset` continues a store with new
configs (e.g. the next 1,000, to measure an index refresh). 100,000 experiments take a few
minutes on two cores; `--n 2000` takes seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import furu

SHARES = {"Source": 0.05, "Prep": 0.15, "Train": 0.5, "Eval": 0.3}
OPTIMIZERS = ("adam", "sgd", "adamw", "lion")


class _Trivial:
    def _create(self) -> str:
        fail = getattr(self, "fail", False)
        if fail:
            raise ValueError(f"{type(self).__name__} was configured to fail")
        payload = {k: v for k, v in self.to_dict().items() if not isinstance(v, dict)}  # type: ignore[attr-defined]
        (self.furu_dir / "result.json").write_text(json.dumps(payload))  # type: ignore[attr-defined]
        return "ok"

    def _load(self) -> str:
        return "ok"


class Source(_Trivial, furu.Furu[str]):
    seed: int
    rows: int = 1000
    name: str = "source"


class Prep(_Trivial, furu.Furu[str]):
    source: Source
    seed: int = 0
    scale: float = 1.0
    normalize: bool = True


class Train(_Trivial, furu.Furu[str]):
    prep: Prep
    lr: float = 1e-3
    steps: int = 1000
    optimizer: str = "adam"
    layers: tuple[int, ...] = (64, 64)
    fail: bool = False
    seed: int = 0


class Eval(_Trivial, furu.Furu[str]):
    model: Train
    split: str = "test"
    metric: str = "accuracy"
    seed: int = 0

    def _create(self) -> str:
        super()._create()
        (self.furu_dir / "eval.json").write_text(json.dumps(eval_results(self._furu_hash)))
        return "ok"


def eval_results(digest: str) -> dict[str, float]:
    """What an `Eval` step measured (`result.accuracy`, `result.loss`), from its hash."""
    accuracy = int(digest[:6], 16) % 1000 / 1000
    return {"accuracy": accuracy, "loss": round(1 - accuracy, 3)}


def _family(base: type[Any], index: int) -> type[Any]:
    name = f"{base.__name__}{index}"
    cls = type(name, (base,), {"__module__": __name__, "__qualname__": name})
    globals()[name] = cls
    return cls


FAMILIES = {
    base.__name__: [_family(base, i) for i in range(5)] for base in (Source, Prep, Train, Eval)
}


def build_configs(n: int, offset: int = 0) -> list[Any]:
    """`n` step configs (new ones for each `offset`), parents before children."""
    counts = {name: max(1, round(n * share)) for name, share in SHARES.items()}
    counts["Eval"] = max(1, n - counts["Source"] - counts["Prep"] - counts["Train"])
    steps: list[Any] = []
    sources = [
        FAMILIES["Source"][i % 5](seed=offset + i, rows=100 * (i % 7 + 1), name=f"src{i % 11}")
        for i in range(counts["Source"])
    ]
    preps = [
        FAMILIES["Prep"][i % 5](
            source=sources[i % len(sources)],
            scale=1.0 + (i % 10) / 10,
            normalize=i % 2 == 0,
            seed=offset + i,
        )
        for i in range(counts["Prep"])
    ]
    trains = [
        FAMILIES["Train"][i % 5](
            prep=preps[i % len(preps)],
            lr=10 ** -(1 + (offset + i) % 5) * (1 + i % 3),
            steps=100 * (1 + (offset + i) % 50),
            optimizer=OPTIMIZERS[i % len(OPTIMIZERS)],
            layers=(32 * (1 + i % 4), 64),
            fail=(offset + i) % 97 == 0,
            seed=offset + i,
        )
        for i in range(counts["Train"])
    ]
    evals = [
        FAMILIES["Eval"][i % 5](
            model=trains[i % len(trains)], split=("test", "val")[i % 2], seed=offset + i
        )
        for i in range(counts["Eval"])
    ]
    steps = [*sources, *preps, *trains, *evals]
    return steps


def _configure(root: str) -> None:
    furu.set_furu_root(Path(root))
    furu.FURU_CONFIG.ignore_git_diff = True
    furu.FURU_CONFIG.log_level = "WARNING"
    furu.FURU_CONFIG.version_controlled_root = Path(root) / "vc"


def _create_slice(root: str, n: int, offset: int, worker: int, jobs: int) -> int:
    import logging

    _configure(root)
    logging.getLogger("furu").setLevel(logging.WARNING)
    made = 0
    for i, step in enumerate(build_configs(n, offset)):
        if i % jobs != worker:
            continue
        with contextlib.suppress(furu.FuruComputeError):
            step.load_or_create()
        made += 1
    return made


def make_store(root: Path, n: int, *, offset: int = 0, jobs: int = 1) -> float:
    """Create the `n` experiments of `offset` in `root`; returns the seconds it took."""
    start = time.perf_counter()
    if jobs <= 1:
        _create_slice(str(root), n, offset, 0, 1)
    else:
        with ProcessPoolExecutor(jobs) as pool:
            futures = [
                pool.submit(_create_slice, str(root), n, offset, w, jobs) for w in range(jobs)
            ]
            for f in futures:
                f.result()
    return time.perf_counter() - start


def remove_slice(root: Path, n: int, offset: int) -> None:
    """Delete what `make_store(root, n, offset=offset)` created."""
    import shutil

    _configure(str(root))
    for step in build_configs(n, offset):
        shutil.rmtree(step.furu_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, help="the store to write")
    parser.add_argument("--n", type=int, default=100_000, help="experiments to create")
    parser.add_argument("--offset", type=int, default=0, help="make new configs (continue a store)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="processes")
    args = parser.parse_args(argv)
    seconds = make_store(Path(args.root), args.n, offset=args.offset, jobs=args.jobs)
    print(f"created {args.n} experiments in {args.root} in {seconds:.1f}s")
    return 0


if __name__ == "__main__":
    # Run as a script, the classes must still live in an importable module (not __main__).
    import make_large_store

    sys.exit(make_large_store.main())

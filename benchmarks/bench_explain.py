"""Speed of `furu.explain` and the catalog against 10,000 stored experiments of one class.

Run from the repository root: `python benchmarks/bench_explain.py [--n 10000]`. It stores
`--n` results of `Train` (a few hundred really computed, the rest planted beside them with the
same files a computation writes, without their catalog lines), then measures, each against a
plain floor in the same run:

- the first `Store.catalog()` read, which heals the missing lines from `metadata.json`;
- a `Store.catalog()` read, against bare `json.loads` of each line of the same bytes;
- `furu.explain()` of a step missing after the class gained a field (goal: 200 ms or less);
- `plan().describe()` of that step (what FURU_DRY_RUN prints).

It prints a table and asserts nothing: ratios to the floor survive noisy machines.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import furu

MODULE = "bench_explain"
sys.modules.setdefault(MODULE, sys.modules[__name__])  # the steps' namespace, run as a script
REAL = 300


def _version(**extra: tuple[type, Any]) -> type[Any]:
    """`bench_explain.Train`, as its code reads before (no extra) or after a change."""
    fields: dict[str, tuple[type, Any]] = {
        "lr": (float, 1e-3),
        "steps": (int, 1000),
        "optimizer": (str, "adam"),
        "layers": (tuple[int, ...], (64, 64)),
        "seed": (int, 0),
        **extra,
    }
    body: dict[str, Any] = {
        "__module__": MODULE,
        "__qualname__": "Train",
        "__annotations__": {k: t for k, (t, _) in fields.items()},
        "_create": lambda self: (self.furu_dir / "model.json").write_text("{}"),
        "_load": lambda self: "ok",
        **{k: d for k, (_, d) in fields.items()},
    }
    return types.new_class("Train", (furu.Furu[str],), exec_body=lambda ns: ns.update(body))


TrainV1 = _version()
TrainV2 = _version(average=(bool, False))


def _config(i: int) -> Any:
    return TrainV1(lr=(i % 997 + 1) * 1e-5, steps=1000 + i // 997, seed=i % 5)


def median_time(fn: Callable[[], object], repeats: int) -> float:
    fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def build_store(n: int) -> None:
    """`n` stored results: REAL computed, the rest planted with the files a computation leaves."""
    for i in range(min(n, REAL)):
        _config(i).load_or_create()
    template_dir = furu.step_dir(_config(0))
    metadata = template_dir.read_metadata()
    marker = json.loads(template_dir.success_path.read_bytes())
    assert metadata is not None
    for i in range(REAL, n):
        step = _config(i)
        target = furu.step_dir(step)
        target.meta_dir.mkdir(parents=True)
        ident = furu.step_id(step)
        record = {**metadata, "furu_hash": ident.hash, "furu_obj": step.to_dict()}
        record["furu_path"] = str(target.path)
        (target.path / "model.json").write_text("{}")
        target.metadata_path.write_text(json.dumps(record))
        target.success_path.write_text(json.dumps({**marker, "hash": ident.hash}))


def floor_json_lines(path: Path) -> Callable[[], object]:
    def floor() -> object:
        return [json.loads(line) for line in path.read_bytes().splitlines()]

    return floor


def row(name: str, value: float, floor: float | None, goal: str = "") -> str:
    shown = f"{floor * 1e3:10.1f} ms" if floor is not None else " " * 13
    ratio = f"{value / floor:7.1f}x" if floor else " " * 8
    return f"{name:<52} {value * 1e3:10.1f} ms {shown} {ratio}  {goal}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="stored experiments of the class")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        furu.set_furu_root(Path(tmp) / "store")
        started = time.perf_counter()
        build_store(args.n)
        print(f"stored {args.n} Train results in {time.perf_counter() - started:.1f}s")
        store = furu.Store.current()
        namespace = f"{MODULE}.Train"

        start = time.perf_counter()
        healed = store.catalog(namespace)
        first = time.perf_counter() - start
        assert len(healed) == args.n, len(healed)
        catalog = Path(tmp) / "store" / "catalog" / f"{namespace}.jsonl"
        floor = median_time(floor_json_lines(catalog), 7)
        read = median_time(lambda: store.catalog(namespace), 7)

        target = TrainV2(lr=_config(4321).lr, steps=_config(4321).steps, seed=_config(4321).seed)
        why = furu.explain(target)
        explain = median_time(lambda: furu.explain(target), 7)
        describe = median_time(lambda: furu.plan([target]).describe(), 7)

        print(f"{'':<52} {'median':>13} {'floor':>13} {'ratio':>8}")
        print(row(f"first Store.catalog(), healing {args.n - REAL} lines", first, None))
        print(row(f"Store.catalog() of {args.n} (floor: json.loads per line)", read, floor))
        print(row(f"furu.explain() against {args.n} stored", explain, floor, "goal <= 200 ms"))
        print(row("plan([step]).describe() (FURU_DRY_RUN's text)", describe, floor))
        print(f"\nexplain said: {why.reasons[0].message}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

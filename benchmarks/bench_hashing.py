"""Benchmark of furu config hashing against floors measured in the same run.

Run from the repository root: `.venv/bin/python benchmarks/bench_hashing.py`.  Prints a table
(median of several repeats after warm-up runs); asserts nothing.  Goals:

- a 10-field scalar config hashes in a few microseconds (compare: stat + read + parse a small
  JSON file);
- a config holding 1.3 M Python floats hashes faster than `json.dumps` + blake2s of the list;
- a 100 MB float64 numpy array hashes at >= 50 % of the fastest hashlib algorithm's throughput.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import pathlib
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import chz
import numpy as np

if importlib.util.find_spec("furu") is None:  # no editable install: use the source tree
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "packages/furu-core/src"))

import furu

ALGORITHMS = ("md5", "sha1", "sha256", "blake2b", "blake2s")


@chz.chz
class Scalars:
    name: str = "resnet"
    seed: int = 0
    lr: float = 3e-4
    weight_decay: float = 0.01
    epochs: int = 90
    batch_size: int = 256
    use_amp: bool = True
    dropout: float = 0.1
    optimizer: str = "adamw"
    notes: str | None = None


@chz.chz
class Holder:
    value: Any = None


def median_time(fn: Callable[[], object], repeats: int, warmup: int, inner: int = 1) -> float:
    """Median seconds per call of `fn` over `repeats` timings of `inner` calls each."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - start) / inner)
    return statistics.median(times)


def fmt(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:8.2f} {unit}"
    return f"{seconds / 1e-9:8.2f} ns"


def bench_scalars(tmp: pathlib.Path) -> tuple[float, float]:
    configs = iter([Scalars(seed=i) for i in range(200_000)])  # fresh objects: nothing cached
    ours = median_time(lambda: furu.step_id(next(configs)).hash, repeats=15, warmup=200, inner=5000)
    small = tmp / "small.json"
    small.write_text(json.dumps({"status": "success", "attempt": 3, "host": "node17"}))

    def floor() -> object:
        os.stat(small)
        return json.loads(small.read_bytes())

    return ours, median_time(floor, repeats=15, warmup=200, inner=2000)


def bench_float_list() -> tuple[float, float]:
    rng = random.Random(0)
    values = [rng.random() for _ in range(1_300_000)]
    ours = median_time(lambda: furu.step_id(Holder(value=values)).hash, repeats=5, warmup=1)

    def floor() -> object:
        return hashlib.blake2s(json.dumps(values).encode()).hexdigest()

    return ours, median_time(floor, repeats=5, warmup=1)


def bench_array() -> tuple[float, dict[str, float], int]:
    array = np.random.default_rng(0).random(100_000_000 // 8)
    data = memoryview(array).cast("B")
    ours = median_time(lambda: furu.step_id(Holder(value=array)).hash, repeats=3, warmup=1)
    floors = {
        name: median_time(lambda name=name: hashlib.new(name, data).digest(), repeats=3, warmup=1)
        for name in ALGORITHMS
    }
    return ours, floors, array.nbytes


def print_table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if n == 0:
            print("  ".join("-" * width for width in widths))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        scalars, floor_f = bench_scalars(pathlib.Path(tmp))
    float_list, floor_json = bench_float_list()
    array, floors, nbytes = bench_array()
    fastest = min(floors, key=floors.__getitem__)
    header = ("case", "furu", "floor", "floor time", "furu / floor")
    print_table(
        [
            header,
            ("10-field scalar config", fmt(scalars), "F = stat+read+json.loads", fmt(floor_f),
             f"{scalars / floor_f:.2f}x"),
            ("1.3 M float list", fmt(float_list), "json.dumps + blake2s", fmt(floor_json),
             f"{float_list / floor_json:.3f}x"),
            ("100 MB float64 ndarray", fmt(array), f"hashlib {fastest} (fastest)",
             fmt(floors[fastest]), f"{floors[fastest] / array:.0%} of its throughput"),
        ]
    )  # fmt: skip
    print()
    rows = [("100 MB throughput", "MB/s", "furu reaches")]
    rows.append(("furu step hash (sha256)", f"{nbytes / array / 1e6:8.0f}", ""))
    for name in ALGORITHMS:
        rows.append((f"hashlib {name}", f"{nbytes / floors[name] / 1e6:8.0f}",
                     f"{floors[name] / array:.0%}"))  # fmt: skip
    print_table(rows)


if __name__ == "__main__":
    main()

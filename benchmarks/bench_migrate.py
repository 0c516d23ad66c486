"""Speed of a migration: 10,000 stored experiments of a class that gained a field.

Run from the repository root: `.venv/bin/python benchmarks/bench_migrate.py [N]`. It plants N
stored results of `benchmod.Train` (v1: `lr`, `seed`) in a temporary store, then, with the
class changed (v2 adds `average: bool = False`), times `furu.migrate(Train, default=True)`
(a dry run, then the real one) against a plain floor measured in the same run: creating N
directories holding a few small files and a symlink each, as an alias is. It also compares a
cache hit on an alias with a hit on the original result. It prints a table and asserts
nothing. Goal (ADR 0005): a migration of 10,000 experiments in at most 30 s.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

V2 = """
import json
import furu


class Train(furu.Furu[dict]):
    lr: float
    seed: int = 0
    average: bool = False

    def _create(self) -> dict:
        raise RuntimeError("a migrated result is never recomputed")

    def _load(self) -> dict:
        return json.loads((self.furu_dir / "model.json").read_text())
"""


def plant(store: Path, n: int) -> list[str]:
    """N results of the v1 class as the core writes them (metadata, state, marker, output)."""
    import hashlib

    class_dir = store / "data" / "benchmod" / "Train"
    digests = []
    for i in range(n):
        config = {"__class__": "benchmod:Train", "lr": 0.001 * (i % 100 + 1), "seed": i}
        digest = hashlib.sha256(json.dumps(config).encode()).hexdigest()[:20]
        step = class_dir / digest
        (step / ".furu").mkdir(parents=True)
        (step / "model.json").write_text(json.dumps({"w": i}))
        metadata = {"furu_namespace": "benchmod.Train", "furu_hash": digest, "furu_obj": config}
        (step / ".furu" / "metadata.json").write_text(json.dumps(metadata))
        (step / ".furu" / "SUCCESS.json").write_text(json.dumps({"hash": digest}))
        digests.append(digest)
    return digests


def floor(root: Path, n: int) -> float:
    """N directories with three small files, a nested directory and a symlink each."""
    start = time.perf_counter()
    for i in range(n):
        step = root / f"{i:020d}"
        (step / ".furu").mkdir(parents=True)
        for name in ("metadata.json", "state.json", "SUCCESS.json"):
            (step / ".furu" / name).write_text('{"x": 1}')
        os.symlink("../x/model.json", step / "model.json")
    return time.perf_counter() - start


def median_time(fn: Callable[[], object], repeats: int = 2000) -> float:
    for _ in range(50):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "code").mkdir()
        (root / "code" / "benchmod.py").write_text(V2)
        sys.path.insert(0, str(root / "code"))
        os.environ["FURU_PATH"] = str(root / "store")
        os.environ["FURU_IGNORE_DIFF"] = "1"
        os.chdir(root / "code")
        from benchmod import Train  # type: ignore[import-not-found]

        import furu

        furu.set_furu_root(root / "store")
        plant(root / "store", n)
        floor_sec = floor(root / "floor", n)

        start = time.perf_counter()
        dry = furu.migrate(Train, default=True, dry_run=True)
        dry_sec = time.perf_counter() - start
        start = time.perf_counter()
        done = furu.migrate(Train, default=True)
        migrate_sec = time.perf_counter() - start
        assert done.counts()["migrated"] == n, done.counts()
        assert len(dry.migrations) == n

        alias = Train(lr=0.001, seed=0)
        alias.load_or_create()
        hit_alias = median_time(alias.load_or_create)
        original = furu.Store.current().step_dir("benchmod.Train", dry.migrations[0].old_hash)
        hit_floor = median_time(lambda: json.loads((original.path / "model.json").read_bytes()))

    rows = [
        ("F = N dirs, 3 small files + a symlink each", "", f"{floor_sec:.2f} s", "", ""),
        (f"furu.migrate dry run, {n:,} experiments", f"{dry_sec:.2f} s", "", "", ""),
        (
            f"furu.migrate, {n:,} experiments",
            f"{migrate_sec:.2f} s",
            f"{floor_sec:.2f} s",
            f"{migrate_sec / floor_sec:.1f}x",
            "<= 30 s",
        ),
        (
            "cache hit on an alias vs reading the file",
            f"{hit_alias * 1e6:.1f} us",
            f"{hit_floor * 1e6:.1f} us",
            f"{hit_alias / hit_floor:.2f}x",
            "",
        ),
    ]
    print(f"{'figure':<46} {'furu':>10} {'floor':>10} {'ratio':>7}  goal")
    print("-" * 86)
    for name, value, base, ratio, goal in rows:
        print(f"{name:<46} {value:>10} {base:>10} {ratio:>7}  {goal}")


if __name__ == "__main__":
    main()

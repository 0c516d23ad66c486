"""Speed of `furu du` and a `furu gc` dry run over a large store, against `du -sb` and a bare walk.

```
python benchmarks/bench_du_gc.py [--root STORE_DIR] [--n 100000]
```
`--root` is an existing store (e.g. one `make_large_store.py` made); it is only read: `furu gc`
runs with `--dry-run`. Without it, a store of `--n` experiments is made in a temporary directory
with `make_large_store.py` (100,000 take a few minutes on two cores) and removed afterwards.

The floors walk the same tree: `du -sb` (C: one `fstatat` per entry) and `os.walk` + `os.lstat`
of every entry in Python. `furu du` does what the Python floor does plus, per step, its own raw
directory, its status (a `state.json` read when there is no `SUCCESS.json`) and its age. Each
figure is the best of `--repeat` runs after a warm-up, so the page cache is hot for all.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import furu

HERE = Path(__file__).resolve().parent
FURU = str(Path(sys.executable).parent / "furu")


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """The fastest of `repeat` runs of `fn` (after one warm-up run) and its last value."""
    value = fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return min(times), value


def du_floor(root: Path) -> int:
    out = subprocess.run(["du", "-sb", str(root)], check=True, capture_output=True, text=True)
    return int(out.stdout.split()[0])


def walk_floor(root: Path) -> int:
    """`os.walk` + `os.lstat` of every entry: the least a Python walk that sizes files does."""
    total = os.lstat(root).st_size
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            total += os.lstat(os.path.join(directory, name)).st_size
    return total


def cli(*args: str, root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FURU, "--root", str(root), *args], check=True, capture_output=True, text=True
    )


def make_store(n: int) -> Path:
    root = Path(tempfile.mkdtemp(prefix="furu-bench-du-")) / "store"
    subprocess.run(
        [sys.executable, str(HERE / "make_large_store.py"), "--root", str(root), "--n", str(n)],
        check=True,
    )
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", help="an existing store (only read)")
    parser.add_argument("--n", type=int, default=100_000, help="experiments, without --root")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    root = Path(args.root) if args.root else make_store(args.n)
    store = furu.Store(root)
    r = args.repeat

    du_s, du_bytes = best(lambda: du_floor(root), r)
    walk_s, walk_bytes = best(lambda: walk_floor(root), r)
    usage_s, usage = best(lambda: furu.disk_usage(store), r)
    plan_s, plan = best(lambda: furu.plan_gc(store, older_than=0.0, usage=usage), r)
    failed_s, failed = best(lambda: furu.plan_gc(store, failed=True, usage=usage), r)
    cli_du_s, _ = best(lambda: cli("du", root=root), r)
    cli_json_s, done = best(lambda: cli("du", "--by", "age", "--json", root=root), r)
    gc_all_s, _ = best(lambda: cli("gc", "--older-than", "0d", "--dry-run", root=root), r)
    gc_failed_s, _ = best(lambda: cli("gc", "--failed", "--dry-run", "--json", root=root), r)

    steps = len(usage.steps)
    print(f"store: {root}: {steps} experiments, {du_bytes} bytes (`du -sb`), ", end="")
    print(f"{usage.steps_size.files + sum(a.files for a in usage.areas.values())} files")
    print(f"furu du total = du -sb: {usage.total.bytes == du_bytes}; walk floor {walk_bytes}")
    print(
        f"gc --older-than 0d: {len(plan.candidates)} candidates; --failed: {len(failed.candidates)}"
    )
    print(f"du --json by age: {[g['key'] for g in json.loads(done.stdout)['groups']]}")
    rows = [
        ("floor: du -sb", du_s),
        ("floor: os.walk + os.lstat (Python)", walk_s),
        ("furu.disk_usage(store)", usage_s),
        ("furu.plan_gc(older_than=0) after disk_usage", plan_s),
        ("furu.plan_gc(failed=True) after disk_usage", failed_s),
        ("`furu du` (a whole process)", cli_du_s),
        ("`furu du --by age --json` (a whole process)", cli_json_s),
        ("`furu gc --older-than 0d --dry-run` (process)", gc_all_s),
        ("`furu gc --failed --dry-run --json` (process)", gc_failed_s),
    ]
    print(f"{'figure':<48} {'seconds':>8} {'x du -sb':>9} {'x walk':>7} {'per 1k steps':>13}")
    print("-" * 89)
    for label, seconds in rows:
        print(
            f"{label:<48} {seconds:>8.2f} {seconds / du_s:>9.1f} {seconds / walk_s:>7.1f} "
            f"{1000 * seconds / max(steps, 1):>11.3f} s"
        )
    if not args.root:
        shutil.rmtree(root.parent)


if __name__ == "__main__":
    main()
